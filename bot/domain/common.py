"""Small shared pieces: ids, clocks and the state-machine helper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.domain.errors import InvalidTransition

if TYPE_CHECKING:
    from collections.abc import Mapping


def new_id() -> str:
    """A fresh random identifier for a record."""
    return uuid.uuid4().hex


class Clock(Protocol):
    """Where the time comes from: injected so tests can fix it."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and the demo seed."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, to: datetime) -> None:
        """Move the clock to a later instant."""
        self._at = to


S = TypeVar("S", bound=StrEnum)


def move(current: S, target: S, allowed: Mapping[S, frozenset[S]], what: str) -> S:
    """Return `target` if the lifecycle allows moving there from `current`."""
    if target not in allowed.get(current, frozenset()):
        raise InvalidTransition(f"A {what} that is {current.value} cannot become {target.value}.")
    return target


def require_aware(at: datetime, name: str = "time") -> datetime:
    """Refuse naive datetimes: every instant in the domain carries its zone."""
    if at.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at
