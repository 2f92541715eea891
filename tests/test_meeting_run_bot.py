"""A panel meeting through the real app: Teams activity JSON in, cards out, on SQLite.

The demo panel on Fri 20 Nov 2026. Priya Raman (coordinator) publishes the agenda in her
private chat; Tom Okafor (chair) starts the meeting in the Teams meeting's chat (a group chat
whose channelData names the meeting), where Gemma Hartley (housing SPOC) acknowledges the
confidentiality statement; Tom walks the agenda, captures an action and
ends the meeting; Priya approves the minutes and the attending SPOCs' link downloads the
Word document.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from docx import Document

from bot.features.meetings import minutes
from bot.settings import Settings
from cards.kit import Card, card_text
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g
from tests.support.activities import (
    GROUP_CHAT,
    MEETING_CHAT,
    group_invoke,
    group_message,
)
from tests.support.world import AAD, PERSONAL

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

SECRET = "bot-test-secret"


SETTINGS = Settings(public_url="https://bot.example.org", ics_signing_secret=SECRET)


@pytest.fixture
def bot_settings() -> Settings:
    """The minutes' links signed with the app's secret (conftest's `bot`)."""
    return SETTINGS


async def click_group(
    bot: BotUnderTest, card: Card, label: str, *, who: str, nth: int = 0, **typed: Any
) -> dict[str, Any]:
    verb, data = cards.press(card, label, nth=nth, **typed)
    return await bot.invoke(group_invoke(bot.service_url, verb, data, who=who))


async def click_personal(bot: BotUnderTest, card: Card, label: str, **typed: Any) -> Card:
    verb, data = cards.press(card, label, **typed)
    body = await bot.invoke(acts.card_invoke(bot.service_url, verb, data, name="Priya Raman"))
    return cards.card(body)


async def test_a_meeting_from_the_published_agenda_to_the_downloaded_minutes(
    bot: BotUnderTest,
) -> None:
    # The bot is added to the team: the panel's channel is the one it was installed in.
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    agenda_card = bot.connector.cards()[-1]
    assert card_text(agenda_card).startswith("Agenda for Tue 8 Dec 2026")
    published = await click_personal(bot, agenda_card, "Publish agenda")
    assert "Published: the team channel has the announcement." in card_text(published)

    # Tom starts the meeting in its chat.
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    confidentiality = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    assert card_text(confidentiality).startswith("Confidentiality statement")

    body = await click_group(bot, confidentiality, "I acknowledge", who="Gemma")
    assert "recorded as attending for Riverside Homes (Housing)" in card_text(cards.card(body))

    chair = cards.card(await click_group(bot, confidentiality, "Open the chair card", who="Tom"))
    assert card_text(chair).startswith("Item 1 of 4: Welcome and confidentiality statement")
    chair = cards.card(await click_group(bot, chair, "Next", who="Tom"))
    chair = cards.card(await click_group(bot, chair, "Next", who="Tom"))
    assert card_text(chair).startswith("Item 3 of 4: CM-2026-014 (new case)")

    housing = await _agency_of(bot, "Gemma")
    verb, data = cards.press(
        chair, "Save action", description="Fit a door camera.", owner_agency_id=housing
    )
    capture = group_invoke(bot.service_url, verb, data, who="Tom", activity_id="capture-1")
    saved = cards.card(await bot.invoke(capture))
    assert "Action added for Riverside Homes (Housing)" in card_text(saved)
    # Teams delivers the same click again, then a co-chair clicks the same card.
    repeated = await bot.invoke(capture)
    assert repeated["value"] == "I have already dealt with that."
    again = cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Priya")))
    assert "already saved from this card" in card_text(again)

    # Two people press Next on the same card at the same moment: one move.
    verb, data = cards.press(saved, "Next")
    both = await asyncio.gather(
        bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")),
        bot.invoke(group_invoke(bot.service_url, verb, data, who="Priya")),
    )
    texts = [card_text(cards.card(b)) for b in both]
    assert all(t.startswith("Item 4 of 4: CM-2026-013 (review)") for t in texts)
    assert sum("moved on" in t for t in texts) == 1

    ended = cards.card(await click_group(bot, cards.card(both[0]), "End the meeting", who="Tom"))
    assert card_text(ended).startswith("Meeting ended")

    # Cards go out: the action to Gemma, the draft minutes to Priya in private.
    await bot.deliver()
    priya_chat = f"a:personal-{acts.PRIYA}"
    draft = bot.connector.to_conversation(priya_chat)[-1]["attachments"][0]["content"]
    # held before its planned day: the minutes are dated on the day it was held
    assert card_text(draft).startswith("Draft minutes: Fri 20 Nov 2026")
    assert "(planned for Tue 8 Dec 2026)" in card_text(draft)
    approved = await click_personal(bot, draft, "Approve minutes")
    assert (
        "Approved. The Word document goes in private chat to Gemma Hartley "
        "(Riverside Homes (Housing))." in card_text(approved)
    )
    url = next(
        a["url"] for a in approved["actions"] if a.get("title") == "Download the minutes (.docx)"
    )
    parts = urlsplit(url)
    response = await bot.client.get(f"{parts.path}?{parts.query}")
    assert response.status == 200
    assert response.headers["Content-Type"] == minutes.DOCX_CONTENT_TYPE
    document = Document(io.BytesIO(await response.read()))
    rows = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["Fit a door camera.", "Riverside Homes (Housing)", "Mon 11 Jan 2027"] in rows
    refused = await bot.client.get(f"{parts.path}?token=forged")
    assert refused.status == 404

    # Nothing personal ever reached the team channel.
    for activity in bot.connector.to_conversation(acts.TEAM):
        text = "\n".join(card_text(a["content"]) for a in activity.get("attachments") or [])
        for name in PERSONAL:
            assert name not in text


async def _agency_of(bot: BotUnderTest, who: str) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        member = await uow.members.by_aad(panel.id, AAD[who])
    assert member is not None and member.agency_id is not None
    return member.agency_id


async def test_start_in_the_group_chat_is_refused_to_a_spoc_plainly(bot: BotUnderTest) -> None:
    await bot.post(group_message(bot.service_url, "start", who="Gemma"))
    (reply,) = bot.connector.to_conversation(GROUP_CHAT)
    assert reply["text"] == "Only the panel's coordinators and chairs can start the panel meeting."
    assert (await g.last_refusal(bot.storage, AAD["Gemma"])).detail == "start_meeting: role"
