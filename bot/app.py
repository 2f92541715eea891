"""The aiohttp application factory: no import-time globals, everything injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from bot.domain.common import Clock, SystemClock
from bot.features import FEATURES
from bot.graph import GraphClient, GraphSettings
from bot.kernel.events import Events
from bot.kernel.feature import Route, Setup
from bot.kernel.jobs import JobRunner
from bot.kernel.ports import FileUploads, PanelCalendar, Storage, UnitOfWorkFactory
from bot.kernel.router import Deps, Router
from bot.observability import telemetry as metrics
from bot.observability.readiness import SchemaGate, readiness
from bot.observability.telemetry import DeliveryCounts, OutboxWatch, Telemetry
from bot.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """What the app needs of the Teams layer's outbox dispatcher."""

    async def run_once(self) -> int: ...
    def kick(self) -> None: ...
    async def run_forever(self, idle_seconds: float = 2.0) -> None: ...
    @property
    def heartbeat(self) -> float | None:
        """time.monotonic() of run_forever's last pass; None before the first."""
        ...

    @property
    def stats(self) -> DeliveryCounts: ...


SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", Storage)
ROUTER = web.AppKey("router", Router)
DISPATCHER: web.AppKey[Delivery] = web.AppKey("dispatcher")
# Whether this app runs the dispatcher's loop itself (/readyz then checks it is alive).
DELIVERING = web.AppKey("delivering", bool)
SCHEMA_GATE = web.AppKey("schema_gate", SchemaGate)
OUTBOX_WATCH = web.AppKey("outbox_watch", OutboxWatch)


def build_router(
    settings: Settings | None = None,
    online: PanelCalendar | None = None,
    uploads: FileUploads | None = None,
) -> Router:
    """Every feature registers its commands and card verbs, once, in FEATURES' order."""
    router = Router()
    setup = Setup(settings, online, uploads)
    for feature in FEATURES:
        feature.register(router, setup)
    return router


def make_deps(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    admins: frozenset[str] = frozenset(),
    setup: Setup | None = None,
) -> Deps:
    """The collaborators every use case may need, with the features' event subscriptions
    (configured by `setup`: the settings' schedules, without it the defaults)."""
    setup = setup or Setup()
    return Deps(
        uow=uow,
        clock=clock,
        events=Events.of(feature.subscriptions(setup) for feature in FEATURES),
        admins=admins,
    )


