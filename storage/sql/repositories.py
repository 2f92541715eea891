"""SQLAlchemy implementations of the repository ports.

Each repository works inside the session of its unit of work. `save` is an upsert by id:
the row is loaded (with its child rows), overwritten and flushed at once, so an integrity
error surfaces at the `save` that caused it, as a ConstraintViolation. Reads re-load rows
(`populate_existing`) so they see what the database holds now, never a stale copy.

Referrals, minutes, cases, meetings, actions and information requests carry an optimistic
lock (`version`), checked at `save`; see SqlReferralRepository.save and
SqlRepository._next_version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, and_, delete, exists, func, or_, select, text
from sqlalchemy import update as update_rows
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import FlushError
from sqlalchemy.types import Text as SqlText

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.case import Case, CaseStatus
from bot.domain.delivery import (
    FINISHED,
    ConversationKind,
    ConversationRef,
    DeliveryState,
    OutgoingDelivery,
)
from bot.domain.meeting import AgendaItem, Attendance, Meeting
from storage.errors import (
    ACTION,
    CASE,
    INFORMATION_REQUEST,
    MEETING,
    ConstraintViolation,
    refused,
    stale,
    stale_minutes,
    stale_referral,
)
from storage.inventory import emptied_payload
from storage.sql import mapping as m
from storage.sql.models import (
    ActionCardRow,
    ActionRow,
    AgencyRow,
    AgendaItemRow,
    AuditEventRow,
    Base,
    CaseInvitedAgencyRow,
    CaseRow,
    ConversationRefRow,
    InformationRequestRow,
    IsaAcceptanceRow,
    MeetingAttendanceRow,
    MeetingMinutesRow,
    MeetingRow,
    MemberRow,
    OutboxLaneRow,
    OutboxRow,
    PanelRow,
    PanelScoped,
    ProcessedActivityRow,
    ReferralRow,
    ReminderRow,
    SubjectRow,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.domain.audit import AuditEvent
    from bot.domain.minutes import Minutes
    from bot.domain.panel import Agency, IsaAcceptance, Member, Panel
    from bot.domain.referral import Referral, ReferralStatus, Subject
    from bot.domain.reminders import ActionCardCopy, SentReminder

RowT = TypeVar("RowT", bound=Base)
# Leases of lanes that ran out this long ago are deleted (SqlOutboxRepository.keep_lanes).
LEASES_FORGOTTEN = timedelta(hours=1)
# The tenant's next turn (SqlOutboxRepository.tenant_turn), PostgreSQL only.
_TENANT_TURN = text(
    "INSERT INTO outbox_tenant_pace AS p (tenant, next_slot, last_owner, shared_until) "
    "VALUES (:tenant, clock_timestamp() + make_interval(secs => CAST(:span AS float8)), "
    ":owner, clock_timestamp() + make_interval(secs => CAST(:alone AS float8))) "
    "ON CONFLICT (tenant) DO UPDATE SET next_slot = GREATEST(p.next_slot, clock_timestamp()) "
    "+ make_interval(secs => CAST(:span AS float8)), last_owner = :owner, "
    "shared_until = CASE WHEN p.last_owner = :owner THEN p.shared_until "
    "ELSE clock_timestamp() + make_interval(secs => CAST(:alone AS float8)) END "
    "RETURNING p.next_slot - make_interval(secs => CAST(:span AS float8)), "
    "p.shared_until > clock_timestamp()"
)
ScopedT = TypeVar("ScopedT", bound=PanelScoped)
# The rows with an optimistic lock (revision 0009) and the domain objects saved into them.
VersionedRow = CaseRow | MeetingRow | ActionRow | InformationRequestRow
Versioned = Case | Meeting | Action | InformationRequest


class SqlRepository:
    """What every repository shares: the session, the dialect, flushing and loading."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._dialect = dialect

    def _binary(self, column: InstrumentedAttribute[str]) -> ColumnElement[Any]:
        """Order text by code point everywhere, as SQLite and Python do (PostgreSQL would
        otherwise use the database's locale)."""
        return column.collate("C") if self._dialect == "postgresql" else column.expression

    async def _flush(self) -> None:
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise refused("the change", exc.orig) from exc
        except FlushError as exc:
            # Two records with one id inside this unit of work, caught before the database.
            raise ConstraintViolation(str(exc)) from exc

    async def _all(self, statement: Select[RowT]) -> Sequence[RowT]:
        result = await self._session.scalars(statement.execution_options(populate_existing=True))
        return result.all()

    async def _one(self, statement: Select[RowT]) -> RowT | None:
        result = await self._session.scalars(
            statement.limit(1).execution_options(populate_existing=True)
        )
        return result.first()

    async def _for_save(
        self,
        model: type[ScopedT],
        entity_id: str,
        panel_id: str,
        *children: InstrumentedAttribute[Any],
    ) -> ScopedT | None:
        """The stored row to overwrite, or None; refuses a record of another panel."""
        row = await self._session.get(
            model,
            entity_id,
            options=[selectinload(child) for child in children],
            populate_existing=True,
        )
        if row is not None and row.panel_id != panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        return row

    async def _next_version(self, entity: str, row: VersionedRow | None, saved: Versioned) -> int:
        """The version `saved` is stored as: 1 for a new row; otherwise the next after the
        one it was loaded with, claimed by `UPDATE ... SET version = v + 1 WHERE id, panel
        AND version = v`, or StaleVersion (nothing stored) when the row holds another one.

        As for referrals, the claimed row stays locked (PostgreSQL) or the database stays
        reserved (SQLite) until the unit of work ends, so of two units saving from the same
        version the second waits here for the first to end, then is refused. The UPDATE goes
        through the connection (Core), so that the session does not take it for a bulk
        change of every panel's agenda inputs; the flush of the other fields notes the panel.
        """
        if row is None:
            return 1
        if row.version != saved.version:
            raise stale(entity, saved.id)
        table = cast("Table", type(row).__table__)
        connection = await self._session.connection()
        claimed = await connection.execute(
            update_rows(table)
            .where(
                table.c.id == saved.id,
                table.c.panel_id == saved.panel_id,
                table.c.version == saved.version,
            )
            .values(version=saved.version + 1)
            .returning(table.c.version)
        )
        version = claimed.scalar_one_or_none()
        if version is None:
            raise stale(entity, saved.id)
        # The database holds it already; the flush need not write it again.
        set_committed_value(row, "version", int(version))
        return int(version)


class SqlPanelRepository(SqlRepository):
    async def save(self, panel: Panel) -> None:
        row = await self._session.get(PanelRow, panel.id, populate_existing=True)
        if row is None:
            row = PanelRow(id=panel.id)
            self._session.add(row)
        m.fill_panel(row, panel)
        await self._flush()

    async def get(self, panel_id: str) -> Panel | None:
        row = await self._one(select(PanelRow).where(PanelRow.id == panel_id))
        return m.to_panel(row) if row else None

    async def by_team(self, team_id: str) -> Panel | None:
        row = await self._one(select(PanelRow).where(PanelRow.team_id == team_id))
        return m.to_panel(row) if row else None

    async def list_all(self) -> list[Panel]:
        """Every panel, oldest first."""
        rows = await self._all(
            select(PanelRow).order_by(PanelRow.created_at, self._binary(PanelRow.id))
        )
        return [m.to_panel(row) for row in rows]


