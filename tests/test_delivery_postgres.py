"""Two bot instances on one PostgreSQL database share the outbox: no row twice, none lost.

Each dispatcher has its own engine (as separate processes would) and its own adapter; both
run at once against one fake connector. Skipped when PostgreSQL cannot be reached, or a
failure when CI is set (see tests/contract/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bot.app import make_deps
from bot.bench.fanout import reminder_card, seed_spocs, states
from bot.domain.common import FixedClock
from bot.domain.delivery import DeliveryState
from bot.domain.panel import Role
from bot.kernel import notify
from bot.settings import Settings
from bot.teams.outbox import DeliveryPolicy, OutboxDispatcher
from bot.teams.ratelimit import RateLimits, Window
from bot.teams.web import make_adapter
from storage import migrate_async, open_storage
from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema
from tests.support import cards
from tests.support.connector import ConnectorLimits, start_connector

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.kernel.ports import Storage

pytestmark = pytest.mark.postgres

ROWS = 1000
SPOCS = 200  # five reminders each


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    await require_postgres()
    schema = unique_schema("delivery_two_dispatchers")
    await migrate_async(POSTGRES_URL, schema=schema)
    try:
        yield schema
    finally:
        await drop_schema(schema)


async def test_two_dispatchers_share_a_thousand_rows_sending_none_twice_and_losing_none() -> None:
    clock = FixedClock(datetime(2026, 11, 20, 10, tzinfo=UTC))
    async with postgres_schema() as schema:
        fake, server, url = await start_connector(ConnectorLimits(per_tenant=((4000, 1.0),)))
        storages: list[Storage] = [open_storage(POSTGRES_URL, schema=schema) for _ in range(3)]
        seeding, *instances = storages
        try:
            fleet = await seed_spocs(seeding, SPOCS, url, now=clock.now(), coordinators=0)
            texts = []
            async with seeding.unit_of_work() as uow:
                for n in range(ROWS // SPOCS):
                    for member in fleet.members:
                        text = f"Reminder {n} for {member.name}"
                        await notify.card_to_member(
                            uow,
                            panel_id=fleet.panel.id,
                            member_id=member.id,
                            card=reminder_card(text),
                            key=f"pg:{member.id}:{n}",
                            now=clock.now(),
                        )
                        texts.append(text)
                await uow.commit()
            async with seeding.unit_of_work() as uow:
                row_ids = [d.id for d in await uow.outbox.due(clock.now(), 10 * ROWS)]
            assert len(row_ids) == ROWS
            assert all(m.has(Role.SPOC) for m in fleet.members)

            dispatchers = [
                OutboxDispatcher(
                    make_adapter(Settings()),
                    make_deps(uow=storage.unit_of_work, clock=clock),
                    "",
                    limits=RateLimits(per_tenant=(Window(2000, 1.0),)),
                    policy=DeliveryPolicy(batch=25, max_in_flight=50),
                )
                for storage in instances
            ]
            running = [asyncio.create_task(d.run_forever(idle_seconds=0.05)) for d in dispatchers]
            try:
                async with asyncio.timeout(90):
                    while sum(d.stats.sent for d in dispatchers) < ROWS:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
            finally:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)

            assert sorted(cards.body_text(a) for a in fake.sent) == sorted(
                texts
            )  # each exactly once
            assert fake.duplicates() == 0
            assert sum(d.stats.claimed for d in dispatchers) == ROWS  # no row claimed twice
            assert all(d.stats.sent > 0 for d in dispatchers)  # the work was shared
            assert await states(seeding, fleet.panel.id, row_ids) == {
                DeliveryState.SENT.value: ROWS
            }
        finally:
            await server.close()
            for storage in storages:
                await storage.close()
