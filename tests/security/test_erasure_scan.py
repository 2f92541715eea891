"""Erased means gone: one invented person is put into every place of the personal-data
inventory (storage.inventory) through the bot's own flows, erased through `erase`, and then
every text, JSON, binary and date column of every table is scanned for them, on SQLite and on
PostgreSQL. The schema is read from the database itself, so a new table is scanned too.

The person: Ottoline Fairweather-Quist, born 12 March 1984, of Flat 9, 27 Heronsgate Mews,
RV9 4QX, phone 020 7946 0614, all invented; in the demo panel (bot.demo): Aisha Bello
refers her, Priya Raman accepts, Gemma Hartley (housing) answers and updates the action, Tom
Okafor chairs the meeting.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import JSON, Date, LargeBinary, String, Text, inspect, text

from bot.domain.referral import normalise_name
from cards.kit import Card, card_text
from cards.verbs import Verb
from storage import SqlStorage
from storage.inventory import NO_PERSONAL_DATA, Kind, subject_holdings, unlisted
from storage.sql.models import Base
from tests.support import activities as acts
from tests.support import cards
from tests.support import dataprotection as dp
from tests.support.activities import group_invoke, group_message
from tests.support.world import AAD
from tests.test_intake_service import CONSENT, REVIEW, RISK_SOME

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.kernel.ports import Storage
    from bot.settings import Settings
    from tests.conftest import BotUnderTest

NAME = "Ottoline Fairweather-Quist"
ALIAS = "Lina Quist"
BORN = date(1984, 3, 12)
ADDRESS = "Flat 9, 27 Heronsgate Mews, Riverside"
POSTCODE = "RV9 4QX"
PHONE = "020 7946 0614"
# Everything that would show she is still there, as the app writes it: the name as typed and
# normalised, its parts, the alias, the address, the postcode and phone as typed and compact,
# the date of birth in every form the bot or a person writes it.
NEEDLES = (
    NAME,
    normalise_name(NAME),
    "Ottoline",
    "Fairweather",
    ALIAS,
    ADDRESS,
    "Heronsgate",
    POSTCODE,
    POSTCODE.replace(" ", ""),
    PHONE,
    PHONE.replace(" ", ""),
    "+442079460614",  # as it is stored (E.164)
    "1984-03-12",
    "12/03/1984",
    "12 Mar 1984",
    "12 March 1984",
)
FOUND = re.compile("|".join(re.escape(n) for n in NEEDLES), re.IGNORECASE)
REASON = "Erasure request under UK GDPR Art. 17, letter of 3 Nov 2026"

# Places of the inventory the flows below do not fill for her, and why (the rest must hold
# her before the erasure, or the test would prove nothing about them).
NOT_PLANTED = {
    ("referral_subjects", "language"): "a language is not her name",
    ("referrals", "consent_without_consent_reason"): "she consented",
    ("referrals", "decline_note"): "her referral is accepted",
    ("referrals", "more_info_question"): "no question was asked",
    ("referrals", "children"): "she is not a child",
    ("cases", "closure_note"): "her case is open",
    ("actions", "cancel_reason"): "the action is not cancelled",
    ("agenda_items", "note"): "no deferral note",
    ("subject_access_exports", "postcode"): "she has a date of birth",
}


# Listed ahead of its migration: revision 0010 (waits for 0009) adds it.
PENDING: set[tuple[str, str]] = set()


# ---- the database, read as it is ------------------------------------------------------------


def _scannable(column_type: Any) -> bool:
    return isinstance(column_type, String | Text | JSON | LargeBinary | Date) or (
        type(column_type).__name__ in {"JSONB", "BYTEA", "JSON"}
    )


def _columns(connection: Connection) -> list[tuple[str, str, Any]]:
    """Every (table, column, type) of the schema, as the database reports it."""
    inspector = inspect(connection)
    return [
        (table, column["name"], column["type"])
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
    ]


def _hits(connection: Connection) -> dict[tuple[str, str], list[str]]:
    """Every (table, column) whose values hold one of the needles, with what was found."""
    found: dict[tuple[str, str], list[str]] = {}
    preparer = connection.dialect.identifier_preparer
    for table, column, column_type in _columns(connection):
        if not _scannable(column_type):
            continue
        statement = text(
            f"SELECT {preparer.quote(column)} FROM {preparer.quote(table)}"
            f" WHERE {preparer.quote(column)} IS NOT NULL"
        )
        for (value,) in connection.execute(statement):
            if isinstance(value, date):
                words = value.isoformat()
            elif isinstance(value, bytes | memoryview):
                words = bytes(value).decode("utf-8", "replace")
            elif isinstance(value, dict | list):
                words = json.dumps(value, ensure_ascii=False)
            else:
                words = str(value)
                with contextlib.suppress(ValueError):  # SQLite's JSON text escapes non-ASCII
                    words += json.dumps(json.loads(words), ensure_ascii=False)
            matched = FOUND.findall(words)
            if matched:
                found.setdefault((table, column), []).extend(matched)
    return found


async def scan(storage: Storage) -> dict[tuple[str, str], list[str]]:
    assert isinstance(storage, SqlStorage)
    engine: AsyncEngine = storage.engine
    async with engine.connect() as connection:
        return await connection.run_sync(_hits)


async def text_columns(storage: Storage) -> list[tuple[str, str, int | None]]:
    assert isinstance(storage, SqlStorage)
    async with storage.engine.connect() as connection:
        columns = await connection.run_sync(_columns)
    return [
        (table, column, getattr(kind, "length", None))
        for table, column, kind in columns
        if _scannable(kind) and not isinstance(kind, Date)
    ]


# ---- the backends ---------------------------------------------------------------------------


@pytest.fixture
def bot_storage(database: Storage) -> Storage:
    """conftest's `bot` on SQLite and on PostgreSQL."""
    return database


