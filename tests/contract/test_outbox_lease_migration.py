"""Revision 0003 adds the outbox's lease columns and keeps the rows already queued."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from sqlalchemy import Connection, func, insert, inspect, select, text

from bot.domain.delivery import DeliveryState
from storage import open_storage
from storage.schema import migrate_async, run_alembic
from storage.sql import mapping as m
from storage.sql.engine import create_engine
from storage.sql.models import Base, OutboxRow, PanelRow

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

LEASE_COLUMNS = {"claimed_at", "resumed"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lease.sqlite3'}", None
        return
    await require_postgres()
    schema = unique_schema("outbox_lease")
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
    """A row's column values, for the columns the table has at this revision."""
    mapper = inspect(type(row))
    found = {
        prop.columns[0].name: getattr(row, prop.key)
        for prop in mapper.column_attrs
        if prop.columns[0].name in present
    }
    return {name: value for name, value in found.items() if value is not None or name != "seq"}


async def test_a_delivery_queued_before_0003_comes_back_unclaimed_and_never_resumed(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    await run_alembic(url, lambda config: command.upgrade(config, "0002"), schema=schema)
    assert not LEASE_COLUMNS & await columns(url, schema, "outbox")
    panel = make.panel()
    delivery = make.delivery(panel)
    panel_row = PanelRow(id=panel.id)
    m.fill_panel(panel_row, panel)
    outbox_row = OutboxRow(**m.delivery_values(delivery))
    panel_columns = await columns(url, schema, "panels")
    outbox_columns = await columns(url, schema, "outbox")
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(PanelRow).values(values(panel_row, panel_columns)))
            await conn.execute(insert(OutboxRow).values(values(outbox_row, outbox_columns)))
    finally:
        await engine.dispose()

    await migrate_async(url, schema=schema)
    assert await columns(url, schema, "outbox") >= LEASE_COLUMNS
    storage = open_storage(url, schema=schema)
    try:
        async with storage.unit_of_work() as uow:
            loaded = await uow.outbox.get(panel.id, delivery.id)
    finally:
        await storage.close()
    assert loaded == delivery
    assert loaded is not None
    assert (loaded.state, loaded.claimed_at, loaded.resumed) == (DeliveryState.PENDING, None, 0)

    await run_alembic(url, lambda config: command.downgrade(config, "0002"), schema=schema)
    assert not LEASE_COLUMNS & await columns(url, schema, "outbox")
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            kept = await conn.scalar(select(func.count()).select_from(text("outbox")))
    finally:
        await engine.dispose()
    assert kept == 1
