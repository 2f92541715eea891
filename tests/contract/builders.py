"""Valid domain objects with every field filled, unique where the schema wants it unique.

Times are in Europe/London (summer time, UTC+1) so the suite shows that zone-aware instants
survive a round trip through a database that stores UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.action import (
    Action,
    ActionStatus,
    ActionUpdate,
    InformationRequest,
    RequestStatus,
    UpdateKind,
)
from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.common import new_id
from bot.domain.delivery import ConversationKind, ConversationRef, DeliveryState, OutgoingDelivery
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus, Meeting, MeetingStatus
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import (
    Child,
    Consent,
    Criteria,
    DeclineReason,
    Referral,
    ReferralCategory,
    ReferralStatus,
    Subject,
    SubjectRole,
)
from bot.domain.risk import RiskLevel

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 6, 15, 10, 0, 30, 123456, tzinfo=LONDON)


def at(*, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    """An instant relative to T0."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes)


def unique(prefix: str) -> str:
    return f"{prefix}-{new_id()[:12]}"


def panel(**fields: Any) -> Panel:
    values: dict[str, Any] = {
        "name": "Northbrook Community MARAC",
        "team_id": unique("19:team"),
        "tenant_id": "tenant-1",
        "channel_id": unique("19:channel"),
        "timezone": "Europe/London",
        "case_prefix": "NB",
        "isa_version": "3",
        "isa_text": "We share information only to reduce risk.",
        "created_at": at(),
    }
    return Panel(**(values | fields))


def agency(owner: Panel, **fields: Any) -> Agency:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "name": "Northbrook Homes",
        "kind": AgencyKind.INVITED,
        "active": False,
    }
    return Agency(**(values | fields))


def member(owner: Panel, **fields: Any) -> Member:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "aad_object_id": unique("aad"),
        "name": "Priya Shah",
        "email": "priya.shah@example.org",
        "agency_id": new_id(),
        "roles": frozenset({Role.SPOC, Role.CHAIR}),
        "active": True,
        "away_until": date(2026, 7, 3),
    }
    return Member(**(values | fields))


def isa(owner: Panel, member_id: str, **fields: Any) -> IsaAcceptance:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "member_id": member_id,
        "version": "3",
        "accepted_at": at(),
    }
    return IsaAcceptance(**(values | fields))


def subject(**fields: Any) -> Subject:
    values: dict[str, Any] = {
        "role": SubjectRole.VICTIM,
        "name": "Zoë O'Brien-Smith",
        "aliases": ("Zoe Smith", "Zed"),
        "date_of_birth": date(1984, 2, 29),
        "address": "4 Mill Lane, Northbrook",
        "postcode": "nb1 2ab",
        "phone": "07700 900123",
        "safe_to_call": True,
        "vulnerabilities": "Hearing impairment",
        "language": "Polish",
        "interpreter_needed": True,
    }
    return Subject(**(values | fields))


def referral(owner: Panel, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "reference": unique("R-2026"),
        "referrer_member_id": new_id(),
        "referring_agency_id": new_id(),
        "category": ReferralCategory.COMPLEX_HIGH_RISK,
        "status": ReferralStatus.DECLINED,
        "subjects": [subject(), subject(role=SubjectRole.PERPETRATOR, name="Dan Black")],
        "children": [
            Child(name="Amy", date_of_birth=date(2016, 5, 1)),
            Child(name="Unborn"),
        ],
        "relationship": "Neighbours",
        "incidents_last_12_months": 7,
        "incidents_rising": True,
        "tried_already": "Mediation",
        "multi_professional_meeting_held": True,
        "discussed_with": "Housing officer",
        "agencies_involved": ("police", "housing"),
        "consent": Consent(aware=True, consented=False, without_consent_reason="Risk to life"),
        "risk_answers": {"q1": "yes", "q2": "sometimes", "q3": "ñ"},
        "risk_matrix_version": "2026.1",
        "risk_total": 31,
        "risk_threshold": 30,
        "criteria": Criteria(
            high_risk=True,
            potential_escalation=True,
            professional_judgement="Escalating",
            explanation="Escalating",
        ),
        "decline_reason": DeclineReason.MORE_APPROPRIATE_MEETING,
        "decline_note": "MARAC",
        "more_info_question": "Any weapons?",
        "case_id": new_id(),
        "created_at": at(),
        "submitted_at": at(hours=1),
        "decided_at": at(days=2),
        # As typed on the intake card: untrimmed, not yet valid, nested.
        "draft_inputs": {
            "victim_name": "  Zoë O'Brien ",
            "victim_dob": "31/02/1984",
            "incidents": "7",
            "agencies": ["police", "housing"],
            "safe_to_call": False,
            "answers": {"q1": "yes", "q9": None},
        },
        "draft_step": "risk",
    }
    return Referral(**(values | fields))