@pytest.fixture
def bot_settings() -> Settings:
    """With its download links."""
    return dp.settings()


# ---- talking to the bot ---------------------------------------------------------------------


async def say(bot: BotUnderTest, words: str, who: str = "Priya") -> None:
    activity = acts.personal_message(bot.service_url, words, aad=AAD[who], name=who)
    response = await bot.post(activity)
    assert response.status in (200, 201)


async def press_private(
    bot: BotUnderTest, verb: str, data: dict[str, Any], who: str = "Priya"
) -> Card:
    activity = acts.card_invoke(bot.service_url, verb, data, aad=AAD[who], name=who)
    return cards.card(await bot.invoke(activity))


async def press_in_meeting(
    bot: BotUnderTest, card: Card, label: str, who: str, **typed: Any
) -> Card:
    verb, data = cards.press(card, label, **typed)
    body = await bot.invoke(group_invoke(bot.service_url, verb, data, who=who))
    if body["type"] == "application/vnd.microsoft.activity.message":
        # The card now names her: the channel gate sent it to the chair in private.
        await bot.deliver()
        return last_card_to(bot, who)
    return cards.card(body)


def last_card_to(bot: BotUnderTest, who: str) -> Card:
    sent = list(cards_to(bot, who))
    assert sent, f"nothing was sent to {who}"
    return sent[-1]


def cards_to(bot: BotUnderTest, who: str) -> Iterator[Card]:
    for sent in bot.connector.to_conversation(f"a:personal-{AAD[who]}"):
        yield from cards.cards(sent)


async def agency_id(bot: BotUnderTest, name: str) -> str:
    panel = await dp_panel(bot)
    async with bot.storage.unit_of_work() as uow:
        agency = await uow.agencies.by_name(panel, name)
    assert agency is not None
    return agency.id


async def dp_panel(bot: BotUnderTest) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
    assert panel is not None
    return panel.id


SUBJECT = {
    "s1.role": "victim",
    "s1.name": NAME,
    "s1.aliases": ALIAS,
    "s1.dob": BORN.isoformat(),
    "s1.address": ADDRESS,
    "s1.postcode": POSTCODE,
    "s1.phone": PHONE,
    "s1.safe_to_call": "true",
    "s1.vulnerabilities": f"{NAME} is partially sighted",
    "s1.language": "Welsh",
    "s1.interpreter": "false",
}


