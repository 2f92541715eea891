"""The outbox dispatcher: claims due rows and keeps them moving through their lanes.

It wires the collaborators (see the package's docstring) and runs the loops: `run_once`
claims one batch and delivers it; `run_forever` keeps up to `max_in_flight` rows moving and
sleeps when there is nothing due, unless `kick`ed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.teams.outbox.budget import TenantBudget
from bot.teams.outbox.chats import Chats
from bot.teams.outbox.claims import Claims
from bot.teams.outbox.connector import Connector
from bot.teams.outbox.courier import Courier
from bot.teams.outbox.lanes import Lanes
from bot.teams.outbox.outcomes import FLUSH_SECONDS, Outcomes
from bot.teams.outbox.policy import DeliveryPolicy, DeliveryStats
from bot.teams.outbox.targets import UNKNOWN, Target, Targets
from bot.teams.ratelimit import Pacer, RateLimits

if TYPE_CHECKING:
    from datetime import datetime

    from botbuilder.integration.aiohttp import CloudAdapter

    from bot.kernel.router import Deps
    from bot.teams.conversations import InstallForUser

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class OutboxDispatcher:
    """Claims due outbox rows and sends them; one per process (SQLite) or several (PostgreSQL)."""

    def __init__(
        self,
        adapter: CloudAdapter,
        deps: Deps,
        app_id: str,
        *,
        limits: RateLimits | None = None,
        policy: DeliveryPolicy | None = None,
        install_for_user: InstallForUser | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        batch: int | None = None,
        owner: str | None = None,
    ) -> None:
        self.policy = policy or DeliveryPolicy()
        if batch is not None:
            self.policy = replace(self.policy, batch=batch)
        self.stats = DeliveryStats()
        self.heartbeat: float | None = None  # time.monotonic() of run_forever's last pass
        self.pacer = Pacer(limits, clock=monotonic, sleep=sleep)
        # Who holds this dispatcher's lanes (PostgreSQL): unique to this run of it.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._deps = deps
        self._wake = asyncio.Event()
        # The dispatcher's own writes take turns (SQLite has one writer anyway).
        writing = asyncio.Lock()
        now = deps.clock.now
        longest = max((w.seconds for w in self.pacer.limits.per_conversation), default=0.0)
        self._claims = Claims(
            deps.uow,
            deps.clock,
            writing,
            self.policy,
            self.stats,
            owner=self.owner,
            history_seconds=longest,
            monotonic=monotonic,
        )
        self._budget = TenantBudget(
            deps.uow,
            self.pacer.limits,
            self.stats,
            owner=self.owner,
            monotonic=monotonic,
            sleep=sleep,
        )
        self._targets = Targets(now=now, monotonic=monotonic)
        self._outcomes = Outcomes(deps.uow, deps.clock, writing, self.stats)
        connector = Connector(
            adapter,
            app_id,
            timeout=self.policy.send_timeout,
            now=now,
            install_for_user=install_for_user,
        )
        courier = Courier(
            policy=self.policy,
            stats=self.stats,
            pacer=self.pacer,
            budget=self._budget,
            connector=connector,
            chats=Chats(connector, self._targets, deps.uow, writing, now=now),
            targets=self._targets,
            outcomes=self._outcomes,
            uow=deps.uow,
            now=now,
            monotonic=monotonic,
            sleep=sleep,
            rng=rng or random.Random(),  # noqa: S311  (jitter, not secrets)
        )
        self._refill_at = max(1, min(self.policy.batch, self.policy.max_in_flight) // 2)
        self._lanes = Lanes(
            courier.deliver,
            courier.hand_back,
            max_in_flight=self.policy.max_in_flight,
            refill_at=self._refill_at,
            room=self._wake.set,
            monotonic=monotonic,
        )

    def kick(self) -> None:
        """Something was queued: look now rather than at the next tick."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them; returns how many were claimed."""
        await self._claims.resume_when_due()
        await self._claims.keep_when_due(self._lanes.keys())
        claimed = await self._claim(self.policy.batch)
        try:
            await self._lanes.drain()
        except BaseException:
            await self._stop()
            raise
        return claimed

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """Deliver until cancelled: keep up to `max_in_flight` rows moving, sleep when idle.

        Cancelling stops the sends at once: rows not finished stay SENDING and are taken back
        after the lease (outcomes already known are written first, for a few seconds).
        """
        try:
            while True:
                self.heartbeat = time.monotonic()  # /readyz: the loop is alive
                room = self.policy.max_in_flight - self._lanes.in_flight
                # Claim in worthwhile batches: one transaction per freed row would keep the
                # database busy for nothing.
                want = min(self.policy.batch, room) if room >= self._refill_at else 0
                claimed = 0
                try:
                    await self._claims.resume_when_due()
                    await self._claims.keep_when_due(self._lanes.keys())
                    if want > 0:
                        claimed = await self._claim(want)
                except Exception:
                    log.exception("outbox pass failed; trying again shortly")
                if want > 0 and claimed == want:
                    continue  # there may be more due
                self._lanes.waiting_for_room = want <= 0
                try:
                    async with asyncio.timeout(idle_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                self._lanes.waiting_for_room = False
        finally:
            await self._stop()

    async def resume_abandoned(self) -> int:
        """Put back in the queue the rows a stopped dispatcher left SENDING; returns how many."""
        return await self._claims.resume_abandoned()

    async def _claim(self, limit: int) -> int:
        """Claim due rows, look up where each goes, and start delivering them."""
        claimed, history = await self._claims.claim(limit)
        self._remember(history)
        if not claimed:
            return 0
        targets: list[Target | None]
        try:
            async with self._deps.uow() as uow:
                targets = [await self._targets.of(uow, delivery) for delivery in claimed]
        except Exception:
            # They stay ours: handed back by the lanes, or taken back after the lease.
            log.exception("could not look up where %d deliveries go", len(claimed))
            targets = [UNKNOWN] * len(claimed)
        for delivery, target in zip(claimed, targets, strict=True):
            self._lanes.admit(delivery, target)
        return len(claimed)

    def _remember(self, history: list[tuple[str, str, datetime]]) -> None:
        """Load the recent sends of the lanes just taken into the pacer, so that their
        conversations' windows hold across the hand-over."""
        if not history:
            return
        now = self._deps.clock.now()
        ages: dict[str, list[float]] = {}
        for _lane, conversation, sent_at in history:
            ages.setdefault(conversation, []).append((now - sent_at).total_seconds())
        for conversation, seconds in ages.items():
            self.pacer.remember(conversation, seconds)

    async def _stop(self) -> None:
        await self._lanes.stop()
        await self._budget.stop()
        # Outcomes already known are facts (a message went out): write them down if that
        # takes a moment, so a restart does not send them again. A killed process cannot.
        await self._outcomes.flush()
        # Let the lanes go, so other instances need not wait for their leases to run out
        # (rows left sending keep their lanes until they are taken back).
        try:
            async with asyncio.timeout(FLUSH_SECONDS):
                await self._claims.keep(())
        except Exception:
            log.warning("could not let this dispatcher's lanes go; their leases will run out")
