"""A fake Bot Connector that knows who is a member of which team, on 127.0.0.1.

It answers GET /v3/conversations/{conversation id}/members/{member id} (what the bot asks
about a person chosen in the people picker: bot.teams.roster) from the teams it is given, by
Entra object id or by the Teams user id it gives each one ("29:<object id>"), 404
with the connector's error body for anyone else, and records each request's path. A test
sends its click with this server as the activity's serviceUrl; the click's reply comes back
in the invoke response, so nothing else is asked of it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web
from aiohttp.test_utils import TestServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping


@dataclass
class FakeRoster:
    """Team id -> {Entra object id: display name}; the paths asked, in order."""

    teams: Mapping[str, Mapping[str, str]]
    asked: list[str] = field(default_factory=list)
    url: str = ""

    async def _member(self, request: web.Request) -> web.Response:
        self.asked.append(request.path)
        team = unquote(request.match_info["conversation"])
        # Asked by Entra object id, or by the Teams user id this fake gives ("29:<id>").
        person = unquote(request.match_info["member"]).removeprefix("29:")
        name = self.teams.get(team, {}).get(person)
        if name is None:
            error = {"code": "MemberNotFoundInConversation", "message": "Member not found."}
            return web.json_response({"error": error}, status=404)
        return web.json_response(
            {
                "id": f"29:{person}",
                "name": name,
                "aadObjectId": person,
                "userRole": "user",
                "tenantId": "tenant-invented",
            }
        )


@asynccontextmanager
async def serving_roster(teams: Mapping[str, Mapping[str, str]]) -> AsyncIterator[FakeRoster]:
    """The fake, listening on 127.0.0.1 at a free port, until the block ends."""
    roster = FakeRoster(teams)
    app = web.Application()
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", roster._member)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    roster.url = f"http://127.0.0.1:{server.port}"
    try:
        yield roster
    finally:
        await server.close()
