"""The welcome when the bot is added to a team or a chat, through the real server, adapter
and handler: it mentions whoever added it (a Teams card mention), and says nothing of the
kind in a personal chat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cards.kit import teams_findings
from tests.support import activities as acts
from tests.support import cards

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

PRIYAS_ID = f"29:{acts.PRIYA}"


def mentions(card: dict[str, Any]) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = card.get("msteams", {}).get("entities", [])
    return entities


def installed_in_group_chat(service_url: str, *, who: str, name: str) -> dict[str, Any]:
    """Teams' installationUpdate when `name` adds the bot to a group chat."""
    activity = acts.bot_installed_in_team(service_url)
    activity.update(
        {
            "type": "installationUpdate",
            "action": "add",
            "from": {"id": f"29:{who}", "aadObjectId": who, "name": name},
            "conversation": {"id": acts.GROUP_CHAT, "conversationType": "groupChat"},
            "channelData": {"tenant": {"id": acts.TENANT}},
        }
    )
    activity.pop("membersAdded")
    return activity


async def test_the_channel_welcome_mentions_who_added_the_bot(bot: BotUnderTest) -> None:
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    posted = bot.connector.sent[-1]
    assert posted["_conversation"] == acts.TEAM
    card = cards.card(posted)
    assert "<at>Priya Raman</at> added me to this channel." in cards.body_text(card)
    assert mentions(card) == [
        {
            "type": "mention",
            "text": "<at>Priya Raman</at>",
            "mentioned": {"id": PRIYAS_ID, "name": "Priya Raman"},
        }
    ]
    assert card["body"][0]["style"] == "heading"
    assert teams_findings(card) == []


async def test_a_group_chat_welcome_mentions_who_installed_it(bot: BotUnderTest) -> None:
    tom = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d02"
    await bot.post(installed_in_group_chat(bot.service_url, who=tom, name="Tom Okafor"))
    card = bot.last_card()
    assert "<at>Tom Okafor</at> added me to this chat." in cards.body_text(card)
    assert [m["mentioned"] for m in mentions(card)] == [{"id": f"29:{tom}", "name": "Tom Okafor"}]


async def test_a_name_that_would_break_the_mention_is_shown_plain_and_whole(
    bot: BotUnderTest,
) -> None:
    """A display name is the sender's to choose: angle brackets would close the <at> tag."""
    odd = installed_in_group_chat(bot.service_url, who="a1b2", name=" Eve <b>Mallory</at> ")
    await bot.post(odd)
    card = bot.last_card()
    (mention,) = mentions(card)
    assert mention["text"] == "<at>Eve b Mallory /at</at>"
    assert f"{mention['text']} added me to this chat." in cards.body_text(card)
    assert teams_findings(card) == []


async def test_without_a_name_the_welcome_mentions_nobody(bot: BotUnderTest) -> None:
    activity = acts.bot_installed_in_team(bot.service_url)
    activity["from"] = {"id": PRIYAS_ID}
    await bot.post(activity)
    card = bot.last_card()
    assert "added me" not in cards.body_text(card)
    assert "msteams" not in card


async def test_the_personal_welcome_mentions_nobody(bot: BotUnderTest) -> None:
    await bot.post(acts.bot_installed_personal(bot.service_url))
    card = bot.last_card()
    assert "added me" not in cards.body_text(card)
    assert "msteams" not in card
