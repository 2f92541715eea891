"""Storage behind bot.kernel.ports: SQLite or PostgreSQL through SQLAlchemy, or in memory.

storage = open_storage(settings.database_url)
async with storage.unit_of_work() as uow:
    ...
    await uow.commit()
"""

from __future__ import annotations

from storage.errors import ConstraintViolation
from storage.memory import MemoryStorage, MemoryUnitOfWork
from storage.schema import migrate, migrate_async
from storage.sql.engine import create_engine, default_sqlite_url
from storage.sql.unit_of_work import SqlStorage, SqlUnitOfWork

__all__ = [
    "ConstraintViolation",
    "MemoryStorage",
    "MemoryUnitOfWork",
    "SqlStorage",
    "SqlUnitOfWork",
    "default_sqlite_url",
    "migrate",
    "migrate_async",
    "open_storage",
]


def open_storage(database_url: str, *, schema: str | None = None) -> SqlStorage:
    """A SQL storage for a `sqlite://` or `postgresql://` URL (async drivers are filled in).

    The schema must be migrated first (`migrate`). `schema` (PostgreSQL only) keeps every
    table in that schema.
    """
    return SqlStorage(create_engine(database_url, schema=schema))
