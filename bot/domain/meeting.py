"""Panel meetings and their agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidInput, InvalidTransition

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    AGENDA_PUBLISHED = "agenda_published"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    MINUTES_APPROVED = "minutes_approved"
    CANCELLED = "cancelled"


# A meeting still to come: its date, agenda and Teams meeting may change.
NOT_STARTED = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED})


ALLOWED: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.SCHEDULED: frozenset(
        {MeetingStatus.AGENDA_PUBLISHED, MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED}
    ),
    MeetingStatus.AGENDA_PUBLISHED: frozenset({MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED}),
    MeetingStatus.IN_PROGRESS: frozenset({MeetingStatus.ENDED}),
    MeetingStatus.ENDED: frozenset({MeetingStatus.MINUTES_APPROVED}),
}


@dataclass(kw_only=True)
class Meeting:
    """One monthly panel meeting."""

    id: str = field(default_factory=new_id)
    panel_id: str
    starts_at: datetime
    ends_at: datetime
    referral_deadline: datetime
    status: MeetingStatus = MeetingStatus.SCHEDULED
    join_url: str | None = None
    teams_meeting_id: str | None = None
    # Running the meeting (revision 0004): when the agenda was last published and whether
    # the coordinator ordered it by hand; when the meeting started and ended, in which chat,
    # and where the chair card stands. `step` counts the chair's moves, so a click rendered
    # before the last move is recognised as stale and never moves the meeting twice.
    agenda_published_at: datetime | None = None
    agenda_manual: bool = False
    started_at: datetime | None = None
    ended_at: datetime | None = None
    chat_conversation_id: str | None = None
    current_item_id: str | None = None
    step: int = 0
    # Revision 0013: the schedule's date this meeting fills (it keeps it when moved; None for
    # a meeting not made by the planner): one meeting per panel and planned date, so two
    # instances planning at once cannot both create it. `teams_outdated`: the meeting moved
    # and its Teams meeting still has the old times (the Graph sync moves it).
    planned_on: date | None = None
    teams_outdated: bool = False
    # Revision 0017: an urgent (extraordinary) meeting, called for the cases it names rather
    # than planned from the schedule: its agenda lists only those cases (`call_urgent`).
    urgent: bool = False
    # Revision 0021: the meeting's event in the organizer's Outlook calendar (its Teams
    # meeting's join link is `join_url`; `teams_meeting_id` is a bare online meeting made
    # before events), and the meeting chat the bot was installed into (None: not yet).
    calendar_event_id: str | None = None
    teams_chat_id: str | None = None
    # The optimistic lock: the version stored (0 until first saved). Storage saves only
    # from the stored version and sets the next; a stale copy raises StaleVersion. Agenda
    # changes save the meeting too, so it guards its agenda items as well.
    version: int = 0

    def __post_init__(self) -> None:
        for name in ("starts_at", "ends_at", "referral_deadline"):
            require_aware(getattr(self, name), name)
        for name in ("agenda_published_at", "started_at", "ended_at"):
            if getattr(self, name) is not None:
                require_aware(getattr(self, name), name)
        if self.ends_at <= self.starts_at:
            raise InvalidInput("A meeting must end after it starts.", {"ends_at": "invalid"})
        if self.referral_deadline > self.starts_at:
            raise InvalidInput(
                "The referral deadline must fall before the meeting.",
                {"referral_deadline": "invalid"},
            )

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def accepts_referrals_at(self, at: datetime) -> bool:
        """Whether a case accepted at `at` can still be listed for this meeting (never an
        urgent one's: it is called for the cases it names, and referrals are not due)."""
        return not self.urgent and self.status in NOT_STARTED and (at <= self.referral_deadline)

    def move_to(self, status: MeetingStatus) -> None:
        """Advance the meeting along its lifecycle."""
        self.status = move(self.status, status, ALLOWED, "meeting")

    @property
    def agenda_editable(self) -> bool:
        """The coordinator may change the agenda until the meeting starts."""
        return self.status in NOT_STARTED

    def publish_agenda(self, at: datetime) -> None:
        """Publish (or publish again, after changes) the agenda of a meeting not started."""
        if not self.agenda_editable:
            raise InvalidTransition("The agenda can be published only before the meeting starts.")
        if self.status is MeetingStatus.SCHEDULED:
            self.move_to(MeetingStatus.AGENDA_PUBLISHED)
        self.agenda_published_at = require_aware(at)

    def start(self, at: datetime, *, conversation_id: str | None, first_item_id: str) -> None:
        """The chair opens the meeting at its first item."""
        self.move_to(MeetingStatus.IN_PROGRESS)
        self.started_at = require_aware(at)
        self.chat_conversation_id = conversation_id
        self.current_item_id = first_item_id
        self.step = 0

    def go_to(self, item_id: str) -> None:
        """The chair card moves to another item; every move counts one step."""
        if self.status is not MeetingStatus.IN_PROGRESS:
            raise InvalidTransition("The meeting is not in progress.")
        self.current_item_id = item_id
        self.step += 1

    def end(self, at: datetime) -> None:
        """The chair closes the meeting; the minutes are drafted next."""
        self.move_to(MeetingStatus.ENDED)
        self.ended_at = require_aware(at)


# --- urgent meetings ----------------------------------------------------------------------

# An urgent meeting is called for the days ahead: a later date waits for a monthly meeting.
URGENT_WITHIN = timedelta(days=14)
URGENT_LENGTH = timedelta(minutes=60)
MAX_URGENT_REASON = 200
MAX_URGENT_CASES = 10


def call_urgent(
    *,
    panel_id: str,
    starts_at: datetime,
    now: datetime,
    reason: str,
    case_count: int,
    others: Iterable[Meeting],
    length: timedelta = URGENT_LENGTH,
) -> Meeting:
    """An urgent (extraordinary) meeting of the panel at `starts_at`, for `case_count` cases
    (Islington's terms of reference: urgent cases do not wait for the monthly meeting).

    Refused: no reason (the caller keeps it in the audit trail, never on the meeting), a
    time past or more than two weeks ahead, no case or too many, and a time on top of
    another meeting of the panel (`others`: cancelled ones do not count). Referrals are not
    due for it: its deadline is the moment it is called, so triage never offers it first.
    """
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    words = " ".join(reason.split())
    if not words:
        raise InvalidInput(
            "Say why the meeting is urgent (no names, please).", {"reason": "required"}
        )
    if len(words) > MAX_URGENT_REASON:
        raise InvalidInput(
            f"Keep the reason under {MAX_URGENT_REASON} characters.", {"reason": "too_long"}
        )
    if starts_at <= now:
        raise InvalidInput("That time is in the past.", {"date": "past"})
    if starts_at - now > URGENT_WITHIN:
        raise InvalidInput(
            f"An urgent meeting is called within {URGENT_WITHIN.days} days; a later date "
            "waits for the monthly meeting.",
            {"date": "too_far"},
        )
    if case_count < 1:
        raise InvalidInput("Name at least one case for the urgent meeting.", {"cases": "required"})
    if case_count > MAX_URGENT_CASES:
        raise InvalidInput(
            f"An urgent meeting hears at most {MAX_URGENT_CASES} cases.", {"cases": "too_many"}
        )
    ends_at = starts_at + length
    for other in others:
        if other.status is MeetingStatus.CANCELLED:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise InvalidInput("The panel has another meeting at that time.", {"date": "taken"})
    return Meeting(
        panel_id=panel_id,
        starts_at=starts_at,
        ends_at=ends_at,
        referral_deadline=now,
        urgent=True,
    )


class AgendaItemKind(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    UNMET_ACTIONS = "unmet_actions"
    NEW_CASE = "new_case"
    REVIEW_CASE = "review_case"
    OTHER_BUSINESS = "other_business"


# DOMAIN.md's agenda order: the kind decides the section, position orders within it.
SECTION_ORDER: dict[AgendaItemKind, int] = {
    AgendaItemKind.CONFIDENTIALITY: 1,
    AgendaItemKind.UNMET_ACTIONS: 2,
    AgendaItemKind.NEW_CASE: 3,
    AgendaItemKind.REVIEW_CASE: 4,
    AgendaItemKind.OTHER_BUSINESS: 5,
}


class AgendaItemStatus(StrEnum):
    PENDING = "pending"
    DISCUSSED = "discussed"
    DEFERRED = "deferred"
    REMOVED = "removed"


@dataclass(kw_only=True)
class AgendaItem:
    """One item on a meeting's agenda; case items name their case."""

    id: str = field(default_factory=new_id)
    panel_id: str
    meeting_id: str
    kind: AgendaItemKind
    position: int
    title: str
    case_id: str | None = None
    minutes_estimate: int = 0
    status: AgendaItemStatus = AgendaItemStatus.PENDING
    note: str | None = None
    # What the chair noted of the discussion (a case item), and the unmet actions an
    # unmet-actions item lists (revision 0004).
    summary: str | None = None
    action_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        is_case_item = self.kind in {AgendaItemKind.NEW_CASE, AgendaItemKind.REVIEW_CASE}
        if is_case_item != (self.case_id is not None):
            raise InvalidInput("New and review items, and only they, name a case.")
        self.action_ids = tuple(self.action_ids)

    @property
    def is_case(self) -> bool:
        return self.case_id is not None

    @property
    def is_active(self) -> bool:
        """On the running agenda: neither removed nor deferred."""
        return self.status in {AgendaItemStatus.PENDING, AgendaItemStatus.DISCUSSED}

    def set_aside(self, status: AgendaItemStatus, reason: str) -> None:
        """Remove or defer a pending item, with the coordinator's reason."""
        if status not in {AgendaItemStatus.REMOVED, AgendaItemStatus.DEFERRED}:
            raise ValueError("set_aside removes or defers")
        if self.status is not AgendaItemStatus.PENDING:
            raise InvalidTransition(f"“{self.title}” is already {self.status.value}.")
        if self.kind in {AgendaItemKind.CONFIDENTIALITY, AgendaItemKind.UNMET_ACTIONS}:
            raise InvalidInput(f"“{self.title}” stays on the agenda.")
        if status is AgendaItemStatus.DEFERRED and not self.is_case:
            raise InvalidInput("Only a case can be deferred to the next meeting.")
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidInput("Give a reason.", {"reason": "required"})
        self.status = status
        self.note = reason

    def mark_discussed(self) -> None:
        """The meeting has dealt with the item."""
        if self.status is AgendaItemStatus.PENDING:
            self.status = AgendaItemStatus.DISCUSSED


@dataclass(kw_only=True)
class Attendance:
    """A member acknowledged the confidentiality statement at a meeting: they attended, for
    their agency."""

    id: str = field(default_factory=new_id)
    panel_id: str
    meeting_id: str
    member_id: str
    agency_id: str | None = None
    acknowledged_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.acknowledged_at, "acknowledged_at")
