"""Delivers queued cards (the outbox) through the Bot Connector.

Services queue rows in the same unit of work as the change they report; this dispatcher
claims due rows, sends each to its conversation, and records the outcome. Retries follow
Teams' rules: 429 waits Retry-After, 412/502/503/504 and network errors back off, 403 stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.domain.delivery import OutgoingDelivery
from bot.services.router import Deps, Reply
from bot.teams.replies import to_activity

log = logging.getLogger(__name__)

RETRYABLE = frozenset({412, 429, 502, 503, 504})
MAX_ATTEMPTS = 6
NO_CONVERSATION = 404


class OutboxDispatcher:
    """Claims due outbox rows and sends them; one per process (SQLite) or several (PostgreSQL)."""

    def __init__(self, adapter: CloudAdapter, deps: Deps, app_id: str, *, batch: int = 20) -> None:
        self._adapter = adapter
        self._deps = deps
        self._app_id = app_id
        self._batch = batch
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Something was queued: look now rather than at the next tick."""
        self._wake.set()

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """Deliver until cancelled, sleeping when there is nothing due."""
        while True:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_seconds)
                self._wake.clear()

    async def run_once(self) -> int:
        """Send what is due now; returns how many rows were attempted."""
        now = self._deps.clock.now()
        async with self._deps.uow() as uow:
            claimed = await uow.outbox.due(now, self._batch)
            for delivery in claimed:
                delivery.claim()
                await uow.outbox.save(delivery)
            await uow.commit()
        for delivery in claimed:
            await self._deliver(delivery)
        return len(claimed)

    async def _reference(self, delivery: OutgoingDelivery) -> dict[str, Any] | None:
        async with self._deps.uow() as uow:
            if delivery.recipient_member_id is not None:
                ref = await uow.conversations.personal(
                    delivery.panel_id, delivery.recipient_member_id
                )
            else:
                conversation_id = delivery.payload.get("conversation_id")
                ref = (
                    await uow.conversations.by_conversation(delivery.panel_id, conversation_id)
                    if isinstance(conversation_id, str)
                    else None
                )
        return ref.reference if ref is not None else None

    async def _deliver(self, delivery: OutgoingDelivery) -> None:
        reference = await self._reference(delivery)
        if reference is None:
            # Nobody to write to yet (the member never opened a chat with the bot).
            log.warning("delivery %s has no conversation to go to", delivery.id)
            await self._record(delivery, NO_CONVERSATION, sent=False, unreachable=True)
            return
        reply = Reply(text=delivery.payload.get("text"), card=delivery.payload.get("card"))

        failures: list[Exception] = []

        async def send(turn_context: TurnContext) -> None:
            # The adapter hands errors inside the turn to on_turn_error and swallows them,
            # so the outcome is captured here.
            try:
                await turn_context.send_activity(to_activity(reply))
            except Exception as error:
                failures.append(error)

        try:
            await self._adapter.continue_conversation(
                ConversationReference().deserialize(reference), send, self._app_id
            )
        except Exception as error:
            failures.append(error)
        if failures:
            status = _status_of(failures[0])
            log.warning("delivery %s failed with %s", delivery.id, status)
            await self._record(delivery, status, sent=False, unreachable=status == 403)
            return
        await self._record(delivery, 201, sent=True, unreachable=False)

    async def _record(
        self, delivery: OutgoingDelivery, status: int, *, sent: bool, unreachable: bool
    ) -> None:
        now = self._deps.clock.now()
        async with self._deps.uow() as uow:
            stored = await uow.outbox.get(delivery.panel_id, delivery.id)
            if stored is None:
                return
            if sent:
                stored.sent(status, now)
            elif unreachable or status not in RETRYABLE or stored.attempts >= MAX_ATTEMPTS:
                stored.give_up(status, unreachable=unreachable)
            else:
                backoff = min(300.0, 2.0**stored.attempts) * (0.5 + random.random())  # noqa: S311
                stored.retry_later(status, now + timedelta(seconds=backoff))
            await uow.outbox.save(stored)
            await uow.commit()


def _status_of(error: Exception) -> int:
    """The HTTP status behind a connector error; 503 for network failures."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else 503
