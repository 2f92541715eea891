"""The Alembic migrations build exactly the schema the models describe, can be undone, and
keep the data already stored when a database is upgraded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, Table, func, insert, inspect, select, text

from bot.domain.referral import ReferralStatus
from storage import migrate_async, open_storage
from storage.schema import run_alembic
from storage.sql import mapping as m
from storage.sql.engine import create_engine
from storage.sql.models import Base, MemberRow, PanelRow, ReferralRow, SubjectRow

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy.sql.dml import Insert

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
    # revision 0004
    "meeting_attendance",
    "meeting_minutes",
    # revision 0006
    "action_cards",
    "reminders",
    # revision 0007
    "retention_marks",
    "referral_repeats",
    "subject_access_exports",
    # revision 0014
    "erasure_requests",
    # revision 0013
    "job_runs",
    # revision 0012
    "outbox_lanes",
    "outbox_tenant_pace",
    # revision 0015
    "reference_counters",
    # revision 0022
    "file_offers",
    "minutes_links",
}


class Database:
    """An empty database (a SQLite file, or a PostgreSQL schema of its own)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema

    async def migrate(self) -> None:
        await migrate_async(self.url, schema=self.schema)

    async def upgrade(self, revision: str) -> None:
        await run_alembic(
            self.url, lambda config: command.upgrade(config, revision), schema=self.schema
        )

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

    async def columns(self, table: str) -> set[str]:
        engine = create_engine(self.url, schema=self.schema)

        def look(conn: Connection) -> set[str]:
            return {column["name"] for column in inspect(conn).get_columns(table)}

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


# What revision 0002 added; a database at 0001 has none of it.
ADDED_IN_0002 = {
    "referrals": {"draft_inputs", "draft_step", "version"},
    "members": {"away_until"},
}
ADDED_IN_0008 = {"panels": {"data_version"}}
ADDED_IN_0011 = {"members": {"invited", "chosen_at"}}
ADDED_IN_0009 = {
    table: {"version"} for table in ("actions", "information_requests", "cases", "meetings")
}
ADDED_IN_0010 = {"subject_access_exports": {"postcode"}}
ADDED_IN_0016 = {"referrals": {"risk_threshold"}}
ADDED_IN_0019 = {"referrals": {"criteria_explanation"}}
ADDED_IN_0020 = {"members": {"teams_user_id"}}


def columns_of_0001(row: Base) -> dict[Any, Any]:
    """A row's values for the columns that exist at revision 0001."""
    mapper = inspect(type(row))
    table = mapper.local_table
    assert isinstance(table, Table)
    added = (
        ADDED_IN_0002.get(table.name, set())
        | ADDED_IN_0008.get(table.name, set())
        | ADDED_IN_0011.get(table.name, set())
        | ADDED_IN_0009.get(table.name, set())
        | ADDED_IN_0010.get(table.name, set())
        | ADDED_IN_0016.get(table.name, set())
        | ADDED_IN_0019.get(table.name, set())
        | ADDED_IN_0020.get(table.name, set())
    )
    return {
        prop.columns[0]: getattr(row, prop.key)
        for prop in mapper.column_attrs
        if prop.columns[0].name not in added
    }


def insert_at_0001(row: Base) -> Insert:
    """The row's INSERT as at revision 0001: its columns only, so no later column's
    Python-side default (members.invited's) is sent as well."""
    values = columns_of_0001(row)
    mapped = inspect(type(row)).local_table
    assert isinstance(mapped, Table)
    table = Table(mapped.name, MetaData(), *(Column(column.name, column.type) for column in values))
    return insert(table).values({column.name: value for column, value in values.items()})


async def test_revision_0002_can_be_undone_and_done_again(database: Database) -> None:
    await database.migrate()
    for table, added in ADDED_IN_0002.items():
        assert added <= await database.columns(table)
    await database.downgrade("0001")
    for table, added in ADDED_IN_0002.items():
        assert not added & await database.columns(table)
    await database.migrate()
    tables, differences = await database.inspect()
    assert tables == TABLES | {"alembic_version"}
    assert differences == []


async def test_a_database_at_0001_keeps_its_data_through_0002_and_back(
    database: Database,
) -> None:
    await database.upgrade("0001")
    panel = make.panel()
    member = make.member(panel, away_until=None)
    # Its matrix version is not the shipped example's: revision 0016 gives it no threshold.
    referral = make.referral(
        panel,
        status=ReferralStatus.SUBMITTED,
        draft_inputs={},
        draft_step=None,
        risk_threshold=None,
    )
    panel_row = PanelRow(id=panel.id)
    m.fill_panel(panel_row, panel)
    member_row = MemberRow(id=member.id)
    m.fill_member(member_row, member)
    referral_row = ReferralRow(id=referral.id)
    m.fill_referral(referral_row, referral)
    subject_rows = []
    for position, subject in enumerate(referral.subjects):
        subject_row = SubjectRow(id=subject.id, referral_id=referral.id)
        m.fill_subject(subject_row, subject, panel_id=panel.id, position=position)
        subject_rows.append(subject_row)
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.begin() as conn:
            for row in (panel_row, member_row, referral_row, *subject_rows):
                await conn.execute(insert_at_0001(row))
    finally:
        await engine.dispose()

    await database.migrate()
    storage = open_storage(database.url, schema=database.schema)
    try:
        async with storage.unit_of_work() as uow:
            loaded = await uow.referrals.get(panel.id, referral.id)
            assert await uow.members.get(panel.id, member.id) == member
        assert loaded is not None
        # Referrals stored before 0002 are at version 0: no draft, nothing typed kept.
        assert (loaded.draft_inputs, loaded.draft_step, loaded.version) == ({}, None, 0)
        assert loaded == referral
        async with storage.unit_of_work() as uow:
            loaded.status = ReferralStatus.ACCEPTED
            await uow.referrals.save(loaded)
            await uow.commit()
        assert loaded.version == 1
    finally:
        await storage.close()

    # Undoing 0002 drops its columns, never a referral's subjects.
    await database.downgrade("0001")
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.connect() as conn:
            status = await conn.scalar(select(text("status")).select_from(text("referrals")))
            subjects = await conn.scalar(
                select(func.count()).select_from(text("referral_subjects"))
            )
            members = await conn.scalar(select(func.count()).select_from(text("members")))
    finally:
        await engine.dispose()
    assert (status, subjects, members) == (ReferralStatus.ACCEPTED.value, 2, 1)
