"""The panel's calendar: planned meetings from the schedule, moving and cancelling one,
the .ics download, and the Outlook event and Teams meeting of each date.

`schedule` shows the next six meetings to any panel member; `schedule move` and
`schedule cancel` are the coordinator's; `schedule ics` gives (and re-issues) the member's
own signed download link (bot.kernel.links), in private chat only.
Talking to Microsoft Graph happens behind the `PanelCalendar` port (bot/graph.py implements
it), in the Graph sync job, never in a turn: each meeting becomes an event in the organizer's
Outlook calendar with a Teams meeting, its members invited, and the bot is installed into the
meeting's chat. The meetings say what Graph must do (no join link yet: create; cancelled with
an event: cancel; moved: `teams_outdated`; a link but no `teams_chat_id`: install), so
nothing is lost on a restart; a turn that changes a meeting only wakes the job
(`deps.wakeups`), which also runs every GRAPH_SYNC_MINUTES.

Several instances on one database: planning a panel's meetings (and moving or cancelling
one) holds the panel's database lock (`uow.take_lock`), and each planned date is unique per
panel (`Meeting.planned_on`), so a meeting is created once; the periodic jobs (the daily
refresh of every panel, the Graph sync) run on one instance at a time (bot.kernel.jobs).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from bot.domain.meeting import NOT_STARTED, Meeting, MeetingStatus
from bot.domain.panel import AGENCY_ROLES, Member, Panel, Role
from bot.domain.policy import Act
from bot.domain.schedule import (
    MeetingSchedule,
    PlannedMeeting,
    ScheduleError,
    local_instant,
    next_meetings,
    plan_on,
    schedule_from_data,
)
from bot.features.meetings.agenda import agenda_lock
from bot.features.meetings.commands import (
    USAGE,
    AskCalendarLink,
    CallUrgentMeeting,
    CancelMeeting,
    MoveMeeting,
    ShowSchedule,
    schedule_command,
)
from bot.features.meetings.urgent import call_urgent_meeting, urgent_agencies
from bot.features.meetings.views import (
    RISK_LABELS,
    SCHEDULE_STATUS_LABELS,
    day_in,
    meeting_line,
    when_in,
)
from bot.kernel.audit import record
from bot.kernel.guard import ANYWHERE, PRIVATE, Access, Target
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import england_and_wales_holidays
from bot.kernel.ports import (
    AlreadyExists,
    CalendarDenied,
    CalendarError,
    CalendarEvent,
    CalendarNotFound,
    EventRequest,
    PanelCalendar,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.schedule import (
    REASON_INPUT,
    CalendarLinkView,
    MeetingCancelledView,
    MeetingMovedView,
    ScheduleView,
    UrgentCalledView,
    UrgentForm,
    UrgentFormView,
    render_calendar_link,
    render_meeting_cancelled,
    render_meeting_moved,
    render_schedule,
    render_urgent_called,
    render_urgent_form,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

PLANNED_AHEAD = 6
MEETING_SUBJECT = "Community MARAC panel meeting"
URGENT_SUBJECT = f"Urgent {MEETING_SUBJECT}"
# Some calendars show a cancelled event all the same: its title says so too.
MEETING_SUMMARY_CANCELLED = f"Cancelled: {MEETING_SUBJECT}"
DEFAULT_SCHEDULE_DATA: Mapping[str, object] = {
    "rule": "second Tuesday",
    "start": "10:00",
    "length_minutes": 120,
    "referral_deadline_days": 8,
}
MAX_REASON = 200


def years_to_check(schedule: MeetingSchedule, now: datetime) -> range:
    """The years whose holidays can touch the next meetings (explicit dates may be later)."""
    last = max([now.year + 2, *(d.year for d in schedule.dates)])
    return range(now.year, last + 1)


# --- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleBook:
    """Which schedule each panel follows: by the panel's Teams team id, else the default."""

    default: MeetingSchedule | None = None
    by_team: Mapping[str, MeetingSchedule] = field(default_factory=dict)

    def schedule_for(self, panel: Panel) -> MeetingSchedule:
        """The panel's schedule; without configuration, the second Tuesday at 10:00 for two
        hours with referrals due 8 days before, in the panel's time zone."""
        found = self.by_team.get(panel.team_id) or self.default
        if found is not None:
            return found
        return schedule_from_data(DEFAULT_SCHEDULE_DATA, default_timezone=panel.timezone)


def schedules_from_data(
    data: Mapping[str, object], *, default_timezone: str = "Europe/London"
) -> ScheduleBook:
    """Read the schedule configuration: one schedule for every panel, or
    `{"default": {...}, "teams": {"<team id>": {...}}}` for several."""
    if not isinstance(data, Mapping):
        raise ScheduleError("The schedule configuration is a JSON object.")
    if not ({"default", "teams"} & set(data)):
        return ScheduleBook(default=schedule_from_data(data, default_timezone=default_timezone))
    unknown = sorted(str(k) for k in data if k not in {"default", "teams"})
    if unknown:
        raise ScheduleError(f"Unknown schedule configuration key: {', '.join(unknown)[:80]}.")
    default_data = data.get("default")
    teams = data.get("teams", {})
    if not isinstance(teams, Mapping):
        raise ScheduleError("teams maps a Teams team id to its schedule.", {"teams": "invalid"})
    by_team: dict[str, MeetingSchedule] = {}
    for team_id, team_data in teams.items():
        if not isinstance(team_data, Mapping):
            raise ScheduleError(f"The schedule of team {str(team_id)[:60]} is not an object.")
        try:
            by_team[str(team_id)] = schedule_from_data(team_data, default_timezone=default_timezone)
        except ScheduleError as exc:
            raise ScheduleError(f"Team {str(team_id)[:60]}: {exc.message}", exc.fields) from None
    default = None
    if default_data is not None:
        if not isinstance(default_data, Mapping):
            raise ScheduleError("default is a schedule object.", {"default": "invalid"})
        default = schedule_from_data(default_data, default_timezone=default_timezone)
    return ScheduleBook(default=default, by_team=by_team)