def download(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A feature's download as an aiohttp handler: the same 404 for a bad link, an unknown
    record and anything the link may not open; never cached."""

    async def handle(request: web.Request) -> web.Response:
        found = await route.handler(request.match_info, request.query)
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=found.body,
            content_type=found.content_type,
            charset=found.charset,
            headers={
                "Content-Disposition": f'attachment; filename="{found.file_name}"',
                "Cache-Control": "no-store",
            },
        )

    return handle


def graph_client(settings: Settings) -> GraphClient | None:
    """The Graph client (meetings as Outlook events, the bot installed for members and in
    meeting chats), when Graph is configured."""
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
            teams_app_id=settings.teams_app_id,
            catalog_app_id=settings.teams_catalog_app_id,
        )
    )


def create_app(
    settings: Settings,
    *,
    storage: Storage | None = None,
    clock: Clock | None = None,
    router: Router | None = None,
    deliver_in_background: bool = True,
    telemetry: Telemetry | None = None,
) -> web.Application:
    """Build the bot's web application; storage opens on startup unless one is given.

    Queued cards are delivered by a background task; tests that want to step delivery
    themselves pass `deliver_in_background=False` and call `app[DISPATCHER].run_once()`.
    Metrics and traces go where the settings say (bot.observability.telemetry), or to
    `telemetry` when given (its owner closes it).
    """
    from bot.teams.upload import OneDriveUploads
    from bot.teams.web import speed_up_connector_clients, teams_endpoint

    # Explicitly here, not on import: a process-wide change to msrest (bot.teams.web).
    speed_up_connector_clients()

    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    graph = graph_client(settings)
    uploads = OneDriveUploads(settings.upload_hosts)
    app[ROUTER] = router or build_router(settings, graph, uploads)
    owned = storage is None
    if storage is None:
        from storage import open_storage

        storage = open_storage(settings.database_url)
    app[STORAGE] = storage
    setup = Setup(settings, graph)
    deps = make_deps(
        storage.unit_of_work, clock or SystemClock(), admins=settings.panel_admins, setup=setup
    )

    async def close_storage(app: web.Application) -> AsyncIterator[None]:
        yield
        if owned:
            await app[STORAGE].close()

    app.cleanup_ctx.append(close_storage)

    async def close_graph(_app: web.Application) -> AsyncIterator[None]:
        yield
        if graph is not None:
            await graph.close()

    app.cleanup_ctx.append(close_graph)
    # A member the bot cannot message yet (never opened it, not in the panel's team) gets
    # the bot installed through Graph before their 1:1 chat is opened.
    endpoint = teams_endpoint(
        settings,
        app[ROUTER],
        deps,
        install_for_user=graph.install_for_user if graph is not None else None,
    )
    app[DISPATCHER] = endpoint.dispatcher
    app[DELIVERING] = deliver_in_background
    # Nothing in the background touches a database whose schema is not the code's: it waits,
    # said in one line, instead of failing every pass.
    gate = app[SCHEMA_GATE] = SchemaGate(storage)

    async def deliver(app: web.Application) -> AsyncIterator[None]:
        async def when_migrated() -> None:
            await gate.wait()
            await app[DISPATCHER].run_forever()

        task = asyncio.create_task(when_migrated()) if deliver_in_background else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await gate.close()

    app.cleanup_ctx.append(deliver)
    observed = telemetry if telemetry is not None else metrics.from_settings(settings)
    if observed is not None:
        watch = app[OUTBOX_WATCH] = OutboxWatch(
            endpoint.dispatcher.stats, storage.outbox_backlog, deps.clock.now
        )

        async def observe(_app: web.Application) -> AsyncIterator[None]:
            unwatch = observed.watch(watch)
            metrics.install(observed)

            async def sample_when_migrated() -> None:
                await gate.wait()
                await watch.run()

            task = asyncio.create_task(sample_when_migrated()) if deliver_in_background else None
            yield
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            unwatch()
            if metrics.current() is observed:
                metrics.install(None)
            if telemetry is None:
                await asyncio.to_thread(observed.close)  # exports what is left

        app.cleanup_ctx.append(observe)

    async def run_jobs(app: web.Application) -> AsyncIterator[None]:
        # The features' periodic jobs (reminders, retention, housekeeping, the calendar and
        # its Graph sync), each once across instances (bot.kernel.jobs), once the schema is
        # the code's (as delivery). Tests that step delivery themselves run them by hand.
        jobs = [
            job for feature in FEATURES for job in feature.jobs(setup, deps, app[DISPATCHER].kick)
        ]
        runner = JobRunner(app[STORAGE], jobs, deps.clock, deps.wakeups)

        async def jobs_when_migrated() -> None:
            await gate.wait()
            await runner.run_forever()

        task = asyncio.create_task(jobs_when_migrated()) if deliver_in_background else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(run_jobs)
    app.router.add_post("/api/messages", endpoint.handler)
    for feature in FEATURES:
        for route in feature.routes(setup, deps):
            app.router.add_get(route.path, download(route))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def healthz(_request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers, its schema is the code's, and the outbox dispatcher's
    loop is alive (when this app runs it); otherwise 503 saying which check failed."""
    app = request.app
    dispatcher = app[DISPATCHER]
    ready, body = await readiness(
        app[STORAGE],
        app[SCHEMA_GATE],
        (lambda: dispatcher.heartbeat) if app[DELIVERING] else None,
    )
    return web.json_response(body, status=200 if ready else 503)
