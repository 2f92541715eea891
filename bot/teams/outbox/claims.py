"""Claiming due outbox rows, and taking back those a stopped dispatcher left SENDING.

A claim marks rows SENDING, stamps `claimed_at` and commits in the very transaction that
selected them (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so dispatchers in several processes
share the rows and never take the same one. Rows still SENDING after a whole lease belonged
to a dispatcher that stopped: they go back to the queue (at start, then once per lease).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from bot.domain.common import Clock
    from bot.domain.delivery import OutgoingDelivery
    from bot.kernel.ports import UnitOfWorkFactory
    from bot.teams.outbox.policy import DeliveryPolicy, DeliveryStats

log = logging.getLogger(__name__)

# Rows taken back per transaction.
RESUME_BATCH = 100


class Claims:
    """Takes due rows for this dispatcher, and takes back rows whose lease ran out."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        writing: asyncio.Lock,
        policy: DeliveryPolicy,
        stats: DeliveryStats,
        *,
        monotonic: Callable[[], float],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._writing = writing
        self._policy = policy
        self._stats = stats
        self._monotonic = monotonic
        self._next_resume: float | None = None

    async def claim(self, limit: int) -> list[OutgoingDelivery]:
        """Mark up to `limit` due rows SENDING, committed before they are sent."""
        now = self._clock.now()
        async with self._writing, self._uow() as uow:
            claimed = await uow.outbox.due(now, limit)
            for delivery in claimed:
                delivery.claim(now)
                await uow.outbox.save(delivery)
            await uow.commit()
        self._stats.claimed += len(claimed)
        return claimed

    async def resume_when_due(self) -> None:
        """Take back abandoned rows at the first call, then once per lease."""
        if self._next_resume is not None and self._monotonic() < self._next_resume:
            return
        self._next_resume = self._monotonic() + self._policy.lease.total_seconds()
        await self.resume_abandoned()

    async def resume_abandoned(self) -> int:
        """Put back in the queue the rows a stopped dispatcher left SENDING; returns how many."""
        cutoff = self._clock.now() - self._policy.lease
        total = 0
        while True:
            async with self._writing, self._uow() as uow:
                rows = await uow.outbox.abandoned(cutoff, RESUME_BATCH)
                for delivery in rows:
                    delivery.resume()
                    await uow.outbox.save(delivery)
                await uow.commit()
            total += len(rows)
            if len(rows) < RESUME_BATCH:
                break
        if total:
            self._stats.resumed += total
            log.warning(
                "resumed %d deliveries a stopped dispatcher left sending; "
                "those it had already sent will arrive twice",
                total,
            )
        return total