class SqlAgencyRepository(SqlRepository):
    async def save(self, agency: Agency) -> None:
        row = await self._for_save(AgencyRow, agency.id, agency.panel_id)
        if row is None:
            row = AgencyRow(id=agency.id)
            self._session.add(row)
        m.fill_agency(row, agency)
        await self._flush()

    async def get(self, panel_id: str, agency_id: str) -> Agency | None:
        row = await self._one(
            select(AgencyRow).where(AgencyRow.panel_id == panel_id, AgencyRow.id == agency_id)
        )
        return m.to_agency(row) if row else None

    async def by_name(self, panel_id: str, name: str) -> Agency | None:
        """Case-insensitive exact name match."""
        row = await self._one(
            select(AgencyRow)
            .where(AgencyRow.panel_id == panel_id, AgencyRow.name_key == m.lookup_key(name))
            .order_by(self._binary(AgencyRow.id))
        )
        return m.to_agency(row) if row else None

    async def all(self, panel_id: str) -> list[Agency]:
        """The panel's agencies by case-insensitive name."""
        rows = await self._all(
            select(AgencyRow)
            .where(AgencyRow.panel_id == panel_id)
            .order_by(self._binary(AgencyRow.name_key), self._binary(AgencyRow.id))
        )
        return [m.to_agency(row) for row in rows]


class SqlMemberRepository(SqlRepository):
    async def save(self, member: Member) -> None:
        row = await self._for_save(MemberRow, member.id, member.panel_id)
        if row is None:
            row = MemberRow(id=member.id)
            self._session.add(row)
        m.fill_member(row, member)
        await self._flush()

    async def get(self, panel_id: str, member_id: str) -> Member | None:
        row = await self._one(
            select(MemberRow).where(MemberRow.panel_id == panel_id, MemberRow.id == member_id)
        )
        return m.to_member(row) if row else None

    async def by_aad(self, panel_id: str, aad_object_id: str) -> Member | None:
        row = await self._one(
            select(MemberRow).where(
                MemberRow.panel_id == panel_id, MemberRow.aad_object_id == aad_object_id
            )
        )
        return m.to_member(row) if row else None

    async def memberships_with_panels(self, aad_object_id: str) -> list[tuple[Member, Panel]]:
        """Every panel membership of one Teams user with its panel, by panel id."""
        result = await self._session.execute(
            select(MemberRow, PanelRow)
            .join(PanelRow, PanelRow.id == MemberRow.panel_id)
            .where(MemberRow.aad_object_id == aad_object_id)
            .order_by(self._binary(MemberRow.panel_id), self._binary(MemberRow.id))
            .execution_options(populate_existing=True)
        )
        return [(m.to_member(member), m.to_panel(panel)) for member, panel in result.all()]

    async def on_several_panels(self, panel_id: str) -> frozenset[str]:
        """The panel's members whose person has more than one joined, active membership."""
        joined = aliased(MemberRow)
        result = await self._session.execute(
            select(MemberRow.id)
            .join(joined, joined.aad_object_id == MemberRow.aad_object_id)
            .where(
                MemberRow.panel_id == panel_id,
                joined.active.is_(True),
                joined.invited.is_(False),
            )
            .group_by(MemberRow.id)
            .having(func.count() > 1)
        )
        return frozenset(str(member_id) for member_id in result.scalars())

    async def memberships(self, aad_object_id: str) -> list[Member]:
        """Every panel membership of one Teams user, by panel id."""
        rows = await self._all(
            select(MemberRow)
            .where(MemberRow.aad_object_id == aad_object_id)
            .order_by(self._binary(MemberRow.panel_id), self._binary(MemberRow.id))
        )
        return [m.to_member(row) for row in rows]

    async def note_teams_user_id(self, panel_id: str, member_id: str, teams_user_id: str) -> None:
        await self._session.execute(
            update_rows(MemberRow)
            .where(MemberRow.panel_id == panel_id, MemberRow.id == member_id)
            .values(teams_user_id=teams_user_id)
            .execution_options(synchronize_session=False)
        )

    async def all(self, panel_id: str) -> list[Member]:
        """The panel's members by name."""
        rows = await self._all(
            select(MemberRow)
            .where(MemberRow.panel_id == panel_id)
            .order_by(self._binary(MemberRow.name), self._binary(MemberRow.id))
        )
        return [m.to_member(row) for row in rows]


class SqlIsaRepository(SqlRepository):
    async def save(self, acceptance: IsaAcceptance) -> None:
        row = await self._for_save(IsaAcceptanceRow, acceptance.id, acceptance.panel_id)
        if row is None:
            row = IsaAcceptanceRow(id=acceptance.id)
            self._session.add(row)
        m.fill_isa(row, acceptance)
        await self._flush()

    async def latest(self, panel_id: str, member_id: str) -> IsaAcceptance | None:
        """The member's most recent acceptance, whatever its version."""
        row = await self._one(
            select(IsaAcceptanceRow)
            .where(IsaAcceptanceRow.panel_id == panel_id, IsaAcceptanceRow.member_id == member_id)
            .order_by(IsaAcceptanceRow.accepted_at.desc(), self._binary(IsaAcceptanceRow.id).desc())
        )
        return m.to_isa(row) if row else None

    async def latest_by_member(self, panel_id: str) -> dict[str, IsaAcceptance]:
        """Each member's most recent acceptance, by member id (one statement)."""
        rows = await self._all(
            select(IsaAcceptanceRow)
            .where(IsaAcceptanceRow.panel_id == panel_id)
            .order_by(IsaAcceptanceRow.accepted_at, self._binary(IsaAcceptanceRow.id))
        )
        return {row.member_id: m.to_isa(row) for row in rows}


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instants of `year` and of the next year, in UTC."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


