"""The records feature's read side: a quarter's figures (the card and the CSV) and what is
held about one person (for a subject access search, its export and an erasure's preview).

Nothing here changes a record or writes the audit trail: the use cases (stats,
dataprotection) record each view and download in the unit of work they read it in.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.case import CLOSURE_LABELS, Case, ClosureReason
from bot.domain.referral import DECLINE_LABELS, DeclineReason
from bot.domain.retention import Person, entries
from bot.domain.risk import RiskLevel
from bot.domain.stats import Quarter, QuarterStats, quarter_stats
from bot.features.records.sar_export import Hearing, Holding, Lookups, counted, total
from bot.kernel.localtime import born_text, local_day
from cards.stats import (
    ACCENT,
    ATTENTION,
    EMPHASIS,
    GOOD,
    WARNING,
    Bar,
    Chart,
    Segment,
    StackedBar,
    StackedChart,
    StatsView,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.domain.audit import AuditEvent
    from bot.domain.meeting import Meeting
    from bot.domain.minutes import Minutes
    from bot.domain.panel import Agency, Panel
    from bot.kernel.ports import UnitOfWork

# ---- the quarter's figures ---------------------------------------------------------------------


NO_AGENCY = "No agency recorded"


RISK_STYLES: Mapping[RiskLevel, str] = {
    RiskLevel.HIGH: ATTENTION,
    RiskLevel.MEDIUM: WARNING,
    RiskLevel.STANDARD: GOOD,
}


ACTION_PARTS: tuple[tuple[str, str, str], ...] = (
    ("on_time", GOOD, "done on time"),
    ("late", WARNING, "done late"),
    ("overdue", ATTENTION, "overdue"),
    ("open", ACCENT, "not yet due"),
    ("cancelled", EMPHASIS, "cancelled"),
)


NOTES = (
    "Received: referrals sent to the panel in the quarter. Decisions: made in the quarter. "
    "Risk levels and children: cases opened in the quarter. A repeat: one of its people had "
    "a case that closed in the 12 months before. Actions: those due in the quarter.",
    "Counts only: nothing here names or describes a person.",
)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def _days(figures: QuarterStats) -> str:
    heard = len(figures.days_to_first_hearing)
    if not heard:
        return "no case first heard"
    median = figures.median_days
    shown = f"{median:g}" if median is not None else "—"
    cases = "case" if heard == 1 else "cases"
    return f"median {shown}, longest {figures.longest_days} ({heard} {cases})"


def period_text(quarter: Quarter, to_date: bool) -> str:
    """e.g. "1 Oct – 31 Dec 2026 (to date)"."""
    first, last = quarter.first_day, quarter.last_day
    text = f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return text + (" (to date)" if to_date else "")


def _agency_name(agencies: Mapping[str, Agency], agency_id: str | None) -> str:
    found = agencies.get(agency_id or "")
    return found.name if found else NO_AGENCY


def stats_view(
    panel: Panel,
    figures: QuarterStats,
    agencies: Mapping[str, Agency],
    *,
    csv_url: str | None,
    now: datetime,
) -> StatsView:
    """The card's content: headline facts, then one chart per question."""
    quarter = figures.quarter
    by_agency = sorted(
        ((_agency_name(agencies, a), n) for a, n in figures.by_agency.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    decided = figures.accepted + figures.declined + figures.withdrawn
    headline = [
        ("Referrals received", str(figures.received)),
        (
            "Accepted · declined · withdrawn",
            f"{figures.accepted} · {figures.declined} · {figures.withdrawn}"
            + (f" (of {decided} decided)" if decided else ""),
        ),
        (
            "Repeat referrals",
            f"{figures.repeats} of {figures.received} "
            f"({_percent(figures.repeats, figures.received)})",
        ),
        ("Days from referral to first hearing", _days(figures)),
        (
            "New cases with children",
            f"{figures.with_children} of {figures.new_cases} "
            f"({_percent(figures.with_children, figures.new_cases)})",
        ),
        ("Urgent meetings", str(figures.urgent_meetings)),
    ]
    charts = [
        Chart(
            "Referrals received, by agency",
            [Bar(name, n) for name, n in by_agency],
            style=ACCENT,
        ),
        Chart(
            "Declined, by reason",
            [
                Bar(label, figures.decline_reasons[reason])
                for reason, label in DECLINE_LABELS.items()
                if figures.decline_reasons.get(reason)
            ],
            style=WARNING,
        ),
        Chart(
            "New cases, by risk level",
            [
                Bar(level.value.capitalize(), figures.risk_levels[level], style=RISK_STYLES[level])
                for level in (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD)
                if figures.risk_levels.get(level)
            ],
        ),
        Chart(
            "Cases closed, by reason",
            [
                Bar(label, figures.closures[reason])
                for reason, label in CLOSURE_LABELS.items()
                if figures.closures.get(reason)
            ],
            style=GOOD,
        ),
    ]
    rows = []
    for agency_id, tally in sorted(
        figures.actions.items(),
        key=lambda pair: (-pair[1].total, _agency_name(agencies, pair[0])),
    ):
        segments = [Segment(getattr(tally, part), style) for part, style, _ in ACTION_PARTS]
        rows.append(
            StackedBar(
                _agency_name(agencies, agency_id),
                segments,
                f"{tally.on_time}/{tally.total}",
            )
        )
    stacked = StackedChart(
        "Actions due this quarter, by agency (done on time / all)",
        rows,
        legend=[(style, meaning) for _, style, meaning in ACTION_PARTS],
    )
    current = Quarter.of(local_day(now, panel))
    created = Quarter.of(local_day(panel.created_at, panel))
    return StatsView(
        panel_name=panel.name,
        quarter=quarter.label,
        period=period_text(quarter, figures.to_date),
        headline=headline,
        charts=charts,
        stacked=[stacked],
        csv_url=csv_url,
        previous=quarter.previous().label if quarter > created else None,
        next=quarter.next().label if quarter < current else None,
        notes=NOTES,
    )


def _cell(value: str) -> str:
    """A spreadsheet reads a cell starting = + - @ as a formula: never let it."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


def stats_csv(panel: Panel, figures: QuarterStats, agencies: Mapping[str, Agency]) -> bytes:
    """The figures as CSV: one row per measure (panel, quarter, measure, group, value)."""
    rows: list[tuple[str, str, str]] = [("referrals_received", "", str(figures.received))]
    rows += [
        ("referrals_by_agency", _agency_name(agencies, a), str(n))
        for a, n in sorted(figures.by_agency.items(), key=lambda p: _agency_name(agencies, p[0]))
    ]
    rows += [
        ("decisions", "accepted", str(figures.accepted)),
        ("decisions", "declined", str(figures.declined)),
        ("decisions", "withdrawn", str(figures.withdrawn)),
    ]
    rows += [
        ("declined_by_reason", DECLINE_LABELS[reason], str(figures.decline_reasons.get(reason, 0)))
        for reason in DeclineReason
    ]
    rows += [
        ("new_cases_by_risk_level", level.value, str(figures.risk_levels.get(level, 0)))
        for level in RiskLevel
    ]
    rate = figures.repeat_rate
    rows += [
        ("repeat_referrals", "", str(figures.repeats)),
        ("repeat_rate_percent", "", f"{100 * rate:.1f}" if rate is not None else ""),
        ("cases_first_heard", "", str(len(figures.days_to_first_hearing))),
        (
            "days_to_first_hearing_median",
            "",
            f"{figures.median_days:g}" if figures.median_days is not None else "",
        ),
        (
            "days_to_first_hearing_longest",
            "",
            str(figures.longest_days) if figures.longest_days is not None else "",
        ),
    ]
    for agency_id, tally in sorted(
        figures.actions.items(), key=lambda p: _agency_name(agencies, p[0])
    ):
        name = _agency_name(agencies, agency_id)
        rows += [
            (f"actions_{part}", name, str(getattr(tally, part))) for part, _, _ in ACTION_PARTS
        ]
    rows += [
        ("cases_closed_by_reason", reason.value, str(figures.closures.get(reason, 0)))
        for reason in ClosureReason
    ]
    rows += [
        ("new_cases", "", str(figures.new_cases)),
        ("new_cases_with_children", "", str(figures.with_children)),
        ("urgent_meetings", "", str(figures.urgent_meetings)),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("panel", "quarter", "measure", "group", "value"))
    for measure, group, value in rows:
        writer.writerow((_cell(panel.name), figures.quarter.label, measure, _cell(group), value))
    return out.getvalue().encode("utf-8")


async def quarter_figures(
    uow: UnitOfWork, panel: Panel, quarter: Quarter, now: datetime
) -> QuarterStats:
    """Load what the figures are counted from and count them (six statements)."""
    return quarter_stats(
        quarter,
        referrals=await uow.referrals.all(panel.id),
        cases=await uow.reports.cases(panel.id),
        actions=await uow.reports.actions_due_between(
            panel.id, quarter.first_day, quarter.last_day
        ),
        frozen_repeats=await uow.data_protection.frozen_repeats(panel.id),
        zone=ZoneInfo(panel.timezone),
        now=now,
        meetings=await uow.meetings.upcoming(
            panel.id, quarter.bounds(ZoneInfo(panel.timezone))[0], limit=200
        ),
    )


# ---- what is held about a person ---------------------------------------------------------------


async def holdings(
    uow: UnitOfWork, panel: Panel, person: Person, now: datetime, *, with_access: bool = True
) -> list[Holding]:
    """Every referral about `person`, with its case and what hangs off it."""
    found: list[Holding] = []
    for referral in await uow.data_protection.referrals_concerning(panel.id, person):
        case = await uow.cases.get(panel.id, referral.case_id) if referral.case_id else None
        if case is None:
            seen = await uow.audit.for_entity(panel.id, "referral", referral.id)
            found.append(Holding(referral, access=seen if with_access else ()))
            continue
        actions = await uow.actions.for_case(panel.id, case.id)
        action_ids = {a.id for a in actions}
        written = await minutes_about(uow, panel, case, list(action_ids), now)
        minutes_of = {meeting.id: minutes for meeting, minutes in written}
        hearings: list[Hearing] = []
        for item in await uow.meetings.items_for_cases(panel.id, [case.id]):
            meeting = await uow.meetings.get(panel.id, item.meeting_id)
            if meeting is None:
                continue
            minutes = minutes_of.get(meeting.id) or await uow.meetings.minutes(panel.id, meeting.id)
            entries = minutes.cases if minutes else []
            entry = next((c for c in entries if c.case_id == case.id), None)
            hearings.append(Hearing(meeting, item, entry))
        unmet = [
            (meeting, outcome)
            for meeting, minutes in written
            for outcome in minutes.unmet
            if outcome.action_id in action_ids
        ]
        trail: list[AuditEvent] = []
        if with_access:
            trail = [
                *await uow.audit.for_entity(panel.id, "referral", referral.id),
                *await uow.audit.for_entity(panel.id, "case", case.id),
            ]
            trail.sort(key=lambda e: e.at)
        found.append(
            Holding(
                referral=referral,
                case=case,
                requests=await uow.information_requests.for_case(panel.id, case.id),
                actions=actions,
                hearings=sorted(hearings, key=lambda h: h.meeting.starts_at),
                unmet=unmet,
                access=trail,
            )
        )
    return found


async def lookups(uow: UnitOfWork, panel: Panel) -> Lookups:
    """The names of the panel's agencies and members, and its zone, for an export."""
    return Lookups(
        agencies={a.id: a for a in await uow.agencies.all(panel.id)},
        members={m.id: m for m in await uow.members.all(panel.id)},
        zone=ZoneInfo(panel.timezone),
    )


def _roles_in(holding: Holding, person: Person) -> list[str]:
    subjects, children = entries(holding.referral)
    roles = list(dict.fromkeys(s.role.value for s in subjects if person.is_subject(s)))
    if any(person.is_child(c) for c in children):
        roles.append("child in the household")
    return roles


def found_lines(holdings: Sequence[Holding], person: Person) -> list[str]:
    """e.g. "Victim in RF-2026-0047 (accepted): case CM-2026-014, open"."""
    lines = []
    for holding in holdings:
        referral = holding.referral
        roles = " and ".join(_roles_in(holding, person)) or "named"
        line = f"{roles.capitalize()} in {referral.reference} ({referral.status.value})"
        if holding.case is not None:
            line += f": case {holding.case.reference}, {holding.case.status.value}"
        lines.append(line)
    return lines


def count_facts(holdings: Sequence[Holding]) -> list[tuple[str, str]]:
    """How many of each kind of record were found, as the result card lists them."""
    found = total(holdings)
    return [
        ("Referrals", str(found["referrals"])),
        ("Cases", str(found["cases"])),
        ("Agencies' answers", str(found["information_requests"])),
        ("Actions", str(found["actions"])),
        ("Meetings", str(found["meetings"])),
    ]


def found_summary(holdings: Sequence[Holding]) -> str:
    """e.g. "2 referrals, 1 case": what an audit event may say of what was found."""
    found = total(holdings)
    return f"{counted(found['referrals'], 'referrals')}, {counted(found['cases'], 'cases')}"


# Unmet actions are listed at the meetings after their case's; a case closed this long ago
# has nothing of its own in later minutes.
AFTER_CLOSURE = timedelta(days=120)


MEETINGS_PER_CASE = 200


async def minutes_about(
    uow: UnitOfWork, panel: Panel, case: Case, action_ids: Sequence[str], now: datetime
) -> list[tuple[Meeting, Minutes]]:
    """The minutes that say something of the case: its own entry, or one of its actions
    carried as unmet to a later meeting."""
    end = (case.closed_at or now) + AFTER_CLOSURE
    meetings = await uow.meetings.upcoming(
        panel.id, case.opened_at - timedelta(days=1), limit=MEETINGS_PER_CASE
    )
    actions = set(action_ids)
    found: list[tuple[Meeting, Minutes]] = []
    for meeting in meetings:
        if meeting.starts_at > end:
            break
        minutes = await uow.meetings.minutes(panel.id, meeting.id)
        if minutes is None:
            continue
        if any(c.case_id == case.id for c in minutes.cases) or any(
            u.action_id in actions for u in minutes.unmet
        ):
            found.append((meeting, minutes))
    return found


def born(day: date | None) -> str:
    """ "2 Sep 1986"; "" when not recorded."""
    return born_text(day) if day else ""


def shown_postcode(person: Person, found: Sequence[Holding]) -> str | None:
    """For someone recorded without a date of birth, the postcode they were recorded at,
    as recorded (it tells them apart from a namesake)."""
    if person.date_of_birth or person.postcode is None:
        return None
    for holding in found:
        for subject in entries(holding.referral)[0]:
            if person.is_subject(subject) and subject.postcode:
                return subject.postcode
    return person.postcode
