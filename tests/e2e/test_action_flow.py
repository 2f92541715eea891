"""A SPOC answers her agency's action card in the Playground, and the card changes in place.

Gemma Hartley (Housing's SPOC) types `actions`: the card lists Housing's open action on
CM-…-013 from the demo panel ("Visit Mrs Ellison and fit a door camera"). She adds an
update, then marks it done with a note; each time the card she clicked shows the action's
new state in place (an Action.Execute answer), with no new message. `actions` afterwards no
longer lists it. Every person in it is invented.

The scenario closes the demo's Housing action, which the meeting scenario needs open, so it
runs against a bot and Playground of its own (a fresh demo panel), not the session's. The
app serves the actions feature like every other (bot.features.FEATURES).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

from . import harness
from .harness import BotServer, Chat, PlaygroundPool, Shots

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

HOUSING = "Riverside Homes (Housing)"
LIST_TITLE = f"Open actions of {HOUSING}"
ACTION = "Visit Mrs Ellison and fit a door camera"
UPDATE = "Camera fitted on the front door; the tenant has the app on her phone."
NOTE = "Camera working and recording. Tenancy warning served on the neighbour."


@pytest.fixture(scope="module")
def own_bot(e2e_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    """A bot on a fresh SQLite file with the demo panel, for this module only."""
    try:
        bot = harness.start_bot(tmp_path_factory.mktemp("action-flow-bot"))
    except harness.HarnessError as exc:
        pytest.fail(f"could not start the bot: {exc}", pytrace=False)
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def own_playgrounds(
    own_bot: BotServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlaygroundPool]:
    """Playgrounds talking to this module's bot."""
    pool = PlaygroundPool(own_bot.messages_url, tmp_path_factory.mktemp("action-flow-pg"))
    yield pool
    pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def person(
    own_playgrounds: PlaygroundPool, pages: Callable[[], Awaitable[Any]], shots: Shots
) -> Callable[[str], Awaitable[Chat]]:
    """`await person("Gemma Hartley")`: that person at this module's Playground."""

    async def open_as(name: str) -> Chat:
        return Chat(await pages(), own_playgrounds.get(name), shots)

    return open_as


async def test_a_spoc_updates_her_action_then_marks_it_done_and_the_card_keeps_up(
    person: Callable[[str], Awaitable[Chat]],
) -> None:
    # 1. Gemma opens her personal chat with the bot and asks for her agency's actions.
    gemma = await person("Gemma Hartley")
    await gemma.open()
    await gemma.open_personal_chat()
    await gemma.send("actions")
    card = await gemma.wait_for_card(LIST_TITLE)
    await expect(card).to_contain_text(ACTION)
    reference = re.search(r"CM-\d{4}-013", await card.inner_text())
    assert reference is not None, "the demo's Housing action is on CM-…-013"
    case = reference.group(0)
    await expect(card).to_contain_text("due in")
    await expect(card).to_contain_text("Camera ordered; fitting booked.")  # the latest update
    await gemma.shot("housing-actions", card)

    # 2. She adds an update: the same card now shows it, and says it was saved.
    await gemma.click_card_button("Add an update", card)
    await gemma.fill(card, "Update", UPDATE)
    await gemma.shot("writing-an-update", card)
    await gemma.click_card_button("Save update", card)
    await gemma.wait_for_text(f"{case}: Update saved.", card=card)
    await expect(card).to_contain_text(f"Gemma Hartley: {UPDATE}")
    await expect(card).to_contain_text(ACTION)  # still open
    await gemma.shot("update-saved-in-place", card)

    # 3. She marks it done with a note: the card says so, and the action leaves the list.
    await gemma.click_card_button("Done", card)
    await gemma.fill(card, "Note on what was done", NOTE)
    await gemma.shot("marking-it-done", card)
    await gemma.click_card_button("Mark done", card)
    await gemma.wait_for_text(f"{case}: Marked done. Thank you.", card=card)
    await expect(card).to_contain_text(re.compile(r"Done on \w{3} \d{1,2} \w{3} \d{4}"))
    await expect(card).to_contain_text(f"Gemma Hartley: {NOTE}")
    await expect(card.get_by_role("button", name="Mark done", exact=True)).to_have_count(0)
    await gemma.shot("done-in-place", card)

    # 4. `actions` reflects it: the action is no longer open.
    await gemma.send("actions")
    again = await gemma.wait_for_card(LIST_TITLE)
    await expect(again).not_to_contain_text(ACTION)
    await expect(again).to_contain_text(
        re.compile(
            rf"{re.escape(HOUSING)} has no open actions|"
            r"Only your agency's SPOC"
        )
    )
    await gemma.shot("actions-afterwards", again)
