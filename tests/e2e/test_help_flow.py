"""A person asks the bot for help in the Agents Playground, as they would in Teams."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from .harness import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_new_user_opens_the_personal_chat_types_help_and_sees_the_command_card(
    chat: Chat,
) -> None:
    # Priya Raman (coordinator) opens the Playground and her personal chat with the bot.
    await chat.open()
    await chat.open_personal_chat()
    await chat.shot("personal-chat-open")

    # She types "help" and presses Enter.
    await chat.send("help")

    # The bot answers with an Adaptive Card (not plain text) that lists its commands.
    card = await chat.wait_for_card("Commands you can use")
    await expect(card).to_contain_text(re.compile(r"\bhelp\b"))
    await chat.shot("help-card")
