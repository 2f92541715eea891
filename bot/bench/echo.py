"""The benchmark's baseline: a minimal echo bot on the same adapter as the real one.

It takes the same path through the web server as the bot's /api/messages (content type,
JSON, `Activity.deserialize`, `authenticate_request`, `CloudAdapter.process_activity`, the
reply posted to the connector with `send_activity`), and then does nothing else: a message
is echoed, a card invoke is answered with a text. The turn benchmark divides the real bot's
latency by this bot's, measured interleaved in the same run, so the ratio shows what the
bot's own work costs on top of the framework, whatever the machine.

botbuilder is imported here and not only in bot.teams: the baseline must be a bare
botbuilder bot, with none of bot.teams in it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity

from bot.teams.web import make_adapter

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.settings import Settings

ECHO_ROUTE = "/bench/echo"


class EchoBot(ActivityHandler):  # type: ignore[misc]
    """Says back what it was told; answers a card invoke with a text message."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text if isinstance(turn_context.activity.text, str) else ""
        await turn_context.send_activity(f"echo: {text[:200]}")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:  # noqa: ARG002
        return InvokeResponse(
            status=200,
            body={
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "echo",
            },
        )


def echo_endpoint(settings: Settings) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """POST handler for the echo bot, on its own CloudAdapter configured as the bot's."""
    adapter = make_adapter(settings)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "Content-Type"}, status=415)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "not JSON"}, status=400)
        activity = Activity().deserialize(body)
        auth = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
        response = await adapter.process_activity(auth, activity, bot.on_turn)
        if response is not None:
            return web.json_response(data=_body(response.body), status=response.status)
        return web.Response(status=201)

    return messages


def _body(body: Any) -> Any:
    return body.serialize() if hasattr(body, "serialize") else body


def add_echo_route(app: web.Application, settings: Settings) -> None:
    """Serve the echo bot beside the real one, on the same server and event loop."""
    app.router.add_post(ECHO_ROUTE, echo_endpoint(settings))
