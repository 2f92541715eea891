"""The aiohttp application factory: no import-time globals, everything injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from aiohttp import web

from bot.domain.common import Clock, SystemClock
from bot.domain.reminders import ReminderSchedule, parse_quiet_hours
from bot.domain.retention import RetentionPolicy
from bot.features.actions import reminders
from bot.features.actions import usecases as actions
from bot.features.governance import agreement as isa
from bot.features.governance import audit_trail, cases, membership, panels
from bot.features.help import basics
from bot.features.meetings import agenda, calendar, meeting_run, minutes
from bot.features.meetings.calendar import CalendarConfig, OnlineMeetings, ScheduleBook
from bot.features.records import dataprotection, stats
from bot.features.referrals import intake, triage
from bot.graph import GraphClient, GraphSettings
from bot.kernel.links import Links
from bot.kernel.ports import Storage
from bot.kernel.router import Deps, Router
from bot.settings import Settings

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """What the app needs of the Teams layer's outbox dispatcher."""

    async def run_once(self) -> int: ...
    def kick(self) -> None: ...
    async def run_forever(self, idle_seconds: float = 2.0) -> None: ...


SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", Storage)
ROUTER = web.AppKey("router", Router)
DISPATCHER: web.AppKey[Delivery] = web.AppKey("dispatcher")


def calendar_config(settings: Settings, online: OnlineMeetings | None = None) -> CalendarConfig:
    """The calendar's configuration from the settings (schedule file read and checked here)."""
    schedules = (
        calendar.load_schedule_book(
            settings.meeting_schedule_file, default_timezone=settings.timezone
        )
        if settings.meeting_schedule_file
        else ScheduleBook()
    )
    return CalendarConfig(
        schedules=schedules,
        online_meetings=online,
        links=download_links(settings),
    )


def download_links(settings: Settings) -> Links:
    """The signed download links: the public address and the secrets (LINK_SECRETS, or
    ICS_SIGNING_SECRET for deployments that predate it)."""
    return Links.of(settings.public_url, settings.download_secrets)


def build_router(settings: Settings | None = None, online: OnlineMeetings | None = None) -> Router:
    """Every feature registers its commands and card verbs here, once."""
    router = Router()
    basics.register(router)
    panels.register(router)
    intake.register(router)
    triage.register(router)
    calendar.register(router, calendar_config(settings, online) if settings else None)
    agenda.register(router)
    meeting_run.register(router)
    minutes.register(router, minutes_config(settings) if settings else None)
    membership.register(router)
    isa.register(router)
    cases.register(router)
    audit_trail.register(router)
    dataprotection.register(router, dataprotection_config(settings) if settings else None)
    stats.register(router, stats_config(settings) if settings else None)
    actions.register(router)
    reminders.register(router, reminders_config(settings) if settings else None)
    return router


def reminders_config(settings: Settings) -> reminders.ReminderConfig:
    """The reminder schedule and quiet hours from the settings (0 turns a reminder off)."""

    def days(n: int) -> int | None:
        return n or None

    return reminders.ReminderConfig(
        schedule=ReminderSchedule(
            days_before_due=days(settings.reminder_days_before_due),
            on_due_date=settings.reminder_on_due_date,
            overdue_every_days=days(settings.reminder_overdue_every_days),
            status_days_before_meeting=days(settings.reminder_status_days_before_meeting),
            info_days_before_due=days(settings.reminder_info_days_before_due),
            info_on_due_date=settings.reminder_info_on_due_date,
            escalate_after_days=days(settings.reminder_escalate_after_days),
            quiet=parse_quiet_hours(settings.quiet_hours, settings.working_days),
        ),
        every=timedelta(seconds=settings.reminders_every_seconds),
    )


def dataprotection_config(settings: Settings) -> dataprotection.DataProtectionConfig:
    """Subject access downloads (signed links) and retention."""
    return dataprotection.DataProtectionConfig(
        links=download_links(settings),
        retention=RetentionPolicy(
            settings.retention_years,
            outbox_days=settings.outbox_keep_days,
            ledger_days=settings.activity_ledger_keep_days,
        ),
        retention_every=timedelta(hours=settings.retention_interval_hours),
    )


def stats_config(settings: Settings) -> stats.StatsConfig:
    """The statistics' CSV download (a signed link)."""
    return stats.StatsConfig(links=download_links(settings))


def sar_download(
    settings: Settings, deps: Deps, fmt: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /panels/{panel_id}/sar/{export_id}.docx|.json?token=…: a subject access export."""

    links = download_links(settings)

    async def sar_export(request: web.Request) -> web.Response:
        found = await dataprotection.sar_file(
            deps.uow,
            links,
            request.match_info["panel_id"],
            request.match_info["export_id"],
            fmt,
            request.query.get("token", ""),
            deps.clock.now(),
        )
        if found is None:
            raise web.HTTPNotFound()  # the same answer for a bad link and an unknown export
        body, content_type, file_name = found
        return web.Response(
            body=body,
            content_type=content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{file_name}"',
                "Cache-Control": "no-store",
            },
        )

    return sar_export


def stats_download(
    settings: Settings, deps: Deps
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /panels/{panel_id}/stats/{quarter}.csv?token=…: a quarter's figures as CSV."""

    links = download_links(settings)

    async def stats_csv(request: web.Request) -> web.Response:
        body = await stats.stats_file(
            deps.uow,
            links,
            request.match_info["panel_id"],
            request.match_info["quarter"],
            request.query.get("token", ""),
            deps.clock.now(),
        )
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=body,
            content_type=stats.CSV_CONTENT_TYPE,
            charset="utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="panel-statistics.csv"',
                "Cache-Control": "no-store",
            },
        )

    return stats_csv


