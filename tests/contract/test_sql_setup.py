"""Opening SQL storage: URLs, SQLite settings, health checks, migrating without a loop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import default_sqlite_url, migrate, open_storage
from storage.schema import alembic_config
from storage.sql.engine import async_url

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/marac.sqlite3", "sqlite+aiosqlite:///var/marac.sqlite3"),
        ("sqlite+aiosqlite:///var/marac.sqlite3", "sqlite+aiosqlite:///var/marac.sqlite3"),
        ("postgresql://bot@db:5432/marac", "postgresql+asyncpg://bot@db:5432/marac"),
        ("postgres://bot@db/marac", "postgresql+asyncpg://bot@db/marac"),
        ("postgresql+asyncpg://bot@db/marac", "postgresql+asyncpg://bot@db/marac"),
        (
            "postgresql://bot@db/marac?sslmode=require",
            "postgresql+asyncpg://bot@db/marac?ssl=require",
        ),
    ],
)
def test_plain_database_urls_get_the_async_drivers(given: str, expected: str) -> None:
    assert async_url(given).render_as_string() == expected


@pytest.mark.parametrize(
    "given", ["mysql://bot@db/marac", "postgresql+psycopg2://bot@db/marac", "sqlite+pysqlite://"]
)
def test_other_database_drivers_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        async_url(given)


def test_the_default_sqlite_url_is_a_file_in_the_data_directory(tmp_path: Path) -> None:
    url = default_sqlite_url(tmp_path / "data")
    assert url.startswith("sqlite+aiosqlite:///")
    assert url.endswith("/data/marac.sqlite3")
    assert async_url(url).database == str((tmp_path / "data" / "marac.sqlite3").resolve())


async def test_migrate_works_from_the_command_line_without_an_event_loop(
    tmp_path: Path,
) -> None:
    url = default_sqlite_url(tmp_path / "new-directory")
    await asyncio.to_thread(migrate, url)
    storage = open_storage(url)
    try:
        async with storage.engine.connect() as conn:
            versions = set(
                (await conn.scalars(text("SELECT version_num FROM alembic_version"))).all()
            )
            foreign_keys = await conn.scalar(text("PRAGMA foreign_keys"))
            journal = await conn.scalar(text("PRAGMA journal_mode"))
            busy_timeout = await conn.scalar(text("PRAGMA busy_timeout"))
            synchronous = await conn.scalar(text("PRAGMA synchronous"))
        assert versions == set(ScriptDirectory.from_config(alembic_config()).get_heads())
        assert (foreign_keys, journal) == (1, "wal")
        assert synchronous == 1  # NORMAL: no fsync per commit in WAL mode
        assert busy_timeout is not None
        assert busy_timeout > 0
        assert await storage.ping() is True
    finally:
        await storage.close()


async def test_ping_is_false_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_bytes(b"these are not the pages of a SQLite database" * 100)
    for storage in (
        open_storage("postgresql://nobody@127.0.0.1:1/nothing"),
        open_storage("postgresql://postgres@127.0.0.1:5432/no_such_database_here"),
        open_storage(f"sqlite:///{not_a_database}"),
    ):
        try:
            assert await storage.ping() is False
        finally:
            await storage.close()


def test_the_migrations_form_one_line_with_a_single_head() -> None:
    # Features may branch briefly while developed side by side; main always keeps one head.
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


async def test_only_postgresql_connections_are_pinged_when_taken_from_the_pool(
    tmp_path: Path,
) -> None:
    sqlite_file = open_storage(default_sqlite_url(tmp_path))
    postgres = open_storage("postgresql://postgres@127.0.0.1:5432/test")
    try:
        assert sqlite_file.engine.pool._pre_ping is False  # type: ignore[attr-defined]
        assert postgres.engine.pool._pre_ping is True  # type: ignore[attr-defined]
    finally:
        await sqlite_file.close()
        await postgres.close()
