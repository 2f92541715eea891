"""What the operators' checks ask of a SQL database: its schema revision against the code's
migrations (for /readyz and for waiting before touching an unmigrated database), and the
outbox's backlog (for the metrics)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from bot.domain.delivery import DeliveryState
from bot.kernel.ports import OutboxBacklog, SchemaStatus
from storage.schema import alembic_config
from storage.sql.models import OutboxRow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine


@functools.cache
def needed_revisions() -> tuple[str, ...]:
    """The head revision(s) of the migrations shipped with this code."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


VERSION_TABLE = "alembic_version"


def _current(connection: Connection) -> tuple[str, ...]:
    # Read directly rather than through Alembic's MigrationContext, which logs two lines
    # each time it is made: this runs every few seconds while the bot waits.
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return tuple(sorted(found))


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """The database's revision(s) against the code's; raises when the database does not
    answer."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    return SchemaStatus(current=current, needed=needed_revisions())


_WAITING = (DeliveryState.PENDING.value, DeliveryState.SENDING.value)


async def outbox_backlog(engine: AsyncEngine, now: datetime) -> OutboxBacklog:
    """How many outbox rows are due by `now` and not yet sent, and the oldest's due time."""
    query = select(func.count(), func.min(OutboxRow.not_before)).where(
        OutboxRow.state.in_(_WAITING), OutboxRow.not_before <= now
    )
    async with engine.connect() as conn:
        due, oldest = (await conn.execute(query)).one()
    return OutboxBacklog(due=int(due), oldest_due_at=oldest)
