"""Greetings and words that name no command, through the real server, adapter and handler:
a short help for the person, where they are, never an error and never what they typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.app import build_router
from bot.domain.errors import NotFound
from bot.kernel.guard import public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from cards.help import NOT_A_MEMBER_YET, SHORT_HELP_HINT
from tests.support import activities as acts
from tests.support import cards
from tests.support.world import AAD, STRANGER

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest


def first_lines(card: dict[str, object]) -> list[str]:
    """The title and the commands a short help names (the bold word of each line)."""
    texts = cards.body_text(card).splitlines()
    named = [line.split("**")[1] for line in texts if line.startswith("**")]
    return [texts[0], *named]


@pytest.mark.parametrize("typed", ["hello", "Hi!", "good morning", "hey there"])
async def test_a_greeting_in_the_personal_chat_gets_the_spocs_own_short_help(
    bot: BotUnderTest, typed: str
) -> None:
    await bot.post(acts.personal_message(bot.service_url, typed, aad=acts.GEMMA, name="Gemma"))
    card = bot.last_card()
    assert first_lines(card) == ["Hello", "actions", "refer", "schedule"]
    assert SHORT_HELP_HINT in cards.body_text(card)
    assert cards.button(card, "Show what I can do")["data"] == {
        "verb": "command",
        "command": "help",
    }
    assert not bot.connector.texts()  # no "I don't know the command"


async def test_thanks_gets_the_coordinators_short_help(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "thanks"))
    assert first_lines(bot.last_card()) == ["You're welcome", "referrals", "agenda", "members"]


async def test_an_unknown_word_gets_a_short_help_that_does_not_repeat_it(
    bot: BotUnderTest,
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "frobnicate Rosa Lindqvist"))
    card = bot.last_card()
    assert first_lines(card) == ["I didn't catch that", "referrals", "agenda", "members"]
    said = cards.text(bot.connector.sent[-1])
    assert "frobnicate" not in said and "Rosa" not in said


async def test_a_greeting_in_the_channel_is_answered_there_with_what_works_there(
    bot: BotUnderTest,
) -> None:
    """Tom chairs: in the channel he is offered the agenda and the chair card, not the
    caseload (private chat only); the card passes the channel gate and names nobody."""
    await bot.post(
        acts.channel_message(
            bot.service_url, "good morning, Rosa Lindqvist's case?", aad=AAD["Tom"], name="Tom"
        )
    )
    posted = bot.connector.sent[-1]
    assert posted["_conversation"].startswith(acts.TEAM)
    assert first_lines(cards.card(posted)) == ["Hello", "agenda", "chair", "schedule"]
    assert "Rosa" not in cards.text(posted)


async def test_someone_on_no_panel_is_told_to_ask_their_coordinator(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "hello", aad=STRANGER, name="Sam"))
    card = bot.last_card()
    assert first_lines(card) == ["Hello", "whoami", "panel"]
    assert NOT_A_MEMBER_YET in cards.body_text(card)


async def test_a_real_command_still_runs(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help"))
    assert "Commands you can use" in cards.body_text(bot.last_card())


def test_without_an_answer_for_unknown_words_the_router_says_it_does_not_know_the_command() -> None:
    router = Router()
    with pytest.raises(NotFound, match="I don't know the command 'frobnicate'"):
        router.command_for("frobnicate")


def test_what_answers_unknown_words_is_registered_once_and_never_hides_a_command() -> None:
    router = build_router()
    assert router.command_for("frobnicate").name == "greeting"
    assert router.command_for("help").name == "help"
    with pytest.raises(NotFound):
        router.find_command("frobnicate")  # a button must still name a real command

    async def again(_request: Request, _deps: Deps) -> Reply:
        return Reply(text="again")

    with pytest.raises(ValueError, match="twice"):
        router.otherwise(CommandSpec("again", "again", again, public()))
