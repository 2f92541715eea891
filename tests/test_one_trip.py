"""SQLite statements in one trip through aiosqlite's thread (storage/sql/one_trip.py): every
statement is one call into that thread, and what SQLAlchemy reads back (rows, row counts,
the last row id, errors) is what four calls gave."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import open_storage
from storage.sql import one_trip

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from storage import SqlStorage


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    opened = open_storage(f"sqlite:///{tmp_path / 'trips.sqlite3'}")
    async with opened.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)"))
    yield opened
    await opened.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls made into aiosqlite's thread, by function name."""
    made: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


def test_sqlite_engines_use_the_one_trip_cursor() -> None:
    assert one_trip.install()
    adapter = pytest.importorskip("sqlalchemy.dialects.sqlite.aiosqlite")
    assert adapter.AsyncAdapt_aiosqlite_connection._cursor_cls.one_trip


async def test_a_statement_is_one_trip_and_gives_its_rows(
    storage: SqlStorage, trips: list[str]
) -> None:
    async with storage.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection and its transaction begun
        trips.clear()
        rows = (await conn.execute(text("SELECT 1 AS a, 'x' AS b UNION SELECT 2, 'y'"))).all()
    assert [tuple(r) for r in rows] == [(1, "x"), (2, "y")]
    assert trips[:1] == ["_run_once"]
    assert trips.count("_run_once") == 1


async def test_row_counts_last_row_ids_and_many_rows_at_once(storage: SqlStorage) -> None:
    async with storage.engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"),
            [{"body": "second"}, {"body": "third"}],
        )
        assert many.rowcount == 2
        changed = await conn.execute(text("UPDATE notes SET body = body || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["first", "second!", "third!"]


async def test_errors_and_rollbacks_are_as_before(storage: SqlStorage) -> None:
    async with storage.engine.connect() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        await conn.commit()
        await conn.execute(text("INSERT INTO notes (body) VALUES ('dropped')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        await conn.rollback()
        bodies = (await conn.execute(text("SELECT body FROM notes"))).scalars().all()
    assert bodies == ["kept"]