class SqlReferralRepository(SqlRepository):
    def _select(self) -> Select[ReferralRow]:
        return select(ReferralRow).options(selectinload(ReferralRow.subjects))

    def _oldest_first(self, statement: Select[ReferralRow]) -> Select[ReferralRow]:
        return statement.order_by(ReferralRow.created_at, self._binary(ReferralRow.id))

    async def save(self, referral: Referral) -> None:
        """Insert or update the referral; its subjects are replaced by the given ones.

        The optimistic lock: a new referral is stored as version 1; a stored one is updated
        only from the version it holds, and gets the next. Either way `referral.version` is
        set to what was stored. A save from a stale copy raises Conflict and changes nothing
        (the unit of work stays usable).

        The version is claimed first, with `UPDATE ... SET version = v + 1 WHERE id, panel
        AND version = v`: that row then stays locked (PostgreSQL) or the database stays
        reserved (SQLite) until the unit of work ends, so of two units saving the same
        version the second waits at its `save` until the first commits, then gets Conflict
        there (or succeeds, if the first rolled back).
        """
        row = await self._for_save(
            ReferralRow, referral.id, referral.panel_id, ReferralRow.subjects
        )
        if row is None:
            version = 1
            row = ReferralRow(id=referral.id, subjects=[], version=version)
            self._session.add(row)
        else:
            version = await self._claim_next_version(referral, stored=row.version)
            # The database holds it already; the flush need not write it again.
            set_committed_value(row, "version", version)
        m.fill_referral(row, referral)
        stored = {subject.id: subject for subject in row.subjects}
        subjects: list[SubjectRow] = []
        for position, subject in enumerate(referral.subjects):
            subject_row = stored.pop(subject.id, None) or SubjectRow(id=subject.id)
            m.fill_subject(subject_row, subject, panel_id=referral.panel_id, position=position)
            subjects.append(subject_row)
        row.subjects = subjects
        await self._flush()
        referral.version = version

    async def _claim_next_version(self, referral: Referral, *, stored: int) -> int:
        """Move the stored row from `referral.version` to the next version, or raise
        Conflict when the row holds another one (now, or once a concurrent unit ends)."""
        if stored != referral.version:
            raise stale_referral(referral.id)
        claimed = await self._session.execute(
            update_rows(ReferralRow)
            .where(
                ReferralRow.id == referral.id,
                ReferralRow.panel_id == referral.panel_id,
                ReferralRow.version == referral.version,
            )
            .values(version=referral.version + 1)
            .returning(ReferralRow.version)
            .execution_options(synchronize_session=False)
        )
        version = claimed.scalar_one_or_none()
        if version is None:
            raise stale_referral(referral.id)
        return int(version)

    async def get(self, panel_id: str, referral_id: str) -> Referral | None:
        row = await self._one(
            self._select().where(ReferralRow.panel_id == panel_id, ReferralRow.id == referral_id)
        )
        return m.to_referral(row) if row else None

    async def by_reference(self, panel_id: str, reference: str) -> Referral | None:
        """Reference match is case-insensitive, as for cases."""
        row = await self._one(
            self._select().where(
                ReferralRow.panel_id == panel_id,
                ReferralRow.reference_key == m.lookup_key(reference),
            )
        )
        return m.to_referral(row) if row else None

    async def all(self, panel_id: str, *, status: ReferralStatus | None = None) -> list[Referral]:
        """The panel's referrals (of one status, if given), oldest first."""
        statement = self._select().where(ReferralRow.panel_id == panel_id)
        if status is not None:
            statement = statement.where(ReferralRow.status == status.value)
        rows = await self._all(self._oldest_first(statement))
        return [m.to_referral(row) for row in rows]

    async def by_referrer(self, panel_id: str, member_id: str) -> list[Referral]:
        """One member's referrals, oldest first."""
        rows = await self._all(
            self._oldest_first(
                self._select().where(
                    ReferralRow.panel_id == panel_id,
                    ReferralRow.referrer_member_id == member_id,
                )
            )
        )
        return [m.to_referral(row) for row in rows]

    async def subject_matches(
        self,
        panel_id: str,
        *,
        dates_of_birth: Sequence[date],
        match_postcode: str | None,
        exclude_referral_id: str | None = None,
    ) -> list[tuple[Referral, Subject]]:
        """Referrals with a subject born on one of `dates_of_birth` or at the same normalised
        postcode, whatever the name (the domain compares names); oldest referral first."""
        either: list[ColumnElement[bool]] = []
        if dates_of_birth:
            either.append(SubjectRow.date_of_birth.in_(list(dates_of_birth)))
        if match_postcode is not None:
            either.append(SubjectRow.match_postcode == match_postcode)
        if not either:
            return []
        statement = (
            select(SubjectRow.referral_id, SubjectRow.id)
            .join(ReferralRow, ReferralRow.id == SubjectRow.referral_id)
            .where(
                SubjectRow.panel_id == panel_id,
                ReferralRow.panel_id == panel_id,
                or_(*either),
            )
            .order_by(ReferralRow.created_at, self._binary(ReferralRow.id), SubjectRow.position)
        )
        if exclude_referral_id is not None:
            statement = statement.where(SubjectRow.referral_id != exclude_referral_id)
        hits = (await self._session.execute(statement)).all()
        if not hits:
            return []
        rows = await self._all(
            self._select().where(
                ReferralRow.panel_id == panel_id,
                ReferralRow.id.in_({referral_id for referral_id, _ in hits}),
            )
        )
        referrals = {row.id: m.to_referral(row) for row in rows}
        matches: list[tuple[Referral, Subject]] = []
        for referral_id, subject_id in hits:
            referral = referrals[referral_id]
            subject = next(s for s in referral.subjects if s.id == subject_id)
            matches.append((referral, subject))
        return matches

    async def search_subjects(
        self,
        panel_id: str,
        *,
        name_parts: Sequence[str],
        match_postcode: str | None,
        limit: int,
    ) -> list[tuple[Referral, Subject]]:
        """Submitted referrals' subjects with a name part among `name_parts` (a whole word
        of the normalised name, or anywhere in the aliases) or at the normalised postcode;
        newest referral first, at most `limit` (two statements)."""
        either: list[ColumnElement[bool]] = []
        for part in sorted(set(name_parts)):
            if not part.isalpha():
                continue  # only letters: nothing LIKE would read as a wildcard
            either.append((" " + SubjectRow.match_name + " ").like(f"% {part} %"))
            either.append(func.lower(SubjectRow.aliases.cast(SqlText)).like(f"%{part}%"))
        if match_postcode is not None:
            either.append(SubjectRow.match_postcode == match_postcode)
        if not either or limit <= 0:
            return []
        statement = (
            select(SubjectRow.referral_id, SubjectRow.id)
            .join(ReferralRow, ReferralRow.id == SubjectRow.referral_id)
            .where(
                SubjectRow.panel_id == panel_id,
                ReferralRow.panel_id == panel_id,
                ReferralRow.submitted_at.is_not(None),
                or_(*either),
            )
            .order_by(
                ReferralRow.created_at.desc(),
                self._binary(ReferralRow.id),
                SubjectRow.position,
            )
            .limit(limit)
        )
        hits = (await self._session.execute(statement)).all()
        if not hits:
            return []
        rows = await self._all(
            self._select().where(
                ReferralRow.panel_id == panel_id,
                ReferralRow.id.in_({referral_id for referral_id, _ in hits}),
            )
        )
        referrals = {row.id: m.to_referral(row) for row in rows}
        return [
            (referrals[referral_id], subject)
            for referral_id, subject_id in hits
            for subject in referrals[referral_id].subjects
            if subject.id == subject_id
        ]

    async def count_created_in_year(self, panel_id: str, year: int) -> int:
        """Referrals created in the calendar year (UTC)."""
        start, end = _year_bounds(year)
        count = await self._session.scalar(
            select(func.count())
            .select_from(ReferralRow)
            .where(
                ReferralRow.panel_id == panel_id,
                ReferralRow.created_at >= start,
                ReferralRow.created_at < end,
            )
        )
        return int(count or 0)

    async def subject_names(self, panel_id: str) -> list[str]:
        """Subjects' names and aliases and children's names, each once (two statements)."""
        subjects = await self._session.execute(
            select(SubjectRow.name, SubjectRow.aliases).where(SubjectRow.panel_id == panel_id)
        )
        names: set[str] = set()
        for name, aliases in subjects:
            names.add(name)
            names.update(str(alias) for alias in aliases or [])
        children = await self._session.scalars(
            select(ReferralRow.children).where(ReferralRow.panel_id == panel_id)
        )
        for document in children:
            names.update(str(child.get("name") or "") for child in document or [])
        return sorted(name for name in names if name.strip())


