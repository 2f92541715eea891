"""Files offered through Teams' file consent card, and whether a panel's minutes may also
go by signed link (revision 0022)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.file_offer import FileOffer, OfferState
from storage.sql.models import FileOfferRow, MinutesLinksRow
from storage.sql.repositories import SqlRepository

if TYPE_CHECKING:
    from datetime import datetime


def _offer(row: FileOfferRow) -> FileOffer:
    return FileOffer(
        id=row.id,
        panel_id=row.panel_id,
        meeting_id=row.meeting_id,
        member_id=row.member_id,
        delivery_id=row.delivery_id,
        state=OfferState(row.state),
        created_at=row.created_at,
        expires_at=row.expires_at,
        answered_at=row.answered_at,
    )


class SqlFileOfferRepository(SqlRepository):
    async def add(self, offer: FileOffer) -> None:
        self._session.add(
            FileOfferRow(
                id=offer.id,
                panel_id=offer.panel_id,
                meeting_id=offer.meeting_id,
                member_id=offer.member_id,
                delivery_id=offer.delivery_id,
                state=offer.state.value,
                created_at=offer.created_at,
                expires_at=offer.expires_at,
                answered_at=offer.answered_at,
            )
        )
        await self._flush()

    async def get(self, panel_id: str, offer_id: str) -> FileOffer | None:
        row = await self._one(
            select(FileOfferRow).where(
                FileOfferRow.panel_id == panel_id, FileOfferRow.id == offer_id
            )
        )
        return None if row is None else _offer(row)

    async def for_meeting(self, panel_id: str, meeting_id: str) -> list[FileOffer]:
        rows = await self._all(
            select(FileOfferRow)
            .where(FileOfferRow.panel_id == panel_id, FileOfferRow.meeting_id == meeting_id)
            .order_by(FileOfferRow.created_at, FileOfferRow.id)
        )
        return [_offer(row) for row in rows]

    async def move(
        self, panel_id: str, offer_id: str, src: OfferState, dst: OfferState, at: datetime
    ) -> bool:
        # One conditional UPDATE: on PostgreSQL a second unit waits for the first's row lock
        # and then finds the state moved; SQLite has one writer.
        statement = (
            update(FileOfferRow)
            .where(
                FileOfferRow.panel_id == panel_id,
                FileOfferRow.id == offer_id,
                FileOfferRow.state == src.value,
            )
            .values(state=dst.value, answered_at=at)
            .execution_options(synchronize_session=False)
        )
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def links_allowed(self, panel_id: str) -> bool:
        row = await self._one(select(MinutesLinksRow).where(MinutesLinksRow.panel_id == panel_id))
        return True if row is None else row.allowed

    async def allow_links(self, panel_id: str, allowed: bool, at: datetime) -> None:
        values = {"panel_id": panel_id, "allowed": allowed, "changed_at": at}
        insert = (
            postgresql.insert(MinutesLinksRow)
            if self._dialect == "postgresql"
            else sqlite.insert(MinutesLinksRow)
        ).values(values)
        await self._session.execute(
            insert.on_conflict_do_update(
                index_elements=["panel_id"], set_={"allowed": allowed, "changed_at": at}
            )
        )
