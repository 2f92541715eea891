"""Each planned meeting is created once, however many instances plan at once: on PostgreSQL,
instances each with a Storage of their own (as separate processes) refresh one panel's
calendar together; on SQLite (one instance), turns of one process do. A planner that took no
lock and lost the race to the unique (panel, planned date) is told the meetings are there."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.app import make_deps
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.features.meetings.calendar import (
    GRAPH_SYNC,
    Calendar,
    CalendarConfig,
    ScheduleBook,
    ensure_meetings,
    years_to_check,
)
from bot.kernel.localtime import england_and_wales_holidays
from storage import SqlStorage, migrate_async, open_storage
from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.meeting import Meeting
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage

# Friday 20 November 2026: the demo panel has meetings on 8 Dec and 12 Jan; the next six
# second Tuesdays need four more (Feb to May 2027).
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
INSTANCES = 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def storages(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Storage]]:
    """One database with the demo panel, as INSTANCES processes open it (SQLite: one
    instance by design, so one storage that every planner shares)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp_path / 'once.sqlite3').as_posix()}"
        await migrate_async(url)
        shared = open_storage(url)
        await seed_demo(shared.unit_of_work, FixedClock(NOW))
        try:
            yield [shared] * INSTANCES
        finally:
            await shared.close()
        return
    await require_postgres()
    schema = unique_schema("meetings_once")
    await migrate_async(POSTGRES_URL, schema=schema)
    opened: list[Storage] = [open_storage(POSTGRES_URL, schema=schema) for _ in range(INSTANCES)]
    try:
        await seed_demo(opened[0].unit_of_work, FixedClock(NOW))
        yield opened
    finally:
        for storage in opened:
            await storage.close()
        await drop_schema(schema)


async def the_panel(storage: Storage) -> Panel:
    async with storage.unit_of_work() as uow:
        (panel,) = await uow.panels.list_all()
    return panel


async def all_meetings(storage: Storage, panel: Panel) -> list[Meeting]:
    async with storage.unit_of_work() as uow:
        return await uow.meetings.upcoming(panel.id, NOW - timedelta(days=400), limit=100)


def assert_once(meetings: list[Meeting], panel: Panel) -> None:
    zone = ZoneInfo(panel.timezone)
    days = Counter(m.starts_at.astimezone(zone).date() for m in meetings)
    assert [day for day, count in days.items() if count > 1] == []
    planned = Counter(m.planned_on for m in meetings if m.planned_on is not None)
    assert [day for day, count in planned.items() if count > 1] == []


async def test_instances_refreshing_one_panel_at_once_create_each_meeting_once(
    storages: list[Storage],
) -> None:
    panel = await the_panel(storages[0])
    before = len(await all_meetings(storages[0], panel))
    calendars = [Calendar(CalendarConfig()) for _ in storages]
    clock = FixedClock(NOW)
    created = await asyncio.gather(
        *(
            calendar.refresh(make_deps(uow=storage.unit_of_work, clock=clock), panel)
            for calendar, storage in zip(calendars * 2, storages * 2, strict=True)
        )
    )
    meetings = await all_meetings(storages[0], panel)
    assert_once(meetings, panel)
    assert sum(len(c) for c in created) == len(meetings) - before == 4
    # The daily job on every instance at once changes nothing more.
    await asyncio.gather(
        *(
            calendar.refresh_all(make_deps(uow=storage.unit_of_work, clock=clock))
            for calendar, storage in zip(calendars, storages, strict=True)
        )
    )
    assert len(await all_meetings(storages[-1], panel)) == len(meetings)


async def test_a_planner_that_lost_the_race_to_the_unique_date_says_they_are_there(
    storages: list[Storage], caplog: pytest.LogCaptureFixture
) -> None:
    if not isinstance(storages[0], SqlStorage):
        pytest.skip("the unique key is the database's")
    panel = await the_panel(storages[0])
    schedule = ScheduleBook().schedule_for(panel)
    holidays = england_and_wales_holidays(years_to_check(schedule, NOW))
    deps = make_deps(uow=storages[-1].unit_of_work, clock=FixedClock(NOW))
    async with storages[0].unit_of_work() as lockless:
        # Planned without the panel's lock (as a second SQLite process would), not yet
        # committed while the calendar plans the same dates.
        first = await ensure_meetings(lockless, panel, schedule, NOW, holidays)
        assert len(first) == 4
        with caplog.at_level(logging.INFO):
            refresh = asyncio.create_task(Calendar(CalendarConfig()).refresh(deps, panel))
            await asyncio.sleep(0.3)  # it reaches the unique index and waits on it
            await lockless.commit()
            assert await refresh == []  # no error: they are there
    meetings = await all_meetings(storages[0], panel)
    assert_once(meetings, panel)
    assert {m.id for m in first} <= {m.id for m in meetings}


async def test_refreshing_wakes_the_graph_sync_only_when_it_planned_something(
    storages: list[Storage],
) -> None:
    panel = await the_panel(storages[0])
    deps = make_deps(uow=storages[0].unit_of_work, clock=FixedClock(NOW))
    calendar = Calendar(CalendarConfig(panel_calendar=NoGraph()))
    assert len(await calendar.refresh(deps, panel)) == 4
    assert deps.wakeups.woken(GRAPH_SYNC)
    assert await calendar.refresh(deps, panel) == []
    assert not deps.wakeups.woken(GRAPH_SYNC)


class NoGraph:
    """An online-meetings port the test never reaches (only the wake-up is checked)."""

    async def create_event(self, event: object) -> object:
        raise AssertionError("no Graph call")

    async def move_event(
        self, event_id: str, *, starts_at: datetime, ends_at: datetime, timezone: str
    ) -> None:
        raise AssertionError("no Graph call")

    async def cancel_event(self, event_id: str, *, comment: str) -> None:
        raise AssertionError("no Graph call")

    async def update_attendees(self, event_id: str, *, wanted: object, unwanted: object) -> bool:
        raise AssertionError("no Graph call")

    async def install_in_meeting_chat(self, join_url: str) -> str:
        raise AssertionError("no Graph call")

    async def move_online_meeting(
        self, online_meeting_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> None:
        raise AssertionError("no Graph call")

    async def delete_online_meeting(self, online_meeting_id: str) -> None:
        raise AssertionError("no Graph call")
