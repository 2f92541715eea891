"""The agenda card is kept while nothing it is built from changes (bot.features.meetings.agenda's
AgendaCards, keyed by the panel's data version): kept cards answer again without reading the
panel's cases, and every change shows at once, made in this process or in another one on the
same database, as does the end of a meeting.

The demo panel on SQLite on Fri 20 Nov 2026 (tests/conftest.py); the next meeting is
Tue 8 Dec 2026, the one after it Tue 12 Jan 2027.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from cards.kit import Card, card_text
from storage import SqlStorage, open_storage
from tests.conftest import BotUnderTest, Connector, start_bot
from tests.support import activities as acts
from tests.support import cards
from tests.support.world import demo_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage

GEMMA = ("3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03", "Gemma Hartley")


@contextmanager
def statements_of(storage: Storage) -> Iterator[list[str]]:
    """The SQL statements the storage's engine runs inside the block."""
    assert isinstance(storage, SqlStorage)
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = storage.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def agenda_of(bot: BotUnderTest, *, spoc: bool = False) -> Card:
    """Type `agenda` in a personal chat (Priya's, or Gemma's, a SPOC); the card it shows."""
    who = {"aad": GEMMA[0], "name": GEMMA[1]} if spoc else {}
    response = await bot.post(acts.personal_message(bot.service_url, "agenda", **who))
    assert response.status in (200, 201)
    card: Card = bot.connector.cards()[-1]
    return card


@pytest.fixture
async def other_process(
    bot: BotUnderTest, connector: Connector, clock: FixedClock
) -> AsyncIterator[BotUnderTest]:
    """A second bot on the same SQLite file, as a second worker or a restarted one would be:
    an engine, a router and kept cards of its own."""
    assert isinstance(bot.storage, SqlStorage)
    url = bot.storage.engine.url.render_as_string(hide_password=False)
    storage = open_storage(url)
    other = await start_bot(storage, connector, clock)
    yield other
    await other.client.close()
    await storage.close()


async def test_a_kept_agenda_answers_again_without_reading_the_cases(bot: BotUnderTest) -> None:
    # Gemma's first turn keeps her conversation; the agenda is built at her second.
    await bot.post(acts.personal_message(bot.service_url, "help", aad=GEMMA[0], name=GEMMA[1]))
    with statements_of(bot.storage) as built:
        first = await agenda_of(bot, spoc=True)
    with statements_of(bot.storage) as kept:
        again = await agenda_of(bot, spoc=True)
    assert again == first
    assert card_text(first).startswith("Agenda for Tue 8 Dec 2026")
    assert any("FROM cases" in s for s in built)
    assert not any("FROM cases" in s or "FROM agenda_items" in s for s in kept)
    assert len(kept) < len(built)


async def test_a_change_made_by_another_process_shows_at_once(
    bot: BotUnderTest, other_process: BotUnderTest
) -> None:
    before_spoc = await agenda_of(bot, spoc=True)
    before_coordinator = await agenda_of(bot)
    assert "Quarterly figures" not in card_text(before_spoc)

    # Priya adds any other business through the other process.
    card = await agenda_of(other_process)
    verb, data = cards.press(card, "Add the item", title="Quarterly figures", minutes="10")
    added = cards.card(
        await other_process.invoke(acts.card_invoke(other_process.service_url, verb, data))
    )
    assert "Quarterly figures" in card_text(added)

    assert "Quarterly figures" in card_text(await agenda_of(bot, spoc=True))
    assert "Quarterly figures" in card_text(await agenda_of(bot))
    assert card_text(before_coordinator) != card_text(await agenda_of(bot))


async def test_the_coordinators_controls_are_kept_for_the_coordinator_alone(
    bot: BotUnderTest,
) -> None:
    coordinator = await agenda_of(bot)
    member = await agenda_of(bot, spoc=True)
    assert "Publish agenda" in str(coordinator)
    assert "Publish agenda" not in str(member)
    assert await agenda_of(bot) == coordinator
    assert await agenda_of(bot, spoc=True) == member


async def test_a_kept_card_ends_with_its_meeting() -> None:
    world = await demo_world()
    before = await world.command("Gemma", "agenda")
    assert card_text(before.card).startswith("Agenda for Tue 8 Dec 2026")
    world.clock.advance(datetime(2026, 12, 8, 12, 0, tzinfo=UTC))  # the meeting ends
    after = await world.command("Gemma", "agenda")
    assert card_text(after.card).startswith("Agenda for Tue 12 Jan 2027")


async def test_a_shown_card_cannot_be_changed_so_the_kept_one_stays_as_built() -> None:
    world = await demo_world()
    shown = await world.command("Gemma", "agenda")
    assert shown.card is not None
    text = card_text(shown.card)
    with pytest.raises(TypeError):
        shown.card["body"].clear()
    with pytest.raises(TypeError):
        shown.card["body"][0]["text"] = "Changed"
    again = await world.command("Gemma", "agenda")
    assert again.card is shown.card  # the kept card itself: nothing parsed or copied
    assert card_text(again.card) == text
