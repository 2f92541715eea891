"""A panel's data version: raised by each committed change to what its agenda is built from,
and by nothing else, on every backend (the agenda card is kept by it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from bot.domain.action import ActionStatus
from bot.domain.case import CaseStatus
from bot.domain.panel import Panel
from bot.kernel.ports import Storage, UnitOfWork

from . import builders as make

Change = Callable[[UnitOfWork, Panel], Awaitable[None]]


async def version_of(storage: Storage, panel: Panel) -> int:
    async with storage.unit_of_work() as uow:
        loaded = await uow.panels.get(panel.id)
    assert loaded is not None
    return loaded.data_version


async def committed(storage: Storage, panel: Panel, change: Change) -> int:
    """Run `change` in a unit of work and commit it; how far the version moved."""
    before = await version_of(storage, panel)
    async with storage.unit_of_work() as uow:
        await change(uow, panel)
        await uow.commit()
    return await version_of(storage, panel) - before


async def add_case(uow: UnitOfWork, panel: Panel) -> None:
    await uow.cases.save(make.case(panel, status=CaseStatus.OPEN))


async def add_meeting_with_agenda(uow: UnitOfWork, panel: Panel) -> None:
    meeting = make.meeting(panel)
    await uow.meetings.save(meeting)
    await uow.meetings.save_agenda_items([make.agenda_item(meeting)])


async def add_action(uow: UnitOfWork, panel: Panel) -> None:
    case = make.case(panel, status=CaseStatus.OPEN)
    await uow.cases.save(case)
    await uow.actions.save(make.action(case, status=ActionStatus.OPEN))


async def add_agency(uow: UnitOfWork, panel: Panel) -> None:
    await uow.agencies.save(make.agency(panel))


async def rename_panel(uow: UnitOfWork, panel: Panel) -> None:
    await uow.panels.save(replace(panel, name=make.unique("Renamed")))


async def add_member(uow: UnitOfWork, panel: Panel) -> None:
    await uow.members.save(make.member(panel))


async def write_audit(uow: UnitOfWork, panel: Panel) -> None:
    await uow.audit.append(make.audit_event(panel))


async def keep_conversation(uow: UnitOfWork, panel: Panel) -> None:
    await uow.conversations.save(make.conversation(panel))


async def record_activity(uow: UnitOfWork, panel: Panel) -> None:
    await uow.activities.first_time(make.unique("activity"), make.at())


@pytest.mark.parametrize(
    "change", [add_case, add_meeting_with_agenda, add_action, add_agency, rename_panel]
)
async def test_a_committed_change_to_the_agenda_inputs_raises_the_version_once(
    storage: Storage, change: Change
) -> None:
    (panel,) = await make.stored_panels(storage)
    assert await committed(storage, panel, change) == 1


@pytest.mark.parametrize("change", [add_member, write_audit, keep_conversation, record_activity])
async def test_other_writes_leave_the_version_alone(storage: Storage, change: Change) -> None:
    (panel,) = await make.stored_panels(storage)
    assert await committed(storage, panel, change) == 0


async def test_saving_equal_values_again_leaves_the_version_alone(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel, status=CaseStatus.OPEN)
    meeting = make.meeting(panel)
    item = make.agenda_item(meeting)

    async def first(uow: UnitOfWork, _panel: Panel) -> None:
        await uow.cases.save(case)
        await uow.meetings.save(meeting)
        await uow.meetings.save_agenda_items([item])

    async def again(uow: UnitOfWork, panel: Panel) -> None:
        await first(uow, panel)
        await uow.panels.save(panel)

    assert await committed(storage, panel, first) == 1
    assert await committed(storage, panel, again) == 0
    item.position = 2
    assert await committed(storage, panel, again) == 1


async def test_a_rolled_back_change_leaves_the_version_alone(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    before = await version_of(storage, panel)
    async with storage.unit_of_work() as uow:
        await add_case(uow, panel)
    async with storage.unit_of_work() as uow:
        await add_case(uow, panel)
        await uow.rollback()
    assert await version_of(storage, panel) == before


async def test_only_the_changed_panel_moves(storage: Storage) -> None:
    panel, other = await make.stored_panels(storage, 2)
    before = await version_of(storage, other)
    assert await committed(storage, panel, add_case) == 1
    assert await version_of(storage, other) == before


async def test_a_saved_panel_keeps_the_stored_version_whatever_its_copy_says(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    await committed(storage, panel, add_case)
    stale = replace(panel, name=make.unique("Renamed"), data_version=0)
    before = await version_of(storage, panel)

    async def save_stale(uow: UnitOfWork, _panel: Panel) -> None:
        await uow.panels.save(stale)

    assert await committed(storage, panel, save_stale) == 1
    assert await version_of(storage, panel) == before + 1
