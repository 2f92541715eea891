"""The SQL unit of work and storage backend."""

from __future__ import annotations

import asyncio
import logging
from itertools import chain
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import Table, event, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.errors import refused
from storage.locks import HeldLocks, LocalLocks
from storage.sql import operations
from storage.sql.counters import SqlCounterRepository
from storage.sql.dataprotection import SqlDataProtectionRepository, SqlReportRepository
from storage.sql.file_offers import SqlFileOfferRepository
from storage.sql.jobs import SqlJobRepository, hold_for_transaction, postgres_leader
from storage.sql.models import (
    ActionRow,
    AgencyRow,
    AgendaItemRow,
    CaseInvitedAgencyRow,
    CaseRow,
    MeetingRow,
    PanelRow,
)
from storage.sql.repositories import (
    SqlActionRepository,
    SqlActivityLedger,
    SqlAgencyRepository,
    SqlAuditRepository,
    SqlCaseRepository,
    SqlConversationRepository,
    SqlInformationRequestRepository,
    SqlIsaRepository,
    SqlMeetingRepository,
    SqlMemberRepository,
    SqlOutboxRepository,
    SqlPanelRepository,
    SqlReferralRepository,
    SqlReminderRepository,
)

if TYPE_CHECKING:
    import contextlib
    from datetime import datetime
    from types import TracebackType

    from bot.kernel import ports

log = logging.getLogger(__name__)

# What a panel's agenda is built from: a transaction that changes any of these rows raises
# the panel's `data_version` as it commits, so views kept by that version (the agenda card)
# are built again, in this process and in any other on the same database.
AGENDA_INPUTS: tuple[type[Any], ...] = (
    PanelRow,
    AgencyRow,
    CaseRow,
    CaseInvitedAgencyRow,
    MeetingRow,
    AgendaItemRow,
    ActionRow,
)
_AGENDA_TABLES = frozenset(model.__table__.name for model in AGENDA_INPUTS)
_CHANGED = "changed_panels"
_ALL_PANELS = "*"


class VersionedSession(Session):
    """The sync session under each unit of work; see `AGENDA_INPUTS`."""


@event.listens_for(VersionedSession, "after_flush")
def _note_changed_panels(session: Session, _flush: UOWTransaction) -> None:
    """Note the panels whose agenda inputs this flush inserted, changed or deleted (a row
    that was only assigned equal values is not a change)."""
    changed: set[str] = session.info.setdefault(_CHANGED, set())
    for row in chain(session.new, session.deleted, session.dirty):
        if not isinstance(row, AGENDA_INPUTS):
            continue
        if row in session.dirty and not session.is_modified(row):
            continue
        changed.add(row.id if isinstance(row, PanelRow) else row.panel_id)


