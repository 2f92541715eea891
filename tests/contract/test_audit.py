"""The audit trail: appended, read back in order, and never changed, even by raw SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.domain.audit import AuditVerb
from storage import ConstraintViolation, SqlStorage

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

    from .conftest import Backends


async def test_an_events_trail_comes_back_oldest_first_with_every_field(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    later = make.audit_event(panel, entity_id="case-1", at=make.at(minutes=5))
    earlier = make.audit_event(panel, entity_id="case-1", verb=AuditVerb.UPDATE)
    bare = make.audit_event(
        panel, entity_id="case-1", actor_member_id=None, where=None, detail=None
    )
    other_record = make.audit_event(panel, entity_id="case-2")
    other_kind = make.audit_event(panel, entity="referral", entity_id="case-1")
    async with storage.unit_of_work() as uow:
        for event in (later, earlier, bare, other_record, other_kind):
            await uow.audit.append(event)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(panel.id, "case", "case-1")
    assert trail == [earlier, bare, later]


async def test_events_of_one_instant_keep_the_order_they_were_appended(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    events = [
        make.audit_event(panel, entity_id="case-9", verb=verb)
        for verb in (AuditVerb.VIEW, AuditVerb.UPDATE, AuditVerb.EXPORT, AuditVerb.REFUSE)
    ]
    async with storage.unit_of_work() as uow:
        for event in events:
            await uow.audit.append(event)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.audit.for_entity(panel.id, "case", "case-9") == events
        assert await uow.audit.recent(panel.id) == events[::-1]


async def test_recent_events_come_newest_first_up_to_the_limit(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    events = [make.audit_event(panel, at=make.at(minutes=m)) for m in (3, 1, 4, 2)]
    async with storage.unit_of_work() as uow:
        for event in events:
            await uow.audit.append(event)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        newest_first = await uow.audit.recent(panel.id)
        two = await uow.audit.recent(panel.id, limit=2)
    assert [e.at for e in newest_first] == [make.at(minutes=m) for m in (4, 3, 2, 1)]
    assert two == newest_first[:2]


async def test_an_event_is_appended_once(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    event = make.audit_event(panel)
    async with storage.unit_of_work() as uow:
        await uow.audit.append(event)
        with pytest.raises(ConstraintViolation):
            await uow.audit.append(event)


async def test_audit_events_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    event = make.audit_event(mine, entity_id="shared-id")
    async with storage.unit_of_work() as uow:
        await uow.audit.append(event)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.audit.for_entity(theirs.id, "case", "shared-id") == []
        assert await uow.audit.recent(theirs.id) == []
        assert await uow.audit.recent(mine.id) == [event]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'rewritten' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ],
    ids=["update", "delete"],
)
async def test_the_database_refuses_to_change_or_remove_an_audit_event(
    sql_storage: SqlStorage, statement: str
) -> None:
    (panel,) = await make.stored_panels(sql_storage)
    event = make.audit_event(panel)
    async with sql_storage.unit_of_work() as uow:
        await uow.audit.append(event)
        await uow.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        async with sql_storage.engine.begin() as conn:
            await conn.execute(text(statement), {"id": event.id})
    async with sql_storage.unit_of_work() as uow:
        assert await uow.audit.recent(panel.id) == [event]


@pytest.mark.postgres
async def test_postgresql_refuses_to_truncate_the_audit_trail(backends: Backends) -> None:
    postgres = await backends.get("postgres")
    assert isinstance(postgres, SqlStorage)
    with pytest.raises(DBAPIError, match="append-only"):
        async with postgres.engine.begin() as conn:
            await conn.execute(text("TRUNCATE audit_events"))
