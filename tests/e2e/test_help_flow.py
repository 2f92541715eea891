"""People ask the bot for help in the Agents Playground, as they would in Teams.

The bot runs on a fresh SQLite file with the invented demo panel (Riverside Community MARAC);
Sam Whitfield is in the Playground's tenant but on no panel.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_new_user_opens_the_personal_chat_types_help_and_sees_the_command_card(
    chat_as: Callable[[str], Awaitable[Chat]],
) -> None:
    # Sam Whitfield, on no panel yet, opens the Playground and his personal chat with the bot.
    sam = await chat_as("Sam Whitfield")
    await sam.open()
    await sam.open_personal_chat()
    await sam.shot("personal-chat-open")

    # He types "help" and presses Enter.
    await sam.send("help")

    # The bot answers with an Adaptive Card (not plain text) listing only what he may use.
    card = await sam.wait_for_card("Commands you can use")
    await expect(card).to_contain_text(re.compile(r"\bhelp\b"))
    await expect(card).to_contain_text("You are not a member of a panel yet.")
    await sam.shot("help-card")


async def test_the_coordinator_sees_her_panel_and_opens_her_membership_from_a_button(
    chat: Chat,
) -> None:
    # Priya Raman, the demo panel's coordinator, types "/help" with a slash.
    await chat.open()
    await chat.open_personal_chat()
    await chat.send("/help")
    card = await chat.wait_for_card("Commands you can use")
    await expect(card).to_contain_text("Riverside Community MARAC · you are: coordinator")
    await chat.shot("coordinator-help")

    # She clicks "My membership" on the card instead of typing.
    await chat.click_card_button("My membership")
    membership = await chat.wait_for_card("Your membership")
    await expect(membership).to_contain_text("Community Safety (Riverside Council)")
    await expect(membership).to_contain_text("accepted version 2")
    await chat.shot("membership-card")