def load_schedule_book(path: Path, *, default_timezone: str = "Europe/London") -> ScheduleBook:
    """Read the schedule configuration from a JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScheduleError(f"Cannot read the schedule file {path}: {exc}") from None
    return schedules_from_data(data, default_timezone=default_timezone)


# The periodic jobs (bot.kernel.jobs): every panel's meetings planned ahead, and the
# meetings' Teams meetings made to match (woken by a turn that changed a meeting).
CALENDAR_REFRESH = "calendar-refresh"
GRAPH_SYNC = "graph-sync"


def panel_lock(panel_id: str) -> str:
    """The database lock held while a panel's meetings are planned, moved or cancelled."""
    return f"calendar:{panel_id}"


@dataclass(frozen=True)
class CalendarConfig:
    """What the calendar feature is configured with; the defaults need nothing set up."""

    schedules: ScheduleBook = field(default_factory=ScheduleBook)
    panel_calendar: PanelCalendar | None = None
    # Signs the .ics download links; unconfigured (no secret or no public URL), no download.
    links: Links = field(default_factory=Links)
    holidays: Callable[[Iterable[int]], Collection[date]] = england_and_wales_holidays


# --- use cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A meeting before and after a coordinator changed it."""

    before: Meeting
    after: Meeting


async def ensure_meetings(
    uow: UnitOfWork,
    panel: Panel,
    schedule: MeetingSchedule,
    now: datetime,
    holidays: Collection[date],
) -> list[Meeting]:
    """Create the next six planned meetings that do not exist yet; the caller commits
    (holding the panel's lock, `panel_lock`: see Calendar.refresh).

    A planned date is taken when a meeting (even a cancelled one) is on that local date, or
    fills it (`planned_on`: a meeting moved away keeps it), so running this again creates
    nothing; the unique (panel, planned date) makes a second creation fail at the latest.
    """
    created: list[Meeting] = []
    for plan in await _missing(uow, panel, schedule, now, holidays):
        meeting = Meeting(
            panel_id=panel.id,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            referral_deadline=plan.referral_deadline,
            planned_on=plan.on,
        )
        await uow.meetings.save(meeting)
        created.append(meeting)
    return created


async def _missing(
    uow: UnitOfWork,
    panel: Panel,
    schedule: MeetingSchedule,
    now: datetime,
    holidays: Collection[date],
) -> list[PlannedMeeting]:
    """The next six planned meetings whose date no meeting takes yet."""
    planned = next_meetings(schedule, now, PLANNED_AHEAD, holidays)
    if not planned:
        return []
    existing = await uow.meetings.upcoming(
        panel.id, now - timedelta(days=1), limit=PLANNED_AHEAD * 4
    )
    # An urgent meeting fills no date of the schedule's.
    taken = {m.starts_at.astimezone(schedule.zone).date() for m in existing if not m.urgent}
    taken |= await uow.meetings.planned_days(panel.id, planned[0].on)
    return [plan for plan in planned if plan.on not in taken]


async def upcoming_meetings(uow: UnitOfWork, panel_id: str, now: datetime) -> list[Meeting]:
    """The next six meetings not yet over (one under way included), cancelled ones too."""
    found = await uow.meetings.upcoming(panel_id, now - timedelta(days=1), limit=PLANNED_AHEAD * 3)
    return [m for m in found if m.ends_at > now][:PLANNED_AHEAD]


async def meeting_on(uow: UnitOfWork, panel: Panel, day: date, zone: ZoneInfo) -> Meeting | None:
    """The panel's meeting on a local date, preferring one that is not cancelled."""
    start = local_instant(day, time(0), zone)
    found = await uow.meetings.upcoming(panel.id, start, limit=10)
    same_day = [m for m in found if m.starts_at.astimezone(zone).date() == day]
    active = [m for m in same_day if m.status is not MeetingStatus.CANCELLED]
    chosen = active or same_day
    return chosen[0] if chosen else None


async def move_meeting(
    uow: UnitOfWork,
    panel: Panel,
    schedule: MeetingSchedule,
    meeting: Meeting,
    new_day: date,
    new_start: time | None,
    *,
    now: datetime,
    holidays: Collection[date],
    actor: Request,
) -> Change:
    """Move a meeting to another day (and time), keeping its id and length; the referral
    deadline follows. Refuses a past time, a bank holiday, and a day with another meeting."""
    zone = schedule.zone
    if meeting.status not in NOT_STARTED:
        raise InvalidTransition(
            f"The meeting on {day_in(meeting.starts_at, zone)} is "
            f"{SCHEDULE_STATUS_LABELS[meeting.status].lower()}; only a meeting that has not "
            "started can be moved."
        )
    start = new_start or meeting.starts_at.astimezone(zone).time().replace(tzinfo=None)
    plan = plan_on(schedule, new_day, start)
    if plan.starts_at <= now:
        raise InvalidInput(f"{when_in(plan.starts_at, zone)} is in the past.", {"date": "past"})
    if new_day in holidays:
        raise InvalidInput(
            f"{day_in(plan.starts_at, zone)} is a bank holiday in England and Wales.",
            {"date": "holiday"},
        )
    if plan.starts_at == meeting.starts_at:
        raise InvalidInput(f"The meeting is already on {when_in(plan.starts_at, zone)}.")
    other = await meeting_on(uow, panel, new_day, zone)
    if other is not None and other.id != meeting.id and other.status is not MeetingStatus.CANCELLED:
        raise InvalidInput(
            f"There is already a meeting on {day_in(other.starts_at, zone)}.",
            {"date": "taken"},
        )
    length = meeting.ends_at - meeting.starts_at
    old_day = meeting.starts_at.astimezone(zone).date()
    planned_on = meeting.planned_on
    if (
        planned_on is None
        and not meeting.urgent  # an urgent meeting fills no date of the schedule's
        and old_day not in await uow.meetings.planned_days(panel.id, old_day)
    ):
        planned_on = old_day  # a meeting not made by the planner: its old date stays taken
    moved = dataclasses.replace(
        meeting,
        starts_at=plan.starts_at,
        ends_at=(plan.starts_at.astimezone(UTC) + length).astimezone(zone),
        referral_deadline=plan.referral_deadline,
        planned_on=planned_on,
        # Its Teams meeting keeps the old times until the Graph sync moves it.
        teams_outdated=linked(meeting),
    )
    await uow.meetings.save(moved)
    moved_from = f"moved from {old_day.isoformat()} to {new_day.isoformat()} {start:%H:%M}"
    await record(uow, actor, AuditVerb.UPDATE, "meeting", meeting.id, moved_from, at=now)
    return Change(meeting, moved)


