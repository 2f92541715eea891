"""Cards as Teams' guidelines want them, in the Agents Playground's real card renderer: a
greeting answered with a short help, at most six buttons in view with the rest under each
row's "…" overflow menu, and a table across the chat's full width.

Priya Raman, the demo panel's coordinator, in her personal chat with the bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import expect

if TYPE_CHECKING:
    from .harness import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def visible_buttons(card: Any) -> list[str]:
    """The names of the buttons a person sees on the card right now."""
    buttons = card.get_by_role("button")
    names = []
    for index in range(await buttons.count()):
        button = buttons.nth(index)
        if await button.is_visible():
            names.append((await button.get_attribute("aria-label")) or await button.inner_text())
    return names


async def test_a_greeting_gets_a_short_help_and_crowded_cards_keep_six_buttons_in_view(
    chat: Chat,
) -> None:
    await chat.open()
    await chat.open_personal_chat()

    # Priya says hello: the bot answers with what she most likely came for, not an error.
    await chat.send("hello")
    hello = await chat.wait_for_card("Hello")
    await expect(hello).to_contain_text("referrals")
    await expect(hello).to_contain_text("Type help to see everything you can do here.")
    await chat.shot("hello-short-help", hello)

    # The schedule has a Move… and a Cancel… for each of six meetings: twelve buttons and
    # two of the card's own. The card's own stay; each meeting's go under its "…".
    await chat.send("schedule")
    schedule = await chat.wait_for_card("Panel meetings")
    # (Add to calendar is a link, not a button, in the Playground.)
    assert await visible_buttons(schedule) == ["More options"] * 6 + ["Urgent meeting…"]
    await chat.shot("schedule-overflow", schedule)

    # Nothing is lost: the first meeting's "…" holds its Move… and Cancel…, and Move…
    # opens the same form as before.
    await schedule.get_by_role("button", name="More options").first.click()
    move = chat.page.get_by_role("menuitem", name="Move…", exact=True)
    await expect(move).to_be_visible()
    await expect(chat.page.get_by_role("menuitem", name="Cancel…", exact=True)).to_be_visible()
    await chat.shot("schedule-overflow-open", schedule)
    await move.click()
    await expect(chat.field(schedule, "New date")).to_be_visible()
    await chat.shot("schedule-move-form", schedule)

    # The caseload is a table: it asks for the chat's full width (the Playground says it
    # cannot show that yet; Teams does).
    await chat.send("cases")
    caseload = await chat.wait_for_card("The caseload")
    await chat.shot("caseload-full-width", caseload)
