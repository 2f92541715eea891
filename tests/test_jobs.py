"""The periodic jobs' runner (bot.kernel.jobs) on SQLite and PostgreSQL: a due job runs once
across instances (two runners on one PostgreSQL database, each with a Storage of its own as
two processes would have), resumes when due after a restart, logs a failure in one line and
runs again at its next time, waits quietly on a database that is not migrated yet, and runs
before its time when a turn wakes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.app import make_deps
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.features import FEATURES
from bot.kernel.feature import Job, Setup
from bot.kernel.jobs import OK, JobRunner, Wakeups
from bot.settings import Settings
from storage import migrate_async, open_storage
from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema
from tests.support.world import NOW

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from bot.kernel.ports import JobRun, Storage

HOUR = timedelta(hours=1)
QUICK = timedelta(milliseconds=10)
# How long a test waits for something a background loop does before it fails.
PATIENCE = 10.0


@dataclass
class Instances:
    """Storages on one database, as separate processes would open it: on PostgreSQL each
    its own engine; SQLite is one instance by design, so its processes share one storage."""

    storages: list[Storage]
    url: str
    schema: str | None = None

    def open(self) -> Storage:
        """Another process, e.g. after a restart."""
        opened = open_storage(self.url, schema=self.schema)
        self.storages.append(opened)
        return opened


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def instances(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Instances]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp_path / 'jobs.sqlite3').as_posix()}"
        await migrate_async(url)
        shared = open_storage(url)
        found = Instances([shared, shared], url)
        try:
            yield found
        finally:
            for storage in {id(s): s for s in found.storages}.values():
                await storage.close()
        return
    await require_postgres()
    schema = unique_schema("jobs")
    await migrate_async(POSTGRES_URL, schema=schema)
    found = Instances([], POSTGRES_URL, schema)
    found.open()
    found.open()
    try:
        yield found
    finally:
        for storage in found.storages:
            await storage.close()
        await drop_schema(schema)


@dataclass
class Counted:
    """A job's work that counts its runs, optionally holding each until released."""

    runs: int = 0
    hold: bool = False
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    fail_with: Exception | None = None

    async def __call__(self) -> None:
        self.runs += 1
        self.started.set()
        if self.hold:
            await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with


async def stored(storage: Storage, name: str) -> JobRun | None:
    async with storage.unit_of_work() as uow:
        return await uow.jobs.get(name)


async def until(check: Callable[[], bool]) -> None:
    """Wait for what a background loop does (the test fails if it never happens)."""
    async with asyncio.timeout(PATIENCE):
        while not check():  # noqa: ASYNC110 (what a background loop did, polled)
            await asyncio.sleep(0.01)


async def test_two_instances_run_a_due_job_once(instances: Instances) -> None:
    work = Counted(hold=True)
    job = Job("once", HOUR, work)
    clock = FixedClock(NOW)
    first, second = (JobRunner(storage, [job], clock) for storage in instances.storages)
    running = asyncio.create_task(first.step(job))
    await work.started.wait()
    meanwhile = await second.step(job)  # the first holds the job: no waiting, no run
    assert not meanwhile.ran
    work.release.set()
    done = await running
    assert (done.ran, done.outcome, done.wait) == (True, OK, HOUR)
    assert not (await second.step(job)).ran  # done: not due again before its time
    assert work.runs == 1
    state = await stored(instances.storages[1], "once")
    assert state is not None
    assert (state.last_started, state.last_finished, state.next_due) == (NOW, NOW, NOW + HOUR)
    assert state.outcome == OK


async def test_two_instances_at_once_run_it_once(instances: Instances) -> None:
    work = Counted()
    job = Job("together", HOUR, work)
    clock = FixedClock(NOW)
    runners = [JobRunner(storage, [job], clock) for storage in instances.storages]
    steps = await asyncio.gather(*(runner.step(job) for runner in runners * 3))
    assert sum(step.ran for step in steps) == 1
    assert work.runs == 1


async def test_after_a_restart_a_job_runs_when_due_not_from_scratch(instances: Instances) -> None:
    work = Counted()
    job = Job("resumed", HOUR, work)
    clock = FixedClock(NOW)
    assert (await JobRunner(instances.storages[0], [job], clock).step(job)).ran
    # Another process, started half an hour later, knows nothing but the database.
    restarted = JobRunner(instances.open(), [job], clock)
    clock.advance(NOW + HOUR / 2)
    waiting = await restarted.step(job)
    assert (waiting.ran, waiting.wait) == (False, HOUR / 2)
    clock.advance(NOW + HOUR)
    assert (await restarted.step(job)).ran
    # Due while every instance was down: it runs at once, and is next due from then.
    clock.advance(NOW + 5 * HOUR)
    late = await JobRunner(instances.open(), [job], clock).step(job)
    assert (late.ran, late.wait) == (True, HOUR)
    assert work.runs == 3


async def test_a_new_database_runs_a_job_after_its_first_wait(instances: Instances) -> None:
    work = Counted()
    job = Job("later", HOUR, work, first_after=timedelta(minutes=1))
    clock = FixedClock(NOW)
    runner = JobRunner(instances.storages[0], [job], clock)
    assert (await runner.step(job)).wait == timedelta(minutes=1)
    clock.advance(NOW + timedelta(minutes=1))
    assert (await runner.step(job)).ran
    assert work.runs == 1


