"""What the dispatcher does when Teams says no: each row still arrives once, or stops for good.

Every test runs the real adapter and dispatcher against the fake connector on 127.0.0.1 and
counts what arrived there; none measures time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import pytest

from bot.domain.delivery import ConversationKind, DeliveryState
from bot.teams.ratelimit import RateLimits
from cards.kit import card_text, teams_findings
from tests.conftest import NOW
from tests.support import cards
from tests.support.connector import (
    BLOCKED_BY_USER,
    BOT_DISABLED_BY_ADMIN,
    CONVERSATION_NOT_FOUND,
    QUICK,
    ConnectorLimits,
    Fault,
    deliver,
    delivery_rig,
)

if TYPE_CHECKING:
    from pathlib import Path

    from bot.domain.common import FixedClock


async def test_every_row_arrives_exactly_once_through_429s_5xx_and_timeouts(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock) as rig:
        texts = [f"Reminder {n} for {m.name}" for m in rig.spocs for n in range(4)]
        ids = [
            await rig.queue(m, f"Reminder {n} for {m.name}") for m in rig.spocs for n in range(4)
        ]
        http_date = format_datetime(NOW + timedelta(seconds=1), usegmt=True)
        rig.fake.fail_next(
            Fault(429, "TooManyRequests", retry_after="0.05"),
            503,
            Fault(502, "BadGateway"),
            Fault(504, delay=2.0),  # answered after the dispatcher stopped waiting
            Fault(412, "PreconditionFailed"),
            Fault(429, "TooManyRequests", retry_after=http_date),  # an HTTP date, 1 s ahead
        )
        rig.fake.fail_conversation(rig.chat_of(rig.spocs[1]).conversation_id, 503, 503)
        dispatcher = rig.dispatcher(policy=replace(QUICK, send_timeout=0.5))

        await deliver(dispatcher)

        arrived = Counter(cards.body_text(activity) for activity in rig.fake.sent)
        assert arrived == Counter(texts)  # each once: none lost, none twice
        rows = [await rig.row(row_id) for row_id in ids]
        assert {row.state for row in rows} == {DeliveryState.SENT}
        assert sum(row.attempts for row in rows) == len(rows) + 8
        assert dispatcher.stats.throttled == 2
        assert dispatcher.stats.timeouts == 1
        assert rig.fake.answered[201] == len(texts)


async def test_the_messages_of_one_conversation_arrive_in_the_order_they_were_queued(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1) as rig:
        (spoc,) = rig.spocs
        for n in range(6):
            await rig.queue(spoc, f"Step {n}")
        rig.fake.fail_next(503, Fault(429, retry_after="0.02"), 502)

        await deliver(rig.dispatcher())

        assert [cards.body_text(a) for a in rig.fake.sent] == [f"Step {n}" for n in range(6)]


@pytest.mark.parametrize("refusal", [BLOCKED_BY_USER, BOT_DISABLED_BY_ADMIN])
async def test_a_member_who_cannot_be_reached_is_marked_so_and_the_coordinator_told_once(
    tmp_path: Path, clock: FixedClock, refusal: Fault
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=2, coordinators=1) as rig:
        blocked, other = rig.spocs
        (coordinator,) = rig.coordinators
        refused = [await rig.queue(blocked, f"Private reminder {n}") for n in range(2)]
        await rig.queue(other, "Reminder for the other SPOC")
        rig.fake.fail_conversation(rig.chat_of(blocked).conversation_id, refusal, refusal)
        dispatcher = rig.dispatcher()

        await deliver(dispatcher)

        for row_id in refused:
            row = await rig.row(row_id)
            assert (row.state, row.last_status, row.attempts) == (DeliveryState.UNREACHABLE, 403, 1)
        coordinator_chat = rig.chat_of(coordinator).conversation_id
        notices = rig.fake.to_conversation(coordinator_chat)
        assert len(notices) == 1  # told once, though two messages were refused
        notice = notices[0]["attachments"][0]["content"]
        assert teams_findings(notice) == []
        said = card_text(notice)
        assert blocked.name in said
        assert "Private reminder" not in said
        assert blocked.aad_object_id not in said
        assert cards.body_text(rig.fake.to_conversation(rig.chat_of(other).conversation_id)[0]) == (
            "Reminder for the other SPOC"
        )
        # Another refusal the same day says nothing new; the next day it is said again.
        await rig.queue(blocked, "Private reminder 2")
        rig.fake.fail_conversation(rig.chat_of(blocked).conversation_id, refusal)
        await deliver(dispatcher)
        assert len(rig.fake.to_conversation(coordinator_chat)) == 1
        clock.advance(NOW + timedelta(days=1))
        await rig.queue(blocked, "Private reminder 3")
        rig.fake.fail_conversation(rig.chat_of(blocked).conversation_id, refusal)
        await deliver(dispatcher)
        assert len(rig.fake.to_conversation(coordinator_chat)) == 2


async def test_a_chat_teams_no_longer_knows_is_opened_again_and_the_message_delivered(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1) as rig:
        (spoc,) = rig.spocs
        forgotten = rig.chat_of(spoc).conversation_id
        row_id = await rig.queue(spoc, "Your action is due")
        rig.fake.fail_conversation(forgotten, CONVERSATION_NOT_FOUND)
        dispatcher = rig.dispatcher()

        await deliver(dispatcher)

        (created,) = rig.fake.created
        assert [m["id"] for m in created["members"]] == [spoc.aad_object_id]
        (message,) = rig.fake.sent
        assert message["_conversation"] != forgotten
        assert cards.body_text(message) == "Your action is due"
        async with rig.storage.unit_of_work() as uow:
            assert await uow.conversations.by_conversation(rig.fleet.panel.id, forgotten) is None
            chat = await uow.conversations.personal(rig.fleet.panel.id, spoc.id)
        assert chat is not None
        assert chat.conversation_id == message["_conversation"]
        row = await rig.row(row_id)
        assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
        assert dispatcher.stats.chats_recreated == 1


async def test_a_member_the_bot_never_talked_to_gets_a_new_chat_and_then_the_message(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=2) as rig:
        newcomer, _ = rig.spocs
        async with rig.storage.unit_of_work() as uow:
            await uow.conversations.delete(rig.fleet.panel.id, rig.chat_of(newcomer).id)
            await uow.commit()
        installed: list[tuple[str, int]] = []

        async def install_for_user(aad_object_id: str) -> None:
            installed.append((aad_object_id, len(rig.fake.created)))

        await rig.queue(newcomer, "Welcome, and your first action")
        dispatcher = rig.dispatcher(install_for_user=install_for_user)

        await deliver(dispatcher)

        assert installed == [(newcomer.aad_object_id, 0)]  # installed before the chat was made
        (created,) = rig.fake.created
        assert created["members"] == [
            {"id": newcomer.aad_object_id, "aadObjectId": newcomer.aad_object_id}
        ]
        assert created["tenantID"] == rig.fleet.panel.tenant_id  # botbuilder's spelling
        assert created["channelData"] == {"tenant": {"id": rig.fleet.panel.tenant_id}}
        assert created["bot"]["id"] == rig.chat_of(rig.spocs[1]).reference["bot"]["id"]
        (message,) = rig.fake.sent
        async with rig.storage.unit_of_work() as uow:
            chat = await uow.conversations.personal(rig.fleet.panel.id, newcomer.id)
        assert chat is not None
        assert (chat.kind, chat.conversation_id) == (
            ConversationKind.PERSONAL,
            message["_conversation"],
        )
        # The next message continues the new chat.
        await rig.queue(newcomer, "A second message")
        await deliver(dispatcher)
        assert len(rig.fake.created) == 1
        assert [a["_conversation"] for a in rig.fake.sent] == [chat.conversation_id] * 2
        assert len(installed) == 1


async def test_a_member_whose_chat_cannot_be_opened_is_unreachable_and_the_coordinator_told(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1, coordinators=1) as rig:
        (spoc,) = rig.spocs
        async with rig.storage.unit_of_work() as uow:
            await uow.conversations.delete(rig.fleet.panel.id, rig.chat_of(spoc).id)
            await uow.commit()
        row_id = await rig.queue(spoc, "Your action")
        rig.fake.fail_create(Fault(403, "Forbidden"))

        await deliver(rig.dispatcher())

        row = await rig.row(row_id)
        assert (row.state, row.last_status) == (DeliveryState.UNREACHABLE, 403)
        (notice,) = rig.fake.sent
        assert notice["_conversation"] == rig.chat_of(rig.coordinators[0]).conversation_id
        assert spoc.name in cards.body_text(notice)


async def test_a_failure_that_cannot_wait_goes_back_to_the_queue_until_its_time(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1) as rig:
        (spoc,) = rig.spocs
        row_id = await rig.queue(spoc, "Later")
        rig.fake.fail_next(Fault(429, retry_after="120"))
        # The dispatcher's own clock moves with the test's, so the 429's hold runs out too.
        dispatcher = rig.dispatcher(monotonic=lambda: clock.now().timestamp())

        assert await deliver(dispatcher) == 1

        row = await rig.row(row_id)
        assert (row.state, row.last_status, row.attempts) == (DeliveryState.PENDING, 429, 1)
        assert row.not_before == NOW + timedelta(seconds=120)
        assert rig.fake.sent == []
        clock.advance(row.not_before)
        assert await deliver(dispatcher) == 1
        row = await rig.row(row_id)
        assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
        assert len(rig.fake.sent) == 1


async def test_a_row_failing_every_time_is_given_up_after_the_attempts_allowed(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1) as rig:
        (spoc,) = rig.spocs
        row_id = await rig.queue(spoc, "Never")
        rig.fake.fail_next(*[503] * 10)
        dispatcher = rig.dispatcher(policy=replace(QUICK, max_attempts=4))

        await deliver(dispatcher)

        row = await rig.row(row_id)
        assert (row.state, row.last_status, row.attempts) == (DeliveryState.FAILED, 503, 4)
        assert rig.fake.answered[503] == 4
        assert rig.fake.sent == []


async def test_a_bad_request_is_not_retried(tmp_path: Path, clock: FixedClock) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1) as rig:
        (spoc,) = rig.spocs
        row_id = await rig.queue(spoc, "Malformed")
        rig.fake.fail_next(Fault(400, "BadSyntax"))

        await deliver(rig.dispatcher())

        row = await rig.row(row_id)
        assert (row.state, row.last_status, row.attempts) == (DeliveryState.FAILED, 400, 1)
        assert rig.fake.answered[400] == 1


async def test_the_fake_connector_enforces_the_limits_it_is_given(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The judge of the pacing tests: without pacing, a burst to one chat meets a 429."""
    limits = ConnectorLimits(per_conversation=((2, 60.0),))
    async with delivery_rig(tmp_path, clock, spocs=1, limits=limits) as rig:
        (spoc,) = rig.spocs
        for n in range(3):
            await rig.queue(spoc, f"Burst {n}")
        dispatcher = rig.dispatcher(
            limits=RateLimits(pace=False), policy=replace(QUICK, max_inline_wait=0)
        )

        await deliver(dispatcher)

        assert len(rig.fake.sent) == 2
        assert rig.fake.throttled == 1
        (waiting,) = await rig.queued_for(spoc)
        assert waiting.last_status == 429
        assert waiting.not_before > NOW + timedelta(seconds=58)
