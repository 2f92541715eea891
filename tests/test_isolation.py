"""Isolation: a member of one panel never sees or changes another panel's records, whatever
ids they send.

Two panels share one database: the demo panel (Riverside, "panel A") and Westbrook
("panel B"), invented here with its own team, tenant, members, agencies and records. Priya,
A's coordinator, opens every card she can reach (agenda, referrals and their triage cards,
members, agencies, schedule, case and audit views, the information sharing agreement), and
the buttons on them are collected: real payloads carrying A's ids. Then B's coordinator, chair,
SPOC and referrer press every one of those buttons, call every registered verb with A's ids
in every id field, and type every command with A's references and ids, in private chat and in
B's meeting chat. No reply may name anything of A's (unless the person typed it themselves),
and not one of A's rows may change.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.app import build_router
from bot.bench.connector import ConnectorLimits
from bot.domain.action import Action, InformationRequest
from bot.domain.case import Case
from bot.domain.meeting import Meeting
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.domain.referral import Consent, Criteria, Referral, ReferralStatus, Subject, SubjectRole
from bot.domain.risk import RiskLevel
from storage import SqlStorage
from tests.support import activities as acts
from tests.support import cards
from tests.support.world import Connector, connecting

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from bot.domain.common import Clock
    from bot.kernel.ports import Storage
    from cards.kit import Card
    from tests.conftest import BotUnderTest

ZONE = ZoneInfo("Europe/London")
B_TENANT = "1c7e0d54-8a3b-4f2e-9d61-3b5a7c9e0f12"  # invented
B_TEAM = "19:westbrook-cmarac@thread.tacv2"
B_MEETING_CHAT = "19:meeting_V2VzdGJyb29rLW1lZXRpbmc@thread.v2"
B_PEOPLE = {
    "Morgan Vale": ("7b0f3c2a-5d1e-4a6b-9c8d-1e2f3a4b5c01", frozenset({Role.COORDINATOR})),
    "Idris Kane": ("7b0f3c2a-5d1e-4a6b-9c8d-1e2f3a4b5c02", frozenset({Role.CHAIR, Role.SPOC})),
    "Nell Sorensen": ("7b0f3c2a-5d1e-4a6b-9c8d-1e2f3a4b5c03", frozenset({Role.SPOC})),
    "Ravi Mistry": ("7b0f3c2a-5d1e-4a6b-9c8d-1e2f3a4b5c04", frozenset({Role.REFERRER})),
}
ID_FIELDS = {
    "meeting_id": "meeting",
    "review_meeting_id": "meeting",
    "referral_id": "referral",
    "case_id": "case",
    "action_id": "action",
    "request_id": "request",
    "item_id": "item",
    "member_id": "member",
    "agency_id": "agency",
    "owner_agency_id": "agency",
    "lead_agency_id": "agency",
    "aad_object_id": "aad",
}
_ids = itertools.count(1)


@dataclass(frozen=True)
class SecondPanel:
    """Panel B: what tests need to act as its people."""

    panel: Panel
    members: dict[str, Member]


async def seed_second_panel(storage: Storage, clock: Clock) -> SecondPanel:
    """Westbrook Community MARAC: an invented second panel with a referral, a case, an
    action, an information request and the next meetings."""
    now = clock.now()
    panel = Panel(
        name="Westbrook Community MARAC",
        team_id=B_TEAM,
        tenant_id=B_TENANT,
        case_prefix="WB",
        isa_version="1",
        isa_text="Westbrook's invented information sharing agreement.",
        created_at=now - timedelta(days=200),
    )
    agencies = [
        Agency(panel_id=panel.id, name="Westbrook Constabulary"),
        Agency(panel_id=panel.id, name="Westbrook Housing Trust"),
        Agency(panel_id=panel.id, name="Westbrook Adult Services", kind=AgencyKind.INVITED),
    ]
    members = {
        name: Member(
            panel_id=panel.id,
            aad_object_id=aad,
            name=name,
            agency_id=agencies[n % 2].id,
            roles=roles,
        )
        for n, (name, (aad, roles)) in enumerate(B_PEOPLE.items())
    }
    today = now.astimezone(ZONE).date()
    meetings = []
    for offset in (0, 1, 2):
        first = date(
            today.year + (today.month - 1 + offset) // 12, (today.month - 1 + offset) % 12 + 1, 1
        )
        day = first + timedelta(days=(1 - first.weekday()) % 7 + 7)
        starts = datetime.combine(day, time(14, 0), ZONE)
        if starts > now:
            meetings.append(
                Meeting(
                    panel_id=panel.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    referral_deadline=starts - timedelta(days=8),
                )
            )
    ravi = members["Ravi Mistry"]
    referral = Referral(
        panel_id=panel.id,
        reference=f"RF-{today.year}-0301",
        referrer_member_id=ravi.id,
        referring_agency_id=ravi.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[Subject(role=SubjectRole.VICTIM, name="Hollis Brandt", postcode="WB1 2XY")],
        incidents_last_12_months=2,
        consent=Consent(aware=True, consented=True),
        criteria=Criteria(potential_escalation=True),
        created_at=now - timedelta(days=3),
        submitted_at=now - timedelta(days=3),
    )
    case = Case(
        panel_id=panel.id,
        reference=panel.case_reference(today.year, 1),
        risk_level=RiskLevel.MEDIUM,
        opened_at=now - timedelta(days=20),
    )
    action = Action(
        panel_id=panel.id,
        case_id=case.id,
        owner_agency_id=agencies[1].id,
        description="Install a key safe for the tenant.",
        due_on=today + timedelta(days=10),
        created_at=now - timedelta(days=19),
    )
    request = InformationRequest(
        panel_id=panel.id,
        case_id=case.id,
        agency_id=agencies[0].id,
        meeting_id=meetings[0].id,
        question="Any call-outs to the address this year?",
        due_at=meetings[0].referral_deadline,
    )
    async with storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        for agency in agencies:
            await uow.agencies.save(agency)
        for member in members.values():
            await uow.members.save(member)
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version="1",
                    accepted_at=now - timedelta(days=30),
                )
            )
        for meeting in meetings:
            await uow.meetings.save(meeting)
        await uow.referrals.save(referral)
        await uow.cases.save(case)
        await uow.actions.save(action)
        await uow.information_requests.save(request)
        await uow.commit()
    return SecondPanel(panel, members)


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    """conftest's `bot` replies to a fake connector that enforces no rate limit (hundreds of
    replies go out in seconds here)."""
    async with connecting(ConnectorLimits(enforce=False)) as unlimited:
        yield unlimited


# --- what panel A holds ------------------------------------------------------------------


async def panel_tables(storage: SqlStorage) -> list[str]:
    """The tables that carry a panel_id column."""
    async with storage.engine.connect() as conn:
        tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        names = (await conn.execute(text(tables))).scalars().all()
        scoped = []
        for name in names:
            columns = (await conn.execute(text(f'PRAGMA table_info("{name}")'))).all()
            if any(column[1] == "panel_id" for column in columns):
                scoped.append(name)
    return sorted(scoped)


async def panel_digest(storage: SqlStorage, panel_id: str) -> dict[str, str]:
    """A digest of every row of the panel, table by table (and of the panel itself)."""
    found: dict[str, str] = {}
    async with storage.engine.connect() as conn:
        for table in [*await panel_tables(storage), "panels"]:
            column = "id" if table == "panels" else "panel_id"
            rows = (
                await conn.execute(
                    text(f'SELECT * FROM "{table}" WHERE {column} = :p'), {"p": panel_id}
                )
            ).all()
            payload = json.dumps(sorted(repr(tuple(row)) for row in rows))
            found[table] = hashlib.sha256(payload.encode()).hexdigest()
    return found


async def panel_ids(storage: SqlStorage, panel_id: str) -> dict[str, list[str]]:
    """The panel's record ids, by kind."""
    queries = {
        "meeting": "SELECT id FROM meetings WHERE panel_id = :p",
        "referral": "SELECT id FROM referrals WHERE panel_id = :p",
        "case": "SELECT id FROM cases WHERE panel_id = :p",
        "action": "SELECT id FROM actions WHERE panel_id = :p",
        "request": "SELECT id FROM information_requests WHERE panel_id = :p",
        "item": "SELECT id FROM agenda_items WHERE panel_id = :p",
        "member": "SELECT id FROM members WHERE panel_id = :p",
        "agency": "SELECT id FROM agencies WHERE panel_id = :p",
        "aad": "SELECT aad_object_id FROM members WHERE panel_id = :p",
    }
    async with storage.engine.connect() as conn:
        return {
            kind: list((await conn.execute(text(sql), {"p": panel_id})).scalars().all())
            for kind, sql in queries.items()
        }


