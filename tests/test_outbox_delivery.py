"""Queued cards reach people's chats through the real adapter and a fake connector."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.app import make_deps
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.kernel import notify
from bot.settings import Settings
from bot.teams.outbox import OutboxDispatcher
from bot.teams.web import make_adapter
from cards.kit import build, paragraph
from tests.support import activities as acts
from tests.support.connector import QUICK
from tests.support.world import LATER

if TYPE_CHECKING:
    from bot.domain.panel import Member
    from tests.conftest import BotUnderTest

CARD = build([paragraph("Your action is due on Monday.")])


async def gemma(bot: BotUnderTest) -> Member:
    async with bot.storage.unit_of_work() as uow:
        (member,) = await uow.members.memberships(acts.GEMMA)
    return member


async def queue_for(bot: BotUnderTest, member: Member, key: str, now: Any) -> None:
    async with bot.storage.unit_of_work() as uow:
        assert await notify.card_to_member(
            uow, panel_id=member.panel_id, member_id=member.id, card=CARD, key=key, now=now
        )
        await uow.commit()


async def stored(bot: BotUnderTest, key: str) -> OutgoingDelivery:
    async with bot.storage.unit_of_work() as uow:
        rows = await uow.outbox.due(LATER, 100)
        found = [r for r in rows if r.key == key]
        if found:
            return found[0]
    raise AssertionError(f"{key} is not pending")


async def test_a_queued_card_reaches_the_members_private_chat(
    bot: BotUnderTest, clock: Any
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help", aad=acts.GEMMA, name="Gemma"))
    member = await gemma(bot)
    await queue_for(bot, member, "reminder:1", clock.now())
    before = len(bot.connector.sent)
    assert await bot.deliver() == 1
    delivered = bot.connector.sent[before:]
    assert [d["_conversation"] for d in delivered] == [f"a:personal-{acts.GEMMA}"]
    assert delivered[0]["attachments"][0]["content"] == CARD
    assert await bot.deliver() == 0  # sent once, never again


async def test_the_same_key_is_queued_once(bot: BotUnderTest, clock: Any) -> None:
    member = await gemma(bot)
    await queue_for(bot, member, "reminder:twice", clock.now())
    async with bot.storage.unit_of_work() as uow:
        again = await notify.card_to_member(
            uow,
            panel_id=member.panel_id,
            member_id=member.id,
            card=CARD,
            key="reminder:twice",
            now=clock.now(),
        )
    assert again is False


async def test_a_member_the_bot_never_talked_to_is_marked_unreachable(
    bot: BotUnderTest, clock: Any
) -> None:
    member = await gemma(bot)
    await queue_for(bot, member, "reminder:nobody", clock.now())
    assert await bot.deliver() == 1
    assert bot.connector.sent == []
    async with bot.storage.unit_of_work() as uow:
        rows = await uow.outbox.due(LATER, 10)
    assert rows == []  # not retried


def quick_dispatcher(bot: BotUnderTest, clock: Any, **policy: Any) -> OutboxDispatcher:
    """The real adapter and dispatcher on the bot's storage, retrying within milliseconds."""
    return OutboxDispatcher(
        make_adapter(Settings()),
        make_deps(uow=bot.storage.unit_of_work, clock=clock),
        "",
        policy=replace(QUICK, **policy),
    )


async def run(dispatcher: OutboxDispatcher) -> int:
    total = 0
    while claimed := await dispatcher.run_once():
        total += claimed
    return total


async def test_a_503_is_retried_at_once_and_the_card_arrives_once(
    bot: BotUnderTest, clock: Any
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help", aad=acts.GEMMA, name="Gemma"))
    sent_before = len(bot.connector.sent)
    member = await gemma(bot)
    await queue_for(bot, member, "reminder:flaky-once", clock.now())
    bot.connector.failures = [503]
    dispatcher = quick_dispatcher(bot, clock)
    assert await run(dispatcher) == 1
    assert len(bot.connector.sent) == sent_before + 1
    assert dispatcher.stats.retries == 1


async def test_a_503_that_cannot_wait_is_retried_later_and_a_403_stops(
    bot: BotUnderTest, clock: Any
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help", aad=acts.GEMMA, name="Gemma"))
    sent_before = len(bot.connector.sent)
    member = await gemma(bot)
    await queue_for(bot, member, "reminder:flaky", clock.now())
    bot.connector.failures = [503]
    dispatcher = quick_dispatcher(bot, clock, max_inline_wait=0)
    assert await run(dispatcher) == 1
    retry = await stored(bot, "reminder:flaky")
    assert retry.state is DeliveryState.PENDING
    assert retry.attempts == 1
    assert retry.last_status == 503
    assert retry.not_before > clock.now()
    assert await run(dispatcher) == 0  # not before its time
    clock.advance(retry.not_before + timedelta(seconds=1))
    bot.connector.failures = [403]
    assert await run(dispatcher) >= 1
    async with bot.storage.unit_of_work() as uow:
        final = await uow.outbox.get(member.panel_id, retry.id)
    assert final is not None
    assert final.state is DeliveryState.UNREACHABLE
    assert final.attempts == 2
    # The 403 is not delivered; what went out since is the coordinators' notice, if any.
    assert all(
        d["_conversation"] != f"a:personal-{acts.GEMMA}" for d in bot.connector.sent[sent_before:]
    )
