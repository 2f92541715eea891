"""Teams' typing indicator through the real aiohttp server, CloudAdapter and handler: a slow
reply in a personal or group chat is preceded by `typing`, a fast one by none; a channel and
a card's Action.Execute (answered in the HTTP response) get none."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import build_router
from bot.kernel.guard import public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from bot.settings import Settings, SettingsError
from bot.teams.typing import TYPING_PERIOD_SECONDS, TypingWhileSlow
from tests.support import activities as acts
from tests.support.world import serving

if TYPE_CHECKING:
    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage
    from tests.conftest import Connector

# The indicator's delay here (TYPING_DELAY_MS), and a reply well past it but before its
# second beat; a fast reply is checked against a delay far longer than any turn takes, so
# that a loaded machine cannot make it slow.
QUICK_TYPING = Settings(typing_delay_ms=300)
SLOW = 1.0
assert QUICK_TYPING.typing_delay_ms / 1000 + 0.5 < SLOW < TYPING_PERIOD_SECONDS
PATIENT_TYPING = Settings(typing_delay_ms=2500)
SLOW_VERB = "test.slow"


def slow_router() -> Router:
    """The app's router and a command and a card verb that take SLOW seconds to answer."""
    router = build_router()

    async def slow(_request: Request, _deps: Deps) -> Reply:
        await asyncio.sleep(SLOW)
        return Reply(text="Done at last.")

    router.command(CommandSpec(name="slow", summary="takes a while", handler=slow, access=public()))
    router.verb(VerbSpec(SLOW_VERB, slow, public()))
    return router


def kinds(sent: list[dict[str, Any]]) -> list[str]:
    """Each activity sent to a conversation: `typing`, or the text of a message."""
    return [a["type"] if a["type"] == "typing" else str(a.get("text")) for a in sent]


async def test_a_slow_reply_in_the_personal_chat_is_preceded_by_typing(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    settings = QUICK_TYPING
    async with serving(
        sqlite_storage, connector, clock, settings=settings, router=slow_router()
    ) as bot:
        chat = f"a:personal-{acts.PRIYA}"
        await bot.post(acts.personal_message(connector.url, "slow"))
        assert kinds(bot.connector.to_conversation(chat, typing=True)) == [
            "typing",
            "Done at last.",
        ]


async def test_a_fast_reply_has_no_typing_before_or_after_it(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    settings = PATIENT_TYPING
    async with serving(
        sqlite_storage, connector, clock, settings=settings, router=slow_router()
    ) as bot:
        chat = f"a:personal-{acts.PRIYA}"
        await bot.post(acts.personal_message(connector.url, "whoami"))
        await asyncio.sleep(settings.typing_delay_ms / 1000 + 0.2)  # nothing comes after it
        sent = bot.connector.to_conversation(chat, typing=True)
        assert len(sent) == 1, kinds(sent)
        assert sent[-1]["type"] == "message"
        assert sent[-1]["attachments"]  # whoami's card, with no typing before it


async def test_a_slow_reply_in_a_group_chat_is_preceded_by_typing(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    settings = QUICK_TYPING
    async with serving(
        sqlite_storage, connector, clock, settings=settings, router=slow_router()
    ) as bot:
        await bot.post(acts.group_message(connector.url, "slow", who="Priya Raman"))
        assert kinds(bot.connector.to_conversation(acts.GROUP_CHAT, typing=True)) == [
            "typing",
            "Done at last.",
        ]


async def test_a_slow_reply_in_a_channel_has_no_typing(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    """Teams shows no typing indicator in a channel's thread."""
    async with serving(sqlite_storage, connector, clock, router=slow_router()) as bot:
        await bot.post(acts.channel_message(connector.url, "slow"))
        assert kinds(bot.connector.timeline) == ["Done at last."]


async def test_a_slow_card_invoke_sends_no_typing(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    """An Action.Execute is answered in its HTTP response: nothing is posted to the chat."""
    async with serving(sqlite_storage, connector, clock, router=slow_router()) as bot:
        body = await bot.invoke(acts.card_invoke(connector.url, SLOW_VERB, {}))
        assert body["value"] == "Done at last."
        assert bot.connector.timeline == []


def test_the_delay_is_a_setting_within_a_minute() -> None:
    assert Settings.from_env({}, dotenv=None).typing_delay_ms == 1000
    assert Settings.from_env({"TYPING_DELAY_MS": "0"}, dotenv=None).typing_delay_ms == 0
    for bad in ("-5", "1.5", "soon", "60001"):
        with pytest.raises(SettingsError, match="TYPING_DELAY_MS"):
            Settings.from_env({"TYPING_DELAY_MS": bad}, dotenv=None)


def test_a_negative_delay_or_no_period_is_refused() -> None:
    with pytest.raises(ValueError, match="delay"):
        TypingWhileSlow(delay=-1.0)
    with pytest.raises(ValueError, match="period"):
        TypingWhileSlow(period=0)
