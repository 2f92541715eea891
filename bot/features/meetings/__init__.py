"""Meetings: the calendar, the agenda, running the meeting (the chair card) and its minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.events import MeetingsWanted
from bot.domain.minutes import SignOffBook, sign_off_book
from bot.features.meetings import agenda, calendar, gallery, meeting_run, minutes
from bot.kernel.feature import Download, Feature, Job, Route, Setup
from bot.kernel.links import token_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from bot.domain.panel import Panel
    from bot.kernel.events import Subscriber
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Deps, Router
    from cards.kit import Card


def calendar_config(setup: Setup) -> calendar.CalendarConfig:
    """The calendar's configuration from the settings (schedule file read and checked here)."""
    settings = setup.settings
    if settings is None:
        return calendar.CalendarConfig(panel_calendar=setup.panel_calendar)
    schedules = (
        calendar.load_schedule_book(
            settings.meeting_schedule_file, default_timezone=settings.timezone
        )
        if settings.meeting_schedule_file
        else calendar.ScheduleBook()
    )
    return calendar.CalendarConfig(
        schedules=schedules, panel_calendar=setup.panel_calendar, links=setup.links()
    )


def minutes_config(setup: Setup) -> minutes.MinutesConfig:
    """Where approved minutes are downloaded (signed links), who signs each panel's minutes
    off (MINUTES_SIGNOFF, checked with the settings), and what puts them in OneDrive."""
    settings = setup.settings
    sign_offs = sign_off_book(settings.minutes_signoff) if settings else SignOffBook()
    return minutes.MinutesConfig(links=setup.links(), sign_offs=sign_offs, uploads=setup.uploads)


def register(router: Router, setup: Setup) -> None:
    """`schedule`, `agenda`, `start`, `chair`, `end`, `minutes` and their cards' buttons."""
    calendar.register(router, calendar_config(setup) if setup.settings else None)
    agenda.register(router)
    meeting_run.register(router)
    minutes.register(router, minutes_config(setup) if setup.settings else None)


def demo_cards(_router: Router) -> Mapping[str, Card]:
    """The meetings' cards, with invented data (bot.features.meetings.gallery)."""
    return gallery.gallery_cards()


def routes(setup: Setup, deps: Deps) -> Sequence[Route]:
    """The panel's meetings as an .ics file, and approved minutes as a Word document."""
    links = setup.links()

    async def ics(path: Mapping[str, str], query: Mapping[str, str]) -> Download | None:
        text = await calendar.calendar_file(
            deps.uow, links, path["panel_id"], token_of(query), deps.clock.now()
        )
        if text is None:
            return None
        return Download(text.encode("utf-8"), "text/calendar", "panel-meetings.ics", "utf-8")

    async def docx(path: Mapping[str, str], query: Mapping[str, str]) -> Download | None:
        body = await minutes.minutes_file(
            deps.uow,
            links,
            path["panel_id"],
            path["meeting_id"],
            token_of(query),
            deps.clock.now(),
        )
        if body is None:
            return None  # the same answer for a bad link, a draft and no minutes
        return Download(body, minutes.DOCX_CONTENT_TYPE, "panel-minutes.docx")

    return (
        Route(calendar.ICS_ROUTE, ics),
        Route(minutes.MINUTES_ROUTE, docx),
    )


def jobs(setup: Setup, deps: Deps, _kick: Callable[[], None]) -> Sequence[Job]:
    """Every panel's next meetings planned, every CALENDAR_REFRESH_HOURS; with Graph, their
    Outlook events and Teams meetings made to match (and the bot put in their chats), every
    GRAPH_SYNC_MINUTES and whenever a turn changed a meeting (deps.wakeups). Each once
    across instances (bot.kernel.jobs)."""
    settings = setup.settings
    refresh_every = timedelta(hours=settings.calendar_refresh_hours if settings else 24)
    sync_every = timedelta(minutes=settings.graph_sync_minutes if settings else 15)
    feature = calendar.Calendar(calendar_config(setup))

    async def refresh() -> None:
        await feature.refresh_all(deps)

    async def sync() -> None:
        await feature.sync_all(deps)

    found = [Job(calendar.CALENDAR_REFRESH, refresh_every, refresh)]
    if setup.panel_calendar is not None:
        found.append(Job(calendar.GRAPH_SYNC, sync_every, sync))
    return found


def subscribers(setup: Setup) -> Mapping[type[Any], Subscriber]:
    """MeetingsWanted (a panel just set up, or a coordinator asking from a triage card): the
    panel's next meetings planned at once from its schedule, as the calendar's refresh
    plans them, in the publisher's unit of work and under the panel's calendar lock."""
    config = calendar_config(setup)

    async def on_meetings_wanted(
        uow: UnitOfWork, panel: Panel, _event: MeetingsWanted, now: datetime
    ) -> None:
        schedule = config.schedules.schedule_for(panel)
        holidays = config.holidays(calendar.years_to_check(schedule, now))
        await uow.take_lock(calendar.panel_lock(panel.id))
        await calendar.ensure_meetings(uow, panel, schedule, now, holidays)

    return {MeetingsWanted: on_meetings_wanted}


FEATURE = Feature(
    "meetings", register, demo_cards, subscribers=subscribers, routes=routes, jobs=jobs
)
