"""The calendar's use cases on the in-memory storage and a fixed clock.

The demo panel is the starting point: second-Tuesday meetings at 10:00 on 13 Oct and 10 Nov
2026 (ended), 8 Dec 2026 and 12 Jan 2027; the clock stands at Friday 20 Nov 2026 10:00 UTC.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from bot.demo import DEMO_TEAM
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.panel import Member, Panel
from bot.domain.schedule import ScheduleError, schedule_from_data
from bot.features.meetings import calendar
from bot.features.meetings.calendar import (
    GRAPH_SYNC,
    Calendar,
    CalendarConfig,
    ScheduleBook,
    calendar_file,
    ensure_meetings,
    fold_ics_line,
    ics_path,
    ics_url,
    meetings_ics,
    schedules_from_data,
)
from bot.features.meetings.commands import take_date
from bot.features.meetings.gallery import calendar_cards
from bot.kernel.dispatch import run_command
from bot.kernel.jobs import Wakeups
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import england_and_wales_holidays
from bot.kernel.ports import CalendarError, CalendarEvent, EventRequest
from bot.kernel.router import Router
from cards.kit import card_text, teams_findings
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, World, demo_world

if TYPE_CHECKING:
    from collections.abc import Collection

    from bot.domain.audit import AuditEvent
    from bot.kernel.router import Deps

LONDON = ZoneInfo("Europe/London")
PRIYA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d01"
GEMMA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03"
LINKS = Links.of("https://bot.example.org/", ["s3cret"])
SECOND_TUESDAY = schedule_from_data({"rule": "second Tuesday"})
HOLIDAYS = england_and_wales_holidays(range(2026, 2029))


@dataclass
class CalendarWorld(World):
    """The one World (tests/support/world.py) with the calendar feature under test, the
    jobs its turns wake (one Wakeups for every deps), and Priya (coordinator) and Gemma
    (SPOC) to ask."""

    priya: Member = field(kw_only=True)
    gemma: Member = field(kw_only=True)
    wakeups: Wakeups = field(default_factory=Wakeups, kw_only=True)

    @property
    def deps(self) -> Deps:
        return dataclasses.replace(super().deps, wakeups=self.wakeups)

    def feature(self, **config: Any) -> Calendar:
        return Calendar(CalendarConfig(**config))

    async def local_days(self) -> list[date]:
        return [m.starts_at.astimezone(LONDON).date() for m in await self.meetings()]

    async def audit(self) -> list[AuditEvent]:
        async with self.storage.unit_of_work() as uow:
            return await uow.audit.recent(self.panel.id, limit=500)

    async def meeting_on(self, day: date) -> Meeting:
        found = [m for m in await self.meetings() if m.starts_at.astimezone(LONDON).date() == day]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
async def world() -> CalendarWorld:
    demo = await demo_world()
    priya, gemma = await demo.member("Priya"), await demo.member("Gemma")
    return CalendarWorld(demo.storage, demo.clock, demo.panel, priya=priya, gemma=gemma)


async def ensure(world: CalendarWorld) -> list[Meeting]:
    async with world.storage.unit_of_work() as uow:
        created = await ensure_meetings(uow, world.panel, SECOND_TUESDAY, NOW, HOLIDAYS)
        await uow.commit()
    return created


# --- planning -------------------------------------------------------------------------------


async def test_ensure_meetings_adds_only_the_missing_of_the_next_six(world: CalendarWorld) -> None:
    created = await ensure(world)
    assert [m.starts_at.astimezone(LONDON).date() for m in created] == [
        date(2027, 2, 9),
        date(2027, 3, 9),
        date(2027, 4, 13),
        date(2027, 5, 11),
    ]
    february = created[0]
    assert february.starts_at.astimezone(LONDON).time() == time(10, 0)
    assert february.ends_at - february.starts_at == timedelta(hours=2)
    assert february.referral_deadline.astimezone(LONDON) == datetime(
        2027, 2, 1, 10, 0, tzinfo=LONDON
    )
    assert february.status is MeetingStatus.SCHEDULED


async def test_ensure_meetings_is_idempotent(world: CalendarWorld) -> None:
    await ensure(world)
    before = await world.meetings()
    assert await ensure(world) == []
    assert [m.id for m in await world.meetings()] == [m.id for m in before]


async def test_a_new_panel_gets_six_meetings_in_its_own_time_zone(world: CalendarWorld) -> None:
    panel = Panel(
        name="Harbourside CMARAC",
        team_id="19:harbourside@thread.tacv2",
        tenant_id=world.panel.tenant_id,
        created_at=NOW,
    )
    schedule = ScheduleBook().schedule_for(panel)
    async with world.storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        created = await ensure_meetings(uow, panel, schedule, NOW, HOLIDAYS)
        await uow.commit()
    assert len(created) == 6
    assert schedule.timezone == "Europe/London"
    assert created[0].starts_at.astimezone(LONDON).date() == date(2026, 12, 8)


async def test_a_cancelled_meeting_is_not_planned_again(world: CalendarWorld) -> None:
    feature = world.feature()
    await feature.cancel(
        await world.request(world.priya),
        world.deps,
        world.panel,
        day=date(2027, 1, 12),
        reason="Ill",
    )
    await ensure(world)
    january = await world.meeting_on(date(2027, 1, 12))
    assert january.status is MeetingStatus.CANCELLED


async def test_a_moved_meeting_is_not_planned_again_on_its_old_date(world: CalendarWorld) -> None:
    await ensure(world)
    feature = world.feature()
    await feature.move(
        await world.request(world.priya),
        world.deps,
        world.panel,
        day=date(2027, 2, 9),
        new_day=date(2027, 2, 11),
        start=None,
    )
    assert await ensure(world) == []
    days = await world.local_days()
    assert date(2027, 2, 9) not in days
    assert date(2027, 2, 11) in days


async def test_a_bank_holiday_on_the_rule_moves_the_planned_meeting(world: CalendarWorld) -> None:
    first_monday = schedule_from_data({"rule": "first Monday"})
    async with world.storage.unit_of_work() as uow:
        created = await ensure_meetings(uow, world.panel, first_monday, NOW, HOLIDAYS)
    days = [m.starts_at.astimezone(LONDON).date() for m in created]
    assert date(2027, 5, 4) in days  # early May bank holiday, Monday 3 May 2027


# --- moving ---------------------------------------------------------------------------------


async def test_moving_keeps_the_id_and_length_and_recomputes_the_deadline(
    world: CalendarWorld,
) -> None:
    december = await world.meeting_on(date(2026, 12, 8))
    reply = await world.feature().move(
        await world.request(world.priya),
        world.deps,
        world.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 10),
        start=time(14, 0),
    )
    moved = await world.meeting_on(date(2026, 12, 10))
    assert moved.id == december.id
    assert moved.starts_at.astimezone(LONDON) == datetime(2026, 12, 10, 14, 0, tzinfo=LONDON)
    assert moved.ends_at - moved.starts_at == timedelta(hours=2)
    assert moved.referral_deadline.astimezone(LONDON) == datetime(2026, 12, 2, 14, 0, tzinfo=LONDON)
    text = card_text(reply.card or {})
    assert "Meeting moved" in text
    assert "Tue 8 Dec 2026, 10:00" in text
    assert "Thu 10 Dec 2026, 14:00–16:00" in text
    (event,) = [e for e in await world.audit() if e.entity == "meeting"]
    assert event.detail == "moved from 2026-12-08 to 2026-12-10 14:00"
    assert event.actor_member_id == world.priya.id


async def test_moving_without_a_time_keeps_the_meetings_start(world: CalendarWorld) -> None:
    await world.feature().move(
        await world.request(world.priya),
        world.deps,
        world.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 9),
        start=None,
    )
    moved = await world.meeting_on(date(2026, 12, 9))
    assert moved.starts_at.astimezone(LONDON).time() == time(10, 0)


@pytest.mark.parametrize(
    ("old", "new", "start", "error", "says"),
    [
        (date(2026, 12, 8), date(2026, 11, 18), None, InvalidInput, "is in the past"),
        (date(2026, 12, 8), date(2026, 11, 20), time(9, 0), InvalidInput, "is in the past"),
        (date(2026, 12, 8), date(2027, 1, 12), None, InvalidInput, "already a meeting"),
        (date(2026, 12, 8), date(2026, 12, 28), None, InvalidInput, "bank holiday"),
        (date(2026, 12, 8), date(2026, 12, 25), None, InvalidInput, "bank holiday"),
        (date(2026, 12, 8), date(2026, 12, 8), None, InvalidInput, "already on"),
        (date(2026, 11, 10), date(2026, 12, 1), None, InvalidTransition, "is ended"),
        (date(2026, 12, 9), date(2026, 12, 10), None, NotFound, "no meeting on Wed 9 Dec"),
    ],
    ids=[
        "past-day",
        "past-hour",
        "taken",
        "boxing-day-observed",
        "christmas",
        "same",
        "ended",
        "none",
    ],
)
async def test_a_refused_move_says_why_and_changes_nothing(
    world: CalendarWorld,
    old: date,
    new: date,
    start: time | None,
    error: type[Exception],
    says: str,
) -> None:
    before = await world.meetings()
    with pytest.raises(error, match=says):
        await world.feature().move(
            await world.request(world.priya),
            world.deps,
            world.panel,
            day=old,
            new_day=new,
            start=start,
        )
    assert await world.meetings() == before
    assert [e for e in await world.audit() if e.entity == "meeting"] == []


# --- cancelling -----------------------------------------------------------------------------


async def test_cancelling_marks_the_meeting_and_audits_the_reason(world: CalendarWorld) -> None:
    reply = await world.feature().cancel(
        await world.request(world.priya),
        world.deps,
        world.panel,
        day=date(2027, 1, 12),
        reason="  Chair and deputy both at court. ",
    )
    january = await world.meeting_on(date(2027, 1, 12))
    assert january.status is MeetingStatus.CANCELLED
    (event,) = [e for e in await world.audit() if e.entity == "meeting"]
    assert event.detail == "cancelled: Chair and deputy both at court."
    assert event.entity_id == january.id
    text = card_text(reply.card or {})
    assert "Meeting cancelled" in text
    assert "Chair and deputy both at court." in text


async def test_an_agenda_published_meeting_can_be_cancelled(world: CalendarWorld) -> None:
    december = await world.meeting_on(date(2026, 12, 8))
    december.move_to(MeetingStatus.AGENDA_PUBLISHED)
    async with world.storage.unit_of_work() as uow:
        await uow.meetings.save(december)
        await uow.commit()
    await world.feature().cancel(
        await world.request(world.priya), world.deps, world.panel, day=date(2026, 12, 8), reason="x"
    )
    assert (await world.meeting_on(date(2026, 12, 8))).status is MeetingStatus.CANCELLED


@pytest.mark.parametrize(
    ("day", "reason", "error", "says"),
    [
        (date(2027, 1, 12), "   ", InvalidInput, "Say why"),
        (date(2027, 1, 12), "x" * 201, InvalidInput, "under 200 characters"),
        (date(2026, 11, 10), "Too late", InvalidTransition, "is ended"),
        (date(2026, 12, 15), "No such meeting", NotFound, "no meeting on Tue 15 Dec 2026"),
    ],
    ids=["no-reason", "long-reason", "ended", "none"],
)
async def test_a_refused_cancellation_says_why_and_changes_nothing(
    world: CalendarWorld, day: date, reason: str, error: type[Exception], says: str
) -> None:
    before = await world.meetings()
    with pytest.raises(error, match=says):
        await world.feature().cancel(
            await world.request(world.priya), world.deps, world.panel, day=day, reason=reason
        )
    assert await world.meetings() == before
    assert [e for e in await world.audit() if e.entity == "meeting"] == []


async def test_a_cancelled_meeting_cannot_be_cancelled_or_moved_again(world: CalendarWorld) -> None:
    feature, priya = world.feature(), await world.request(world.priya)
    january = date(2027, 1, 12)
    await feature.cancel(priya, world.deps, world.panel, day=january, reason="Ill")
    with pytest.raises(InvalidTransition, match="is cancelled"):
        await feature.cancel(priya, world.deps, world.panel, day=january, reason="Again")
    with pytest.raises(InvalidTransition, match="is cancelled"):
        await feature.move(
            priya, world.deps, world.panel, day=january, new_day=date(2027, 1, 14), start=None
        )


# --- who may, and typed commands ------------------------------------------------------------


def _router(world: CalendarWorld) -> Router:
    router = Router()
    calendar.register(router, CalendarConfig())
    return router


@pytest.mark.parametrize("args", ["cancel 12 Jan Ill", "move 12 Jan 14 Jan"])
async def test_only_the_coordinator_may_move_or_cancel(world: CalendarWorld, args: str) -> None:
    # Through the dispatcher, as every typed command goes: the guard decides.
    before = await world.meetings()
    with pytest.raises(NotAllowed, match="Only the panel's coordinators can move or cancel"):
        await run_command(
            _router(world), await world.request(world.gemma), "schedule", args, world.deps
        )
    assert await world.meetings() == before


async def test_moving_or_cancelling_happens_in_the_private_chat_only(world: CalendarWorld) -> None:
    request = await world.request(world.priya, kind=ConversationKind.CHANNEL)
    before = await world.meetings()
    with pytest.raises(NotAllowed, match="private chat"):
        await run_command(_router(world), request, "schedule", "cancel 12 Jan Ill", world.deps)
    assert await world.meetings() == before


async def test_a_typed_move_reads_dates_and_a_time(world: CalendarWorld) -> None:
    request = await world.request(world.priya, args="move Tue 8 Dec 10/12/2026 14:30")
    await world.feature().command(request, world.deps)
    moved = await world.meeting_on(date(2026, 12, 10))
    assert moved.starts_at.astimezone(LONDON).time() == time(14, 30)


async def test_a_typed_cancel_takes_the_rest_as_the_reason(world: CalendarWorld) -> None:
    request = await world.request(world.priya, args="cancel 2027-01-12 Venue flooded, no cover")
    reply = await world.feature().command(request, world.deps)
    assert "Venue flooded, no cover" in card_text(reply.card or {})


@pytest.mark.parametrize(
    ("words", "expected", "used"),
    [
        ("8 Dec", date(2026, 12, 8), 2),
        ("8 dec 2027 later", date(2027, 12, 8), 3),
        ("Tue 8 Dec", date(2026, 12, 8), 3),
        ("8 January", date(2027, 1, 8), 2),  # no year: the next 8 January
        ("20 Nov", date(2026, 11, 20), 2),  # today counts as upcoming
        ("08/12/2026", date(2026, 12, 8), 1),
        ("8/12", date(2026, 12, 8), 1),
        ("2026-12-08 14:00", date(2026, 12, 8), 1),
    ],
)
def test_dates_can_be_typed_as_people_write_them(words: str, expected: date, used: int) -> None:
    assert take_date(words.split(), date(2026, 11, 20)) == (expected, used)


@pytest.mark.parametrize(
    ("words", "says"), [("31 Feb", "does not exist"), ("someday", "not a date"), ("", "nothing")]
)
def test_a_date_that_cannot_be_read_is_refused_plainly(words: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        take_date(words.split(), date(2026, 11, 20))


async def test_an_unknown_sub_command_shows_the_usage(world: CalendarWorld) -> None:
    with pytest.raises(InvalidInput, match=re.escape("schedule [ics | move")):
        await world.feature().command(await world.request(world.priya, args="shuffle"), world.deps)


async def test_the_calendar_link_needs_a_secret_and_a_public_address(world: CalendarWorld) -> None:
    with pytest.raises(NotFound, match="LINK_SECRETS and PUBLIC_URL"):
        await world.feature().command(await world.request(world.gemma, args="ics"), world.deps)
    feature = world.feature(links=LINKS)
    reply = await feature.command(await world.request(world.gemma, args="ics"), world.deps)
    (action,) = (reply.card or {})["actions"]
    assert action["type"] == "Action.OpenUrl"
    assert action["url"] == (
        f"https://bot.example.org/panels/{world.panel.id}/meetings.ics"
        f"?token={LINKS.token(Purpose.CALENDAR, [world.panel.id], world.gemma.id, NOW)}"
    )
    assert "Thu 18 Feb 2027" in card_text(reply.card or {})  # 90 days on


async def test_the_calendar_link_is_given_in_private_chat_only(world: CalendarWorld) -> None:
    feature = world.feature(links=LINKS)
    with pytest.raises(NotAllowed, match="private chat"):
        await feature.command(
            await world.request(world.gemma, kind=ConversationKind.CHANNEL, args="ics"), world.deps
        )
    shown = await feature.command(
        await world.request(world.gemma, kind=ConversationKind.CHANNEL), world.deps
    )
    assert "meetings.ics" not in str(shown.card)
    mine = await feature.command(await world.request(world.gemma), world.deps)
    assert "meetings.ics" in str(mine.card)


async def test_the_schedule_card_lists_six_meetings_with_deadlines(world: CalendarWorld) -> None:
    reply = await world.feature().command(await world.request(world.gemma), world.deps)
    card = reply.card or {}
    text = card_text(card)
    assert "Tue 8 Dec 2026, 10:00–12:00" in text
    assert "Mon 30 Nov 2026, 10:00" in text  # December's referral deadline
    assert "Tue 11 May 2027" in text  # the sixth
    assert "Tue 8 Jun 2027" not in text
    assert "Move…" not in str(card)  # Gemma is a SPOC


# --- the .ics file --------------------------------------------------------------------------


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    line = "DESCRIPTION:" + "Café réunion – " * 20
    parts = fold_ics_line(line)
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert parts[0] + "".join(part[1:] for part in parts[1:]) == line


async def test_the_ics_file_follows_rfc_5545_and_holds_no_personal_data(
    world: CalendarWorld,
) -> None:
    december = await world.meeting_on(date(2026, 12, 8))
    december.join_url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + "A" * 120
    january = await world.meeting_on(date(2027, 1, 12))
    january.status = MeetingStatus.CANCELLED
    text = meetings_ics(world.panel, [december, january], NOW)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    unfolded = text.replace("\r\n ", "").split("\r\n")
    assert f"UID:{december.id}@community-marac" in unfolded
    assert "DTSTAMP:20261120T100000Z" in unfolded
    assert "DTSTART:20261208T100000Z" in unfolded
    assert "DTEND:20261208T120000Z" in unfolded
    assert "SUMMARY:Community MARAC panel meeting" in unfolded
    assert f"URL:{december.join_url}" in unfolded
    assert "DESCRIPTION:New referrals are due by Mon 30 Nov 2026\\, 10:00." in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 2
    assert "STATUS:CANCELLED" in unfolded
    for invented_person in ("Priya", "Gemma", "Margaret", "Ellison", "Rosa"):
        assert invented_person not in text


def test_the_download_link_opens_only_its_own_panel() -> None:
    token = LINKS.token(Purpose.CALENDAR, ["panel-a"], "member-1", NOW)
    assert LINKS.holder(Purpose.CALENDAR, ["panel-a"], token, NOW) == "member-1"
    assert LINKS.holder(Purpose.CALENDAR, ["panel-b"], token, NOW) is None
    assert Links.of("", ["other"]).holder(Purpose.CALENDAR, ["panel-a"], token, NOW) is None
    assert LINKS.holder(Purpose.CALENDAR, ["panel-a"], "", NOW) is None
    assert ics_url(Links.of("", ["s3cret"]), "panel-a", "member-1", NOW) is None
    assert ics_url(Links.of("https://bot.example.org", []), "panel-a", "member-1", NOW) is None
    assert ics_path("panel-a") == "/panels/panel-a/meetings.ics"


async def test_calendar_file_answers_only_a_valid_token(world: CalendarWorld) -> None:
    panel_id = world.panel.id
    good = LINKS.token(Purpose.CALENDAR, [panel_id], world.gemma.id, NOW)
    text = await calendar_file(world.deps.uow, LINKS, panel_id, good, NOW)
    assert text is not None and text.count("BEGIN:VEVENT") == 3  # 10 Nov, 8 Dec, 12 Jan
    assert await calendar_file(world.deps.uow, LINKS, panel_id, good[:-1], NOW) is None
    assert await calendar_file(world.deps.uow, LINKS, "nope", good, NOW) is None


# --- configuration --------------------------------------------------------------------------


def test_one_schedule_serves_every_panel_or_each_team_has_its_own(world: CalendarWorld) -> None:
    single = schedules_from_data({"rule": "last Thursday", "start": "14:00"})
    assert single.schedule_for(world.panel).describe().startswith("last Thursday")
    book = schedules_from_data(
        {
            "default": {"rule": "second Tuesday"},
            "teams": {DEMO_TEAM: {"dates": ["2027-01-14"], "start": "14:00"}},
        }
    )
    assert book.schedule_for(world.panel).dates == (date(2027, 1, 14),)
    other = Panel(name="Other", team_id="19:other", tenant_id="t", created_at=NOW)
    assert book.schedule_for(other).rule is not None


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"default": {"rule": "second Tuesday"}, "extra": 1}, "Unknown schedule configuration"),
        ({"teams": {"19:x": {"rule": "fifth Monday"}}}, "Team 19:x: rule 'fifth Monday'"),
        ({"teams": ["19:x"]}, "teams maps a Teams team id"),
    ],
)
def test_a_bad_schedule_file_names_what_is_wrong(data: dict[str, Any], says: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(says)):
        schedules_from_data(data)


# --- calendar events, with an in-memory port (Graph itself: tests/test_graph.py) ----------


@dataclass
class RecordingCalendar:
    created: list[EventRequest] = field(default_factory=list)
    rescheduled: list[tuple[str, datetime]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)
    attendee_updates: list[tuple[str, tuple[str, ...], frozenset[str]]] = field(
        default_factory=list
    )
    before_answer: Any = None
    fail: bool = False

    async def create_event(self, event: EventRequest) -> CalendarEvent:
        if self.fail:
            raise CalendarError("Graph is down")
        if self.before_answer is not None:
            await self.before_answer()
        self.created.append(event)
        index = len(self.created) - 1
        return CalendarEvent(f"event-{index}", f"https://teams.example/join/{index}")

    async def move_event(
        self, event_id: str, *, starts_at: datetime, ends_at: datetime, timezone: str
    ) -> None:
        self.rescheduled.append((event_id, starts_at))

    async def cancel_event(self, event_id: str, *, comment: str) -> None:
        self.cancelled.append(event_id)

    async def update_attendees(
        self, event_id: str, *, wanted: Collection[str], unwanted: Collection[str]
    ) -> bool:
        self.attendee_updates.append((event_id, tuple(wanted), frozenset(unwanted)))
        return False

    async def install_in_meeting_chat(self, join_url: str) -> str:
        self.chats.append(join_url)
        return f"19:meeting_{join_url.rsplit('/', 1)[-1]}@thread.v2"

    async def move_online_meeting(
        self, online_meeting_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> None:
        self.rescheduled.append((online_meeting_id, starts_at))

    async def delete_online_meeting(self, online_meeting_id: str) -> None:
        self.cancelled.append(online_meeting_id)


async def test_showing_the_schedule_wakes_the_graph_sync_to_link_meetings(
    world: CalendarWorld,
) -> None:
    online = RecordingCalendar()
    feature = world.feature(panel_calendar=online)
    await feature.command(await world.request(world.gemma), world.deps)
    assert online.created == []  # nothing slow happened during the turn
    assert world.wakeups.woken(GRAPH_SYNC)
    await feature.sync_all(world.deps)  # what the job runs
    assert len(online.created) == 6
    linked = [m for m in await world.meetings() if m.join_url]
    assert len(linked) == 6
    assert all(m.calendar_event_id and m.teams_chat_id for m in linked)
    assert len(online.chats) == 6  # the bot went into each meeting's chat
    await feature.command(await world.request(world.gemma), world.deps)
    assert not world.wakeups.woken(GRAPH_SYNC)  # nothing new was planned
    await feature.sync_all(world.deps)
    assert len(online.created) == 6  # no meeting is created twice
    assert len(online.chats) == 6  # nor installed twice


async def test_a_move_or_cancel_is_left_for_the_graph_sync_and_survives_a_restart(
    world: CalendarWorld,
) -> None:
    online = RecordingCalendar()
    feature = world.feature(panel_calendar=online)
    await feature.sync_all(world.deps)
    december = await world.meeting_on(date(2026, 12, 8))
    january = await world.meeting_on(date(2027, 1, 12))
    priya = await world.request(world.priya)
    await feature.move(
        priya,
        world.deps,
        world.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 10),
        start=None,
    )
    await feature.cancel(priya, world.deps, world.panel, day=date(2027, 1, 12), reason="Ill")
    assert (online.rescheduled, online.cancelled) == ([], [])  # nothing slow in the turns
    assert world.wakeups.woken(GRAPH_SYNC)
    moved = await world.meeting_on(date(2026, 12, 10))
    assert moved.teams_outdated  # what Graph must do is kept with the meeting
    # A new process (nothing in memory but the storage) does what was left.
    restarted = Calendar(CalendarConfig(panel_calendar=online))
    await restarted.sync_all(world.deps)
    assert online.rescheduled == [(december.calendar_event_id, moved.starts_at)]
    assert online.cancelled == [january.calendar_event_id]
    assert not (await world.meeting_on(date(2026, 12, 10))).teams_outdated
    assert (await world.meeting_on(date(2027, 1, 12))).calendar_event_id is None
    await restarted.sync_all(world.deps)
    assert (len(online.rescheduled), len(online.cancelled)) == (1, 1)  # done once


async def test_a_meeting_linked_before_calendar_events_keeps_its_online_meeting(
    world: CalendarWorld,
) -> None:
    """A meeting whose bare online meeting was made before revision 0021 is moved and
    cancelled through it, and gets no second Teams meeting."""
    online = RecordingCalendar()
    feature = world.feature(panel_calendar=online)
    await feature.refresh(world.deps, world.panel)
    december = await world.meeting_on(date(2026, 12, 8))
    async with world.storage.unit_of_work() as uow:
        december.join_url = "https://teams.example/join/old"
        december.teams_meeting_id = "old-online-meeting"
        december.teams_chat_id = "19:meeting_old@thread.v2"
        await uow.meetings.save(december)
        await uow.commit()
    priya = await world.request(world.priya)
    await feature.move(
        priya,
        world.deps,
        world.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 10),
        start=None,
    )
    await feature.sync_all(world.deps)
    moved = await world.meeting_on(date(2026, 12, 10))
    assert online.rescheduled == [("old-online-meeting", moved.starts_at)]
    assert december.id not in {e.key for e in online.created}
    await feature.cancel(priya, world.deps, world.panel, day=date(2026, 12, 10), reason="x")
    await feature.sync_all(world.deps)
    assert online.cancelled == ["old-online-meeting"]


async def test_a_meeting_cancelled_while_graph_answers_loses_its_new_event(
    world: CalendarWorld,
) -> None:
    feature = world.feature()

    async def cancel_december() -> None:
        online.before_answer = None
        await feature.cancel(
            await world.request(world.priya),
            world.deps,
            world.panel,
            day=date(2026, 12, 8),
            reason="x",
        )

    online = RecordingCalendar(before_answer=cancel_december)
    report = await calendar.sync_calendar_events(world.deps.uow, world.panel.id, online, NOW)
    assert report.created == 1  # January; December was cancelled meanwhile
    assert online.cancelled == ["event-0"]
    assert (await world.meeting_on(date(2026, 12, 8))).join_url is None


async def test_graph_failing_leaves_meetings_without_links(world: CalendarWorld) -> None:
    report = await calendar.sync_calendar_events(
        world.deps.uow, world.panel.id, RecordingCalendar(fail=True), NOW
    )
    assert (report.created, report.failed) == (0, 2)
    assert all(m.join_url is None for m in await world.meetings())


async def test_a_lasting_graph_failure_is_logged_once_and_tried_at_each_run(
    world: CalendarWorld, caplog: pytest.LogCaptureFixture
) -> None:
    online = RecordingCalendar(fail=True)
    feature = world.feature(panel_calendar=online)
    with caplog.at_level(logging.WARNING, logger=calendar.__name__):
        first = await feature.sync_all(world.deps)
        second = await feature.sync_all(world.deps)
    assert (first.failed, second.failed) == (2, 2)  # tried again at the next run
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(told) == 2  # December's and January's, once each
    assert all("could not create the calendar event" in line for line in told)
    online.fail = False
    assert (await feature.sync_all(world.deps)).created == 2


# --- the cards ------------------------------------------------------------------------------

GALLERY = calendar_cards()


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_every_calendar_card_passes_the_teams_validator(name: str) -> None:
    card = GALLERY[name]
    assert teams_findings(card) == []
    assert card["version"] == "1.5"
    assert len(json.dumps(card).encode()) < 28 * 1024


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_every_calendar_button_carries_a_known_verb_and_inputs_are_unique(name: str) -> None:
    nodes = list(cards.walk(GALLERY[name]))
    verbs = {v.value for v in Verb}
    for node in nodes:
        if node.get("type") in {"Action.Submit", "Action.Execute"}:
            assert (node.get("verb") or node["data"]["verb"]) in verbs, node
    input_ids = [n["id"] for n in nodes if str(n.get("type", "")).startswith("Input.")]
    assert len(input_ids) == len(set(input_ids))


def test_the_coordinators_schedule_offers_forms_only_for_meetings_not_yet_held() -> None:
    text = card_text(GALLERY["schedule-coordinator"])
    assert text.count("Move…") == 5  # six meetings, one of them cancelled
    assert "Tue 9 Mar 2027, 10:00–12:00 — cancelled" in text
    assert "Move…" not in card_text(GALLERY["schedule-member"])