async def test_a_failed_run_is_one_line_and_runs_again_at_its_next_time(
    instances: Instances, caplog: pytest.LogCaptureFixture
) -> None:
    work = Counted(fail_with=ValueError("the agency list is empty\nsecond line"))
    job = Job("failing", HOUR, work)
    clock = FixedClock(NOW)
    runner = JobRunner(instances.storages[0], [job], clock)
    with caplog.at_level(logging.INFO, logger="bot.kernel.jobs"):
        failed = await runner.step(job)
    assert (failed.ran, failed.outcome, failed.wait) == (True, "failed: ValueError", HOUR)
    (line,) = [record for record in caplog.records if record.name == "bot.kernel.jobs"]
    assert line.getMessage() == (
        "job failing failed (ValueError: the agency list is empty); it runs again at its next time"
    )
    assert line.exc_info is None  # one line: the traceback only at DEBUG
    state = await stored(instances.storages[0], "failing")
    assert state is not None
    assert (state.outcome, state.next_due) == ("failed: ValueError", NOW + HOUR)
    assert not (await runner.step(job)).ran
    work.fail_with = None
    clock.advance(NOW + HOUR)
    assert (await runner.step(job)).outcome == OK
    assert work.runs == 2


async def test_jobs_wait_quietly_for_a_database_that_is_not_migrated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'new.sqlite3').as_posix()}"
    storage = open_storage(url)
    work, other = Counted(), Counted()
    jobs = [Job("first", HOUR, work), Job("second", HOUR, other)]
    runner = JobRunner(storage, jobs, FixedClock(NOW), unready_retry=QUICK)
    try:
        with caplog.at_level(logging.INFO, logger="bot.kernel.jobs"):
            task = asyncio.create_task(runner.run_forever())
            await asyncio.sleep(0.3)  # some thirty looks at an unmigrated database
            assert (work.runs, other.runs) == (0, 0)
            await migrate_async(url)
            await until(lambda: work.runs == other.runs == 1)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await storage.close()
    ours = [record for record in caplog.records if record.name == "bot.kernel.jobs"]
    lines = [record.getMessage() for record in ours]
    assert len(lines) == 2, lines
    waiting, resumed = lines
    assert waiting.startswith("periodic jobs wait: the database cannot be read (")
    assert "no such table: job_runs" in waiting
    assert resumed == "periodic jobs resume: the database answers"
    assert all(record.exc_info is None for record in ours)


async def test_a_woken_job_runs_before_its_time(instances: Instances) -> None:
    work = Counted()
    job = Job("woken", HOUR, work)
    wakeups = Wakeups()
    runner = JobRunner(instances.storages[0], [job], FixedClock(NOW), wakeups)
    task = asyncio.create_task(runner.run_forever())
    try:
        await until(lambda: work.runs == 1)
        wakeups.wake("woken")
        await until(lambda: work.runs == 2)
        wakeups.wake("someone else")  # another job's bell rings nothing here
        await asyncio.sleep(0.1)
        assert work.runs == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_woken_job_another_instance_is_running_runs_here_after_it(
    instances: Instances,
) -> None:
    work = Counted(hold=True)
    job = Job("woken-twice", HOUR, work)
    clock = FixedClock(NOW)
    elsewhere = asyncio.create_task(JobRunner(instances.storages[0], [job], clock).step(job))
    await work.started.wait()
    wakeups = Wakeups()
    here = JobRunner(instances.storages[1], [job], clock, wakeups, woken_retry=QUICK)
    task = asyncio.create_task(here.run_forever())
    try:
        wakeups.wake("woken-twice")  # e.g. a meeting planned while the other instance syncs
        await asyncio.sleep(0.1)
        assert work.runs == 1  # it waits for the other instance's run
        work.release.set()
        await elsewhere
        await until(lambda: work.runs == 2)  # then runs, though not due for an hour
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_features_declare_each_periodic_job_once_with_its_setting(
    instances: Instances,
) -> None:
    settings = Settings(
        reminders_every_seconds=120,
        retention_interval_hours=12,
        housekeeping_interval_hours=3,
        calendar_refresh_hours=6,
        graph_sync_minutes=5,
    )
    storage = instances.storages[0]
    clock = FixedClock(datetime(2026, 11, 20, 10, tzinfo=UTC))
    await seed_demo(storage.unit_of_work, clock)
    deps = make_deps(uow=storage.unit_of_work, clock=clock)
    without_graph = [job for f in FEATURES for job in f.jobs(Setup(settings), deps, lambda: None)]
    assert {job.name: job.every for job in without_graph} == {
        "reminders": timedelta(seconds=120),
        "retention": timedelta(hours=12),
        "housekeeping": timedelta(hours=3),
        "calendar-refresh": timedelta(hours=6),
    }
    with_graph = Setup(settings, panel_calendar=NoGraph())
    with_sync = {job.name: job for f in FEATURES for job in f.jobs(with_graph, deps, lambda: None)}
    assert set(with_sync) == {*(job.name for job in without_graph), "graph-sync"}
    assert with_sync["graph-sync"].every == timedelta(minutes=5)
    # The daily calendar job plans every panel's next six meetings.
    (refresh,) = [job for job in without_graph if job.name == "calendar-refresh"]
    assert (await JobRunner(storage, [refresh], clock).step(refresh)).outcome == OK
    async with storage.unit_of_work() as uow:
        (panel,) = await uow.panels.list_all()
        planned = await uow.meetings.planned_days(panel.id, date(2026, 11, 20))
    assert len(planned) == 4  # 8 Dec and 12 Jan were there already


class NoGraph:
    """Graph never called: only the jobs' declaration is looked at."""

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
