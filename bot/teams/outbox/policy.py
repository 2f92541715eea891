"""How the outbox dispatcher claims, retries and waits, and what it counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the dispatcher claims, retries and waits; the defaults suit production."""

    # Rows SENDING for longer than this belonged to a dispatcher that stopped.
    lease: timedelta = timedelta(minutes=2)
    # How long a conversation's lane stays an instance's without being renewed (PostgreSQL;
    # renewed every quarter of it while the lane has rows in flight).
    lane_lease: timedelta = timedelta(seconds=20)
    # Requests on the wire at once, across conversations.
    concurrency: int = 16
    # Rows claimed per transaction, and claimed but unfinished at most (run_forever).
    batch: int = 50
    max_in_flight: int = 100
    # Sends of one row before it is given up as FAILED.
    max_attempts: int = 8
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # A longer wait (pacing, Retry-After, back-off) sends the row back to the queue instead.
    max_inline_wait: float = 30.0
    # Longer than this without an answer is a timeout.
    send_timeout: float = 30.0

    @property
    def hold_seconds(self) -> float:
        """How long after its claim a row is sent, retried or handed back at the latest."""
        return self.lease.total_seconds() / 2

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Exponential back-off with jitter: about base, 2 × base, 4 × base, … up to the cap."""
        doubling: float = 2.0 ** (failures - 1)
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * doubling)
        return ceiling * (0.5 + rng.random())


@dataclass
class DeliveryStats:
    """What one dispatcher did since it started; for logs, tests and the benchmark."""

    claimed: int = 0
    sent: int = 0
    retries: int = 0
    throttled: int = 0
    timeouts: int = 0
    failed: int = 0
    unreachable: int = 0
    requeued: int = 0
    resumed: int = 0
    chats_created: int = 0
    chats_recreated: int = 0
    lost_lease: int = 0
    unrecorded: int = 0
    updated: int = 0
    updates_dropped: int = 0
    # Lanes (conversations) taken from nobody or from a stopped instance (PostgreSQL).
    lanes_taken: int = 0
    # Requests that missed their tenant turn (their process was busy) and took another.
    late_turns: int = 0
