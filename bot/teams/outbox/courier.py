"""One claimed row's way out: room in the rate windows, the request, and what its answer
means (bot.domain.delivery.verdict), until the row is sent, given up or handed back.

Before each request the courier waits for room in the conversation's and the tenant's
sliding windows (bot.teams.ratelimit), then, on PostgreSQL, for the tenant's turn shared by
every instance (bot.teams.outbox.budget), at most until half the lease since the claim has
passed; a longer wait sends the row back to the queue. Retries back off exponentially with
jitter, or wait a 429's Retry-After, which also holds the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.domain.delivery import (
    NOT_FOUND,
    THROTTLED,
    OutgoingDelivery,
    Request,
    Verdict,
    verdict,
)
from bot.teams.outbox.chats import NO_SERVICE_URL, Chats
from bot.teams.outbox.connector import Answer, Connector
from bot.teams.outbox.targets import UNKNOWN, Target, Targets
from bot.teams.ratelimit import Pacer, Slot

if TYPE_CHECKING:
    import random
    from datetime import datetime

    from bot.kernel.ports import UnitOfWorkFactory
    from bot.teams.outbox.budget import TenantBudget
    from bot.teams.outbox.lanes import Claimed
    from bot.teams.outbox.outcomes import Outcomes
    from bot.teams.outbox.policy import DeliveryPolicy, DeliveryStats

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Courier:
    """Delivers one claimed row at a time (many couriers' rows share its collaborators)."""

    def __init__(
        self,
        *,
        policy: DeliveryPolicy,
        stats: DeliveryStats,
        pacer: Pacer,
        budget: TenantBudget,
        connector: Connector,
        chats: Chats,
        targets: Targets,
        outcomes: Outcomes,
        uow: UnitOfWorkFactory,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        sleep: Sleep,
        rng: random.Random,
    ) -> None:
        self._policy = policy
        self._stats = stats
        self._pacer = pacer
        self._budget = budget
        self._connector = connector
        self._chats = chats
        self._targets = targets
        self._outcomes = outcomes
        self._uow = uow
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng
        self._sends = asyncio.Semaphore(policy.concurrency)

    async def deliver(self, claimed: Claimed) -> None:
        """Send the row, or put its card over the message an earlier row became."""
        delivery = claimed.delivery
        target = claimed.target
        if target is UNKNOWN:
            raise RuntimeError("the delivery's conversation could not be looked up")
        if target is None:
            log.warning("delivery %s has no conversation to go to", delivery.id)
            answer = Answer(NOT_FOUND, NO_SERVICE_URL)
            await self._outcomes.give_up(delivery, answer, unreachable=True)
            return
        deadline = claimed.claimed_at + self._policy.hold_seconds
        if delivery.update_of is not None:
            await self._update(delivery, target, deadline)
        else:
            await self._send(delivery, target, deadline)

    async def hand_back(self, delivery: OutgoingDelivery) -> None:
        """The row's delivery failed unexpectedly: back to the queue after a back-off."""
        wait = self._policy.backoff(max(1, delivery.attempts), self._rng)
        await self._outcomes.hand_back_after_error(delivery, wait)

    async def _send(self, delivery: OutgoingDelivery, target: Target, deadline: float) -> None:
        """Post the row into its chat, opening (or reopening) a member's 1:1 chat first."""
        payload = delivery.payload
        posts = 0
        failures = 0
        reopened = False
        last: Answer | None = None
        while True:
            room = await self._room(delivery, target, deadline, last, untried=posts == 0)
            if room is None:
                return
            opening = target.ref is None
            try:
                async with self._sends:
                    if not await self._turn(delivery, target, deadline, last, untried=posts == 0):
                        return
                    if target.ref is None:
                        answer, target.ref = await self._chats.open(delivery)
                    else:
                        if posts:
                            delivery.try_again()
                        posts += 1
                        answer = await self._connector.post(target.ref.reference, payload)
            finally:
                self._pacer.done(room)
            last = answer
            if answer.ok and opening:
                self._stats.chats_created += 1
                continue
            if answer.ok:
                assert target.ref is not None
                await self._outcomes.sent(delivery, answer, target.ref.conversation_id)
                return
            request = Request.OPEN_CHAT if opening else Request.SEND
            found = verdict(answer.status, request, personal=target.personal, reopened=reopened)
            if found is Verdict.REOPEN_CHAT:
                # Teams forgot the chat: forget it too, open a new one and send again.
                await self._chats.forget(target.ref)
                target.ref = None
                reopened = True
                self._stats.chats_recreated += 1
                continue
            if found is Verdict.CHAT_GONE:
                await self._chats.forget(target.ref)
            failures += 1
            if not await self._again(delivery, answer, found, failures, target, deadline):
                return

    async def _update(
        self, delivery: OutgoingDelivery, placeholder: Target, deadline: float
    ) -> None:
        """Put the row's card over the message an earlier row became."""
        assert delivery.update_of is not None
        async with self._uow() as uow:
            target = await self._targets.of_update(
                uow, delivery, delivery.update_of, placeholder.tenant
            )
        if target.gone or target.ref is None or target.replaces is None:
            if target.wait_until is not None:
                wait = max(1.0, (target.wait_until - self._now()).total_seconds())
                await self._outcomes.requeue(delivery, None, wait, release=True)
                return
            await self._outcomes.dropped(delivery)
            return
        payload = delivery.payload
        conversation = target.ref.conversation_id
        puts = 0
        failures = 0
        last: Answer | None = None
        while True:
            room = await self._room(delivery, target, deadline, last, untried=puts == 0)
            if room is None:
                return
            try:
                async with self._sends:
                    if not await self._turn(delivery, target, deadline, last, untried=puts == 0):
                        return
                    if puts:
                        delivery.try_again()
                    puts += 1
                    answer = await self._connector.put(
                        target.ref.reference, target.replaces, payload
                    )
            finally:
                self._pacer.done(room)
            last = answer
            if answer.ok:
                self._stats.updated += 1
                answer = replace(answer, activity_id=target.replaces)
                await self._outcomes.sent(delivery, answer, conversation)
                return
            failures += 1
            found = verdict(answer.status, Request.UPDATE)
            if not await self._again(delivery, answer, found, failures, target, deadline):
                return

    async def _room(
        self,
        delivery: OutgoingDelivery,
        target: Target,
        deadline: float,
        last: Answer | None,
        *,
        untried: bool,
    ) -> Slot | None:
        """Wait for room in the rate windows and take it; None when the conversation is full
        for longer than the row may be held, and the row went back to the queue."""
        conversation = target.ref.conversation_id if target.ref is not None else None
        room = await self._pacer.acquire(
            conversation, target.tenant, max_wait=max(0.0, deadline - self._monotonic())
        )
        if isinstance(room, Slot):
            return room
        await self._outcomes.requeue(delivery, last, room, release=untried)
        return None

    async def _turn(
        self,
        delivery: OutgoingDelivery,
        target: Target,
        deadline: float,
        last: Answer | None,
        *,
        untried: bool,
    ) -> bool:
        """Wait for the tenant's turn across instances: False when it would come after the
        row must be handed back, and the row went back to the queue."""
        late = await self._budget.turn(target.tenant, deadline)
        if late is None:
            return True
        await self._outcomes.requeue(delivery, last, late, release=untried)
        return False

    async def _again(
        self,
        delivery: OutgoingDelivery,
        answer: Answer,
        found: Verdict,
        failures: int,
        target: Target,
        deadline: float,
    ) -> bool:
        """After a failed request: True when it is to be made again (the wait is over);
        False when the row was given up or went back to the queue."""
        if found in (Verdict.CHAT_GONE, Verdict.UNREACHABLE):
            await self._outcomes.give_up(delivery, answer, unreachable=True)
            return False
        if answer.timed_out:
            self._stats.timeouts += 1
        if (
            found is Verdict.GIVE_UP
            or max(failures, delivery.attempts) >= self._policy.max_attempts
        ):
            await self._outcomes.give_up(delivery, answer, unreachable=False)
            return False
        wait = self._policy.backoff(failures, self._rng)
        if answer.status == THROTTLED:
            self._stats.throttled += 1
            if answer.retry_after is not None:
                wait = answer.retry_after
            conversation = target.ref.conversation_id if target.ref is not None else None
            self._pacer.hold(conversation, target.tenant, wait)
        if wait > self._policy.max_inline_wait or self._monotonic() + wait > deadline:
            await self._outcomes.requeue(delivery, answer, wait, release=False)
            return False
        self._stats.retries += 1
        await self._sleep(wait)
        return True
