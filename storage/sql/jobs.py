"""Periodic jobs' state (revision 0013) and the database locks that make jobs and the
meetings' planning run once across instances on PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from bot.kernel.ports import JobRun
from storage.sql.models import JobRunRow
from storage.sql.repositories import SqlRepository

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)

# Advisory locks are of the whole database: the key is the name within the current schema,
# so deployments (or tests) in schemas of their own never wait for each other.
_KEY = "hashtextextended(current_schema() || '/' || :name, 0)"
TRANSACTION_LOCK = text(f"SELECT pg_advisory_xact_lock({_KEY})")
TRY_LOCK = text(f"SELECT pg_try_advisory_lock({_KEY})")
UNLOCK = text(f"SELECT pg_advisory_unlock({_KEY})")


async def hold_for_transaction(session: AsyncSession, name: str) -> None:
    """PostgreSQL: wait for the named advisory lock, held until the transaction ends."""
    await session.execute(TRANSACTION_LOCK, {"name": name})


@contextlib.asynccontextmanager
async def postgres_leader(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """The named session advisory lock, tried without waiting, on a connection of its own
    (outside any transaction) for as long as the block runs. If it cannot be released the
    connection is closed rather than pooled, which releases it."""
    conn = await engine.connect()
    try:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        took = bool((await conn.execute(TRY_LOCK, {"name": name})).scalar())
    except BaseException:
        await conn.close()
        raise
    try:
        yield took
    finally:
        try:
            if took:
                await conn.execute(UNLOCK, {"name": name})
        except BaseException:
            log.warning("could not release the lock %s: its connection is closed instead", name)
            await conn.invalidate()
            raise
        finally:
            await conn.close()


class SqlJobRepository(SqlRepository):
    async def get(self, name: str) -> JobRun | None:
        row = await self._one(select(JobRunRow).where(JobRunRow.name == name))
        if row is None:
            return None
        return JobRun(row.name, row.next_due, row.last_started, row.last_finished, row.outcome)

    async def save(self, run: JobRun) -> None:
        """Insert the job's row or replace it."""
        row = await self._one(select(JobRunRow).where(JobRunRow.name == run.name))
        if row is None:
            row = JobRunRow(name=run.name)
            self._session.add(row)
        row.next_due = run.next_due
        row.last_started = run.last_started
        row.last_finished = run.last_finished
        row.outcome = run.outcome
        await self._flush()