async def cancel_meeting(
    uow: UnitOfWork, panel: Panel, meeting: Meeting, reason: str, *, now: datetime, actor: Request
) -> Change:
    """Cancel a meeting that has not started, recording the reason in the audit trail."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("Say why the meeting is cancelled.", {REASON_INPUT: "required"})
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"Keep the reason under {MAX_REASON} characters.", {REASON_INPUT: "too_long"}
        )
    zone = ZoneInfo(panel.timezone)
    if meeting.status not in NOT_STARTED:
        state = SCHEDULE_STATUS_LABELS[meeting.status].lower()
        raise InvalidTransition(
            f"The meeting on {day_in(meeting.starts_at, zone)} is {state}; only a meeting "
            "that has not started can be cancelled."
        )
    before = dataclasses.replace(meeting)
    meeting.move_to(MeetingStatus.CANCELLED)
    await uow.meetings.save(meeting)
    await record(
        uow, actor, AuditVerb.UPDATE, "meeting", meeting.id, f"cancelled: {reason}", at=now
    )
    return Change(before, meeting)


# --- Outlook events and Teams meetings ---------------------------------------------------


class Told:
    """The Graph failures logged already, so that one lasting across the sync's runs is
    logged once (later runs at DEBUG) rather than at every run; a success forgets it."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def level(self, key: str, level: int) -> int:
        """`level` the first time `key` fails, DEBUG while it keeps failing."""
        if key in self._keys:
            return logging.DEBUG
        self._keys.add(key)
        return level

    def forget(self, key: str) -> None:
        self._keys.discard(key)


def _level(told: Told | None, key: str, level: int) -> int:
    return level if told is None else told.level(key, level)


def _forget(told: Told | None, *keys: str) -> None:
    if told is not None:
        for key in keys:
            told.forget(key)


@dataclass(frozen=True)
class SyncReport:
    created: int = 0
    failed: int = 0
    denied: bool = False
    # Meeting chats the bot was installed into.
    chats: int = 0
    # Events whose invitations changed (members joined or left).
    invitations: int = 0


def linked(meeting: Meeting) -> bool:
    """Whether the meeting has something in Graph to keep in step: its calendar event, or
    (linked before events) a bare online meeting."""
    return bool(meeting.calendar_event_id or meeting.teams_meeting_id)


# Who a meeting's event invites: the people who sit on the panel (a referrer alone does not).
SITTING_ROLES = frozenset({Role.COORDINATOR, Role.CHAIR, Role.SPOC, Role.DEPUTY})
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CANCEL_COMMENT = (
    "This panel meeting is cancelled. The panel's coordinator can tell you why; type "
    "schedule in the bot's chat for the next dates."
)


