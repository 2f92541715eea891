"""Teams' limits on proactive messages, kept on our side so the connector never has to say 429.

Teams allows a bot, per conversation, 7 messages a second, 8 in 2 s, 60 in 30 s and 1,800
an hour, and an app about 50 requests a second per tenant. Each is a sliding window. The
pacer counts a send in its windows from the moment it is let go until the moment its answer
comes back, and from then on at the time of the answer: the connector saw it at some instant
in between, so counting it at the later end can only overestimate, and the connector's own
count can never be higher than ours, however long requests take on the way. Sends are also
spread out evenly (one every SPREAD × seconds / limit of the tightest window) rather than let
go a window's worth at a time, which keeps requests from queueing up on the way. Sends
waiting for room in a tenant's windows go in the order they came. A 429's Retry-After holds
the conversation (`Pacer.hold`).

A pacer counts what its own process sends. With several instances on one PostgreSQL
database, a conversation is sent to by one instance at a time, which takes over the
conversation's recent sends from the database when it takes the conversation
(`Pacer.remember`), and the tenant's limit is shared through the database
(bot.teams.outbox.budget); see bot.teams.outbox.

Plain asyncio with an injectable clock and sleep: no I/O, no botbuilder.
"""

from __future__ import annotations

import asyncio
import bisect
import email.utils
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# A little slack on every wait, so rounding never lets a send in a hair early.
EPSILON = 0.001
# How many sends behind the even schedule may go at once to catch up.
CATCH_UP = 3
# Sends are spread this much wider than the tightest window's average gap: the windows count
# each send until its answer is back, so they allow a little less than their limit.
SPREAD = 1.02
# The longest Retry-After taken at its word.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Window:
    """At most `limit` sends in any `seconds`-long stretch."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or not self.seconds > 0:
            raise ValueError("a rate window needs a limit of at least 1 and a positive length")

    def __str__(self) -> str:
        return f"{self.limit}/{self.seconds:g}s"


PER_CONVERSATION = (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
PER_TENANT = (Window(50, 1),)

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_windows(text: str) -> tuple[Window, ...]:
    """Windows written as `LIMIT/SECONDS` separated by commas, e.g. `7/1,8/2,60/30,1800/1h`
    (a length may end in s, m or h)."""
    windows = []
    for part in text.split(","):
        found = _WINDOW.match(part)
        if found is None:
            raise ValueError(f"'{part.strip()}' is not LIMIT/SECONDS (such as 7/1 or 1800/1h)")
        limit, length, unit = found.groups()
        windows.append(Window(int(limit), float(length) * _UNITS[unit]))
    return tuple(windows)


@dataclass(frozen=True)
class RateLimits:
    """Teams' documented limits by default; `pace=False` sends as fast as the dispatcher's
    concurrency allows and leaves it to the connector's 429s (for comparison in tests)."""

    per_conversation: tuple[Window, ...] = PER_CONVERSATION
    per_tenant: tuple[Window, ...] = PER_TENANT
    pace: bool = True

    @classmethod
    def parse(cls, per_conversation: str = "", per_tenant: str = "") -> RateLimits:
        """From configuration text (see `parse_windows`); empty text keeps the default."""
        return cls(
            per_conversation=(
                parse_windows(per_conversation) if per_conversation.strip() else PER_CONVERSATION
            ),
            per_tenant=parse_windows(per_tenant) if per_tenant.strip() else PER_TENANT,
        )

    @property
    def tenant_rate(self) -> float:
        """The most sends a second the tenant windows allow in the long run."""
        return min((w.limit / w.seconds for w in self.per_tenant), default=math.inf)


@dataclass
class _Lane:
    """What one key (a conversation or a tenant) has sent recently."""

    windows: tuple[Window, ...]
    # Answer times of finished sends, ascending.
    done: list[float] = field(default_factory=list)
    # Sends let go and not answered yet: they count as "now" in every window.
    in_flight: int = 0
    # Nothing goes until then (the connector said Retry-After).
    held_until: float = 0.0
    # When the next send is due if sends are spread evenly (a virtual schedule: a send let go
    # late does not push the later ones back, up to CATCH_UP sends' worth).
    next_due: float = -math.inf

    @property
    def spacing(self) -> float:
        """A little more than the gap the tightest window allows on average between two
        sends, so the even schedule, not the windows, sets the pace."""
        return SPREAD * min((w.seconds / w.limit for w in self.windows), default=0.0)

    def wait(self, now: float) -> float:
        """Seconds until one more send fits every window (0 when it fits now)."""
        # Spread sends out rather than letting a window's worth go at once: a burst queues up
        # on the way, answers come back later, and later answers hold the windows longer.
        early = self.next_due - CATCH_UP * self.spacing - now
        wait = max(0.0, self.held_until - now, early)
        for window in self.windows:
            start = bisect.bisect_right(self.done, now - window.seconds)
            recent = len(self.done) - start
            over = recent + self.in_flight - window.limit
            if over < 0:
                continue
            if over < recent:
                # Once the `over + 1` oldest sends leave the window, one more fits.
                wait = max(wait, self.done[start + over] + window.seconds - now + EPSILON)
            else:
                # The window is full of sends still on their way: look again shortly.
                wait = max(wait, window.seconds / window.limit)
        return wait

    def answered(self, now: float) -> None:
        """One send came back: count it now, and forget what has left every window."""
        self.in_flight = max(0, self.in_flight - 1)
        bisect.insort(self.done, now)
        longest = max((w.seconds for w in self.windows), default=0.0)
        del self.done[: bisect.bisect_right(self.done, now - longest)]

    def idle(self, now: float) -> bool:
        """Nothing in flight, nothing held, and nothing left in any window."""
        longest = max((w.seconds for w in self.windows), default=0.0)
        return (
            self.in_flight == 0
            and self.held_until <= now
            and (not self.done or self.done[-1] <= now - longest)
        )


