"""When a panel meets: its schedule as configuration, and the meetings that follow from it.

Pure: the bank holidays come in as dates (the services layer asks a holiday library), so
this module imports nothing outside the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput
from bot.domain.panel import DEFAULT_TIMEZONE

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# A shifted meeting never waits longer than this for a working day (guards bad holiday data).
_MAX_SHIFT_DAYS = 14


class ScheduleError(InvalidInput):
    """The schedule configuration cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class MonthlyRule:
    """The nth weekday of every month (nth 1 to 4), or the last one (nth -1)."""

    weekday: int  # Monday is 0, as in date.weekday()
    nth: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 4:
            raise ScheduleError("A panel meets Monday to Friday.", {"rule": "invalid"})
        if self.nth not in ORDINAL_NAMES:
            # A fifth weekday is missing from most months, so a rule cannot ask for one.
            raise ScheduleError(
                "A monthly rule names the first to fourth, or the last, weekday of the month.",
                {"rule": "invalid"},
            )

    def day_in(self, year: int, month: int) -> date:
        """The rule's date in one month."""
        if self.nth > 0:
            first = date(year, month, 1)
            return first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1))
        last = _month_after(year, month) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - self.weekday) % 7)

    def describe(self) -> str:
        """In words, e.g. "second Tuesday of the month"."""
        return f"{ORDINAL_NAMES[self.nth]} {WEEKDAYS[self.weekday].capitalize()} of the month"


@dataclass(frozen=True, kw_only=True)
class MeetingSchedule:
    """A panel's meeting pattern: a monthly rule or explicit dates, when and how long the
    meeting runs, and how many days before it new referrals are due."""

    rule: MonthlyRule | None = None
    dates: tuple[date, ...] = ()
    start: time = time(10, 0)
    length_minutes: int = 120
    deadline_days: int = 8
    timezone: str = DEFAULT_TIMEZONE
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.rule is None) == (not self.dates):
            raise ScheduleError(
                "A schedule has either a monthly rule or a list of dates, not both or neither.",
                {"rule": "invalid", "dates": "invalid"},
            )
        if len(set(self.dates)) != len(self.dates):
            raise ScheduleError("A date is listed twice.", {"dates": "invalid"})
        weekend = [d for d in self.dates if d.weekday() >= 5]
        if weekend:
            raise ScheduleError(
                f"{weekend[0]:%a %d %b %Y} is a weekend day; a panel meets Monday to Friday.",
                {"dates": "invalid"},
            )
        object.__setattr__(self, "dates", tuple(sorted(self.dates)))
        if self.start.tzinfo is not None:
            raise ScheduleError(
                "The start time is a local time, without a zone.", {"start": "invalid"}
            )
        if not 15 <= self.length_minutes <= 12 * 60:
            raise ScheduleError(
                "A meeting lasts from 15 minutes to 12 hours.", {"length_minutes": "invalid"}
            )
        if not 0 <= self.deadline_days <= 60:
            raise ScheduleError(
                "The referral deadline is 0 to 60 days before the meeting.",
                {"deadline_days": "invalid"},
            )
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"'{self.timezone[:60]}' is not a known time zone.", {"timezone": "invalid"}
            ) from None
        object.__setattr__(self, "_zone", zone)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def describe(self) -> str:
        """In words, e.g. "second Tuesday of the month, 10:00 for 120 minutes"."""
        when = self.rule.describe() if self.rule else f"{len(self.dates)} chosen dates"
        return f"{when}, {self.start:%H:%M} for {self.length_minutes} minutes"