async def panel_words(storage: SqlStorage, panel_id: str) -> set[str]:
    """What would give panel A away in a reply: its name, references, people, agencies,
    subjects, actions and questions."""
    queries = [
        "SELECT name FROM panels WHERE id = :p",
        "SELECT reference FROM cases WHERE panel_id = :p",
        "SELECT reference FROM referrals WHERE panel_id = :p",
        "SELECT name FROM referral_subjects WHERE panel_id = :p",
        "SELECT name FROM members WHERE panel_id = :p",
        "SELECT name FROM agencies WHERE panel_id = :p",
        "SELECT description FROM actions WHERE panel_id = :p",
        "SELECT question FROM information_requests WHERE panel_id = :p",
    ]
    words: set[str] = set()
    async with storage.engine.connect() as conn:
        for sql in queries:
            words.update(str(v) for v in (await conn.execute(text(sql), {"p": panel_id})).scalars())
    return {w for w in words if len(w) >= 5}


# --- talking to the bot --------------------------------------------------------------------


def meeting_chat_message(service_url: str, text_: str, aad: str, name: str) -> dict[str, Any]:
    """A message in panel B's meeting chat (a group chat whose channelData names a meeting)."""
    return {
        "id": f"iso-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:{aad}", "aadObjectId": aad, "name": name},
        "recipient": {"id": acts.BOT_ID, "name": "Community MARAC"},
        "conversation": {
            "id": B_MEETING_CHAT,
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": B_TENANT,
        },
        "channelData": {"tenant": {"id": B_TENANT}, "meeting": {"id": "MCMjV2VzdGJyb29r"}},
        "type": "message",
        "text": text_,
    }


