"""Minutes signed off by the coordinator and the chair, through the real app (issue 15,
item 8): MINUTES_SIGNOFF=both in the settings create_app is given; Teams activity JSON in,
cards out through the fake Bot Connector.

Tom Okafor chairs the meeting in its chat and Gemma Hartley attends; the coordinator signs
the draft she receives, the chair gets it in his private chat, signs, and the approved
minutes reach Gemma; Tom's own card has the link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from bot.settings import Settings
from cards.kit import Card, card_text
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.world import AAD

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest


SETTINGS = Settings(
    public_url="https://bot.example.org",
    ics_signing_secret="signoff-bot-test-secret",
    minutes_signoff="both",
)


@pytest.fixture
def bot_settings() -> Settings:
    """The chair and the coordinator both sign (conftest's `bot`)."""
    return SETTINGS


async def in_meeting(bot: BotUnderTest, card: Card, label: str, who: str) -> Card:
    verb, data = cards.press(card, label)
    return cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who=who)))


async def in_private(bot: BotUnderTest, card: Card, label: str, who: str) -> Card:
    verb, data = cards.press(card, label)
    person = next(name for name in AAD if name.startswith(who) and " " in name)
    body = await bot.invoke(
        acts.card_invoke(bot.service_url, verb, data, aad=AAD[who], name=person)
    )
    return cards.card(body)


def last_card_in(bot: BotUnderTest, who: str) -> dict[str, Any]:
    """The last Adaptive Card sent to `who` (the Word file follows the minutes' card as a
    file consent card: tests/test_minutes_file_bot.py)."""
    sent = bot.connector.to_conversation(f"a:personal-{AAD[who]}")
    found = [
        a["content"]
        for activity in sent
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]
    return found[-1]  # type: ignore[no-any-return]


async def test_the_coordinator_signs_the_chair_signs_and_the_attendees_get_them(
    bot: BotUnderTest,
) -> None:
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    for who in ("Priya Raman", "Tom Okafor", "Gemma Hartley"):  # each has a private chat
        await bot.post(acts.personal_message(bot.service_url, "whoami", aad=AAD[who], name=who))
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    statement = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    await in_meeting(bot, statement, "I acknowledge", "Gemma")
    await in_meeting(bot, statement, "Open the chair card", "Tom")
    await bot.post(group_message(bot.service_url, "end", who="Tom", meeting=True))
    ended = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    assert card_text(ended).startswith("Meeting ended")

    await bot.deliver()
    draft = last_card_in(bot, "Priya")
    assert card_text(draft).startswith("Draft minutes: Fri 20 Nov 2026")
    signed = await in_private(bot, draft, "Approve minutes", "Priya")
    assert "Signed off. Waiting for the chair: sent to Tom Okafor in private chat." in card_text(
        signed
    )

    await bot.deliver()
    for_tom = last_card_in(bot, "Tom")
    assert "Priya Raman (coordinator), Fri 20 Nov 2026" in card_text(for_tom)
    assert "Edit summary" not in card_text(for_tom)
    approved = await in_private(bot, for_tom, "Sign off the minutes", "Tom")
    text = card_text(approved)
    assert "Approved. The Word document goes in private chat to Gemma Hartley" in text
    assert "Tom Okafor (chair), Fri 20 Nov 2026" in text
    url = next(
        a["url"] for a in approved["actions"] if a.get("title") == "Download the minutes (.docx)"
    )
    parts = urlsplit(url)
    assert (await bot.client.get(f"{parts.path}?{parts.query}")).status == 200

    await bot.deliver()
    ready = last_card_in(bot, "Gemma")
    assert "Signed off by" in card_text(ready)
    assert "Priya Raman (coordinator) and Tom Okafor (chair)" in card_text(ready)
