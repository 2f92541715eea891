"""What the data protection and statistics tests share: the settings that configure the
download links (the bot itself is started by tests/support/world.py, whose create_app builds
the routes from FEATURES with these settings), and an invented history of a panel. Every
person is invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.domain.action import Action, InformationRequest, RequestStatus
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.common import FixedClock
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus, Meeting, MeetingStatus
from bot.domain.minutes import ActionLine, CaseMinutes, Minutes, UnmetOutcome
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import (
    Child,
    Consent,
    Criteria,
    DeclineReason,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
)
from bot.domain.risk import RiskLevel
from bot.settings import Settings
from storage import MemoryStorage
from tests.support.world import World

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

PUBLIC_URL = "https://bot.example.org"
SECRET = "test-download-secret"


def settings() -> Settings:
    return Settings(public_url=PUBLIC_URL, ics_signing_secret=SECRET)


def local_path(url: str) -> str:
    """A download link as the test client fetches it (path and query)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return f"{parts.path}?{parts.query}"


# ---- an invented history ------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def years_ago(years: int, *, days: int = 0) -> datetime:
    return NOW.replace(year=NOW.year - years) - timedelta(days=days)


@dataclass
class History:
    """A panel with cases old and new (ids by what they are)."""

    panel: Panel
    coordinator: Member
    police: Agency
    housing: Agency
    old_referral: Referral  # Rosa Lindqvist (and child Elin), case closed 6 years + 1 day ago
    old_case: Case
    old_action: Action
    old_request: InformationRequest
    old_meeting: Meeting
    old_item: AgendaItem
    follow_meeting: Meeting  # a month later: the old case's action listed there as unmet
    repeat_referral: Referral  # Rosa again a month after: a repeat, its case closed 5 years ago
    repeat_case: Case
    recent_referral: Referral  # Margaret Ellison, case closed 5 years ago
    recent_case: Case
    declined_referral: Referral  # Tom Nobody, declined 6 years + 2 days ago
    karin_referral: Referral  # Karin Berg, with her son Jonas Berg: declined lately
    later_referral: Referral  # Jonas Berg as a victim, with an open case
    later_case: Case
    later_request: InformationRequest
    later_action: Action
    later_meeting: Meeting


def rosa(**fields: Any) -> Subject:
    values: dict[str, Any] = {
        "role": SubjectRole.VICTIM,
        "name": "Rosa Lindqvist",
        "aliases": ("Rosie Lind",),
        "date_of_birth": date(1986, 9, 2),
        "address": "Flat 3, 40 Canal Street, Riverside",
        "postcode": "RV2 7LD",
        "phone": "020 7946 0123",
        "vulnerabilities": "Anxiety; lives alone with her daughter",
        "language": "Swedish",
    }
    return Subject(**(values | fields))


def _referral(
    panel: Panel, reference: str, referrer: Member, at: datetime, **fields: Any
) -> Referral:
    values: dict[str, Any] = {
        "panel_id": panel.id,
        "reference": reference,
        "referrer_member_id": referrer.id,
        "referring_agency_id": referrer.agency_id,
        "status": ReferralStatus.ACCEPTED,
        "relationship": "Neighbours in the same block",
        "incidents_last_12_months": 4,
        "incidents_rising": True,
        "tried_already": "Warning letters; Rosa moved rooms to avoid the noise",
        "multi_professional_meeting_held": True,
        "discussed_with": "Team leader",
        "consent": Consent(aware=True, consented=False, without_consent_reason="Risk to Elin"),
        "risk_answers": {"repeat": "significant"},
        "risk_matrix_version": "example-1",
        "risk_total": 34,
        "criteria": Criteria(
            high_risk=True,
            professional_judgement="Threats at the door",
            explanation="Threats at the door, louder each week",
        ),
        "created_at": at,
        "submitted_at": at,
        "decided_at": at + timedelta(days=2),
        "draft_inputs": {"subject_name": "Rosa Lindqvist"},
    }
    return Referral(**(values | fields))