@event.listens_for(VersionedSession, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    """An UPDATE, DELETE or INSERT statement on those tables (rather than a flush) names no
    panel we can read: every panel's version is raised, to be safe."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _AGENDA_TABLES:
        state.session.info.setdefault(_CHANGED, set()).add(_ALL_PANELS)


@event.listens_for(VersionedSession, "before_commit")
def _raise_data_versions(session: Session) -> None:
    """Raise the noted panels' versions in the committing transaction itself."""
    session.flush()
    changed: set[str] = session.info.pop(_CHANGED, set())
    if not changed:
        return
    panels = cast("Table", PanelRow.__table__)
    statement = update(panels).values(data_version=panels.c.data_version + 1)
    if _ALL_PANELS not in changed:
        statement = statement.where(panels.c.id.in_(sorted(changed)))
    # On the connection (Core), so that this UPDATE of panels is not itself noted above.
    session.connection().execute(statement)


@event.listens_for(VersionedSession, "after_rollback")
def _forget_changed_panels(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class SqlUnitOfWork:
    """One transaction on one session; one per turn or job, never shared."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialect: str,
        locks: LocalLocks | None = None,
    ) -> None:
        self._session = sessions()
        self._dialect = dialect
        # SQLite's stand-in for PostgreSQL's advisory locks (one instance): this process's.
        self._held = HeldLocks(locks or LocalLocks())
        s = self._session
        self.panels: ports.PanelRepository = SqlPanelRepository(s, dialect)
        self.agencies: ports.AgencyRepository = SqlAgencyRepository(s, dialect)
        self.members: ports.MemberRepository = SqlMemberRepository(s, dialect)
        self.isa: ports.IsaRepository = SqlIsaRepository(s, dialect)
        self.referrals: ports.ReferralRepository = SqlReferralRepository(s, dialect)
        self.cases: ports.CaseRepository = SqlCaseRepository(s, dialect)
        self.meetings: ports.MeetingRepository = SqlMeetingRepository(s, dialect)
        self.actions: ports.ActionRepository = SqlActionRepository(s, dialect)
        self.information_requests: ports.InformationRequestRepository = (
            SqlInformationRequestRepository(s, dialect)
        )
        self.conversations: ports.ConversationRepository = SqlConversationRepository(s, dialect)
        self.outbox: ports.OutboxRepository = SqlOutboxRepository(s, dialect)
        self.audit: ports.AuditRepository = SqlAuditRepository(s, dialect)
        self.activities: ports.ActivityLedger = SqlActivityLedger(s, dialect)
        # Revision 0007: data protection and the quarterly figures.
        self.data_protection: ports.DataProtectionRepository = SqlDataProtectionRepository(
            s, dialect
        )
        self.reports: ports.ReportRepository = SqlReportRepository(s, dialect)
        self.reminders: ports.ReminderRepository = SqlReminderRepository(s, dialect)
        # Revision 0013: the periodic jobs' state.
        self.jobs: ports.JobRepository = SqlJobRepository(s, dialect)
        # Revision 0015: reference numbers.
        self.counters: ports.CounterRepository = SqlCounterRepository(s, dialect)
        # Revision 0022: files offered through Teams' file consent card.
        self.file_offers: ports.FileOfferRepository = SqlFileOfferRepository(s, dialect)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and give the connection back."""
        try:
            await self._session.rollback()
        finally:
            self._held.release_all()
            await self._session.close()

    async def commit(self) -> None:
        """Commit; a unique key another unit of work took first (the flush at commit time)
        is refused as the port's AlreadyExists, never the driver's IntegrityError."""
        try:
            await self._session.commit()
        except IntegrityError as exc:
            raise refused("the change", exc.orig) from exc
        finally:
            self._held.release_all()

    async def rollback(self) -> None:
        try:
            await self._session.rollback()
        finally:
            self._held.release_all()

    async def take_lock(self, name: str) -> None:
        """Hold the named lock until this unit of work ends: PostgreSQL's transaction
        advisory lock (instances take turns), SQLite's stand-in a lock of this process."""
        if self._dialect == "postgresql":
            await hold_for_transaction(self._session, name)
        else:
            await self._held.take(name)


class SqlStorage:
    """A SQLite or PostgreSQL database behind the ports."""

    def __init__(self, engine: AsyncEngine, *, ping_timeout: float = 5.0) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=VersionedSession
        )
        self._ping_timeout = ping_timeout
        self._at_head: ports.SchemaStatus | None = None
        self._locks = LocalLocks()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    def unit_of_work(self) -> SqlUnitOfWork:
        """A fresh unit of work; use it as `async with storage.unit_of_work() as uow:`."""
        return SqlUnitOfWork(self._sessions, self.dialect, self._locks)

    def leader(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """The named lock for as long as the block runs, if no one holds it: PostgreSQL's
        session advisory lock (one leader across instances), on SQLite this process's."""
        if self.dialect == "postgresql":
            return postgres_leader(self._engine, name)
        return self._locks.leader(name)

    async def ping(self) -> bool:
        """Whether the database answers `SELECT 1`; False on any failure, never raises."""
        try:
            async with asyncio.timeout(self._ping_timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("Database ping failed: %s", type(exc).__name__)
            return False
        return True

    async def schema_status(self) -> ports.SchemaStatus | None:
        """The schema's revision against the code's; None when the database does not
        answer. Once at the head it is not asked again (a schema does not go back)."""
        if self._at_head is not None:
            return self._at_head
        try:
            async with asyncio.timeout(self._ping_timeout):
                status = await operations.schema_status(self._engine)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.debug("schema check failed: %s", type(exc).__name__)
            return None
        if status.at_head:
            self._at_head = status
        return status

    async def outbox_backlog(self, now: datetime) -> ports.OutboxBacklog:
        """The outbox rows due by `now` and not yet sent."""
        return await operations.outbox_backlog(self._engine, now)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()


if TYPE_CHECKING:
    _storage: type[ports.Storage] = SqlStorage
    _unit_of_work: type[ports.UnitOfWork] = SqlUnitOfWork
