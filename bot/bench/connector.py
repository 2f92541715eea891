"""A fake Bot Connector service on 127.0.0.1, for tests and the benchmark.

It serves the v3 endpoints the bot uses (create a conversation, send or reply, update an
activity), enforces Teams' limits with 429 and Retry-After as Teams does (sliding windows
per conversation and per tenant, configurable), can be told to fail (a status, a Teams
error code, a delay longer than the bot's timeout, a request held until released), and
records every activity it accepted with its conversation, so a message delivered twice is
there twice.

It counts on its own (it does not reuse bot.teams.ratelimit), so tests check the bot's
pacing against an independent judge. aiohttp only; no botbuilder.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.test_utils import TestServer

if TYPE_CHECKING:
    from collections.abc import Callable

Limit = tuple[int, float]  # at most LIMIT requests in any SECONDS

TEAMS_PER_CONVERSATION: tuple[Limit, ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TEAMS_PER_TENANT: tuple[Limit, ...] = ((50, 1.0),)


@dataclass(frozen=True)
class ConnectorLimits:
    """What the fake enforces: sends per conversation, requests per tenant."""

    per_conversation: tuple[Limit, ...] = TEAMS_PER_CONVERSATION
    per_tenant: tuple[Limit, ...] = TEAMS_PER_TENANT
    enforce: bool = True
    # Retry-After in whole seconds, as Teams sends it; False gives fractions (quick tests).
    whole_seconds: bool = True
    # Retry-After as an HTTP date instead of seconds.
    http_date: bool = False


@dataclass(frozen=True)
class Fault:
    """One answer the fake gives to a request instead of accepting it."""

    status: int = 503
    code: str = "ServiceUnavailable"
    retry_after: str | None = None
    # Wait this long before answering: longer than the bot's timeout makes a timeout.
    delay: float = 0.0
    # After the delay (or the hold), accept and record the activity after all.
    accept: bool = False
    # Keep the request waiting until `release()`, then accept it (a send caught in flight).
    hold: bool = False


BLOCKED_BY_USER = Fault(403, "ConversationBlockedByUser")
BOT_DISABLED_BY_ADMIN = Fault(403, "BotDisabledByAdmin")
CONVERSATION_NOT_FOUND = Fault(404, "ConversationNotFound")


class _Windows:
    """Arrival times per key, to answer "does one more fit every window?"."""

    def __init__(self) -> None:
        self._arrivals: dict[str, deque[float]] = {}

    def retry_after(self, key: str, limits: tuple[Limit, ...], now: float) -> float:
        """0 when one more request fits; otherwise seconds until it would."""
        arrivals = self._arrivals.get(key)
        if not arrivals:
            return 0.0
        longest = max(seconds for _, seconds in limits)
        while arrivals and arrivals[0] <= now - longest:
            arrivals.popleft()
        wait = 0.0
        for limit, seconds in limits:
            recent = [t for t in arrivals if t > now - seconds]
            if len(recent) >= limit:
                wait = max(wait, recent[len(recent) - limit] + seconds - now)
        return wait

    def add(self, key: str, now: float) -> None:
        self._arrivals.setdefault(key, deque()).append(now)


@dataclass
class FakeConnector:
    """The v3 conversation endpoints a bot talks to; every accepted activity is kept."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    # Every activity accepted, `typing` ones too, in order; `sent` holds the messages only
    # (a turn slow on a busy machine may post typing first: no test counts it as a message).
    timeline: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    # Statuses to answer the next sends with, in order, instead of accepting them.
    failures: list[int] = field(default_factory=list)
    limits: ConnectorLimits = field(default_factory=ConnectorLimits)
    # 429s answered because a limit was hit (injected faults are not counted here).
    throttled: int = 0
    # Every status answered, injected or not.
    answered: Counter[int] = field(default_factory=Counter)
    # When each activity in `sent` was accepted (the event loop's clock).
    accepted_at: list[float] = field(default_factory=list)
    # Requests being answered right now (delayed or held).
    in_flight: int = 0
    held: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _next: list[Fault] = field(default_factory=list)
    _next_create: list[Fault] = field(default_factory=list)
    _by_conversation: dict[str, list[Fault]] = field(default_factory=dict)
    _windows: _Windows = field(default_factory=_Windows)
    _release: asyncio.Event | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        return app

    # Telling it what to do

    def fail_next(self, *faults: Fault | int) -> None:
        """Answer the next sends (to any conversation) with these, in order."""
        self._next.extend(_fault(f) for f in faults)

    def fail_conversation(self, conversation_id: str, *faults: Fault | int) -> None:
        """Answer the next sends to this conversation with these, in order."""
        self._by_conversation.setdefault(conversation_id, []).extend(_fault(f) for f in faults)

    def fail_create(self, *faults: Fault | int) -> None:
        """Answer the next conversation creations with these, in order."""
        self._next_create.extend(_fault(f) for f in faults)

    def release(self) -> None:
        """Let every held request (and any later one) through."""
        self._release_event().set()

    # What it saw

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

    def deliveries(self) -> Counter[str]:
        """How often each distinct message (conversation, text and attachments) arrived."""
        return Counter(_identity(activity) for activity in self.sent)

    def duplicates(self) -> int:
        """Copies beyond the first of every message that arrived more than once."""
        return sum(count - 1 for count in self.deliveries().values())

    def to_conversation(
        self, conversation_id: str, *, typing: bool = False
    ) -> list[dict[str, Any]]:
        """The messages accepted in one conversation, in order (and `typing`, when asked)."""
        seen = self.timeline if typing else self.sent
        return [a for a in seen if a["_conversation"] == conversation_id]

    # The endpoints

    async def _send(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        conversation = request.match_info["conversation"]
        fault = self._take_fault(conversation)
        if fault is not None:
            return await self._fail(fault, lambda: self._accept_send(body, conversation))
        now = asyncio.get_running_loop().time()
        tenant = _tenant(body)
        wait = self._over_limit(now, tenant, conversation)
        if wait > 0:
            return self._throttle(wait)
        return self._accept_send(body, conversation)

    def _accept_send(self, body: dict[str, Any], conversation: str) -> web.Response:
        now = asyncio.get_running_loop().time()
        self._windows.add(f"tenant:{_tenant(body)}", now)
        self._windows.add(f"conversation:{conversation}", now)
        body["_conversation"] = conversation
        self.timeline.append(body)
        if body.get("type") == "typing":
            return self._answer({"id": f"typing-{next(self._ids)}"}, 201)
        self.sent.append(body)
        self.accepted_at.append(now)
        return self._answer({"id": f"reply-{next(self._ids)}"}, 201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = asyncio.get_running_loop().time()
        wait = self._over_limit(now, _tenant(body), None)
        if wait > 0:
            return self._throttle(wait)
        self._windows.add(f"tenant:{_tenant(body)}", now)
        self.updated.append(body)
        return self._answer({"id": request.match_info["activity"]}, 200)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        fault = self._next_create.pop(0) if self._next_create else None
        if fault is not None:
            return await self._fail(fault, lambda: self._accept_create(body))
        now = asyncio.get_running_loop().time()
        wait = self._over_limit(now, _tenant(body), None)
        if wait > 0:
            return self._throttle(wait)
        return self._accept_create(body)

    def _accept_create(self, body: dict[str, Any]) -> web.Response:
        self._windows.add(f"tenant:{_tenant(body)}", asyncio.get_running_loop().time())
        self.created.append(body)
        return self._answer({"id": f"a:new-{next(self._ids)}"}, 201)

    # Helpers

    def _take_fault(self, conversation: str) -> Fault | None:
        if self.failures:
            return Fault(self.failures.pop(0), "Injected")
        queued = self._by_conversation.get(conversation)
        if queued:
            return queued.pop(0)
        if self._next:
            return self._next.pop(0)
        return None

    async def _fail(self, fault: Fault, accept: Callable[[], web.Response]) -> web.StreamResponse:
        self.in_flight += 1
        try:
            if fault.hold:
                self.held += 1
                try:
                    await self._release_event().wait()
                finally:
                    self.held -= 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
        finally:
            self.in_flight -= 1
        if fault.accept or fault.hold:
            return accept()
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        return self._answer(
            {"error": {"code": fault.code, "message": f"injected {fault.status}"}},
            fault.status,
            headers,
        )

    def _over_limit(self, now: float, tenant: str, conversation: str | None) -> float:
        if not self.limits.enforce:
            return 0.0
        wait = self._windows.retry_after(f"tenant:{tenant}", self.limits.per_tenant, now)
        if conversation is not None:
            wait = max(
                wait,
                self._windows.retry_after(
                    f"conversation:{conversation}", self.limits.per_conversation, now
                ),
            )
        return wait

    def _throttle(self, wait: float) -> web.Response:
        self.throttled += 1
        if self.limits.http_date:
            when = datetime.now(UTC) + timedelta(seconds=math.ceil(wait))
            retry_after = format_datetime(when, usegmt=True)
        elif self.limits.whole_seconds:
            retry_after = str(max(1, math.ceil(wait)))
        else:
            retry_after = f"{wait:.3f}"
        return self._answer(
            {"error": {"code": "TooManyRequests", "message": "Too many requests"}},
            429,
            {"Retry-After": retry_after},
        )

    def _answer(
        self, body: dict[str, Any], status: int, headers: dict[str, str] | None = None
    ) -> web.Response:
        self.answered[status] += 1
        return web.json_response(body, status=status, headers=headers)

    def _release_event(self) -> asyncio.Event:
        if self._release is None:
            self._release = asyncio.Event()
        return self._release


def _fault(value: Fault | int) -> Fault:
    return value if isinstance(value, Fault) else Fault(value, "Injected")


def _tenant(body: dict[str, Any]) -> str:
    """The tenant a request is for, wherever Teams would carry it."""
    conversation = body.get("conversation")
    if isinstance(conversation, dict) and conversation.get("tenantId"):
        return str(conversation["tenantId"])
    channel_data = body.get("channelData")
    if isinstance(channel_data, dict):
        tenant = channel_data.get("tenant")
        if isinstance(tenant, dict) and tenant.get("id"):
            return str(tenant["id"])
    # botbuilder spells it tenantID when it creates a conversation.
    for name in ("tenantId", "tenantID"):
        if body.get(name):
            return str(body[name])
    return "default"


def _identity(activity: dict[str, Any]) -> str:
    return json.dumps(
        [activity.get("_conversation"), activity.get("text"), activity.get("attachments")],
        sort_keys=True,
    )


async def start_connector(
    limits: ConnectorLimits | None = None,
) -> tuple[FakeConnector, TestServer, str]:
    """Serve a fresh fake connector on a free loopback port; returns it, its server, its URL."""
    connector = FakeConnector(limits=limits or ConnectorLimits())
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    return connector, server, str(server.make_url("/"))