async def meeting_attendees(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> tuple[str, ...]:
    """The e-mail addresses the meeting's event invites: the active members who sit on the
    panel and joined it (not those only invited); for an urgent meeting, only the agencies
    concerned with its cases (their SPOCs and deputies) and the chairs and coordinators.
    An address Graph would refuse is left out rather than failing the whole event."""
    members = [
        m
        for m in await uow.members.all(panel.id)
        if m.active and not m.invited and m.email and SITTING_ROLES & m.roles
    ]
    if meeting.urgent:
        concerned = await urgent_agencies(uow, panel, meeting)
        members = [
            m
            for m in members
            if m.has(Role.CHAIR)
            or m.has(Role.COORDINATOR)
            or (m.agency_id in concerned and AGENCY_ROLES & m.roles)
        ]
    found: dict[str, str] = {}
    for member in members:
        address = (member.email or "").strip()
        if _ADDRESS.fullmatch(address) and len(address) <= 254:
            found.setdefault(address.lower(), address)
    return tuple(sorted(found.values(), key=str.lower))


async def event_request(uow: UnitOfWork, panel: Panel, meeting: Meeting) -> EventRequest:
    """The meeting as its calendar event: no personal data in the subject or the body."""
    zone = ZoneInfo(panel.timezone)
    body = (
        "An urgent panel meeting, for the cases it was called for. "
        if meeting.urgent
        else f"New referrals are due by {when_in(meeting.referral_deadline, zone)}. "
    ) + "The agenda and the cases are in the Community MARAC bot in Teams."
    return EventRequest(
        key=meeting.id,
        subject=URGENT_SUBJECT if meeting.urgent else MEETING_SUBJECT,
        body=body,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        timezone=panel.timezone,
        attendees=await meeting_attendees(uow, panel, meeting),
    )


async def sync_calendar_events(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    calendar: PanelCalendar,
    now: datetime,
    *,
    told: Told | None = None,
) -> SyncReport:
    """Create the calendar event (with its Teams meeting) of every upcoming meeting that has
    no join link yet, inviting its attendees.

    Graph is called outside any unit of work; the event is stored afterwards, and if the
    meeting changed meanwhile the event is corrected (or cancelled) to match. A create that
    failed after Graph made the event is safe to repeat: the event's transactionId is the
    meeting's, so Graph answers with the event it made. With `told`, a failure already
    logged by an earlier run is logged at DEBUG.
    """
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        if panel is None:
            return SyncReport()
        pending = [
            await event_request(uow, panel, m)
            for m in await upcoming_meetings(uow, panel_id, now)
            if m.status in NOT_STARTED and not m.join_url and m.starts_at > now
        ]
    created = failed = 0
    for wanted in pending:
        try:
            event = await calendar.create_event(wanted)
        except CalendarDenied as exc:
            log.log(
                _level(told, "denied", logging.ERROR),
                "Graph refused to create calendar events (%s): check the app registration's "
                "Calendars.ReadWrite permission (and an application access policy for the "
                "organizer's Teams meetings); panel meetings stay without Outlook invitations "
                "and join links",
                exc,
            )
            return SyncReport(created, failed + 1, denied=True)
        except CalendarError as exc:
            log.log(
                _level(told, f"create:{wanted.key}", logging.WARNING),
                "could not create the calendar event of meeting %s: %s; the Graph sync tries "
                "again at its next run",
                wanted.key,
                exc,
            )
            failed += 1
            continue
        _forget(told, "denied", f"create:{wanted.key}")
        if await _store_event(uow_factory, panel_id, wanted, event, calendar):
            created += 1
    return SyncReport(created, failed)


async def _store_event(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    wanted: EventRequest,
    event: CalendarEvent,
    calendar: PanelCalendar,
) -> bool:
    async with uow_factory() as uow:
        current = await uow.meetings.get(panel_id, wanted.key)
        if current is not None and current.calendar_event_id == event.id:
            return False  # stored by a run before ours (Graph answered with the same event)
        if current is not None and current.status in NOT_STARTED and not current.join_url:
            current.join_url = event.join_url
            current.calendar_event_id = event.id
            await uow.meetings.save(current)
            await uow.commit()
            stored = current
        else:
            stored = None
    try:
        if stored is None:
            # Cancelled, removed or linked otherwise meanwhile: ours is not needed.
            await calendar.cancel_event(event.id, comment=CANCEL_COMMENT)
        elif (stored.starts_at, stored.ends_at) != (wanted.starts_at, wanted.ends_at):
            await calendar.move_event(
                event.id,
                starts_at=stored.starts_at,
                ends_at=stored.ends_at,
                timezone=wanted.timezone,
            )
    except CalendarError as exc:
        log.warning("could not tidy the calendar event of meeting %s: %s", wanted.key, exc)
    return stored is not None


async def reschedule_event(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    meeting_id: str,
    calendar: PanelCalendar,
    *,
    told: Told | None = None,
) -> bool:
    """Move the event (or bare online meeting) of a moved panel meeting to its new times,
    and note it done (unless the meeting moved again meanwhile: the next sync moves it
    again)."""
    async with uow_factory() as uow:
        meeting = await uow.meetings.get(panel_id, meeting_id)
        panel = await uow.panels.get(panel_id)
    if meeting is None or panel is None or not linked(meeting):
        return False
    try:
        if meeting.calendar_event_id:
            await calendar.move_event(
                meeting.calendar_event_id,
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                timezone=panel.timezone,
            )
        else:
            assert meeting.teams_meeting_id is not None
            await calendar.move_online_meeting(
                meeting.teams_meeting_id, starts_at=meeting.starts_at, ends_at=meeting.ends_at
            )
    except CalendarError as exc:
        level = _level(told, f"move:{meeting_id}", logging.WARNING)
        log.log(level, "could not move the Teams meeting of meeting %s: %s", meeting_id, exc)
        return False
    _forget(told, f"move:{meeting_id}")
    async with uow_factory() as uow:
        current = await uow.meetings.get(panel_id, meeting_id)
        if (
            current is not None
            and current.teams_outdated
            and (current.starts_at, current.ends_at) == (meeting.starts_at, meeting.ends_at)
        ):
            current.teams_outdated = False
            await uow.meetings.save(current)
            await uow.commit()
    return True


async def remove_event(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    meeting_id: str,
    calendar: PanelCalendar,
    *,
    told: Told | None = None,
) -> bool:
    """Cancel the event of a cancelled panel meeting (its attendees are told; a bare online
    meeting is deleted) and forget its link."""
    async with uow_factory() as uow:
        meeting = await uow.meetings.get(panel_id, meeting_id)
    if meeting is None or not linked(meeting):
        return False
    try:
        if meeting.calendar_event_id:
            await calendar.cancel_event(meeting.calendar_event_id, comment=CANCEL_COMMENT)
        else:
            assert meeting.teams_meeting_id is not None
            await calendar.delete_online_meeting(meeting.teams_meeting_id)
    except CalendarNotFound:
        pass  # already gone: forget the link all the same
    except CalendarError as exc:
        level = _level(told, f"delete:{meeting_id}", logging.WARNING)
        log.log(level, "could not cancel the Teams meeting of meeting %s: %s", meeting_id, exc)
        return False
    _forget(told, f"delete:{meeting_id}")
    async with uow_factory() as uow:
        current = await uow.meetings.get(panel_id, meeting_id)
        if current is not None and (current.calendar_event_id, current.teams_meeting_id) == (
            meeting.calendar_event_id,
            meeting.teams_meeting_id,
        ):
            current.join_url = None
            current.teams_meeting_id = None
            current.calendar_event_id = None
            await uow.meetings.save(current)
            await uow.commit()
    return True


async def tidy_events(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    calendar: PanelCalendar,
    now: datetime,
    *,
    told: Told | None = None,
) -> int:
    """Make the events of changed panel meetings match: a cancelled meeting's is cancelled
    (and its link forgotten), a moved one's is given the new times. How many were put
    right; what fails stays to do, for the next sync."""
    async with uow_factory() as uow:
        found = await uow.meetings.upcoming(
            panel_id, now - timedelta(days=1), limit=PLANNED_AHEAD * 4
        )
    done = 0
    for meeting in found:
        if not linked(meeting):
            continue
        if meeting.status is MeetingStatus.CANCELLED:
            done += await remove_event(uow_factory, panel_id, meeting.id, calendar, told=told)
        elif meeting.teams_outdated and meeting.status in NOT_STARTED:
            done += await reschedule_event(uow_factory, panel_id, meeting.id, calendar, told=told)
    return done


async def update_invitations(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    calendar: PanelCalendar,
    now: datetime,
    *,
    told: Told | None = None,
) -> int:
    """Keep each upcoming event's invitations in step with the panel: a member who joined
    since is invited, one removed (or no longer concerned) is taken off, so the join link
    stops reaching them through their calendar; anyone else the organizer invited stays.
    How many events changed; what fails is tried at the next sync."""
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        if panel is None:
            return 0
        known = {
            (m.email or "").strip().lower()
            for m in await uow.members.all(panel_id)
            if (m.email or "").strip()
        }
        wanted_by_event: list[tuple[Meeting, tuple[str, ...]]] = [
            (m, await meeting_attendees(uow, panel, m))
            for m in await upcoming_meetings(uow, panel_id, now)
            if m.calendar_event_id and m.status in NOT_STARTED and m.starts_at > now
        ]
    changed = 0
    for meeting, wanted in wanted_by_event:
        assert meeting.calendar_event_id is not None
        unwanted = known - {address.lower() for address in wanted}
        try:
            changed += await calendar.update_attendees(
                meeting.calendar_event_id, wanted=wanted, unwanted=unwanted
            )
        except CalendarDenied as exc:
            log.log(
                _level(told, "attendees-denied", logging.ERROR),
                "Graph refused to update the meetings' invitations (%s): check the app "
                "registration's Calendars.ReadWrite permission",
                exc,
            )
            break
        except CalendarError as exc:
            log.log(
                _level(told, f"attendees:{meeting.id}", logging.WARNING),
                "could not update the invitations of meeting %s: %s; the Graph sync tries "
                "again at its next run",
                meeting.id,
                exc,
            )
            continue
        _forget(told, "attendees-denied", f"attendees:{meeting.id}")
    return changed


async def install_in_meeting_chats(
    uow_factory: UnitOfWorkFactory,
    panel_id: str,
    calendar: PanelCalendar,
    now: datetime,
    *,
    told: Told | None = None,
) -> int:
    """Install the bot into the chat of every upcoming meeting with a join link that it is
    not in yet, so `start` and Teams' meeting start and end events reach it without anyone
    adding it; noted per meeting, so it is done once, and what fails is tried at the next
    sync. How many were installed."""
    async with uow_factory() as uow:
        found = await uow.meetings.upcoming(
            panel_id, now - timedelta(days=1), limit=PLANNED_AHEAD * 4
        )
    waiting = [
        m
        for m in found
        if m.join_url and not m.teams_chat_id and m.status in NOT_STARTED and m.ends_at > now
    ]
    installed = 0
    for meeting in waiting:
        assert meeting.join_url is not None
        try:
            chat_id = await calendar.install_in_meeting_chat(meeting.join_url)
        except CalendarDenied as exc:
            log.log(
                _level(told, "chat-denied", logging.ERROR),
                "Graph refused to install the bot into meeting chats (%s): check the app "
                "registration's OnlineMeetings.Read.All and "
                "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All permissions, the "
                "application "
                "access policy for the organizer, and that the app is published in the "
                "organisation's app catalog; add the bot to each meeting by hand meanwhile",
                exc,
            )
            break
        except CalendarError as exc:
            log.log(
                _level(told, f"chat:{meeting.id}", logging.WARNING),
                "could not install the bot into the chat of meeting %s: %s; the Graph sync "
                "tries again at its next run",
                meeting.id,
                exc,
            )
            continue
        _forget(told, "chat-denied", f"chat:{meeting.id}")
        async with uow_factory() as uow:
            current = await uow.meetings.get(panel_id, meeting.id)
            if current is not None and current.join_url == meeting.join_url:
                current.teams_chat_id = chat_id
                await uow.meetings.save(current)
                await uow.commit()
                installed += 1
    return installed


# --- the .ics file ------------------------------------------------------------------------


# Where the panel's calendar is downloaded (the route the feature serves, and its links).
ICS_ROUTE = "/panels/{panel_id}/meetings.ics"


def ics_path(panel_id: str) -> str:
    """The calendar's path for one panel."""
    return ICS_ROUTE.format(panel_id=quote(panel_id, safe=""))


def ics_url(links: Links, panel_id: str, member_id: str, now: datetime) -> str | None:
    """The member's own signed link to the panel's calendar, or None without downloads."""
    return links.url(Purpose.CALENDAR, ics_path(panel_id), (panel_id,), member_id, now)


def _ics_text(value: str) -> str:
    # RFC 5545 3.3.11: escape backslash, semicolon and comma; newlines become \n.
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ics_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold_ics_line(line: str) -> list[str]:
    """Split a content line into lines of at most 75 octets (RFC 5545 3.1), never inside a
    UTF-8 character; continuation lines start with one space."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1  # the leading space counts towards the next 75
        current += char
        size += width
    parts.append(current)
    return parts


def meetings_ics(panel: Panel, meetings: Sequence[Meeting], now: datetime) -> str:
    """The meetings as an iCalendar file (RFC 5545): times in UTC, no personal data, the
    join link as URL, cancelled meetings marked so calendars drop them."""
    zone = ZoneInfo(panel.timezone)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Community MARAC bot//Panel calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(panel.name)}",
    ]
    for meeting in meetings:
        cancelled = meeting.status is MeetingStatus.CANCELLED
        deadline = when_in(meeting.referral_deadline, zone)
        subject = URGENT_SUBJECT if meeting.urgent else MEETING_SUBJECT
        description = (
            "An urgent meeting, for the cases it was called for."
            if meeting.urgent
            else f"New referrals are due by {deadline}."
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{meeting.id}@community-marac",
            f"DTSTAMP:{_ics_utc(now)}",
            f"DTSTART:{_ics_utc(meeting.starts_at)}",
            f"DTEND:{_ics_utc(meeting.ends_at)}",
            f"SUMMARY:{_ics_text(f'Cancelled: {subject}' if cancelled else subject)}",
            f"DESCRIPTION:{_ics_text(description)}",
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        ]
        if meeting.join_url and not cancelled:
            lines.append(f"URL:{meeting.join_url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in fold_ics_line(line))


async def calendar_file(
    uow_factory: UnitOfWorkFactory, links: Links, panel_id: str, token: str, now: datetime
) -> str | None:
    """The panel's .ics text for a genuine, unexpired link of a member still active on the
    panel; None for anything else (a bad token, an unknown panel, a removed member)."""
    member_id = links.holder(Purpose.CALENDAR, (panel_id,), token, now)
    if member_id is None:
        return None
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        member = await uow.members.get(panel_id, member_id) if panel else None
        if panel is None or member is None or not member.active:
            return None
        meetings = await uow.meetings.upcoming(panel_id, now - timedelta(days=31), limit=24)
    return meetings_ics(panel, meetings, now)


# --- labels -------------------------------------------------------------------------------


# --- the feature --------------------------------------------------------------------------


class Calendar:
    """The calendar commands and verbs, with their configuration."""

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        # The Graph failures logged already, so a lasting one is logged once.
        self._told = Told()

    def _holidays(self, schedule: MeetingSchedule, now: datetime) -> Collection[date]:
        return self.config.holidays(years_to_check(schedule, now))

    async def refresh(self, deps: Deps, panel: Panel) -> list[Meeting]:
        """Plan the panel's next meetings (once across instances: under the panel's
        database lock, and each planned date unique), then wake the Graph sync to give them
        Teams links. A meeting another instance created first is simply there already."""
        schedule = self.config.schedules.schedule_for(panel)
        now = deps.clock.now()
        holidays = self._holidays(schedule, now)
        created: list[Meeting] = []
        async with deps.uow() as uow:
            # Most turns find every meeting planned: only then is the lock taken.
            if await _missing(uow, panel, schedule, now, holidays):
                await uow.take_lock(panel_lock(panel.id))
                try:
                    created = await ensure_meetings(uow, panel, schedule, now, holidays)
                    if created:
                        await uow.commit()
                except AlreadyExists:
                    # Planned by another process that holds no lock (SQLite: one instance):
                    # the meetings are there, nothing of ours is needed.
                    await uow.rollback()
                    log.info("the meetings of panel %s were planned already", panel.id)
                    created = []
        if created and self.config.panel_calendar is not None:
            deps.wakeups.wake(GRAPH_SYNC)
        return created

    async def refresh_all(self, deps: Deps) -> int:
        """Plan every panel's next meetings (the daily job); how many were created. A
        panel that fails is logged and the others go on (the job runs again tomorrow)."""
        async with deps.uow() as uow:
            panels = await uow.panels.list_all()
        created = failed = 0
        for panel in panels:
            try:
                created += len(await self.refresh(deps, panel))
            except Exception as exc:
                failed += 1
                log.warning("planning the meetings of panel %s failed: %r", panel.id, exc)
        if failed:
            raise RuntimeError(f"planning failed for {failed} of {len(panels)} panels")
        return created

    async def sync(self, deps: Deps, panel_id: str) -> SyncReport | None:
        """Make the panel's Outlook events match its meetings: cancel those of cancelled
        meetings, move those of moved ones, create those still missing, invite who joined
        and take off who left, and put the bot in each meeting's chat (the Graph sync job
        runs it on one instance at a time)."""
        graph = self.config.panel_calendar
        if graph is None:
            return None
        now = deps.clock.now()
        await tidy_events(deps.uow, panel_id, graph, now, told=self._told)
        report = await sync_calendar_events(deps.uow, panel_id, graph, now, told=self._told)
        if report.denied:
            return report
        invitations = await update_invitations(deps.uow, panel_id, graph, now, told=self._told)
        chats = await install_in_meeting_chats(deps.uow, panel_id, graph, now, told=self._told)
        return dataclasses.replace(report, chats=chats, invitations=invitations)

    async def sync_all(self, deps: Deps) -> SyncReport:
        """`sync` for every panel (the Graph sync job). Graph refusing the app stops the run
        (it would refuse every panel); a failure is logged once, not at every run, and
        tried again at the next."""
        async with deps.uow() as uow:
            panels = await uow.panels.list_all()
        total = SyncReport()
        for panel in panels:
            report = await self.sync(deps, panel.id)
            if report is None:
                break
            total = SyncReport(
                total.created + report.created,
                total.failed + report.failed,
                report.denied,
                total.chats + report.chats,
                total.invitations + report.invitations,
            )
            if report.denied:
                break
        return total

    # --- commands ---

    async def command(self, request: Request, deps: Deps) -> Reply:
        """`schedule` and its sub-commands."""
        panel, member = request.admitted()
        today = deps.clock.now().astimezone(ZoneInfo(panel.timezone)).date()
        match schedule_command(request.args, today):
            case ShowSchedule():
                # The Move and Cancel forms are offered where they can be used: the private
                # chat.
                manage = member.has(Role.COORDINATOR) and (
                    request.where.kind is ConversationKind.PERSONAL
                )
                # The calendar link is the member's own: never shown where others read it.
                private = request.where.kind is ConversationKind.PERSONAL
                return await self.show(
                    panel,
                    deps,
                    coordinator=manage,
                    member=member if private else None,
                    urgent=private and _may_call_urgent(member),
                )
            case AskCalendarLink():
                return self.calendar_link(request, panel, member, deps.clock.now())
            case MoveMeeting() as move:
                return await self.moved(request, deps, panel, move)
            case CancelMeeting() as cancel:
                return await self.cancelled(request, deps, panel, cancel)
            case CallUrgentMeeting() as urgent:
                return await self.urgent(request, deps, panel, urgent)

    async def show(
        self,
        panel: Panel,
        deps: Deps,
        *,
        coordinator: bool = False,
        member: Member | None = None,
        urgent: bool = False,
    ) -> Reply:
        """The next six meetings with their deadlines, status and links (and the Move and
        Cancel forms for the coordinator); with `member`, their own calendar link; with
        `urgent`, the form to call an urgent meeting (the coordinator's and chair's)."""
        await self.refresh(deps, panel)
        schedule = self.config.schedules.schedule_for(panel)
        now = deps.clock.now()
        async with deps.uow() as uow:
            meetings = await upcoming_meetings(uow, panel.id, now)
            form = UrgentForm(cases=await _open_cases(uow, panel)) if urgent else None
        zone = ZoneInfo(panel.timezone)
        view = ScheduleView(
            panel_name=panel.name,
            pattern=schedule.describe(),
            timezone=panel.timezone,
            meetings=[meeting_line(m, zone, now, coordinator) for m in meetings],
            ics_url=ics_url(self.config.links, panel.id, member.id, now) if member else None,
            coordinator=coordinator,
            urgent=form,
        )
        return Reply(card=render_schedule(view))

    async def urgent(
        self, request: Request, deps: Deps, panel: Panel, command: CallUrgentMeeting
    ) -> Reply:
        """Call an urgent meeting (typed or from the form); without its date, time or cases,
        the form to finish it. A refused form comes back with the reason and what was
        typed; nothing is saved."""
        if request.where.kind is not ConversationKind.PERSONAL:
            raise NotAllowed("Call an urgent meeting in our private chat.")
        if not command.complete:
            return await self._urgent_form(deps, panel, command)
        now = deps.clock.now()
        zone = ZoneInfo(panel.timezone)
        try:
            async with deps.uow() as uow:
                await uow.take_lock(panel_lock(panel.id))
                await uow.take_lock(agenda_lock(panel.id))
                called = await call_urgent_meeting(uow, panel, command, now=now, actor=request)
                await uow.commit()
        except InvalidInput as refused:
            return await self._urgent_form(deps, panel, command, error=refused.message)
        if self.config.panel_calendar is not None:
            deps.wakeups.wake(GRAPH_SYNC)  # its event and Teams meeting, after the turn
        meeting = called.meeting
        view = UrgentCalledView(
            panel_name=panel.name,
            when=f"{when_in(meeting.starts_at, zone)}–{meeting.ends_at.astimezone(zone):%H:%M}",
            cases=[c.reference for c in called.cases],
            reason=" ".join(command.reason.split()),
            invited=called.invited,
            announced=called.announced,
            teams_note=(
                "Its Outlook invitation and Teams meeting are being sent."
                if self.config.panel_calendar
                else None
            ),
        )
        return Reply(card=render_urgent_called(view))

    async def _urgent_form(
        self, deps: Deps, panel: Panel, command: CallUrgentMeeting, *, error: str | None = None
    ) -> Reply:
        async with deps.uow() as uow:
            cases = await _open_cases(uow, panel)
            ticked = list(command.case_ids)
            for reference in command.references:
                found = await uow.cases.by_reference(panel.id, reference)
                if found is not None:
                    ticked.append(found.id)
        form = UrgentForm(
            cases=cases,
            date_value=command.day.isoformat() if command.day else "",
            time_value=f"{command.start:%H:%M}" if command.start else "",
            reason=command.reason,
            ticked=ticked,
            error=error,
        )
        return Reply(card=render_urgent_form(UrgentFormView(panel.name, form)))

    async def urgent_verb(self, request: Request, deps: Deps) -> Reply:
        """The urgent meeting's form."""
        panel, _ = request.admitted()
        try:
            command = CallUrgentMeeting.of(request.data)
        except InvalidInput as refused:
            return await self._urgent_form(deps, panel, CallUrgentMeeting(), error=refused.message)
        if not command.complete:
            return await self._urgent_form(
                deps,
                panel,
                command,
                error="Give the date, the start time, and tick at least one case.",
            )
        return await self.urgent(request, deps, panel, command)

    def calendar_link(self, request: Request, panel: Panel, member: Member, now: datetime) -> Reply:
        """A card with the member's own signed .ics link, issued afresh each time."""
        if request.where.kind is not ConversationKind.PERSONAL:
            # The link opens the calendar as this member: not for a shared chat.
            raise NotAllowed("Ask me for your calendar link in our private chat.")
        url = ics_url(self.config.links, panel.id, member.id, now)
        if url is None:
            raise NotFound(
                "Calendar downloads are not set up here yet. Ask your administrator to set "
                "LINK_SECRETS and PUBLIC_URL."
            )
        expires = day_in(self.config.links.expires(Purpose.CALENDAR, now), ZoneInfo(panel.timezone))
        return Reply(card=render_calendar_link(CalendarLinkView(panel.name, url, expires)))

    async def move(
        self,
        request: Request,
        deps: Deps,
        panel: Panel,
        *,
        day: date | None = None,
        meeting_id: str | None = None,
        new_day: date,
        start: time | None,
    ) -> Reply:
        """Move one meeting (for callers holding the values: `moved` with the command)."""
        command = MoveMeeting(new_day=new_day, start=start, day=day, meeting_id=meeting_id)
        return await self.moved(request, deps, panel, command)

    async def moved(
        self, request: Request, deps: Deps, panel: Panel, command: MoveMeeting
    ) -> Reply:
        """Move the meeting a typed command or the schedule card names, then its Teams
        meeting in the background."""
        schedule = self.config.schedules.schedule_for(panel)
        now = deps.clock.now()
        zone = ZoneInfo(panel.timezone)
        new_day = command.new_day
        async with deps.uow() as uow:
            await uow.take_lock(panel_lock(panel.id))
            meeting = await _find(uow, panel, zone, day=command.day, meeting_id=command.meeting_id)
            change = await move_meeting(
                uow,
                panel,
                schedule,
                meeting,
                new_day,
                command.start,
                now=now,
                holidays=self._holidays(schedule, datetime.combine(new_day, time(), UTC)),
                actor=request,
            )
            await uow.commit()
        online = self.config.panel_calendar
        if online is not None and linked(change.after):
            deps.wakeups.wake(GRAPH_SYNC)  # it moves the event, after the turn
        after = change.after
        view = MeetingMovedView(
            panel_name=panel.name,
            before=f"{when_in(change.before.starts_at, zone)}",
            after=f"{when_in(after.starts_at, zone)}–{after.ends_at.astimezone(zone):%H:%M}",
            deadline=when_in(after.referral_deadline, zone),
            teams_note=_teams_note(after, online, "moved"),
        )
        return Reply(card=render_meeting_moved(view))

    async def cancel(
        self,
        request: Request,
        deps: Deps,
        panel: Panel,
        *,
        day: date | None = None,
        meeting_id: str | None = None,
        reason: str,
    ) -> Reply:
        """Cancel one meeting (for callers holding the values: `cancelled` with the
        command)."""
        command = CancelMeeting(reason=reason, day=day, meeting_id=meeting_id)
        return await self.cancelled(request, deps, panel, command)

    async def cancelled(
        self, request: Request, deps: Deps, panel: Panel, command: CancelMeeting
    ) -> Reply:
        """Cancel the meeting a typed command or the schedule card names, then delete its
        Teams meeting in the background."""
        now = deps.clock.now()
        zone = ZoneInfo(panel.timezone)
        async with deps.uow() as uow:
            await uow.take_lock(panel_lock(panel.id))
            meeting = await _find(uow, panel, zone, day=command.day, meeting_id=command.meeting_id)
            change = await cancel_meeting(
                uow, panel, meeting, command.reason, now=now, actor=request
            )
            await uow.commit()
        online = self.config.panel_calendar
        if online is not None and linked(change.after):
            deps.wakeups.wake(GRAPH_SYNC)  # it cancels the event, after the turn
        view = MeetingCancelledView(
            panel_name=panel.name,
            when=when_in(change.after.starts_at, zone),
            reason=" ".join(command.reason.split()),
            teams_note=_teams_note(change.after, online, "cancelled"),
        )
        return Reply(card=render_meeting_cancelled(view))

    # --- card verbs ---

    async def move_verb(self, request: Request, deps: Deps) -> Reply:
        """The schedule card's Move form."""
        panel, _ = request.admitted()
        return await self.moved(request, deps, panel, MoveMeeting.of(request.data))

    async def cancel_verb(self, request: Request, deps: Deps) -> Reply:
        """The schedule card's Cancel form."""
        panel, _ = request.admitted()
        return await self.cancelled(request, deps, panel, CancelMeeting.of(request.data))


