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
import itertools
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
from tests.support.world import AAD, PERSONAL

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

GROUP_CHAT = "19:riverside-group-chat@thread.v2"
MEETING_CHAT = "19:meeting_NzY4ZGYxMmMtMjQ1Ny00@thread.v2"
TEAMS_MEETING = "MCMjMjg6Y29tbXVuaXR5LW1hcmFj"
SECRET = "bot-test-secret"
_ids = itertools.count(1)


def group_message(
    service_url: str, text: str, *, who: str, meeting: bool = False
) -> dict[str, Any]:
    """A message that mentions the bot in the Playground's group chat (no team there), or
    in a Teams meeting's chat (a group chat whose channelData names the meeting)."""
    channel_data: dict[str, Any] = {"tenant": {"id": acts.TENANT}}
    if meeting:
        channel_data["meeting"] = {"id": TEAMS_MEETING}
    return {
        "id": f"group-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-20T10:00:00.000Z",
        "from": {"id": f"29:{AAD[who]}", "aadObjectId": AAD[who], "name": who},
        "recipient": {"id": acts.BOT_ID, "name": "Community MARAC"},
        "conversation": {
            "id": MEETING_CHAT if meeting else GROUP_CHAT,
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": acts.TENANT,
        },
        "channelData": channel_data,
        "locale": "en-GB",
        "type": "message",
        "text": f"<at>Community MARAC</at> {text}",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Community MARAC</at>",
                "mentioned": {"id": acts.BOT_ID, "name": "Community MARAC"},
            }
        ],
    }


def group_invoke(
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    who: str,
    activity_id: str | None = None,
    meeting: bool = True,
) -> dict[str, Any]:
    """An Action.Execute click on a card in the meeting's chat (or the group chat)."""
    activity = group_message(service_url, "", who=who, meeting=meeting)
    activity.pop("entities")
    activity.pop("text")
    activity.update(
        {
            "id": activity_id or f"group-invoke-{next(_ids)}",
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
    )
    return activity


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
    assert card_text(draft).startswith("Draft minutes: Tue 8 Dec 2026, 10:00")
    approved = await click_personal(bot, draft, "Approve minutes")
    assert "Approved. 1 attending SPOC receives the Word document" in card_text(approved)
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
