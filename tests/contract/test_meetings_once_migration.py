"""Revision 0013 fills in an existing database's planned dates: a meeting's local date in its
panel's time zone, or the date the audit trail says it was moved from; where two meetings
already fill one date, the one that went furthest keeps it and the other none. Nothing is
lost, and the planner then creates no meeting on a date already filled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from sqlalchemy import Connection, func, insert, inspect, select, text

from bot.domain.meeting import MeetingStatus
from bot.domain.schedule import schedule_from_data
from bot.features.meetings.calendar import ensure_meetings
from bot.kernel.localtime import england_and_wales_holidays
from storage import open_storage
from storage.schema import migrate_async, run_alembic
from storage.sql import mapping as m
from storage.sql.engine import create_engine
from storage.sql.models import AuditEventRow, Base, MeetingRow, PanelRow

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.meeting import Meeting

ADDED = {"planned_on", "teams_outdated"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'planned.sqlite3'}", None
        return
    await require_postgres()
    schema = unique_schema("meetings_once_migration")
    try:
        yield POSTGRES_URL, schema
    finally:
        await drop_schema(schema)


async def columns(url: str, schema: str | None, table: str) -> set[str]:
    engine = create_engine(url, schema=schema)

    def look(conn: Connection) -> set[str]:
        return {column["name"] for column in inspect(conn).get_columns(table)}

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def values(row: Base, present: set[str]) -> dict[str, Any]:
    """A row's column values, for the columns the table has at this revision (None left
    to the column's default)."""
    mapper = inspect(type(row))
    found = {
        prop.columns[0].name: getattr(row, prop.key)
        for prop in mapper.column_attrs
        if prop.columns[0].name in present
    }
    return {name: value for name, value in found.items() if value is not None}


def london(day: date, hour: int = 10) -> datetime:
    """10:00 in London on `day` (GMT in winter), as UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_an_existing_database_gets_its_planned_dates(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    await run_alembic(url, lambda config: command.upgrade(config, "0010"), schema=schema)
    assert not ADDED & await columns(url, schema, "meetings")
    panel = make.panel(timezone="Europe/London")

    def meeting(starts_at: datetime, **fields: Any) -> Meeting:
        return make.meeting(
            panel, starts_at=starts_at, join_url=None, teams_meeting_id=None, **fields
        )

    plain = meeting(london(date(2026, 12, 8)))
    moved = meeting(london(date(2027, 1, 14)))  # planned on the 12th, moved to the 14th
    twin_cancelled = meeting(london(date(2027, 2, 9)), status=MeetingStatus.CANCELLED)
    twin_kept = meeting(london(date(2027, 2, 9), 14), status=MeetingStatus.SCHEDULED)
    # 23:30 UTC on 8 June is 00:30 on the 9th in London (summer time): the local date counts.
    late = meeting(datetime(2027, 6, 8, 23, 30, tzinfo=UTC))
    move = make.audit_event(
        panel,
        entity="meeting",
        entity_id=moved.id,
        detail="moved from 2027-01-12 to 2027-01-14 10:00",
    )
    panel_row = PanelRow(id=panel.id)
    m.fill_panel(panel_row, panel)
    present = {
        table: await columns(url, schema, table) for table in ("panels", "meetings", "audit_events")
    }
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(PanelRow).values(values(panel_row, present["panels"])))
            for each in (plain, moved, twin_cancelled, twin_kept, late):
                row = MeetingRow(id=each.id, version=1)
                m.fill_meeting(row, each)
                await conn.execute(insert(MeetingRow).values(values(row, present["meetings"])))
            audit_row = m.new_audit_event_row(move)
            await conn.execute(
                insert(AuditEventRow).values(values(audit_row, present["audit_events"]))
            )
    finally:
        await engine.dispose()

    await migrate_async(url, schema=schema)
    storage = open_storage(url, schema=schema)
    try:
        async with storage.unit_of_work() as uow:
            loaded = {
                each.id: await uow.meetings.get(panel.id, each.id)
                for each in (plain, moved, twin_cancelled, twin_kept, late)
            }
        planned = {key: found.planned_on for key, found in loaded.items() if found}
        assert planned == {
            plain.id: date(2026, 12, 8),
            moved.id: date(2027, 1, 12),
            twin_kept.id: date(2027, 2, 9),
            twin_cancelled.id: None,  # the other of the two keeps the date
            late.id: date(2027, 6, 9),
        }
        assert not any(found.teams_outdated for found in loaded.values() if found)
        # The planner creates nothing on a date already filled, the moved-from one included.
        schedule = schedule_from_data({"rule": "second Tuesday"})
        holidays = england_and_wales_holidays(range(2026, 2029))
        async with storage.unit_of_work() as uow:
            created = await ensure_meetings(
                uow, panel, schedule, datetime(2026, 11, 20, 10, tzinfo=UTC), holidays
            )
            await uow.commit()
        assert [c.planned_on for c in created] == [
            date(2027, 3, 9),
            date(2027, 4, 13),
            date(2027, 5, 11),
        ]
    finally:
        await storage.close()

    await run_alembic(url, lambda config: command.downgrade(config, "0010"), schema=schema)
    assert not ADDED & await columns(url, schema, "meetings")
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            kept = await conn.scalar(select(func.count()).select_from(text("meetings")))
    finally:
        await engine.dispose()
    assert kept == 8
