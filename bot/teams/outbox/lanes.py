"""Lanes: one conversation's rows go out in order, one at a time; different conversations go
side by side. The lanes count the rows claimed but not finished, and say when there is room
to claim more."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.domain.delivery import OutgoingDelivery
    from bot.teams.outbox.targets import Target

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    """A row in a lane: claimed at `claimed_at` (the dispatcher's monotonic clock), going to
    `target` (None: nowhere to send it)."""

    delivery: OutgoingDelivery
    claimed_at: float
    target: Target | None


class Lanes:
    """Runs `deliver` on each admitted row, a lane per conversation; a row whose delivery
    fails unexpectedly goes to `failed`."""

    def __init__(
        self,
        deliver: Callable[[Claimed], Awaitable[None]],
        failed: Callable[[OutgoingDelivery], Awaitable[None]],
        *,
        max_in_flight: int,
        refill_at: int,
        room: Callable[[], None],
        monotonic: Callable[[], float],
    ) -> None:
        self._deliver = deliver
        self._failed = failed
        self._max_in_flight = max_in_flight
        self._refill_at = refill_at
        self._room = room
        self._monotonic = monotonic
        self._lanes: dict[str, deque[Claimed]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight = 0
        # Set while the claimer waits for rows to finish; `room` is called once enough have.
        self.waiting_for_room = False

    def admit(self, delivery: OutgoingDelivery, target: Target | None) -> None:
        """Queue a claimed row behind its conversation's earlier rows."""
        key = delivery.lane
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
            task = asyncio.create_task(self._run(key, lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        lane.append(Claimed(delivery, self._monotonic(), target))
        self.in_flight += 1

    def keys(self) -> list[str]:
        """The lanes with rows claimed and not finished."""
        return list(self._lanes)

    async def drain(self) -> None:
        """Wait until every lane has finished its rows."""
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending)

    async def stop(self) -> None:
        """Cancel every lane: rows not finished stay SENDING, taken back after the lease."""
        lanes = list(self._tasks)
        for task in lanes:
            task.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)

    async def _run(self, key: str, lane: deque[Claimed]) -> None:
        try:
            while lane:
                claimed = lane[0]
                try:
                    await self._deliver(claimed)
                except Exception:
                    log.exception("delivery %s failed unexpectedly", claimed.delivery.id)
                    await self._failed(claimed.delivery)
                finally:
                    lane.popleft()
                    self.in_flight -= 1
                    room = self._max_in_flight - self.in_flight
                    if self.waiting_for_room and room >= self._refill_at:
                        self._room()
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]