async def _find(
    uow: UnitOfWork,
    panel: Panel,
    zone: ZoneInfo,
    *,
    day: date | None,
    meeting_id: str | None,
) -> Meeting:
    if meeting_id is not None:
        meeting = await uow.meetings.get(panel.id, meeting_id)
        if meeting is None:
            raise NotFound("That meeting no longer exists. Type schedule to see the dates.")
        return meeting
    assert day is not None
    found = await meeting_on(uow, panel, day, zone)
    if found is None:
        raise NotFound(
            f"There is no meeting on {day:%a} {day.day} {day:%b %Y}. "
            "Type schedule to see the dates."
        )
    return found


def _may_call_urgent(member: Member) -> bool:
    return member.has(Role.COORDINATOR) or member.has(Role.CHAIR)


async def _open_cases(uow: UnitOfWork, panel: Panel) -> list[tuple[str, str]]:
    """The open cases to tick on the urgent meeting's form: id and "CM-2026-014 · High
    risk" (references and risk levels only), highest risk first."""
    rank = {level: -index for index, level in enumerate(RISK_LABELS)}  # high first
    cases = sorted(
        await uow.cases.list_open(panel.id), key=lambda c: (rank[c.risk_level], c.reference)
    )
    return [(c.id, f"{c.reference} · {RISK_LABELS[c.risk_level]} risk") for c in cases]


