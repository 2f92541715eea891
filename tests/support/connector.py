"""The fake Bot Connector service tests talk to, and a rig for delivery tests.

The fake itself lives in bot.bench.connector, so that the benchmark, which ships with the
bot, can use it too; it is re-exported here under the names tests have always used.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.app import make_deps
from bot.bench.connector import (
    BLOCKED_BY_USER,
    BOT_DISABLED_BY_ADMIN,
    CONVERSATION_NOT_FOUND,
    ConnectorLimits,
    FakeConnector,
    Fault,
    start_connector,
)
from bot.bench.fanout import Fleet, reminder_card, seed_spocs
from bot.domain.panel import Member, Role
from bot.kernel import notify
from bot.settings import Settings
from bot.teams.outbox import DeliveryPolicy, OutboxDispatcher
from bot.teams.web import make_adapter
from storage import migrate_async, open_storage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

    from bot.domain.common import FixedClock
    from bot.domain.delivery import ConversationRef, OutgoingDelivery
    from bot.kernel.ports import Storage
    from bot.teams.ratelimit import RateLimits

__all__ = [
    "BLOCKED_BY_USER",
    "BOT_DISABLED_BY_ADMIN",
    "CONVERSATION_NOT_FOUND",
    "QUICK",
    "ConnectorLimits",
    "DeliveryRig",
    "FakeConnector",
    "Fault",
    "deliver",
    "delivery_rig",
    "start_connector",
]

# Retries within milliseconds, so tests of failures stay quick.
QUICK = DeliveryPolicy(
    concurrency=8,
    backoff_seconds=0.01,
    max_backoff_seconds=0.05,
    send_timeout=2.0,
)


@dataclass
class DeliveryRig:
    """A migrated SQLite file with a seeded panel, and a fake connector its chats point at."""

    storage: Storage
    database_url: str
    fake: FakeConnector
    url: str
    fleet: Fleet
    clock: FixedClock

    @property
    def spocs(self) -> list[Member]:
        return [m for m in self.fleet.members if m.has(Role.SPOC)]

    @property
    def coordinators(self) -> list[Member]:
        return [m for m in self.fleet.members if m.has(Role.COORDINATOR)]

    def chat_of(self, member: Member) -> ConversationRef:
        """The personal chat the rig seeded for a member."""
        return next(ref for ref in self.fleet.chats if ref.member_id == member.id)

    def dispatcher(
        self,
        *,
        limits: RateLimits | None = None,
        policy: DeliveryPolicy = QUICK,
        install_for_user: Callable[[str], Awaitable[None]] | None = None,
        storage: Storage | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> OutboxDispatcher:
        """A dispatcher with the real adapter (local mode), quick retries and a fixed clock."""
        return OutboxDispatcher(
            make_adapter(Settings()),
            make_deps(uow=(storage or self.storage).unit_of_work, clock=self.clock),
            "",
            limits=limits,
            policy=policy,
            install_for_user=install_for_user,
            monotonic=monotonic,
            rng=random.Random(5),
        )

    async def queue(self, member: Member, text: str, *, key: str | None = None) -> str:
        """Queue a reminder card for the member; returns the outbox row's id."""
        key = key or f"test:{member.id}:{text}"
        async with self.storage.unit_of_work() as uow:
            assert await notify.card_to_member(
                uow,
                panel_id=self.fleet.panel.id,
                member_id=member.id,
                card=reminder_card(text),
                key=key,
                now=self.clock.now(),
            )
            await uow.commit()
        async with self.storage.unit_of_work() as uow:
            rows = await uow.outbox.due(self.clock.now(), 100_000)
        return next(row.id for row in rows if row.key == key)

    async def row(self, row_id: str) -> OutgoingDelivery:
        async with self.storage.unit_of_work() as uow:
            found = await uow.outbox.get(self.fleet.panel.id, row_id)
        assert found is not None
        return found

    async def queued_for(self, member: Member) -> list[OutgoingDelivery]:
        """Rows still waiting for the member (due any time)."""
        async with self.storage.unit_of_work() as uow:
            rows = await uow.outbox.due(datetime.max.replace(tzinfo=self.clock.now().tzinfo), 1000)
        return [r for r in rows if r.recipient_member_id == member.id]


async def deliver(dispatcher: OutboxDispatcher, *, within: float = 30.0) -> int:
    """Run the dispatcher until nothing is due; returns how many rows it claimed."""
    total = 0
    async with asyncio.timeout(within):
        while claimed := await dispatcher.run_once():
            total += claimed
    return total


@contextlib.asynccontextmanager
async def delivery_rig(
    directory: Path,
    clock: FixedClock,
    *,
    spocs: int = 3,
    coordinators: int = 1,
    limits: ConnectorLimits | None = None,
) -> AsyncIterator[DeliveryRig]:
    """A rig on a fresh SQLite file; everything is closed afterwards."""
    url = f"sqlite+aiosqlite:///{(directory / 'delivery.sqlite3').as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    fake, server, service_url = await start_connector(limits)
    try:
        fleet = await seed_spocs(
            storage, spocs, service_url, now=clock.now(), coordinators=coordinators
        )
        yield DeliveryRig(storage, url, fake, service_url, fleet, clock)
    finally:
        fake.release()
        await server.close()
        await storage.close()