def as_invoke(activity: dict[str, Any], verb: str, data: dict[str, Any]) -> dict[str, Any]:
    clicked = {k: v for k, v in activity.items() if k != "text"}
    clicked.update(
        {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
    )
    return clicked


def personal(service_url: str, text_: str, aad: str, name: str) -> dict[str, Any]:
    activity = acts.personal_message(
        service_url, text_, aad=aad, name=name, activity_id=f"iso-{next(_ids)}"
    )
    activity["conversation"]["tenantId"] = B_TENANT if aad in _B_AADS else acts.TENANT
    activity["channelData"] = {"tenant": {"id": activity["conversation"]["tenantId"]}}
    return activity


_B_AADS = {aad for aad, _ in B_PEOPLE.values()}


async def reply_texts(bot: BotUnderTest, activity: dict[str, Any]) -> tuple[int, list[str]]:
    """Post an activity; its HTTP status and everything the bot said back (the invoke
    response, and whatever reached the connector)."""
    before = len(bot.connector.sent)
    response = await bot.post(activity)
    said: list[str] = []
    if response.content_type == "application/json":
        said.append(json.dumps(await response.json(), ensure_ascii=False))
    said += [json.dumps(a, ensure_ascii=False) for a in bot.connector.sent[before:]]
    return response.status, said


def buttons(card: Card) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Action.Execute on a card, as Teams would send it clicked (inputs included)."""
    for found in cards.buttons(card):
        verb = cards.verb_of(found)
        if isinstance(verb, str):
            yield verb, {**cards.values(card), **cards.data(found)}


async def harvest_cards(bot: BotUnderTest) -> list[tuple[str, dict[str, Any]]]:
    """Priya opens what she can in panel A; the buttons she could press, deduplicated."""
    reached: list[Card] = []

    async def say(text_: str) -> None:
        _, said = await reply_texts(bot, acts.personal_message(bot.service_url, text_))
        for message in said:
            for attachment in json.loads(message).get("attachments") or []:
                reached.append(attachment["content"])

    for command in (
        "agenda",
        "referrals",
        "members",
        "agencies",
        "schedule",
        "isa",
        "case CM-2026-013",
        "case CM-2026-014",
        "audit CM-2026-013",
        "whoami",
        "help",
    ):
        await say(command)
    # Open each triage card from the referrals list (a click, answered in place).
    opened: list[Card] = []
    for verb, data in [b for card in reached for b in buttons(card)]:
        if verb.startswith(("command", "info.open", "members.edit")):
            activity = acts.card_invoke(
                bot.service_url, verb, data, activity_id=f"iso-{next(_ids)}"
            )
            response = await bot.post(activity)
            body = await response.json()
            if isinstance(body, dict) and isinstance(body.get("value"), dict):
                opened.append(body["value"])
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for card in [*reached, *opened]:
        for verb, data in buttons(card):
            seen.setdefault(json.dumps([verb, data], sort_keys=True), (verb, data))
    return list(seen.values())


# The demo's references double as the examples in the bot's own help, usage hints and
# placeholders ("refer RF-2026-0049", "case CM-2026-014"): as words they give nothing away,
# so A is recognised by its other references and by its names instead.
EXAMPLES = {"CM-2026-014", "RF-2026-0049"}


def leaked(said: list[str], words: set[str], request: dict[str, Any]) -> set[str]:
    """Panel A's words in a reply that the person did not type themselves."""
    typed = json.dumps(request, ensure_ascii=False)
    return {w for w in words - EXAMPLES if w not in typed and any(w in r for r in said)}


# --- the test ------------------------------------------------------------------------------


async def test_a_member_of_another_panel_gets_nothing_of_panel_a_whatever_ids_they_send(
    bot: BotUnderTest, clock: Any
) -> None:
    storage = bot.storage
    assert isinstance(storage, SqlStorage)
    second = await seed_second_panel(storage, clock)
    async with storage.unit_of_work() as uow:
        riverside = await uow.panels.by_team(acts.TEAM)
    assert riverside is not None
    # A's channel is known and Priya's chat too, so A has conversations to leak.
    await bot.post(acts.channel_message(bot.service_url, "help"))
    pressed_in_a = await harvest_cards(bot)
    assert len(pressed_in_a) >= 15, pressed_in_a
    a_ids = await panel_ids(storage, riverside.id)
    a_words = await panel_words(storage, riverside.id)
    assert {"CM-2026-013", "Margaret Ellison", "Priya Raman"} <= a_words
    before = await panel_digest(storage, riverside.id)

    router = build_router()
    verbs = router.verbs()
    commands = [spec.name for spec in router.commands()]
    references = sorted(w for w in a_words if w[:3] in ("CM-", "RF-"))

    requests: list[dict[str, Any]] = []
    for name, (aad, roles) in B_PEOPLE.items():
        places = [lambda t, aad=aad, name=name: personal(bot.service_url, t, aad, name)]
        if roles & {Role.CHAIR, Role.COORDINATOR}:
            places.append(
                lambda t, aad=aad, name=name: meeting_chat_message(bot.service_url, t, aad, name)
            )
        for where in places:
            # Every button Priya could press in panel A, pressed by B's people.
            for verb, data in pressed_in_a:
                requests.append(as_invoke(where(""), verb, data))
            # Every verb, with A's ids in every id field.
            for n, verb in enumerate(verbs):
                data: dict[str, Any] = {
                    field: a_ids[kind][n % len(a_ids[kind])]
                    for field, kind in ID_FIELDS.items()
                    if a_ids[kind]
                }
                data["agency_ids"] = a_ids["agency"][:2]
                data["command"] = "case CM-2026-013"
                requests.append(as_invoke(where(""), verb, data))
            requests.append(where("chair"))
            requests.append(where("start"))
        # Every command, with A's references and ids.
        some_ids = [a_ids["case"][0], a_ids["meeting"][0]]
        for command in commands:
            for argument in ["", *references, *some_ids]:
                requests.append(
                    personal(bot.service_url, f"{command} {argument}".strip(), aad, name)
                )

    answers = [(request, *await reply_texts(bot, request)) for request in requests]
    # Referral references are numbered per panel, so B's own new drafts may share one with A.
    a_only = a_words - await panel_words(storage, second.panel.id)
    problems: list[str] = []
    for request, status, said in answers:
        if status >= 500:
            problems.append(f"HTTP {status} for {json.dumps(request)[:300]}")
        found = leaked(said, a_only, request)
        if found:
            what = request.get("value") or request.get("text")
            problems.append(f"leaked {sorted(found)} for {json.dumps(what)[:300]}: {said}")
    assert not problems, "\n".join(problems[:20])
    assert len(requests) > 400
    assert await panel_digest(storage, riverside.id) == before
