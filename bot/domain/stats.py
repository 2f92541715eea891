"""The panel's quarterly figures (DOMAIN.md, "Reports the panel is asked for").

Counts only: nothing here names or describes a person. Every figure is defined once, here,
in the panel's time zone:

- **received**: referrals sent to the panel in the quarter (submitted, whatever became of
  them; a referral sent back and sent again counts when it was last sent), by referring
  agency;
- **decisions**: referrals accepted, declined (with the reasons) or withdrawn in the quarter,
  whenever they were received (a draft withdrawn before it was sent is not counted);
- **risk levels**: the cases opened in the quarter, by their risk level now;
- **repeat rate**: the share of the referrals received that were repeats: a subject of the
  referral (same normalised name, and date of birth or postcode) had a case that closed in
  the 12 months before it was sent (bot.domain.matching). A referral whose people have been
  anonymised or erased keeps the answer recorded before (`frozen`);
- **days to first hearing**: for the cases first heard in the quarter, the days from the
  referral being sent (the case opening, without one) to that hearing; median and longest;
- **actions**: the actions due in the quarter, by owner agency: done by their due date, done
  late, overdue (still open after it), still open and not yet due, cancelled;
- **closures**: the cases closed in the quarter, by reason;
- **children**: of the cases opened in the quarter, those with children in the household;
- **urgent meetings**: the urgent meetings held or to be held in the quarter (not cancelled).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.domain.action import Action, ActionStatus
from bot.domain.errors import InvalidInput
from bot.domain.matching import MatchKind, classify_matches, match_basis
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.referral import DeclineReason, Referral, ReferralStatus, Subject

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from bot.domain.case import Case, ClosureReason
    from bot.domain.risk import RiskLevel

_QUARTER = re.compile(r"^(\d{4})[- ]?q([1-4])$|^q([1-4])[- ]?(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, e.g. 2026-Q3 (July to September)."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 1900 <= self.year <= 9999:
            raise InvalidInput("A quarter is written like 2026-Q3.")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """`2026-Q3`, `2026Q3`, `Q3 2026` (any case)."""
        found = _QUARTER.match(text.strip())
        if found is None:
            raise InvalidInput(f"Write the quarter like 2026-Q3, not {text.strip()[:20]}.")
        year, number = (found.group(1), found.group(2)) if found.group(1) else found.group(4, 3)
        return cls(int(year), int(number))

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    def contains_day(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def contains(self, at: datetime | None, zone: ZoneInfo) -> bool:
        """Whether an instant falls in the quarter, read in the panel's zone."""
        return at is not None and self.contains_day(at.astimezone(zone).date())

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The first instant of the quarter and of the next one, in the panel's zone."""
        return (
            datetime.combine(self.first_day, time(0), zone),
            datetime.combine(self.next().first_day, time(0), zone),
        )