class SqlCaseRepository(SqlRepository):
    def _select(self) -> Select[CaseRow]:
        return select(CaseRow).options(selectinload(CaseRow.invited_agencies))

    def _oldest_first(self, statement: Select[CaseRow]) -> Select[CaseRow]:
        return statement.order_by(CaseRow.opened_at, self._binary(CaseRow.id))

    async def save(self, case: Case) -> None:
        """Insert as version 1, or update from the stored version (StaleVersion otherwise)."""
        row = await self._for_save(CaseRow, case.id, case.panel_id, CaseRow.invited_agencies)
        version = await self._next_version(CASE, row, case)
        if row is None:
            row = CaseRow(id=case.id, invited_agencies=[], version=version)
            self._session.add(row)
        m.fill_case(row, case)
        stored = {invited.agency_id: invited for invited in row.invited_agencies}
        row.invited_agencies = [
            stored.get(agency_id)
            or CaseInvitedAgencyRow(agency_id=agency_id, panel_id=case.panel_id)
            for agency_id in sorted(case.invited_agency_ids)
        ]
        await self._flush()
        case.version = version

    async def get(self, panel_id: str, case_id: str) -> Case | None:
        row = await self._one(
            self._select().where(CaseRow.panel_id == panel_id, CaseRow.id == case_id)
        )
        return m.to_case(row) if row else None

    async def by_reference(self, panel_id: str, reference: str) -> Case | None:
        """Reference match is case-insensitive (people type cm-2026-014)."""
        row = await self._one(
            self._select().where(
                CaseRow.panel_id == panel_id, CaseRow.reference_key == m.lookup_key(reference)
            )
        )
        return m.to_case(row) if row else None

    async def list_open(self, panel_id: str) -> list[Case]:
        """Cases not closed, oldest first."""
        rows = await self._all(
            self._oldest_first(
                self._select().where(
                    CaseRow.panel_id == panel_id, CaseRow.status != CaseStatus.CLOSED.value
                )
            )
        )
        return [m.to_case(row) for row in rows]

    async def by_ids(self, panel_id: str, case_ids: Sequence[str]) -> list[Case]:
        """The panel's cases among `case_ids` (others are ignored), oldest first."""
        if not case_ids:
            return []
        rows = await self._all(
            self._oldest_first(
                self._select().where(CaseRow.panel_id == panel_id, CaseRow.id.in_(set(case_ids)))
            )
        )
        return [m.to_case(row) for row in rows]

    async def count_opened_in_year(self, panel_id: str, year: int) -> int:
        """Cases opened in the calendar year (UTC)."""
        start, end = _year_bounds(year)
        count = await self._session.scalar(
            select(func.count())
            .select_from(CaseRow)
            .where(
                CaseRow.panel_id == panel_id, CaseRow.opened_at >= start, CaseRow.opened_at < end
            )
        )
        return int(count or 0)


class SqlMeetingRepository(SqlRepository):
    async def save(self, meeting: Meeting) -> None:
        """Insert as version 1, or update from the stored version (StaleVersion otherwise)."""
        row = await self._for_save(MeetingRow, meeting.id, meeting.panel_id)
        version = await self._next_version(MEETING, row, meeting)
        if row is None:
            row = MeetingRow(id=meeting.id, version=version)
            self._session.add(row)
        m.fill_meeting(row, meeting)
        await self._flush()
        meeting.version = version

    async def get(self, panel_id: str, meeting_id: str) -> Meeting | None:
        row = await self._one(
            select(MeetingRow).where(MeetingRow.panel_id == panel_id, MeetingRow.id == meeting_id)
        )
        return m.to_meeting(row) if row else None

    async def upcoming(self, panel_id: str, after: datetime, limit: int = 6) -> list[Meeting]:
        """Meetings starting at or after `after`, soonest first, cancelled ones included."""
        rows = await self._all(
            select(MeetingRow)
            .where(MeetingRow.panel_id == panel_id, MeetingRow.starts_at >= after)
            .order_by(MeetingRow.starts_at, self._binary(MeetingRow.id))
            .limit(limit)
        )
        return [m.to_meeting(row) for row in rows]

    async def by_ids(self, panel_id: str, meeting_ids: Sequence[str]) -> list[Meeting]:
        """The panel's meetings among `meeting_ids` (others are ignored), soonest first."""
        if not meeting_ids:
            return []
        rows = await self._all(
            select(MeetingRow)
            .where(MeetingRow.panel_id == panel_id, MeetingRow.id.in_(set(meeting_ids)))
            .order_by(MeetingRow.starts_at, self._binary(MeetingRow.id))
        )
        return [m.to_meeting(row) for row in rows]

    async def save_agenda_items(self, items: Sequence[AgendaItem]) -> None:
        """`save_agenda_item` for each item: the stored rows loaded in one statement, the
        changes flushed together (unchanged items write nothing)."""
        if not items:
            return
        rows = await self._all(
            select(AgendaItemRow).where(AgendaItemRow.id.in_({item.id for item in items}))
        )
        stored = {row.id: row for row in rows}
        for item in items:
            row = stored.get(item.id)
            if row is not None and row.panel_id != item.panel_id:
                raise ConstraintViolation("A record with this id belongs to another panel.")
            if row is None:
                row = stored[item.id] = AgendaItemRow(id=item.id)
                self._session.add(row)
            m.fill_agenda_item(row, item)
        await self._flush()

    async def save_agenda_item(self, item: AgendaItem) -> None:
        """Insert or update; the meeting must exist in the item's panel."""
        row = await self._for_save(AgendaItemRow, item.id, item.panel_id)
        if row is None:
            row = AgendaItemRow(id=item.id)
            self._session.add(row)
        m.fill_agenda_item(row, item)
        await self._flush()

    async def agenda(self, panel_id: str, meeting_id: str) -> list[AgendaItem]:
        """The meeting's agenda items ordered by position."""
        rows = await self._all(
            select(AgendaItemRow)
            .where(AgendaItemRow.panel_id == panel_id, AgendaItemRow.meeting_id == meeting_id)
            .order_by(AgendaItemRow.position, self._binary(AgendaItemRow.id))
        )
        return [m.to_agenda_item(row) for row in rows]

    async def items_for_cases(self, panel_id: str, case_ids: Sequence[str]) -> list[AgendaItem]:
        """Every agenda item, of any meeting, that names one of these cases."""
        if not case_ids:
            return []
        rows = await self._all(
            select(AgendaItemRow)
            .where(AgendaItemRow.panel_id == panel_id, AgendaItemRow.case_id.in_(set(case_ids)))
            .order_by(self._binary(AgendaItemRow.meeting_id), AgendaItemRow.position)
        )
        return [m.to_agenda_item(row) for row in rows]

    async def record_attendance(self, attendance: Attendance) -> bool:
        """INSERT ... ON CONFLICT (meeting_id, member_id) DO NOTHING: a member's second
        acknowledgement (or a concurrent one) stores nothing and leaves the unit usable."""
        values = m.attendance_values(attendance)
        table = MeetingAttendanceRow
        conflict = ["meeting_id", "member_id"]
        if self._dialect == "postgresql":
            pg = postgresql.insert(table).values(values)
            statement = pg.on_conflict_do_nothing(index_elements=conflict).returning(table.id)
        else:
            lite = sqlite.insert(table).values(values)
            statement = lite.on_conflict_do_nothing(index_elements=conflict).returning(table.id)
        try:
            inserted = (await self._session.execute(statement)).first()
        except IntegrityError as exc:
            raise ConstraintViolation(f"The database refused the attendance: {exc.orig}") from exc
        return inserted is not None

    async def attendance(self, panel_id: str, meeting_id: str) -> list[Attendance]:
        """Who attended, in the order they acknowledged."""
        rows = await self._all(
            select(MeetingAttendanceRow)
            .where(
                MeetingAttendanceRow.panel_id == panel_id,
                MeetingAttendanceRow.meeting_id == meeting_id,
            )
            .order_by(MeetingAttendanceRow.acknowledged_at, self._binary(MeetingAttendanceRow.id))
        )
        return [m.to_attendance(row) for row in rows]

    async def save_minutes(self, minutes: Minutes) -> None:
        """Insert as version 1, or update from the stored version with `UPDATE ... WHERE
        version = v` (as referrals do): a stale copy raises Conflict and stores nothing."""
        row = await self._for_save(MeetingMinutesRow, minutes.id, minutes.panel_id)
        if row is None:
            if minutes.version != 0:
                raise stale_minutes(minutes.id)
            version = 1
            row = MeetingMinutesRow(id=minutes.id, version=version)
            self._session.add(row)
        else:
            if row.version != minutes.version:
                raise stale_minutes(minutes.id)
            claimed = await self._session.execute(
                update_rows(MeetingMinutesRow)
                .where(
                    MeetingMinutesRow.id == minutes.id,
                    MeetingMinutesRow.panel_id == minutes.panel_id,
                    MeetingMinutesRow.version == minutes.version,
                )
                .values(version=minutes.version + 1)
                .returning(MeetingMinutesRow.version)
                .execution_options(synchronize_session=False)
            )
            stored = claimed.scalar_one_or_none()
            if stored is None:
                raise stale_minutes(minutes.id)
            version = int(stored)
            set_committed_value(row, "version", version)
        m.fill_minutes(row, minutes)
        await self._flush()
        minutes.version = version

    async def minutes(self, panel_id: str, meeting_id: str) -> Minutes | None:
        row = await self._one(
            select(MeetingMinutesRow).where(
                MeetingMinutesRow.panel_id == panel_id,
                MeetingMinutesRow.meeting_id == meeting_id,
            )
        )
        return m.to_minutes(row) if row else None

    async def planned_days(self, panel_id: str, since: date) -> set[date]:
        """The planned dates from `since` on that the panel's meetings fill (revision 0013)."""
        days = await self._session.scalars(
            select(MeetingRow.planned_on).where(
                MeetingRow.panel_id == panel_id, MeetingRow.planned_on >= since
            )
        )
        return {day for day in days if day is not None}