def case(owner: Panel, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "reference": unique("NB-2026"),
        "referral_id": new_id(),
        "status": CaseStatus.CLOSED,
        "risk_level": RiskLevel.HIGH,
        "risk_score": 28,
        "has_children": True,
        "lead_agency_id": new_id(),
        "lead_officer": "PC Jones",
        "keeps_victim_informed": "Victim support",
        "victim_last_updated_at": at(days=3),
        "invited_agency_ids": frozenset({new_id(), new_id()}),
        "closure_reason": ClosureReason.OTHER,
        "closure_note": "Moved away",
        "opened_at": at(),
        "first_heard_at": at(days=7),
        "closed_at": at(days=40),
    }
    return Case(**(values | fields))


def meeting(owner: Panel, **fields: Any) -> Meeting:
    starts_at: datetime = fields.pop("starts_at", at(days=10))
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),
        "referral_deadline": starts_at - timedelta(days=7),
        "status": MeetingStatus.AGENDA_PUBLISHED,
        "join_url": "https://teams.example/join/1",
        "teams_meeting_id": unique("meeting"),
    }
    return Meeting(**(values | fields))


def agenda_item(of: Meeting, **fields: Any) -> AgendaItem:
    values: dict[str, Any] = {
        "panel_id": of.panel_id,
        "meeting_id": of.id,
        "kind": AgendaItemKind.REVIEW_CASE,
        "position": 1,
        "title": "NB-2026-001 review",
        "case_id": new_id(),
        "minutes_estimate": 15,
        "status": AgendaItemStatus.DEFERRED,
        "note": "Police to attend",
    }
    return AgendaItem(**(values | fields))


def action(of: Case, **fields: Any) -> Action:
    values: dict[str, Any] = {
        "panel_id": of.panel_id,
        "case_id": of.id,
        "owner_agency_id": new_id(),
        "description": "Fit a door alarm",
        "due_on": date(2026, 7, 1),
        "status": ActionStatus.OPEN,
        "set_by_member_id": new_id(),
        "meeting_id": new_id(),
        "created_at": at(),
        "completed_at": at(days=1),
        "cancel_reason": "n/a",
        "escalated": True,
    }
    return Action(**(values | fields))


def action_update(of: Action, **fields: Any) -> ActionUpdate:
    values: dict[str, Any] = {
        "panel_id": of.panel_id,
        "action_id": of.id,
        "kind": UpdateKind.CARRIED_FORWARD,
        "note": "Waiting for the contractor",
        "author_member_id": new_id(),
        "at": at(hours=5),
        "circumstances_changed": True,
    }
    return ActionUpdate(**(values | fields))


def information_request(of: Case, **fields: Any) -> InformationRequest:
    values: dict[str, Any] = {
        "panel_id": of.panel_id,
        "case_id": of.id,
        "agency_id": new_id(),
        "meeting_id": new_id(),
        "question": "Any incidents since March?",
        "due_at": at(days=5),
        "status": RequestStatus.ANSWERED,
        "answer": "Two calls",
        "answered_by_member_id": new_id(),
        "answered_at": at(days=4),
    }
    return InformationRequest(**(values | fields))


def conversation(owner: Panel, **fields: Any) -> ConversationRef:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "kind": ConversationKind.PERSONAL,
        "conversation_id": unique("a:1conversation"),
        "member_id": new_id(),
        "service_url": "https://smba.trafficmanager.net/uk/",
        "reference": {"conversation": {"id": "a:1"}, "user": {"aadObjectId": "x"}, "n": [1, 2]},
        "updated_at": at(),
    }
    return ConversationRef(**(values | fields))


def delivery(owner: Panel, **fields: Any) -> OutgoingDelivery:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "key": unique("reminder"),
        "recipient_member_id": new_id(),
        "conversation_ref_id": new_id(),
        "payload": {"type": "AdaptiveCard", "body": [{"text": "Due tomorrow"}]},
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "last_status": None,
        "not_before": at(),
        "created_at": at(),
        "sent_at": None,
    }
    return OutgoingDelivery(**(values | fields))


def audit_event(owner: Panel, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "panel_id": owner.id,
        "at": at(),
        "actor_aad_object_id": unique("aad"),
        "actor_member_id": new_id(),
        "verb": AuditVerb.VIEW,
        "entity": "case",
        "entity_id": new_id(),
        "where": "personal",
        "detail": "Opened the case card",
    }
    return AuditEvent(**(values | fields))


async def stored_panels(storage: Storage, count: int = 1) -> list[Panel]:
    """Fresh panels, saved and committed."""
    panels = [panel() for _ in range(count)]
    async with storage.unit_of_work() as uow:
        for each in panels:
            await uow.panels.save(each)
        await uow.commit()
    return panels
