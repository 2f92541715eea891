"""The reminder job: what is due for each agency's contact, queued once, in working hours.

`run_due(deps, now)` looks at every panel: open actions (before their due date, on it,
every few days while overdue), open information requests (before and on their due date)
and, before each meeting, one status request per agency with open actions. The rules are
in bot.domain.reminders; this module loads what they need in a bounded number of queries
per panel (panels, then per panel: members, agencies, open actions due by the horizon,
the next meetings, open requests due soon, which reminders are known, their cases), and
queues:

- for each person, the reminders that go at the same time as **one card** (a digest; a
  single action's reminder is that action's card, with its buttons);
- for the coordinators, **one card** of the actions overdue past the limit, by agency.

Every reminder is recorded by key (`remind:<id>:<kind>:<day>`) in the same unit of work as
its card, so running the job again, or on two instances at once, queues nothing twice.
Quiet hours: a card queued at night, at a weekend or on a bank holiday waits (`not_before`)
for the next allowed time, and a run then looks ahead to that day, so the weekend's
reminders arrive together on Monday morning.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.minutes import day_label
from bot.domain.panel import Member, Panel, Role
from bot.domain.policy import Act, Refusal
from bot.domain.reminders import (
    Digest,
    Reminder,
    ReminderKind,
    ReminderSchedule,
    SentReminder,
    action_occasion,
    digests,
    due_phrase,
    escalation_due,
    info_occasion,
    next_allowed,
    reminder_key,
    status_occasion,
)
from bot.features.actions.copies import queue_copy
from bot.features.actions.views import (
    AGREEMENT_FIRST,
    NEXT_STEP,
    Lookup,
    agency_cases_decision,
    case_detail_decision,
    command_step,
    contacts,
    item_of,
    may_act,
    new_token,
    overdue_first,
)
from bot.kernel import access
from bot.kernel.guard import ANYWHERE, Access
from bot.kernel.localtime import day_text, england_and_wales_holidays, local_day
from bot.kernel.notify import card_to_member
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from bot.observability import telemetry
from cards.actions import LIST_LIMIT, LIST_VIEW, Buttons
from cards.reminders import (
    DigestView,
    EscalationView,
    OverdueLine,
    escalation_title,
    reminders_title,
    render_digest,
    render_escalation,
    status_title,
)

if TYPE_CHECKING:
    from bot.domain.action import Action, InformationRequest
    from bot.kernel.ports import UnitOfWork

log = logging.getLogger(__name__)

ACTION_KINDS = frozenset({ReminderKind.BEFORE, ReminderKind.DUE, ReminderKind.OVERDUE})
INFO_KINDS = frozenset({ReminderKind.INFO_BEFORE, ReminderKind.INFO_DUE})
LIVE_MEETINGS = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED})
# How many of the next meetings are looked at for status requests.
MEETINGS_AHEAD = 2

Holidays = Callable[[Iterable[int]], Collection[date]]


@dataclass(frozen=True)
class ReminderConfig:
    """The schedule (bot.domain.reminders), the bank holidays, and how often the job runs."""

    schedule: ReminderSchedule = field(default_factory=ReminderSchedule)
    holidays: Holidays = england_and_wales_holidays
    every: timedelta = timedelta(minutes=5)


@dataclass
class RunReport:
    """What one run did, for logs and tests."""

    panels: int = 0
    reminders: int = 0
    cards: int = 0
    escalations: int = 0
    failed: int = 0


def send_time(panel: Panel, now: datetime, config: ReminderConfig) -> datetime:
    """When a reminder queued now may go: now, or the next allowed time in the panel's zone."""
    zone = ZoneInfo(panel.timezone)
    year = now.astimezone(zone).year
    holidays = config.holidays((year, year + 1))
    return next_allowed(now, zone, config.schedule.quiet, holidays)


def first_allowed(panel: Panel, due: _Due, config: ReminderConfig) -> datetime:
    """The first time a reminder could have gone on its occasion's day (quiet hours and
    holidays allowing): how late it goes is measured from there (the reminder lag metric)."""
    midnight = datetime.combine(due.day, time.min, tzinfo=ZoneInfo(panel.timezone))
    return send_time(panel, midnight, config)


@dataclass(frozen=True)
class _Due:
    """A reminder that has come, before it is given to its recipients."""

    key: str
    kind: ReminderKind
    agency_id: str
    subject_id: str
    day: date


@dataclass
class _Panel:
    """What one panel's run works from."""

    panel: Panel
    now: datetime
    send_at: datetime
    horizon: date
    actions: dict[str, Action]
    requests: dict[str, InformationRequest]
    every_open: list[Action] | None
    status_meeting: Meeting | None


