"""Reference numbers from a counter per panel, kind and year (revision 0015).

`next` adds one to the counter and returns it in one statement (INSERT ... ON CONFLICT DO
UPDATE ... RETURNING, on SQLite and PostgreSQL alike). The updated row stays locked until
the unit of work ends, so a second unit taking a number at the same time waits and gets the
next one: numbers are never handed out twice, and never go back. A unit that rolls back gives
its number back (nobody has seen it).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite

from storage.sql.models import CounterRow
from storage.sql.repositories import SqlRepository


class SqlCounterRepository(SqlRepository):
    async def next(self, panel_id: str, kind: str, year: int) -> int:
        values = {"panel_id": panel_id, "kind": kind, "year": year, "last": 1}
        insert = (
            postgresql.insert(CounterRow)
            if self._dialect == "postgresql"
            else sqlite.insert(CounterRow)
        ).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=["panel_id", "kind", "year"],
            set_={"last": CounterRow.last + 1},
        ).returning(CounterRow.last)
        return int((await self._session.execute(statement)).scalar_one())

    async def raise_to(self, panel_id: str, kind: str, year: int, number: int) -> None:
        values = {"panel_id": panel_id, "kind": kind, "year": year, "last": number}
        insert = (
            postgresql.insert(CounterRow)
            if self._dialect == "postgresql"
            else sqlite.insert(CounterRow)
        ).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=["panel_id", "kind", "year"],
            set_={
                "last": func.max(CounterRow.last, number)
                if self._dialect == "sqlite"
                else func.greatest(CounterRow.last, number)
            },
        )
        await self._session.execute(statement)