def _teams_note(meeting: Meeting, online: PanelCalendar | None, done: str) -> str | None:
    if online is None or not linked(meeting):
        return None
    if meeting.calendar_event_id:
        return f"Its Outlook invitation and Teams meeting are being {done} too."
    return f"Its Teams meeting is being {done} too."


def register(router: Router, config: CalendarConfig | None = None) -> Calendar:
    """Register `schedule` and the schedule card's verbs; returns the feature for jobs."""
    feature = Calendar(config or CalendarConfig())
    router.command(
        CommandSpec(
            name="schedule",
            summary=(
                "Show the next six panel meetings and their referral deadlines; "
                "the coordinator can move or cancel one, and call an urgent one with the chair."
            ),
            handler=feature.command,
            usage=USAGE,
            access=Access(
                Act.VIEW_PANEL,
                ANYWHERE,
                sub_acts={
                    "move": Act.MANAGE_SCHEDULE,
                    "cancel": Act.MANAGE_SCHEDULE,
                    # the coordinator and the chair: the meeting-running act
                    "urgent": Act.RUN_MEETING,
                },
            ),
            aliases=("meetings",),
            button="Meeting dates",
        )
    )
    changing = Access(Act.MANAGE_SCHEDULE, ANYWHERE, (Target.MEETING,), (Target.MEETING,))
    router.verb(VerbSpec(Verb.SCHEDULE_MOVE.value, feature.move_verb, changing))
    router.verb(VerbSpec(Verb.SCHEDULE_CANCEL.value, feature.cancel_verb, changing))
    router.verb(
        VerbSpec(Verb.SCHEDULE_URGENT.value, feature.urgent_verb, Access(Act.RUN_MEETING, PRIVATE))
    )
    return feature