async def run_due(
    deps: Deps, now: datetime | None = None, config: ReminderConfig | None = None
) -> RunReport:
    """Queue every reminder that has come and was not queued before; idempotent."""
    config = config or ReminderConfig()
    now = now or deps.clock.now()
    report = RunReport()
    async with deps.uow() as uow:
        panels = await uow.panels.list_all()
    for panel in panels:
        try:
            await _run_panel(deps, panel, now, config, report)
        except Exception:  # one panel's failure must not keep the others' reminders back
            report.failed += 1
            log.exception("reminders for panel %s failed; the next run tries again", panel.id)
        report.panels += 1
    return report


async def _run_panel(
    deps: Deps, panel: Panel, now: datetime, config: ReminderConfig, report: RunReport
) -> None:
    schedule = config.schedule
    send_at = send_time(panel, now, config)
    horizon = local_day(send_at, panel)
    async with deps.uow() as uow:
        state, due = await _what_has_come(uow, panel, now, send_at, horizon, schedule)
        if not due:
            return
        known = await uow.reminders.known(panel.id, [d.key for d in due])
        fresh = [d for d in due if d.key not in known]
        if not fresh:
            return
        look = await Lookup.load(
            uow,
            panel,
            [a.case_id for a in state.actions.values()]
            + [r.case_id for r in state.requests.values()]
            + [a.case_id for a in (state.every_open or [])[: LIST_LIMIT * 4]],
        )
        recipients: dict[str, list[Member]] = {}
        for agency_id in sorted({d.agency_id for d in fresh}):
            recipients[agency_id] = await contacts(
                uow, panel, look.members.values(), agency_id, horizon
            )
        reminders: list[Reminder] = []
        escalated: list[_Due] = []
        for item in sorted(fresh, key=lambda d: d.key):  # one order: no deadlock between runs
            people = recipients.get(item.agency_id, [])
            recorded = await uow.reminders.record(
                SentReminder(
                    panel_id=panel.id,
                    key=item.key,
                    kind=item.kind,
                    subject_id=item.subject_id,
                    recipient_member_id=people[0].id if people else None,
                    day=item.day,
                    created_at=now,
                )
            )
            if not recorded:
                continue  # another run queued it meanwhile
            report.reminders += 1
            telemetry.reminder_queued(item.kind.value, send_at - first_allowed(panel, item, config))
            if item.kind is ReminderKind.ESCALATE:
                escalated.append(item)
                continue
            reminders += [
                Reminder(
                    key=item.key,
                    kind=item.kind,
                    recipient_id=person.id,
                    agency_id=item.agency_id,
                    subject_id=item.subject_id,
                    day=item.day,
                    send_at=send_at,
                )
                for person in people
            ]
        for digest in digests(reminders):
            if await _send_digest(uow, look, state, digest):
                report.cards += 1
        if escalated:
            sent = await _escalate(uow, look, state, escalated, recipients, schedule)
            report.cards += sent
            report.escalations += len(escalated)
        await uow.commit()


async def _what_has_come(
    uow: UnitOfWork,
    panel: Panel,
    now: datetime,
    send_at: datetime,
    horizon: date,
    schedule: ReminderSchedule,
) -> tuple[_Panel, list[_Due]]:
    """Every reminder whose day has come by `horizon`, known or not."""
    zone = ZoneInfo(panel.timezone)
    ahead = timedelta(days=schedule.days_before_due or 0)
    actions = {a.id: a for a in await uow.actions.open_due_by(panel.id, horizon + ahead)}
    due: list[_Due] = []
    for action in actions.values():
        occasion = action_occasion(action.due_on, horizon, schedule)
        if occasion is not None:
            kind, day = occasion
            due.append(
                _Due(
                    reminder_key(action.id, kind, day), kind, action.owner_agency_id, action.id, day
                )
            )
        if escalation_due(action.due_on, horizon, schedule):
            kind = ReminderKind.ESCALATE
            due.append(
                _Due(
                    reminder_key(action.id, kind, action.due_on),
                    kind,
                    action.owner_agency_id,
                    action.id,
                    horizon,
                )
            )
    status_meeting: Meeting | None = None
    every_open: list[Action] | None = None
    for meeting in await uow.meetings.upcoming(panel.id, now, limit=MEETINGS_AHEAD):
        # An urgent meeting hears only the cases it was called for: no status round.
        if meeting.status not in LIVE_MEETINGS or meeting.urgent:
            continue
        status_day = status_occasion(meeting.starts_at.astimezone(zone).date(), horizon, schedule)
        if status_day is None:
            continue
        status_meeting = meeting
        every_open = await uow.actions.open_due_by(panel.id, date.max)
        for agency_id in sorted({a.owner_agency_id for a in every_open}):
            subject = f"{meeting.id}:{agency_id}"
            due.append(
                _Due(
                    reminder_key(subject, ReminderKind.STATUS, status_day),
                    ReminderKind.STATUS,
                    agency_id,
                    meeting.id,
                    status_day,
                )
            )
        break
    info_ahead = timedelta(days=(schedule.info_days_before_due or 0) + 1)
    before = datetime.combine(horizon + info_ahead, time(0), zone)
    requests = {r.id: r for r in await uow.information_requests.open_due_by(panel.id, before)}
    for request in requests.values():
        occasion = info_occasion(request.due_at.astimezone(zone).date(), horizon, schedule)
        if occasion is not None:
            kind, day = occasion
            due.append(
                _Due(reminder_key(request.id, kind, day), kind, request.agency_id, request.id, day)
            )
    state = _Panel(panel, now, send_at, horizon, actions, requests, every_open, status_meeting)
    return state, due


