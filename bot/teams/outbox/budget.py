"""The tenant's limit shared by every instance on one PostgreSQL database: one turn per
request, taken from one row per tenant.

Each request to the connector first takes the tenant's next turn (`tenant_turn`: one
UPDATE, on the database's clock, for the requests of this process waiting at that moment,
while it holds fewer than AHEAD turns still to come): the row moves on by GAP_SPREAD /
limit seconds a turn, so turns across instances are evenly spaced a little wider than the
limit allows. Holding few turns ahead keeps the queue of turns short (a few per instance,
not each instance's concurrency): a process held up misses few, and a request that missed
its turn waits for a new one a fraction of a second, not a whole second behind everyone's.
A turn's instant is read on this host's wall clock (hosts kept in time by NTP agree to a
few milliseconds), never from when the answer happened to come back. The request waits for
its turn and goes; one that finds itself later than LATE past its turn (its process was
busy) takes a new turn rather than going, so it cannot land close to another instance's
next request; while no other instance has taken turns for ALONE_AFTER seconds, it goes (its
own pacer already counts its requests until their answers come back, so late ones cannot
crowd its own). The connector counts arrivals in sliding windows: turns GAP_SPREAD / limit
apart and at most LATE late put at most (1 + LATE) × limit / GAP_SPREAD requests in any
second, a couple below the limit, the margin left for uneven delays on the way; the tenant
gets up to 1 / GAP_SPREAD of its limit, less the turns missed by a busy process.

TEAMS_RATE_PER_TENANT is therefore the tenant's total, however many instances there are.
On SQLite (the embedded default, one instance) and in memory the port answers None: the
process's own pacer (bot.teams.ratelimit) holds the tenant's limit alone, and this asks
nothing more after the first request.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.kernel.ports import UnitOfWorkFactory
    from bot.teams.outbox.policy import DeliveryStats
    from bot.teams.ratelimit import RateLimits

# Turns are this much wider apart than the tenant's limit allows on average.
GAP_SPREAD = 1.08
# A request later than this past its turn takes another (while other instances send too).
LATE = 0.02
# The most turns a process holds that have not come yet: one held up (busy, starved of CPU)
# misses no more than these, and a request that missed its turn waits for a new one behind
# a few turns of each instance, not behind all they could take (their concurrency each).
AHEAD = 4
# Another instance counts as sending for this long after it last took turns.
ALONE_AFTER = 2.0

# A request's turn: its monotonic instant, and whether other instances take turns too.
_Turn = tuple[float, bool]


class TenantBudget:
    """Hands out the tenant's turns across instances (PostgreSQL), or nothing to wait for.

    The requests of this process waiting for a turn at the same moment take theirs in one
    statement (`count` turns), so the database sees one request per batch, not per send.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        limits: RateLimits,
        stats: DeliveryStats,
        *,
        owner: str,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._uow = uow
        self._owner = owner
        self._stats = stats
        self._monotonic = monotonic
        self._sleep = sleep
        rate = limits.tenant_rate
        self.gap = GAP_SPREAD / rate if limits.pace and 0 < rate < math.inf else 0.0
        # None until the storage says whether the outbox is shared.
        self.shared: bool | None = None if self.gap > 0 else False
        self._waiting: dict[str, list[asyncio.Future[_Turn | None]]] = {}
        # Until when (monotonic) other instances are known to take this tenant's turns.
        self._others_until: dict[str, float] = {}
        self._takers: dict[str, asyncio.Task[None]] = {}
        # The instants (monotonic) of the turns this process took, by tenant.
        self._held: dict[str, list[float]] = {}

    async def turn(self, tenant: str, deadline: float) -> float | None:
        """Wait for the tenant's turn: None when it has come (send now); otherwise the
        seconds it would take, which run past `deadline` (the monotonic instant the row must
        be sent or handed back by), and the turn is given up."""
        while self.shared is not False:
            turn = await self._next(tenant)
            if turn is None:
                return None
            due, others = turn
            now = self._monotonic()
            if due > deadline:
                return due - now
            if due > now:
                await self._sleep(due - now)
            late = self._monotonic() - due
            others = others or self._monotonic() < self._others_until.get(tenant, -math.inf)
            if late <= LATE or not others:
                return None
            self._stats.late_turns += 1
        return None

    async def stop(self) -> None:
        """Stop taking turns (the dispatcher stops)."""
        takers = list(self._takers.values())
        for taker in takers:
            taker.cancel()
        await asyncio.gather(*takers, return_exceptions=True)
        self._takers.clear()

    async def _next(self, tenant: str) -> _Turn | None:
        """The monotonic instant of this request's turn, and whether other instances take
        turns too; None when the outbox is not shared."""
        turn: asyncio.Future[_Turn | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant, []).append(turn)
        taker = self._takers.get(tenant)
        if taker is None or taker.done():
            self._takers[tenant] = asyncio.create_task(self._take(tenant))
        return await turn

    async def _take(self, tenant: str) -> None:
        """Take turns for the requests waiting, in one statement per batch, never holding
        more than AHEAD turns that have not come yet."""
        held = self._held.setdefault(tenant, [])
        while waiting := [turn for turn in self._waiting.pop(tenant, []) if not turn.done()]:
            now = self._monotonic()
            held[:] = [due for due in held if due > now]
            room = AHEAD - len(held)
            if room <= 0:
                # The rest take theirs once the next one held has come.
                self._waiting[tenant] = waiting + self._waiting.get(tenant, [])
                await self._sleep(held[0] - now)
                continue
            batch = waiting[:room]
            if len(waiting) > room:
                self._waiting[tenant] = waiting[room:] + self._waiting.get(tenant, [])
            try:
                async with self._uow() as uow:
                    taken = await uow.outbox.tenant_turn(
                        tenant, self._owner, self.gap, len(batch), alone_after=ALONE_AFTER
                    )
                    await uow.commit()
            except Exception as error:
                for turn in batch:
                    if not turn.done():
                        turn.set_exception(error)
                continue
            self.shared = taken is not None
            if taken is None:
                for turn in batch + self._waiting.pop(tenant, []):
                    if not turn.done():
                        turn.set_result(None)
                continue
            turn_at, others = taken
            if others:
                # Turns already handed out alone are shared from now on too.
                self._others_until[tenant] = self._monotonic() + ALONE_AFTER
            # Read on this host's wall clock, not from when the answer came back (this
            # process may have been busy meanwhile): hosts kept in time by NTP agree.
            first = self._monotonic() + (turn_at - datetime.now(UTC)).total_seconds()
            for n, turn in enumerate(batch):
                due = first + n * self.gap
                held.append(due)
                if not turn.done():
                    turn.set_result((due, others))
