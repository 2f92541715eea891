"""The pacer's sliding windows, on a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.teams.ratelimit import (
    PER_CONVERSATION,
    PER_TENANT,
    Pacer,
    RateLimits,
    Slot,
    Window,
    parse_windows,
    retry_after_seconds,
)

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


class Time:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def most_in_any_window(starts: list[float], seconds: float) -> int:
    return max(sum(1 for t in starts if s <= t < s + seconds) for s in starts)


async def send_all(pacer: Pacer, time: Time, count: int, *, latency: float = 0.0) -> list[float]:
    """Send `count` messages to one chat one after the other; returns when each went."""
    starts = []
    for _ in range(count):
        slot = await pacer.acquire("a:chat", "tenant")
        assert isinstance(slot, Slot)
        starts.append(time.now)
        time.now += latency
        pacer.done(slot)
    return starts


async def test_teams_limits_per_conversation_hold_in_every_window() -> None:
    time = Time()
    pacer = Pacer(RateLimits(), clock=time, sleep=time.sleep)

    starts = await send_all(pacer, time, 70)

    assert most_in_any_window(starts, 1) <= 7
    assert most_in_any_window(starts, 2) <= 8
    assert most_in_any_window(starts, 30) <= 60


async def test_a_send_counts_until_its_answer_comes_back() -> None:
    time = Time()
    pacer = Pacer(RateLimits(per_conversation=(Window(2, 1),)), clock=time, sleep=time.sleep)
    first = await pacer.acquire("a:chat", "tenant")
    second = await pacer.acquire("a:chat", "tenant")
    assert isinstance(first, Slot) and isinstance(second, Slot)
    time.now += 5  # both still on their way: the window stays full
    assert pacer.wait("a:chat", "tenant") > 0
    pacer.done(first)
    pacer.done(second)
    assert pacer.wait("a:chat", "tenant") == pytest.approx(1.0, abs=0.01)


async def test_chats_have_their_own_windows_and_share_the_tenants() -> None:
    time = Time()
    limits = RateLimits(per_conversation=(Window(1, 10),), per_tenant=(Window(3, 10),))
    pacer = Pacer(limits, clock=time, sleep=time.sleep)
    for chat in ("a:1", "a:2", "a:3"):
        slot = await pacer.acquire(chat, "tenant")
        assert isinstance(slot, Slot)
        pacer.done(slot)
    assert pacer.wait("a:4", "tenant") > 0  # the tenant is full
    assert pacer.wait("a:4", "another tenant") == 0
    assert pacer.wait("a:1", "another tenant") > 0  # the chat is full


async def test_a_wait_longer_than_allowed_takes_nothing_and_says_how_long() -> None:
    time = Time()
    pacer = Pacer(RateLimits(per_conversation=(Window(1, 60),)), clock=time, sleep=time.sleep)
    slot = await pacer.acquire("a:chat", "tenant")
    assert isinstance(slot, Slot)
    pacer.done(slot)

    waited = await pacer.acquire("a:chat", "tenant", max_wait=5)

    assert waited == pytest.approx(60, abs=0.01)
    assert time.slept == []


async def test_a_retry_after_holds_the_conversation() -> None:
    time = Time()
    pacer = Pacer(RateLimits(), clock=time, sleep=time.sleep)
    pacer.hold("a:chat", "tenant", 3.0)
    assert pacer.wait("a:chat", "tenant") == pytest.approx(3.0)
    assert pacer.wait("a:other", "tenant") == 0
    slot = await pacer.acquire("a:chat", "tenant")
    assert isinstance(slot, Slot)
    assert sum(time.slept) == pytest.approx(3.0)


async def test_without_pacing_nothing_waits() -> None:
    time = Time()
    pacer = Pacer(RateLimits(pace=False), clock=time, sleep=time.sleep)
    pacer.hold("a:chat", "tenant", 30)
    await send_all(pacer, time, 50)
    assert time.slept == []


async def test_sends_are_spread_out_rather_than_let_go_in_bursts() -> None:
    time = Time()
    pacer = Pacer(RateLimits(per_tenant=(Window(50, 1),)), clock=time, sleep=time.sleep)
    starts = []
    for n in range(200):
        slot = await pacer.acquire(f"a:{n}", "tenant")
        assert isinstance(slot, Slot)
        starts.append(time.now)
        pacer.done(slot)
    assert most_in_any_window(starts, 1) <= 50
    assert most_in_any_window(starts, 0.1) <= 9  # never a whole second's worth at once


async def test_the_pacer_forgets_conversations_that_have_gone_quiet() -> None:
    time = Time()
    pacer = Pacer(RateLimits(), clock=time, sleep=time.sleep)
    for n in range(1500):
        slot = await pacer.acquire(f"a:{n}", "tenant")
        assert isinstance(slot, Slot)
        pacer.done(slot)
        time.now += 5  # an hour later the first ones have left every window
    assert pacer.tracked() < 1500


def test_limits_are_read_from_configuration_text() -> None:
    assert parse_windows("7/1, 8/2,60/30 , 1800/1h") == PER_CONVERSATION
    assert parse_windows("50/1s") == PER_TENANT
    assert parse_windows("100/2m") == (Window(100, 120),)
    assert RateLimits.parse("", "") == RateLimits()
    assert RateLimits.parse("3/1", "20/1") == RateLimits(
        per_conversation=(Window(3, 1),), per_tenant=(Window(20, 1),)
    )
    assert RateLimits().tenant_rate == 50


@pytest.mark.parametrize("text", ["7", "7/", "/1", "seven/1", "7/1d", "0/1", "7/0"])
def test_nonsense_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"LIMIT/SECONDS|limit of at least 1"):
        parse_windows(text)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.25", 0.25),
        (" 2 ", 2.0),
        ("-5", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("99999999", 3600.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, NOW) == seconds
