"""Revision 0013: the periodic jobs' state, one meeting per panel and planned date, and the
named locks (a unit of work's, and a leader's) that keep instances from doing one thing
twice."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.kernel.ports import AlreadyExists, JobRun

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

# Long enough for a waiting unit of work to have got through, had it not waited; the test
# fails the other way only if the database takes longer than this to answer.
SETTLE = 0.2


async def test_a_job_run_comes_back_and_saving_again_replaces_it(storage: Storage) -> None:
    name = make.unique("job")
    async with storage.unit_of_work() as uow:
        assert await uow.jobs.get(name) is None
        first = JobRun(name, next_due=make.at(minutes=5))
        await uow.jobs.save(first)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.jobs.get(name) == first
    done = JobRun(
        name,
        next_due=make.at(days=1),
        last_started=make.at(minutes=5),
        last_finished=make.at(minutes=6),
        outcome="failed: TimeoutError",
    )
    async with storage.unit_of_work() as uow:
        await uow.jobs.save(done)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.jobs.get(name) == done
    async with storage.unit_of_work() as uow:
        await uow.jobs.save(JobRun(name, next_due=make.at(days=2)))
        # not committed: nothing changes
    async with storage.unit_of_work() as uow:
        assert await uow.jobs.get(name) == done


async def test_one_meeting_per_panel_and_planned_date(storage: Storage) -> None:
    first_panel, other_panel = await make.stored_panels(storage, 2)
    day = date(2027, 3, 9)
    planned = make.meeting(first_panel, planned_on=day, teams_outdated=True)
    unplanned = [make.meeting(first_panel), make.meeting(first_panel)]
    async with storage.unit_of_work() as uow:
        for meeting in (planned, *unplanned, make.meeting(other_panel, planned_on=day)):
            await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert (await uow.meetings.get(first_panel.id, planned.id)) == planned
        assert await uow.meetings.planned_days(first_panel.id, day) == {day}
        assert await uow.meetings.planned_days(first_panel.id, day + timedelta(days=1)) == set()
    twice = make.meeting(first_panel, planned_on=day)

    async def plan_again() -> None:
        async with storage.unit_of_work() as uow:
            await uow.meetings.save(twice)
            await uow.commit()

    with pytest.raises(AlreadyExists):
        await plan_again()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.get(first_panel.id, twice.id) is None
    # Moved elsewhere, the meeting still fills its planned date.
    later = timedelta(days=2)
    moved = dataclasses.replace(
        planned, starts_at=planned.starts_at + later, ends_at=planned.ends_at + later
    )
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(moved)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.planned_days(first_panel.id, day) == {day}


async def test_a_named_lock_makes_units_of_work_take_turns(storage: Storage) -> None:
    name = make.unique("lock")
    order: list[str] = []

    async def second() -> None:
        async with storage.unit_of_work() as uow:
            await uow.take_lock(name)
            order.append("second")

    async with storage.unit_of_work() as uow:
        await uow.take_lock(name)
        await uow.take_lock(name)  # taken again by its holder: nothing more
        waiting = asyncio.create_task(second())
        await asyncio.sleep(SETTLE)
        assert order == []  # the second waits for the first to end
        order.append("first")
        await uow.commit()
    await waiting
    assert order == ["first", "second"]
    async with storage.unit_of_work() as uow:
        await uow.take_lock(name)  # free again after a rollback too
        await uow.rollback()
    async with storage.unit_of_work() as uow:
        await asyncio.wait_for(uow.take_lock(name), timeout=5)


async def test_a_leader_is_one_at_a_time_and_never_waits(storage: Storage) -> None:
    name = make.unique("leader")
    async with storage.leader(name) as first:
        assert first
        async with storage.leader(name) as second:
            assert not second
        async with storage.leader(make.unique("leader")) as another:
            assert another
    async with storage.leader(name) as again:
        assert again

    async def fail_while_leading() -> None:
        async with storage.leader(name) as held:
            assert held
            raise RuntimeError("the job failed")

    with pytest.raises(RuntimeError):
        await fail_while_leading()
    async with storage.leader(name) as after_failure:
        assert after_failure
