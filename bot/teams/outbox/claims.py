"""Claiming due outbox rows, and taking back those a stopped dispatcher left SENDING.

A claim marks rows SENDING, stamps `claimed_at` and commits in the very transaction that
selected them. On PostgreSQL it takes only rows of the lanes (conversations) this dispatcher
holds or can take, leasing them in the same transaction (`claim_due`), and returns the
recent sends of the lanes it took, for the pacer; the leases of lanes with rows in flight
are renewed every quarter of the lane lease, and those of empty lanes let go. Rows still
SENDING after a whole lease belonged to a dispatcher that stopped: they go back to the queue
(at start, then once per lease).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Collection
    from datetime import datetime

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
        owner: str,
        history_seconds: float,
        monotonic: Callable[[], float],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._writing = writing
        self._policy = policy
        self._stats = stats
        self.owner = owner
        self._history = timedelta(seconds=history_seconds)
        self._monotonic = monotonic
        self._next_resume: float | None = None
        self._next_keep: float | None = None

    async def claim(
        self, limit: int
    ) -> tuple[list[OutgoingDelivery], list[tuple[str, str, datetime]]]:
        """Mark up to `limit` due rows SENDING, committed before they are sent; and the
        recent sends (lane, conversation, sent at) of the lanes taken with them."""
        now = self._clock.now()
        async with self._writing, self._uow() as uow:
            claimed, taken = await uow.outbox.claim_due(
                self.owner, now, limit, now + self._policy.lane_lease
            )
            history = await uow.outbox.lane_history(sorted(taken), now - self._history)
            for delivery in claimed:
                delivery.claim(now)
                await uow.outbox.save(delivery)
            await uow.commit()
        self._stats.claimed += len(claimed)
        self._stats.lanes_taken += len(taken)
        return claimed, history

    async def keep_when_due(self, lanes: Collection[str]) -> None:
        """Renew the leases of `lanes` (those with rows in flight) and let the others go, at
        the first call, then every quarter of the lane lease."""
        if self._next_keep is not None and self._monotonic() < self._next_keep:
            return
        self._next_keep = self._monotonic() + self._policy.lane_lease.total_seconds() / 4
        await self.keep(lanes)

    async def keep(self, lanes: Collection[str]) -> None:
        """Renew the leases of `lanes` and let this dispatcher's other lanes go."""
        now = self._clock.now()
        async with self._writing, self._uow() as uow:
            await uow.outbox.keep_lanes(self.owner, sorted(lanes), now + self._policy.lane_lease)
            await uow.commit()

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
