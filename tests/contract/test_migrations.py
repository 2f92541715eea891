"""The Alembic migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from storage import migrate_async
from storage.schema import run_alembic
from storage.sql.engine import create_engine
from storage.sql.models import Base

from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

TABLES = {
    "panels",
    "agencies",
    "members",
    "isa_acceptances",
    "referrals",
    "referral_subjects",
    "cases",
    "case_invited_agencies",
    "meetings",
    "agenda_items",
    "actions",
    "action_updates",
    "information_requests",
    "conversation_refs",
    "outbox",
    "audit_events",
    "processed_activities",
}


class Database:
    """An empty database (a SQLite file, or a PostgreSQL schema of its own)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema

    async def migrate(self) -> None:
        await migrate_async(self.url, schema=self.schema)

    async def downgrade(self, revision: str) -> None:
        await run_alembic(
            self.url, lambda config: command.downgrade(config, revision), schema=self.schema
        )

    async def inspect(self) -> tuple[set[str], list[Any]]:
        """The tables present, and how the schema differs from the models."""
        engine = create_engine(self.url, schema=self.schema)

        def look(conn: Connection) -> tuple[set[str], list[Any]]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            tables = set(inspect(conn).get_table_names())
            return tables, compare_metadata(context, Base.metadata)

        try:
            async with engine.connect() as conn:
                return await conn.run_sync(look)
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        return
    await require_postgres()
    schema = unique_schema("migrations")
    try:
        yield Database(POSTGRES_URL, schema)
    finally:
        await drop_schema(schema)


async def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    await database.migrate()
    tables, differences = await database.inspect()
    assert tables == TABLES | {"alembic_version"}
    assert differences == []


async def test_migrating_an_up_to_date_database_changes_nothing(database: Database) -> None:
    await database.migrate()
    await database.migrate()
    _, differences = await database.inspect()
    assert differences == []


async def test_the_schema_can_be_downgraded_and_upgraded_again(database: Database) -> None:
    await database.migrate()
    await database.downgrade("base")
    tables, _ = await database.inspect()
    assert tables == {"alembic_version"}
    await database.migrate()
    tables, differences = await database.inspect()
    assert tables == TABLES | {"alembic_version"}
    assert differences == []
