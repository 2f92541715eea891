"""The adversarial walk: every command and verb, by every kind of caller, in every kind of
chat, with their own, another agency's, another panel's and made-up ids.

One SQLite file holds two panels. Every subject field and every narrative field of panel A
(two cases: one the invited agency works on, one it does not) and of panel B holds a marker
of its own. Each request runs exactly as the Teams handler runs it (dispatch, a DomainError's
message as the reply, then the shared-chat gate), and every reply and every message queued
in the outbox during the call is searched for markers the caller may not see there.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.app import build_router, make_deps
from bot.domain.action import (
    Action,
    ActionStatus,
    ActionUpdate,
    InformationRequest,
    RequestStatus,
    UpdateKind,
)
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.common import FixedClock, new_id
from bot.domain.delivery import ConversationKind, ConversationRef
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.meeting import AgendaItem, AgendaItemKind, Meeting, MeetingStatus
from bot.domain.minutes import CaseMinutes, Minutes
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.policy import NEEDS_AGREEMENT, Act
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
from bot.kernel import channel_gate, dispatch, turns
from bot.kernel.guard import ANYWHERE, Access, Target, public, replies_in_private
from bot.kernel.router import Caller, Reply, Request, Router, Where
from cards.kit import CARD_PANEL
from cards.verbs import Verb
from storage import SqlStorage, migrate_async, open_storage
from tests.conftest import NOW

if TYPE_CHECKING:
    from collections.abc import Iterator

A_TEAM = "19:zqx-panel-a-team@thread.tacv2"
B_TEAM = "19:zqx-panel-b-team@thread.tacv2"
TENANT = "5f0c6a1e-0d2b-4c8e-9a7f-walk00000001"
A_CHANNEL = "19:zqx-panel-a-channel@thread.tacv2"
GROUP_CHAT = "19:zqx-group-chat@thread.v2"
MEETING_CHAT = "19:meeting_ZQXthismeeting@thread.v2"
OTHER_MEETING_CHAT = "19:meeting_ZQXothermeeting@thread.v2"
SHARED = frozenset(
    {ConversationKind.CHANNEL, ConversationKind.GROUP_CHAT, ConversationKind.MEETING}
)
# Acts run in the meeting's own chat by design: the chair runs the case there.
MEETING_ACTS = frozenset({Act.RUN_MEETING, Act.CAPTURE_ACTION})


# --- markers ---------------------------------------------------------------------------------


@dataclass
class Markers:
    """Marker strings by bucket: a referral's own fields, a case's other fields, a panel's
    general narrative."""

    buckets: dict[str, set[str]] = field(default_factory=dict)

    def add(self, bucket: str, *values: str) -> None:
        self.buckets.setdefault(bucket, set()).update(values)

    def of(self, *buckets: str) -> set[str]:
        return set().union(*(self.buckets.get(b, set()) for b in buckets))


def dob_forms(day: date) -> tuple[str, ...]:
    """A date of birth as cards may print it."""
    return (
        day.isoformat(),
        day.strftime("%d/%m/%Y"),
        f"{day.day} {day:%b %Y}",
        f"{day.day} {day:%B %Y}",
        day.strftime("%d %b %Y"),
    )


def subject(markers: Markers, bucket: str, tag: str, n: int, role: SubjectRole) -> Subject:
    """A subject whose every field is a marker (dates and postcodes in valid shapes)."""
    dob = date(1931, 1 + n, 3 + n)
    postcode = f"ZQ{n} {n}X{'ABCDEFGH'[n]}"
    phone = f"07700 9004{n:02d}"
    values = {
        "name": f"ZQX-{tag}-SUBJ-NAME-{n}",
        "aliases": (f"ZQX-{tag}-SUBJ-ALIAS-{n}",),
        "address": f"ZQX-{tag}-ADDR-{n}",
        "vulnerabilities": f"ZQX-{tag}-VULN-{n}",
        "language": f"ZQX-{tag}-LANG-{n}",
    }
    markers.add(bucket, *(v for v in values.values() if isinstance(v, str)))
    markers.add(bucket, values["aliases"][0], *dob_forms(dob), postcode, postcode.replace(" ", ""))
    markers.add(bucket, phone, phone.replace(" ", ""))
    return Subject(
        role=role,
        name=str(values["name"]),
        aliases=(f"ZQX-{tag}-SUBJ-ALIAS-{n}",),
        date_of_birth=dob,
        address=str(values["address"]),
        postcode=postcode,
        phone=phone,
        vulnerabilities=str(values["vulnerabilities"]),
        language=str(values["language"]),
    )


# --- the world -------------------------------------------------------------------------------


@dataclass
class Ids:
    """The ids a request may carry: cases by reference, the rest by id."""

    case_ref: str
    referral_ref: str
    data: dict[str, str]


@dataclass
class Seeded:
    """The walk's own two panels (not the demo world: every field a marker) on a SQLite file,
    with a pristine copy to restore between requests."""

    path: Path
    pristine: Path
    storage: SqlStorage
    panel_a: Panel
    panel_b: Panel
    people: dict[str, Caller]
    members: dict[str, Member]
    ids: dict[str, Ids]
    markers: Markers


def referral_for(
    markers: Markers, panel: Panel, tag: str, bucket: str, reference: str, referrer: Member, n: int
) -> Referral:
    words = {
        "relationship": f"ZQX-{tag}-NARR-RELATIONSHIP",
        "tried_already": f"ZQX-{tag}-NARR-TRIED",
        "discussed_with": f"ZQX-{tag}-NARR-DISCUSSED",
        "judgement": f"ZQX-{tag}-NARR-JUDGEMENT",
        "without_consent": f"ZQX-{tag}-NARR-NOCONSENT",
        "child": f"ZQX-{tag}-CHILD-NAME",
        "more_info": f"ZQX-{tag}-NARR-MOREINFO",
    }
    markers.add(bucket, *words.values())
    return Referral(
        panel_id=panel.id,
        reference=reference,
        referrer_member_id=referrer.id,
        referring_agency_id=referrer.agency_id,
        status=ReferralStatus.ACCEPTED,
        subjects=[
            subject(markers, bucket, tag, n, SubjectRole.VICTIM),
            subject(markers, bucket, tag, n + 1, SubjectRole.PERPETRATOR),
        ],
        children=[Child(name=words["child"], date_of_birth=date(2015, 4, 9))],
        relationship=words["relationship"],
        incidents_last_12_months=4,
        tried_already=words["tried_already"],
        discussed_with=words["discussed_with"],
        consent=Consent(aware=True, without_consent_reason=words["without_consent"]),
        criteria=Criteria(high_risk=True, professional_judgement=words["judgement"]),
        more_info_question=words["more_info"],
        created_at=NOW - timedelta(days=30),
        submitted_at=NOW - timedelta(days=29),
        decided_at=NOW - timedelta(days=28),
    )


async def seed(path: Path) -> Seeded:
    """Panels A and B, their people, records and chats, every field a marker."""
    url = f"sqlite+aiosqlite:///{path.as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    markers = Markers()
    a = Panel(
        name="Walk Panel A",
        team_id=A_TEAM,
        tenant_id=TENANT,
        channel_id=A_CHANNEL,
        case_prefix="WA",
        isa_version="2",
        isa_text="Invented agreement A.",
        created_at=NOW - timedelta(days=400),
    )
    b = Panel(
        name="Walk Panel B",
        team_id=B_TEAM,
        tenant_id=TENANT,
        case_prefix="WB",
        isa_version="1",
        isa_text="Invented agreement B.",
        created_at=NOW - timedelta(days=400),
    )
    police = Agency(panel_id=a.id, name="Walk Constabulary")
    housing = Agency(panel_id=a.id, name="Walk Housing")
    outreach = Agency(panel_id=a.id, name="Walk Outreach", kind=AgencyKind.INVITED)
    b_police = Agency(panel_id=b.id, name="Walk B Constabulary")
    roles = {
        "coordinator": (a, police, {Role.COORDINATOR}),
        "chair": (a, housing, {Role.CHAIR}),
        "spoc_core": (a, police, {Role.SPOC}),
        "deputy": (a, housing, {Role.DEPUTY}),
        "spoc_invited": (a, outreach, {Role.SPOC}),
        "referrer": (a, housing, {Role.REFERRER}),
        "unaccepted": (a, police, {Role.SPOC}),
        "b_only": (b, b_police, {Role.COORDINATOR, Role.SPOC}),
    }
    members: dict[str, Member] = {}
    people: dict[str, Caller] = {}
    for n, (who, (panel, agency, held)) in enumerate(roles.items()):
        aad = f"7a11c0de-0000-4000-8000-{n:012d}"
        members[who] = Member(
            panel_id=panel.id,
            aad_object_id=aad,
            name=f"Walker {who}",
            agency_id=agency.id,
            roles=frozenset(held),
        )
        people[who] = Caller(f"29:{aad}", aad, f"Walker {who}")
    people["stranger"] = Caller("29:stranger", "7a11c0de-0000-4000-8000-999999999999", "Nobody")

    meeting = Meeting(
        panel_id=a.id,
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=1),
        referral_deadline=NOW - timedelta(days=8),
        status=MeetingStatus.IN_PROGRESS,
        started_at=NOW - timedelta(hours=1),
        chat_conversation_id=MEETING_CHAT,
    )
    other = Meeting(
        panel_id=a.id,
        starts_at=NOW - timedelta(days=2),
        ends_at=NOW - timedelta(days=2) + timedelta(hours=2),
        referral_deadline=NOW - timedelta(days=10),
        status=MeetingStatus.ENDED,
        started_at=NOW - timedelta(days=2),
        ended_at=NOW - timedelta(days=2) + timedelta(hours=2),
        chat_conversation_id=OTHER_MEETING_CHAT,
    )
    b_meeting = Meeting(
        panel_id=b.id,
        starts_at=NOW + timedelta(days=20),
        ends_at=NOW + timedelta(days=20, hours=2),
        referral_deadline=NOW + timedelta(days=12),
    )
    records: list[Any] = []
    ids: dict[str, Ids] = {}
    cases_: dict[str, Case] = {}
    for tag, panel, referrer, owner, asked, invited in (
        ("A1", a, members["referrer"], outreach, outreach, True),
        ("A2", a, members["spoc_core"], housing, police, False),
        ("B1", b, members["b_only"], b_police, b_police, False),
    ):
        ref_bucket, case_bucket = f"{tag}-referral", f"{tag}-case"
        referral = referral_for(
            markers,
            panel,
            tag,
            ref_bucket,
            f"RF-2026-{90 + len(ids)}",
            referrer,
            1 + 2 * len(ids),
        )
        case = Case(
            panel_id=panel.id,
            reference=f"{panel.case_prefix}-2026-{500 + len(ids)}",
            referral_id=referral.id,
            status=CaseStatus.CLOSED if tag == "A2" else CaseStatus.OPEN,
            risk_level=RiskLevel.HIGH,
            lead_agency_id=owner.id,
            lead_officer=f"ZQX-{tag}-NARR-LEADOFFICER",
            keeps_victim_informed=f"ZQX-{tag}-NARR-KEEPSINFORMED",
            invited_agency_ids=frozenset({outreach.id}) if invited else frozenset(),
            closure_reason=ClosureReason.OTHER if tag == "A2" else None,
            closure_note=f"ZQX-{tag}-NARR-CLOSURE",
            opened_at=NOW - timedelta(days=28),
            closed_at=NOW - timedelta(days=1) if tag == "A2" else None,
        )
        referral.case_id = case.id
        cases_[tag] = case
        action = Action(
            panel_id=panel.id,
            case_id=case.id,
            owner_agency_id=owner.id,
            description=f"ZQX-{tag}-NARR-ACTION",
            due_on=NOW.date() + timedelta(days=7),
            created_at=NOW - timedelta(days=20),
            meeting_id=other.id if panel is a else None,
            escalated=True,
        )
        action.updates = [
            ActionUpdate(
                panel_id=panel.id,
                action_id=action.id,
                kind=kind,
                note=f"ZQX-{tag}-NARR-UPDATE-{kind.value.upper()}",
                at=NOW - timedelta(days=10),
            )
            for kind in (UpdateKind.NOTE, UpdateKind.ESCALATED)
        ]
        cancelled = Action(
            panel_id=panel.id,
            case_id=case.id,
            owner_agency_id=owner.id,
            description=f"ZQX-{tag}-NARR-ACTION-CANCELLED",
            due_on=NOW.date() + timedelta(days=3),
            created_at=NOW - timedelta(days=20),
            status=ActionStatus.CANCELLED,
            cancel_reason=f"ZQX-{tag}-NARR-CANCELREASON",
        )
        request = InformationRequest(
            panel_id=panel.id,
            case_id=case.id,
            agency_id=asked.id,
            meeting_id=meeting.id if panel is a else b_meeting.id,
            question=f"ZQX-{tag}-NARR-QUESTION",
            due_at=NOW + timedelta(days=3),
            status=RequestStatus.ANSWERED,
            answer=f"ZQX-{tag}-NARR-ANSWER",
            answered_at=NOW - timedelta(days=2),
        )
        open_request = InformationRequest(
            panel_id=panel.id,
            case_id=case.id,
            agency_id=asked.id,
            meeting_id=meeting.id if panel is a else b_meeting.id,
            question=f"ZQX-{tag}-NARR-QUESTION-OPEN",
            due_at=NOW + timedelta(days=3),
        )
        markers.add(
            case_bucket,
            *(
                f"ZQX-{tag}-NARR-{w}"
                for w in (
                    "LEADOFFICER",
                    "KEEPSINFORMED",
                    "CLOSURE",
                    "ACTION",
                    "UPDATE-NOTE",
                    "UPDATE-ESCALATED",
                    "ACTION-CANCELLED",
                    "CANCELREASON",
                    "QUESTION",
                    "ANSWER",
                    "QUESTION-OPEN",
                )
            ),
        )
        records += [("referrals", referral), ("cases", case), ("actions", action)]
        records += [("actions", cancelled), ("information_requests", request)]
        records += [("information_requests", open_request)]
        ids[tag] = Ids(
            case_ref=case.reference,
            referral_ref=referral.reference,
            data={
                "reference": case.reference,
                "referral_id": referral.id,
                "case_id": case.id,
                "action_id": action.id,
                "request_id": open_request.id,
                "agency_id": owner.id,
                "owner_agency_id": owner.id,
                "lead_agency_id": owner.id,
            },
        )
    # The meeting's agenda and the earlier meeting's minutes: a summary per case.
    items = []
    for n, tag in enumerate(("A1", "A2")):
        item = AgendaItem(
            panel_id=a.id,
            meeting_id=meeting.id,
            kind=AgendaItemKind.NEW_CASE,
            position=n,
            title=cases_[tag].reference,
            case_id=cases_[tag].id,
            note=f"ZQX-{tag}-NARR-AGENDANOTE",
            summary=f"ZQX-{tag}-NARR-AGENDASUMMARY",
        )
        markers.add(f"{tag}-case", item.note or "", item.summary or "")
        items.append(item)
        ids[tag].data["item_id"] = item.id
    meeting.current_item_id = items[0].id
    minutes = Minutes(
        panel_id=a.id,
        meeting_id=other.id,
        meeting_starts_at=other.starts_at,
        drafted_at=NOW - timedelta(days=1),
        meeting_label="Walk meeting",
        cases=[
            CaseMinutes(
                item_id=new_id(),
                case_id=cases_[tag].id,
                reference=cases_[tag].reference,
                review=False,
                discussed=True,
                summary=f"ZQX-{tag}-NARR-MINUTES-SUMMARY",
                decision=f"ZQX-{tag}-NARR-MINUTES-DECISION",
            )
            for tag in ("A1", "A2")
        ],
        other_business=["ZQX-A0-NARR-OTHERBUSINESS"],
    )
    for tag in ("A1", "A2"):
        markers.add(
            f"{tag}-case", *(f"ZQX-{tag}-NARR-MINUTES-{w}" for w in ("SUMMARY", "DECISION"))
        )
    markers.add("A0", "ZQX-A0-NARR-OTHERBUSINESS")
    ids["A1"].data |= {
        "meeting_id": meeting.id,
        "member_id": members["spoc_invited"].id,
        "agency_id": outreach.id,
    }
    ids["A2"].data |= {"meeting_id": other.id, "member_id": members["coordinator"].id}
    ids["B1"].data |= {"meeting_id": b_meeting.id, "member_id": members["b_only"].id}
    ids["made_up"] = Ids(
        case_ref="WA-2026-999",
        referral_ref="RF-2026-999",
        data={key: new_id() for key in ids["A1"].data} | {"reference": "WA-2026-999"},
    )
    async with storage.unit_of_work() as uow:
        for panel in (a, b):
            await uow.panels.save(panel)
        for agency in (police, housing, outreach, b_police):
            await uow.agencies.save(agency)
        for who, member in members.items():
            await uow.members.save(member)
            panel = a if member.panel_id == a.id else b
            if who != "unaccepted":
                await uow.isa.save(
                    IsaAcceptance(
                        panel_id=panel.id,
                        member_id=member.id,
                        version=panel.isa_version,
                        accepted_at=NOW - timedelta(days=100),
                    )
                )
            await uow.conversations.save(
                ConversationRef(
                    panel_id=panel.id,
                    kind=ConversationKind.PERSONAL,
                    conversation_id=f"a:{who}",
                    member_id=member.id,
                    service_url="https://smba.example/",
                    reference={"conversation": {"id": f"a:{who}"}},
                    updated_at=NOW - timedelta(days=100),
                )
            )
        await uow.conversations.save(
            ConversationRef(
                panel_id=a.id,
                kind=ConversationKind.CHANNEL,
                conversation_id=A_CHANNEL,
                service_url="https://smba.example/",
                reference={"conversation": {"id": A_CHANNEL}},
                updated_at=NOW - timedelta(days=100),
            )
        )
        for one in (meeting, other, b_meeting):
            await uow.meetings.save(one)
        for _, record in records:
            repo = {
                "referrals": uow.referrals,
                "cases": uow.cases,
                "actions": uow.actions,
                "information_requests": uow.information_requests,
            }
            await getattr(repo[_], "save")(record)  # noqa: B009
        await uow.meetings.save_agenda_items(items)
        await uow.meetings.save_minutes(minutes)
        await uow.commit()
    await storage.close()
    pristine = path.with_suffix(".pristine")
    shutil.copy(path, pristine)
    return Seeded(path, pristine, open_storage(url), a, b, people, members, ids, markers)


# --- the rule ----------------------------------------------------------------------------------

A_ALL = ("A1-referral", "A1-case", "A2-referral", "A2-case", "A0")
B_ALL = ("B1-referral", "B1-case")


def forbidden(world: Seeded, who: str, where: ConversationKind) -> set[str]:
    """The markers `who` may not see in a chat of this kind."""
    m = world.markers
    if where in SHARED:
        return m.of(*A_ALL, *B_ALL)
    if who in ("coordinator", "chair", "spoc_core", "deputy"):
        return m.of(*B_ALL)
    if who == "spoc_invited":
        return m.of(*B_ALL, "A2-referral", "A2-case")
    if who == "referrer":
        return m.of(*B_ALL, "A1-case", "A2-referral", "A2-case", "A0")
    if who == "b_only":
        return m.of(*A_ALL)
    return m.of(*A_ALL, *B_ALL)


def recipient_forbidden(world: Seeded, member_id: str | None) -> set[str]:
    """What a queued message's recipient may not see (a chat's post: nothing at all)."""
    for who, member in world.members.items():
        if member.id == member_id:
            return forbidden(world, who, ConversationKind.PERSONAL)
    return forbidden(world, "stranger", ConversationKind.CHANNEL)


def where_for(chat: str) -> Where:
    kinds = {
        "personal": (ConversationKind.PERSONAL, "a:personal", None),
        "channel": (ConversationKind.CHANNEL, A_CHANNEL, A_TEAM),
        "group": (ConversationKind.GROUP_CHAT, GROUP_CHAT, None),
        "meeting": (ConversationKind.MEETING, MEETING_CHAT, None),
        "other_meeting": (ConversationKind.MEETING, OTHER_MEETING_CHAT, None),
    }
    kind, conversation, team = kinds[chat]
    return Where(kind=kind, conversation_id=conversation, team_id=team, tenant_id=TENANT)


# --- one request -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str  # "command" or "verb"
    name: str


def calls(router: Router) -> list[Call]:
    return [Call("command", spec.name) for spec in router.commands()] + [
        Call("verb", spec.verb) for spec in router.verb_specs()
    ]


def found(haystack: str, needles: set[str]) -> list[str]:
    lowered = haystack.lower()
    return sorted(n for n in needles if n.lower() in lowered)


async def refusals(world: Seeded) -> int:
    async with world.storage.engine.connect() as conn:
        sql = "SELECT count(*) FROM audit_events WHERE panel_id = :p AND verb = 'refuse'"
        return int((await conn.execute(text(sql), {"p": world.panel_a.id})).scalar_one())


async def outbox_after(world: Seeded, seq: int) -> list[tuple[str | None, str | None, str]]:
    async with world.storage.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT recipient_member_id, conversation_ref_id, payload FROM outbox "
                "WHERE seq > :s"
            ),
            {"s": seq},
        )
        return [(r[0], r[1], str(r[2])) for r in rows]


async def last_seq(world: Seeded) -> int:
    async with world.storage.engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT coalesce(max(seq), 0) FROM outbox"))).scalar_one()
        )


async def restore(world: Seeded) -> None:
    """Put the pristine database back, so one request's changes do not hide the next's."""
    await world.storage.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{world.path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 (test-only)
    shutil.copy(world.pristine, world.path)


async def walk_one(
    world: Seeded,
    router: Router,
    call: Call,
    who: str,
    chat: str,
    ids_of: str,
    card_of: str | None = None,
) -> list[str]:
    """Run one request as the handler does; the problems found (empty when none). A verb
    walked `card_of` a panel ("A", "B" or "made_up") carries that panel as its card's
    (cards.kit.CARD_PANEL), as every card sent to a private chat may."""
    await restore(world)
    deps = make_deps(uow=world.storage.unit_of_work, clock=FixedClock(NOW))
    caller = world.people[who]
    where = where_for(chat)
    resolved = await turns.open_turn(deps, caller, where, {"conversation": {"id": "x"}}, "")
    assert resolved is not None
    request = Request(
        caller=caller,
        where=where,
        panel=resolved.panel,
        member=resolved.member,
        panels=resolved.panels,
    )
    ids = world.ids[ids_of] if ids_of != "none" else None
    seq, refused_before = await last_seq(world), await refusals(world)
    refused = False
    try:
        if call.kind == "command":
            args = ids.case_ref if ids else ""
            reply = await dispatch.run_command(router, request, call.name, args, deps)
        else:
            data: dict[str, Any] = {"verb": call.name, **(ids.data if ids else {})}
            data |= {"answer": "walk", "note": "walk", "reason": "walk", "text": "walk"}
            if card_of is not None:
                panels = {"A": world.panel_a.id, "B": world.panel_b.id}
                data[CARD_PANEL] = panels.get(card_of, "made-up-panel-id")
            reply = await dispatch.run_verb(router, request, call.name, data, deps)
    except DomainError as err:
        refused = isinstance(err, NotAllowed)
        reply = Reply(text=err.message)
    reply = await channel_gate.guard_reply(deps, request, reply)
    said = json.dumps({"text": reply.text, "card": reply.card}, ensure_ascii=False)
    place = f"{call.kind} {call.name} by {who} in {chat} with {ids_of} ids"
    if card_of is not None:
        place += f" on a card of panel {card_of}"
    problems = [
        f"{place}: reply shows {marker}"
        for marker in found(said, forbidden(world, who, where.kind))
    ]
    not_a = who in ("unaccepted", "b_only", "stranger")
    for recipient, conversation, payload in await outbox_after(world, seq):
        banned = recipient_forbidden(world, recipient if conversation is None else "-")
        if not_a:
            banned |= world.markers.of(*A_ALL)
        problems += [f"{place}: queued message shows {marker}" for marker in found(payload, banned)]
    if (
        refused
        and resolved.panel is not None
        and resolved.panel.id == world.panel_a.id
        and await refusals(world) <= refused_before
    ):
        problems.append(f"{place}: refused without a REFUSE row in panel A's audit trail")
    return problems


# --- the tests ---------------------------------------------------------------------------------


def router_under_test() -> Router:
    return build_router()


def test_every_command_and_verb_declares_its_access() -> None:
    """Nothing is registered without an Access; every card verb has a handler."""
    router = router_under_test()
    undeclared = [
        spec.name for spec in router.commands() if not isinstance(spec.access, Access)
    ] + [spec.verb for spec in router.verb_specs() if not isinstance(spec.access, Access)]
    assert undeclared == []
    unregistered = sorted(set(Verb) - set(router.verbs()))
    assert unregistered == []


def test_no_case_detail_answers_in_a_shared_chat() -> None:
    """An act that needs the agreement (case detail) answers only in private, save the
    chair's running of the case in the meeting's own chat: declared for a shared chat, its
    reply is sent to the person in private by construction (dispatch marks it), and the
    acts that must happen in private are refused anywhere else."""
    router = router_under_test()
    specs: list[tuple[str, Access]] = [(s.name, s.access) for s in router.commands()]
    specs += [(s.verb, s.access) for s in router.verb_specs()]
    too_open = []
    for name, access in specs:
        acts = {access.act, *access.sub_acts.values()} - {None}
        for act in acts:
            for kind in access.chats & SHARED:
                if (
                    act in NEEDS_AGREEMENT
                    and act not in MEETING_ACTS
                    and not replies_in_private(act, kind)
                ):
                    too_open.append(f"{name} ({act}) in {kind.value}")
    assert too_open == []


def test_case_detail_is_private_everywhere_but_the_meetings_own_cards() -> None:
    assert replies_in_private(Act.OVERSEE_ACTIONS, ConversationKind.CHANNEL)
    assert replies_in_private(Act.VIEW_CASE_DETAIL, ConversationKind.MEETING)
    assert not replies_in_private(Act.OVERSEE_ACTIONS, ConversationKind.PERSONAL)
    assert not replies_in_private(Act.RUN_MEETING, ConversationKind.MEETING)
    assert not replies_in_private(Act.VIEW_PANEL, ConversationKind.CHANNEL)


CALLERS = (
    "coordinator",
    "chair",
    "spoc_core",
    "deputy",
    "spoc_invited",
    "referrer",
    "unaccepted",
    "b_only",
    "stranger",
)
CHATS = ("personal", "channel", "group", "meeting", "other_meeting")
IDS = ("A1", "A2", "B1", "made_up", "none")


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Seeded, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    seeded = loop.run_until_complete(seed(tmp_path_factory.mktemp("walk") / "walk.sqlite3"))
    yield seeded, loop
    loop.run_until_complete(seeded.storage.close())
    loop.close()


def test_the_seed_plants_markers_that_the_coordinator_can_find(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    """The walk can see a marker: the coordinator opening case A1 in private reads its
    subjects, so the searches below look at what is really shown."""
    seeded, loop = world
    router = router_under_test()
    shown = loop.run_until_complete(
        shown_markers(seeded, router, Call("command", "case"), "coordinator", "A1")
    )
    assert shown, "the coordinator's own case view shows no marker: the walk would see nothing"


async def shown_markers(
    world: Seeded, router: Router, call: Call, who: str, ids_of: str
) -> list[str]:
    """Markers a reply shows to `who` in private (what the walk's searches can catch)."""
    await restore(world)
    deps = make_deps(uow=world.storage.unit_of_work, clock=FixedClock(NOW))
    where = where_for("personal")
    resolved = await turns.open_turn(deps, world.people[who], where, {}, "")
    assert resolved is not None
    request = Request(world.people[who], where, resolved.panel, resolved.member)
    try:
        reply = await dispatch.run_command(
            router, request, call.name, world.ids[ids_of].case_ref, deps
        )
    except DomainError as err:
        reply = Reply(text=err.message)
    said = json.dumps({"text": reply.text, "card": reply.card})
    return found(said, world.markers.of(*A_ALL))


@pytest.mark.filterwarnings("ignore")
def test_no_reply_or_queued_message_shows_what_its_reader_may_not_see(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    """The walk: commands and verbs × callers × chats × ids, sampled by hypothesis."""
    seeded, loop = world
    router = router_under_test()
    everything = calls(router)
    problems: list[str] = []

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.sampled_from(everything),
        st.sampled_from(CALLERS),
        st.sampled_from(CHATS),
        st.sampled_from(IDS),
    )
    def walk(call: Call, who: str, chat: str, ids_of: str) -> None:
        # Collected rather than raised: one run reports every problem it met, not the first.
        problems.extend(loop.run_until_complete(walk_one(seeded, router, call, who, chat, ids_of)))

    walk()
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_command_and_verb_is_walked_by_the_riskiest_callers(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    """Every command and verb, at least: the invited agency's SPOC with the other case's
    ids in private, the coordinator with her own ids in the channel, someone of panel B
    only with panel A's ids in private, and someone of no panel in panel A's channel."""
    seeded, loop = world
    router = router_under_test()
    problems: list[str] = []
    for call in calls(router):
        for who, chat, ids_of in (
            ("spoc_invited", "personal", "A2"),
            ("coordinator", "channel", "A1"),
            ("b_only", "personal", "A1"),
            ("stranger", "channel", "A1"),
            ("unaccepted", "personal", "A2"),
        ):
            problems += loop.run_until_complete(walk_one(seeded, router, call, who, chat, ids_of))
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_verb_on_a_card_of_a_panel_the_caller_is_not_on_shows_nothing_of_it(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    """A card's panel is the client's to forge (bot.kernel.turns.acting_for): every verb,
    clicked in private on a card naming panel B by panel A's people, naming panel A by
    someone of panel B only, or naming no panel at all, shows nothing its reader may not
    see, and each refusal is on panel A's record."""
    seeded, loop = world
    router = router_under_test()
    problems: list[str] = []
    for call in calls(router):
        if call.kind != "verb":
            continue
        for who, ids_of, card_of in (
            ("coordinator", "B1", "B"),
            ("spoc_invited", "A2", "B"),
            ("spoc_core", "A1", "made_up"),
            ("b_only", "A1", "A"),
            ("stranger", "A1", "A"),
        ):
            problems += loop.run_until_complete(
                walk_one(seeded, router, call, who, "personal", ids_of, card_of)
            )
    assert not problems, "\n".join(sorted(set(problems)))


async def refused_on_record(world: Seeded, router: Router, verb: str, card_of: str) -> bool:
    """Whether the coordinator's click of `verb` on a card of `card_of` was refused, on
    panel A's record, before the verb ran."""
    await restore(world)  # walk_one starts from the pristine copy too
    before = await refusals(world)
    await walk_one(world, router, Call("verb", verb), "coordinator", "personal", "A1", card_of)
    async with world.storage.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT detail FROM audit_events WHERE panel_id = :p AND verb = 'refuse' "
                "ORDER BY seq DESC LIMIT 1"
            ),
            {"p": world.panel_a.id},
        )
        detail = str(rows.scalar_one_or_none() or "")
    return await refusals(world) > before and detail.endswith("card of another panel")


def test_a_card_of_another_panel_is_refused_for_every_verb_before_it_runs(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    """Deny by default: whatever the verb, a card naming a panel the caller is not on is
    refused before its handler runs, and recorded. Only the verbs declared to act on the
    caller's own memberships alone run as they came: choosing a panel, and an invitation's
    Join and Decline (the invited are not members of its panel yet). A card of the
    coordinator's own panel is not refused."""
    seeded, loop = world
    router = router_under_test()
    specs = router.verb_specs()
    let_through = {
        spec.verb
        for spec in specs
        if not loop.run_until_complete(refused_on_record(seeded, router, spec.verb, "B"))
    }
    assert let_through == {Verb.PANEL_CHOOSE.value, Verb.PANEL_JOIN.value, Verb.PANEL_DECLINE.value}
    assert let_through == {spec.verb for spec in specs if spec.own_memberships}
    own = Verb.ACTION_UPDATE.value
    assert not loop.run_until_complete(refused_on_record(seeded, router, own, "A"))


def weakened(router: Router, name: str, access: Access) -> Router:
    """The same router with one command's or verb's declaration replaced."""
    copy = Router()
    for spec in router.commands():
        copy.command(replace(spec, access=access) if spec.name == name else spec)
    for verb in router.verb_specs():
        copy.verb(replace(verb, access=access) if verb.verb == name else verb)
    return copy


@pytest.mark.parametrize(
    ("name", "access", "who", "chat", "ids_of"),
    [
        # `case` asking only for a case's summary: another agency's SPOC reads its subjects.
        (
            "case",
            Access(Act.VIEW_CASE_SUMMARY, ANYWHERE, targets=(Target.CASE_IN_ARGS,)),
            "spoc_invited",
            "personal",
            "A2",
        ),
        # `info.open` declared for anyone anywhere: another agency's SPOC reads the request.
        ("info.open", public(), "spoc_invited", "personal", "A2"),
    ],
)
def test_the_walk_fails_when_a_declaration_is_weakened(
    world: tuple[Seeded, asyncio.AbstractEventLoop],
    name: str,
    access: Access,
    who: str,
    chat: str,
    ids_of: str,
) -> None:
    """The suite is not blind: with one declaration weakened, the walk reports it."""
    seeded, loop = world
    router = router_under_test()
    call = next(c for c in calls(router) if c.name == name)
    assert not loop.run_until_complete(walk_one(seeded, router, call, who, chat, ids_of))
    problems = loop.run_until_complete(
        walk_one(seeded, weakened(router, name, access), call, who, chat, ids_of)
    )
    assert problems, f"weakening {name} went unnoticed"
