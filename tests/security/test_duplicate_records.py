"""A lost creation race at the storage: a second record under a unique key is refused with
the port's `AlreadyExists` (a plain, safe message), on the fake, SQLite and PostgreSQL,
whether the clash shows when saving or when committing."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from bot.domain.errors import Conflict
from bot.kernel.ports import AlreadyExists, Storage, UnitOfWork
from storage import ConstraintViolation
from tests.contract import builders as make
from tests.contract.conftest import backends, storage

if TYPE_CHECKING:
    from bot.domain.panel import Panel

__all__ = ["backends", "storage"]  # the contract suite's fixtures: every backend


async def test_a_second_panel_for_one_team_is_refused_as_already_existing(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:
        with pytest.raises(AlreadyExists) as told:
            await uow.panels.save(make.panel(team_id=panel.team_id))
    assert isinstance(told.value, ConstraintViolation)  # what storage callers always caught
    assert isinstance(told.value, Conflict)  # a message safe to show, if nobody catches it
    assert panel.team_id not in told.value.message  # no stored value in it


async def _save_and_commit(uow: UnitOfWork, panel: Panel) -> None:
    await uow.panels.save(panel)  # the clash shows here (SQL) or at commit (the fake)
    await uow.commit()


async def test_two_units_of_work_inserting_one_key_at_once_one_commits_the_other_is_told(
    storage: Storage,
) -> None:
    team = make.unique("19:twin")
    first, second = storage.unit_of_work(), storage.unit_of_work()
    async with first, second:
        await first.panels.save(make.panel(team_id=team))
        committing = asyncio.create_task(first.commit())
        await asyncio.sleep(0)
        with pytest.raises(AlreadyExists) as told:
            await _save_and_commit(second, make.panel(team_id=team))
        await committing
    assert team not in told.value.message
    async with storage.unit_of_work() as uow:
        assert await uow.panels.by_team(team) is not None


async def test_a_record_of_another_panel_is_not_taken_for_a_lost_race(storage: Storage) -> None:
    """A foreign key or cross-panel clash is a bug, not a race: it stays a plain
    ConstraintViolation, which reaches people as an error reference."""
    orphan = make.agency(make.panel())
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation) as told:
            await uow.agencies.save(orphan)
    assert not isinstance(told.value, AlreadyExists)
