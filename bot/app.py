"""The aiohttp application factory: no import-time globals, everything injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web

from bot.domain.common import Clock, SystemClock
from bot.services import basics
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


def build_router() -> Router:
    """Every feature registers its commands and card verbs here, once."""
    router = Router()
    basics.register(router)
    return router


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
    app[ROUTER] = router or build_router()
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
