"""The outbox's requests to the Bot Connector, each within the send timeout: post a message,
put a card over one sent before, open a member's 1:1 chat. Whatever happens comes back as
an `Answer` (the connector's status, or NO_ANSWER / TIMED_OUT), never as an exception."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botbuilder.schema import ConversationReference

from bot.domain.delivery import NO_ANSWER, TIMED_OUT
from bot.teams.conversations import InstallForUser, PanelEndpoint, PersonalChats
from bot.teams.ratelimit import retry_after_seconds
from bot.teams.replies import payload_activity

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    from botbuilder.core import TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter

    from bot.domain.panel import Member


@dataclass(frozen=True)
class Answer:
    """The connector's answer to one request."""

    status: int
    code: str | None = None
    retry_after: float | None = None
    timed_out: bool = False
    # The id Teams gave the message it accepted (a send), if it said.
    activity_id: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Connector:
    """Sends over HTTP through the adapter; the caller paces, classifies and records."""

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        *,
        timeout: float,
        now: Callable[[], datetime],
        install_for_user: InstallForUser | None = None,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._timeout = timeout
        self._now = now
        self.chats = PersonalChats(adapter, app_id, install_for_user=install_for_user)

    async def post(self, reference: dict[str, Any], payload: Mapping[str, Any]) -> Answer:
        """Send a row's message (its payload: bot.teams.replies.payload_activity) into the
        reference's conversation."""

        async def send(turn_context: TurnContext) -> Answer:
            response = await turn_context.send_activity(payload_activity(payload))
            name = getattr(response, "id", None)
            return Answer(201, activity_id=name if isinstance(name, str) and name else None)

        return await self._in_conversation(reference, send, Answer(201))

    async def put(
        self, reference: dict[str, Any], activity_id: str, payload: Mapping[str, Any]
    ) -> Answer:
        """Replace the message `activity_id` in the reference's conversation."""

        async def update(turn_context: TurnContext) -> Answer:
            activity = payload_activity(payload)
            activity.id = activity_id
            await turn_context.update_activity(activity)
            return Answer(200)

        return await self._in_conversation(reference, update, Answer(200))

    async def open_chat(self, endpoint: PanelEndpoint, member: Member) -> tuple[Answer, str | None]:
        """Open the member's 1:1 chat: the answer, and the new conversation's id if it opened."""
        try:
            async with asyncio.timeout(self._timeout):
                conversation_id = await self.chats.create(endpoint, member)
        except TimeoutError:
            return Answer(TIMED_OUT, timed_out=True), None
        except Exception as error:
            return self.answer_of(error), None
        return Answer(201), conversation_id

    async def _in_conversation(
        self,
        reference: dict[str, Any],
        act: Callable[[TurnContext], Awaitable[Answer]],
        done: Answer,
    ) -> Answer:
        """Run `act` in the conversation; `done` when it finished without saying more."""
        failures: list[Exception] = []
        answers: list[Answer] = []

        async def turn(turn_context: TurnContext) -> None:
            # The adapter hands errors inside the turn to on_turn_error and swallows them,
            # so the outcome is captured here.
            try:
                answers.append(await act(turn_context))
            except Exception as error:
                failures.append(error)

        try:
            async with asyncio.timeout(self._timeout):
                await self._adapter.continue_conversation(
                    ConversationReference().deserialize(reference), turn, self._app_id
                )
        except TimeoutError:
            return Answer(TIMED_OUT, timed_out=True)
        except Exception as error:
            failures.append(error)
        if failures:
            return self.answer_of(failures[0])
        return answers[0] if answers else done

    def answer_of(self, error: Exception) -> Answer:
        """The connector's answer behind an adapter error; NO_ANSWER when there was none."""
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        if not isinstance(status, int):
            return Answer(NO_ANSWER, code=type(error).__name__)
        headers = getattr(response, "headers", None) or {}
        details = getattr(getattr(error, "error", None), "error", None)
        code = getattr(details, "code", None)
        return Answer(
            status,
            code=code if isinstance(code, str) else None,
            retry_after=retry_after_seconds(headers.get("Retry-After"), self._now()),
        )
