"""Database URLs and engines: the async drivers, and SQLite set up for a small server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.sql import one_trip

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_FILE_NAME = "marac.sqlite3"
# How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# SQLite has one writer, and each aiosqlite connection is a thread with its own page cache:
# beyond a few connections, more only add memory, GIL switches and writers sleeping in
# SQLite's busy handler. `python -m bot bench` at 20 concurrent turns: the default pool (5 +
# 10 overflow) gave p50 486 ms and 193 MB; 5 and no overflow, 323 ms and 172 MB.
SQLITE_POOL: dict[str, Any] = {"pool_size": 5, "max_overflow": 0}

_ASYNC_DRIVERS = {
    "sqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
    "postgres": POSTGRES_DRIVER,
    "postgresql": POSTGRES_DRIVER,
    "postgresql+asyncpg": POSTGRES_DRIVER,
}


def async_url(database_url: str | URL) -> URL:
    """The URL with its async driver: plain `sqlite://` and `postgresql://` are rewritten to
    aiosqlite and asyncpg; any other driver is refused."""
    url = make_url(database_url)
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"Unsupported database URL scheme {url.drivername!r}: use sqlite:// or postgresql://"
        )
    url = url.set(drivername=driver)
    if driver == POSTGRES_DRIVER and "sslmode" in url.query:
        # libpq spells it sslmode; asyncpg takes the same values as ssl.
        url = url.difference_update_query(["sslmode"]).update_query_dict(
            {"ssl": url.query["sslmode"]}
        )
    return url


def default_sqlite_url(data_dir: Path) -> str:
    """The URL of the SQLite file the bot uses inside `data_dir` when none is configured."""
    path = (data_dir / SQLITE_FILE_NAME).resolve()
    return URL.create(SQLITE_DRIVER, database=str(path)).render_as_string()


def _is_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def create_engine(database_url: str | URL, *, schema: str | None = None) -> AsyncEngine:
    """An async engine for the URL. `schema` (PostgreSQL only) becomes the search path, so
    every table lives in that schema."""
    url = async_url(database_url)
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if url.get_backend_name() != "postgresql":
            raise ValueError("A schema can only be given for PostgreSQL")
        connect_args["server_settings"] = {"search_path": schema}
    # A pooled PostgreSQL connection may have been cut (a restart, a fail-over): each is
    # pinged when taken from the pool. A SQLite file has no server to lose, so a ping would
    # only cost every unit of work a round trip through the driver's thread.
    pool: dict[str, Any] = {"pool_pre_ping": url.get_backend_name() != "sqlite"}
    if _is_sqlite_file(url):
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        pool |= SQLITE_POOL
    if url.get_backend_name() == "sqlite":
        one_trip.install()
    engine = create_async_engine(url, connect_args=connect_args, **pool)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection: enforce foreign keys, write-ahead log (readers never block
    the writer), and wait for a busy writer instead of failing at once.

    `synchronous = NORMAL` is SQLite's advice for WAL: a commit is not synced to disk until
    the next checkpoint, so a power cut (not a crash of the bot) may lose the last commits
    but never corrupts the file. With FULL every turn's commit waits for an fsync while
    holding the one write lock, which is most of the tail `python -m bot bench` measured.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
