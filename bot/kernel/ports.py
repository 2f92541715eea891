"""The ports the services need: repositories and a unit of work.

Every repository method that reads panel data takes the panel id, so no query can reach
another panel's records. Repositories store copies: changing a loaded entity changes nothing
until it is saved and the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from bot.domain.action import Action, InformationRequest
from bot.domain.audit import AuditEvent
from bot.domain.case import Case
from bot.domain.delivery import ConversationKind, ConversationRef, OutgoingDelivery
from bot.domain.erasures import ErasureRequest
from bot.domain.errors import Conflict
from bot.domain.file_offer import FileOffer, OfferState
from bot.domain.meeting import AgendaItem, Attendance, Meeting
from bot.domain.minutes import Minutes
from bot.domain.panel import Agency, IsaAcceptance, Member, Panel
from bot.domain.referral import Referral, ReferralStatus, Subject
from bot.domain.reminders import ActionCardCopy, SentReminder
from bot.domain.retention import Person, SubjectAccessExport

ALREADY_EXISTS = (
    "Someone else did the same a moment ago, so nothing of yours was saved. "
    "Look again: what they made is there now."
)


class AlreadyExists(Conflict):
    """A save or commit lost a creation race: another unit of work stored a record under the
    same unique key first (a team's panel, a referral's reference). Nothing of this unit of
    work is stored; the message is safe to show, and a service that knows what was being
    made catches it to say so and show the one that won."""

    def __init__(self, message: str = ALREADY_EXISTS) -> None:
        super().__init__(message)


def stale_message(what: str) -> str:
    """What a person is told when their copy of `what` ("action", ...) was out of date."""
    return f"Someone else changed this {what} a moment ago. Look at it again before you act."


class StaleVersion(Conflict):
    """A save from a copy older than the stored one (the optimistic lock): `UPDATE ... WHERE
    id = :id AND version = :expected` changed no row. Nothing of the save is stored and the
    unit of work stays usable; `entity` and `entity_id` name the record, so that a service
    can show the person what it holds now. The message is safe to show."""

    def __init__(self, entity: str, entity_id: str, message: str | None = None) -> None:
        super().__init__(message or stale_message(entity.replace("_", " ")))
        self.entity = entity
        self.entity_id = entity_id


class PanelRepository(Protocol):
    async def save(self, panel: Panel) -> None: ...
    async def get(self, panel_id: str) -> Panel | None: ...
    async def by_team(self, team_id: str) -> Panel | None: ...
    async def list_all(self) -> list[Panel]: ...


class AgencyRepository(Protocol):
    async def save(self, agency: Agency) -> None: ...
    async def get(self, panel_id: str, agency_id: str) -> Agency | None: ...
    async def by_name(self, panel_id: str, name: str) -> Agency | None:
        """Case-insensitive exact name match."""
        ...

    async def all(self, panel_id: str) -> list[Agency]: ...


class MemberRepository(Protocol):
    async def save(self, member: Member) -> None: ...
    async def get(self, panel_id: str, member_id: str) -> Member | None: ...
    async def by_aad(self, panel_id: str, aad_object_id: str) -> Member | None: ...
    async def memberships(self, aad_object_id: str) -> list[Member]:
        """Every panel membership of one Teams user (to resolve a personal chat)."""
        ...

    async def memberships_with_panels(self, aad_object_id: str) -> list[tuple[Member, Panel]]:
        """Every panel membership of one Teams user with its panel, as `memberships` orders
        them, in one statement (every turn in a personal chat resolves its caller so)."""
        ...

    async def on_several_panels(self, panel_id: str) -> frozenset[str]:
        """The ids of the panel's members whose person is an active, joined member of more
        than one panel (this one among them), in one statement: a card queued for one of
        them says which panel it concerns."""
        ...

    async def all(self, panel_id: str) -> list[Member]: ...
    async def note_teams_user_id(self, panel_id: str, member_id: str, teams_user_id: str) -> None:
        """Note the id Teams gives the member in the bot's chats, and nothing else of the
        member (a turn notes it; it must not overwrite a coordinator's change)."""
        ...


class IsaRepository(Protocol):
    async def save(self, acceptance: IsaAcceptance) -> None: ...
    async def latest(self, panel_id: str, member_id: str) -> IsaAcceptance | None:
        """The member's most recent acceptance, whatever its version."""
        ...

    # Governance (revision 0005): one acceptance per member and version.

    async def latest_by_member(self, panel_id: str) -> dict[str, IsaAcceptance]:
        """Each member's most recent acceptance, by member id (for the members card)."""
        ...


class ReferralRepository(Protocol):
    async def save(self, referral: Referral) -> None:
        """Insert or update the referral with its subjects and children.

        Optimistic lock: saving a copy whose `version` is not the stored one raises
        `Conflict` and stores nothing; a successful save stores and sets `version + 1`.
        """
        ...

    async def get(self, panel_id: str, referral_id: str) -> Referral | None: ...
    async def by_reference(self, panel_id: str, reference: str) -> Referral | None: ...
    async def all(
        self, panel_id: str, *, status: ReferralStatus | None = None
    ) -> list[Referral]: ...
    async def by_referrer(self, panel_id: str, member_id: str) -> list[Referral]: ...
    async def subject_matches(
        self,
        panel_id: str,
        *,
        dates_of_birth: Sequence[date],
        match_postcode: str | None,
        exclude_referral_id: str | None = None,
    ) -> list[tuple[Referral, Subject]]:
        """Earlier referrals with a subject born on one of `dates_of_birth` or living at the
        same normalised postcode, whatever their name: the block in which the domain's rule
        (bot/domain/matching.py) compares names."""
        ...

    async def search_subjects(
        self,
        panel_id: str,
        *,
        name_parts: Sequence[str],
        match_postcode: str | None,
        limit: int,
    ) -> list[tuple[Referral, Subject]]:
        """Submitted referrals' subjects (never a draft's) whose name holds one of
        `name_parts` as a whole part (the normalised name's words, bot.domain.referral.
        normalise_name) or whose aliases hold one, lower-cased; or who live at the normalised
        postcode: the block in which `find` scores names. At most `limit`, newest referral
        first; nothing when neither key is given."""
        ...

    async def count_created_in_year(self, panel_id: str, year: int) -> int: ...

    # Governance: the channel gate looks for these names in what is posted.

    async def subject_names(self, panel_id: str) -> list[str]:
        """Every name the panel holds for a person referred: subjects' names and aliases,
        and the children's names; each once, sorted."""
        ...


class CaseRepository(Protocol):
    async def save(self, case: Case) -> None: ...
    async def get(self, panel_id: str, case_id: str) -> Case | None: ...
    async def by_reference(self, panel_id: str, reference: str) -> Case | None:
        """Reference match is case-insensitive (people type cm-2026-014)."""
        ...

    async def list_open(self, panel_id: str) -> list[Case]: ...
    async def by_ids(self, panel_id: str, case_ids: Sequence[str]) -> list[Case]: ...
    async def count_opened_in_year(self, panel_id: str, year: int) -> int: ...


class MeetingRepository(Protocol):
    async def save(self, meeting: Meeting) -> None: ...
    async def get(self, panel_id: str, meeting_id: str) -> Meeting | None: ...
    async def upcoming(self, panel_id: str, after: datetime, limit: int = 6) -> list[Meeting]:
        """Meetings starting at or after `after`, soonest first, cancelled ones included."""
        ...

    async def by_ids(self, panel_id: str, meeting_ids: Sequence[str]) -> list[Meeting]:
        """The panel's meetings among `meeting_ids` (others are ignored), soonest first, in
        one statement."""
        ...

    async def save_agenda_item(self, item: AgendaItem) -> None: ...
    async def save_agenda_items(self, items: Sequence[AgendaItem]) -> None:
        """`save_agenda_item` for each item, in a bounded number of statements."""
        ...

    async def agenda(self, panel_id: str, meeting_id: str) -> list[AgendaItem]:
        """The meeting's agenda items ordered by position."""
        ...

    # Running the meeting (revision 0004).

    async def items_for_cases(self, panel_id: str, case_ids: Sequence[str]) -> list[AgendaItem]:
        """Every agenda item, of any meeting, that names one of these cases."""
        ...

    async def record_attendance(self, attendance: Attendance) -> bool:
        """Record that a member attended the meeting; False (and nothing stored) when the
        member's attendance is recorded already."""
        ...

    async def attendance(self, panel_id: str, meeting_id: str) -> list[Attendance]:
        """Who attended the meeting, in the order they acknowledged."""
        ...

    async def save_minutes(self, minutes: Minutes) -> None:
        """Insert the meeting's minutes (one per meeting) or update them.

        Optimistic lock, as for referrals: saving a copy whose `version` is not the stored
        one raises `Conflict` and stores nothing; a successful save sets `version + 1`.
        """
        ...

    async def minutes(self, panel_id: str, meeting_id: str) -> Minutes | None: ...

    # Meetings once (revision 0013).

    async def planned_days(self, panel_id: str, since: date) -> set[date]:
        """The planned dates (Meeting.planned_on) from `since` on that the panel's meetings
        fill, moved and cancelled ones included, wherever they now are."""
        ...


class ActionRepository(Protocol):
    async def save(self, action: Action) -> None:
        """Insert or update the action and append any updates not stored yet."""
        ...

    async def get(self, panel_id: str, action_id: str) -> Action | None: ...
    async def for_case(self, panel_id: str, case_id: str) -> list[Action]: ...
    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[Action]:
        """Open actions of one agency, earliest due first."""
        ...

    async def finished_for_agency(self, panel_id: str, agency_id: str, limit: int) -> list[Action]:
        """Up to `limit` of one agency's actions no longer open (done, cancelled, passed back),
        the latest due first: its finished work."""
        ...

    async def open_due_by(self, panel_id: str, day: date) -> list[Action]:
        """Open actions of open cases due on or before `day` (the unmet actions), earliest
        due first."""
        ...

    async def open_ids_due_by(
        self, panel_id: str, day: date, *, except_meeting_id: str | None = None
    ) -> list[str]:
        """The ids of `open_due_by(panel_id, day)`, in its order, leaving out the actions set
        at `except_meeting_id`; ids only, so the agenda need not load every unmet action."""
        ...

    async def by_ids(self, panel_id: str, action_ids: Sequence[str]) -> list[Action]:
        """The panel's actions among `action_ids` (others are ignored), in the order the ids
        are given."""
        ...

    # SPOC actions and reminders (revision 0006).

    async def record_card(self, card: ActionCardCopy) -> None:
        """Remember that an outbox row carries the action's card (once per row)."""
        ...

    async def card_deliveries(
        self, panel_id: str, action_id: str, limit: int = 20
    ) -> list[OutgoingDelivery]:
        """The outbox rows that carried the action's card, newest first, up to `limit`."""
        ...


class InformationRequestRepository(Protocol):
    async def save(self, request: InformationRequest) -> None: ...
    async def get(self, panel_id: str, request_id: str) -> InformationRequest | None: ...
    async def for_case(self, panel_id: str, case_id: str) -> list[InformationRequest]: ...
    async def open_for_agency(self, panel_id: str, agency_id: str) -> list[InformationRequest]: ...

    # Reminders (revision 0006).

    async def open_due_by(self, panel_id: str, before: datetime) -> list[InformationRequest]:
        """Open requests due before `before`, soonest due first."""
        ...


class ConversationRepository(Protocol):
    async def save(self, ref: ConversationRef) -> None:
        """Insert, or replace the stored reference of the same panel and conversation id."""
        ...

    async def by_conversation(
        self, panel_id: str, conversation_id: str
    ) -> ConversationRef | None: ...
    async def personal(self, panel_id: str, member_id: str) -> ConversationRef | None: ...
    async def of_kind(self, panel_id: str, kind: ConversationKind) -> list[ConversationRef]: ...
    async def delete(self, panel_id: str, ref_id: str) -> None: ...


class OutboxRepository(Protocol):
    async def enqueue(self, delivery: OutgoingDelivery) -> bool:
        """Queue a delivery; False (and nothing stored) when its key is already queued."""
        ...

    async def get(self, panel_id: str, delivery_id: str) -> OutgoingDelivery | None: ...
    async def due(self, now: datetime, limit: int) -> list[OutgoingDelivery]:
        """Pending deliveries whose time has come, oldest first (locked where supported)."""
        ...

    async def abandoned(self, claimed_before: datetime, limit: int) -> list[OutgoingDelivery]:
        """Deliveries left sending since before `claimed_before` (or since an unknown time),
        longest held first (locked where supported): their dispatcher stopped."""
        ...

    async def save(self, delivery: OutgoingDelivery) -> None: ...

    # SPOC actions and reminders (revision 0006).

    async def unreachable(self, panel_id: str, member_ids: Sequence[str]) -> set[str]:
        """The members among `member_ids` whose latest finished delivery (sent or given up
        as unreachable) could not reach them."""
        ...

    # Several instances on one PostgreSQL database (revision 0012; bot.teams.outbox). On
    # SQLite (the embedded default: one instance) and in memory nobody shares the outbox:
    # claims take no lane, and the tenant's budget is the dispatcher's own.

    async def claim_due(
        self, owner: str, now: datetime, limit: int, lease_until: datetime
    ) -> tuple[list[OutgoingDelivery], set[str]]:
        """Pending deliveries whose time has come, oldest first, of the lanes (conversations,
        OutgoingDelivery.lane) that `owner` holds or can take, locked; and the lanes among
        them taken now, whose history the caller loads (`lane_history`).

        A lane is taken when nobody holds it, or its lease ran out, and none of its rows is
        sending; every lane of the rows returned is `owner`'s until `lease_until`, from the
        commit on. On SQLite and in memory: `due`, and no lane taken."""
        ...

    async def keep_lanes(self, owner: str, lanes: Sequence[str], until: datetime) -> None:
        """Renew `owner`'s leases on `lanes` until `until`, and release its other lanes."""
        ...

    async def lane_history(
        self, lanes: Sequence[str], since: datetime
    ) -> list[tuple[str, str, datetime]]:
        """(lane, conversation id, sent at) of the deliveries of `lanes` sent after `since`,
        oldest first."""
        ...

    async def tenant_turn(
        self, tenant: str, owner: str, gap: float, count: int = 1, *, alone_after: float = 2.0
    ) -> tuple[datetime, bool] | None:
        """Take the tenant's next `count` turns to make a request for `owner`, `gap` seconds
        apart (the next one after them `gap` seconds after the last, and none before now):
        the instant of the first, on the database's clock, and whether another owner took
        turns in the last `alone_after` seconds (or the tenant's turns began then). None
        when the outbox is not shared (SQLite, memory: the dispatcher paces the tenant
        alone)."""
        ...


class ReminderRepository(Protocol):
    """Reminders queued, by key: a reminder is queued once, however often the job runs."""

    async def record(self, reminder: SentReminder) -> bool:
        """Record a reminder; False (and nothing stored) when its key is recorded already
        (a concurrent run waits for the other, then yields to it)."""
        ...

    async def known(self, panel_id: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are recorded for the panel."""
        ...


class AuditRepository(Protocol):
    """Append-only: there is deliberately no way to change or remove an event."""

    async def append(self, event: AuditEvent) -> None: ...
    async def for_entity(self, panel_id: str, entity: str, entity_id: str) -> list[AuditEvent]:
        """A record's trail, oldest first."""
        ...

    async def recent(self, panel_id: str, limit: int = 100) -> list[AuditEvent]:
        """The panel's newest events first."""
        ...

    # Governance: `audit CM-2026-014`, read a page at a time.

    async def trail(
        self,
        panel_id: str,
        entities: Sequence[tuple[str, str]] | None,
        *,
        limit: int,
        before_id: str | None = None,
    ) -> list[AuditEvent]:
        """Events on any of `entities` ((entity, entity id) pairs; None: the whole panel),
        newest first, up to `limit`; with `before_id`, only those older than that event
        (in the order of `recent`), so pages stay put while new events arrive."""
        ...


class DataProtectionRepository(Protocol):
    """Retention, subject access and erasure (revision 0007)."""

    async def cases_due(self, panel_id: str, closed_before: datetime, limit: int) -> list[Case]:
        """Closed cases that closed before `closed_before` and are not anonymised yet,
        earliest closed first."""
        ...

    async def referrals_due(
        self, panel_id: str, ended_before: datetime, limit: int
    ) -> list[Referral]:
        """Referrals that never became a case and ended before `ended_before` (declined or
        withdrawn then, or drafts started then), not anonymised yet, oldest first."""
        ...

    async def mark_anonymised(
        self, panel_id: str, entity: str, entity_id: str, at: datetime
    ) -> bool:
        """Record that a case or referral ("case", "referral") was anonymised; False (and
        nothing stored) when it was already."""
        ...

    async def freeze_repeat(
        self, panel_id: str, referral_id: str, repeat: bool, at: datetime
    ) -> bool:
        """Keep whether a referral was a repeat, before its people are anonymised or erased;
        False (and nothing changed) when it was kept before."""
        ...

    async def frozen_repeats(self, panel_id: str) -> dict[str, bool]:
        """Every kept repeat answer, by referral id."""
        ...

    async def referrals_concerning(self, panel_id: str, person: Person) -> list[Referral]:
        """The referrals `person.concerns` (a subject by name or alias, a child, or a row of
        a draft, of the same normalised name and date of birth, or without one the same
        postcode), oldest first."""
        ...

    async def referrals_naming(self, panel_id: str, match_names: Sequence[str]) -> list[Referral]:
        """The referrals with a subject, alias, child or draft row whose normalised name is
        one of `match_names`, oldest first: where a search by name looks."""
        ...

    async def rewrite_action(self, action: Action) -> None:
        """Overwrite a stored action's description, cancellation reason and the notes of its
        stored updates (ActionRepository.save only appends updates): for anonymising."""
        ...

    async def save_export(self, export: SubjectAccessExport) -> None: ...
    async def export(self, panel_id: str, export_id: str) -> SubjectAccessExport | None: ...
    async def exports(self, panel_id: str) -> list[SubjectAccessExport]:
        """The panel's kept subject access searches, oldest first."""
        ...

    async def delete_exports(self, panel_id: str, export_ids: Sequence[str]) -> int:
        """Remove these searches (expired, or of a person erased); how many went."""
        ...

    # Erasure reaches every place of storage.inventory; retention keeps copies briefly.

    async def deliveries_naming(
        self, panel_id: str, needles: Sequence[str]
    ) -> list[OutgoingDelivery]:
        """The panel's outbox rows (any state) whose payload holds one of `needles`, case
        ignored, oldest first."""
        ...

    async def sweep(self, panel_id: str, needles: Sequence[str], marker: str) -> int:
        """Replace each of `needles` (case ignored) by `marker` in the panel's free text and
        JSON documents listed in storage.inventory.SWEPT; how many rows changed."""
        ...

    async def prune_deliveries(self, created_before: datetime, limit: int) -> int:
        """Delete up to `limit` finished outbox rows (of every panel) queued before
        `created_before`, with their action-card records, except those that carried the
        card of an action still open (its copies are updated when it changes); how many."""
        ...

    async def prune_activities(self, seen_before: datetime, limit: int) -> int:
        """Forget up to `limit` activity-ledger keys seen before `seen_before`; how many."""
        ...

    # Erasure requests, ids only (revision 0014): applied again after a restore.

    async def record_erasure(self, request: ErasureRequest) -> bool:
        """Keep a confirmed erasure; False (and nothing changed) when its id is kept already."""
        ...

    async def erasure_requests(self) -> list[ErasureRequest]:
        """Every kept erasure request, of every panel, oldest first."""
        ...


class ReportRepository(Protocol):
    """What the quarterly figures are counted from (revision 0007 adds no table for it)."""

    async def cases(self, panel_id: str) -> list[Case]:
        """Every case of the panel, oldest opened first."""
        ...

    async def actions_due_between(self, panel_id: str, first: date, last: date) -> list[Action]:
        """Actions (any status) due from `first` to `last` inclusive, earliest due first."""
        ...


class ActivityLedger(Protocol):
    """Remembers which incoming activities were acted on, so a redelivery is ignored."""

    async def first_time(self, key: str, at: datetime) -> bool:
        """Record `key`; True only the first time it is seen."""
        ...


@dataclass(frozen=True)
class JobRun:
    """Where a periodic job stands (revision 0013; bot.kernel.jobs): kept in the database,
    so that it runs once across instances and resumes when due after a restart."""

    name: str
    next_due: datetime
    last_started: datetime | None = None
    last_finished: datetime | None = None
    # "ok", or "failed: " and the error's kind (never its message: no personal data).
    outcome: str | None = None


class JobRepository(Protocol):
    async def get(self, name: str) -> JobRun | None: ...
    async def save(self, run: JobRun) -> None:
        """Insert the job's row or replace it."""
        ...


class CounterRepository(Protocol):
    async def next(self, panel_id: str, kind: str, year: int) -> int:
        """The next number of the panel's counter for `kind` in `year` (1 first). The
        counter stays taken until the unit of work ends: a second unit waits, then gets the
        number after; numbers are never given twice and never go back (revision 0015)."""
        ...

    async def raise_to(self, panel_id: str, kind: str, year: int, number: int) -> None:
        """Make sure the counter is at least `number`: after records were given their
        references another way (the demo panel, an import), the next number follows them."""
        ...


class FileOfferRepository(Protocol):
    """Files offered through Teams' file consent card (revision 0022), and each panel's
    choice of whether minutes may also be downloaded by link."""

    async def add(self, offer: FileOffer) -> None: ...
    async def get(self, panel_id: str, offer_id: str) -> FileOffer | None: ...
    async def for_meeting(self, panel_id: str, meeting_id: str) -> list[FileOffer]:
        """Every offer of the meeting's minutes, oldest first."""
        ...

    async def move(
        self, panel_id: str, offer_id: str, src: OfferState, dst: OfferState, at: datetime
    ) -> bool:
        """Move the offer from `src` to `dst` (answered at `at`) if it is in `src`: True
        when it moved. The row stays locked until the unit of work ends, so of two units
        moving it at once one moves it and the other finds it moved."""
        ...

    async def links_allowed(self, panel_id: str) -> bool:
        """Whether the panel's minutes may also go by signed link (True until a
        coordinator turns it off)."""
        ...

    async def allow_links(self, panel_id: str, allowed: bool, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction's worth of repositories; one per turn or job, never shared."""

    panels: PanelRepository
    agencies: AgencyRepository
    members: MemberRepository
    isa: IsaRepository
    referrals: ReferralRepository
    cases: CaseRepository
    meetings: MeetingRepository
    actions: ActionRepository
    information_requests: InformationRequestRepository
    conversations: ConversationRepository
    outbox: OutboxRepository
    audit: AuditRepository
    activities: ActivityLedger
    data_protection: DataProtectionRepository
    reports: ReportRepository
    reminders: ReminderRepository
    jobs: JobRepository
    counters: CounterRepository
    file_offers: FileOfferRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

    async def take_lock(self, name: str) -> None:
        """Wait for the named lock and hold it until this unit of work ends (commits or
        rolls back): PostgreSQL's transaction advisory lock, so instances on one database
        take turns; on SQLite (one instance) and in memory, a lock of this process. Take it
        before reading what it guards and before any write."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class SchemaStatus:
    """The database's schema revision(s) and the one(s) the code needs (Alembic heads)."""

    current: tuple[str, ...]  # empty: never migrated
    needed: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.needed)


@dataclass(frozen=True)
class OutboxBacklog:
    """Cards due to go (pending or being sent) and since when the oldest has been due."""

    due: int
    oldest_due_at: datetime | None


class Storage(Protocol):
    """A storage backend: makes units of work and says whether it is reachable."""

    def unit_of_work(self) -> UnitOfWork: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    async def schema_status(self) -> SchemaStatus | None:
        """Where the schema stands against the code's migrations; None when the database
        does not answer (never raises)."""
        ...

    async def outbox_backlog(self, now: datetime) -> OutboxBacklog:
        """The outbox rows due by `now` and not yet sent (for the operators' metrics)."""
        ...

    def leader(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Try the named lock for as long as the block runs, without waiting: True when this
        process took it, False when another holds it (PostgreSQL's session advisory lock on
        a connection of its own, so instances on one database elect one leader per name;
        on SQLite and in memory, a lock of this process)."""
        ...


# --- the panel's calendar in Outlook and Teams (bot/graph.py implements it) ---


@dataclass(frozen=True)
class EventRequest:
    """A panel meeting as a calendar event on the organizer's calendar: no personal data in
    the subject or body; the attendees' e-mail addresses; `key` (the meeting's id) makes a
    retried create return the event already made instead of a second one."""

    key: str
    subject: str
    body: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    attendees: tuple[str, ...]


@dataclass(frozen=True)
class CalendarEvent:
    """A calendar event with a Teams meeting, as Graph created it."""

    id: str
    join_url: str


class CalendarError(Exception):
    """Graph did not do what was asked; the message is for the log, not for people."""


class CalendarDenied(CalendarError):
    """Graph refused the app (401/403): credentials, permission or access policy."""


class CalendarNotFound(CalendarError):
    """Graph knows no such event, online meeting or chat (404)."""


class PanelCalendar(Protocol):
    """The panel's meetings in the organizer's Outlook calendar with a Teams meeting each,
    and the bot installed into each meeting's chat."""

    async def create_event(self, event: EventRequest) -> CalendarEvent:
        """Create the event (attendees invited, Teams meeting made) and return its id and
        join link."""
        ...

    async def move_event(
        self, event_id: str, *, starts_at: datetime, ends_at: datetime, timezone: str
    ) -> None:
        """Give the event new times (attendees get the update)."""
        ...

    async def cancel_event(self, event_id: str, *, comment: str) -> None:
        """Cancel the event (attendees get the cancellation with the comment)."""
        ...

    async def update_attendees(
        self, event_id: str, *, wanted: Collection[str], unwanted: Collection[str]
    ) -> bool:
        """Invite the `wanted` addresses the event lacks and take off the `unwanted` ones it
        has (addresses compared without case), leaving anyone else the organizer invited;
        True when the event changed."""
        ...

    async def install_in_meeting_chat(self, join_url: str) -> str:
        """Install the bot into the chat of the Teams meeting with that join link; returns
        the chat's thread id. Installed already counts as done."""
        ...

    # Meetings linked before calendar events (revision 0021) have a bare online meeting.
    async def move_online_meeting(
        self, online_meeting_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> None: ...

    async def delete_online_meeting(self, online_meeting_id: str) -> None: ...


@dataclass(frozen=True)
class RosterMember:
    """A member of a team as Teams names them: their Entra object id and display name."""

    aad_object_id: str
    name: str


class Roster(Protocol):
    """Who a person is, as Teams knows them in a team (the Teams layer asks the team's
    roster): the people picker sends an id alone, the Entra object id in Teams (the Agents
    Playground sends its own user id)."""

    async def member(self, team_id: str, member_id: str) -> RosterMember | None:
        """The member of the team with that Entra object id or Teams user id, or None when
        Teams does not say (not a member of it, not reachable)."""
        ...


# --- a file put into a member's OneDrive (bot/teams/upload.py implements it) ---


class UploadRefused(Exception):
    """The upload address is not one the bot may send to (scheme, host, address); the
    message is for the log and names neither."""


class UploadFailed(Exception):
    """The upload did not go through, retries included; the message is for the log."""


class FileUploads(Protocol):
    """Puts a file's bytes at the upload address Teams gave when a member allowed it."""

    async def upload(self, url: str, body: bytes) -> None:
        """PUT `body` to `url` whole; UploadRefused before anything is sent to an address
        not allowed, UploadFailed when it did not go through."""
        ...