@dataclass(eq=False)
class _Waiting:
    """A send waiting for room (compared by identity: two may go to the same place)."""

    conversation: str | None
    tenant: str


@dataclass(frozen=True)
class Slot:
    """A send let go by the pacer; give it back with `Pacer.done` when its answer comes."""

    keys: tuple[str, ...]


class Pacer:
    """Sliding windows per conversation and per tenant, shared by one dispatcher's sends."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[str, _Lane] = {}
        self._sends_since_sweep = 0
        # The sends waiting for room, first come first.
        self._line: list[_Waiting] = []

    def _keys(self, conversation: str | None, tenant: str) -> list[tuple[str, tuple[Window, ...]]]:
        keys = [(f"tenant:{tenant}", self.limits.per_tenant)]
        if conversation is not None:
            keys.append((f"conversation:{conversation}", self.limits.per_conversation))
        return keys

    def wait(self, conversation: str | None, tenant: str) -> float:
        """Seconds until a send to `conversation` (None: a request to no conversation, such as
        creating a chat) fits every window; 0 when it fits now."""
        if not self.limits.pace:
            return 0.0
        now = self._clock()
        return max(
            self._lanes[key].wait(now) if key in self._lanes else 0.0
            for key, _ in self._keys(conversation, tenant)
        )

    async def acquire(
        self, conversation: str | None, tenant: str, *, max_wait: float = math.inf
    ) -> Slot | float:
        """Wait for room and take it; or, when that would take longer than `max_wait`
        seconds, take nothing and return how long it would take."""
        if not self.limits.pace:
            return Slot(())
        started = self._clock()
        me: _Waiting | None = None
        try:
            while True:
                wait = self.wait(conversation, tenant)
                if wait <= 0 and not self._before(me, tenant):
                    return self._take(conversation, tenant)
                if wait <= 0:
                    # Someone waiting longer for this tenant can go now: after them.
                    wait = EPSILON
                waited = self._clock() - started
                if waited + wait > max_wait:
                    return wait
                if me is None:
                    me = _Waiting(conversation, tenant)
                    self._line.append(me)
                await self._sleep(wait)
        finally:
            if me is not None:
                self._line.remove(me)

    def _before(self, me: _Waiting | None, tenant: str) -> bool:
        """Whether a send that has waited longer than `me` (None: one not waiting yet) for
        `tenant` could go now: the first come go first, so that none waits for ever while
        later ones keep taking the room that frees up."""
        for waiting in self._line:
            if waiting is me:
                return False
            if waiting.tenant == tenant and self.wait(waiting.conversation, tenant) <= 0:
                return True
        return False

    def _take(self, conversation: str | None, tenant: str) -> Slot:
        now = self._clock()
        keys = self._keys(conversation, tenant)
        for key, windows in keys:
            lane = self._lanes.setdefault(key, _Lane(windows))
            lane.in_flight += 1
            lane.next_due = max(lane.next_due, now) + lane.spacing
        return Slot(tuple(key for key, _ in keys))

    def done(self, slot: Slot) -> None:
        """The send's answer came back (or it was abandoned): it now counts at this instant."""
        now = self._clock()
        for key in slot.keys:
            lane = self._lanes.get(key)
            if lane is not None:
                lane.answered(now)
        self._sends_since_sweep += 1
        if self._sends_since_sweep >= 1000:
            self._sweep(now)

    def remember(self, conversation: str, ages: Sequence[float]) -> None:
        """Sends to `conversation` made `ages` seconds ago, as the database recorded them
        (another instance held the conversation's lane before this one took it): from now
        on the conversation's windows count them instead of what this pacer knew of its
        sends up to the last of them (the database has those too)."""
        if not self.limits.pace or not ages:
            return
        now = self._clock()
        key, windows = self._keys(conversation, "")[-1]
        longest = max((w.seconds for w in windows), default=0.0)
        times = sorted(now - max(0.0, age) for age in ages if age < longest)
        if not times:
            return
        lane = self._lanes.setdefault(key, _Lane(windows))
        newer = lane.done[bisect.bisect_right(lane.done, times[-1]) :]
        lane.done = sorted(times + newer)
        lane.next_due = max(lane.next_due, times[-1] + lane.spacing)

    def hold(self, conversation: str | None, tenant: str, seconds: float) -> None:
        """The connector said 429 with Retry-After: send nothing more there until then.

        Its answer does not say which limit was hit, so only the conversation is held (or the
        tenant, for a request to no conversation); a tenant-wide limit shows as 429s on every
        conversation, and each is held in turn.
        """
        if not self.limits.pace:
            return
        key, windows = self._keys(conversation, tenant)[-1]
        lane = self._lanes.setdefault(key, _Lane(windows))
        lane.held_until = max(lane.held_until, self._clock() + seconds)

    def _sweep(self, now: float) -> None:
        """Forget what has left every window, so memory follows recent traffic only."""
        self._sends_since_sweep = 0
        for key, lane in list(self._lanes.items()):
            if lane.idle(now):
                del self._lanes[key]

    def tracked(self) -> int:
        """How many conversations and tenants the pacer holds state for (for tests)."""
        return len(self._lanes)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header as seconds to wait: delay-seconds (fractions accepted) or an
    HTTP date, compared with `now`; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
