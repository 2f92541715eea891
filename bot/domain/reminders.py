"""When the bot reminds an agency, and when it may speak at all: the reminder schedule,
quiet hours and digests. Pure: dates in, decisions out; the services load and queue.

- **Occasions.** An open action is reminded a few days before it is due, on its due date
  and every few days while overdue; an information request a few days before and on its
  due date; before each meeting every agency with open actions gets one status request.
  Each occasion is a day in the panel's time zone, and only the latest occasion that has
  come is sent (a late run does not send "due in 3 days" for an action due today).
- **Keys.** Each reminder has a key (`remind:<id>:<kind>:<day>`) that the services record
  once, so a second run queues nothing twice.
- **Quiet hours.** Nothing goes out at night, at weekends or on bank holidays in the
  panel's time zone; what falls due then waits for the next allowed time. A run in quiet
  hours looks ahead to the day of that next allowed time, so that a weekend's reminders
  reach a person together on Monday morning.
- **Digests.** Reminders for one person that go at the same time go as one card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import require_aware
from bot.domain.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Container, Iterable
    from zoneinfo import ZoneInfo

MONDAY_TO_FRIDAY = frozenset(range(5))
# Never look further for the next allowed time than this (a misconfiguration, not a week).
_SEARCH_DAYS = 400


class ReminderKind(StrEnum):
    BEFORE = "before"  # some days before an action is due
    DUE = "due"  # on its due date
    OVERDUE = "overdue"  # every few days while overdue
    STATUS = "status"  # before a meeting: all of an agency's open actions
    INFO_BEFORE = "info-before"  # some days before an information request is due
    INFO_DUE = "info-due"  # on its due date
    ESCALATE = "escalate"  # overdue past the limit: the coordinator hears of it


@dataclass(frozen=True)
class QuietHours:
    """When the bot may send messages: from `start` until `end` on `workdays`, never on
    the holidays it is given."""

    start: time = time(8, 0)
    end: time = time(18, 0)
    workdays: frozenset[int] = MONDAY_TO_FRIDAY  # 0 = Monday

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise InvalidInput("Quiet hours: the day must start before it ends.")
        if not self.workdays or not self.workdays <= set(range(7)):
            raise InvalidInput("Quiet hours: name at least one working day (0 = Monday).")

    def allows(self, local: datetime, holidays: Container[date]) -> bool:
        """Whether a message may go at this local time."""
        day = local.date()
        return (
            day.weekday() in self.workdays
            and day not in holidays
            and self.start <= local.time().replace(tzinfo=None) < self.end
        )

    def open_day(self, day: date, holidays: Container[date]) -> bool:
        return day.weekday() in self.workdays and day not in holidays


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(text: str) -> time:
    hour, _, minute = text.strip().partition(":")
    return time(int(hour), int(minute or 0))


def parse_quiet_hours(hours: str, days: str = "Mon-Fri") -> QuietHours:
    """Quiet hours from configuration: `hours` when messages may go ("08:00-18:00") and the
    working days ("Mon-Fri", or a list such as "Mon,Tue,Thu")."""
    try:
        start_text, end_text = hours.split("-")
        start, end = _clock(start_text), _clock(end_text)
    except ValueError:
        raise InvalidInput(
            f"Quiet hours: write the working day as 08:00-18:00, not {hours!r}."
        ) from None
    workdays: set[int] = set()
    for part in (p.strip().lower() for p in days.split(",") if p.strip()):
        first, _, last = (side.strip()[:3] for side in part.partition("-"))
        if first not in _DAYS or (last and last not in _DAYS):
            raise InvalidInput(f"Quiet hours: {days!r} is not a list of days such as Mon-Fri.")
        low, high = _DAYS.index(first), _DAYS.index(last or first)
        if high < low:
            raise InvalidInput(f"Quiet hours: {days!r} runs backwards.")
        workdays.update(range(low, high + 1))
    return QuietHours(start=start, end=end, workdays=frozenset(workdays))


def next_allowed(
    at: datetime, zone: ZoneInfo, quiet: QuietHours, holidays: Container[date]
) -> datetime:
    """`at` if a message may go then; otherwise the start of the next allowed period, in
    the panel's zone (08:00 local on the next working day, whatever the clocks did)."""
    require_aware(at, "at")
    local = at.astimezone(zone)
    if quiet.allows(local, holidays):
        return at
    day = local.date()
    if local.time().replace(tzinfo=None) >= quiet.start or not quiet.open_day(day, holidays):
        day += timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        if quiet.open_day(day, holidays):
            return datetime.combine(day, quiet.start, tzinfo=zone)
        day += timedelta(days=1)
    raise InvalidInput("Quiet hours leave no time to send messages.")