@dataclass(frozen=True)
class ActionTally:
    """One agency's actions due in the quarter."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0
    cancelled: int = 0
    # Passed back to the agency when the panel closed the case.
    passed_back: int = 0

    @property
    def total(self) -> int:
        return (
            self.on_time + self.late + self.overdue + self.open + self.cancelled + self.passed_back
        )


@dataclass(frozen=True)
class QuarterStats:
    """The figures of one quarter. Agencies are keyed by id (None: no agency recorded)."""

    quarter: Quarter
    to_date: bool  # the quarter has not ended yet
    received: int
    by_agency: Mapping[str | None, int]
    accepted: int
    declined: int
    withdrawn: int
    decline_reasons: Mapping[DeclineReason, int]
    risk_levels: Mapping[RiskLevel, int]
    repeats: int
    days_to_first_hearing: Sequence[int]
    actions: Mapping[str, ActionTally]
    closures: Mapping[ClosureReason, int]
    new_cases: int
    with_children: int
    repeat_ids: frozenset[str] = field(default=frozenset(), repr=False)
    urgent_meetings: int = 0

    @property
    def repeat_rate(self) -> float | None:
        """Repeats over referrals received; None when none were received."""
        return self.repeats / self.received if self.received else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_first_hearing) if self.days_to_first_hearing else None

    @property
    def longest_days(self) -> int | None:
        return max(self.days_to_first_hearing) if self.days_to_first_hearing else None


# ---- repeats ------------------------------------------------------------------------------


def _sent(referral: Referral) -> bool:
    return referral.submitted_at is not None and referral.status is not ReferralStatus.DRAFT


def repeat_ids(referrals: Iterable[Referral], cases: Mapping[str, Case]) -> set[str]:
    """The referrals (of those ever sent) that were repeats when they were sent.

    Each is matched against the panel's other referrals with bot.domain.matching, seeing
    only the cases that had closed by the time it was sent: a repeat is a match whose case
    closed in the 12 months before.
    """
    sent = [r for r in referrals if _sent(r)]
    by_name: dict[str, list[tuple[Referral, Subject]]] = defaultdict(list)
    for referral in sent:
        for subject in referral.subjects:
            if subject.match_name:
                by_name[subject.match_name].append((referral, subject))
    found: set[str] = set()
    for referral in sent:
        at = referral.submitted_at
        assert at is not None  # _sent
        hits = [
            (subject, earlier, earlier_subject)
            for subject in referral.subjects
            for earlier, earlier_subject in by_name.get(subject.match_name, [])
            if earlier.id != referral.id
        ]
        if not hits:
            continue
        closed_by_then = {
            case.id: case
            for _, earlier, _ in hits
            if (case := cases.get(earlier.case_id or "")) is not None
            and case.closed_at is not None
            and case.closed_at <= at
        }
        matches = classify_matches(referral, hits, closed_by_then, at)
        if any(m.kind is MatchKind.REPEAT for m in matches):
            found.add(referral.id)
    return found


def was_repeat(referral_id: str, live: set[str], frozen: Mapping[str, bool]) -> bool:
    """A referral's repeat answer: the one recorded before its people were anonymised or
    erased, or else what matching says now."""
    return frozen.get(referral_id, referral_id in live)


# ---- the quarter ----------------------------------------------------------------------------


def _tally(actions: Iterable[Action], today: date, zone: ZoneInfo) -> dict[str, ActionTally]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for action in actions:
        bucket = counts[action.owner_agency_id]
        if action.status is ActionStatus.CANCELLED:
            bucket["cancelled"] += 1
        elif action.status is ActionStatus.PASSED_BACK:
            bucket["passed_back"] += 1
        elif action.status is ActionStatus.DONE:
            done = action.completed_at
            done_on = done.astimezone(zone).date() if done is not None else action.due_on
            bucket["on_time" if done_on <= action.due_on else "late"] += 1
        elif action.due_on < today:
            bucket["overdue"] += 1
        else:
            bucket["open"] += 1
    return {agency: ActionTally(**dict(bucket)) for agency, bucket in counts.items()}


def quarter_stats(
    quarter: Quarter,
    *,
    referrals: Sequence[Referral],
    cases: Sequence[Case],
    actions: Sequence[Action],
    frozen_repeats: Mapping[str, bool],
    zone: ZoneInfo,
    now: datetime,
    meetings: Sequence[Meeting] = (),
) -> QuarterStats:
    """The quarter's figures from the panel's records (every referral and case of the
    panel, so repeats can be matched; the actions due in the quarter)."""
    today = now.astimezone(zone).date()
    by_id = {case.id: case for case in cases}
    received = [r for r in referrals if _sent(r) and quarter.contains(r.submitted_at, zone)]
    live = repeat_ids(referrals, by_id)
    repeats = {r.id for r in received if was_repeat(r.id, live, frozen_repeats)}

    decided = [
        r for r in referrals if r.submitted_at is not None and quarter.contains(r.decided_at, zone)
    ]
    statuses = Counter(r.status for r in decided)
    reasons = Counter(
        r.decline_reason
        for r in decided
        if r.status is ReferralStatus.DECLINED and r.decline_reason is not None
    )

    opened = [c for c in cases if quarter.contains(c.opened_at, zone)]
    referral_of = {r.id: r for r in referrals}
    days: list[int] = []
    for case in cases:
        if case.first_heard_at is None or not quarter.contains(case.first_heard_at, zone):
            continue
        referral = referral_of.get(case.referral_id or "")
        start = referral.submitted_at if referral and referral.submitted_at else case.opened_at
        heard = case.first_heard_at.astimezone(zone).date()
        days.append((heard - start.astimezone(zone).date()).days)

    due = [a for a in actions if quarter.contains_day(a.due_on)]
    closed = [
        c for c in cases if c.closure_reason is not None and quarter.contains(c.closed_at, zone)
    ]
    return QuarterStats(
        quarter=quarter,
        to_date=today <= quarter.last_day,
        received=len(received),
        by_agency=dict(Counter(r.referring_agency_id for r in received)),
        accepted=statuses[ReferralStatus.ACCEPTED],
        declined=statuses[ReferralStatus.DECLINED],
        withdrawn=statuses[ReferralStatus.WITHDRAWN],
        decline_reasons=dict(reasons),
        risk_levels=dict(Counter(c.risk_level for c in opened)),
        repeats=len(repeats),
        days_to_first_hearing=sorted(days),
        actions=_tally(due, today, zone),
        closures=dict(Counter(c.closure_reason for c in closed if c.closure_reason)),
        new_cases=len(opened),
        with_children=sum(1 for c in opened if c.has_children),
        repeat_ids=frozenset(repeats),
        urgent_meetings=sum(
            1
            for m in meetings
            if m.urgent
            and m.status is not MeetingStatus.CANCELLED
            and quarter.contains(m.starts_at, zone)
        ),
    )


def linked_referrals(targets: Iterable[Referral], referrals: Iterable[Referral]) -> set[str]:
    """The sent referrals whose repeat answer may hang on `targets`' people: the targets
    themselves and every referral with a subject matching one of theirs (same normalised
    name, and date of birth or postcode). Kept before those people are anonymised."""
    targets = list(targets)
    found = {t.id for t in targets if _sent(t)}
    people = [s for t in targets for s in t.subjects if s.match_name]
    by_name: dict[str, list[Subject]] = defaultdict(list)
    for subject in people:
        by_name[subject.match_name].append(subject)
    for referral in referrals:
        if referral.id in found or not _sent(referral):
            continue
        if any(
            match_basis(subject, other) is not None
            for subject in referral.subjects
            for other in by_name.get(subject.match_name, [])
        ):
            found.add(referral.id)
    return found
