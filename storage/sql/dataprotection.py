"""SQL repositories for data protection and the quarterly figures (revision 0007)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from bot.domain.action import Action, ActionStatus
from bot.domain.case import Case, CaseStatus
from bot.domain.delivery import FINISHED, OutgoingDelivery
from bot.domain.erasures import ErasedEntry, ErasureRequest
from bot.domain.referral import Referral, ReferralStatus, normalise_name
from bot.domain.retention import ENDED_WITHOUT_CASE, Person, SubjectAccessExport, draft_entries
from storage.errors import ConstraintViolation
from storage.inventory import SWEPT, needle_pattern, redact
from storage.sql import mapping as m
from storage.sql.models import (
    ActionCardRow,
    ActionRow,
    ActionUpdateRow,
    Base,
    CaseRow,
    ErasureRequestRow,
    OutboxRow,
    ProcessedActivityRow,
    ReferralRepeatRow,
    ReferralRow,
    RetentionMarkRow,
    SubjectAccessExportRow,
    SubjectRow,
)
from storage.sql.repositories import SqlRepository

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime


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
        postcode=row.postcode,
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
        """Those naming the person (`referrals_naming`), then the rule itself
        (bot.domain.retention.Person) decides."""
        named = await self.referrals_naming(panel_id, [person.match_name])
        return [r for r in named if person.concerns(r)]

    async def referrals_naming(self, panel_id: str, match_names: Sequence[str]) -> list[Referral]:
        """Candidates by the subjects' indexed normalised name, their aliases, the children
        and the drafts' rows (read as columns, matched here), then loaded: four statements."""
        wanted = set(match_names)
        if not wanted:
            return []
        candidates = set(
            await self._session.scalars(
                select(SubjectRow.referral_id).where(
                    SubjectRow.panel_id == panel_id, SubjectRow.match_name.in_(wanted)
                )
            )
        )
        aliases = await self._session.execute(
            select(SubjectRow.referral_id, SubjectRow.aliases).where(
                SubjectRow.panel_id == panel_id
            )
        )
        for referral_id, names in aliases:
            if any(normalise_name(str(alias)) in wanted for alias in names or []):
                candidates.add(referral_id)
        households = await self._session.execute(
            select(ReferralRow.id, ReferralRow.children, ReferralRow.draft_inputs).where(
                ReferralRow.panel_id == panel_id
            )
        )
        for referral_id, children, typed in households:
            named = [str(child.get("name") or "") for child in children or []]
            subjects, kids = draft_entries(typed or {})
            named += [entry.name for entry in subjects] + [kid.name for kid in kids]
            named += [alias for entry in subjects for alias in entry.aliases]
            if any(normalise_name(name) in wanted for name in named):
                candidates.add(referral_id)
        if not candidates:
            return []
        rows = await self._all(
            select(ReferralRow)
            .options(selectinload(ReferralRow.subjects))
            .where(ReferralRow.panel_id == panel_id, ReferralRow.id.in_(candidates))
            .order_by(ReferralRow.created_at, self._binary(ReferralRow.id))
        )
        return [m.to_referral(row) for row in rows]

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
        row.postcode = export.postcode
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

    async def deliveries_naming(
        self, panel_id: str, needles: Sequence[str]
    ) -> list[OutgoingDelivery]:
        pattern = needle_pattern(needles)
        if pattern is None:
            return []
        rows = await self._all(
            select(OutboxRow).where(OutboxRow.panel_id == panel_id).order_by(OutboxRow.seq)
        )
        return [
            m.to_delivery(row)
            for row in rows
            if pattern.search(json.dumps(row.payload, ensure_ascii=False))
        ]

    async def sweep(self, panel_id: str, needles: Sequence[str], marker: str) -> int:
        """Row by row in Python (the databases fold case differently), one UPDATE per row
        changed; the statements go through the session, so the agenda's data version rises."""
        pattern = needle_pattern(needles)
        if pattern is None:
            return 0
        changed = 0
        by_table: dict[str, list[str]] = {}
        for place in SWEPT:
            by_table.setdefault(place.table, []).append(place.column)
        for name, columns in by_table.items():
            table = Base.metadata.tables[name]
            keys = list(table.primary_key.columns)
            rows = await self._session.execute(
                select(*keys, *(table.c[c] for c in columns)).where(table.c.panel_id == panel_id)
            )
            for row in rows.all():
                values = {}
                for column in columns:
                    before = row._mapping[table.c[column]]
                    after = redact(before, pattern, marker)
                    if after != before:
                        values[column] = after
                if not values:
                    continue
                where = [key == row._mapping[key] for key in keys]
                await self._session.execute(update(table).where(*where).values(values))
                changed += 1
        return changed

    async def prune_deliveries(self, created_before: datetime, limit: int) -> int:
        open_cards = (
            select(ActionCardRow.delivery_id)
            .join(
                ActionRow,
                and_(
                    ActionRow.panel_id == ActionCardRow.panel_id,
                    ActionRow.id == ActionCardRow.action_id,
                ),
            )
            .where(ActionRow.status == ActionStatus.OPEN.value)
        )
        finished = [state.value for state in FINISHED]
        ids = list(
            await self._session.scalars(
                select(OutboxRow.id)
                .where(
                    OutboxRow.state.in_(finished),
                    OutboxRow.created_at < created_before,
                    OutboxRow.id.not_in(open_cards),
                )
                .order_by(OutboxRow.seq)
                .limit(limit)
            )
        )
        if not ids:
            return 0
        await self._session.execute(
            delete(ActionCardRow)
            .where(ActionCardRow.delivery_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        result = await self._session.execute(
            delete(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.state.in_(finished))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune_activities(self, seen_before: datetime, limit: int) -> int:
        keys = list(
            await self._session.scalars(
                select(ProcessedActivityRow.key)
                .where(ProcessedActivityRow.seen_at < seen_before)
                .order_by(ProcessedActivityRow.seen_at)
                .limit(limit)
            )
        )
        if not keys:
            return 0
        result = await self._session.execute(
            delete(ProcessedActivityRow)
            .where(ProcessedActivityRow.key.in_(keys))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def record_erasure(self, request: ErasureRequest) -> bool:
        return await self._insert_once(
            _table(ErasureRequestRow),
            {
                "id": request.id,
                "panel_id": request.panel_id,
                "requested_at": request.requested_at,
                "requested_by": request.requested_by,
                "reason": request.reason,
                "entries": [entry.as_json() for entry in request.entries],
            },
        )

    async def erasure_requests(self) -> list[ErasureRequest]:
        rows = await self._all(
            select(ErasureRequestRow).order_by(
                ErasureRequestRow.requested_at, self._binary(ErasureRequestRow.id)
            )
        )
        return [
            ErasureRequest(
                id=row.id,
                panel_id=row.panel_id,
                requested_at=row.requested_at,
                requested_by=row.requested_by,
                reason=row.reason,
                entries=tuple(ErasedEntry.from_json(entry) for entry in row.entries),
            )
            for row in rows
        ]


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