def minutes_config(settings: Settings) -> minutes.MinutesConfig:
    """Where approved minutes are downloaded (signed links)."""
    return minutes.MinutesConfig(links=download_links(settings))


def minutes_download(
    settings: Settings, deps: Deps
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /panels/{panel_id}/minutes/{meeting_id}.docx?token=…: approved minutes (Word)."""

    links = download_links(settings)

    async def minutes_docx(request: web.Request) -> web.Response:
        body = await minutes.minutes_file(
            deps.uow,
            links,
            request.match_info["panel_id"],
            request.match_info["meeting_id"],
            request.query.get("token", ""),
            deps.clock.now(),
        )
        if body is None:
            raise web.HTTPNotFound()  # the same answer for a bad link, a draft and no minutes
        return web.Response(
            body=body,
            content_type=minutes.DOCX_CONTENT_TYPE,
            headers={
                "Content-Disposition": 'attachment; filename="panel-minutes.docx"',
                "Cache-Control": "no-store",
            },
        )

    return minutes_docx


def graph_client(settings: Settings) -> GraphClient | None:
    """The Graph client for Teams online meetings, when Graph is configured."""
    if not settings.graph_configured:
        return None
    return GraphClient(
        GraphSettings(
            tenant_id=settings.graph_tenant_id,
            client_id=settings.graph_client_id,
            client_secret=settings.graph_client_secret,
            organizer_user_id=settings.graph_organizer_user_id,
            authority_host=settings.graph_authority_host,
            graph_url=settings.graph_url,
            ca_bundle=settings.graph_ca_bundle,
        )
    )


def ics_download(
    settings: Settings, deps: Deps
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /panels/{panel_id}/meetings.ics?token=…: the panel's meetings as an .ics file."""

    links = download_links(settings)

    async def meetings_ics(request: web.Request) -> web.Response:
        text = await calendar.calendar_file(
            deps.uow,
            links,
            request.match_info["panel_id"],
            request.query.get("token", ""),
            deps.clock.now(),
        )
        if text is None:
            raise web.HTTPNotFound()  # the same answer for a bad token and an unknown panel
        return web.Response(
            body=text.encode("utf-8"),
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="panel-meetings.ics"',
                "Cache-Control": "no-store",
            },
        )

    return meetings_ics


def create_app(
    settings: Settings,
    *,
    storage: Storage | None = None,
    clock: Clock | None = None,
    router: Router | None = None,
    deliver_in_background: bool = True,
) -> web.Application:
    """Build the bot's web application; storage opens on startup unless one is given.

    Queued cards are delivered by a background task; tests that want to step delivery
    themselves pass `deliver_in_background=False` and call `app[DISPATCHER].run_once()`.
    """
    from bot.teams.web import teams_endpoint

    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    graph = graph_client(settings)
    app[ROUTER] = router or build_router(settings, graph)
    owned = storage is None
    if storage is None:
        from storage import open_storage

        storage = open_storage(settings.database_url)
    app[STORAGE] = storage
    deps = Deps(
        uow=storage.unit_of_work, clock=clock or SystemClock(), admins=settings.panel_admins
    )

    async def close_storage(app: web.Application) -> AsyncIterator[None]:
        yield
        if owned:
            await app[STORAGE].close()

    app.cleanup_ctx.append(close_storage)

    async def close_graph(app: web.Application) -> AsyncIterator[None]:
        yield
        if graph is not None:
            await graph.close()

    app.cleanup_ctx.append(close_graph)
    endpoint = teams_endpoint(settings, app[ROUTER], deps)
    app[DISPATCHER] = endpoint.dispatcher

    async def deliver(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(app[DISPATCHER].run_forever()) if deliver_in_background else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(deliver)

    async def remind(app: web.Application) -> AsyncIterator[None]:
        # Every instance may run it: each reminder is recorded once, by key.
        task = (
            asyncio.create_task(
                reminders.run_forever(deps, reminders_config(settings), queued=app[DISPATCHER].kick)
            )
            if deliver_in_background
            else None
        )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(remind)

    async def retention(app: web.Application) -> AsyncIterator[None]:
        # Shortly after start-up, then every RETENTION_INTERVAL_HOURS; every instance may run
        # it (each case is marked once). Tests that step delivery themselves run it by hand.
        task = (
            asyncio.create_task(
                dataprotection.retention_forever(deps, dataprotection_config(settings))
            )
            if deliver_in_background
            else None
        )
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(retention)
    app.router.add_post("/api/messages", endpoint.handler)
    app.router.add_get("/panels/{panel_id}/meetings.ics", ics_download(settings, deps))
    app.router.add_get(
        "/panels/{panel_id}/minutes/{meeting_id}.docx", minutes_download(settings, deps)
    )
    app.router.add_get(
        "/panels/{panel_id}/sar/{export_id}.docx", sar_download(settings, deps, "docx")
    )
    app.router.add_get(
        "/panels/{panel_id}/sar/{export_id}.json", sar_download(settings, deps, "json")
    )
    app.router.add_get("/panels/{panel_id}/stats/{quarter}.csv", stats_download(settings, deps))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers."""
    if await request.app[STORAGE].ping():
        return web.json_response({"status": "ready", "database": "ok"})
    return web.json_response({"status": "not ready", "database": "unreachable"}, status=503)
