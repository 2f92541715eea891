"""Periodic jobs, once across instances: reminders, retention, housekeeping, the calendar's
refresh and its Graph sync (each feature declares its own: bot.kernel.feature.Job).

Every instance runs a loop per job. When the job is due (its row in `job_runs` says so), the
instance that takes the job's leader lock (Storage.leader: PostgreSQL's advisory lock, so
one instance at a time; on SQLite, one instance by design) reads the row again, runs the
job and records when it started and finished, how it ended and when it is next due. The
others find it taken or not yet due and wait. The schedule lives in the database, so after
a restart a job runs when it is due, not from scratch, and a job that was due while every
instance was down runs at once.

A failed run logs one line (the error's kind and first line, no traceback unless DEBUG) and
the job runs again at its next time. A database that cannot be read (not migrated yet, or
away) makes every job wait quietly: one line when that starts, one when it ends.
`Wakeups.wake(name)` runs a job of this process before its time (the Graph sync right
after a meeting is planned or moved); if another instance is running it, this one tries
again shortly, so the change is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.kernel.ports import JobRun

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from bot.domain.common import Clock
    from bot.kernel.feature import Job
    from bot.kernel.ports import Storage

log = logging.getLogger(__name__)

OK = "ok"
# How long a job waits before it looks again: while the database cannot be read, and after
# finding another instance running it (a woken job tries again sooner).
UNREADY_RETRY = timedelta(seconds=10)
TAKEN_RETRY = timedelta(seconds=60)
WOKEN_RETRY = timedelta(seconds=5)


def _reason(exc: BaseException) -> str:
    """An error in one line: its kind and its message's first line, cut short."""
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def leader_name(job: Job) -> str:
    """The lock a job's runs take."""
    return f"job:{job.name}"


class Wakeups:
    """Wakes a job of this process before its time; the use cases reach it as `deps.wakeups`
    (a turn only rings: the job runs outside the turn)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def _event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    def wake(self, name: str) -> None:
        """Run the named job as soon as it can (nothing happens if none runs here)."""
        self._event(name).set()

    def woken(self, name: str) -> bool:
        """Whether the job was woken since it last looked (and forget it)."""
        event = self._event(name)
        was = event.is_set()
        event.clear()
        return was

    async def wait(self, name: str, seconds: float) -> None:
        """Sleep up to `seconds`, or until the job is woken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event(name).wait(), timeout=max(seconds, 0.0))


@dataclass(frozen=True)
class Step:
    """What one look at a job did: whether it ran, and how long to wait before the next."""

    ran: bool
    wait: timedelta
    outcome: str | None = None


class Unready(Exception):
    """The job's state could not be read: the database is not migrated yet, or away."""


class JobRunner:
    """Runs the features' periodic jobs in this process, each once across instances."""

    def __init__(
        self,
        storage: Storage,
        jobs: Sequence[Job],
        clock: Clock,
        wakeups: Wakeups | None = None,
        *,
        unready_retry: timedelta = UNREADY_RETRY,
        woken_retry: timedelta = WOKEN_RETRY,
    ) -> None:
        self.storage = storage
        self.jobs = list(jobs)
        self.clock = clock
        self.wakeups = wakeups or Wakeups()
        self.unready_retry = unready_retry
        self.woken_retry = woken_retry
        self._unready = False

    async def run_forever(self) -> None:
        """A loop per job, until cancelled."""
        async with asyncio.TaskGroup() as group:
            for job in self.jobs:
                group.create_task(self.loop(job), name=f"job {job.name}")

    async def loop(self, job: Job) -> None:
        """Look at the job, run it when due (or woken), wait, and again."""
        woken = False
        while True:
            woken = self.wakeups.woken(job.name) or woken
            try:
                step = await self.step(job, woken=woken)
            except Unready as exc:
                self._note_unready(exc)
                await asyncio.sleep(self.unready_retry.total_seconds())
                continue
            except Exception as exc:  # its state could not be written: the database went
                log.warning("job %s could not record its run (%s)", job.name, _reason(exc))
                await asyncio.sleep(self.unready_retry.total_seconds())
                continue
            if step.ran or not woken:
                woken = False
                wait = step.wait
            else:
                wait = min(step.wait, self.woken_retry)  # another instance has it: look soon
            await self.wakeups.wait(job.name, wait.total_seconds())

    async def step(self, job: Job, *, woken: bool = False) -> Step:
        """One look at the job: run it if it is due (or `woken`) and no other instance is
        running it. Raises Unready when its state cannot be read."""
        now = self.clock.now()
        state = await self._read(job)
        if state is not None and not woken and self._due(job, state) > now:
            return Step(ran=False, wait=self._wait(job, state, now))
        async with self.storage.leader(leader_name(job)) as leading:
            if not leading:
                return Step(ran=False, wait=min(job.every, TAKEN_RETRY))
            now = self.clock.now()
            state = await self._read(job)
            if state is None:
                state = JobRun(job.name, next_due=now + job.first_after)
                await self._save(state)
            if not woken and self._due(job, state) > now:
                return Step(ran=False, wait=self._wait(job, state, now))
            return await self._run(job, state, now)

    async def _run(self, job: Job, state: JobRun, started: datetime) -> Step:
        state = replace(state, last_started=started)
        await self._save(state)
        try:
            await job.run()
        except Exception as exc:
            outcome = f"failed: {type(exc).__name__}"
            log.error("job %s failed (%s); it runs again at its next time", job.name, _reason(exc))
            log.debug("job %s failed", job.name, exc_info=True)
        else:
            outcome = OK
        finished = self.clock.now()
        next_due = started + job.every
        if next_due <= finished:
            next_due = finished + job.every  # a run longer than the interval: a full gap
        await self._save(replace(state, last_finished=finished, next_due=next_due, outcome=outcome))
        return Step(ran=True, wait=max(next_due - finished, timedelta(0)), outcome=outcome)

    @staticmethod
    def _due(job: Job, state: JobRun) -> datetime:
        """When the job is next due: as recorded, or sooner if its interval was shortened
        since (the interval from its last start)."""
        if state.last_started is None:
            return state.next_due
        return min(state.next_due, state.last_started + job.every)

    def _wait(self, job: Job, state: JobRun, now: datetime) -> timedelta:
        return min(max(self._due(job, state) - now, timedelta(0)), job.every)

    async def _read(self, job: Job) -> JobRun | None:
        try:
            async with self.storage.unit_of_work() as uow:
                state = await uow.jobs.get(job.name)
        except Exception as exc:
            raise Unready(_reason(exc)) from exc
        self._note_ready()
        return state

    async def _save(self, state: JobRun) -> None:
        async with self.storage.unit_of_work() as uow:
            await uow.jobs.save(state)
            await uow.commit()

    def _note_unready(self, exc: Unready) -> None:
        if not self._unready:
            self._unready = True
            log.warning(
                "periodic jobs wait: the database cannot be read (%s); is it migrated "
                "(python -m bot migrate)?",
                exc,
            )

    def _note_ready(self) -> None:
        if self._unready:
            self._unready = False
            log.info("periodic jobs resume: the database answers")
