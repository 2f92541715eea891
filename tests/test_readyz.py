"""/readyz tells the truth (bot/observability/readiness.py): the database answers, its schema
is at the Alembic head, and the dispatcher's loop is alive. On a database that was never
migrated the bot says so in one line and waits, with no traceback loop, and becomes ready
once it is migrated, without a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import DISPATCHER, SCHEMA_GATE, create_app
from bot.observability import readiness
from bot.settings import Settings
from storage import migrate_async, open_storage
from storage.sql.operations import needed_revisions
from tests.support.world import serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

    from aiohttp.test_utils import TestClient

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage
    from tests.conftest import Connector

# A poll this quick makes many passes in a moment; production polls every 5 s.
POLL = 0.01
PASSES = 40


@asynccontextmanager
async def empty_database(
    backend: str, tmp_path: Path
) -> AsyncIterator[tuple[Storage, Callable[[], Awaitable[None]]]]:
    """A database nobody migrated (a new SQLite file, or a PostgreSQL schema that does not
    exist yet), and how to migrate it."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp_path / 'empty.sqlite3').as_posix()}"
        storage = open_storage(url)
        try:
            yield storage, lambda: migrate_async(url)
        finally:
            await storage.close()
        return
    from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

    await require_postgres()
    schema = unique_schema("readyz")
    storage = open_storage(POSTGRES_URL, schema=schema)
    try:
        yield storage, lambda: migrate_async(POSTGRES_URL, schema=schema)
    finally:
        await storage.close()
        await drop_schema(schema)


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20.0) -> None:
    """Wait for `check` to hold (a deadline, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


async def ready(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_an_unmigrated_database_is_not_ready_says_so_once_and_is_ready_once_migrated(
    backend: str,
    tmp_path: Path,
    clock: FixedClock,
    connector: Connector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with empty_database(backend, tmp_path) as (storage, migrate):
        app = create_app(Settings(), storage=storage, clock=clock)
        gate = app[SCHEMA_GATE]
        gate.poll_seconds = POLL
        client = await serve(app)
        try:
            status, body = await ready(client)
            assert status == 503
            assert body["status"] == "not ready"
            assert body["database"] == "ok"
            assert body["schema"] == "behind"
            assert body["schema_current"] == []
            assert body["schema_needed"] == list(needed_revisions())
            assert "run python -m bot migrate" in body["reason"]
            assert body["dispatcher"] == "not started"

            async def passes() -> bool:
                return gate.checks >= PASSES

            await until(passes, f"{PASSES} passes of the schema check")
            said = [r for r in caplog.records if r.getMessage().startswith("database schema is")]
            assert len(said) == 1, [r.getMessage() for r in said]
            assert said[0].getMessage() == (
                "database schema is at none (never migrated), the code needs "
                f"{', '.join(needed_revisions())}: run python -m bot migrate; waiting"
            )
            assert said[0].levelno == logging.WARNING
            # Nothing else repeats each pass (Alembic's own context announces itself twice
            # each time it is made: the check does without it).
            chatter = [r for r in caplog.records if r.name.startswith(("alembic", "storage"))]
            assert chatter == [], [r.getMessage() for r in chatter]
            # No traceback from the bot's own modules meanwhile: the dispatcher waited.
            tracebacks = [r for r in caplog.records if r.exc_info and r.name.startswith("bot.")]
            assert tracebacks == [], [r.getMessage() for r in tracebacks]
            assert app[DISPATCHER].heartbeat is None

            await migrate()

            async def is_ready() -> bool:
                return (await ready(client))[0] == 200

            await until(is_ready, "/readyz to say ready after the migration")
            status, body = await ready(client)
            assert body == {
                "status": "ready",
                "database": "ok",
                "schema": "ok",
                "dispatcher": "ok",
            }
            assert app[DISPATCHER].heartbeat is not None
        finally:
            await client.close()


@pytest.fixture
async def migrated(tmp_path: Path) -> AsyncIterator[Storage]:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'bot.sqlite3').as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    yield storage
    await storage.close()


async def test_a_stalled_dispatcher_makes_the_bot_not_ready(
    migrated: Storage, clock: FixedClock, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(), storage=migrated, clock=clock)
    client = await serve(app)
    try:

        async def passed() -> bool:
            return app[DISPATCHER].heartbeat is not None

        await until(passed, "the dispatcher's first pass")
        assert (await ready(client))[0] == 200
        # Its last pass now counts as too long ago.
        monkeypatch.setattr(readiness, "STALE_AFTER", -1.0)
        status, body = await ready(client)
        assert status == 503
        assert body["dispatcher"] == "stalled"
        assert "has not passed" in body["reason"]
        assert body["schema"] == "ok"
    finally:
        await client.close()


async def test_an_app_that_does_not_run_the_dispatcher_is_ready_without_it(
    migrated: Storage, clock: FixedClock
) -> None:
    app = create_app(Settings(), storage=migrated, clock=clock, deliver_in_background=False)
    client = await serve(app)
    try:
        status, body = await ready(client)
        assert status == 200
        assert body["dispatcher"] == "not run by this app"
    finally:
        await client.close()


async def test_an_unreachable_database_is_not_ready_and_the_schema_unknown(
    clock: FixedClock,
) -> None:
    # a PostgreSQL URL on a loopback port where nothing listens
    storage = open_storage("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(Settings(), storage=storage, clock=clock)
    app[SCHEMA_GATE].poll_seconds = POLL
    client = await serve(app)
    try:
        status, body = await ready(client)
        assert status == 503
        assert body["database"] == "unreachable"
        assert body["schema"] == "unknown"
        assert body["reason"].startswith("the database does not answer")
    finally:
        await client.close()
        await storage.close()


async def test_the_schema_is_asked_no_more_once_at_the_head(migrated: Storage) -> None:
    first = await migrated.schema_status()
    assert first is not None and first.at_head
    assert first.current == needed_revisions()
    assert await migrated.schema_status() is first  # kept, not asked again
