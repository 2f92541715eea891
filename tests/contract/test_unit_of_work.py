"""Transactions: what one unit of work sees of another, commit, rollback, copies."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def test_uncommitted_changes_are_invisible_to_another_unit_of_work(storage: Storage) -> None:
    (owner,) = await make.stored_panels(storage)
    agency = make.agency(owner)
    async with storage.unit_of_work() as writer:
        await writer.agencies.save(agency)
        async with storage.unit_of_work() as reader:
            assert await reader.agencies.get(owner.id, agency.id) is None
        assert await writer.agencies.get(owner.id, agency.id) == agency
        await writer.commit()
    async with storage.unit_of_work() as reader:
        assert await reader.agencies.get(owner.id, agency.id) == agency


async def test_rollback_discards_the_changes(storage: Storage) -> None:
    (owner,) = await make.stored_panels(storage)
    agency = make.agency(owner)
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.rollback()
        assert await uow.agencies.get(owner.id, agency.id) is None
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(owner.id, agency.id) is None


async def test_leaving_the_unit_of_work_without_commit_discards_the_changes(
    storage: Storage,
) -> None:
    (owner,) = await make.stored_panels(storage)
    agency = make.agency(owner)
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(owner.id, agency.id) is None


async def test_an_error_inside_the_unit_of_work_discards_the_changes(storage: Storage) -> None:
    (owner,) = await make.stored_panels(storage)
    agency = make.agency(owner)

    async def failing_turn() -> None:
        async with storage.unit_of_work() as uow:
            await uow.agencies.save(agency)
            raise RuntimeError("the turn failed")

    with pytest.raises(RuntimeError, match="the turn failed"):
        await failing_turn()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(owner.id, agency.id) is None


async def test_a_unit_of_work_can_commit_more_than_once(storage: Storage) -> None:
    (owner,) = await make.stored_panels(storage)
    first, second = make.agency(owner), make.agency(owner, name="Second")
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(first)
        await uow.commit()
        await uow.agencies.save(second)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert [a.id for a in await uow.agencies.all(owner.id)] == [first.id, second.id]


async def test_changing_a_loaded_entity_changes_nothing_until_it_is_saved(
    storage: Storage,
) -> None:
    (owner,) = await make.stored_panels(storage)
    agency = make.agency(owner, name="Before")
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        agency.name = "Changed after saving"
        loaded = await uow.agencies.get(owner.id, agency.id)
        assert loaded is not None
        assert loaded.name == "Before"
        loaded.name = "Changed after loading"
        await uow.commit()
    async with storage.unit_of_work() as uow:
        again = await uow.agencies.get(owner.id, agency.id)
        assert again is not None
        assert again.name == "Before"


async def test_a_record_cannot_belong_to_a_panel_that_does_not_exist(storage: Storage) -> None:
    orphan = make.agency(make.panel())
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.agencies.save(orphan)


async def test_a_record_of_one_panel_cannot_be_overwritten_from_another(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    agency = make.agency(mine, name="Mine")
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.commit()
    intruder = make.agency(theirs, id=agency.id, name="Theirs")
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.agencies.save(intruder)
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(mine.id, agency.id) == agency
        assert await uow.agencies.get(theirs.id, agency.id) is None


async def test_the_storage_answers_a_ping(storage: Storage) -> None:
    assert await storage.ping() is True


async def test_instants_come_back_in_utc_and_json_documents_as_json(storage: Storage) -> None:
    (owner,) = await make.stored_panels(storage)
    meeting = make.meeting(owner)
    delivery = make.delivery(owner, payload={"items": ("a", ("b", 1))})
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.outbox.enqueue(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded_meeting = await uow.meetings.get(owner.id, meeting.id)
        loaded_delivery = await uow.outbox.get(owner.id, delivery.id)
    assert loaded_meeting is not None
    assert loaded_delivery is not None
    assert meeting.starts_at.utcoffset() == timedelta(hours=1)
    assert loaded_meeting.starts_at == meeting.starts_at
    assert loaded_meeting.starts_at.utcoffset() == timedelta(0)
    assert loaded_meeting.starts_at.hour == meeting.starts_at.hour - 1
    assert loaded_delivery.payload == {"items": ["a", ["b", 1]]}
