"""Publishing an event to the features that subscribe to it, in the same unit of work.

A subscriber queues its cards in the publisher's unit of work, so they are sent exactly
when the change commits. An event nobody subscribes to is an error: a feature that stopped
listening would otherwise fail silently (e.g. an agreed action never reaching its SPOC).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.panel import Panel
from bot.kernel.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.domain.events import DomainEvent

Subscriber = Callable[[UnitOfWork, Panel, Any, datetime], Awaitable[None]]


class Events:
    """Event type → its subscribers, built once from FEATURES."""

    def __init__(self, subscriptions: Iterable[tuple[type[Any], Subscriber]] = ()) -> None:
        self._subscribers: dict[type[Any], list[Subscriber]] = {}
        for kind, subscriber in subscriptions:
            self._subscribers.setdefault(kind, []).append(subscriber)

    @classmethod
    def of(cls, subscriptions: Iterable[Mapping[type[Any], Subscriber]]) -> Events:
        """The events of several features' subscription tables."""
        return cls(pair for table in subscriptions for pair in table.items())

    def kinds(self) -> frozenset[type[Any]]:
        """The event types someone listens to."""
        return frozenset(self._subscribers)

    async def publish(
        self, uow: UnitOfWork, panel: Panel, event: DomainEvent, now: datetime
    ) -> None:
        """Run every subscriber of the event's type, in `uow`."""
        subscribers = self._subscribers.get(type(event))
        if not subscribers:
            raise LookupError(f"no feature subscribes to {type(event).__name__}")
        for subscriber in subscribers:
            await subscriber(uow, panel, event, now)
