"""Bench-only seeding: panels with years of invented history, written in bulk.

A panel's history is generated as the bot would have left it: a meeting on the second
Tuesday of every month, each case referred, accepted, heard at its first meeting, reviewed
and closed (the most recent `open_cases` still open), actions agreed at the meetings that
discussed them (done, cancelled, or open), information requests, and an audit event for
every case and action opened. Every name is invented.

Rows are built with storage's own mapping functions (so they hold exactly what the
repositories would store) and inserted many at a time with ORM bulk INSERTs: a panel of
2,000 cases and 50,000 actions takes seconds, where saving through the repositories one
record at a time would take minutes.
"""

from __future__ import annotations

import functools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.action import (
    Action,
    ActionUpdate,
    InformationRequest,
    RequestStatus,
)
from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Meeting,
    MeetingStatus,
)
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import Consent, Criteria, Referral, ReferralStatus, Subject, SubjectRole
from bot.domain.risk import RiskLevel
from storage.sql import mapping as m
from storage.sql.models import (
    ActionRow,
    ActionUpdateRow,
    AgencyRow,
    AgendaItemRow,
    AuditEventRow,
    Base,
    CaseInvitedAgencyRow,
    CaseRow,
    InformationRequestRow,
    IsaAcceptanceRow,
    MeetingRow,
    MemberRow,
    PanelRow,
    ReferralRow,
    SubjectRow,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from storage import SqlStorage

BENCH_TENANT = "0b5e6c1d-0000-4000-8000-00000000be4c"  # invented
ZONE = ZoneInfo("Europe/London")
ISA_VERSION = "3"
# Rows per INSERT statement batch.
CHUNK = 5_000

AGENCIES: tuple[tuple[str, AgencyKind], ...] = (
    ("Police", AgencyKind.CORE),
    ("Community Safety", AgencyKind.CORE),
    ("Housing", AgencyKind.CORE),
    ("Adult Social Care", AgencyKind.CORE),
    ("Children's Services", AgencyKind.CORE),
    ("Mental Health Trust", AgencyKind.CORE),
    ("Victim Support", AgencyKind.CORE),
    ("Fire and Rescue", AgencyKind.INVITED),
    ("Drug and Alcohol Service", AgencyKind.INVITED),
)
FIRST = ("Ada", "Bram", "Cleo", "Dev", "Edie", "Faris", "Gwen", "Hugo", "Isla", "Jude", "Kit")
LAST = ("Arden", "Blythe", "Corrin", "Dunmore", "Ellery", "Farrow", "Garside", "Hollin", "Ivers")
# Members' names share no word with subjects' (above): a member's name shown in a meeting's
# chat ("Thank you, ...: you are recorded as attending") is not a subject's, which the
# channel gate would withhold.
MEMBER_FIRST = ("Lena", "Milo", "Nia", "Otto", "Pia", "Quin", "Rosa", "Sami", "Tova", "Ugo")
MEMBER_LAST = ("Quarry", "Rookwood", "Selby", "Thorne", "Upton", "Vance", "Whitlow")
ACTION_TEXTS = (
    "Visit the household and report back.",
    "Fit a door camera and review in four weeks.",
    "Serve a Community Protection Warning.",
    "Complete a needs assessment.",
    "Offer support from a caseworker.",
    "Share the tenancy history with the panel.",
)


@dataclass(frozen=True)
class PanelShape:
    """How much history a seeded panel holds."""

    cases: int
    actions: int
    years: int
    open_cases: int
    # Members who talk to the bot at once in the benchmark (coordinator, chair, SPOCs).
    members: int = 20
    audit: bool = True


# The two panels `sql_per_turn_small` and `sql_per_turn_large` are measured on.
SMALL = PanelShape(cases=12, actions=100, years=1, open_cases=8)
LARGE = PanelShape(cases=2_000, actions=50_000, years=10, open_cases=40)


@dataclass(frozen=True)
class BenchMember:
    """A member the benchmark speaks as."""

    id: str
    aad_object_id: str
    name: str
    roles: frozenset[Role]


@dataclass
class SeededPanel:
    """What the benchmark needs to know of a seeded panel."""

    panel_id: str
    team_id: str
    name: str
    members: list[BenchMember]
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def coordinator(self) -> BenchMember:
        return next(p for p in self.members if Role.COORDINATOR in p.roles)


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def _month(day: date, offset: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + offset
    return index // 12, index % 12 + 1


R = TypeVar("R", bound=Base)


E = TypeVar("E")


def _filled(fill: Callable[[Any, E], None], entity: E) -> dict[str, Any]:
    """What a storage.sql.mapping `fill_*` function writes for `entity`, as a dict of
    attribute values (on a plain namespace: no ORM object is made)."""
    target = SimpleNamespace()
    fill(target, entity)
    return vars(target)


class _Rows:
    """Rows to insert, by table, in dependency order."""

    def __init__(self) -> None:
        self.tables: dict[type[Base], list[dict[str, Any]]] = {}

    def add(self, model: type[R], row_id: str | None, values: dict[str, Any]) -> None:
        if row_id is not None:
            values["id"] = row_id
        self.tables.setdefault(model, []).append(values)

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


ORDER: tuple[type[Base], ...] = (
    PanelRow,
    AgencyRow,
    MemberRow,
    IsaAcceptanceRow,
    MeetingRow,
    ReferralRow,
    SubjectRow,
    CaseRow,
    CaseInvitedAgencyRow,
    AgendaItemRow,
    ActionRow,
    ActionUpdateRow,
    InformationRequestRow,
    AuditEventRow,
)


async def _insert(session: AsyncSession, rows: _Rows) -> None:
    """Core INSERTs by table, executemany in chunks (an ORM bulk insert is several times
    slower on SQLite)."""
    for model in ORDER:
        values = rows.tables.get(model, [])
        if not values:
            continue
        columns = {attr.key: attr.columns[0].name for attr in sa_inspect(model).column_attrs}
        table = cast("Table", model.__table__)
        for start in range(0, len(values), CHUNK):
            chunk = [
                {columns[key]: value for key, value in row.items()}
                for row in values[start : start + CHUNK]
            ]
            await session.execute(table.insert(), chunk)


async def seed_panels(
    storage: SqlStorage,
    shapes: Sequence[PanelShape],
    *,
    now: datetime,
    seed: int = 7,
    first_index: int = 0,
) -> list[SeededPanel]:
    """Seed one panel per shape in one transaction; returns what the benchmark needs."""
    sessions = async_sessionmaker(storage.engine, expire_on_commit=False)
    seeded: list[SeededPanel] = []
    async with sessions() as session:
        for offset, shape in enumerate(shapes):
            index = first_index + offset
            rows = _Rows()
            rng = random.Random(seed + index)  # noqa: S311 - invented data, not secrets
            panel = _history(rows, shape, now=now, rng=rng, index=index)
            panel.rows = rows.count()
            await _insert(session, rows)
            seeded.append(panel)
        await session.commit()
    return seeded


def _history(
    rows: _Rows, shape: PanelShape, *, now: datetime, rng: random.Random, index: int
) -> SeededPanel:
    """Generate one panel's rows into `rows`."""
    today = now.astimezone(ZONE).date()
    suffix = f"{index:03d}-{uuid.uuid4().hex[:6]}"
    panel = Panel(
        name=f"Bench panel {index + 1}",
        team_id=f"19:bench-{suffix}@thread.tacv2",
        tenant_id=BENCH_TENANT,
        isa_version=ISA_VERSION,
        isa_text="Invented information sharing agreement for the benchmark.",
        created_at=now - timedelta(days=366 * shape.years + 30),
    )
    rows.add(PanelRow, panel.id, _filled(m.fill_panel, panel))
    agencies = [Agency(panel_id=panel.id, name=name, kind=kind) for name, kind in AGENCIES]
    for agency in agencies:
        rows.add(AgencyRow, agency.id, _filled(m.fill_agency, agency))
    core = [a for a in agencies if a.kind is AgencyKind.CORE]

    people: list[BenchMember] = []
    for n in range(shape.members):
        roles = (
            frozenset({Role.COORDINATOR})
            if n == 0
            else frozenset({Role.CHAIR, Role.SPOC})
            if n == 1
            else frozenset({Role.SPOC})
        )
        agency = agencies[(n + 1) % len(agencies)]
        first = MEMBER_FIRST[n % len(MEMBER_FIRST)]
        last = MEMBER_LAST[(n // len(MEMBER_FIRST) + index) % len(MEMBER_LAST)]
        name = f"{first} {last} {n + 1}"
        member = Member(
            panel_id=panel.id,
            aad_object_id=str(uuid.uuid4()),
            name=name,
            email=f"member{n + 1}.p{index}@bench.example",
            agency_id=agency.id,
            roles=roles,
        )
        rows.add(MemberRow, member.id, _filled(m.fill_member, member))
        acceptance = IsaAcceptance(
            panel_id=panel.id,
            member_id=member.id,
            version=ISA_VERSION,
            accepted_at=now - timedelta(days=30),
        )
        rows.add(IsaAcceptanceRow, acceptance.id, _filled(m.fill_isa, acceptance))
        people.append(BenchMember(member.id, member.aad_object_id, member.name, roles))
    coordinator = people[0]

    # A meeting on the second Tuesday of every month, for `years` years and two months on.
    meetings: list[Meeting] = []
    for offset in range(-12 * shape.years, 3):
        year, month = _month(today, offset)
        starts = datetime.combine(second_tuesday(year, month), time(10, 0), ZONE)
        meeting = Meeting(
            panel_id=panel.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            referral_deadline=starts - timedelta(days=8),
        )
        if meeting.ends_at < now:
            meeting.status = MeetingStatus.MINUTES_APPROVED
            meeting.agenda_published_at = starts - timedelta(days=7)
            meeting.started_at = starts
            meeting.ended_at = meeting.ends_at
        meetings.append(meeting)
    past = [mt for mt in meetings if mt.status is MeetingStatus.MINUTES_APPROVED]
    start_of_history = meetings[0].starts_at - timedelta(days=20)

    # Cases, oldest first; the newest `open_cases` are still open.
    span = (now - timedelta(days=3) - start_of_history).total_seconds()
    opened = sorted(
        start_of_history + timedelta(seconds=rng.random() * span) for _ in range(shape.cases)
    )
    numbers: dict[int, int] = {}
    discussed: dict[str, list[Meeting]] = {}
    cases: list[Case] = []
    items_by_meeting: dict[str, list[AgendaItem]] = {mt.id: [] for mt in past}
    for n, at in enumerate(opened):
        year = at.astimezone(ZONE).year
        numbers[year] = numbers.get(year, 0) + 1
        still_open = n >= shape.cases - shape.open_cases
        victim = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        referral = Referral(
            panel_id=panel.id,
            reference=f"RF-{year}-{numbers[year]:04d}",
            referrer_member_id=people[2 + n % max(1, shape.members - 2)].id,
            referring_agency_id=rng.choice(core).id,
            status=ReferralStatus.ACCEPTED,
            subjects=[
                Subject(
                    role=SubjectRole.VICTIM,
                    name=victim,
                    date_of_birth=date(1940 + rng.randrange(60), 1 + rng.randrange(12), 1),
                    postcode=f"BX{rng.randrange(1, 20)} {rng.randrange(1, 9)}AB",
                ),
                Subject(role=SubjectRole.PERPETRATOR, name=f"{rng.choice(FIRST)} {LAST[n % 9]}"),
            ],
            incidents_last_12_months=1 + rng.randrange(9),
            incidents_rising=rng.random() < 0.5,
            consent=Consent(aware=True, consented=True),
            criteria=Criteria(potential_escalation=True),
            risk_total=rng.randrange(5, 40),
            created_at=at - timedelta(days=2),
            submitted_at=at - timedelta(days=2),
            decided_at=at,
        )
        case = Case(
            panel_id=panel.id,
            reference=panel.case_reference(year, numbers[year]),
            referral_id=referral.id,
            risk_level=rng.choice(list(RiskLevel)),
            risk_score=referral.risk_total,
            has_children=rng.random() < 0.3,
            lead_agency_id=rng.choice(core).id,
            opened_at=at,
        )
        if rng.random() < 0.2:
            case.invite(rng.choice(agencies[len(core) :]).id)
        referral.case_id = case.id
        heard = [mt for mt in past if mt.referral_deadline >= at][: 1 + rng.randrange(3)]
        if heard:
            case.mark_heard(heard[0].starts_at)
        if not still_open and heard:
            case.close(rng.choice(list(ClosureReason)[:4]), None, heard[-1].ends_at)
        discussed[case.id] = heard
        for position, mt in enumerate(heard):
            kind = AgendaItemKind.NEW_CASE if position == 0 else AgendaItemKind.REVIEW_CASE
            items_by_meeting[mt.id].append(
                AgendaItem(
                    panel_id=panel.id,
                    meeting_id=mt.id,
                    kind=kind,
                    position=0,
                    title=case.reference,
                    case_id=case.id,
                    minutes_estimate=15,
                    status=AgendaItemStatus.DISCUSSED,
                )
            )
        rows.add(ReferralRow, referral.id, _filled(m.fill_referral, referral))
        rows.tables[ReferralRow][-1]["version"] = 1
        for position, subject in enumerate(referral.subjects):
            values = _filled(
                functools.partial(m.fill_subject, panel_id=panel.id, position=position), subject
            )
            values["referral_id"] = referral.id
            rows.add(SubjectRow, subject.id, values)
        rows.add(CaseRow, case.id, _filled(m.fill_case, case))
        for agency_id in sorted(case.invited_agency_ids):
            rows.add(
                CaseInvitedAgencyRow,
                None,
                {"panel_id": panel.id, "case_id": case.id, "agency_id": agency_id},
            )
        cases.append(case)
        if shape.audit:
            _audit(rows, panel.id, coordinator, "case", case.id, at)
        # Information requests: answered for the history, open for the next meeting.
        upcoming = next((mt for mt in meetings if mt.starts_at > now), None)
        target = heard[0] if heard and not still_open else upcoming
        for agency in rng.sample(core, 2):
            request = InformationRequest(
                panel_id=panel.id,
                case_id=case.id,
                agency_id=agency.id,
                meeting_id=target.id if target else None,
                question="What does your agency know of the household?",
                due_at=(target.referral_deadline if target else at + timedelta(days=14)),
            )
            if not still_open:
                request.status = RequestStatus.ANSWERED
                request.answer = "Known to the agency; no new concerns."
                request.answered_at = request.due_at - timedelta(days=1)
            rows.add(
                InformationRequestRow,
                request.id,
                _filled(m.fill_information_request, request),
            )

    # Past agendas: welcome, unmet actions, the cases discussed, any other business.
    for mt in past:
        listed = items_by_meeting[mt.id]
        listed.sort(key=lambda i: (i.kind is AgendaItemKind.REVIEW_CASE, i.title))
        agenda = [
            AgendaItem(
                panel_id=panel.id,
                meeting_id=mt.id,
                kind=AgendaItemKind.CONFIDENTIALITY,
                position=0,
                title="Welcome and confidentiality statement",
                minutes_estimate=5,
                status=AgendaItemStatus.DISCUSSED,
            ),
            AgendaItem(
                panel_id=panel.id,
                meeting_id=mt.id,
                kind=AgendaItemKind.UNMET_ACTIONS,
                position=1,
                title="Unmet actions from earlier meetings",
                minutes_estimate=5,
                status=AgendaItemStatus.DISCUSSED,
            ),
            *listed,
            AgendaItem(
                panel_id=panel.id,
                meeting_id=mt.id,
                kind=AgendaItemKind.OTHER_BUSINESS,
                position=0,
                title="Any other business",
                minutes_estimate=5,
                status=AgendaItemStatus.DISCUSSED,
            ),
        ]
        for position, item in enumerate(agenda):
            item.position = position
            rows.add(AgendaItemRow, item.id, _filled(m.fill_agenda_item, item))
        mt.current_item_id = agenda[-1].id
        mt.step = len(agenda) - 1
    for mt in meetings:
        rows.add(MeetingRow, mt.id, _filled(m.fill_meeting, mt))

    _actions(rows, shape, panel, cases, discussed, core, coordinator, now=now, rng=rng)
    counts = {
        "cases": len(cases),
        "open cases": sum(1 for c in cases if c.status is not CaseStatus.CLOSED),
        "meetings": len(meetings),
        "actions": len(rows.tables.get(ActionRow, [])),
        "rows": rows.count(),
    }
    return SeededPanel(panel.id, panel.team_id, panel.name, people, counts=counts)


def _actions(
    rows: _Rows,
    shape: PanelShape,
    panel: Panel,
    cases: Sequence[Case],
    discussed: dict[str, list[Meeting]],
    agencies: Sequence[Agency],
    coordinator: BenchMember,
    *,
    now: datetime,
    rng: random.Random,
) -> None:
    """Spread `shape.actions` over the meetings that discussed each case."""
    slots = [(case, mt) for case in cases for mt in discussed[case.id]]
    if not slots:
        return
    for n in range(shape.actions):
        case, mt = slots[n % len(slots)]
        owner = agencies[n % len(agencies)]
        created = mt.ends_at
        action = Action(
            panel_id=panel.id,
            case_id=case.id,
            owner_agency_id=owner.id,
            description=ACTION_TEXTS[n % len(ACTION_TEXTS)],
            due_on=(created + timedelta(days=27)).astimezone(ZONE).date(),
            set_by_member_id=coordinator.id,
            meeting_id=mt.id,
            created_at=created,
        )
        latest = discussed[case.id][-1] is mt
        if case.status is CaseStatus.CLOSED or not latest or rng.random() < 0.6:
            done_at = min(created + timedelta(days=rng.randrange(3, 40)), now)
            if rng.random() < 0.9:
                action.complete(by_agency_id=owner.id, at=done_at, note="Done as agreed.")
            else:
                action.cancel("No longer needed.", at=done_at)
        rows.add(ActionRow, action.id, _filled(m.fill_action, action))
        for position, update in enumerate(action.updates):
            rows.add(ActionUpdateRow, None, _update_values(update, position))
        if shape.audit:
            _audit(rows, panel.id, coordinator, "action", action.id, created)


def _update_values(update: ActionUpdate, position: int) -> dict[str, Any]:
    """What storage.sql.mapping.new_action_update_row stores, without the ORM object."""
    return {
        "id": update.id,
        "panel_id": update.panel_id,
        "action_id": update.action_id,
        "position": position,
        "kind": update.kind.value,
        "note": update.note,
        "author_member_id": update.author_member_id,
        "at": update.at,
        "circumstances_changed": update.circumstances_changed,
    }


def _audit(
    rows: _Rows, panel_id: str, actor: BenchMember, entity: str, entity_id: str, at: datetime
) -> None:
    event = AuditEvent(
        panel_id=panel_id,
        at=at,
        actor_aad_object_id=actor.aad_object_id,
        actor_member_id=actor.id,
        verb=AuditVerb.CREATE,
        entity=entity,
        entity_id=entity_id,
        where="personal",
    )
    # What storage.sql.mapping.new_audit_event_row stores, without the ORM object.
    rows.add(
        AuditEventRow,
        None,
        {
            "id": event.id,
            "panel_id": event.panel_id,
            "at": event.at,
            "actor_aad_object_id": event.actor_aad_object_id,
            "actor_member_id": event.actor_member_id,
            "verb": event.verb.value,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "location": event.where,
            "detail": event.detail,
        },
    )