class SqlActionRepository(SqlRepository):
    def _select(self) -> Select[ActionRow]:
        return select(ActionRow).options(selectinload(ActionRow.updates))

    async def finished_for_agency(self, panel_id: str, agency_id: str, limit: int) -> list[Action]:
        """Up to `limit` of the agency's actions no longer open, the latest due first."""
        rows = await self._all(
            self._select()
            .where(
                ActionRow.panel_id == panel_id,
                ActionRow.owner_agency_id == agency_id,
                ActionRow.status != ActionStatus.OPEN.value,
            )
            .order_by(
                ActionRow.due_on.desc(), ActionRow.created_at.desc(), self._binary(ActionRow.id)
            )
            .limit(limit)
        )
        return [m.to_action(row) for row in rows]

    def _earliest_due_first(self, statement: Select[ActionRow]) -> Select[ActionRow]:
        return statement.order_by(
            ActionRow.due_on, ActionRow.created_at, self._binary(ActionRow.id)
        )

    async def save(self, action: Action) -> None:
        """Insert or update the action and append any updates not stored yet.

        Stored updates are never rewritten or removed. Insert as version 1, or update from
        the stored version (StaleVersion otherwise).
        """
        for update in action.updates:
            if update.action_id != action.id or update.panel_id != action.panel_id:
                raise ConstraintViolation("An action update belongs to another action.")
        row = await self._for_save(ActionRow, action.id, action.panel_id, ActionRow.updates)
        version = await self._next_version(ACTION, row, action)
        if row is None:
            row = ActionRow(id=action.id, updates=[], version=version)
            self._session.add(row)
        m.fill_action(row, action)
        stored = {update.id for update in row.updates}
        position = len(row.updates)
        for update in action.updates:
            if update.id not in stored:
                row.updates.append(m.new_action_update_row(update, position=position))
                stored.add(update.id)
                position += 1
        await self._flush()
        action.version = version

    async def get(self, panel_id: str, action_id: str) -> Action | None:
        row = await self._one(
            self._select().where(ActionRow.panel_id == panel_id, ActionRow.id == action_id)
        )
        return m.to_action(row) if row else None

    async def for_case(self, panel_id: str, case_id: str) -> list[Action]:
        """The case's actions in the order they were agreed (created)."""
        rows = await self._all(
            self._select()
            .where(ActionRow.panel_id == panel_id, ActionRow.case_id == case_id)
            .order_by(ActionRow.created_at, self._binary(ActionRow.id))
        )
        return [m.to_action(row) for row in rows]

    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[Action]:
        """Open actions of one agency, earliest due first."""
        rows = await self._all(
            self._earliest_due_first(
                self._select().where(
                    ActionRow.panel_id == panel_id,
                    ActionRow.owner_agency_id == agency_id,
                    ActionRow.status == ActionStatus.OPEN.value,
                )
            )
        )
        return [m.to_action(row) for row in rows]

    async def open_due_by(self, panel_id: str, day: date) -> list[Action]:
        """Open actions of open cases due on or before `day`, earliest due first."""
        rows = await self._all(
            self._earliest_due_first(
                self._select().where(
                    ActionRow.panel_id == panel_id,
                    ActionRow.status == ActionStatus.OPEN.value,
                    ActionRow.due_on <= day,
                    ActionRow.case_id.not_in(self._closed_cases(panel_id)),
                )
            )
        )
        return [m.to_action(row) for row in rows]

    @staticmethod
    def _closed_cases(panel_id: str) -> Select[str]:
        """The panel's closed cases: their actions are never unmet (closing settles them;
        this keeps out any left open before it did)."""
        return select(CaseRow.id).where(
            CaseRow.panel_id == panel_id, CaseRow.status == CaseStatus.CLOSED.value
        )

    async def open_ids_due_by(
        self, panel_id: str, day: date, *, except_meeting_id: str | None = None
    ) -> list[str]:
        """The ids of `open_due_by`, in its order, without the actions of one meeting: one
        index range (panel, status, due date), no action or update rows loaded."""
        statement = select(ActionRow.id).where(
            ActionRow.panel_id == panel_id,
            ActionRow.status == ActionStatus.OPEN.value,
            ActionRow.due_on <= day,
            ActionRow.case_id.not_in(self._closed_cases(panel_id)),
        )
        if except_meeting_id is not None:
            statement = statement.where(
                or_(ActionRow.meeting_id.is_(None), ActionRow.meeting_id != except_meeting_id)
            )
        ids = await self._session.scalars(
            statement.order_by(ActionRow.due_on, ActionRow.created_at, self._binary(ActionRow.id))
        )
        return list(ids.all())

    async def by_ids(self, panel_id: str, action_ids: Sequence[str]) -> list[Action]:
        """The panel's actions among `action_ids`, in the order the ids are given."""
        if not action_ids:
            return []
        rows = await self._all(
            self._select().where(ActionRow.panel_id == panel_id, ActionRow.id.in_(set(action_ids)))
        )
        found = {row.id: m.to_action(row) for row in rows}
        return [found[i] for i in dict.fromkeys(action_ids) if i in found]

    async def record_card(self, card: ActionCardCopy) -> None:
        """Remember the outbox row that carries the action's card; a row already recorded
        is left as it is."""
        values = m.action_card_values(card)
        if self._dialect == "postgresql":
            statement: Any = postgresql.insert(ActionCardRow).values(values)
        else:
            statement = sqlite.insert(ActionCardRow).values(values)
        try:
            await self._session.execute(
                statement.on_conflict_do_nothing(index_elements=["delivery_id"])
            )
        except IntegrityError as exc:
            raise ConstraintViolation(f"The database refused the card: {exc.orig}") from exc

    async def card_deliveries(
        self, panel_id: str, action_id: str, limit: int = 20
    ) -> list[OutgoingDelivery]:
        """The outbox rows that carried the action's card, newest first."""
        rows = await self._session.scalars(
            select(OutboxRow)
            .join(ActionCardRow, ActionCardRow.delivery_id == OutboxRow.id)
            .where(
                ActionCardRow.panel_id == panel_id,
                ActionCardRow.action_id == action_id,
                OutboxRow.panel_id == panel_id,
            )
            .order_by(ActionCardRow.created_at.desc(), OutboxRow.seq.desc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return [m.to_delivery(row) for row in rows.all()]


class SqlInformationRequestRepository(SqlRepository):
    def _soonest_due_first(
        self, statement: Select[InformationRequestRow]
    ) -> Select[InformationRequestRow]:
        return statement.order_by(
            InformationRequestRow.due_at, self._binary(InformationRequestRow.id)
        )

    async def save(self, request: InformationRequest) -> None:
        """Insert as version 1, or update from the stored version (StaleVersion otherwise)."""
        row = await self._for_save(InformationRequestRow, request.id, request.panel_id)
        version = await self._next_version(INFORMATION_REQUEST, row, request)
        if row is None:
            row = InformationRequestRow(id=request.id, version=version)
            self._session.add(row)
        m.fill_information_request(row, request)
        await self._flush()
        request.version = version

    async def get(self, panel_id: str, request_id: str) -> InformationRequest | None:
        row = await self._one(
            select(InformationRequestRow).where(
                InformationRequestRow.panel_id == panel_id, InformationRequestRow.id == request_id
            )
        )
        return m.to_information_request(row) if row else None

    async def for_case(self, panel_id: str, case_id: str) -> list[InformationRequest]:
        """The case's requests, soonest due first."""
        rows = await self._all(
            self._soonest_due_first(
                select(InformationRequestRow).where(
                    InformationRequestRow.panel_id == panel_id,
                    InformationRequestRow.case_id == case_id,
                )
            )
        )
        return [m.to_information_request(row) for row in rows]

    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[InformationRequest]:
        """Open requests to one agency, soonest due first."""
        rows = await self._all(
            self._soonest_due_first(
                select(InformationRequestRow).where(
                    InformationRequestRow.panel_id == panel_id,
                    InformationRequestRow.agency_id == agency_id,
                    InformationRequestRow.status == RequestStatus.OPEN.value,
                )
            )
        )
        return [m.to_information_request(row) for row in rows]

    async def open_due_by(self, panel_id: str, before: datetime) -> list[InformationRequest]:
        """Open requests due before `before`, soonest due first."""
        rows = await self._all(
            self._soonest_due_first(
                select(InformationRequestRow).where(
                    InformationRequestRow.panel_id == panel_id,
                    InformationRequestRow.status == RequestStatus.OPEN.value,
                    InformationRequestRow.due_at < before,
                )
            )
        )
        return [m.to_information_request(row) for row in rows]


class SqlConversationRepository(SqlRepository):
    async def save(self, ref: ConversationRef) -> None:
        """Insert, or replace the stored reference of the same panel and conversation id."""
        row = await self._for_save(ConversationRefRow, ref.id, ref.panel_id)
        # A reference under another id for the same conversation is replaced by this one.
        await self._session.execute(
            delete(ConversationRefRow).where(
                ConversationRefRow.panel_id == ref.panel_id,
                ConversationRefRow.conversation_id == ref.conversation_id,
                ConversationRefRow.id != ref.id,
            )
        )
        if row is None:
            row = ConversationRefRow(id=ref.id)
            self._session.add(row)
        m.fill_conversation_ref(row, ref)
        await self._flush()

    async def by_conversation(self, panel_id: str, conversation_id: str) -> ConversationRef | None:
        row = await self._one(
            select(ConversationRefRow).where(
                ConversationRefRow.panel_id == panel_id,
                ConversationRefRow.conversation_id == conversation_id,
            )
        )
        return m.to_conversation_ref(row) if row else None

    async def personal(self, panel_id: str, member_id: str) -> ConversationRef | None:
        """The member's personal chat with the bot; the most recently updated if several."""
        row = await self._one(
            select(ConversationRefRow)
            .where(
                ConversationRefRow.panel_id == panel_id,
                ConversationRefRow.member_id == member_id,
                ConversationRefRow.kind == ConversationKind.PERSONAL.value,
            )
            .order_by(
                ConversationRefRow.updated_at.desc(), self._binary(ConversationRefRow.id).desc()
            )
        )
        return m.to_conversation_ref(row) if row else None

    async def of_kind(self, panel_id: str, kind: ConversationKind) -> list[ConversationRef]:
        """The panel's conversations of one kind, least recently updated first."""
        rows = await self._all(
            select(ConversationRefRow)
            .where(ConversationRefRow.panel_id == panel_id, ConversationRefRow.kind == kind.value)
            .order_by(ConversationRefRow.updated_at, self._binary(ConversationRefRow.id))
        )
        return [m.to_conversation_ref(row) for row in rows]

    async def delete(self, panel_id: str, ref_id: str) -> None:
        await self._session.execute(
            delete(ConversationRefRow).where(
                ConversationRefRow.panel_id == panel_id, ConversationRefRow.id == ref_id
            )
        )


class SqlOutboxRepository(SqlRepository):
    async def enqueue(self, delivery: OutgoingDelivery) -> bool:
        """Queue a delivery; False (and nothing stored) when its key is already queued.

        INSERT ... ON CONFLICT (key) DO NOTHING: a duplicate leaves the transaction usable,
        and on PostgreSQL a concurrent insert of the same key waits for the other
        transaction, then yields to it.
        """
        values = m.delivery_values(delivery)
        if self._dialect == "postgresql":
            pg = postgresql.insert(OutboxRow).values(values)
            statement = pg.on_conflict_do_nothing(index_elements=["key"]).returning(OutboxRow.seq)
        else:
            lite = sqlite.insert(OutboxRow).values(values)
            statement = lite.on_conflict_do_nothing(index_elements=["key"]).returning(OutboxRow.seq)
        try:
            inserted = (await self._session.execute(statement)).first()
        except IntegrityError as exc:
            raise ConstraintViolation(f"The database refused the delivery: {exc.orig}") from exc
        return inserted is not None

    async def get(self, panel_id: str, delivery_id: str) -> OutgoingDelivery | None:
        row = await self._one(
            select(OutboxRow).where(OutboxRow.panel_id == panel_id, OutboxRow.id == delivery_id)
        )
        return m.to_delivery(row) if row else None

    async def due(self, now: datetime, limit: int) -> list[OutgoingDelivery]:
        """Pending deliveries whose time has come, oldest first, of every panel.

        On PostgreSQL the rows stay locked until the unit of work ends and rows locked by
        another dispatcher are skipped; SQLite has a single writer and needs no lock.
        """
        statement = (
            select(OutboxRow)
            .where(
                OutboxRow.state == DeliveryState.PENDING.value,
                OutboxRow.not_before <= now,
            )
            .order_by(OutboxRow.created_at, OutboxRow.seq)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = await self._all(statement)
        return [m.to_delivery(row) for row in rows]

    async def abandoned(self, claimed_before: datetime, limit: int) -> list[OutgoingDelivery]:
        """Deliveries left sending since before `claimed_before`, or since an unknown time
        (claimed before revision 0003), longest held first, of every panel.

        Locked and skipped as in `due`, so dispatchers starting together take back each row
        once.
        """
        statement = (
            select(OutboxRow)
            .where(
                OutboxRow.state == DeliveryState.SENDING.value,
                or_(OutboxRow.claimed_at.is_(None), OutboxRow.claimed_at < claimed_before),
            )
            .order_by(OutboxRow.claimed_at.is_not(None), OutboxRow.claimed_at, OutboxRow.seq)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = await self._all(statement)
        return [m.to_delivery(row) for row in rows]

    async def save(self, delivery: OutgoingDelivery) -> None:
        """Insert or update by id (a new key must still be unique)."""
        row = await self._one(select(OutboxRow).where(OutboxRow.id == delivery.id))
        if row is None:
            row = OutboxRow()
            self._session.add(row)
        elif row.panel_id != delivery.panel_id:
            raise ConstraintViolation("A delivery with this id belongs to another panel.")
        values = m.delivery_values(delivery)
        if delivery.state in FINISHED:
            # Sent or given up: the card and text are not needed any more (storage.inventory).
            values["payload"] = emptied_payload(delivery.payload)
        for name, value in values.items():
            setattr(row, name, value)
        await self._flush()

    async def unreachable(self, panel_id: str, member_ids: Sequence[str]) -> set[str]:
        """Members whose latest sent-or-unreachable delivery was unreachable (one indexed
        look-up per member: they are an agency's SPOC and deputy, a few at most)."""
        found: set[str] = set()
        finished = (DeliveryState.SENT.value, DeliveryState.UNREACHABLE.value)
        for member_id in dict.fromkeys(member_ids):
            state = await self._session.scalar(
                select(OutboxRow.state)
                .where(
                    OutboxRow.recipient_member_id == member_id,
                    OutboxRow.panel_id == panel_id,
                    OutboxRow.state.in_(finished),
                )
                .order_by(OutboxRow.created_at.desc(), OutboxRow.seq.desc())
                .limit(1)
            )
            if state == DeliveryState.UNREACHABLE.value:
                found.add(member_id)
        return found

    # Several instances on one PostgreSQL database (revision 0012; bot.teams.outbox).

    async def claim_due(
        self, owner: str, now: datetime, limit: int, lease_until: datetime
    ) -> tuple[list[OutgoingDelivery], set[str]]:
        """Due rows of the lanes `owner` holds or can take, oldest first; see the port.

        PostgreSQL: (1) the lanes of the oldest due rows that are `owner`'s, or nobody's
        with none of their rows sending; (2) their lease rows locked, skipping those another
        claim holds, and those missing inserted (ON CONFLICT DO NOTHING: a concurrent
        inserter wins); (3) the lanes to take checked again for rows sending, now that
        their lease rows are held (no other claim can change them meanwhile); (4) every lane
        held leased until `lease_until`; (5) the due rows of those lanes, locked. A lane's
        rows are claimed only by whoever holds its lease row, so they leave in order.
        SQLite (one instance): `due`.
        """
        if self._dialect != "postgresql":
            return await self.due(now, limit), set()
        lanes = cast("Table", OutboxLaneRow.__table__)
        pending = DeliveryState.PENDING.value
        sending = DeliveryState.SENDING.value
        busy = aliased(OutboxRow)
        candidates = (
            select(OutboxRow.lane)
            .outerjoin(lanes, lanes.c.lane_key == OutboxRow.lane)
            .where(
                OutboxRow.state == pending,
                OutboxRow.not_before <= now,
                or_(
                    lanes.c.owner == owner,
                    and_(
                        or_(lanes.c.lane_key.is_(None), lanes.c.leased_until <= now),
                        ~exists().where(busy.lane == OutboxRow.lane, busy.state == sending),
                    ),
                ),
            )
            .order_by(OutboxRow.created_at, OutboxRow.seq)
            .limit(limit)
        )
        found = list(dict.fromkeys((await self._session.scalars(candidates)).all()))
        unlaned = None in found  # rows queued before revision 0012 and never given a lane
        wanted = sorted(lane for lane in found if lane is not None)
        held: set[str] = set()
        taken: set[str] = set()
        inserted: set[str] = set()
        if wanted:
            leases = await self._session.execute(
                select(lanes.c.lane_key, lanes.c.owner, lanes.c.leased_until)
                .where(lanes.c.lane_key.in_(wanted))
                .order_by(lanes.c.lane_key)
                .with_for_update(skip_locked=True)
            )
            seen: set[str] = set()
            for lane, holder, until in leases.all():
                seen.add(lane)
                if holder == owner:
                    held.add(lane)
                elif until <= now:
                    taken.add(lane)
            missing = [lane for lane in wanted if lane not in seen]
            if missing:
                insert = postgresql.insert(lanes).values(
                    [
                        {"lane_key": lane, "owner": owner, "leased_until": lease_until}
                        for lane in missing
                    ]
                )
                added = await self._session.scalars(
                    insert.on_conflict_do_nothing(index_elements=["lane_key"]).returning(
                        lanes.c.lane_key
                    )
                )
                inserted = set(added.all())
                taken |= inserted
        if taken:
            still_sending = set(
                (
                    await self._session.scalars(
                        select(OutboxRow.lane)
                        .where(OutboxRow.lane.in_(sorted(taken)), OutboxRow.state == sending)
                        .distinct()
                    )
                ).all()
            )
            if still_sending & inserted:
                await self._session.execute(
                    delete(lanes).where(lanes.c.lane_key.in_(sorted(still_sending & inserted)))
                )
            taken -= still_sending
        held |= taken
        if held:
            await self._session.execute(
                update_rows(lanes)
                .where(lanes.c.lane_key.in_(sorted(held)))
                .values(owner=owner, leased_until=lease_until)
            )
        if not held and not unlaned:
            return [], set()
        ours = OutboxRow.lane.in_(sorted(held))
        statement = (
            select(OutboxRow)
            .where(
                OutboxRow.state == pending,
                OutboxRow.not_before <= now,
                or_(ours, OutboxRow.lane.is_(None)) if unlaned else ours,
            )
            .order_by(OutboxRow.created_at, OutboxRow.seq)
            .limit(limit)
            .with_for_update()
        )
        rows = await self._all(statement)
        return [m.to_delivery(row) for row in rows], taken

    async def keep_lanes(self, owner: str, lanes: Sequence[str], until: datetime) -> None:
        """Renew `owner`'s leases on `lanes`, release its others, and forget leases that ran
        out an hour before `until` or more (nobody's since; taking a lane never needs
        them). SQLite (one instance) holds no lanes."""
        if self._dialect != "postgresql":
            return
        table = cast("Table", OutboxLaneRow.__table__)
        keep = sorted(lanes)
        if keep:
            await self._session.execute(
                update_rows(table)
                .where(table.c.owner == owner, table.c.lane_key.in_(keep))
                .values(leased_until=until)
            )
        await self._session.execute(
            delete(table).where(table.c.owner == owner, table.c.lane_key.not_in(keep))
        )
        # Others' old leases: those a claim is taking over right now are skipped, so this
        # never waits for a claim that could be waiting for it.
        forgotten = (
            select(table.c.lane_key)
            .where(table.c.leased_until < until - LEASES_FORGOTTEN)
            .with_for_update(skip_locked=True)
        )
        await self._session.execute(delete(table).where(table.c.lane_key.in_(forgotten)))

    async def lane_history(
        self, lanes: Sequence[str], since: datetime
    ) -> list[tuple[str, str, datetime]]:
        """Sent rows of the lanes since `since` (one range of the lane index per lane)."""
        if not lanes:
            return []
        result = await self._session.execute(
            select(OutboxRow.lane, OutboxRow.conversation_id, OutboxRow.sent_at)
            .where(
                OutboxRow.lane.in_(sorted(set(lanes))),
                OutboxRow.state == DeliveryState.SENT.value,
                OutboxRow.sent_at > since,
                OutboxRow.conversation_id.is_not(None),
            )
            .order_by(OutboxRow.sent_at, OutboxRow.seq)
        )
        return [
            (lane, conversation, sent_at)
            for lane, conversation, sent_at in result.all()
            if lane is not None and conversation is not None and sent_at is not None
        ]

    async def tenant_turn(
        self, tenant: str, owner: str, gap: float, count: int = 1, *, alone_after: float = 2.0
    ) -> tuple[datetime, bool] | None:
        """One UPDATE of the tenant's row (inserted the first time) on the database's clock
        (clock_timestamp(), read once the row is locked): next_slot becomes the later of
        itself and now, plus `count` × `gap`; the first turn taken is that minus `count` ×
        `gap`. The first turns of a tenant, and a turn taken by another owner than the last
        one, mark the tenant shared for `alone_after` seconds. The row stays locked until
        the unit of work ends: commit at once. SQLite (one instance): None."""
        if self._dialect != "postgresql":
            return None
        taken = await self._session.execute(
            _TENANT_TURN,
            {"tenant": tenant, "owner": owner, "span": gap * max(1, count), "alone": alone_after},
        )
        first, shared = taken.one()
        if not isinstance(first, datetime):
            raise TypeError("the database gave no instant for the tenant's turn")
        return first.astimezone(UTC), bool(shared)


class SqlReminderRepository(SqlRepository):
    """Reminders queued, by key (revision 0006)."""

    async def record(self, reminder: SentReminder) -> bool:
        """INSERT ... ON CONFLICT (key) DO NOTHING, as the outbox's enqueue: on PostgreSQL a
        concurrent insert of the same key waits for the other transaction, then yields."""
        values = m.reminder_values(reminder)
        if self._dialect == "postgresql":
            statement: Any = postgresql.insert(ReminderRow).values(values)
        else:
            statement = sqlite.insert(ReminderRow).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["key"]).returning(
            ReminderRow.key
        )
        try:
            inserted = (await self._session.execute(statement)).first()
        except IntegrityError as exc:
            raise ConstraintViolation(f"The database refused the reminder: {exc.orig}") from exc
        return inserted is not None

    async def known(self, panel_id: str, keys: Sequence[str]) -> set[str]:
        wanted = sorted(set(keys))
        found: set[str] = set()
        # In slices, so that a long list never exceeds a database's parameter limit.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self._session.scalars(
                select(ReminderRow.key).where(
                    ReminderRow.panel_id == panel_id, ReminderRow.key.in_(chunk)
                )
            )
            found.update(rows.all())
        return found


class SqlAuditRepository(SqlRepository):
    """Append-only: there is deliberately no way to change or remove an event."""

    async def append(self, event: AuditEvent) -> None:
        self._session.add(m.new_audit_event_row(event))
        await self._flush()

    async def for_entity(self, panel_id: str, entity: str, entity_id: str) -> list[AuditEvent]:
        """A record's trail, oldest first (in order of appending within one instant)."""
        rows = await self._all(
            select(AuditEventRow)
            .where(
                AuditEventRow.panel_id == panel_id,
                AuditEventRow.entity == entity,
                AuditEventRow.entity_id == entity_id,
            )
            .order_by(AuditEventRow.at, AuditEventRow.seq)
        )
        return [m.to_audit_event(row) for row in rows]

    async def recent(self, panel_id: str, limit: int = 100) -> list[AuditEvent]:
        """The panel's newest events first."""
        rows = await self._all(
            select(AuditEventRow)
            .where(AuditEventRow.panel_id == panel_id)
            .order_by(AuditEventRow.at.desc(), AuditEventRow.seq.desc())
            .limit(limit)
        )
        return [m.to_audit_event(row) for row in rows]

    async def trail(
        self,
        panel_id: str,
        entities: Sequence[tuple[str, str]] | None,
        *,
        limit: int,
        before_id: str | None = None,
    ) -> list[AuditEvent]:
        """Events on any of `entities` (None: all), newest first, older than `before_id`."""
        statement = select(AuditEventRow).where(AuditEventRow.panel_id == panel_id)
        if entities is not None:
            if not entities:
                return []
            statement = statement.where(
                or_(
                    *(
                        and_(AuditEventRow.entity == entity, AuditEventRow.entity_id == entity_id)
                        for entity, entity_id in entities
                    )
                )
            )
        if before_id is not None:
            marker = (
                await self._session.execute(
                    select(AuditEventRow.at, AuditEventRow.seq).where(
                        AuditEventRow.panel_id == panel_id, AuditEventRow.id == before_id
                    )
                )
            ).first()
            if marker is None:
                return []
            at, seq = marker
            statement = statement.where(
                or_(
                    AuditEventRow.at < at,
                    and_(AuditEventRow.at == at, AuditEventRow.seq < seq),
                )
            )
        rows = await self._all(
            statement.order_by(AuditEventRow.at.desc(), AuditEventRow.seq.desc()).limit(
                max(limit, 0)
            )
        )
        return [m.to_audit_event(row) for row in rows]


class SqlActivityLedger(SqlRepository):
    """Remembers which incoming activities were acted on, so a redelivery is ignored."""

    async def first_time(self, key: str, at: datetime) -> bool:
        """Record `key`; True only the first time it is seen (ON CONFLICT DO NOTHING)."""
        row = ProcessedActivityRow
        values = {"key": key, "seen_at": at}
        if self._dialect == "postgresql":
            pg = postgresql.insert(row).values(values)
            statement = pg.on_conflict_do_nothing(index_elements=["key"]).returning(row.key)
        else:
            lite = sqlite.insert(row).values(values)
            statement = lite.on_conflict_do_nothing(index_elements=["key"]).returning(row.key)
        inserted = (await self._session.execute(statement)).first()
        return inserted is not None
