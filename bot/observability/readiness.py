"""Ready or not: the database answers, its schema is the one this code needs, and the outbox
dispatcher's loop is alive.

`SchemaGate` keeps whatever touches the database in the background (the dispatcher, the
backlog sampler, the jobs) waiting on a database that was never migrated, or is behind, with
one clear line in the log instead of a traceback a pass; once the schema is at the head it
opens for good (a schema does not go back), with no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.kernel.ports import SchemaStatus, Storage

log = logging.getLogger(__name__)

# The dispatcher's loop passes at least every idle interval (2 s); this long without a pass
# means it is stuck or dead.
STALE_AFTER: Final = 60.0
UNREACHABLE: Final = "the database does not answer"


def behind(status: SchemaStatus) -> str:
    """The one line that says what to do about a schema that is not the code's."""
    current = ", ".join(status.current) or "none (never migrated)"
    return (
        f"database schema is at {current}, the code needs {', '.join(status.needed)}: "
        "run python -m bot migrate"
    )


class SchemaGate:
    """Opens once the database's schema is the one the code needs."""

    def __init__(self, storage: Storage, *, poll_seconds: float = 5.0) -> None:
        self._storage = storage
        self.poll_seconds = poll_seconds
        self._open = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self.checks = 0  # how many times the database was asked (for tests and logs)

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    async def check(self) -> SchemaStatus | None:
        """Ask the database now (once at the head, it is not asked again); None when it
        does not answer. Opens the gate when the schema is at the head."""
        status = await self._storage.schema_status()
        self.checks += 1
        if status is not None and status.at_head:
            self._open.set()
        return status

    async def wait(self) -> None:
        """Return once the schema is at the head; meanwhile one poller asks every
        `poll_seconds`, logging one line each time what it finds changes."""
        if self._open.is_set():
            return
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll())
        await self._open.wait()

    async def close(self) -> None:
        """Stop the poller (the app is shutting down)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _poll(self) -> None:
        said: str | None = None
        while not self._open.is_set():
            status = await self.check()
            if status is not None and status.at_head:
                if said is not None:
                    log.info("database schema is at %s: starting", ", ".join(status.current))
                return
            line = UNREACHABLE if status is None else behind(status)
            if line != said:
                log.warning("%s; waiting", line)
                said = line
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._open.wait()  # a /readyz check may open it sooner


async def readiness(
    storage: Storage, gate: SchemaGate, heartbeat: Callable[[], float | None] | None
) -> tuple[bool, dict[str, Any]]:
    """Whether the bot is ready, and the body that says which check failed.

    `heartbeat` gives the monotonic time of the dispatcher loop's last pass (None before
    its first); None when this app does not run the loop (tests that step delivery)."""
    body: dict[str, Any] = {"database": "ok", "schema": "ok", "dispatcher": "ok"}
    reasons: list[str] = []
    if not await storage.ping():
        body.update(database="unreachable", schema="unknown")
        reasons.append(UNREACHABLE)
    else:
        status = await gate.check()
        if status is None:
            body["schema"] = "unknown"
            reasons.append(UNREACHABLE)
        elif not status.at_head:
            body["schema"] = "behind"
            body["schema_current"] = list(status.current)
            body["schema_needed"] = list(status.needed)
            reasons.append(behind(status))
    if heartbeat is None:
        body["dispatcher"] = "not run by this app"
    else:
        last = heartbeat()
        if last is None:
            body["dispatcher"] = "not started"
            reasons.append(
                "the outbox dispatcher waits for the database"
                if not gate.is_open
                else "the outbox dispatcher has not started"
            )
        elif time.monotonic() - last > STALE_AFTER:
            body["dispatcher"] = "stalled"
            reasons.append(f"the outbox dispatcher has not passed for over {STALE_AFTER:.0f} s")
    ready = not reasons
    body = {"status": "ready" if ready else "not ready", **body}
    if reasons:
        body["reason"] = "; ".join(dict.fromkeys(reasons))
    return ready, body
