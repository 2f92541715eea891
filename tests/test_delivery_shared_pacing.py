"""Several dispatchers on one PostgreSQL database hold Teams' limits in total, not each.

Three dispatchers, each with its own engine and adapter (as three processes would have),
deliver from one database to one fake connector, which counts arrivals on its own and
answers 429 past its limits. The tenant's budget is shared through the database (one turn
per request), a conversation's rows are claimed by one dispatcher at a time (its lane), and
a dispatcher taking a lane loads the conversation's recent sends into its pacer. Skipped
when PostgreSQL cannot be reached, or a failure when CI is set (tests/contract/conftest.py).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.app import make_deps
from bot.bench.fanout import reminder_card, seed_spocs, states
from bot.domain.common import SystemClock
from bot.domain.delivery import DeliveryState
from bot.kernel import notify
from bot.settings import Settings
from bot.teams.outbox import DeliveryPolicy, DeliveryStats, OutboxDispatcher
from bot.teams.outbox.budget import AHEAD, GAP_SPREAD, TenantBudget
from bot.teams.ratelimit import RateLimits, Window
from bot.teams.web import make_adapter, speed_up_connector_clients
from storage import migrate_async, open_storage
from tests.contract.conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema
from tests.support import cards
from tests.support.connector import ConnectorLimits, start_connector

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Sequence

    from bot.bench.connector import FakeConnector
    from bot.bench.fanout import Fleet
    from bot.domain.panel import Member
    from bot.kernel.ports import Storage

pytestmark = pytest.mark.postgres

TENANT_RATE = 50  # Teams' own limit
FAN_OUT = 300  # six seconds' worth at the tenant's limit


@dataclass
class Shared:
    """One migrated schema, a fake connector, a seeded panel, and storages for dispatchers."""

    schema: str
    fake: FakeConnector
    fleet: Fleet
    seeding: Storage
    clock: SystemClock

    def dispatcher(
        self, storage: Storage, limits: RateLimits, policy: DeliveryPolicy
    ) -> OutboxDispatcher:
        return OutboxDispatcher(
            make_adapter(Settings()),
            make_deps(uow=storage.unit_of_work, clock=self.clock),
            "",
            limits=limits,
            policy=policy,
        )

    async def queue(self, cards_for: Sequence[tuple[Member, str]]) -> list[str]:
        """Queue a reminder card for each (member, text), in order; returns the row ids."""
        keys = []
        async with self.seeding.unit_of_work() as uow:
            for member, text in cards_for:
                key = f"shared:{member.id}:{text}"
                assert await notify.card_to_member(
                    uow,
                    panel_id=self.fleet.panel.id,
                    member_id=member.id,
                    card=reminder_card(text),
                    key=key,
                    now=self.clock.now(),
                )
                keys.append(key)
            await uow.commit()
        async with self.seeding.unit_of_work() as uow:
            due = await uow.outbox.due(self.clock.now() + timedelta(days=1), 100_000)
        by_key = {row.key: row.id for row in due}
        return [by_key[key] for key in keys]

    def chat_of(self, member: Member) -> str:
        return next(r.conversation_id for r in self.fleet.chats if r.member_id == member.id)


@contextlib.asynccontextmanager
async def shared_database(
    connector: ConnectorLimits, *, spocs: int, instances: int = 3
) -> AsyncIterator[tuple[Shared, list[Storage]]]:
    await require_postgres()
    speed_up_connector_clients()  # as the app does (bot.app.create_app)
    schema = unique_schema("shared_pacing")
    await migrate_async(POSTGRES_URL, schema=schema)
    fake, server, url = await start_connector(connector)
    storages: list[Storage] = [
        open_storage(POSTGRES_URL, schema=schema) for _ in range(instances + 1)
    ]
    seeding, *theirs = storages
    clock = SystemClock()
    try:
        fleet = await seed_spocs(seeding, spocs, url, now=clock.now(), coordinators=0)
        yield Shared(schema, fake, fleet, seeding, clock), theirs
    finally:
        await server.close()
        for storage in storages:
            await storage.close()
        await drop_schema(schema)


@contextlib.asynccontextmanager
async def running(*dispatchers: OutboxDispatcher) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(d.run_forever(idle_seconds=0.05)) for d in dispatchers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def start_up_frozen() -> Iterator[None]:
    """What exists now left out of the garbage collector's passes, as python -m bot serve
    does once started (bot/__main__.py), and given back to it afterwards. A full collection
    over everything this test process has imported and built held its one event loop, and
    so all three dispatchers and the connector, for up to 0.4 s: turns missed and a lower
    rate than three bot processes would see."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def until_sent(count: int, *dispatchers: OutboxDispatcher, within: float) -> None:
    async with asyncio.timeout(within):
        while sum(d.stats.sent for d in dispatchers) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def most_in_any_window(times: Sequence[float], seconds: float) -> int:
    """The most arrivals in any `seconds`-long stretch (half-open, as the connector counts)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + seconds) - i for i, t in enumerate(ordered)), default=0
    )


def arrivals_by_chat(fake: FakeConnector) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for activity, at in zip(fake.sent, fake.accepted_at, strict=True):
        found.setdefault(activity["_conversation"], []).append(at)
    return found


async def test_three_dispatchers_share_the_tenants_limit_in_every_second() -> None:
    limits = RateLimits(per_tenant=(Window(TENANT_RATE, 1.0),))
    async with shared_database(
        ConnectorLimits(per_tenant=((TENANT_RATE, 1.0),)), spocs=FAN_OUT
    ) as (world, storages):
        texts = {member.id: f"Reminder for {member.name}" for member in world.fleet.members}
        await world.queue([(member, texts[member.id]) for member in world.fleet.members])
        dispatchers = [world.dispatcher(s, limits, DeliveryPolicy()) for s in storages]

        with start_up_frozen():
            async with running(*dispatchers):
                await until_sent(FAN_OUT, *dispatchers, within=FAN_OUT / TENANT_RATE * 3 + 20)

        arrived = world.fake.accepted_at
        peak = most_in_any_window(arrived, 1.0)
        rate = (len(arrived) - 1) / (max(arrived) - min(arrived)) / TENANT_RATE
        sent_by = [d.stats.sent for d in dispatchers]
        print(  # noqa: T201 (the figures, for the report)
            f"\nfan-out of {FAN_OUT} by 3 dispatchers: peak {peak} in any 1 s "
            f"(limit {TENANT_RATE}), overall {rate:.3f} of the limit, sent by each {sent_by}, "
            f"429s {world.fake.throttled}, late turns {[d.stats.late_turns for d in dispatchers]}"
        )
        assert sorted(cards.body_text(a) for a in world.fake.sent) == sorted(texts.values())
        assert world.fake.duplicates() == 0
        assert world.fake.throttled == 0
        assert peak <= TENANT_RATE
        assert rate >= 0.9
        assert all(sent > 0 for sent in sent_by)  # all three took part


async def test_a_process_holds_only_a_few_of_the_tenants_turns_before_they_come() -> None:
    limits = RateLimits(per_tenant=(Window(TENANT_RATE, 1.0),))
    gap = GAP_SPREAD / TENANT_RATE
    waiting = 12
    async with shared_database(
        ConnectorLimits(per_tenant=((TENANT_RATE, 1.0),)), spocs=1, instances=2
    ) as (_world, (mine, other)):
        budget = TenantBudget(
            mine.unit_of_work,
            limits,
            DeliveryStats(),
            owner="mine",
            monotonic=time.monotonic,
            sleep=asyncio.sleep,
        )
        went: list[float] = []

        async def request() -> None:
            assert await budget.turn("tenant", math.inf) is None
            went.append(time.monotonic())

        requests = [asyncio.create_task(request()) for _ in range(waiting)]
        await asyncio.sleep(gap)
        # Another instance asks meanwhile: its turn comes after the few this one holds, not
        # after all the requests this one has waiting.
        async with other.unit_of_work() as uow:
            taken = await uow.outbox.tenant_turn("tenant", "other", gap)
            await uow.commit()
        assert taken is not None
        ahead = (taken[0] - datetime.now(UTC)).total_seconds()
        await asyncio.gather(*requests)
        await budget.stop()
        print(  # noqa: T201
            f"\n{waiting} requests waiting: another instance's turn {ahead * 1000:.0f} ms ahead "
            f"(AHEAD {AHEAD}, a turn every {gap * 1000:.1f} ms)"
        )
        assert len(went) == waiting
        assert ahead < (AHEAD + 1) * gap
        gaps = [b - a for a, b in zip(sorted(went), sorted(went)[1:], strict=False)]
        assert sum(gaps) >= (waiting - 1) * gap * 0.9  # still one turn each, spaced


async def test_one_conversations_rows_keep_their_order_and_windows_across_dispatchers() -> None:
    per_chat = (Window(3, 0.3), Window(4, 0.6), Window(12, 3.0))
    limits = RateLimits(per_conversation=per_chat, per_tenant=(Window(2000, 1.0),))
    rows = 16
    # Small batches and short leases: lanes are let go and taken again while rows remain.
    policy = DeliveryPolicy(batch=4, max_in_flight=8, lane_lease=timedelta(seconds=1))
    async with shared_database(
        ConnectorLimits(
            per_conversation=tuple((w.limit, w.seconds) for w in per_chat),
            per_tenant=((2000, 1.0),),
            whole_seconds=False,
        ),
        spocs=3,
    ) as (world, storages):
        expected = {}
        row_ids = []
        for member in world.fleet.members:
            expected[world.chat_of(member)] = [f"{member.name}: reminder {n}" for n in range(rows)]
            row_ids += await world.queue([(member, t) for t in expected[world.chat_of(member)]])
        dispatchers = [world.dispatcher(s, limits, policy) for s in storages]

        async with running(*dispatchers):
            await until_sent(len(row_ids), *dispatchers, within=60)

        by_chat = arrivals_by_chat(world.fake)
        print(  # noqa: T201
            f"\n3 chats x {rows} rows by 3 dispatchers: sent by each "
            f"{[d.stats.sent for d in dispatchers]}, lanes taken "
            f"{[d.stats.lanes_taken for d in dispatchers]}, 429s {world.fake.throttled}, "
            "peaks per chat "
            + str(
                {
                    w.seconds: max(most_in_any_window(t, w.seconds) for t in by_chat.values())
                    for w in per_chat
                }
            )
        )
        for chat, texts in expected.items():
            got = [cards.body_text(a) for a in world.fake.to_conversation(chat)]
            assert got == texts  # each once, in order
            for window in per_chat:
                assert most_in_any_window(by_chat[chat], window.seconds) <= window.limit
        assert world.fake.throttled == 0
        assert await states(world.seeding, world.fleet.panel.id, row_ids) == Counter(
            {DeliveryState.SENT.value: len(row_ids)}
        )


async def test_a_lane_taken_over_after_its_owner_stops_keeps_the_conversations_history() -> None:
    # Teams' 60 in 30 s, made small: 10 in 5 s, with its shorter windows.
    per_chat = (Window(3, 0.3), Window(4, 0.6), Window(10, 5.0))
    limits = RateLimits(per_conversation=per_chat, per_tenant=(Window(2000, 1.0),))
    async with shared_database(
        ConnectorLimits(
            per_conversation=tuple((w.limit, w.seconds) for w in per_chat),
            per_tenant=((2000, 1.0),),
            whole_seconds=False,
        ),
        spocs=1,
        instances=2,
    ) as (world, storages):
        (member,) = world.fleet.members
        first, second = (world.dispatcher(s, limits, DeliveryPolicy()) for s in storages)
        before = [f"reminder {n}" for n in range(10)]
        await world.queue([(member, text) for text in before])
        async with running(first):
            await until_sent(10, first, within=30)
        # The first dispatcher stopped (and let its lanes go); the conversation's long window
        # is full for a few seconds more.
        after = [f"reminder {n}" for n in range(10, 14)]
        await world.queue([(member, text) for text in after])
        async with running(second):
            await until_sent(4, second, within=30)

        (times,) = arrivals_by_chat(world.fake).values()
        gap = min(times[10:]) - max(times[:10])
        print(  # noqa: T201
            f"\nhand-over: the second dispatcher took {second.stats.lanes_taken} lane(s) and "
            f"sent its first row {gap:.2f} s after the first's last; 429s "
            f"{world.fake.throttled}; most in any 5 s {most_in_any_window(times, 5.0)}"
        )
        assert [cards.body_text(a) for a in world.fake.sent] == before + after
        assert second.stats.lanes_taken == 1
        assert world.fake.throttled == 0
        for window in per_chat:
            assert most_in_any_window(times, window.seconds) <= window.limit
