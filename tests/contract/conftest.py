"""One contract suite, three backends: the in-memory fake, SQLite and PostgreSQL.

Each test module gets fresh databases: a SQLite file in a temporary directory and its own
PostgreSQL schema, both migrated with Alembic, so runs never see each other's rows.
PostgreSQL comes from TEST_POSTGRES_URL (default: the local server); when it cannot be
reached its tests are skipped, or fail if CI is set.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from storage import MemoryStorage, SqlStorage, migrate_async, open_storage
from storage.sql.engine import create_engine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.kernel.ports import Storage

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

ALL_BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Backends where `outbox.due` locks what it returns (SQLite has a single writer instead).
LOCKING_BACKENDS = ["memory", pytest.param("postgres", marks=pytest.mark.postgres)]

_postgres_problem: list[str] = []


async def require_postgres() -> None:
    """Skip (or, under CI, fail) when the PostgreSQL server cannot be reached."""
    if not _postgres_problem:
        storage = open_storage(POSTGRES_URL)
        try:
            reachable = await storage.ping()
        finally:
            await storage.close()
        _postgres_problem.append("" if reachable else f"PostgreSQL unreachable at {POSTGRES_URL}")
    problem = _postgres_problem[0]
    if problem and os.environ.get("CI"):
        pytest.fail(f"{problem} (CI is set, so this is a failure)")
    if problem:
        pytest.skip(f"{problem}; start it or set TEST_POSTGRES_URL")


def unique_schema(label: str) -> str:
    """A schema name of its own for one module's (or one test's) tables."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[-30:]
    return f"contract_{cleaned}_{uuid.uuid4().hex[:8]}"


async def drop_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


class Backends:
    """Opens each backend at most once per test module and closes them all at the end."""

    def __init__(self, directory: Path, label: str) -> None:
        self._directory = directory
        self._label = label
        self._open: dict[str, Storage] = {}
        self._schemas: list[str] = []

    async def get(self, name: str) -> Storage:
        if name not in self._open:
            self._open[name] = await self._create(name)
        return self._open[name]

    async def _create(self, name: str) -> Storage:
        if name == "memory":
            return MemoryStorage()
        if name == "sqlite":
            url = f"sqlite:///{self._directory / 'contract.sqlite3'}"
            await migrate_async(url)
            return open_storage(url)
        await require_postgres()
        schema = unique_schema(self._label)
        self._schemas.append(schema)
        await migrate_async(POSTGRES_URL, schema=schema)
        return open_storage(POSTGRES_URL, schema=schema)

    async def close(self) -> None:
        for storage in self._open.values():
            await storage.close()
        for schema in self._schemas:
            await drop_schema(schema)


@pytest.fixture(scope="module")
async def backends(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backends]:
    opened = Backends(tmp_path_factory.mktemp("contract"), request.module.__name__)
    yield opened
    await opened.close()


@pytest.fixture(scope="module", params=ALL_BACKENDS)
async def storage(request: pytest.FixtureRequest, backends: Backends) -> Storage:
    """The backend under test, shared by the tests of one module."""
    return await backends.get(request.param)


@pytest.fixture(scope="module", params=SQL_BACKENDS)
async def sql_storage(request: pytest.FixtureRequest, backends: Backends) -> SqlStorage:
    """A SQL backend, for what only a database can show (raw SQL, triggers)."""
    opened = await backends.get(request.param)
    assert isinstance(opened, SqlStorage)
    return opened


@pytest.fixture(scope="module", params=LOCKING_BACKENDS)
async def locking_storage(request: pytest.FixtureRequest, backends: Backends) -> Storage:
    return await backends.get(request.param)