@dataclass(frozen=True)
class ReminderSchedule:
    """The panel's reminder settings; None (or False) turns one off."""

    days_before_due: int | None = 3
    on_due_date: bool = True
    overdue_every_days: int | None = 3
    status_days_before_meeting: int | None = 5
    info_days_before_due: int | None = 2
    info_on_due_date: bool = True
    escalate_after_days: int | None = 14
    # An occasion missed for longer than this (the bot was down) is not sent late.
    lookback_days: int = 7
    quiet: QuietHours = field(default_factory=QuietHours)

    def __post_init__(self) -> None:
        for name in (
            "days_before_due",
            "overdue_every_days",
            "status_days_before_meeting",
            "info_days_before_due",
            "escalate_after_days",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidInput(f"Reminders: {name} must be at least 1 (or off).")
        if self.lookback_days < 0:
            raise InvalidInput("Reminders: lookback_days cannot be negative.")


def _latest(
    occasions: Iterable[tuple[ReminderKind, date]], horizon: date, lookback: int
) -> tuple[ReminderKind, date] | None:
    come = [(day, kind) for kind, day in occasions if horizon - timedelta(days=lookback) <= day]
    come = [(day, kind) for day, kind in come if day <= horizon]
    if not come:
        return None
    day, kind = max(come)
    return kind, day


def action_occasion(
    due_on: date, horizon: date, schedule: ReminderSchedule
) -> tuple[ReminderKind, date] | None:
    """The latest reminder occasion of an open action due on `due_on` that has come by
    `horizon` (and is not older than the lookback); None when there is none."""
    occasions: list[tuple[ReminderKind, date]] = []
    if schedule.days_before_due:
        occasions.append((ReminderKind.BEFORE, due_on - timedelta(days=schedule.days_before_due)))
    if schedule.on_due_date:
        occasions.append((ReminderKind.DUE, due_on))
    every = schedule.overdue_every_days
    if every and horizon > due_on:
        latest = due_on + timedelta(days=(horizon - due_on).days // every * every)
        if latest > due_on:
            occasions.append((ReminderKind.OVERDUE, latest))
    return _latest(occasions, horizon, schedule.lookback_days)


def info_occasion(
    due_day: date, horizon: date, schedule: ReminderSchedule
) -> tuple[ReminderKind, date] | None:
    """The latest reminder occasion of an open information request due on `due_day`."""
    occasions: list[tuple[ReminderKind, date]] = []
    if schedule.info_days_before_due:
        occasions.append(
            (ReminderKind.INFO_BEFORE, due_day - timedelta(days=schedule.info_days_before_due))
        )
    if schedule.info_on_due_date:
        occasions.append((ReminderKind.INFO_DUE, due_day))
    return _latest(occasions, horizon, schedule.lookback_days)


def status_occasion(meeting_day: date, horizon: date, schedule: ReminderSchedule) -> date | None:
    """The day of the status request before a meeting on `meeting_day`, once it has come
    (and until the meeting); None otherwise."""
    if not schedule.status_days_before_meeting:
        return None
    day = meeting_day - timedelta(days=schedule.status_days_before_meeting)
    if day <= horizon < meeting_day and horizon - day <= timedelta(days=schedule.lookback_days):
        return day
    return None


def escalation_due(due_on: date, today: date, schedule: ReminderSchedule) -> bool:
    """Whether an open action is overdue past the limit, so the coordinator hears of it."""
    limit = schedule.escalate_after_days
    return limit is not None and (today - due_on).days > limit


def reminder_key(subject_id: str, kind: ReminderKind, day: date) -> str:
    """The reminder's unique key: one reminder per subject, kind and day."""
    return f"remind:{subject_id}:{kind.value}:{day.isoformat()}"


def due_phrase(due_on: date, day: date) -> str:
    """How an action's date reads on `day`: "due in 3 days", "due today", "overdue by 2 days"."""
    days = (due_on - day).days
    if days > 1:
        return f"due in {days} days"
    if days == 1:
        return "due tomorrow"
    if days == 0:
        return "due today"
    late = -days
    return f"overdue by {late} day{'s' if late != 1 else ''}"


@dataclass(frozen=True)
class Reminder:
    """One reminder for one person: what it is about and when it may go."""

    key: str
    kind: ReminderKind
    recipient_id: str
    agency_id: str
    subject_id: str  # an action, an information request, or a meeting
    day: date
    send_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.send_at, "send_at")


@dataclass(frozen=True)
class Digest:
    """The reminders that go to one person at one time: one card."""

    recipient_id: str
    send_at: datetime
    reminders: tuple[Reminder, ...]

    @property
    def key(self) -> str:
        """Unique per person and set of reminders (the same reminders never go twice)."""
        keys = "\n".join(sorted(r.key for r in self.reminders))
        digest = hashlib.sha256(keys.encode()).hexdigest()[:20]
        return f"digest:{self.recipient_id}:{self.send_at.isoformat()}:{digest}"

    @property
    def has_status_request(self) -> bool:
        return any(r.kind is ReminderKind.STATUS for r in self.reminders)


def digests(reminders: Iterable[Reminder]) -> list[Digest]:
    """Group reminders by person and sending time, each reminder once; in a stable order
    (soonest first, then by person)."""
    groups: dict[tuple[str, datetime], dict[str, Reminder]] = {}
    for reminder in reminders:
        group = groups.setdefault((reminder.recipient_id, reminder.send_at), {})
        group.setdefault(reminder.key, reminder)
    return [
        Digest(recipient, send_at, tuple(sorted(group.values(), key=lambda r: (r.day, r.key))))
        for (recipient, send_at), group in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0]))
    ]


@dataclass(kw_only=True)
class SentReminder:
    """A reminder the bot queued (so a later run does not queue it again)."""

    panel_id: str
    key: str
    kind: ReminderKind
    subject_id: str
    recipient_member_id: str | None = None
    day: date
    created_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")


@dataclass(kw_only=True)
class ActionCardCopy:
    """An outbox row that carries an action's card to someone: the copies to update when
    the action changes."""

    panel_id: str
    action_id: str
    delivery_id: str
    member_id: str | None = None
    created_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
