"""The meetings' read side: what the agenda, the schedule, the chair card and the minutes
show, built from what is stored. Nothing here changes anything; the use cases (agenda,
calendar, meeting_run, minutes) answer with these views, and the gallery renders them with
invented data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.action import (
    Action,
    ActionStatus,
    InformationRequest,
    RequestStatus,
    UpdateKind,
)
from bot.domain.agenda import SECTION_NAMES, UNMET_TITLE, item_number, running_items, timing
from bot.domain.case import CLOSURE_LABELS, Case, CaseStatus
from bot.domain.errors import InvalidTransition, NotFound
from bot.domain.meeting import (
    NOT_STARTED,
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Meeting,
    MeetingStatus,
)
from bot.domain.minutes import (
    Minutes,
    SignOff,
    day_label,
    decision_text,
    outcome_update,
    unmet_outcome,
    unmet_settled,
)
from bot.domain.panel import Role
from bot.domain.risk import RiskLevel
from bot.domain.schedule import working_day_on_or_before
from bot.kernel.localtime import day_text, england_and_wales_holidays, local, when_text
from cards.agenda import AgendaLine, AgendaView, AnnouncedCase, AnnouncementView
from cards.chair import ActionText, CaseDetail, ChairView, Option, UnmetLine
from cards.minutes import (
    APPROVE_BUTTON,
    SEND_TO_CHAIR_BUTTON,
    SIGN_BUTTON,
    MinutesCase,
    MinutesView,
)
from cards.schedule import MeetingLine

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.domain.panel import Agency, Member, Panel
    from bot.kernel.ports import UnitOfWork

# --- which meeting ---------------------------------------------------------------------------


# How far back a meeting can lie and still be "the next one" (one under way, started late).
LOOK_BACK = timedelta(days=62)


async def next_meeting(uow: UnitOfWork, panel_id: str, now: datetime) -> Meeting | None:
    """The meeting under way, or else the next one not yet started (and not over)."""
    found = await uow.meetings.upcoming(panel_id, now - LOOK_BACK, limit=40)
    running = [m for m in found if m.status is MeetingStatus.IN_PROGRESS]
    if running:
        return running[0]
    return next((m for m in found if m.agenda_editable and m.ends_at > now), None)


async def meeting_after(uow: UnitOfWork, panel_id: str, meeting: Meeting) -> Meeting | None:
    """The next meeting after this one that has not been cancelled, nor called urgently
    (an urgent meeting hears only the cases it was called for: deferrals and due dates go
    to the panel's next regular meeting)."""
    later = await uow.meetings.upcoming(panel_id, meeting.starts_at, limit=12)
    return next(
        (
            m
            for m in later
            if m.id != meeting.id
            and m.starts_at > meeting.starts_at
            and m.status is not MeetingStatus.CANCELLED
            and not m.urgent
        ),
        None,
    )


URGENT_LABEL = "Urgent meeting"


def meeting_title(meeting: Meeting, label: str) -> str:
    """A meeting's date as cards name it, "Urgent meeting, Wed 2 Dec 2026, 14:00" for an
    urgent one."""
    return f"{URGENT_LABEL}, {label}" if meeting.urgent else label


# --- the agenda ------------------------------------------------------------------------------

KIND_LABELS = {AgendaItemKind.NEW_CASE: "new case", AgendaItemKind.REVIEW_CASE: "review"}
AGENDA_STATUS_LABELS = {
    MeetingStatus.SCHEDULED: "Not published yet",
    MeetingStatus.AGENDA_PUBLISHED: "Published",
    MeetingStatus.IN_PROGRESS: "In progress",
    MeetingStatus.ENDED: "Ended",
    MeetingStatus.MINUTES_APPROVED: "Minutes approved",
    MeetingStatus.CANCELLED: "Cancelled",
}


@dataclass
class AgendaState:
    """A meeting with its agenda in order and the cases the agenda names."""

    meeting: Meeting
    items: list[AgendaItem]
    cases: dict[str, Case]

    def item(self, item_id: str) -> AgendaItem:
        found = next((i for i in self.items if i.id == item_id), None)
        if found is None:
            raise NotFound("That item is no longer on the agenda. Type agenda to see it.")
        return found


def case_line(case: Case, kind: AgendaItemKind, agencies: Mapping[str, Agency]) -> str:
    """A case as the agenda shows it: reference, kind, risk level, invited agencies."""
    text = f"{case.reference} · {KIND_LABELS.get(kind, 'case')} · {case.risk_level.value} risk"
    invited = invited_names(case, agencies)
    return f"{text} · invited: {', '.join(invited)}" if invited else text


def invited_names(case: Case, agencies: Mapping[str, Agency]) -> list[str]:
    return sorted(agencies[a].name for a in case.invited_agency_ids if a in agencies)


def _agenda_line(
    item: AgendaItem,
    number: int | None,
    state: AgendaState,
    agencies: Mapping[str, Agency],
    coordinator: bool,
) -> AgendaLine:
    case = state.cases.get(item.case_id or "")
    if case is not None:
        text = case_line(case, item.kind, agencies)
    elif item.kind is AgendaItemKind.UNMET_ACTIONS:
        text = f"{UNMET_TITLE} ({len(item.action_ids)})"
    else:
        text = item.title
    note: str | None
    # The reasons the coordinator typed are narrative: only her own (private) view shows
    # them; the members' card, which may be posted in a shared chat, gives the state alone.
    reason = item.note if coordinator else None
    if item.status is AgendaItemStatus.REMOVED:
        note = f"removed: {reason}" if reason else "removed"
    elif item.status is AgendaItemStatus.DEFERRED:
        note = f"deferred to the next meeting: {reason}" if reason else "deferred"
    else:
        note = reason
    editable = coordinator and state.meeting.agenda_editable
    pending = item.status is AgendaItemStatus.PENDING
    movable = item.kind in {
        AgendaItemKind.NEW_CASE,
        AgendaItemKind.REVIEW_CASE,
        AgendaItemKind.OTHER_BUSINESS,
    }
    return AgendaLine(
        item_id=item.id,
        number=number,
        section=SECTION_NAMES[item.kind],
        text=text,
        minutes=item.minutes_estimate,
        kind=item.kind.value,
        state=note,
        can_move=editable and item.is_active and movable,
        can_remove=editable and pending and movable,
        can_defer=editable and pending and item.is_case,
    )


def agenda_view(
    panel: Panel,
    state: AgendaState,
    agencies: Mapping[str, Agency],
    *,
    coordinator: bool,
    notice: str | None = None,
) -> AgendaView:
    """The agenda card's content; editing controls for the coordinator before the start."""
    meeting = state.meeting
    number = 0
    lines = []
    for item in state.items:
        if item.is_active:
            number += 1
        lines.append(
            _agenda_line(item, number if item.is_active else None, state, agencies, coordinator)
        )
    status = AGENDA_STATUS_LABELS[meeting.status]
    if meeting.status is MeetingStatus.AGENDA_PUBLISHED and meeting.agenda_published_at:
        status = f"Published {day_text(meeting.agenda_published_at, panel)}"
    plan = timing(meeting, state.items)
    starts, ends = local(meeting.starts_at, panel), local(meeting.ends_at, panel)
    return AgendaView(
        panel_name=panel.name,
        meeting_id=meeting.id,
        meeting_label=meeting_title(meeting, day_text(meeting.starts_at, panel)),
        time_label=f"{starts:%H:%M}–{ends:%H:%M}",
        status=status,
        lines=lines,
        planned_minutes=plan.planned_minutes,
        meeting_minutes=plan.meeting_minutes,
        coordinator=coordinator and meeting.agenda_editable,
        published=meeting.status is MeetingStatus.AGENDA_PUBLISHED,
        notice=notice,
        version=meeting.version,
    )


def announcement(
    panel: Panel, state: AgendaState, agencies: Mapping[str, Agency]
) -> AnnouncementView:
    """The channel's view of the agenda: references, risk levels, invited agencies, counts."""
    meeting = state.meeting
    running = [i for i in state.items if i.is_active]
    cases = [
        AnnouncedCase(
            reference=case.reference,
            kind=KIND_LABELS[item.kind],
            risk_level=case.risk_level.value.capitalize(),
            invited=invited_names(case, agencies),
        )
        for item in running
        if item.is_case and (case := state.cases.get(item.case_id or "")) is not None
    ]
    unmet = next((i for i in running if i.kind is AgendaItemKind.UNMET_ACTIONS), None)
    ends = local(meeting.ends_at, panel)
    return AnnouncementView(
        meeting_label=meeting_title(meeting, f"{when_text(meeting.starts_at, panel)}–{ends:%H:%M}"),
        cases=cases,
        unmet_actions=len(unmet.action_ids) if unmet else 0,
        other_business=sum(1 for i in running if i.kind is AgendaItemKind.OTHER_BUSINESS),
        planned_minutes=timing(meeting, state.items).planned_minutes,
        join_url=meeting.join_url,
    )


# --- the schedule ----------------------------------------------------------------------------

SCHEDULE_STATUS_LABELS = {
    MeetingStatus.SCHEDULED: "Scheduled",
    MeetingStatus.AGENDA_PUBLISHED: "Agenda published",
    MeetingStatus.IN_PROGRESS: "In progress",
    MeetingStatus.ENDED: "Ended",
    MeetingStatus.MINUTES_APPROVED: "Minutes approved",
    MeetingStatus.CANCELLED: "Cancelled",
}


def day_in(at: datetime, zone: ZoneInfo) -> str:
    """e.g. "Tue 8 Dec 2026" in the schedule's zone."""
    return day_label(at.astimezone(zone).date())


def when_in(at: datetime, zone: ZoneInfo) -> str:
    """e.g. "Tue 8 Dec 2026, 10:00" in the schedule's zone."""
    return f"{day_in(at, zone)}, {at.astimezone(zone):%H:%M}"


def meeting_line(meeting: Meeting, zone: ZoneInfo, now: datetime, coordinator: bool) -> MeetingLine:
    """One meeting as the schedule card shows it."""
    starts, ends = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    active = meeting.status in NOT_STARTED
    return MeetingLine(
        meeting_id=meeting.id,
        date_label=day_in(starts, zone),
        time_label=f"{starts:%H:%M}–{ends:%H:%M}",
        deadline_label=when_in(meeting.referral_deadline, zone),
        deadline_passed=meeting.referral_deadline <= now,
        status=SCHEDULE_STATUS_LABELS[meeting.status],
        cancelled=meeting.status is MeetingStatus.CANCELLED,
        urgent=meeting.urgent,
        join_url=meeting.join_url if active else None,
        can_change=coordinator and active and meeting.starts_at > now,
        date_value=starts.date().isoformat(),
        time_value=f"{starts:%H:%M}",
    )


# --- the chair card --------------------------------------------------------------------------

# What a shared chat's base reads in place of a narrative: those who may read it get it in
# their own view of the card (bot.kernel.views), the chair in his private chat too.
PRIVATE_ONLY = "(in the own view of those who may see it)"
RISK_LABELS = {level: level.value.capitalize() for level in RiskLevel}
# A due date defaults to the day before the next meeting; with none planned, four weeks on.
DUE_WITHOUT_NEXT_MEETING = timedelta(days=27)


async def attendance_lines(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> list[str]:
    """Who acknowledged, by agency: "Riverside Police (1)" (agencies, not people)."""
    agencies = {a.id: a.name for a in await uow.agencies.all(panel.id)}
    counts: dict[str, int] = {}
    for present in await uow.meetings.attendance(panel.id, meeting.id):
        name = agencies.get(present.agency_id or "", "no agency")
        counts[name] = counts.get(name, 0) + 1
    return [f"{name} ({count})" for name, count in sorted(counts.items())]


def default_due_on(meeting: Meeting, later: Meeting | None, panel: Panel) -> date:
    """An action is due the working day before the next meeting (four weeks on when none is
    planned, on a working day: a weekend or bank holiday moves it to the working day before)."""
    if later is not None:
        day = local(later.starts_at, panel).date() - timedelta(days=1)
    else:
        day = local(meeting.starts_at, panel).date() + DUE_WITHOUT_NEXT_MEETING
    return working_day_on_or_before(day, england_and_wales_holidays({day.year, day.year - 1}))


def _state(action: Action, private: bool = True) -> str:
    if action.status is ActionStatus.CANCELLED:
        if not private:
            return "cancelled"  # the reason is narrative: never in a shared chat
        return f"cancelled: {action.cancel_reason or 'no reason given'}"
    if action.status is ActionStatus.PASSED_BACK:
        return "passed back to the agency"
    text = action.status.value
    if action.escalated:
        text += ", escalated"
    return text


def _action_text(action: Action, agencies: Mapping[str, Agency], private: bool) -> ActionText:
    owner = agencies.get(action.owner_agency_id)
    return ActionText(
        owner=owner.name if owner else "an agency no longer listed",
        description=action.description if private else PRIVATE_ONLY,
        due=day_label(action.due_on),
        state=_state(action, private),
    )


def _returns(
    requests: Sequence[InformationRequest], agencies: Mapping[str, Agency], private: bool
) -> list[tuple[str, str]]:
    lines = []
    for info in requests:
        if info.status is RequestStatus.CANCELLED:
            continue
        agency = agencies.get(info.agency_id)
        name = agency.name if agency else "an agency no longer listed"
        if info.status is RequestStatus.ANSWERED:
            lines.append((name, (info.answer or "") if private else f"answered {PRIVATE_ONLY}"))
        else:
            lines.append((name, "not answered yet"))
    return lines


@dataclass(frozen=True)
class ChairContext:
    """What a chair card is rendered from."""

    panel: Panel
    meeting: Meeting
    items: list[AgendaItem]
    current: AgendaItem


async def chair_context(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> ChairContext:
    items = await uow.meetings.agenda(panel.id, meeting.id)
    running = running_items(items)
    current = next((i for i in running if i.id == meeting.current_item_id), None)
    if current is None:
        if not running:
            raise InvalidTransition("The meeting's agenda is empty.")
        current = running[0]
    return ChairContext(panel, meeting, items, current)


def _settle_label(action: Action, agencies: Mapping[str, Agency], private: bool) -> str:
    """An open action as the close form names it: "Riverside Homes (Housing): Fit a door
    camera (due Mon 7 Dec)"; the description only where the card is private."""
    owner = agencies.get(action.owner_agency_id)
    name = owner.name if owner else "an agency no longer listed"
    what = action.description if private else PRIVATE_ONLY
    return f"{name}: {what} (due {day_label(action.due_on)})"


async def chair_view(
    uow: UnitOfWork,
    panel: Panel,
    meeting: Meeting,
    *,
    private: bool,
    notice: str | None = None,
    error: bool = False,
    typed: Mapping[str, str] | None = None,
    detail_of: frozenset[str] = frozenset(),
    controls: bool = True,
    opener: bool = False,
) -> tuple[ChairView, Case | None]:
    """The chair card at the meeting's current item, and the case it shows (if any).

    `private`: with every narrative (the reader may see the whole item); else, on the unmet
    actions' item, the narratives of the actions of the cases in `detail_of` only.
    `controls`: with the chair's forms and Back/Next."""
    context = await chair_context(uow, panel, meeting)
    current = context.current
    number, total = item_number(context.items, current.id)
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    active_agencies = [Option(a.id, a.name) for a in agencies.values() if a.active]
    later = await meeting_after(uow, panel.id, meeting)
    upcoming = [
        m
        for m in await uow.meetings.upcoming(panel.id, meeting.starts_at, limit=8)
        if m.starts_at > meeting.starts_at
        and m.status is not MeetingStatus.CANCELLED
        and not m.urgent  # a review is set for a regular meeting
    ][:6]
    due = default_due_on(meeting, later, panel)
    case: Case | None = None
    detail: CaseDetail | None = None
    unmet: list[UnmetLine] = []
    attendance: list[str] = []
    title = current.title
    if current.kind is AgendaItemKind.CONFIDENTIALITY:
        attendance = await attendance_lines(uow, panel, meeting)
    elif current.kind is AgendaItemKind.UNMET_ACTIONS:
        actions = await uow.actions.by_ids(panel.id, list(current.action_ids))
        cases = {
            c.id: c for c in await uow.cases.by_ids(panel.id, sorted({a.case_id for a in actions}))
        }
        for action in actions:
            owner = agencies.get(action.owner_agency_id)
            decided = unmet_settled(action, meeting.started_at)
            handled = unmet_outcome(action, meeting.started_at)
            shown = private or action.case_id in detail_of
            unmet.append(
                UnmetLine(
                    action_id=action.id,
                    reference=cases[action.case_id].reference
                    if action.case_id in cases
                    else "another case",
                    owner=owner.name if owner else "an agency no longer listed",
                    description=action.description if shown else PRIVATE_ONLY,
                    due=day_label(action.due_on),
                    state=(handled if shown else _public_outcome(action, meeting.started_at))
                    if decided
                    else _state(action, shown),
                    is_open=action.status is ActionStatus.OPEN and not decided,
                    carry_to=max(due, action.due_on + timedelta(days=1)).isoformat(),
                )
            )
    elif current.case_id is not None:
        case = await uow.cases.get(panel.id, current.case_id)
        if case is not None:
            title = f"{case.reference} ({KIND_LABELS[current.kind]})"
            requests = await uow.information_requests.for_case(panel.id, case.id)
            actions = await uow.actions.for_case(panel.id, case.id)
            lead = agencies.get(case.lead_agency_id or "")
            lead_text = lead.name if lead else "not nominated"
            if lead and case.lead_officer:
                lead_text += f" ({case.lead_officer if private else 'officer named'})"
            meetings = {m.id: m for m in upcoming}
            if case.review_meeting_id and case.review_meeting_id not in meetings:
                review = await uow.meetings.get(panel.id, case.review_meeting_id)
                if review is not None:
                    meetings[review.id] = review
            detail = CaseDetail(
                reference=case.reference,
                kind=KIND_LABELS[current.kind],
                risk_level=RISK_LABELS[case.risk_level],
                status=case.status.value,
                lead=lead_text,
                children="yes" if case.has_children else "no",
                decision=decision_line(case, meeting, meetings, ZoneInfo(panel.timezone), private),
                returns=_returns(requests, agencies, private),
                earlier=[
                    _action_text(a, agencies, private)
                    for a in actions
                    if a.meeting_id != meeting.id
                ],
                agreed=[
                    _action_text(a, agencies, private)
                    for a in actions
                    if a.meeting_id == meeting.id
                ],
                open_actions=[
                    Option(a.id, _settle_label(a, agencies, private))
                    for a in actions
                    if a.status is ActionStatus.OPEN
                ],
                closed=not case.is_open,
            )
    view = ChairView(
        panel_name=panel.name,
        meeting_id=meeting.id,
        meeting_label=meeting_title(meeting, when_text(meeting.starts_at, panel)),
        item_id=current.id,
        step=meeting.step,
        token=uuid.uuid4().hex,
        number=number,
        total=total,
        title=title,
        kind=current.kind.value,
        summary=(current.summary or "") if private else "",
        case=detail,
        unmet=unmet,
        attendance=attendance,
        notice=notice,
        error=error,
        agencies=active_agencies,
        risk_levels=[Option(level.value, label) for level, label in RISK_LABELS.items()],
        review_meetings=[Option(m.id, when_text(m.starts_at, panel)) for m in upcoming],
        closure_reasons=[Option(r.value, label) for r, label in CLOSURE_LABELS.items()],
        default_due=due.isoformat(),
        # what a refused form showed again is free text: never in a shared chat
        typed=dict(typed or {}) if private else {},
        in_confidence=private or bool(detail_of),
        version=meeting.version,
        controls=controls,
        opener=opener,
    )
    return view, case


def _public_outcome(action: Action, since: datetime | None) -> str:
    """What became of an unmet action, without the chair's note or reason: for a shared chat
    (whether circumstances changed is a box the chair ticks, not narrative)."""
    latest = outcome_update(action, since)
    if latest is None:
        return _state(action, private=False)
    if latest.kind not in (UpdateKind.ESCALATED, UpdateKind.CANCELLED):
        return unmet_outcome(action, since)  # carried forward or done: no narrative in it
    why = ""
    if latest.circumstances_changed is not None:
        why = (
            " Circumstances changed."
            if latest.circumstances_changed
            else " The agency did not act."
        )
    return ("Escalated." if latest.kind is UpdateKind.ESCALATED else "Cancelled.") + why


def decision_line(
    case: Case, meeting: Meeting, meetings: Mapping[str, Meeting], zone: ZoneInfo, private: bool
) -> str:
    """The meeting's decision on the case; a closure's note only in private."""
    if case.status is CaseStatus.CLOSED and case.closure_reason is not None and not private:
        return f"Closed: {CLOSURE_LABELS[case.closure_reason]}"
    if case.status is CaseStatus.CLOSED or case.review_meeting_id:
        return decision_text(case, meeting, meetings, zone)
    return "none yet: reviewed at the next meeting unless decided"


# --- the minutes -----------------------------------------------------------------------------


def sign_button(minutes: Minutes, rule: SignOff, viewer: Member | None) -> str | None:
    """The sign button's label for `viewer`, or None when there is nothing for them to do:
    the coordinator approves alone; with the chair's sign-off the coordinator sends the
    draft on; anyone whose sign-off is still awaited signs."""
    if minutes.approved:
        return None
    sign = APPROVE_BUTTON if rule is SignOff.COORDINATOR else SIGN_BUTTON
    if viewer is None:  # the draft queued when the meeting ends: its coordinators'
        return sign
    if minutes.signing_role(rule, viewer.roles if viewer.active else (), viewer.id):
        return sign
    if rule is SignOff.CHAIR and viewer.has(Role.COORDINATOR):
        return SEND_TO_CHAIR_BUTTON
    return None


def minutes_view(
    panel: Panel,
    minutes: Minutes,
    *,
    editable: bool,
    download_url: str | None = None,
    notice: str | None = None,
    rule: SignOff = SignOff.COORDINATOR,
    viewer: Member | None = None,
) -> MinutesView:
    """The minutes card's content, as `viewer` (a coordinator when None) sees it under the
    panel's sign-off `rule`: each sign-off given, and what is still awaited."""
    zone = ZoneInfo(panel.timezone)
    signed = [
        f"{s.name} ({s.role.value}), {day_label(s.at.astimezone(zone).date())}"
        for s in minutes.signatures
    ]
    if minutes.approved and minutes.approved_at is not None:
        status = f"Approved on {day_text(minutes.approved_at, panel)}"
    else:
        status = f"Draft of {day_text(minutes.drafted_at, panel)}"
        waiting = minutes.still_to_sign(rule)
        status += f" · signed off by {rule.words}"
        if minutes.signatures and waiting:
            status += f"; waiting for the {' and the '.join(r.value for r in waiting)}"
    may_edit = viewer is None or viewer.has(Role.COORDINATOR)
    return MinutesView(
        panel_name=panel.name,
        meeting_id=minutes.meeting_id,
        meeting_label=minutes.meeting_label,
        version=minutes.version,
        approved=minutes.approved,
        status_line=status,
        attendance=[f"{a.agency}: {', '.join(a.people)}" for a in minutes.attendance],
        cases=[
            MinutesCase(
                item_id=c.item_id,
                heading=f"{c.reference} ({'review' if c.review else 'new case'})",
                summary=c.summary,
                facts=[
                    ("Risk level", c.risk_level),
                    (
                        "Lead",
                        f"{c.lead_agency} ({c.lead_officer})"
                        if c.lead_agency and c.lead_officer
                        else c.lead_agency or "not nominated",
                    ),
                    ("Decision", c.decision),
                ],
                actions=[
                    f"{a.owner}: {a.description} — due {day_label(a.due_on)}" for a in c.actions
                ],
            )
            for c in minutes.cases
        ],
        unmet=[f"{u.reference} · {u.owner}: {u.description} — {u.outcome}" for u in minutes.unmet],
        other_business=minutes.other_business,
        editable=editable and may_edit and not minutes.approved,
        notice=notice,
        download_url=download_url,
        signatures=signed,
        sign_button=sign_button(minutes, rule, viewer) if editable else None,
    )
