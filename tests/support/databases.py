"""A PostgreSQL database of a test's own, for what a schema cannot stand for: the command
line run against a DATABASE_URL of its own, pg_dump and pg_restore. Created on the test
server (TEST_POSTGRES_URL), dropped afterwards, even with connections still open."""

from __future__ import annotations

import re
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import make_url

from tests.contract.conftest import POSTGRES_URL, require_postgres

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@dataclass(frozen=True)
class Database:
    """One database of the test server."""

    name: str

    @property
    def url(self) -> str:
        """Its SQLAlchemy URL, as DATABASE_URL takes it."""
        server = make_url(POSTGRES_URL)
        return server.set(drivername="postgresql+asyncpg", database=self.name).render_as_string(
            hide_password=False
        )

    @property
    def libpq(self) -> list[str]:
        """The arguments naming it to psql, pg_dump and pg_restore."""
        server = make_url(POSTGRES_URL)
        return [
            "--host",
            server.host or "127.0.0.1",
            "--port",
            str(server.port or 5432),
            "--username",
            server.username or "postgres",
            "--dbname",
            self.name,
        ]


async def _server() -> asyncpg.Connection:
    server = make_url(POSTGRES_URL)
    return await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database,
    )


@asynccontextmanager
async def own_database(label: str) -> AsyncIterator[Database]:
    """A new, empty database (skipped, or failed under CI, without the server)."""
    await require_postgres()
    name = f"{re.sub(r'[^a-z0-9]+', '_', label.lower())[:40]}_{uuid.uuid4().hex[:8]}"
    connection = await _server()
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield Database(name)
    finally:
        connection = await _server()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
