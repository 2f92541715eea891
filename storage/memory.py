"""An in-memory fake of the storage ports, held to the same contract suite as SQL.

Records are deep copies. A unit of work keeps its changes to itself until it commits; reads
see the committed state overlaid with the unit's own changes, like a read-committed
database. Unique keys, panel references and ordering follow the SQL schema, and two units
inserting the same outbox or activity key behave as on PostgreSQL: the second waits for the
first to finish, then yields to it.

Referrals, minutes, cases, meetings, actions and information requests carry an optimistic
lock (`version`). A save from a copy older than what the unit sees (the committed state
overlaid with its own changes) raises Conflict (StaleVersion) at once. Units do not wait for
each other here, so when another unit commits a newer version of a referral, case, meeting,
action or information request after this unit's save, this unit's commit raises it instead,
and applies nothing.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.case import Case, CaseStatus
from bot.domain.delivery import (
    FINISHED,
    ConversationKind,
    ConversationRef,
    DeliveryState,
    OutgoingDelivery,
)
from bot.domain.referral import Referral, ReferralStatus, Subject, normalise_name
from bot.domain.retention import Person, SubjectAccessExport, entries, referral_ended_at
from bot.kernel.ports import OutboxBacklog, SchemaStatus
from storage.errors import (
    ACTION,
    CASE,
    INFORMATION_REQUEST,
    MEETING,
    ConstraintViolation,
    DuplicateRecord,
    stale,
    stale_minutes,
    stale_referral,
)
from storage.inventory import SWEPT, emptied_payload, needle_pattern
from storage.locks import HeldLocks, LocalLocks

if TYPE_CHECKING:
    import contextlib
    import re
    from collections.abc import Callable, Hashable, Iterable, Sequence
    from types import TracebackType

    from bot.domain.audit import AuditEvent
    from bot.domain.erasures import ErasureRequest
    from bot.domain.file_offer import FileOffer, OfferState
    from bot.domain.meeting import AgendaItem, Attendance, Meeting
    from bot.domain.minutes import Minutes
    from bot.domain.panel import Agency, IsaAcceptance, Member, Panel
    from bot.domain.reminders import ActionCardCopy, SentReminder
    from bot.kernel import ports

T = TypeVar("T")

PANELS = "panels"
AGENCIES = "agencies"
MEMBERS = "members"
ISA = "isa_acceptances"
REFERRALS = "referrals"
CASES = "cases"
MEETINGS = "meetings"
AGENDA_ITEMS = "agenda_items"
ACTIONS = "actions"
INFORMATION_REQUESTS = "information_requests"
CONVERSATIONS = "conversation_refs"
OUTBOX = "outbox"
AUDIT = "audit_events"
ACTIVITIES = "processed_activities"
ATTENDANCE = "meeting_attendance"
MINUTES = "meeting_minutes"
# Revision 0006.
REMINDERS = "reminders"
ACTION_CARDS = "action_cards"
# Revision 0007 (data protection).
RETENTION_MARKS = "retention_marks"
REFERRAL_REPEATS = "referral_repeats"
SAR_EXPORTS = "subject_access_exports"
ERASURES = "erasure_requests"
# Revision 0013 (periodic jobs).
JOB_RUNS = "job_runs"
# Revision 0015 (reference numbers).
COUNTERS = "reference_counters"
# Revision 0022 (files offered through Teams' file consent card).
FILE_OFFERS = "file_offers"
MINUTES_LINKS = "minutes_links"
# The tables with an optimistic lock (revision 0009), and how StaleVersion names them.
VERSIONED = {
    CASES: CASE,
    MEETINGS: MEETING,
    ACTIONS: ACTION,
    INFORMATION_REQUESTS: INFORMATION_REQUEST,
}
# What a panel's agenda is built from (storage.sql.unit_of_work.AGENDA_INPUTS).
AGENDA_INPUTS = (PANELS, AGENCIES, CASES, MEETINGS, AGENDA_ITEMS, ACTIONS)
TABLES = (
    PANELS,
    AGENCIES,
    MEMBERS,
    ISA,
    REFERRALS,
    CASES,
    MEETINGS,
    AGENDA_ITEMS,
    ACTIONS,
    INFORMATION_REQUESTS,
    CONVERSATIONS,
    OUTBOX,
    AUDIT,
    ACTIVITIES,
    ATTENDANCE,
    MINUTES,
    REMINDERS,
    ACTION_CARDS,
    RETENTION_MARKS,
    REFERRAL_REPEATS,
    SAR_EXPORTS,
    ERASURES,
    JOB_RUNS,
    COUNTERS,
    FILE_OFFERS,
    MINUTES_LINKS,
)

# The unique constraints of the SQL schema (besides the primary keys).
UNIQUE: dict[str, Callable[[Any], Hashable]] = {
    PANELS: lambda p: p.team_id,
    MEMBERS: lambda m: (m.panel_id, m.aad_object_id),
    REFERRALS: lambda r: (r.panel_id, r.reference.casefold()),
    CASES: lambda c: (c.panel_id, c.reference.casefold()),
    CONVERSATIONS: lambda c: (c.panel_id, c.conversation_id),
    OUTBOX: lambda d: d.key,
    MINUTES: lambda m: m.meeting_id,
    # Revision 0005 (governance).
    AGENCIES: lambda a: (a.panel_id, a.name.casefold()),
    ISA: lambda a: (a.panel_id, a.member_id, a.version),
    # Revision 0013: one meeting per panel and planned date (meetings without one never
    # clash).
    MEETINGS: lambda m: (m.panel_id, m.planned_on) if m.planned_on else m.id,
}


@dataclass
class _Record:
    """A stored copy; `seq` is the insertion order, as the SQL tables' sequence columns."""

    seq: int
    value: Any


@dataclass
class _Claim:
    """A unique key inserted by a unit of work that has not finished yet."""

    owner: MemoryUnitOfWork
    finished: asyncio.Event = field(default_factory=asyncio.Event)


def stored_form(value: T) -> T:
    """A copy of `value` as a database would give it back: instants in UTC and JSON
    documents as JSON (tuples become lists; what JSON cannot hold is refused)."""
    stored = copy.deepcopy(value)
    _instants_to_utc(stored)
    if isinstance(stored, OutgoingDelivery):
        stored.payload = json.loads(json.dumps(stored.payload))
    elif isinstance(stored, ConversationRef):
        stored.reference = json.loads(json.dumps(stored.reference))
    elif isinstance(stored, Referral):
        stored.risk_answers = json.loads(json.dumps(stored.risk_answers))
        stored.draft_inputs = json.loads(json.dumps(stored.draft_inputs))
    return stored


