"""The SQL unit of work and storage backend."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services import ports
from storage.sql.dataprotection import SqlDataProtectionRepository, SqlReportRepository
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

log = logging.getLogger(__name__)


class SqlUnitOfWork:
    """One transaction on one session; one per turn or job, never shared."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._session = sessions()
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
            await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()


class SqlStorage:
    """A SQLite or PostgreSQL database behind the ports."""

    def __init__(self, engine: AsyncEngine, *, ping_timeout: float = 5.0) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._ping_timeout = ping_timeout

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    def unit_of_work(self) -> SqlUnitOfWork:
        """A fresh unit of work; use it as `async with storage.unit_of_work() as uow:`."""
        return SqlUnitOfWork(self._sessions, self.dialect)

    async def ping(self) -> bool:
        """Whether the database answers `SELECT 1`; False on any failure, never raises."""
        try:
            async with asyncio.timeout(self._ping_timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("Database ping failed: %s", type(exc).__name__)
            return False
        return True

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()


if TYPE_CHECKING:
    _storage: type[ports.Storage] = SqlStorage
    _unit_of_work: type[ports.UnitOfWork] = SqlUnitOfWork
