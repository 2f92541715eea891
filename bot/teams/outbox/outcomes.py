"""Writing down what became of claimed rows, only while they are still this dispatcher's.

Outcomes are written only while the row is still ours (same `resumed` count), so a late
writer cannot undo another dispatcher's work. Outcomes that finish together are written in
one transaction (SQLite has one writer; group commits keep it from becoming the
bottleneck). A row sent but whose outcome cannot be written stays SENDING, to be resumed
and counted, rather than sent again unseen.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.delivery import NO_ANSWER, DeliveryState, OutgoingDelivery
from bot.kernel.notify import member_unreachable
from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory
from bot.teams.outbox.chats import NO_SERVICE_URL
from bot.teams.outbox.connector import Answer

if TYPE_CHECKING:
    from bot.domain.common import Clock
    from bot.teams.outbox.policy import DeliveryStats

log = logging.getLogger(__name__)

# Outcomes written in one transaction at most.
RECORD_BATCH = 200
# How long a stopping dispatcher waits for outcomes already known to be written.
FLUSH_SECONDS = 5.0
# What an update row records when there was nothing to replace.
NO_CONTENT = 204

# Something to write in the same transaction as a row's outcome.
Also = Callable[[UnitOfWork, OutgoingDelivery], Awaitable[None]]


@dataclass
class _Outcome:
    """A row's outcome waiting to be written with others in one transaction."""

    delivery: OutgoingDelivery
    apply: Callable[[OutgoingDelivery], None]
    also: Also | None
    recorded: asyncio.Future[bool]


class Outcomes:
    """Records rows as sent, given up or back in the queue, in group commits."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        writing: asyncio.Lock,
        stats: DeliveryStats,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._writing = writing
        self._stats = stats
        self._waiting: list[_Outcome] = []
        self._recorder: asyncio.Task[None] | None = None

    async def sent(
        self, delivery: OutgoingDelivery, answer: Answer, conversation_id: str | None = None
    ) -> None:
        """The connector accepted the row (in `conversation_id`, as `answer.activity_id`)."""
        now = self._clock.now()

        def sent(row: OutgoingDelivery) -> None:
            row.sent(
                answer.status, now, activity_id=answer.activity_id, conversation_id=conversation_id
            )

        try:
            recorded = await self.finish(delivery, sent)
        except Exception:
            # Delivered but not written down: handing it back would send it again unseen.
            # Left SENDING, it is taken back after the lease and counted as resumed.
            self._stats.unrecorded += 1
            log.exception("delivery %s was sent but could not be recorded", delivery.id)
            return
        if recorded:
            self._stats.sent += 1

    async def dropped(self, delivery: OutgoingDelivery) -> None:
        """An update with nothing left to replace: finished, as sent with no content."""
        self._stats.updates_dropped += 1
        await self.finish(delivery, lambda d: d.sent(NO_CONTENT, self._clock.now()))

    async def give_up(
        self, delivery: OutgoingDelivery, answer: Answer, *, unreachable: bool
    ) -> None:
        """Stop trying; a member found unreachable is reported to the panel's coordinators."""
        also = None
        if (
            unreachable
            and delivery.recipient_member_id is not None
            and answer.code != NO_SERVICE_URL
        ):
            also = self._tell_coordinators
        recorded = await self.finish(
            delivery,
            lambda d: d.give_up(answer.status, unreachable=unreachable),
            also=also,
        )
        if not recorded:
            return
        if unreachable:
            self._stats.unreachable += 1
        else:
            self._stats.failed += 1
        log.warning("delivery %s given up (%s %s)", delivery.id, answer.status, answer.code or "")

    async def requeue(
        self, delivery: OutgoingDelivery, answer: Answer | None, wait: float, *, release: bool
    ) -> None:
        """Back to the queue for `wait` seconds: untried (release) or after a failure."""
        not_before = self._clock.now() + timedelta(seconds=math.ceil(wait * 1000) / 1000)
        status = answer.status if answer is not None else NO_ANSWER
        if release:
            recorded = await self.finish(delivery, lambda d: d.release(not_before))
        else:
            recorded = await self.finish(delivery, lambda d: d.retry_later(status, not_before))
        if recorded:
            self._stats.requeued += 1

    async def hand_back_after_error(self, delivery: OutgoingDelivery, wait: float) -> None:
        """Something unexpected went wrong with the row: try again after `wait` seconds."""
        try:
            await self.requeue(delivery, Answer(NO_ANSWER), wait, release=False)
        except Exception:
            log.exception("delivery %s stays sending until its lease runs out", delivery.id)

    async def finish(
        self,
        delivery: OutgoingDelivery,
        apply: Callable[[OutgoingDelivery], None],
        *,
        also: Also | None = None,
    ) -> bool:
        """Record a row's outcome (with whatever `also` queues alongside); False when the row
        is no longer ours to record. Outcomes that finish together share one transaction."""
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Outcome(delivery, apply, also, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_waiting())
        return await recorded

    async def flush(self, seconds: float = FLUSH_SECONDS) -> None:
        """Wait up to `seconds` for outcomes already known to be written (the dispatcher
        stops): they are facts (a message went out), and a restart would send them again."""
        recorder = self._recorder
        if recorder is not None and not recorder.done():
            try:
                async with asyncio.timeout(seconds):
                    await asyncio.shield(recorder)
            except Exception:
                recorder.cancel()

    async def _tell_coordinators(self, uow: UnitOfWork, delivery: OutgoingDelivery) -> None:
        await member_unreachable(uow, delivery, self._clock.now())

    async def _record_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[:RECORD_BATCH]
            del self._waiting[:RECORD_BATCH]
            try:
                await self._record(batch)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0].recorded, error)
                    continue
                # One bad row must not cost the others their outcome.
                log.warning("recording %d outcomes together failed; one by one now", len(batch))
                for outcome in batch:
                    try:
                        await self._record([outcome])
                    except Exception as single:
                        _settle(outcome.recorded, single)

    async def _record(self, batch: list[_Outcome]) -> None:
        results = []
        async with self._writing, self._uow() as uow:
            for outcome in batch:
                delivery = outcome.delivery
                stored = await uow.outbox.get(delivery.panel_id, delivery.id)
                if (
                    stored is None
                    or stored.state is not DeliveryState.SENDING
                    or stored.resumed != delivery.resumed
                ):
                    # Another dispatcher took it back (we held it past the lease): leave it be.
                    self._stats.lost_lease += 1
                    log.warning("delivery %s is no longer ours; outcome not recorded", delivery.id)
                    results.append(False)
                    continue
                stored.attempts = delivery.attempts
                outcome.apply(stored)
                await uow.outbox.save(stored)
                if outcome.also is not None:
                    await outcome.also(uow, stored)
                results.append(True)
            await uow.commit()
        for outcome, result in zip(batch, results, strict=True):
            _settle(outcome.recorded, result)


def _settle(future: asyncio.Future[bool], result: bool | BaseException) -> None:
    """Hand a recorded outcome to its lane (unless the lane stopped waiting)."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