def _instants_to_utc(value: Any) -> None:
    """Convert every datetime inside (nested) dataclasses and lists to UTC, in place."""
    if isinstance(value, list):
        for item in value:
            _instants_to_utc(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            if isinstance(current, datetime):
                # object.__setattr__ also reaches frozen dataclasses such as AuditEvent.
                object.__setattr__(value, f.name, current.astimezone(UTC))
            else:
                _instants_to_utc(current)


def _utc_year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


class MemoryStorage:
    """The in-memory backend: for unit tests and the local demo, never for real data."""

    def __init__(self) -> None:
        self._committed: dict[str, dict[str, _Record]] = {table: {} for table in TABLES}
        self._sequence = itertools.count(1)
        self._claims: dict[tuple[str, str], _Claim] = {}
        self._locks: dict[str, MemoryUnitOfWork] = {}
        self._named_locks = LocalLocks()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def leader(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """The named lock for the block if no one in this process holds it."""
        return self._named_locks.leader(name)

    async def ping(self) -> bool:
        return True

    async def schema_status(self) -> SchemaStatus:
        """Memory has no migrations: always what the code needs."""
        return SchemaStatus(current=(), needed=())

    async def outbox_backlog(self, now: datetime) -> OutboxBacklog:
        """The committed outbox rows due by `now` and not yet sent."""
        due = [
            record.value.not_before
            for record in self._committed[OUTBOX].values()
            if record.value.state in (DeliveryState.PENDING, DeliveryState.SENDING)
            and record.value.not_before <= now
        ]
        return OutboxBacklog(due=len(due), oldest_due_at=min(due, default=None))

    async def close(self) -> None:
        return None


class MemoryUnitOfWork:
    """One transaction's worth of changes, applied to the storage at commit."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._changes: dict[str, dict[str, _Record | None]] = {table: {} for table in TABLES}
        # Per referral this unit saved: the committed version its first save started from
        # (None when it inserted the referral), checked again at commit.
        self._referral_bases: dict[str, int | None] = {}
        # The same for the other versioned records, by (table, id).
        self._version_bases: dict[tuple[str, str], int | None] = {}
        self.panels: ports.PanelRepository = _Panels(self)
        self.agencies: ports.AgencyRepository = _Agencies(self)
        self.members: ports.MemberRepository = _Members(self)
        self.isa: ports.IsaRepository = _Isa(self)
        self.referrals: ports.ReferralRepository = _Referrals(self)
        self.cases: ports.CaseRepository = _Cases(self)
        self.meetings: ports.MeetingRepository = _Meetings(self)
        self.actions: ports.ActionRepository = _Actions(self)
        self.information_requests: ports.InformationRequestRepository = _Requests(self)
        self.conversations: ports.ConversationRepository = _Conversations(self)
        self.outbox: ports.OutboxRepository = _Outbox(self)
        self.audit: ports.AuditRepository = _Audit(self)
        self.activities: ports.ActivityLedger = _Activities(self)
        self.data_protection: ports.DataProtectionRepository = _DataProtection(self)
        self.reports: ports.ReportRepository = _Reports(self)
        self.reminders: ports.ReminderRepository = _Reminders(self)
        self.jobs: ports.JobRepository = _Jobs(self)
        self.counters: ports.CounterRepository = _Counters(self)
        self.file_offers: ports.FileOfferRepository = _FileOffers(self)
        self._held = HeldLocks(storage._named_locks)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        await self.rollback()

    async def commit(self) -> None:
        """Apply the changes at once, unless another unit committed a clashing unique key
        or a newer version of a referral this unit changed."""
        committed = self._storage._committed
        for referral_id, base in self._referral_bases.items():
            current = committed[REFERRALS].get(referral_id)
            if base is None and current is not None:
                raise DuplicateRecord(REFERRALS)
            if base is not None and (current is None or current.value.version != base):
                raise stale_referral(referral_id)
        for (table, key), base in self._version_bases.items():
            current = committed[table].get(key)
            if base is None and current is not None:
                raise DuplicateRecord(table)
            if base is not None and (current is None or current.value.version != base):
                raise stale(VERSIONED[table], key)
        for table, unique in UNIQUE.items():
            changed = {key: r for key, r in self._changes[table].items() if r is not None}
            taken = {
                unique(r.value): key
                for key, r in committed[table].items()
                if key not in self._changes[table]
            }
            for key, record in changed.items():
                if taken.get(unique(record.value), key) != key:
                    raise DuplicateRecord(table)
        changed_panels = self._changed_panels()
        for table, changes in self._changes.items():
            for key, change in changes.items():
                if change is None:
                    committed[table].pop(key, None)
                    continue
                if table == PANELS:
                    # The version is the storage's own, whatever the saved copy says.
                    before = committed[table].get(key)
                    change.value.data_version = before.value.data_version if before else 0
                committed[table][key] = change
        for panel_id in changed_panels:
            panel = committed[PANELS].get(panel_id)
            if panel is not None:
                panel.value.data_version += 1
        self._finish()

    def _changed_panels(self) -> set[str]:
        """The panels whose agenda inputs this unit changed (as the SQL backend's
        AGENDA_INPUTS): a save of equal values is no change."""
        changed: set[str] = set()
        committed = self._storage._committed
        for table in AGENDA_INPUTS:
            for key, change in self._changes[table].items():
                before = committed[table].get(key)
                if change is None and before is None:
                    continue
                if change is not None and before is not None and _same(change.value, before.value):
                    continue  # (a panel's data_version takes no part in ==)
                value = (change or before).value  # type: ignore[union-attr]
                changed.add(value.id if table == PANELS else value.panel_id)
        return changed

    async def rollback(self) -> None:
        self._finish()

    async def take_lock(self, name: str) -> None:
        """Hold the named lock (of this process) until this unit of work ends."""
        await self._held.take(name)

    def _finish(self) -> None:
        """End the transaction: forget the changes, release claimed keys and locked rows."""
        self._held.release_all()
        self._changes = {table: {} for table in TABLES}
        self._referral_bases = {}
        self._version_bases = {}
        storage = self._storage
        for key, claim in list(storage._claims.items()):
            if claim.owner is self:
                del storage._claims[key]
                claim.finished.set()
        for row_id, owner in list(storage._locks.items()):
            if owner is self:
                del storage._locks[row_id]

    # The overlay of this unit's changes on the committed state.

    def record(self, table: str, key: str) -> _Record | None:
        changes = self._changes[table]
        if key in changes:
            return changes[key]
        return self._storage._committed[table].get(key)

    def records(self, table: str) -> list[_Record]:
        merged = dict(self._storage._committed[table])
        for key, change in self._changes[table].items():
            if change is None:
                merged.pop(key, None)
            else:
                merged[key] = change
        return list(merged.values())

    def values(self, table: str) -> list[Any]:
        return [r.value for r in self.records(table)]

    def put(self, table: str, key: str, value: Any) -> None:
        """Store a copy of `value` under `key`, checking the table's unique key."""
        unique = UNIQUE.get(table)
        if unique is not None:
            wanted = unique(value)
            for other in self.values(table):
                if unique(other) == wanted and self._key_of(table, other) != key:
                    raise DuplicateRecord(table)
        existing = self.record(table, key)
        seq = existing.seq if existing else next(self._storage._sequence)
        self._changes[table][key] = _Record(seq, stored_form(value))

    def remove(self, table: str, key: str) -> None:
        if self.record(table, key) is not None:
            self._changes[table][key] = None

    @staticmethod
    def _key_of(table: str, value: Any) -> str:
        return str(value.key if table == ACTIVITIES else value.id)

    def note_referral_base(self, referral_id: str, version: int | None) -> None:
        """Remember the version this unit's first save of a referral started from."""
        self._referral_bases.setdefault(referral_id, version)

    def note_version_base(self, table: str, key: str, version: int | None) -> None:
        """Remember the version this unit's first save of a versioned record started from."""
        self._version_bases.setdefault((table, key), version)

    def require_panel(self, panel_id: str) -> None:
        """The foreign key every table of panel data has."""
        if self.record(PANELS, panel_id) is None:
            raise ConstraintViolation("The panel does not exist.")

    async def claim(self, table: str, key: str) -> bool:
        """Take a unique key for an insert, waiting while an unfinished unit holds it;
        False when it is taken for good (committed, or inserted by this unit)."""
        while True:
            if any(v.key == key for v in self.values(table)):
                return False
            claim = self._storage._claims.get((table, key))
            if claim is None:
                self._storage._claims[(table, key)] = _Claim(owner=self)
                return True
            if claim.owner is self:
                return False
            await claim.finished.wait()

    def lock(self, row_id: str) -> bool:
        """Lock a row for this unit (PostgreSQL's FOR UPDATE SKIP LOCKED); False if another
        unfinished unit holds it."""
        owner = self._storage._locks.setdefault(row_id, self)
        return owner is self


def _copy(value: T) -> T:
    return copy.deepcopy(value)


def _same(value: Any, before: Any) -> bool:
    """Equal values, the version apart: a save that changed nothing else is no change to
    what the agenda is built from (as on SQL, where only the flushed fields count)."""
    if value == before:
        return True
    if not hasattr(value, "version") or not hasattr(before, "version"):
        return False
    levelled = copy.copy(value)
    levelled.version = before.version
    return bool(levelled == before)


class _Repository:
    table: str

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _scoped(self, panel_id: str) -> list[Any]:
        return [v for v in self._uow.values(self.table) if v.panel_id == panel_id]

    def _get(self, panel_id: str, key: str) -> Any:
        record = self._uow.record(self.table, key)
        if record is None or record.value.panel_id != panel_id:
            return None
        return _copy(record.value)

    def _save(self, value: Any) -> None:
        """Upsert of a panel's record, as the SQL repositories do it."""
        self._uow.require_panel(value.panel_id)
        existing = self._uow.record(self.table, value.id)
        if existing is not None and existing.value.panel_id != value.panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        self._uow.put(self.table, value.id, value)

    def _save_versioned(self, value: Any) -> None:
        """`_save` with the optimistic lock: insert as version 1, or update from the version
        this unit sees (StaleVersion otherwise); sets `value.version` to what was stored."""
        existing = self._uow.record(self.table, value.id)
        if existing is not None and existing.value.panel_id != value.panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        if existing is None:
            base, version = None, 1
        elif existing.value.version != value.version:
            raise stale(VERSIONED[self.table], value.id)
        else:
            base, version = value.version, value.version + 1
        stored = copy.copy(value)
        stored.version = version
        self._save(stored)
        self._uow.note_version_base(self.table, value.id, base)
        value.version = version


def _first(values: Iterable[T]) -> T | None:
    return next(iter(values), None)


class _Panels(_Repository):
    table = PANELS

    async def save(self, panel: Panel) -> None:
        self._uow.put(PANELS, panel.id, panel)

    async def get(self, panel_id: str) -> Panel | None:
        record = self._uow.record(PANELS, panel_id)
        return _copy(record.value) if record else None

    async def by_team(self, team_id: str) -> Panel | None:
        return _copy(_first(p for p in self._uow.values(PANELS) if p.team_id == team_id))

    async def list_all(self) -> list[Panel]:
        return _copy(sorted(self._uow.values(PANELS), key=lambda p: (p.created_at, p.id)))


class _Agencies(_Repository):
    table = AGENCIES

    async def save(self, agency: Agency) -> None:
        self._save(agency)

    async def get(self, panel_id: str, agency_id: str) -> Agency | None:
        agency: Agency | None = self._get(panel_id, agency_id)
        return agency

    async def by_name(self, panel_id: str, name: str) -> Agency | None:
        key = name.casefold()
        matches = [a for a in self._scoped(panel_id) if a.name.casefold() == key]
        return _copy(_first(sorted(matches, key=lambda a: a.id)))

    async def all(self, panel_id: str) -> list[Agency]:
        return _copy(sorted(self._scoped(panel_id), key=lambda a: (a.name.casefold(), a.id)))


class _Members(_Repository):
    table = MEMBERS

    async def save(self, member: Member) -> None:
        kept: Member | None = self._get(member.panel_id, member.id)
        if member.teams_user_id is None and kept is not None and kept.teams_user_id:
            # As SQL: a copy loaded before the id was noted does not forget it.
            member = dataclasses.replace(member, teams_user_id=kept.teams_user_id)
        self._save(member)

    async def get(self, panel_id: str, member_id: str) -> Member | None:
        member: Member | None = self._get(panel_id, member_id)
        return member

    async def by_aad(self, panel_id: str, aad_object_id: str) -> Member | None:
        return _copy(_first(m for m in self._scoped(panel_id) if m.aad_object_id == aad_object_id))

    async def memberships(self, aad_object_id: str) -> list[Member]:
        mine = [m for m in self._uow.values(MEMBERS) if m.aad_object_id == aad_object_id]
        return _copy(sorted(mine, key=lambda m: (m.panel_id, m.id)))

    async def memberships_with_panels(self, aad_object_id: str) -> list[tuple[Member, Panel]]:
        pairs: list[tuple[Member, Panel]] = []
        for member in await self.memberships(aad_object_id):
            record = self._uow.record(PANELS, member.panel_id)
            if record is not None:
                pairs.append((member, _copy(record.value)))
        return pairs

    async def on_several_panels(self, panel_id: str) -> frozenset[str]:
        joined: dict[str, int] = {}
        for member in self._uow.values(MEMBERS):
            if member.active and not member.invited:
                joined[member.aad_object_id] = joined.get(member.aad_object_id, 0) + 1
        return frozenset(m.id for m in self._scoped(panel_id) if joined.get(m.aad_object_id, 0) > 1)

    async def all(self, panel_id: str) -> list[Member]:
        return _copy(sorted(self._scoped(panel_id), key=lambda m: (m.name, m.id)))

    async def note_teams_user_id(self, panel_id: str, member_id: str, teams_user_id: str) -> None:
        member: Member | None = self._get(panel_id, member_id)
        if member is not None:
            member.teams_user_id = teams_user_id
            self._save(member)


class _Isa(_Repository):
    table = ISA

    async def save(self, acceptance: IsaAcceptance) -> None:
        self._save(acceptance)

    async def latest(self, panel_id: str, member_id: str) -> IsaAcceptance | None:
        mine = [a for a in self._scoped(panel_id) if a.member_id == member_id]
        return _copy(max(mine, key=lambda a: (a.accepted_at, a.id), default=None))

    async def latest_by_member(self, panel_id: str) -> dict[str, IsaAcceptance]:
        latest: dict[str, IsaAcceptance] = {}
        for acceptance in sorted(self._scoped(panel_id), key=lambda a: (a.accepted_at, a.id)):
            latest[acceptance.member_id] = acceptance
        return _copy(latest)


class _Referrals(_Repository):
    table = REFERRALS

    def _oldest_first(self, referrals: Iterable[Referral]) -> list[Referral]:
        return sorted(referrals, key=lambda r: (r.created_at, r.id))

    async def save(self, referral: Referral) -> None:
        """Insert as version 1, or update from the version stored; sets `referral.version`."""
        ours = {s.id for s in referral.subjects}
        for other in self._uow.values(REFERRALS):
            if other.id != referral.id and ours & {s.id for s in other.subjects}:
                raise ConstraintViolation("A subject with this id belongs to another referral.")
        self._uow.require_panel(referral.panel_id)
        existing = self._uow.record(REFERRALS, referral.id)
        if existing is not None and existing.value.panel_id != referral.panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        if existing is None:
            base, version = None, 1
        elif existing.value.version != referral.version:
            raise stale_referral(referral.id)
        else:
            base, version = referral.version, referral.version + 1
        stored = copy.copy(referral)
        stored.version = version
        self._save(stored)
        self._uow.note_referral_base(referral.id, base)
        referral.version = version

    async def get(self, panel_id: str, referral_id: str) -> Referral | None:
        referral: Referral | None = self._get(panel_id, referral_id)
        return referral

    async def by_reference(self, panel_id: str, reference: str) -> Referral | None:
        key = reference.casefold()
        return _copy(_first(r for r in self._scoped(panel_id) if r.reference.casefold() == key))

    async def all(self, panel_id: str, *, status: ReferralStatus | None = None) -> list[Referral]:
        return _copy(
            self._oldest_first(
                r for r in self._scoped(panel_id) if status is None or r.status is status
            )
        )

    async def by_referrer(self, panel_id: str, member_id: str) -> list[Referral]:
        return _copy(
            self._oldest_first(
                r for r in self._scoped(panel_id) if r.referrer_member_id == member_id
            )
        )

    async def subject_matches(
        self,
        panel_id: str,
        *,
        dates_of_birth: Sequence[date],
        match_postcode: str | None,
        exclude_referral_id: str | None = None,
    ) -> list[tuple[Referral, Subject]]:
        matches: list[tuple[Referral, Subject]] = []
        for stored in self._oldest_first(self._scoped(panel_id)):
            if stored.id == exclude_referral_id:
                continue
            referral = _copy(stored)
            for subject in referral.subjects:
                same_birth = subject.date_of_birth in dates_of_birth
                same_postcode = (
                    match_postcode is not None and subject.match_postcode == match_postcode
                )
                if same_birth or same_postcode:
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
        parts = {part for part in name_parts if part.isalpha()}
        found: list[tuple[Referral, Subject]] = []
        newest_first = sorted(
            self._scoped(panel_id), key=lambda r: (r.created_at, r.id), reverse=True
        )
        for stored in newest_first:
            if stored.submitted_at is None:
                continue
            referral = _copy(stored)
            for subject in referral.subjects:
                words = set(subject.match_name.split())
                aliases = json.dumps(list(subject.aliases)).lower()
                if (
                    parts & words
                    or any(part in aliases for part in parts)
                    or (match_postcode is not None and subject.match_postcode == match_postcode)
                ):
                    found.append((referral, subject))
        return found[: max(limit, 0)]

    async def count_created_in_year(self, panel_id: str, year: int) -> int:
        start, end = _utc_year(year)
        return sum(1 for r in self._scoped(panel_id) if start <= r.created_at < end)

    async def subject_names(self, panel_id: str) -> list[str]:
        names: set[str] = set()
        for referral in self._scoped(panel_id):
            for subject in referral.subjects:
                names.add(subject.name)
                names.update(subject.aliases)
            names.update(child.name for child in referral.children)
        return sorted(name for name in names if name.strip())


class _Cases(_Repository):
    table = CASES

    def _oldest_first(self, cases: Iterable[Case]) -> list[Case]:
        return sorted(cases, key=lambda c: (c.opened_at, c.id))

    async def save(self, case: Case) -> None:
        self._save_versioned(case)

    async def get(self, panel_id: str, case_id: str) -> Case | None:
        case: Case | None = self._get(panel_id, case_id)
        return case

    async def by_reference(self, panel_id: str, reference: str) -> Case | None:
        key = reference.casefold()
        return _copy(_first(c for c in self._scoped(panel_id) if c.reference.casefold() == key))

    async def list_open(self, panel_id: str) -> list[Case]:
        return _copy(self._oldest_first(c for c in self._scoped(panel_id) if c.is_open))

    async def by_ids(self, panel_id: str, case_ids: Sequence[str]) -> list[Case]:
        wanted = set(case_ids)
        return _copy(self._oldest_first(c for c in self._scoped(panel_id) if c.id in wanted))

    async def count_opened_in_year(self, panel_id: str, year: int) -> int:
        start, end = _utc_year(year)
        return sum(1 for c in self._scoped(panel_id) if start <= c.opened_at < end)


class _Meetings(_Repository):
    table = MEETINGS

    async def save(self, meeting: Meeting) -> None:
        self._save_versioned(meeting)

    async def get(self, panel_id: str, meeting_id: str) -> Meeting | None:
        meeting: Meeting | None = self._get(panel_id, meeting_id)
        return meeting

    async def upcoming(self, panel_id: str, after: datetime, limit: int = 6) -> list[Meeting]:
        later = [m for m in self._scoped(panel_id) if m.starts_at >= after]
        return _copy(sorted(later, key=lambda m: (m.starts_at, m.id))[:limit])

    async def by_ids(self, panel_id: str, meeting_ids: Sequence[str]) -> list[Meeting]:
        wanted = set(meeting_ids)
        found = [m for m in self._scoped(panel_id) if m.id in wanted]
        return _copy(sorted(found, key=lambda m: (m.starts_at, m.id)))

    async def save_agenda_items(self, items: Sequence[AgendaItem]) -> None:
        for item in items:
            await self.save_agenda_item(item)

    async def save_agenda_item(self, item: AgendaItem) -> None:
        meeting = self._uow.record(MEETINGS, item.meeting_id)
        if meeting is None or meeting.value.panel_id != item.panel_id:
            raise ConstraintViolation("The agenda item's meeting is not in its panel.")
        self._uow.require_panel(item.panel_id)
        existing = self._uow.record(AGENDA_ITEMS, item.id)
        if existing is not None and existing.value.panel_id != item.panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        self._uow.put(AGENDA_ITEMS, item.id, item)

    async def agenda(self, panel_id: str, meeting_id: str) -> list[AgendaItem]:
        items = [
            i
            for i in self._uow.values(AGENDA_ITEMS)
            if i.panel_id == panel_id and i.meeting_id == meeting_id
        ]
        return _copy(sorted(items, key=lambda i: (i.position, i.id)))

    async def items_for_cases(self, panel_id: str, case_ids: Sequence[str]) -> list[AgendaItem]:
        wanted = set(case_ids)
        items = [
            i
            for i in self._uow.values(AGENDA_ITEMS)
            if i.panel_id == panel_id and i.case_id in wanted
        ]
        return _copy(sorted(items, key=lambda i: (i.meeting_id, i.position)))

    def _meeting_of(self, panel_id: str, meeting_id: str) -> None:
        meeting = self._uow.record(MEETINGS, meeting_id)
        if meeting is None or meeting.value.panel_id != panel_id:
            raise ConstraintViolation("The meeting is not in this panel.")

    async def record_attendance(self, attendance: Attendance) -> bool:
        """Keyed by meeting and member, so a member is recorded once (two units recording
        the same member at once both succeed here, and one record remains)."""
        self._meeting_of(attendance.panel_id, attendance.meeting_id)
        key = f"{attendance.meeting_id}\x1f{attendance.member_id}"
        if self._uow.record(ATTENDANCE, key) is not None:
            return False
        self._uow.put(ATTENDANCE, key, attendance)
        return True

    async def attendance(self, panel_id: str, meeting_id: str) -> list[Attendance]:
        present = [
            a
            for a in self._uow.values(ATTENDANCE)
            if a.panel_id == panel_id and a.meeting_id == meeting_id
        ]
        return _copy(sorted(present, key=lambda a: (a.acknowledged_at, a.id)))

    async def save_minutes(self, minutes: Minutes) -> None:
        """The version is checked against what this unit sees (units do not wait for each
        other here, so of two concurrent saves the later commit wins)."""
        self._meeting_of(minutes.panel_id, minutes.meeting_id)
        existing = self._uow.record(MINUTES, minutes.id)
        if existing is not None and existing.value.panel_id != minutes.panel_id:
            raise ConstraintViolation("A record with this id belongs to another panel.")
        stored_version = existing.value.version if existing is not None else 0
        if stored_version != minutes.version:
            raise stale_minutes(minutes.id)
        stored = copy.copy(minutes)
        stored.version = minutes.version + 1
        self._uow.put(MINUTES, minutes.id, stored)
        minutes.version = stored.version

    async def minutes(self, panel_id: str, meeting_id: str) -> Minutes | None:
        return _copy(
            _first(
                m
                for m in self._uow.values(MINUTES)
                if m.panel_id == panel_id and m.meeting_id == meeting_id
            )
        )

    async def planned_days(self, panel_id: str, since: date) -> set[date]:
        return {
            m.planned_on
            for m in self._scoped(panel_id)
            if m.planned_on is not None and m.planned_on >= since
        }


class _Actions(_Repository):
    table = ACTIONS

    def _earliest_due_first(self, actions: Iterable[Action]) -> list[Action]:
        return sorted(actions, key=lambda a: (a.due_on, a.created_at, a.id))

    async def save(self, action: Action) -> None:
        """Insert or update; stored updates are kept as they are, new ones appended."""
        for update in action.updates:
            if update.action_id != action.id or update.panel_id != action.panel_id:
                raise ConstraintViolation("An action update belongs to another action.")
        existing = self._uow.record(ACTIONS, action.id)
        stored: list[Any] = list(existing.value.updates) if existing else []
        known = {u.id for u in stored}
        appended = []
        for update in action.updates:
            if update.id not in known:
                known.add(update.id)
                appended.append(update)
        others = {u.id for a in self._uow.values(ACTIONS) if a.id != action.id for u in a.updates}
        if others & {u.id for u in appended}:
            raise ConstraintViolation("An update with this id belongs to another action.")
        merged = copy.copy(action)
        merged.updates = stored + appended
        self._save_versioned(merged)
        action.version = merged.version

    async def get(self, panel_id: str, action_id: str) -> Action | None:
        action: Action | None = self._get(panel_id, action_id)
        return action

    async def for_case(self, panel_id: str, case_id: str) -> list[Action]:
        mine = [a for a in self._scoped(panel_id) if a.case_id == case_id]
        return _copy(sorted(mine, key=lambda a: (a.created_at, a.id)))

    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[Action]:
        return _copy(
            self._earliest_due_first(
                a
                for a in self._scoped(panel_id)
                if a.owner_agency_id == agency_id and a.status is ActionStatus.OPEN
            )
        )

    async def finished_for_agency(self, panel_id: str, agency_id: str, limit: int) -> list[Action]:
        finished = [
            a
            for a in self._scoped(panel_id)
            if a.owner_agency_id == agency_id and a.status is not ActionStatus.OPEN
        ]
        finished.sort(key=lambda a: a.id)
        finished.sort(key=lambda a: (a.due_on, a.created_at), reverse=True)
        return _copy(finished[:limit])

    async def open_due_by(self, panel_id: str, day: date) -> list[Action]:
        closed = {
            c.id
            for c in self._uow.values(CASES)
            if c.panel_id == panel_id and c.status is CaseStatus.CLOSED
        }
        return _copy(
            self._earliest_due_first(
                a
                for a in self._scoped(panel_id)
                if a.status is ActionStatus.OPEN and a.due_on <= day and a.case_id not in closed
            )
        )

    async def open_ids_due_by(
        self, panel_id: str, day: date, *, except_meeting_id: str | None = None
    ) -> list[str]:
        return [
            a.id
            for a in await self.open_due_by(panel_id, day)
            if except_meeting_id is None or a.meeting_id != except_meeting_id
        ]

    async def by_ids(self, panel_id: str, action_ids: Sequence[str]) -> list[Action]:
        found = {a.id: a for a in self._scoped(panel_id) if a.id in set(action_ids)}
        return _copy([found[i] for i in dict.fromkeys(action_ids) if i in found])

    async def record_card(self, card: ActionCardCopy) -> None:
        self._uow.require_panel(card.panel_id)
        if self._uow.record(ACTION_CARDS, card.delivery_id) is None:
            self._uow.put(ACTION_CARDS, card.delivery_id, card)

    async def card_deliveries(
        self, panel_id: str, action_id: str, limit: int = 20
    ) -> list[OutgoingDelivery]:
        cards = sorted(
            (
                r
                for r in self._uow.records(ACTION_CARDS)
                if r.value.panel_id == panel_id and r.value.action_id == action_id
            ),
            key=lambda r: (r.value.created_at, r.seq),
            reverse=True,
        )
        found = []
        for card in cards:
            row = self._uow.record(OUTBOX, card.value.delivery_id)
            if row is not None and row.value.panel_id == panel_id:
                found.append(row.value)
        return _copy(found[: max(limit, 0)])


class _Requests(_Repository):
    table = INFORMATION_REQUESTS

    def _soonest_due_first(
        self, requests: Iterable[InformationRequest]
    ) -> list[InformationRequest]:
        return sorted(requests, key=lambda r: (r.due_at, r.id))

    async def save(self, request: InformationRequest) -> None:
        self._save_versioned(request)

    async def get(self, panel_id: str, request_id: str) -> InformationRequest | None:
        request: InformationRequest | None = self._get(panel_id, request_id)
        return request

    async def for_case(self, panel_id: str, case_id: str) -> list[InformationRequest]:
        return _copy(
            self._soonest_due_first(r for r in self._scoped(panel_id) if r.case_id == case_id)
        )

    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[InformationRequest]:
        return _copy(
            self._soonest_due_first(
                r
                for r in self._scoped(panel_id)
                if r.agency_id == agency_id and r.status is RequestStatus.OPEN
            )
        )

    async def open_due_by(self, panel_id: str, before: datetime) -> list[InformationRequest]:
        return _copy(
            self._soonest_due_first(
                r
                for r in self._scoped(panel_id)
                if r.status is RequestStatus.OPEN and r.due_at < before
            )
        )


class _Conversations(_Repository):
    table = CONVERSATIONS

    async def save(self, ref: ConversationRef) -> None:
        """Insert, or replace the stored reference of the same panel and conversation id."""
        for other in self._scoped(ref.panel_id):
            if other.conversation_id == ref.conversation_id and other.id != ref.id:
                self._uow.remove(CONVERSATIONS, other.id)
        self._save(ref)

    async def by_conversation(self, panel_id: str, conversation_id: str) -> ConversationRef | None:
        return _copy(
            _first(c for c in self._scoped(panel_id) if c.conversation_id == conversation_id)
        )

    async def personal(self, panel_id: str, member_id: str) -> ConversationRef | None:
        mine = [
            c
            for c in self._scoped(panel_id)
            if c.member_id == member_id and c.kind is ConversationKind.PERSONAL
        ]
        return _copy(max(mine, key=lambda c: (c.updated_at, c.id), default=None))

    async def of_kind(self, panel_id: str, kind: ConversationKind) -> list[ConversationRef]:
        of_kind = [c for c in self._scoped(panel_id) if c.kind is kind]
        return _copy(sorted(of_kind, key=lambda c: (c.updated_at, c.id)))

    async def delete(self, panel_id: str, ref_id: str) -> None:
        if self._get(panel_id, ref_id) is not None:
            self._uow.remove(CONVERSATIONS, ref_id)


class _Outbox(_Repository):
    table = OUTBOX

    async def enqueue(self, delivery: OutgoingDelivery) -> bool:
        if not await self._uow.claim(OUTBOX, delivery.key):
            return False
        if self._uow.record(OUTBOX, delivery.id) is not None:
            raise ConstraintViolation("A delivery with this id exists.")
        self._save(delivery)
        return True

    async def get(self, panel_id: str, delivery_id: str) -> OutgoingDelivery | None:
        delivery: OutgoingDelivery | None = self._get(panel_id, delivery_id)
        return delivery

    async def due(self, now: datetime, limit: int) -> list[OutgoingDelivery]:
        """Oldest first; rows another unfinished unit took are skipped, as on PostgreSQL."""
        records = sorted(
            (
                r
                for r in self._uow.records(OUTBOX)
                if r.value.state is DeliveryState.PENDING and r.value.not_before <= now
            ),
            key=lambda r: (r.value.created_at, r.seq),
        )
        taken: list[OutgoingDelivery] = []
        for record in records:
            if len(taken) == limit:
                break
            if self._uow.lock(record.value.id):
                taken.append(record.value)
        return _copy(taken)

    async def abandoned(self, claimed_before: datetime, limit: int) -> list[OutgoingDelivery]:
        """Sending since before `claimed_before` (or an unknown time), longest held first;
        rows another unfinished unit took are skipped."""
        records = sorted(
            (
                r
                for r in self._uow.records(OUTBOX)
                if r.value.state is DeliveryState.SENDING
                and (r.value.claimed_at is None or r.value.claimed_at < claimed_before)
            ),
            key=lambda r: (
                r.value.claimed_at is not None,
                r.value.claimed_at or r.value.created_at,
                r.seq,
            ),
        )
        taken: list[OutgoingDelivery] = []
        for record in records:
            if len(taken) == limit:
                break
            if self._uow.lock(record.value.id):
                taken.append(record.value)
        return _copy(taken)

    async def save(self, delivery: OutgoingDelivery) -> None:
        if delivery.state in FINISHED:
            # As SQL: a finished row keeps ids only (storage.inventory.emptied_payload).
            delivery = dataclasses.replace(delivery, payload=emptied_payload(delivery.payload))
        self._save(delivery)

    async def unreachable(self, panel_id: str, member_ids: Sequence[str]) -> set[str]:
        finished = {DeliveryState.SENT, DeliveryState.UNREACHABLE}
        latest: dict[str, tuple[datetime, int, DeliveryState]] = {}
        wanted = set(member_ids)
        for record in self._uow.records(OUTBOX):
            row = record.value
            if row.panel_id != panel_id or row.recipient_member_id not in wanted:
                continue
            if row.state not in finished:
                continue
            candidate = (row.created_at, record.seq, row.state)
            current = latest.get(row.recipient_member_id)
            if current is None or candidate[:2] > current[:2]:
                latest[row.recipient_member_id] = candidate
        return {m for m, (_, _, state) in latest.items() if state is DeliveryState.UNREACHABLE}

    # One process: nobody shares the outbox, so no lanes to take and no shared budget.

    async def claim_due(
        self,
        owner: str,  # noqa: ARG002 (the port's signature)
        now: datetime,
        limit: int,
        lease_until: datetime,  # noqa: ARG002
    ) -> tuple[list[OutgoingDelivery], set[str]]:
        return await self.due(now, limit), set()

    async def keep_lanes(
        self,
        owner: str,  # noqa: ARG002 (the port's signature)
        lanes: Sequence[str],  # noqa: ARG002
        until: datetime,  # noqa: ARG002
    ) -> None:
        return None

    async def lane_history(
        self, lanes: Sequence[str], since: datetime
    ) -> list[tuple[str, str, datetime]]:
        wanted = set(lanes)
        sent = sorted(
            (
                r
                for r in self._uow.records(OUTBOX)
                if r.value.lane in wanted
                and r.value.state is DeliveryState.SENT
                and r.value.sent_at is not None
                and r.value.sent_at > since
                and r.value.conversation_id is not None
            ),
            key=lambda r: (r.value.sent_at, r.seq),
        )
        return [(r.value.lane, r.value.conversation_id, r.value.sent_at) for r in sent]

    async def tenant_turn(
        self,
        tenant: str,  # noqa: ARG002 (the port's signature)
        owner: str,  # noqa: ARG002
        gap: float,  # noqa: ARG002
        count: int = 1,  # noqa: ARG002
        *,
        alone_after: float = 2.0,  # noqa: ARG002
    ) -> tuple[datetime, bool] | None:
        return None


class _Audit(_Repository):
    table = AUDIT

    async def append(self, event: AuditEvent) -> None:
        self._uow.require_panel(event.panel_id)
        if self._uow.record(AUDIT, event.id) is not None:
            raise ConstraintViolation("An audit event with this id exists.")
        self._uow.put(AUDIT, event.id, event)

    def _trail(self, panel_id: str, keep: Callable[[AuditEvent], bool]) -> list[_Record]:
        return sorted(
            (r for r in self._uow.records(AUDIT) if r.value.panel_id == panel_id and keep(r.value)),
            key=lambda r: (r.value.at, r.seq),
        )

    async def for_entity(self, panel_id: str, entity: str, entity_id: str) -> list[AuditEvent]:
        trail = self._trail(panel_id, lambda e: e.entity == entity and e.entity_id == entity_id)
        return _copy([r.value for r in trail])

    async def recent(self, panel_id: str, limit: int = 100) -> list[AuditEvent]:
        trail = self._trail(panel_id, lambda _e: True)
        return _copy([r.value for r in reversed(trail)][:limit])

    async def trail(
        self,
        panel_id: str,
        entities: Sequence[tuple[str, str]] | None,
        *,
        limit: int,
        before_id: str | None = None,
    ) -> list[AuditEvent]:
        wanted = None if entities is None else set(entities)
        records = self._trail(
            panel_id, lambda e: wanted is None or (e.entity, e.entity_id or "") in wanted
        )
        if before_id is not None:
            marker = next(
                (r for r in self._trail(panel_id, lambda _e: True) if r.value.id == before_id),
                None,
            )
            if marker is None:
                return []
            cut = (marker.value.at, marker.seq)
            records = [r for r in records if (r.value.at, r.seq) < cut]
        return _copy([r.value for r in reversed(records)][: max(limit, 0)])


@dataclass(frozen=True)
class _Seen:
    key: str
    at: datetime


class _Activities:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def first_time(self, key: str, at: datetime) -> bool:
        if not await self._uow.claim(ACTIVITIES, key):
            return False
        self._uow.put(ACTIVITIES, key, _Seen(key, at))
        return True


class _Jobs:
    """Revision 0013: the periodic jobs' state, by name."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def get(self, name: str) -> ports.JobRun | None:
        record = self._uow.record(JOB_RUNS, name)
        return None if record is None else _copy(record.value)

    async def save(self, run: ports.JobRun) -> None:
        self._uow.put(JOB_RUNS, run.name, run)


class _Counters:
    """Revision 0015: reference numbers, one counter per panel, kind and year, held by the
    unit that last took a number until it ends."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def next(self, panel_id: str, kind: str, year: int) -> int:
        self._uow.require_panel(panel_id)
        key = f"{panel_id}\x1f{kind}\x1f{year}"
        await self._uow.take_lock(f"{COUNTERS}:{key}")
        record = self._uow.record(COUNTERS, key)
        number = 1 if record is None else int(record.value) + 1
        self._uow.put(COUNTERS, key, number)
        return number

    async def raise_to(self, panel_id: str, kind: str, year: int, number: int) -> None:
        self._uow.require_panel(panel_id)
        key = f"{panel_id}\x1f{kind}\x1f{year}"
        await self._uow.take_lock(f"{COUNTERS}:{key}")
        record = self._uow.record(COUNTERS, key)
        if record is None or int(record.value) < number:
            self._uow.put(COUNTERS, key, number)


@dataclass(frozen=True)
class _LinksChoice:
    id: str  # the panel's
    allowed: bool
    changed_at: datetime


class _FileOffers:
    """Revision 0022: files offered through Teams' file consent card, by id; an offer
    being moved is held by the unit moving it until it ends (as PostgreSQL's row lock)."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def add(self, offer: FileOffer) -> None:
        self._uow.require_panel(offer.panel_id)
        if self._uow.record(FILE_OFFERS, offer.id) is not None:
            raise DuplicateRecord(FILE_OFFERS)
        self._uow.put(FILE_OFFERS, offer.id, offer)

    async def get(self, panel_id: str, offer_id: str) -> FileOffer | None:
        record = self._uow.record(FILE_OFFERS, offer_id)
        if record is None or record.value.panel_id != panel_id:
            return None
        return cast("FileOffer", _copy(record.value))

    async def for_meeting(self, panel_id: str, meeting_id: str) -> list[FileOffer]:
        found = [
            o
            for o in self._uow.values(FILE_OFFERS)
            if o.panel_id == panel_id and o.meeting_id == meeting_id
        ]
        return [_copy(o) for o in sorted(found, key=lambda o: (o.created_at, o.id))]

    async def move(
        self, panel_id: str, offer_id: str, src: OfferState, dst: OfferState, at: datetime
    ) -> bool:
        await self._uow.take_lock(f"{FILE_OFFERS}:{offer_id}")
        offer = await self.get(panel_id, offer_id)
        if offer is None or offer.state is not src:
            return False
        offer.state = dst
        offer.answered_at = at
        self._uow.put(FILE_OFFERS, offer.id, offer)
        return True

    async def links_allowed(self, panel_id: str) -> bool:
        record = self._uow.record(MINUTES_LINKS, panel_id)
        return True if record is None else bool(record.value.allowed)

    async def allow_links(self, panel_id: str, allowed: bool, at: datetime) -> None:
        self._uow.require_panel(panel_id)
        self._uow.put(MINUTES_LINKS, panel_id, _LinksChoice(panel_id, allowed, at))


class _Reminders:
    """Reminders queued, by key; a second insert of a key waits for the first unit."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    async def record(self, reminder: SentReminder) -> bool:
        self._uow.require_panel(reminder.panel_id)
        if not await self._uow.claim(REMINDERS, reminder.key):
            return False
        self._uow.put(REMINDERS, reminder.key, reminder)
        return True

    async def known(self, panel_id: str, keys: Sequence[str]) -> set[str]:
        wanted = set(keys)
        return {
            r.key for r in self._uow.values(REMINDERS) if r.panel_id == panel_id and r.key in wanted
        }


# ---- data protection (revision 0007) -------------------------------------------------------


@dataclass(frozen=True)
class _Mark:
    panel_id: str
    entity: str
    entity_id: str
    at: datetime


@dataclass(frozen=True)
class _Repeat:
    panel_id: str
    referral_id: str
    repeat: bool
    at: datetime


class _DataProtection(_Repository):
    table = SAR_EXPORTS

    def _marked(self, entity: str) -> set[str]:
        return {
            mark.entity_id for mark in self._uow.values(RETENTION_MARKS) if mark.entity == entity
        }

    async def cases_due(self, panel_id: str, closed_before: datetime, limit: int) -> list[Case]:
        marked = self._marked("case")
        due = [
            c
            for c in self._uow.values(CASES)
            if c.panel_id == panel_id
            and c.status is CaseStatus.CLOSED
            and c.closed_at is not None
            and c.closed_at < closed_before
            and c.id not in marked
        ]
        return _copy(sorted(due, key=lambda c: (c.closed_at, c.id))[: max(limit, 0)])

    async def referrals_due(
        self, panel_id: str, ended_before: datetime, limit: int
    ) -> list[Referral]:
        marked = self._marked("referral")
        due = [
            r
            for r in self._uow.values(REFERRALS)
            if r.panel_id == panel_id
            and r.id not in marked
            and (ended := referral_ended_at(r)) is not None
            and ended < ended_before
        ]
        return _copy(sorted(due, key=lambda r: (r.created_at, r.id))[: max(limit, 0)])

    async def _insert_once(self, table: str, key: str, value: Any) -> bool:
        self._uow.require_panel(value.panel_id)
        if self._uow.record(table, key) is not None:
            return False
        self._uow.put(table, key, value)
        return True

    async def mark_anonymised(
        self, panel_id: str, entity: str, entity_id: str, at: datetime
    ) -> bool:
        mark = _Mark(panel_id, entity, entity_id, at)
        return await self._insert_once(RETENTION_MARKS, f"{entity}\x1f{entity_id}", mark)

    async def freeze_repeat(
        self, panel_id: str, referral_id: str, repeat: bool, at: datetime
    ) -> bool:
        kept = _Repeat(panel_id, referral_id, repeat, at)
        return await self._insert_once(REFERRAL_REPEATS, referral_id, kept)

    async def frozen_repeats(self, panel_id: str) -> dict[str, bool]:
        return {
            kept.referral_id: kept.repeat
            for kept in self._uow.values(REFERRAL_REPEATS)
            if kept.panel_id == panel_id
        }

    async def referrals_concerning(self, panel_id: str, person: Person) -> list[Referral]:
        found = [
            r for r in self._uow.values(REFERRALS) if r.panel_id == panel_id and person.concerns(r)
        ]
        return _copy(sorted(found, key=lambda r: (r.created_at, r.id)))

    async def referrals_naming(self, panel_id: str, match_names: Sequence[str]) -> list[Referral]:
        wanted = set(match_names)

        def names(referral: Referral) -> set[str]:
            subjects, children = entries(referral)
            found = {normalise_name(s.name) for s in subjects}
            found |= {normalise_name(c.name) for c in children}
            return found | {normalise_name(a) for s in subjects for a in s.aliases}

        found = [
            r for r in self._uow.values(REFERRALS) if r.panel_id == panel_id and names(r) & wanted
        ]
        return _copy(sorted(found, key=lambda r: (r.created_at, r.id)))

    async def rewrite_action(self, action: Action) -> None:
        record = self._uow.record(ACTIONS, action.id)
        if record is None or record.value.panel_id != action.panel_id:
            return
        stored = copy.deepcopy(record.value)
        stored.description = action.description
        stored.cancel_reason = action.cancel_reason
        notes = {update.id: update.note for update in action.updates}
        for update in stored.updates:
            update.note = notes.get(update.id, update.note)
        self._uow.put(ACTIONS, stored.id, stored)

    async def save_export(self, export: SubjectAccessExport) -> None:
        self._save(export)

    async def export(self, panel_id: str, export_id: str) -> SubjectAccessExport | None:
        export: SubjectAccessExport | None = self._get(panel_id, export_id)
        return export

    async def exports(self, panel_id: str) -> list[SubjectAccessExport]:
        return _copy(sorted(self._scoped(panel_id), key=lambda e: (e.created_at, e.id)))

    async def delete_exports(self, panel_id: str, export_ids: Sequence[str]) -> int:
        gone = 0
        for export_id in set(export_ids):
            if self._get(panel_id, export_id) is not None:
                self._uow.remove(SAR_EXPORTS, export_id)
                gone += 1
        return gone

    async def deliveries_naming(
        self, panel_id: str, needles: Sequence[str]
    ) -> list[OutgoingDelivery]:
        pattern = needle_pattern(needles)
        if pattern is None:
            return []
        found = [
            r
            for r in sorted(self._uow.records(OUTBOX), key=lambda r: r.seq)
            if r.value.panel_id == panel_id
            and pattern.search(json.dumps(r.value.payload, ensure_ascii=False))
        ]
        return _copy([r.value for r in found])

    async def sweep(self, panel_id: str, needles: Sequence[str], marker: str) -> int:
        """The SQL sweep's columns are these records' fields (a referral's subjects are its
        own table there, and not swept)."""
        pattern = needle_pattern(needles)
        if pattern is None:
            return 0
        changed = 0
        for table in sorted({place.table for place in SWEPT} & set(TABLES)):
            for record in self._uow.records(table):
                value = record.value
                if value.panel_id != panel_id:
                    continue
                after = _swept(value, pattern, marker)
                if after is not value:
                    self._uow.put(table, self._uow._key_of(table, value), after)
                    changed += 1
        return changed

    async def prune_deliveries(self, created_before: datetime, limit: int) -> int:
        open_actions = {a.id for a in self._uow.values(ACTIONS) if a.status is ActionStatus.OPEN}
        kept = {
            card.delivery_id
            for card in self._uow.values(ACTION_CARDS)
            if card.action_id in open_actions
        }
        due = sorted(
            (
                r
                for r in self._uow.records(OUTBOX)
                if r.value.state in FINISHED
                and r.value.created_at < created_before
                and r.value.id not in kept
            ),
            key=lambda r: r.seq,
        )[: max(limit, 0)]
        for record in due:
            self._uow.remove(ACTION_CARDS, record.value.id)
            self._uow.remove(OUTBOX, record.value.id)
        return len(due)

    async def prune_activities(self, seen_before: datetime, limit: int) -> int:
        due = sorted(
            (seen for seen in self._uow.values(ACTIVITIES) if seen.at < seen_before),
            key=lambda seen: seen.at,
        )[: max(limit, 0)]
        for seen in due:
            self._uow.remove(ACTIVITIES, seen.key)
        return len(due)

    async def record_erasure(self, request: ErasureRequest) -> bool:
        return await self._insert_once(ERASURES, request.id, request)

    async def erasure_requests(self) -> list[ErasureRequest]:
        return sorted(self._uow.values(ERASURES), key=lambda r: (r.requested_at, r.id))


# A referral's subjects are a table of their own in SQL, which the sweep leaves alone.
_NOT_SWEPT = frozenset({"id", "panel_id", "subjects"})


def _swept(value: Any, pattern: re.Pattern[str], marker: str) -> Any:
    """`value` with `pattern` replaced in its strings (the same object when nothing is)."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return pattern.sub(marker, value)
    if isinstance(value, list | tuple):
        items = [_swept(item, pattern, marker) for item in value]
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same else type(value)(items)
    if isinstance(value, dict):
        swept = {_swept(k, pattern, marker): _swept(v, pattern, marker) for k, v in value.items()}
        return value if swept == value else swept
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in _NOT_SWEPT or not f.init:
                continue
            before = getattr(value, f.name)
            after = _swept(before, pattern, marker)
            if after is not before and after != before:
                changes[f.name] = after
        return dataclasses.replace(value, **changes) if changes else value
    return value


class _Reports(_Repository):
    table = CASES

    async def cases(self, panel_id: str) -> list[Case]:
        return _copy(sorted(self._scoped(panel_id), key=lambda c: (c.opened_at, c.id)))

    async def actions_due_between(self, panel_id: str, first: date, last: date) -> list[Action]:
        due = [
            a
            for a in self._uow.values(ACTIONS)
            if a.panel_id == panel_id and first <= a.due_on <= last
        ]
        return _copy(sorted(due, key=lambda a: (a.due_on, a.created_at, a.id)))


if TYPE_CHECKING:
    _storage: type[ports.Storage] = MemoryStorage
    _unit_of_work: type[ports.UnitOfWork] = MemoryUnitOfWork