def _case(panel: Panel, reference: str, referral: Referral, **fields: Any) -> Case:
    opened = referral.decided_at or referral.created_at
    values: dict[str, Any] = {
        "panel_id": panel.id,
        "reference": reference,
        "referral_id": referral.id,
        "status": CaseStatus.CLOSED,
        "risk_level": RiskLevel.HIGH,
        "risk_score": referral.risk_total,
        "has_children": bool(referral.children),
        "opened_at": opened,
        "first_heard_at": opened + timedelta(days=12),
        "closure_reason": ClosureReason.OTHER,
        "closure_note": "Rosa moved to her sister's in Leeds",
    }
    case = Case(**(values | fields))
    referral.case_id = case.id
    return case


async def seed_history(storage: Storage) -> History:
    """Store the invented history and return it."""
    panel = Panel(
        name="Northbrook Community MARAC",
        team_id="19:northbrook",
        tenant_id="tenant",
        created_at=years_ago(8),
    )
    police = Agency(panel_id=panel.id, name="Northbrook Police", kind=AgencyKind.CORE)
    housing = Agency(panel_id=panel.id, name="Northbrook Homes", kind=AgencyKind.CORE)
    coordinator = Member(
        panel_id=panel.id,
        aad_object_id="aad-coordinator",
        name="Nadia Coordinator",
        agency_id=police.id,
        roles=frozenset({Role.COORDINATOR}),
    )
    old_closed = years_ago(6, days=1)
    old_referral = _referral(
        panel,
        "RF-2020-0001",
        coordinator,
        old_closed - timedelta(days=200),
        subjects=[rosa(), Subject(role=SubjectRole.PERPETRATOR, name="Kyle Dawson")],
        children=[Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))],
    )
    old_case = _case(panel, "CM-2020-001", old_referral, closed_at=old_closed)
    repeat_referral = _referral(
        panel,
        "RF-2020-0009",
        coordinator,
        old_closed + timedelta(days=30),
        subjects=[rosa(aliases=())],
        children=[],
        referring_agency_id=housing.id,
    )
    repeat_case = _case(
        panel,
        "CM-2020-009",
        repeat_referral,
        closed_at=years_ago(5),
        closure_reason=ClosureReason.CONCERNS_REDUCED,
        closure_note=None,
    )
    recent_referral = _referral(
        panel,
        "RF-2021-0004",
        coordinator,
        years_ago(5, days=100),
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Margaret Ellison",
                date_of_birth=date(1948, 3, 14),
                postcode="NB1 4QT",
            )
        ],
        children=[],
    )
    recent_case = _case(panel, "CM-2021-004", recent_referral, closed_at=years_ago(5))
    declined_referral = _referral(
        panel,
        "RF-2020-0003",
        coordinator,
        years_ago(6, days=10),
        status=ReferralStatus.DECLINED,
        decided_at=years_ago(6, days=2),
        decline_reason=DeclineReason.OUT_OF_AREA,
        decline_note="Lives in Southmoor",
        subjects=[
            Subject(role=SubjectRole.VICTIM, name="Tom Nobody", date_of_birth=date(1970, 1, 1))
        ],
        children=[],
    )
    karin_referral = _referral(
        panel,
        "RF-2026-0040",
        coordinator,
        NOW - timedelta(days=60),
        status=ReferralStatus.DECLINED,
        decided_at=NOW - timedelta(days=58),
        decline_reason=DeclineReason.CRITERIA_NOT_MET,
        relationship="Mother and son",
        tried_already="Mediation offered by the landlord",
        discussed_with="Safeguarding lead",
        consent=Consent(aware=True, consented=True),
        criteria=Criteria(potential_escalation=True),
        draft_inputs={},
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Karin Berg",
                date_of_birth=date(1979, 6, 1),
                address="9 Ferry Road",
                postcode="NB3 1AB",
            )
        ],
        children=[Child(name="Jonas Berg", date_of_birth=date(2008, 3, 4))],
    )
    later_referral = _referral(
        panel,
        "RF-2026-0051",
        coordinator,
        NOW - timedelta(days=20),
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Jonas Berg",
                aliases=("Jonny B",),
                date_of_birth=date(2008, 3, 4),
                address="9 Ferry Road",
                postcode="NB3 1AB",
                phone="020 7946 0456",
            ),
            Subject(role=SubjectRole.PERPETRATOR, name="Lee Grant", date_of_birth=date(1999, 2, 2)),
        ],
        children=[],
        relationship="Pupils at the same school",
        tried_already="Jonas's school has spoken to the family",
        consent=Consent(aware=True, consented=True),
        criteria=Criteria(high_risk=True),
        draft_inputs={},
    )
    later_case = _case(
        panel,
        "CM-2026-051",
        later_referral,
        status=CaseStatus.OPEN,
        closed_at=None,
        closure_reason=None,
        closure_note=None,
        first_heard_at=None,
    )
    old_meeting = Meeting(
        panel_id=panel.id,
        starts_at=old_closed - timedelta(days=100),
        ends_at=old_closed - timedelta(days=100) + timedelta(hours=2),
        referral_deadline=old_closed - timedelta(days=108),
        status=MeetingStatus.MINUTES_APPROVED,
    )
    old_item = AgendaItem(
        panel_id=panel.id,
        meeting_id=old_meeting.id,
        kind=AgendaItemKind.NEW_CASE,
        position=3,
        title=old_case.reference,
        case_id=old_case.id,
        status=AgendaItemStatus.DISCUSSED,
        summary="Rosa is frightened to go out; Kyle shouts at the door",
    )
    old_action = Action(
        panel_id=panel.id,
        case_id=old_case.id,
        owner_agency_id=housing.id,
        description="Visit Rosa and fit a door camera",
        due_on=(old_closed - timedelta(days=90)).date(),
        created_at=old_meeting.starts_at,
        meeting_id=old_meeting.id,
    )
    old_action.add_update(
        "Spoke to Rosa at 40 Canal Street", by_agency_id=housing.id, at=old_meeting.ends_at
    )
    old_action.complete(by_agency_id=housing.id, at=old_closed - timedelta(days=95), note="Fitted")
    old_request = InformationRequest(
        panel_id=panel.id,
        case_id=old_case.id,
        agency_id=police.id,
        question="What do you know of Rosa Lindqvist?",
        due_at=old_meeting.referral_deadline,
        status=RequestStatus.ANSWERED,
        answer="Three calls from Rosa about Kyle Dawson",
        answered_by_member_id=coordinator.id,
        answered_at=old_meeting.referral_deadline - timedelta(days=1),
    )
    minutes = Minutes(
        panel_id=panel.id,
        meeting_id=old_meeting.id,
        meeting_starts_at=old_meeting.starts_at,
        drafted_at=old_meeting.ends_at,
        meeting_label="Tue 11 Aug 2020, 10:00",
        cases=[
            CaseMinutes(
                item_id=old_item.id,
                case_id=old_case.id,
                reference=old_case.reference,
                review=False,
                discussed=True,
                summary="Rosa is frightened; Elin stays with an aunt",
                risk_level="High",
                decision="Closed: Other (Rosa moved to Leeds)",
                actions=[
                    ActionLine(
                        old_action.id, old_action.description, housing.name, old_action.due_on
                    )
                ],
            )
        ],
        unmet=[UnmetOutcome(old_action.id, old_case.reference, "Visit Rosa", housing.name, "Done")],
    )
    minutes.approve(by_member_id=coordinator.id, by_name=coordinator.name, at=old_meeting.ends_at)
    follow_meeting = Meeting(
        panel_id=panel.id,
        starts_at=old_meeting.starts_at + timedelta(days=28),
        ends_at=old_meeting.ends_at + timedelta(days=28),
        referral_deadline=old_meeting.referral_deadline + timedelta(days=28),
        status=MeetingStatus.MINUTES_APPROVED,
    )
    follow_minutes = Minutes(
        panel_id=panel.id,
        meeting_id=follow_meeting.id,
        meeting_starts_at=follow_meeting.starts_at,
        drafted_at=follow_meeting.ends_at,
        meeting_label="Tue 8 Sep 2020, 10:00",
        unmet=[
            UnmetOutcome(
                old_action.id,
                old_case.reference,
                old_action.description,
                housing.name,
                "Carried forward: Rosa was in hospital",
            )
        ],
        other_business=["Quarterly figures"],
    )
    later_meeting = Meeting(
        panel_id=panel.id,
        starts_at=NOW - timedelta(days=9),
        ends_at=NOW - timedelta(days=9) + timedelta(hours=2),
        referral_deadline=NOW - timedelta(days=17),
        status=MeetingStatus.ENDED,
    )
    later_item = AgendaItem(
        panel_id=panel.id,
        meeting_id=later_meeting.id,
        kind=AgendaItemKind.NEW_CASE,
        position=3,
        title=later_case.reference,
        case_id=later_case.id,
        status=AgendaItemStatus.DISCUSSED,
        summary="Jonas walks home another way now",
    )
    later_action = Action(
        panel_id=panel.id,
        case_id=later_case.id,
        owner_agency_id=police.id,
        description="Speak to Jonas about a safe route home",
        due_on=(NOW + timedelta(days=20)).date(),
        created_at=later_meeting.starts_at,
        meeting_id=later_meeting.id,
    )
    later_action.add_update(
        "Met Jonas after school", by_agency_id=police.id, at=NOW - timedelta(days=2)
    )
    later_request = InformationRequest(
        panel_id=panel.id,
        case_id=later_case.id,
        agency_id=housing.id,
        question="What does your agency know of the household?",
        due_at=later_meeting.referral_deadline,
        status=RequestStatus.ANSWERED,
        answer="Tenancy since 2015; a complaint about the stairwell",
        answered_by_member_id=coordinator.id,
        answered_at=later_meeting.referral_deadline - timedelta(days=1),
    )
    history = History(
        panel=panel,
        coordinator=coordinator,
        police=police,
        housing=housing,
        old_referral=old_referral,
        old_case=old_case,
        old_action=old_action,
        old_request=old_request,
        old_meeting=old_meeting,
        old_item=old_item,
        follow_meeting=follow_meeting,
        repeat_referral=repeat_referral,
        repeat_case=repeat_case,
        recent_referral=recent_referral,
        recent_case=recent_case,
        declined_referral=declined_referral,
        karin_referral=karin_referral,
        later_referral=later_referral,
        later_case=later_case,
        later_request=later_request,
        later_action=later_action,
        later_meeting=later_meeting,
    )
    async with storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        for agency in (police, housing):
            await uow.agencies.save(agency)
        await uow.members.save(coordinator)
        for referral in (
            old_referral,
            repeat_referral,
            recent_referral,
            declined_referral,
            karin_referral,
            later_referral,
        ):
            await uow.referrals.save(referral)
        for case in (old_case, repeat_case, recent_case, later_case):
            await uow.cases.save(case)
        await uow.meetings.save(old_meeting)
        await uow.meetings.save_agenda_item(old_item)
        await uow.meetings.save_minutes(minutes)
        await uow.meetings.save(follow_meeting)
        await uow.meetings.save_minutes(follow_minutes)
        await uow.actions.save(old_action)
        await uow.information_requests.save(old_request)
        await uow.meetings.save(later_meeting)
        await uow.meetings.save_agenda_item(later_item)
        await uow.actions.save(later_action)
        await uow.information_requests.save(later_request)
        await uow.commit()
    return history


# ---- the services called directly --------------------------------------------------------


@dataclass
class Setting(World):
    """The one World (tests/support/world.py) standing on the invented history instead of
    the demo panel; its coordinator, Nadia, is the one who asks."""

    history: History = field(kw_only=True)


async def open_setting() -> Setting:
    """The invented history in memory, its coordinator having accepted the agreement."""
    storage = MemoryStorage()
    history = await seed_history(storage)
    async with storage.unit_of_work() as uow:
        await uow.isa.save(
            IsaAcceptance(
                panel_id=history.panel.id,
                member_id=history.coordinator.id,
                version=history.panel.isa_version,
                accepted_at=NOW,
            )
        )
        await uow.commit()
    return Setting(storage, FixedClock(NOW), history.panel, history=history)