@dataclass(frozen=True)
class PlannedMeeting:
    """One meeting the schedule calls for, with its times in the panel's zone."""

    on: date
    starts_at: datetime
    ends_at: datetime
    referral_deadline: datetime
    # The date the rule gave, when a bank holiday or weekend moved the meeting off it.
    shifted_from: date | None = None


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `zone`; a time skipped by a clock change moves forward."""
    naive = datetime.combine(day, at)
    # Round-tripping through UTC turns a wall time that does not exist (spring forward)
    # into the instant just after the gap instead of an invalid aware datetime.
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def plan_on(
    schedule: MeetingSchedule,
    day: date,
    start: time | None = None,
    *,
    shifted_from: date | None = None,
) -> PlannedMeeting:
    """The meeting on `day` (at the schedule's start unless `start` is given): it lasts the
    schedule's length, and referrals are due `deadline_days` days before at the same local
    time as the meeting starts, whatever the clocks did in between."""
    at = start or schedule.start
    starts_at = local_instant(day, at, schedule.zone)
    ends_at = (starts_at.astimezone(UTC) + timedelta(minutes=schedule.length_minutes)).astimezone(
        schedule.zone
    )
    deadline = local_instant(day - timedelta(days=schedule.deadline_days), at, schedule.zone)
    return PlannedMeeting(day, starts_at, ends_at, deadline, shifted_from)


def next_working_day(day: date, holidays: Collection[date]) -> date:
    """`day` itself if it is a weekday and no bank holiday, else the next day that is."""
    candidate = day
    for _ in range(_MAX_SHIFT_DAYS):
        if candidate.weekday() < 5 and candidate not in holidays:
            return candidate
        candidate += timedelta(days=1)
    raise ScheduleError(f"No working day within two weeks of {day.isoformat()}.")


def working_day_on_or_before(day: date, holidays: Collection[date]) -> date:
    """`day` itself if it is a weekday and no bank holiday, else the working day before it:
    where a due date falls (nobody answers on a Sunday)."""
    candidate = day
    for _ in range(_MAX_SHIFT_DAYS):
        if candidate.weekday() < 5 and candidate not in holidays:
            return candidate
        candidate -= timedelta(days=1)
    raise ScheduleError(f"No working day within two weeks before {day.isoformat()}.")


def next_meetings(
    schedule: MeetingSchedule,
    after: datetime,
    count: int = 6,
    holidays: Collection[date] = (),
) -> list[PlannedMeeting]:
    """The next `count` meetings starting after `after`, soonest first.

    A date that falls on a bank holiday moves to the next working day (Monday to Friday)
    that is not a bank holiday: a first Monday that is Easter Monday becomes the Tuesday, a
    meeting on Christmas Day moves past Boxing Day. A rule's date may so move into the next
    month; two dates that land on the same day make one meeting.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if count <= 0:
        return []
    found: list[PlannedMeeting] = []
    seen: set[date] = set()
    for scheduled in _candidate_days(schedule, after.astimezone(schedule.zone).date()):
        day = next_working_day(scheduled, holidays)
        if day in seen:
            continue
        planned = plan_on(schedule, day, shifted_from=scheduled if day != scheduled else None)
        if planned.starts_at <= after:
            continue
        seen.add(day)
        found.append(planned)
        if len(found) == count:
            break
    return found


def _candidate_days(schedule: MeetingSchedule, from_day: date) -> Iterator[date]:
    # Start early (a month, or two weeks): an earlier date may have been shifted past `after`.
    if schedule.rule is None:
        earliest = from_day - timedelta(days=_MAX_SHIFT_DAYS)
        yield from (d for d in schedule.dates if d >= earliest)
        return
    month_before = from_day.year * 12 + from_day.month - 2
    # Bounded: a rule gives one date a month, and callers ask for a handful of meetings.
    for index in range(month_before, month_before + 12 * 50):
        year, month0 = divmod(index, 12)
        yield schedule.rule.day_in(year, month0 + 1)


def _month_after(year: int, month: int) -> date:
    """The first day of the month after `month` of `year`."""
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


# --- configuration data ----------------------------------------------------------------

_KEYS = frozenset(
    {"rule", "dates", "start", "length_minutes", "referral_deadline_days", "timezone"}
)
_RULE = re.compile(r"^\s*(\S+)\s+(\S+?)(?:\s+of\s+(?:the|each|every)\s+month)?\s*$", re.I)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def schedule_from_data(
    data: Mapping[str, object], *, default_timezone: str = DEFAULT_TIMEZONE
) -> MeetingSchedule:
    """Read a schedule from configuration data, e.g.

    `{"rule": "second Tuesday", "start": "10:00", "length_minutes": 120,
    "referral_deadline_days": 8}` or `{"dates": ["2027-01-14", ...], "start": "14:00", ...}`.
    Unknown keys are refused so that a misspelt one is not silently ignored.
    """
    if not isinstance(data, Mapping):
        raise ScheduleError("A schedule is a set of named settings (a JSON object).")
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise ScheduleError(
            f"Unknown schedule setting: {', '.join(unknown)[:80]}. "
            f"Known: {', '.join(sorted(_KEYS))}.",
            {key: "unknown" for key in unknown},
        )
    rule = _rule(data["rule"]) if "rule" in data else None
    dates = _dates(data["dates"]) if "dates" in data else ()
    timezone = data.get("timezone", default_timezone)
    if not isinstance(timezone, str):
        raise ScheduleError("timezone is a name such as Europe/London.", {"timezone": "invalid"})
    return MeetingSchedule(
        rule=rule,
        dates=dates,
        start=_time(data.get("start", "10:00")),
        length_minutes=_whole(data, "length_minutes", 120),
        deadline_days=_whole(data, "referral_deadline_days", 8),
        timezone=timezone,
    )


def parse_rule(text: str) -> MonthlyRule:
    """A rule in words: "second Tuesday", "last Thursday", "1st monday of the month"."""
    match = _RULE.match(text)
    nth = ORDINALS.get(match.group(1).lower()) if match else None
    day = match.group(2).lower().rstrip("s") if match else ""
    weekday = next((i for i, name in enumerate(WEEKDAYS) if name.rstrip("s") == day), None)
    if nth is None or weekday is None:
        raise ScheduleError(
            f"rule '{text[:40]}' is not a monthly rule such as 'second Tuesday' or "
            "'last Thursday'.",
            {"rule": "invalid"},
        )
    return MonthlyRule(weekday=weekday, nth=nth)


def _rule(value: object) -> MonthlyRule:
    if isinstance(value, str):
        return parse_rule(value)
    if isinstance(value, Mapping) and set(value) == {"nth", "weekday"}:
        nth, weekday = value["nth"], value["weekday"]
        if isinstance(weekday, str) and weekday.lower() in WEEKDAYS:
            weekday = WEEKDAYS.index(weekday.lower())
        if isinstance(nth, int) and isinstance(weekday, int) and not isinstance(nth, bool):
            return MonthlyRule(weekday=weekday, nth=nth)
    raise ScheduleError(
        'rule is words such as \'second Tuesday\', or {"nth": 2, "weekday": "tuesday"}.',
        {"rule": "invalid"},
    )


def _dates(value: object) -> tuple[date, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ScheduleError("dates is a list of dates such as 2027-01-14.", {"dates": "invalid"})
    parsed: list[date] = []
    for item in value:
        try:
            parsed.append(date.fromisoformat(str(item)) if not isinstance(item, date) else item)
        except ValueError:
            raise ScheduleError(
                f"'{str(item)[:20]}' in dates is not a date such as 2027-01-14.",
                {"dates": "invalid"},
            ) from None
    return tuple(parsed)


def _time(value: object) -> time:
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ScheduleError("start is a 24-hour time such as 10:00 or 14:30.", {"start": "invalid"})
    return time(int(match.group(1)), int(match.group(2)))


def _whole(data: Mapping[str, object], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScheduleError(f"{key} is a whole number.", {key: "invalid"})
    return value
