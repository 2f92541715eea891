"""The caseload as the coordinator and the chair read it (the read side): each open case's
reference, lead agency, risk level, next hearing and overdue actions, filtered and sorted
by risk then next hearing. References, agencies, counts and dates only: no personal data.

A meeting's agenda is drawn up when someone first opens it (bot.features.meetings.agenda),
so a case not yet on any agenda is shown at the meeting the panel's rules make it due at,
marked "(due)"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.agenda import due_at, removed_by_hand
from bot.domain.meeting import NOT_STARTED, AgendaItemStatus, MeetingStatus
from bot.domain.risk import RiskLevel
from bot.features.caseload.commands import FilterKind, ListCases, agency_matches
from bot.kernel.localtime import day_text, local_day
from cards.caseload import CaseLine

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.case import Case
    from bot.domain.meeting import Meeting
    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork

PAGE_SIZE = 10
NOT_LISTED = "not listed"
# Said of a meeting a case is due at by the panel's rules, before its agenda lists it.
DUE = "(due)"
# How many coming meetings a case's next hearing is looked for in (half a year of monthly
# meetings).
COMING = 6
NO_LEAD = "not set"
# Highest risk first.
RISK_ORDER: dict[RiskLevel, int] = {RiskLevel.HIGH: 0, RiskLevel.MEDIUM: 1, RiskLevel.STANDARD: 2}
# A meeting a case can still be heard at.
STILL_TO_HEAR = NOT_STARTED | {MeetingStatus.IN_PROGRESS}


@dataclass(frozen=True)
class Caseload:
    """The open cases the filter keeps, sorted, and how the list is described."""

    lines: list[CaseLine]
    shows: str
    empty: str

    def pages(self) -> int:
        return max(1, -(-len(self.lines) // PAGE_SIZE))

    def page(self, number: int) -> list[CaseLine]:
        """One page of lines (a page past the end shows the last)."""
        number = min(max(number, 1), self.pages())
        return self.lines[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]


@dataclass(frozen=True)
class Hearing:
    """Where a case is heard next: on a meeting's agenda (`listed`), or due there by the
    panel's rules (bot.domain.agenda.due_at) before that agenda has been drawn up."""

    meeting: Meeting
    listed: bool


async def next_hearings(
    uow: UnitOfWork, panel: Panel, cases: list[Case], now: datetime
) -> dict[str, Hearing]:
    """Each case's next hearing: the soonest meeting not yet over whose agenda lists it;
    otherwise the first coming meeting it is due at, unless the coordinator took it off its
    latest agenda (then it waits until put back: not listed)."""
    items = await uow.meetings.items_for_cases(panel.id, [c.id for c in cases])
    wanted = {item.meeting_id for item in items}
    wanted |= {c.review_meeting_id for c in cases if c.review_meeting_id}
    meetings = {m.id: m for m in await uow.meetings.by_ids(panel.id, sorted(wanted))}
    coming = [m for m in await uow.meetings.upcoming(panel.id, now, COMING) if m.agenda_editable]
    meetings |= {m.id: m for m in coming}
    found: dict[str, Hearing] = {}
    for item in items:
        meeting = meetings.get(item.meeting_id)
        if (
            item.case_id is None
            or item.status is not AgendaItemStatus.PENDING
            or meeting is None
            or meeting.status not in STILL_TO_HEAR
        ):
            continue
        current = found.get(item.case_id)
        if current is None or meeting.starts_at < current.meeting.starts_at:
            found[item.case_id] = Hearing(meeting, listed=True)
    for case in cases:
        if case.id in found or removed_by_hand(case, items, meetings):
            continue
        review = meetings.get(case.review_meeting_id or "")
        on_agenda = {i.meeting_id for i in items if i.case_id == case.id}
        for meeting in coming:
            if meeting.id not in on_agenda and due_at(case, meeting, review) is not None:
                found[case.id] = Hearing(meeting, listed=False)
                break
    return found


def hearing_text(hearing: Hearing | None, panel: Panel) -> str:
    """e.g. 'Tue 8 Dec 2026', 'Tue 8 Dec 2026 (due)' or 'not listed'."""
    if hearing is None:
        return NOT_LISTED
    day = day_text(hearing.meeting.starts_at, panel)
    return day if hearing.listed else f"{day} {DUE}"


async def _agency_cases(uow: UnitOfWork, panel: Panel, agency_ids: set[str]) -> set[str]:
    """The cases with an open action owned by one of these agencies."""
    found: set[str] = set()
    for agency_id in sorted(agency_ids):
        found |= {a.case_id for a in await uow.actions.open_for_agency(panel.id, agency_id)}
    return found


async def caseload(uow: UnitOfWork, panel: Panel, wanted: ListCases, now: datetime) -> Caseload:
    """The panel's open cases the filter keeps, highest risk then soonest hearing first."""
    cases = await uow.cases.list_open(panel.id)
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    today = local_day(now, panel)
    overdue = Counter(
        a.case_id
        for a in await uow.actions.open_due_by(panel.id, today - timedelta(days=1))
        if a.is_overdue(today)
    )
    kind = wanted.kind
    shows, empty = "Open cases", "The panel has no open case."
    if kind is FilterKind.OVERDUE:
        cases = [c for c in cases if overdue[c.id]]
        shows, empty = "Open cases with overdue actions", "No open case has an overdue action."
    elif kind is FilterKind.RISK and wanted.risk is not None:
        level = wanted.risk
        cases = [c for c in cases if c.risk_level is level]
        shows = f"Open cases at {level.value} risk"
        empty = f"No open case is at {level.value} risk."
    elif kind is FilterKind.AGENCY:
        named = {a.id for a in agencies.values() if agency_matches(a.name, wanted.filter)}
        acting = await _agency_cases(uow, panel, named)
        cases = [c for c in cases if c.lead_agency_id in named or c.id in acting]
        names = sorted(agencies[agency_id].name for agency_id in named)
        shows = f"Open cases of {', '.join(names)}" if names else "Open cases"
        empty = (
            f"No open case is led by {' or '.join(names)} or has an open action of theirs."
            if names
            else f"No agency of the panel is called “{wanted.filter}”: check its name."
        )
    hearings = await next_hearings(uow, panel, cases, now)
    never = now + timedelta(days=365 * 100)

    def order(case: Case) -> tuple[int, datetime, str]:
        hearing = hearings.get(case.id)
        starts = hearing.meeting.starts_at if hearing else never
        return (RISK_ORDER[case.risk_level], starts, case.reference)

    lines: list[CaseLine] = []
    for case in sorted(cases, key=order):
        lead = agencies.get(case.lead_agency_id or "")
        hearing = hearings.get(case.id)
        lines.append(
            CaseLine(
                reference=case.reference,
                lead_agency=lead.name if lead else NO_LEAD,
                risk_level=case.risk_level.value.capitalize(),
                next_hearing=hearing_text(hearing, panel),
                overdue=overdue[case.id],
            )
        )
    return Caseload(lines, shows, empty)
