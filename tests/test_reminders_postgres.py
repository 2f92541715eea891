"""Two bot instances run the reminder job on one PostgreSQL database at once: each reminder
is queued once. Skipped when PostgreSQL cannot be reached (a failure when CI is set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bot.app import make_deps
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.features.actions import reminders
from storage import migrate_async, open_storage
from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

pytestmark = pytest.mark.postgres

# Monday 30 November 2026: information requests due, an action overdue past the limit.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


async def test_two_instances_running_the_job_at_once_queue_each_reminder_once() -> None:
    await require_postgres()
    schema = unique_schema("reminders_two_instances")
    await migrate_async(POSTGRES_URL, schema=schema)
    storages: list[Storage] = [open_storage(POSTGRES_URL, schema=schema) for _ in range(3)]
    seeding, *instances = storages
    try:
        await seed_demo(seeding.unit_of_work, FixedClock(datetime(2026, 11, 20, 10, tzinfo=UTC)))
        clock = FixedClock(MONDAY)
        runs = await asyncio.gather(
            *(
                reminders.run_due(make_deps(uow=storage.unit_of_work, clock=clock))
                for storage in instances
                for _ in range(2)
            )
        )
        assert sum(r.failed for r in runs) == 0
        async with seeding.unit_of_work() as uow:
            queued = await uow.outbox.due(datetime(2100, 1, 1, tzinfo=UTC), 1000)
        keys = [d.key for d in queued]
        assert len(keys) == len(set(keys))
        assert sum(r.cards for r in runs) == len(queued) > 0
        # Gemma (Housing), Tom (police) and Priya (coordinator, the overdue action) once each.
        assert len({d.recipient_member_id for d in queued}) == len(queued) == 3
        again = await reminders.run_due(make_deps(uow=seeding.unit_of_work, clock=clock))
        assert (again.reminders, again.cards) == (0, 0)
    finally:
        for storage in storages:
            await storage.close()
        await drop_schema(schema)
