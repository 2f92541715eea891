"""Schema migrations: Alembic run from code, against the same URLs the bot uses."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from storage.sql.engine import create_engine

if TYPE_CHECKING:
    from collections.abc import Callable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without an ini file; with `connection`, env.py migrates
    over that connection instead of opening its own."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def run_alembic(
    database_url: str, action: Callable[[Config], None], *, schema: str | None = None
) -> None:
    """Run an Alembic command over one connection of an async engine, in one transaction."""
    engine = create_engine(database_url, schema=schema)
    try:
        async with engine.begin() as conn:
            if schema is not None:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

            def run(sync_connection: Connection) -> None:
                action(alembic_config(sync_connection))

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def migrate_async(database_url: str, *, schema: str | None = None) -> None:
    """Bring the database to the newest schema (`alembic upgrade heads`).

    `heads` rather than `head`: while features are developed side by side their migrations
    may briefly branch from the same parent; main always keeps one head.
    """
    await run_alembic(database_url, lambda config: command.upgrade(config, "heads"), schema=schema)


def migrate(database_url: str, *, schema: str | None = None) -> None:
    """`migrate_async` for callers without an event loop (the command line)."""
    asyncio.run(migrate_async(database_url, schema=schema))