async def _send_digest(uow: UnitOfWork, look: Lookup, state: _Panel, digest: Digest) -> bool:
    """Queue one person's reminders as one card; False when nothing could be sent."""
    member = look.members.get(digest.recipient_id)
    if member is None:
        return False
    day = state.horizon
    reminded = [state.actions[r.subject_id] for r in digest.reminders if r.kind in ACTION_KINDS]
    reminded = [a for a in reminded if a.case_id in look.cases]
    requests = [state.requests[r.subject_id] for r in digest.reminders if r.kind in INFO_KINDS]
    status = digest.has_status_request and state.status_meeting is not None
    if len(reminded) == 1 and not requests and not status:
        return await _send_single(uow, look, state, member, reminded[0], digest.key)
    agency_id = next(iter(r.agency_id for r in digest.reminders))
    agency = look.agency_name(agency_id)
    if status and state.every_open is not None:
        listed = overdue_first([a for a in state.every_open if a.owner_agency_id == agency_id], day)
        await look.add_cases(uow, [a.case_id for a in listed[:LIST_LIMIT]])
    else:
        listed = overdue_first(reminded, day)
    listed = [a for a in listed if a.case_id in look.cases]
    meeting_day = (
        day_text(state.status_meeting.starts_at, look.panel)
        if status and state.status_meeting is not None
        else None
    )
    title = status_title(meeting_day) if meeting_day else reminders_title(agency)
    refusal = await agency_cases_decision(uow, look, member)
    if listed and refusal is Refusal.AGREEMENT:
        card = await access.agreement_card(
            uow,
            look.panel,
            member,
            reason=AGREEMENT_FIRST,
            next_step=NEXT_STEP,
            title=title,
            facts=[("Agency", agency), ("Actions", str(len(listed)))],
        )
    elif listed and refusal is not None:
        return False
    else:
        shown = listed[:LIST_LIMIT]
        items = [item_of(a, look, day, reminder=due_phrase(a.due_on, day)) for a in shown]
        own = bool(shown) and may_act(member, shown[0])
        buttons = Buttons(token=new_token(), view=LIST_VIEW, agency_id=agency_id) if own else None
        card = render_digest(
            DigestView(
                panel_name=look.panel.name,
                agency=agency,
                items=items,
                buttons=buttons,
                status_meeting=meeting_day,
                requests=[_request_line(look, r, day) for r in requests],
                more=len(listed) - len(shown),
            )
        )
    return await card_to_member(
        uow,
        panel_id=look.panel.id,
        member_id=member.id,
        card=card,
        key=digest.key,
        now=state.now,
        not_before=digest.send_at,
        text=title,
    )


def _request_line(look: Lookup, request: InformationRequest, day: date) -> tuple[str, str]:
    case = look.cases.get(request.case_id)
    due_day = local_day(request.due_at, look.panel)
    phrase = due_phrase(due_day, day)
    line = f"{case.reference if case else 'A case'} · answer by {day_label(due_day)} ({phrase})"
    return line, request.id


async def _send_single(
    uow: UnitOfWork, look: Lookup, state: _Panel, member: Member, action: Action, key: str
) -> bool:
    """One action's reminder: its own card, a copy that is updated when the action changes."""
    day = state.horizon
    case = look.cases.get(action.case_id)
    phrase = due_phrase(action.due_on, day)
    return await queue_copy(
        uow,
        look,
        member,
        action,
        day,
        key=key,
        now=state.now,
        not_before=state.send_at,
        text=f"Reminder: {case.reference if case else 'an action'} is {phrase}",
        reminder=phrase,
    )


def _contact_text(people: Sequence[Member]) -> str:
    if not people:
        return "nobody: the agency has no SPOC or deputy"
    return ", ".join(p.name for p in people)


