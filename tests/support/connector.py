"""A fake Bot Connector service on 127.0.0.1: records what the bot sends."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeConnector:
    """The v3 conversation endpoints a bot replies through; every activity is kept."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    # statuses to answer the next sends with, in order, instead of accepting them
    failures: list[int] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        if self.failures:
            status = self.failures.pop(0)
            return web.json_response(
                {"error": {"code": "Injected", "message": f"injected {status}"}}, status=status
            )
        body = await request.json()
        body["_conversation"] = request.match_info["conversation"]
        self.sent.append(body)
        return web.json_response({"id": f"reply-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        self.updated.append(await request.json())
        return web.json_response({"id": request.match_info["activity"]})

    async def _create(self, request: web.Request) -> web.Response:
        self.created.append(await request.json())
        return web.json_response({"id": f"a:new-{next(self._ids)}"})

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards sent so far, in order."""
        return [
            attachment["content"]
            for activity in self.sent
            for attachment in activity.get("attachments") or []
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def texts(self) -> list[str]:
        """The plain texts sent so far, in order."""
        return [a["text"] for a in self.sent if a.get("text")]


async def start_connector() -> tuple[FakeConnector, TestServer, str]:
    """Serve a fresh fake connector on a free loopback port; returns it, its server, its URL."""
    connector = FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    return connector, server, str(server.make_url("/"))
