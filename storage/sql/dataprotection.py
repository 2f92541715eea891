"""SQL repositories for data protection and the quarterly figures (revision 0007)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from bot.domain.action import Action
from bot.domain.case import Case, CaseStatus
from bot.domain.referral import Referral, ReferralStatus
from bot.domain.retention import ENDED_WITHOUT_CASE, Person, SubjectAccessExport
from storage.errors import ConstraintViolation
from storage.sql import mapping as m
from storage.sql.models import (
    ActionRow,
    ActionUpdateRow,
    Base,
    CaseRow,
    ReferralRepeatRow,
    ReferralRow,
    RetentionMarkRow,
    SubjectAccessExportRow,
    SubjectRow,
)
from storage.sql.repositories import SqlRepository


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _not_marked(entity: str, column: Any) -> Any:
    return ~exists().where(RetentionMarkRow.entity == entity, RetentionMarkRow.entity_id == column)


def _to_export(row: SubjectAccessExportRow) -> SubjectAccessExport:
    return SubjectAccessExport(
        id=row.id,
        panel_id=row.panel_id,
        member_id=row.member_id,
        name=row.name,
        date_of_birth=row.date_of_birth,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlDataProtectionRepository(SqlRepository):
    async def _insert_once(self, table: Table, values: dict[str, Any]) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING: False when the key is there already (on
        PostgreSQL a concurrent insert of the same key waits, then yields)."""
        keys = [column.name for column in table.primary_key.columns]
        if self._dialect == "postgresql":
            pg = postgresql.insert(table).values(values)
            statement = pg.on_conflict_do_nothing(index_elements=keys).returning(table.c[keys[0]])
        else:
            lite = sqlite.insert(table).values(values)
            statement = lite.on_conflict_do_nothing(index_elements=keys).returning(table.c[keys[0]])
        try:
            inserted = (await self._session.execute(statement)).first()
        except IntegrityError as exc:  # e.g. no such panel
            raise ConstraintViolation(f"The database refused the row: {exc.orig}") from exc
        return inserted is not None

    async def cases_due(self, panel_id: str, closed_before: datetime, limit: int) -> list[Case]:
        rows = await self._all(
            select(CaseRow)
            .options(selectinload(CaseRow.invited_agencies))
            .where(
                CaseRow.panel_id == panel_id,
                CaseRow.status == CaseStatus.CLOSED.value,
                CaseRow.closed_at < closed_before,
                _not_marked("case", CaseRow.id),
            )
            .order_by(CaseRow.closed_at, self._binary(CaseRow.id))
            .limit(limit)
        )
        return [m.to_case(row) for row in rows]

    async def referrals_due(
        self, panel_id: str, ended_before: datetime, limit: int
    ) -> list[Referral]:
        ended = [status.value for status in ENDED_WITHOUT_CASE]
        rows = await self._all(
            select(ReferralRow)
            .options(selectinload(ReferralRow.subjects))
            .where(
                ReferralRow.panel_id == panel_id,
                or_(
                    and_(
                        ReferralRow.status.in_(ended),
                        func.coalesce(
                            ReferralRow.decided_at, ReferralRow.submitted_at, ReferralRow.created_at
                        )
                        < ended_before,
                    ),
                    and_(
                        ReferralRow.status == ReferralStatus.DRAFT.value,
                        ReferralRow.created_at < ended_before,
                    ),
                ),
                _not_marked("referral", ReferralRow.id),
            )
            .order_by(ReferralRow.created_at, self._binary(ReferralRow.id))
            .limit(limit)
        )
        return [m.to_referral(row) for row in rows]

    async def mark_anonymised(
        self, panel_id: str, entity: str, entity_id: str, at: datetime
    ) -> bool:
        return await self._insert_once(
            _table(RetentionMarkRow),
            {"panel_id": panel_id, "entity": entity, "entity_id": entity_id, "anonymised_at": at},
        )

    async def freeze_repeat(
        self, panel_id: str, referral_id: str, repeat: bool, at: datetime
    ) -> bool:
        return await self._insert_once(
            _table(ReferralRepeatRow),
            {"panel_id": panel_id, "referral_id": referral_id, "repeat": repeat, "recorded_at": at},
        )

    async def frozen_repeats(self, panel_id: str) -> dict[str, bool]:
        rows = await self._session.execute(
            select(ReferralRepeatRow.referral_id, ReferralRepeatRow.repeat).where(
                ReferralRepeatRow.panel_id == panel_id
            )
        )
        return {referral_id: bool(repeat) for referral_id, repeat in rows}

    async def referrals_concerning(self, panel_id: str, person: Person) -> list[Referral]:
        """Candidates by date of birth (subjects) and from the children's documents, then
        the rule itself (bot.domain.retention.Person) decides: three statements."""
        candidates = set(
            await self._session.scalars(
                select(SubjectRow.referral_id).where(
                    SubjectRow.panel_id == panel_id,
                    SubjectRow.date_of_birth == person.date_of_birth,
                )
            )
        )
        born = person.date_of_birth.isoformat()
        households = await self._session.execute(
            select(ReferralRow.id, ReferralRow.children).where(ReferralRow.panel_id == panel_id)
        )
        for referral_id, children in households:
            if any(str(child.get("date_of_birth") or "") == born for child in children or []):
                candidates.add(referral_id)
        if not candidates:
            return []
        rows = await self._all(
            select(ReferralRow)
            .options(selectinload(ReferralRow.subjects))
            .where(ReferralRow.panel_id == panel_id, ReferralRow.id.in_(candidates))
            .order_by(ReferralRow.created_at, self._binary(ReferralRow.id))
        )
        return [r for r in (m.to_referral(row) for row in rows) if person.concerns(r)]

    async def rewrite_action(self, action: Action) -> None:
        await self._session.execute(
            update(ActionRow)
            .where(ActionRow.panel_id == action.panel_id, ActionRow.id == action.id)
            .values(description=action.description, cancel_reason=action.cancel_reason)
            .execution_options(synchronize_session=False)
        )
        for entry in action.updates:
            await self._session.execute(
                update(ActionUpdateRow)
                .where(
                    ActionUpdateRow.panel_id == action.panel_id,
                    ActionUpdateRow.action_id == action.id,
                    ActionUpdateRow.id == entry.id,
                )
                .values(note=entry.note)
                .execution_options(synchronize_session=False)
            )

    async def save_export(self, export: SubjectAccessExport) -> None:
        row = await self._for_save(SubjectAccessExportRow, export.id, export.panel_id)
        if row is None:
            row = SubjectAccessExportRow(id=export.id)
            self._session.add(row)
        row.panel_id = export.panel_id
        row.member_id = export.member_id
        row.name = export.name
        row.date_of_birth = export.date_of_birth
        row.created_at = export.created_at
        row.expires_at = export.expires_at
        await self._flush()

    async def export(self, panel_id: str, export_id: str) -> SubjectAccessExport | None:
        row = await self._one(
            select(SubjectAccessExportRow).where(
                SubjectAccessExportRow.panel_id == panel_id,
                SubjectAccessExportRow.id == export_id,
            )
        )
        return _to_export(row) if row else None

    async def exports(self, panel_id: str) -> list[SubjectAccessExport]:
        rows = await self._all(
            select(SubjectAccessExportRow)
            .where(SubjectAccessExportRow.panel_id == panel_id)
            .order_by(SubjectAccessExportRow.created_at, self._binary(SubjectAccessExportRow.id))
        )
        return [_to_export(row) for row in rows]

    async def delete_exports(self, panel_id: str, export_ids: Sequence[str]) -> int:
        if not export_ids:
            return 0
        result = await self._session.execute(
            delete(SubjectAccessExportRow)
            .where(
                SubjectAccessExportRow.panel_id == panel_id,
                SubjectAccessExportRow.id.in_(set(export_ids)),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlReportRepository(SqlRepository):
    async def cases(self, panel_id: str) -> list[Case]:
        rows = await self._all(
            select(CaseRow)
            .options(selectinload(CaseRow.invited_agencies))
            .where(CaseRow.panel_id == panel_id)
            .order_by(CaseRow.opened_at, self._binary(CaseRow.id))
        )
        return [m.to_case(row) for row in rows]

    async def actions_due_between(self, panel_id: str, first: date, last: date) -> list[Action]:
        rows = await self._all(
            select(ActionRow)
            .options(selectinload(ActionRow.updates))
            .where(ActionRow.panel_id == panel_id, ActionRow.due_on.between(first, last))
            .order_by(ActionRow.due_on, ActionRow.created_at, self._binary(ActionRow.id))
        )
        return [m.to_action(row) for row in rows]