async def _escalate(
    uow: UnitOfWork,
    look: Lookup,
    state: _Panel,
    new: Sequence[_Due],
    recipients: Mapping[str, Sequence[Member]],
    schedule: ReminderSchedule,
) -> int:
    """The coordinators' card: every action overdue past the limit, grouped by agency."""
    limit = schedule.escalate_after_days or 0
    day = state.horizon
    late = [a for a in state.actions.values() if escalation_due(a.due_on, day, schedule)]
    late = [a for a in sorted(late, key=lambda a: (a.due_on, a.id)) if a.case_id in look.cases]
    groups: dict[str, list[OverdueLine]] = {}
    for action in late:
        case = look.cases[action.case_id]
        people = recipients.get(action.owner_agency_id)
        if people is None:
            people = await contacts(
                uow, look.panel, look.members.values(), action.owner_agency_id, day
            )
        groups.setdefault(look.agency_name(action.owner_agency_id), []).append(
            OverdueLine(
                case_reference=case.reference,
                description=action.description,
                due=day_label(action.due_on),
                overdue_by=due_phrase(action.due_on, day),
                contact=_contact_text(people),
            )
        )
    if not groups:
        return 0
    view = EscalationView(
        panel_name=look.panel.name,
        days=limit,
        groups=sorted(groups.items()),
        new=len(new),
    )
    stamp = hashlib.sha256("\n".join(sorted(d.key for d in new)).encode()).hexdigest()[:20]
    sent = 0
    for coordinator in look.members.values():
        if not coordinator.has(Role.COORDINATOR):
            continue
        card = render_escalation(view)
        refusal = await case_detail_decision(
            uow, look.panel, coordinator, look.cases[late[0].case_id]
        )
        if refusal is Refusal.AGREEMENT:
            card = await access.agreement_card(
                uow,
                look.panel,
                coordinator,
                reason=AGREEMENT_FIRST,
                next_step=command_step("overdue"),
                title=escalation_title(limit),
                facts=[("Actions", str(len(late)))],
            )
        elif refusal is not None:
            continue
        if await card_to_member(
            uow,
            panel_id=look.panel.id,
            member_id=coordinator.id,
            card=card,
            key=f"overdue-escalation:{coordinator.id}:{stamp}",
            now=state.now,
            not_before=state.send_at,
            text=escalation_title(limit),
        ):
            sent += 1
    return sent


# --- the `reminders` command -------------------------------------------------------------


def describe(schedule: ReminderSchedule, timezone: str) -> str:
    """The schedule in words, for the coordinator."""
    # The action's own card goes when it is set (or changed at a meeting), whatever the
    # schedule: it is how the agency learns of it.
    parts = ["its card when it is set"]
    if schedule.days_before_due:
        parts.append(f"{schedule.days_before_due} days before it is due")
    if schedule.on_due_date:
        parts.append("on its due date")
    if schedule.overdue_every_days:
        parts.append(f"every {schedule.overdue_every_days} days while it is overdue")
    lines = ["Actions: " + ("; ".join(parts) if parts else "no reminders") + "."]
    if schedule.status_days_before_meeting:
        lines.append(
            f"Before each meeting ({schedule.status_days_before_meeting} days before): one "
            "status request per agency, listing all its open actions."
        )
    info = []
    if schedule.info_days_before_due:
        info.append(f"{schedule.info_days_before_due} days before they are due")
    if schedule.info_on_due_date:
        info.append("on their due date")
    if info:
        lines.append("Information requests: " + " and ".join(info) + ".")
    if schedule.escalate_after_days:
        lines.append(
            f"Actions overdue more than {schedule.escalate_after_days} days reach the "
            "coordinators in one card, by agency."
        )
    quiet = schedule.quiet
    days = "Monday to Friday" if quiet.workdays == frozenset(range(5)) else "on working days"
    lines.append(
        f"Reminders go between {quiet.start:%H:%M} and {quiet.end:%H:%M}, {days}, never on bank "
        f"holidays ({timezone}); several due to one person at once come as one card."
    )
    return "\n\n".join(lines)


def register(router: Router, config: ReminderConfig | None = None) -> None:
    """Register `reminders`: the schedule, for the coordinators."""
    schedule = (config or ReminderConfig()).schedule

    async def show(request: Request, _deps: Deps) -> Reply:
        timezone = request.panel.timezone if request.panel else "Europe/London"
        return Reply(text=describe(schedule, timezone))

    router.command(
        CommandSpec(
            name="reminders",
            summary="Coordinators: when the bot reminds agencies of their actions.",
            handler=show,
            access=Access(Act.MANAGE_REMINDERS, ANYWHERE),
            in_manifest=False,
        )
    )
