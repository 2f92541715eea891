"""An invented demo panel, so a new user sees a working panel at once.

Every name, address and date of birth here is invented. The ids of the five people match
the Agents Playground's configuration in tests/e2e/.m365agentsplayground.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.action import Action, InformationRequest
from bot.domain.audit import AuditVerb
from bot.domain.case import Case, CaseStatus
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import (
    Child,
    Consent,
    Criteria,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
)
from bot.domain.risk import RiskLevel
from bot.kernel import audit
from bot.kernel.config import load_risk_matrix

if TYPE_CHECKING:
    from bot.domain.common import Clock
    from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory

DEMO_TENANT = "6f1c2a9e-3b7d-4e58-9a21-0c4d5e6f7a80"
DEMO_TEAM = "19:riverside-cmarac@thread.tacv2"
DEMO_PANEL_NAME = "Riverside Community MARAC"
ISA_TEXT = (
    "Members share information under the Crime and Disorder Act 1998 s.115, UK GDPR "
    "Art. 6(1)(e) and DPA 2018 Sch. 1 para 18, only as far as needed to reduce risk, keep "
    "it confidential, and record what they share. (Invented demo agreement.)"
)


@dataclass(frozen=True)
class DemoPerson:
    name: str
    aad_object_id: str
    email: str
    agency: str
    roles: frozenset[Role]
    isa_version: str | None


AGENCIES: tuple[tuple[str, AgencyKind], ...] = (
    ("Riverside Police", AgencyKind.CORE),
    ("Community Safety (Riverside Council)", AgencyKind.CORE),
    ("Riverside Homes (Housing)", AgencyKind.CORE),
    ("Adult Social Care", AgencyKind.CORE),
    ("Children's Services", AgencyKind.CORE),
    ("Riverside Mental Health Trust", AgencyKind.CORE),
    ("Victim Support", AgencyKind.CORE),
    ("Riverside Fire and Rescue", AgencyKind.INVITED),
    ("Riverside Recovery (drug and alcohol)", AgencyKind.INVITED),
)

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Priya Raman",
        "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d01",
        "priya.raman@riverside.example",
        "Community Safety (Riverside Council)",
        frozenset({Role.COORDINATOR}),
        "2",
    ),
    DemoPerson(
        "Tom Okafor",
        "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d02",
        "tom.okafor@riverside.example",
        "Riverside Police",
        frozenset({Role.CHAIR, Role.SPOC}),
        "2",
    ),
    DemoPerson(
        "Gemma Hartley",
        "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03",
        "gemma.hartley@riverside.example",
        "Riverside Homes (Housing)",
        frozenset({Role.SPOC}),
        "2",
    ),
    DemoPerson(
        "Daniel Reyes",
        "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d04",
        "daniel.reyes@riverside.example",
        "Riverside Homes (Housing)",
        frozenset({Role.DEPUTY}),
        "1",
    ),
    DemoPerson(
        "Aisha Bello",
        "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05",
        "aisha.bello@riverside.example",
        "Victim Support",
        frozenset({Role.REFERRER}),
        None,
    ),
)


def second_tuesday(year: int, month: int) -> date:
    """The second Tuesday of a month (Hammersmith & Fulham's rule)."""
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def _month_after(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class SeedResult:
    created: bool
    panel_id: str
    counts: dict[str, int]


async def seed_demo(uow_factory: UnitOfWorkFactory, clock: Clock) -> SeedResult:
    """Create the demo panel once; a second call changes nothing."""
    async with uow_factory() as uow:
        existing = await uow.panels.by_team(DEMO_TEAM)
        if existing is not None:
            return SeedResult(False, existing.id, {})
        panel_id, counts = await _seed(uow, clock.now())
        await uow.commit()
        return SeedResult(True, panel_id, counts)


async def _seed(uow: UnitOfWork, now: datetime) -> tuple[str, dict[str, int]]:
    zone = ZoneInfo("Europe/London")
    panel = Panel(
        name=DEMO_PANEL_NAME,
        team_id=DEMO_TEAM,
        tenant_id=DEMO_TENANT,
        isa_version="2",
        isa_text=ISA_TEXT,
        created_at=now - timedelta(days=400),
    )
    await uow.panels.save(panel)
    agencies = {name: Agency(panel_id=panel.id, name=name, kind=kind) for name, kind in AGENCIES}
    for agency in agencies.values():
        await uow.agencies.save(agency)
    members: dict[str, Member] = {}
    for person in PEOPLE:
        member = Member(
            panel_id=panel.id,
            aad_object_id=person.aad_object_id,
            name=person.name,
            email=person.email,
            agency_id=agencies[person.agency].id,
            roles=person.roles,
        )
        members[person.name] = member
        await uow.members.save(member)
        if person.isa_version:
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version=person.isa_version,
                    accepted_at=now - timedelta(days=20),
                )
            )

    today = now.astimezone(zone).date()
    meetings: list[Meeting] = []
    for offset in (-1, 0, 1, 2):
        year, month = _month_after(today, offset)
        day = second_tuesday(year, month)
        starts = datetime.combine(day, time(10, 0), zone)
        meeting = Meeting(
            panel_id=panel.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            referral_deadline=starts - timedelta(days=8),
        )
        if starts < now:
            meeting.status = MeetingStatus.ENDED
        meetings.append(meeting)
        await uow.meetings.save(meeting)
    past = [m for m in meetings if m.status is MeetingStatus.ENDED]
    upcoming = [m for m in meetings if m.status is MeetingStatus.SCHEDULED]
    next_meeting = upcoming[0]

    matrix = load_risk_matrix()
    aisha = members["Aisha Bello"]
    answers_high = {item.id: "significant" for item in matrix.items}
    answers_low = {item.id: "some" for item in matrix.items}
    year = today.year

    heard_referral = Referral(
        panel_id=panel.id,
        reference=f"RF-{year}-0041",
        referrer_member_id=aisha.id,
        referring_agency_id=aisha.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Margaret Ellison",
                date_of_birth=date(1948, 3, 14),
                address="12 Willow Court, Riverside",
                postcode="RV1 4QT",
                vulnerabilities="Lives alone; early dementia",
            ),
            Subject(role=SubjectRole.PERPETRATOR, name="Kyle Dawson", aliases=("KD",)),
        ],
        incidents_last_12_months=6,
        incidents_rising=True,
        tried_already="Warning letter from Riverside Homes; police visit.",
        multi_professional_meeting_held=True,
        discussed_with="Victim Support team leader",
        consent=Consent(aware=True, consented=True),
        risk_answers=answers_high,
        risk_matrix_version=matrix.version,
        risk_total=matrix.score(answers_high),
        risk_threshold=matrix.threshold,
        criteria=Criteria(high_risk=True, potential_escalation=True),
        created_at=now - timedelta(days=50),
        submitted_at=now - timedelta(days=49),
    )
    new_referral = Referral(
        panel_id=panel.id,
        reference=f"RF-{year}-0047",
        referrer_member_id=aisha.id,
        referring_agency_id=aisha.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Rosa Lindqvist",
                date_of_birth=date(1986, 9, 2),
                address="Flat 3, 40 Canal Street, Riverside",
                postcode="RV2 7LD",
                phone="+442079460123",
                safe_to_call=False,
                language="Swedish",
            )
        ],
        children=[Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))],
        relationship="Neighbours in the same block",
        incidents_last_12_months=4,
        incidents_rising=True,
        consent=Consent(aware=True, consented=False, without_consent_reason="Risk to children"),
        risk_answers=answers_low,
        risk_matrix_version=matrix.version,
        risk_total=matrix.score(answers_low),
        risk_threshold=matrix.threshold,
        criteria=Criteria(
            potential_escalation=True,
            professional_judgement="Children exposed to repeated threats at the door.",
        ),
        created_at=now - timedelta(days=12),
        submitted_at=now - timedelta(days=12),
    )
    pending_referral = Referral(
        panel_id=panel.id,
        reference=f"RF-{year}-0049",
        referrer_member_id=aisha.id,
        referring_agency_id=aisha.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Samuel Achebe",
                date_of_birth=date(1972, 11, 30),
                postcode="RV3 1AB",
            )
        ],
        incidents_last_12_months=3,
        incidents_rising=True,
        consent=Consent(aware=True, consented=True),
        risk_answers=answers_low,
        risk_matrix_version=matrix.version,
        risk_total=matrix.score(answers_low),
        risk_threshold=matrix.threshold,
        criteria=Criteria(potential_escalation=True),
        created_at=now - timedelta(days=2),
        submitted_at=now - timedelta(days=2),
    )

    heard_case = Case(
        panel_id=panel.id,
        reference=panel.case_reference(year, 13),
        referral_id=heard_referral.id,
        status=CaseStatus.HEARD,
        risk_level=RiskLevel.HIGH,
        risk_score=heard_referral.risk_total,
        lead_agency_id=agencies["Riverside Homes (Housing)"].id,
        lead_officer="Gemma Hartley",
        keeps_victim_informed="Victim Support",
        victim_last_updated_at=now - timedelta(days=6),
        opened_at=now - timedelta(days=45),
        first_heard_at=past[0].starts_at if past else now - timedelta(days=30),
    )
    new_case = Case(
        panel_id=panel.id,
        reference=panel.case_reference(year, 14),
        referral_id=new_referral.id,
        risk_level=RiskLevel.MEDIUM,
        risk_score=new_referral.risk_total,
        has_children=True,
        opened_at=now - timedelta(days=10),
    )
    new_case.invite(agencies["Riverside Fire and Rescue"].id)
    heard_referral.accept(heard_case.id, now - timedelta(days=45))
    new_referral.accept(new_case.id, now - timedelta(days=10))
    for referral in (heard_referral, new_referral, pending_referral):
        await uow.referrals.save(referral)
    for case in (heard_case, new_case):
        await uow.cases.save(case)
    # The next referral and case follow the demo's own numbers (RF-…-0050, CM-…-015).
    await uow.counters.raise_to(panel.id, "referral", year, 49)
    await uow.counters.raise_to(panel.id, "case", year, 14)

    housing = agencies["Riverside Homes (Housing)"].id
    police = agencies["Riverside Police"].id
    adults = agencies["Adult Social Care"].id
    priya = members["Priya Raman"]
    set_at = past[0].starts_at if past else now - timedelta(days=30)
    due = next_meeting.starts_at.astimezone(zone).date() - timedelta(days=1)
    actions = [
        Action(
            panel_id=panel.id,
            case_id=heard_case.id,
            owner_agency_id=housing,
            description="Visit Mrs Ellison and fit a door camera; report on tenancy action.",
            due_on=due,
            set_by_member_id=priya.id,
            meeting_id=past[0].id if past else None,
            created_at=set_at,
        ),
        Action(
            panel_id=panel.id,
            case_id=heard_case.id,
            owner_agency_id=adults,
            description="Complete a Care Act needs assessment.",
            due_on=today - timedelta(days=5),
            set_by_member_id=priya.id,
            created_at=set_at,
        ),
        Action(
            panel_id=panel.id,
            case_id=heard_case.id,
            owner_agency_id=police,
            description="Serve a Community Protection Warning on the perpetrator.",
            due_on=today - timedelta(days=10),
            set_by_member_id=priya.id,
            created_at=set_at,
        ),
    ]
    actions[2].complete(
        by_agency_id=police,
        at=now - timedelta(days=12),
        note="CPW served in person.",
        by_member_id=members["Tom Okafor"].id,
    )
    actions[0].add_update(
        "Camera ordered; fitting booked.",
        by_agency_id=housing,
        at=now - timedelta(days=4),
        by_member_id=members["Gemma Hartley"].id,
    )
    for action in actions:
        await uow.actions.save(action)
    requests = [
        InformationRequest(
            panel_id=panel.id,
            case_id=new_case.id,
            agency_id=agency_id,
            meeting_id=next_meeting.id,
            question="What does your agency know of the household and the neighbours?",
            due_at=next_meeting.referral_deadline,
        )
        for agency_id in (housing, police, agencies["Children's Services"].id)
    ]
    for request in requests:
        await uow.information_requests.save(request)
    for case in (heard_case, new_case):
        await audit.record(
            uow,
            audit.Actor.member(priya, "seed-demo"),
            AuditVerb.CREATE,
            "case",
            case.id,
            at=case.opened_at,
        )
    counts = {
        "agencies": len(agencies),
        "members": len(members),
        "meetings": len(meetings),
        "referrals": 3,
        "cases": 2,
        "actions": len(actions),
        "information_requests": len(requests),
    }
    return panel.id, counts