async def refer(bot: BotUnderTest, *, submit: bool) -> str:
    """Aisha refers Ottoline on the intake card; the reference."""
    await say(bot, "refer new" if not submit else "refer", who="Aisha")
    card = last_card_to(bot, "Aisha")
    referral_id = str(cards.button(card, verb=Verb.REFER_NEXT)["data"]["referral_id"])
    about = {
        "category": "asb_vulnerable",
        "discussed_with": f"Her neighbour at {ADDRESS}",
        "tried_already": f"Mediation; {NAME} moved rooms",
        "meeting_held": "true",
    }
    household = {
        "relationship": f"Youths shout at {NAME} from the stairwell",
        "incidents": "6",
        "incidents_rising": "true",
        "agencies": "",
    }
    steps = [("about", about), ("subjects", SUBJECT)]
    if not submit:
        # A draft left at the subjects step: what was typed is all that holds her.
        await press_private(
            bot,
            Verb.REFER_NEXT.value,
            {"referral_id": referral_id, "step": "about", **about},
            who="Aisha",
        )
        await press_private(
            bot,
            Verb.REFER_SAVE.value,
            {"referral_id": referral_id, "step": "subjects", **SUBJECT},
            who="Aisha",
        )
        return referral_id
    steps += [("household", household), ("consent", CONSENT), ("risk", RISK_SOME)]
    for step, typed in steps:
        card = await press_private(
            bot,
            Verb.REFER_NEXT.value,
            {"referral_id": referral_id, "step": step, **typed},
            who="Aisha",
        )
    review = {**REVIEW, "judgement": "true", "justification": f"{NAME} is at risk at home"}
    card = await press_private(
        bot,
        Verb.REFER_SUBMIT.value,
        {"referral_id": referral_id, "step": "review", **review},
        who="Aisha",
    )
    assert "submitted" in card_text(card), card_text(card)
    return referral_id


