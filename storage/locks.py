"""Named locks of one process: what stands in for PostgreSQL's advisory locks on SQLite
(one instance, by design) and in memory."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class LocalLocks:
    """One asyncio lock per name, created when first asked for."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def _named(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def acquire(self, name: str) -> asyncio.Lock:
        """Wait for the named lock and take it; the caller releases what is returned."""
        lock = self._named(name)
        await lock.acquire()
        return lock

    @contextlib.asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        """The named lock for the block if it is free (True), else False at once."""
        lock = self._named(name)
        if lock.locked():
            yield False
            return
        await lock.acquire()
        try:
            yield True
        finally:
            lock.release()


class HeldLocks:
    """The locks one unit of work holds, released together when it ends."""

    def __init__(self, locks: LocalLocks) -> None:
        self._locks = locks
        self._held: dict[str, asyncio.Lock] = {}

    async def take(self, name: str) -> None:
        """Take the named lock for this unit of work (again: nothing more)."""
        if name not in self._held:
            self._held[name] = await self._locks.acquire(name)

    def release_all(self) -> None:
        held, self._held = self._held, {}
        for lock in held.values():
            lock.release()
