"""Teams' "…is typing" while a slow reply is on its way, and never before a fast one.

botbuilder's ShowTypingMiddleware starts typing after its delay and goes on until the whole
turn has ended, after the reply too (the bot's work that follows the reply, such as waking
the outbox, kept the indicator up under the answer); it also fires its sends and forgets
them. This one stops at the first message the bot sends, waits for a typing post still in
flight before that message goes (so the indicator never lands under the answer), and logs a
failed typing post instead of losing it.

It answers only what a person typed or clicked as a message: an invoke (Action.Execute)
is answered in its HTTP response, which Teams shows as the card itself, and the proactive
turns of the outbox are no one's question. Channels are left out: Teams shows no typing
indicator in a channel's thread, and each post there counts against the thread's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# A reply within a second needs no indicator; Teams shows one for about three seconds, and
# the Bot Framework asks for no more than one every three seconds.
TYPING_DELAY_SECONDS = 1.0
TYPING_PERIOD_SECONDS = 3.0
_CONVERSATIONS_WITH_TYPING = frozenset({"personal", "groupChat"})


class TypingWhileSlow(Middleware):  # type: ignore[misc]
    """Send `typing` after `delay` seconds, then every `period`, until the bot replies."""

    def __init__(
        self, delay: float = TYPING_DELAY_SECONDS, period: float = TYPING_PERIOD_SECONDS
    ) -> None:
        if delay < 0 or period <= 0:
            raise ValueError("typing needs a delay of 0 or more and a period above 0")
        self._delay = delay
        self._period = period

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[Any]]) -> Any:
        if not _awaits_a_reply(context.activity):
            return await logic()
        replied = asyncio.Event()
        typing: list[asyncio.Task[Any]] = []

        async def before_send(
            _context: TurnContext, activities: list[Activity], send: Callable[[], Awaitable[Any]]
        ) -> Any:
            if any(a.type != ActivityTypes.typing for a in activities):
                replied.set()
                for post in typing:  # a typing post under way lands before the reply
                    with contextlib.suppress(Exception):
                        await asyncio.shield(post)
            return await send()

        context.on_send_activities(before_send)
        indicator = asyncio.create_task(self._keep_typing(context, replied, typing))
        try:
            return await logic()
        finally:
            replied.set()
            indicator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await indicator

    async def _keep_typing(
        self, context: TurnContext, replied: asyncio.Event, typing: list[asyncio.Task[Any]]
    ) -> None:
        wait = self._delay
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(replied.wait(), wait)
                return
            post = asyncio.create_task(_send_typing(context))
            typing[:] = [post]
            await asyncio.shield(post)
            wait = self._period


async def _send_typing(context: TurnContext) -> None:
    try:
        await context.send_activity(Activity(type=ActivityTypes.typing))
    except Exception as error:  # an indicator that could not be shown is no failure
        log.info("typing indicator not sent: %s", type(error).__name__)


def _awaits_a_reply(activity: Activity) -> bool:
    """A message from a person in a personal or group chat (a meeting's chat is one)."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) or "personal"
    return activity.type == ActivityTypes.message and kind in _CONVERSATIONS_WITH_TYPING
