"""The aiohttp application factory: no import-time globals, everything injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from aiohttp import web

from bot.domain.common import Clock, SystemClock
from bot.graph import GraphClient, GraphSettings
from bot.services import (
    agenda,
    audit,
    basics,
    calendar,
    cases,
    intake,
    isa,
    meeting_run,
    membership,
    minutes,
    triage,
)
from bot.services.calendar import CalendarConfig, OnlineMeetings, ScheduleBook
from bot.services.ports import Storage
from bot.services.router import Deps, Router
from bot.settings import Settings

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """What the app needs of the Teams layer's outbox dispatcher."""

    async def run_once(self) -> int: ...
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
        ics_secret=settings.ics_signing_secret,
        public_url=settings.public_url,
    )


def build_router(settings: Settings | None = None, online: OnlineMeetings | None = None) -> Router:
    """Every feature registers its commands and card verbs here, once."""
    router = Router()
    basics.register(router)
    intake.register(router)
    triage.register(router)
    calendar.register(router, calendar_config(settings, online) if settings else None)
    agenda.register(router)
    meeting_run.register(router)
    minutes.register(router, minutes_config(settings) if settings else None)
    membership.register(router)
    isa.register(router)
    cases.register(router)
    audit.register(router)
    return router


def minutes_config(settings: Settings) -> minutes.MinutesConfig:
    """Where approved minutes are downloaded: signed with the app's download secret."""
    return minutes.MinutesConfig(public_url=settings.public_url, secret=settings.ics_signing_secret)


def minutes_download(
    settings: Settings, deps: Deps
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /panels/{panel_id}/minutes/{meeting_id}.docx?token=…: approved minutes (Word)."""

    async def minutes_docx(request: web.Request) -> web.Response:
        body = await minutes.minutes_file(
            deps.uow,
            settings.ics_signing_secret,
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

    async def meetings_ics(request: web.Request) -> web.Response:
        text = await calendar.calendar_file(
            deps.uow,
            settings.ics_signing_secret,
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
    deps = Deps(uow=storage.unit_of_work, clock=clock or SystemClock())

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
    app.router.add_post("/api/messages", endpoint.handler)
    app.router.add_get("/panels/{panel_id}/meetings.ics", ics_download(settings, deps))
    app.router.add_get(
        "/panels/{panel_id}/minutes/{meeting_id}.docx", minutes_download(settings, deps)
    )
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
