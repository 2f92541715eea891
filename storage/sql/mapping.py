"""Copying between domain objects and table rows, one pair of functions per entity.

`to_*` builds a domain object from a row; `fill_*` writes a domain object's fields onto a
new or loaded row. Child collections are synchronised by the repositories.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import TYPE_CHECKING, Any

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
from bot.domain.delivery import ConversationKind, ConversationRef, DeliveryState, OutgoingDelivery
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Attendance,
    Meeting,
    MeetingStatus,
)
from bot.domain.minutes import Minutes, MinutesStatus
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
from storage.sql.models import (
    ActionRow,
    ActionUpdateRow,
    AgencyRow,
    AgendaItemRow,
    AuditEventRow,
    CaseRow,
    ConversationRefRow,
    InformationRequestRow,
    IsaAcceptanceRow,
    MeetingAttendanceRow,
    MeetingMinutesRow,
    MeetingRow,
    MemberRow,
    OutboxRow,
    PanelRow,
    ReferralRow,
    SubjectRow,
)

if TYPE_CHECKING:
    from bot.domain.reminders import ActionCardCopy, SentReminder


def lookup_key(text: str) -> str:
    """The stored form of a case-insensitive name or reference."""
    return text.casefold()


def encode_roles(roles: frozenset[Role]) -> str:
    return ",".join(sorted(role.value for role in roles))


def decode_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(value) for value in text.split(",") if value)


# Panels, agencies, members, ISA


def to_panel(row: PanelRow) -> Panel:
    return Panel(
        id=row.id,
        name=row.name,
        team_id=row.team_id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        timezone=row.timezone,
        case_prefix=row.case_prefix,
        isa_version=row.isa_version,
        isa_text=row.isa_text,
        created_at=row.created_at,
        data_version=row.data_version,
    )


def fill_panel(row: PanelRow, panel: Panel) -> None:
    row.name = panel.name
    row.team_id = panel.team_id
    row.tenant_id = panel.tenant_id
    row.channel_id = panel.channel_id
    row.timezone = panel.timezone
    row.case_prefix = panel.case_prefix
    row.isa_version = panel.isa_version
    row.isa_text = panel.isa_text
    row.created_at = panel.created_at


def to_agency(row: AgencyRow) -> Agency:
    return Agency(
        id=row.id,
        panel_id=row.panel_id,
        name=row.name,
        kind=AgencyKind(row.kind),
        active=row.active,
    )


def fill_agency(row: AgencyRow, agency: Agency) -> None:
    row.panel_id = agency.panel_id
    row.name = agency.name
    row.name_key = lookup_key(agency.name)
    row.kind = agency.kind.value
    row.active = agency.active


def to_member(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        panel_id=row.panel_id,
        aad_object_id=row.aad_object_id,
        name=row.name,
        email=row.email,
        agency_id=row.agency_id,
        roles=decode_roles(row.roles),
        active=row.active,
        away_until=row.away_until,
        invited=bool(row.invited),
        chosen_at=row.chosen_at,
        teams_user_id=row.teams_user_id,
    )


def fill_member(row: MemberRow, member: Member) -> None:
    row.panel_id = member.panel_id
    row.aad_object_id = member.aad_object_id
    row.name = member.name
    row.email = member.email
    row.agency_id = member.agency_id
    row.roles = encode_roles(member.roles)
    row.active = member.active
    row.away_until = member.away_until
    row.invited = member.invited
    row.chosen_at = member.chosen_at
    if member.teams_user_id is not None:
        # Noted by a turn (note_teams_user_id): a copy loaded before is no reason to forget it.
        row.teams_user_id = member.teams_user_id


def to_isa(row: IsaAcceptanceRow) -> IsaAcceptance:
    return IsaAcceptance(
        id=row.id,
        panel_id=row.panel_id,
        member_id=row.member_id,
        version=row.version,
        accepted_at=row.accepted_at,
    )


def fill_isa(row: IsaAcceptanceRow, acceptance: IsaAcceptance) -> None:
    row.panel_id = acceptance.panel_id
    row.member_id = acceptance.member_id
    row.version = acceptance.version
    row.accepted_at = acceptance.accepted_at


# Referrals


def _date_text(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date_from(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def to_subject(row: SubjectRow) -> Subject:
    return Subject(
        id=row.id,
        role=SubjectRole(row.role),
        name=row.name,
        aliases=tuple(row.aliases),
        date_of_birth=row.date_of_birth,
        address=row.address,
        postcode=row.postcode,
        phone=row.phone,
        safe_to_call=row.safe_to_call,
        vulnerabilities=row.vulnerabilities,
        language=row.language,
        interpreter_needed=row.interpreter_needed,
    )


def fill_subject(row: SubjectRow, subject: Subject, *, panel_id: str, position: int) -> None:
    row.panel_id = panel_id
    row.position = position
    row.role = subject.role.value
    row.name = subject.name
    row.aliases = list(subject.aliases)
    row.date_of_birth = subject.date_of_birth
    row.address = subject.address
    row.postcode = subject.postcode
    row.phone = subject.phone
    row.safe_to_call = subject.safe_to_call
    row.vulnerabilities = subject.vulnerabilities
    row.language = subject.language
    row.interpreter_needed = subject.interpreter_needed
    row.match_name = subject.match_name
    row.match_postcode = subject.match_postcode


def _children_document(children: list[Child]) -> list[dict[str, Any]]:
    return [{"name": c.name, "date_of_birth": _date_text(c.date_of_birth)} for c in children]


def _children_from(document: list[dict[str, Any]]) -> list[Child]:
    return [
        Child(name=str(c["name"]), date_of_birth=_date_from(c.get("date_of_birth")))
        for c in document
    ]


def to_referral(row: ReferralRow) -> Referral:
    return Referral(
        id=row.id,
        panel_id=row.panel_id,
        reference=row.reference,
        referrer_member_id=row.referrer_member_id,
        referring_agency_id=row.referring_agency_id,
        category=ReferralCategory(row.category),
        status=ReferralStatus(row.status),
        subjects=[to_subject(s) for s in row.subjects],
        children=_children_from(row.children),
        relationship=row.relationship_,
        incidents_last_12_months=row.incidents_last_12_months,
        incidents_rising=row.incidents_rising,
        tried_already=row.tried_already,
        multi_professional_meeting_held=row.multi_professional_meeting_held,
        discussed_with=row.discussed_with,
        agencies_involved=tuple(row.agencies_involved),
        consent=Consent(
            aware=row.consent_aware,
            consented=row.consent_consented,
            without_consent_reason=row.consent_without_consent_reason,
        ),
        risk_answers=dict(row.risk_answers),
        risk_matrix_version=row.risk_matrix_version,
        risk_total=row.risk_total,
        risk_threshold=row.risk_threshold,
        criteria=Criteria(
            high_risk=row.criteria_high_risk,
            potential_escalation=row.criteria_potential_escalation,
            professional_judgement=row.criteria_professional_judgement,
            explanation=row.criteria_explanation,
        ),
        decline_reason=DeclineReason(row.decline_reason) if row.decline_reason else None,
        decline_note=row.decline_note,
        more_info_question=row.more_info_question,
        case_id=row.case_id,
        created_at=row.created_at,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        # Deep copies: the row keeps what was loaded to tell what a save changed.
        draft_inputs=copy.deepcopy(row.draft_inputs) if row.draft_inputs else {},
        draft_step=row.draft_step,
        version=row.version or 0,
    )


def fill_referral(row: ReferralRow, referral: Referral) -> None:
    """Scalar and JSON fields; the repository synchronises the subjects and sets the
    version (the optimistic lock)."""
    row.panel_id = referral.panel_id
    row.reference = referral.reference
    row.reference_key = lookup_key(referral.reference)
    row.referrer_member_id = referral.referrer_member_id
    row.referring_agency_id = referral.referring_agency_id
    row.category = referral.category.value
    row.status = referral.status.value
    row.children = _children_document(referral.children)
    row.relationship_ = referral.relationship
    row.incidents_last_12_months = referral.incidents_last_12_months
    row.incidents_rising = referral.incidents_rising
    row.tried_already = referral.tried_already
    row.multi_professional_meeting_held = referral.multi_professional_meeting_held
    row.discussed_with = referral.discussed_with
    row.agencies_involved = list(referral.agencies_involved)
    row.consent_aware = referral.consent.aware
    row.consent_consented = referral.consent.consented
    row.consent_without_consent_reason = referral.consent.without_consent_reason
    row.risk_answers = dict(referral.risk_answers)
    row.risk_matrix_version = referral.risk_matrix_version
    row.risk_total = referral.risk_total
    row.risk_threshold = referral.risk_threshold
    row.criteria_high_risk = referral.criteria.high_risk
    row.criteria_potential_escalation = referral.criteria.potential_escalation
    row.criteria_professional_judgement = referral.criteria.professional_judgement
    row.criteria_explanation = referral.criteria.explanation
    row.decline_reason = referral.decline_reason.value if referral.decline_reason else None
    row.decline_note = referral.decline_note
    row.more_info_question = referral.more_info_question
    row.case_id = referral.case_id
    row.created_at = referral.created_at
    row.submitted_at = referral.submitted_at
    row.decided_at = referral.decided_at
    row.draft_inputs = copy.deepcopy(referral.draft_inputs)
    row.draft_step = referral.draft_step


# Cases


def to_case(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        panel_id=row.panel_id,
        reference=row.reference,
        referral_id=row.referral_id,
        status=CaseStatus(row.status),
        risk_level=RiskLevel(row.risk_level),
        risk_score=row.risk_score,
        has_children=row.has_children,
        lead_agency_id=row.lead_agency_id,
        lead_officer=row.lead_officer,
        keeps_victim_informed=row.keeps_victim_informed,
        victim_last_updated_at=row.victim_last_updated_at,
        invited_agency_ids=frozenset(i.agency_id for i in row.invited_agencies),
        closure_reason=ClosureReason(row.closure_reason) if row.closure_reason else None,
        closure_note=row.closure_note,
        opened_at=row.opened_at,
        first_heard_at=row.first_heard_at,
        closed_at=row.closed_at,
        review_meeting_id=row.review_meeting_id,
        version=row.version or 0,
    )


def fill_case(row: CaseRow, case: Case) -> None:
    """Scalar fields; the repository synchronises the invited agencies."""
    row.panel_id = case.panel_id
    row.reference = case.reference
    row.reference_key = lookup_key(case.reference)
    row.referral_id = case.referral_id
    row.status = case.status.value
    row.risk_level = case.risk_level.value
    row.risk_score = case.risk_score
    row.has_children = case.has_children
    row.lead_agency_id = case.lead_agency_id
    row.lead_officer = case.lead_officer
    row.keeps_victim_informed = case.keeps_victim_informed
    row.victim_last_updated_at = case.victim_last_updated_at
    row.closure_reason = case.closure_reason.value if case.closure_reason else None
    row.closure_note = case.closure_note
    row.opened_at = case.opened_at
    row.first_heard_at = case.first_heard_at
    row.closed_at = case.closed_at
    row.review_meeting_id = case.review_meeting_id


# Meetings


def to_meeting(row: MeetingRow) -> Meeting:
    return Meeting(
        id=row.id,
        panel_id=row.panel_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        referral_deadline=row.referral_deadline,
        status=MeetingStatus(row.status),
        join_url=row.join_url,
        teams_meeting_id=row.teams_meeting_id,
        agenda_published_at=row.agenda_published_at,
        agenda_manual=row.agenda_manual,
        started_at=row.started_at,
        ended_at=row.ended_at,
        chat_conversation_id=row.chat_conversation_id,
        current_item_id=row.current_item_id,
        step=row.step,
        planned_on=row.planned_on,
        teams_outdated=bool(row.teams_outdated),
        urgent=bool(row.urgent),
        calendar_event_id=row.calendar_event_id,
        teams_chat_id=row.teams_chat_id,
        version=row.version or 0,
    )


def fill_meeting(row: MeetingRow, meeting: Meeting) -> None:
    row.panel_id = meeting.panel_id
    row.starts_at = meeting.starts_at
    row.ends_at = meeting.ends_at
    row.referral_deadline = meeting.referral_deadline
    row.status = meeting.status.value
    row.join_url = meeting.join_url
    row.teams_meeting_id = meeting.teams_meeting_id
    row.agenda_published_at = meeting.agenda_published_at
    row.agenda_manual = meeting.agenda_manual
    row.started_at = meeting.started_at
    row.ended_at = meeting.ended_at
    row.chat_conversation_id = meeting.chat_conversation_id
    row.current_item_id = meeting.current_item_id
    row.step = meeting.step
    row.planned_on = meeting.planned_on
    row.teams_outdated = meeting.teams_outdated
    row.urgent = meeting.urgent
    row.calendar_event_id = meeting.calendar_event_id
    row.teams_chat_id = meeting.teams_chat_id


def to_agenda_item(row: AgendaItemRow) -> AgendaItem:
    return AgendaItem(
        id=row.id,
        panel_id=row.panel_id,
        meeting_id=row.meeting_id,
        kind=AgendaItemKind(row.kind),
        position=row.position,
        title=row.title,
        case_id=row.case_id,
        minutes_estimate=row.minutes_estimate,
        status=AgendaItemStatus(row.status),
        note=row.note,
        summary=row.summary,
        action_ids=tuple(row.action_ids or ()),
    )


def fill_agenda_item(row: AgendaItemRow, item: AgendaItem) -> None:
    row.panel_id = item.panel_id
    row.meeting_id = item.meeting_id
    row.kind = item.kind.value
    row.position = item.position
    row.title = item.title
    row.case_id = item.case_id
    row.minutes_estimate = item.minutes_estimate
    row.status = item.status.value
    row.note = item.note
    row.summary = item.summary
    row.action_ids = list(item.action_ids)


def to_attendance(row: MeetingAttendanceRow) -> Attendance:
    return Attendance(
        id=row.id,
        panel_id=row.panel_id,
        meeting_id=row.meeting_id,
        member_id=row.member_id,
        agency_id=row.agency_id,
        acknowledged_at=row.acknowledged_at,
    )


def attendance_values(attendance: Attendance) -> dict[str, Any]:
    return {
        "id": attendance.id,
        "panel_id": attendance.panel_id,
        "meeting_id": attendance.meeting_id,
        "member_id": attendance.member_id,
        "agency_id": attendance.agency_id,
        "acknowledged_at": attendance.acknowledged_at,
    }


def to_minutes(row: MeetingMinutesRow) -> Minutes:
    minutes = Minutes(
        id=row.id,
        panel_id=row.panel_id,
        meeting_id=row.meeting_id,
        meeting_starts_at=row.meeting_starts_at,
        status=MinutesStatus(row.status),
        version=row.version,
        drafted_at=row.drafted_at,
        approved_at=row.approved_at,
        approved_by_member_id=row.approved_by_member_id,
    )
    minutes.fill_from(row.document)
    return minutes


def fill_minutes(row: MeetingMinutesRow, minutes: Minutes) -> None:
    """Every field but the version, which the repository sets."""
    row.panel_id = minutes.panel_id
    row.meeting_id = minutes.meeting_id
    row.status = minutes.status.value
    row.meeting_starts_at = minutes.meeting_starts_at
    row.drafted_at = minutes.drafted_at
    row.approved_at = minutes.approved_at
    row.approved_by_member_id = minutes.approved_by_member_id
    row.document = minutes.document()


# Actions and information requests


def to_action_update(row: ActionUpdateRow) -> ActionUpdate:
    return ActionUpdate(
        id=row.id,
        panel_id=row.panel_id,
        action_id=row.action_id,
        kind=UpdateKind(row.kind),
        note=row.note,
        author_member_id=row.author_member_id,
        at=row.at,
        circumstances_changed=row.circumstances_changed,
    )


def new_action_update_row(update: ActionUpdate, *, position: int) -> ActionUpdateRow:
    return ActionUpdateRow(
        id=update.id,
        panel_id=update.panel_id,
        action_id=update.action_id,
        position=position,
        kind=update.kind.value,
        note=update.note,
        author_member_id=update.author_member_id,
        at=update.at,
        circumstances_changed=update.circumstances_changed,
    )


def to_action(row: ActionRow) -> Action:
    return Action(
        id=row.id,
        panel_id=row.panel_id,
        case_id=row.case_id,
        owner_agency_id=row.owner_agency_id,
        description=row.description,
        due_on=row.due_on,
        status=ActionStatus(row.status),
        set_by_member_id=row.set_by_member_id,
        meeting_id=row.meeting_id,
        created_at=row.created_at,
        completed_at=row.completed_at,
        cancel_reason=row.cancel_reason,
        escalated=row.escalated,
        updates=[to_action_update(u) for u in row.updates],
        version=row.version or 0,
    )


def fill_action(row: ActionRow, action: Action) -> None:
    """Scalar fields; the repository appends the new updates."""
    row.panel_id = action.panel_id
    row.case_id = action.case_id
    row.owner_agency_id = action.owner_agency_id
    row.description = action.description
    row.due_on = action.due_on
    row.status = action.status.value
    row.set_by_member_id = action.set_by_member_id
    row.meeting_id = action.meeting_id
    row.created_at = action.created_at
    row.completed_at = action.completed_at
    row.cancel_reason = action.cancel_reason
    row.escalated = action.escalated


def to_information_request(row: InformationRequestRow) -> InformationRequest:
    return InformationRequest(
        id=row.id,
        panel_id=row.panel_id,
        case_id=row.case_id,
        agency_id=row.agency_id,
        meeting_id=row.meeting_id,
        question=row.question,
        due_at=row.due_at,
        status=RequestStatus(row.status),
        answer=row.answer,
        answered_by_member_id=row.answered_by_member_id,
        answered_at=row.answered_at,
        version=row.version or 0,
    )


def fill_information_request(row: InformationRequestRow, request: InformationRequest) -> None:
    row.panel_id = request.panel_id
    row.case_id = request.case_id
    row.agency_id = request.agency_id
    row.meeting_id = request.meeting_id
    row.question = request.question
    row.due_at = request.due_at
    row.status = request.status.value
    row.answer = request.answer
    row.answered_by_member_id = request.answered_by_member_id
    row.answered_at = request.answered_at


# Conversations, outbox, audit


def to_conversation_ref(row: ConversationRefRow) -> ConversationRef:
    return ConversationRef(
        id=row.id,
        panel_id=row.panel_id,
        kind=ConversationKind(row.kind),
        conversation_id=row.conversation_id,
        member_id=row.member_id,
        service_url=row.service_url,
        reference=dict(row.reference),
        updated_at=row.updated_at,
    )


def fill_conversation_ref(row: ConversationRefRow, ref: ConversationRef) -> None:
    row.panel_id = ref.panel_id
    row.kind = ref.kind.value
    row.conversation_id = ref.conversation_id
    row.member_id = ref.member_id
    row.service_url = ref.service_url
    row.reference = dict(ref.reference)
    row.updated_at = ref.updated_at


def to_delivery(row: OutboxRow) -> OutgoingDelivery:
    return OutgoingDelivery(
        id=row.id,
        panel_id=row.panel_id,
        key=row.key,
        recipient_member_id=row.recipient_member_id,
        conversation_ref_id=row.conversation_ref_id,
        payload=dict(row.payload),
        state=DeliveryState(row.state),
        attempts=row.attempts,
        last_status=row.last_status,
        not_before=row.not_before,
        created_at=row.created_at,
        sent_at=row.sent_at,
        claimed_at=row.claimed_at,
        resumed=row.resumed,
        activity_id=row.activity_id,
        conversation_id=row.conversation_id,
        lane=row.lane or "",
    )


def delivery_values(delivery: OutgoingDelivery) -> dict[str, Any]:
    """Every column of the outbox row except its sequence number."""
    return {
        "id": delivery.id,
        "panel_id": delivery.panel_id,
        "key": delivery.key,
        "recipient_member_id": delivery.recipient_member_id,
        "conversation_ref_id": delivery.conversation_ref_id,
        "payload": dict(delivery.payload),
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "not_before": delivery.not_before,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
        "claimed_at": delivery.claimed_at,
        "resumed": delivery.resumed,
        "activity_id": delivery.activity_id,
        "conversation_id": delivery.conversation_id,
        "lane": delivery.lane,
    }


def to_audit_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        panel_id=row.panel_id,
        at=row.at,
        actor_aad_object_id=row.actor_aad_object_id,
        actor_member_id=row.actor_member_id,
        verb=AuditVerb(row.verb),
        entity=row.entity,
        entity_id=row.entity_id,
        where=row.location,
        detail=row.detail,
    )


def new_audit_event_row(event: AuditEvent) -> AuditEventRow:
    return AuditEventRow(
        id=event.id,
        panel_id=event.panel_id,
        at=event.at,
        actor_aad_object_id=event.actor_aad_object_id,
        actor_member_id=event.actor_member_id,
        verb=event.verb.value,
        entity=event.entity,
        entity_id=event.entity_id,
        location=event.where,
        detail=event.detail,
    )


# Revision 0006: reminders queued, and the outbox rows that carried an action's card.


def reminder_values(reminder: SentReminder) -> dict[str, Any]:
    return {
        "key": reminder.key,
        "panel_id": reminder.panel_id,
        "kind": reminder.kind.value,
        "subject_id": reminder.subject_id,
        "recipient_member_id": reminder.recipient_member_id,
        "day": reminder.day,
        "created_at": reminder.created_at,
    }


def action_card_values(card: ActionCardCopy) -> dict[str, Any]:
    return {
        "delivery_id": card.delivery_id,
        "panel_id": card.panel_id,
        "action_id": card.action_id,
        "member_id": card.member_id,
        "created_at": card.created_at,
    }