async def plant(bot: BotUnderTest) -> str:
    """Put Ottoline everywhere the product keeps people; her case's reference."""
    await bot.post(acts.channel_message(bot.service_url, "help"))  # the bot knows the channel
    for who in ("Priya", "Gemma", "Tom", "Aisha"):
        await say(bot, "whoami", who=who)
    await refer(bot, submit=True)
    await bot.deliver()

    # Priya accepts her referral from its triage card, asking Housing.
    triage = next(c for c in reversed(list(cards_to(bot, "Priya"))) if NAME in card_text(c))
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    outcome = await press_private(
        bot,
        *cards.press(
            triage,
            verb="triage.accept",
            agency_ids=housing,
            info_question=f"What do you know of {NAME} at {ADDRESS}?",
        ),
    )
    case_reference = re.search(r"Accepted as (CM-\d{4}-\d{3})", card_text(outcome))
    assert case_reference, card_text(outcome)
    case = case_reference.group(1)
    await bot.deliver()

    # Gemma answers the information request, naming her.
    request = next(c for c in reversed(list(cards_to(bot, "Gemma"))) if case in card_text(c))
    answer = f"{NAME} has been our tenant at {ADDRESS} since 2019; call {PHONE}"
    await press_private(bot, *cards.press(request, verb="info.answer", answer=answer), "Gemma")

    # The meeting: Priya publishes the agenda with other business about her, Tom chairs.
    await say(bot, "agenda")
    agenda = last_card_to(bot, "Priya")
    other = cards.button(agenda, verb=Verb.AGENDA_ADD_OTHER)
    typed = {"title": f"{NAME}: housing transfer", "minutes": "5"}
    agenda = await press_private(bot, other["verb"], cards.data(other, **typed))
    verb, data = cards.press(agenda, "Publish agenda")
    await press_private(bot, verb, data)
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    statement = bot.connector.to_conversation("19:meeting_NzY4ZGYxMmMtMjQ1Ny00@thread.v2")[-1]
    confidentiality = statement["attachments"][0]["content"]
    await press_in_meeting(bot, confidentiality, "I acknowledge", "Gemma")
    chair = await press_in_meeting(bot, confidentiality, "Open the chair card", "Tom")
    for _ in range(10):
        if card_text(chair).split("\n")[0].find(case) >= 0:
            break
        chair = await press_in_meeting(bot, chair, "Next", "Tom")
    assert case in card_text(chair).split("\n")[0], card_text(chair)
    chair = await press_in_meeting(
        bot,
        chair,
        "Save action",
        "Tom",
        description=f"Visit {NAME} at {ADDRESS} and fit a door camera",
        owner_agency_id=housing,
    )
    chair = await press_in_meeting(
        bot, chair, "Save summary", "Tom", summary=f"{NAME} (born 12 Mar 1984) is frightened"
    )
    for _ in range(10):
        if "End the meeting" in cards.titles(chair):
            break
        chair = await press_in_meeting(bot, chair, "Next", "Tom")
    await press_in_meeting(bot, chair, "End the meeting", "Tom")
    await bot.deliver()

    # Gemma updates the action from its card; the copies' updates wait in the outbox.
    action_card = next(
        c for c in reversed(list(cards_to(bot, "Gemma"))) if "door camera" in card_text(c)
    )
    verb, data = cards.press(
        action_card, "Save update", **{"update-0": f"Phoned {NAME} on {PHONE}"}
    )
    await press_private(bot, verb, data, who="Gemma")

    # Priya approves the minutes; a second referral is left as a draft; Priya searches.
    draft = next(
        c for c in reversed(list(cards_to(bot, "Priya"))) if "Draft minutes" in card_text(c)
    )
    verb, data = cards.press(draft, "Approve minutes")
    await press_private(bot, verb, data)
    await refer(bot, submit=False)
    await say(bot, f"sar {NAME} {BORN.isoformat()}")
    assert card_text(last_card_to(bot, "Priya")).startswith(f"Subject access: {NAME}")
    # Asked in the channel, the case card is queued for Priya's private chat, not yet sent.
    await bot.post(acts.channel_message(bot.service_url, f"case {case}"))
    return case


async def erase(bot: BotUnderTest) -> str:
    await say(bot, f"erase {NAME} {BORN:%d/%m/%Y}")
    preview = last_card_to(bot, "Priya")
    assert card_text(preview).startswith(f"Erase {NAME}'s personal data?"), card_text(preview)
    verb, data = cards.press(preview, "Erase", reason=REASON)
    return card_text(await press_private(bot, verb, data))


# ---- the tests ------------------------------------------------------------------------------


async def test_after_erasure_no_column_of_any_table_holds_her(bot: BotUnderTest) -> None:
    await plant(bot)
    before = await scan(bot.storage)
    expected = {
        (h.table, h.column) for h in subject_holdings() if (h.table, h.column) not in NOT_PLANTED
    }
    assert expected - set(before) == set(), "the flows did not put her everywhere"
    erased = await erase(bot)
    assert "Personal data erased" in erased, erased
    after = await scan(bot.storage)
    assert after == {}, f"still there after erasure: {after}"


async def test_every_text_column_is_in_the_inventory_or_declared_free_of_personal_data(
    database: Storage,
) -> None:
    columns = await text_columns(database)
    assert unlisted(columns) == [], (
        "add these columns to storage/inventory.py (INVENTORY, or NO_PERSONAL_DATA with why)"
    )
    assert len(columns) > 50  # the whole schema was read


def test_the_inventory_names_only_columns_that_exist() -> None:
    from storage.inventory import INVENTORY

    tables = Base.metadata.tables
    for table, column in [(h.table, h.column) for h in INVENTORY] + list(NO_PERSONAL_DATA):
        if table == "alembic_version" or (table, column) in PENDING:
            continue
        assert table in tables and column in tables[table].c, (table, column)
    assert {h.kind for h in subject_holdings()} >= {Kind.IDENTITY, Kind.CONTACT, Kind.COPY}
