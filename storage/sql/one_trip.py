"""SQLite statements in one trip through aiosqlite's thread instead of four.

aiosqlite runs each sqlite3 call in a thread of its own, and SQLAlchemy's adapter makes four
such calls for every statement: open a cursor, execute, fetch the rows, close the cursor.
Each is a hand-over to that thread and back through the event loop, which, with twenty turns
in flight, waits behind everything else the loop has to do: `python -m bot bench` found the
bot's turns waiting on these hand-overs far more than working (three statements and a
commit make a SPOC's `agenda`, sixteen trips). The cursor here does all four in one call in
that thread and keeps what SQLAlchemy reads afterwards (the description, the row count, the
last row id, the rows). Transactions, commits, rollbacks and errors go as before.

Installed by `install()` (storage.sql.engine calls it for SQLite) only when SQLAlchemy's
adapter and aiosqlite are the ones this was written against; otherwise nothing changes.
"""

from __future__ import annotations

import collections
import importlib
from typing import Any, NamedTuple

from sqlalchemy.util import EMPTY_DICT

_ADAPTER = "sqlalchemy.dialects.sqlite.aiosqlite"


class Finished(NamedTuple):
    """What SQLAlchemy reads from a cursor once its statement has run."""

    description: Any
    rowcount: int
    lastrowid: int | None
    arraysize: int

    def close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed in the driver's thread."""


NOT_RUN = Finished(None, -1, None, 1)


def _run_once(connection: Any, operation: Any, parameters: Any, many: bool) -> tuple[Any, Any]:
    """In aiosqlite's thread: run the statement on a fresh sqlite3 cursor, take its rows,
    close it."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        return (
            Finished(cursor.description, cursor.rowcount, cursor.lastrowid, cursor.arraysize),
            rows,
        )
    finally:
        cursor.close()


def _cursor_class() -> type | None:
    """SQLAlchemy's aiosqlite cursor with one trip a statement; None when the adapter is not
    the one this was written for."""
    adapter = importlib.import_module(_ADAPTER)
    base = getattr(adapter, "AsyncAdapt_aiosqlite_cursor", None)
    if base is None or not hasattr(base, "_execute_async"):
        return None

    class OneTripCursor(base):  # type: ignore[misc, valid-type]
        _awaitable_cursor_close = False

        def __init__(self, adapt_connection: Any) -> None:
            self._adapt_connection = adapt_connection
            self._connection = adapt_connection._connection
            self._cursor = NOT_RUN
            self._soft_closed_memoized = EMPTY_DICT
            self._rows: collections.deque[Any] = collections.deque()

        async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
            async with self._adapt_connection._execute_mutex:
                finished, rows = await self._connection._execute(
                    _run_once, self._connection, operation, parameters, many
                )
                self._cursor = finished
                if rows is not None:
                    self._rows = collections.deque(rows)

        async def _execute_async(self, operation: Any, parameters: Any) -> None:
            await self._trip(operation, parameters, many=False)

        async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
            await self._trip(operation, seq_of_parameters, many=True)

    return OneTripCursor


def install() -> bool:
    """Make SQLAlchemy's aiosqlite connections use the one-trip cursor (server-side cursors
    are left as they are); True when installed. Idempotent."""
    adapter = importlib.import_module(_ADAPTER)
    connection = getattr(adapter, "AsyncAdapt_aiosqlite_connection", None)
    aiosqlite = importlib.import_module("aiosqlite")
    if connection is None or not hasattr(aiosqlite.Connection, "_execute"):
        return False
    if getattr(connection._cursor_cls, "one_trip", False):
        return True
    cursor = _cursor_class()
    if cursor is None:
        return False
    cursor.one_trip = True  # type: ignore[attr-defined]
    connection._cursor_cls = cursor
    return True
