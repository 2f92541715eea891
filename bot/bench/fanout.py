"""Fan-out benchmark: one reminder to each of many SPOCs, within the tenant's limit.

`python -m bot.bench.fanout [--quick] [--spocs N] [--database-url URL]` seeds a panel whose
SPOCs each have a personal chat with the bot (in a fresh SQLite file, or a schema of its own
on PostgreSQL), queues one reminder card for each, and delivers them through the real
adapter and outbox dispatcher to the fake Bot Connector on 127.0.0.1, which enforces a
tenant limit (50 requests a second by default) with 429s. It prints the throughput as a
fraction of that limit, the messages lost and sent twice, the connector's 429s and the
process's peak memory.

The dispatcher spreads its sends evenly, a little (SPREAD, 2%) wider than the limit, rather
than letting a window's worth go at once, so the best fraction it can reach is about 0.98.
The peak memory is the whole process's: seeding, the fake connector and the dispatcher.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import make_deps
from bot.bench.connector import ConnectorLimits, start_connector
from bot.domain.common import SystemClock
from bot.domain.delivery import ConversationKind, ConversationRef, DeliveryState
from bot.domain.panel import Agency, Member, Panel, Role
from bot.kernel import notify
from bot.settings import Settings
from bot.teams.outbox import DeliveryPolicy, OutboxDispatcher
from bot.teams.ratelimit import SPREAD, RateLimits, Window
from bot.teams.web import make_adapter, speed_up_connector_clients
from cards.kit import build, paragraph
from storage import SqlStorage, migrate_async, open_storage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from bot.kernel.ports import Storage

BENCH_TENANT = "0b5e6c1d-0000-4000-8000-00000000be4c"  # invented
BENCH_BOT = {"id": "28:bench-bot", "name": "Community MARAC"}
QUICK_SPOCS = 300


@dataclass(frozen=True)
class Fleet:
    """A seeded panel whose SPOCs each have a personal chat with the bot."""

    panel: Panel
    members: list[Member]
    chats: list[ConversationRef]


def personal_reference(service_url: str, conversation_id: str, member: Member) -> dict[str, Any]:
    """A personal chat's serialised reference, as a turn in it would have saved it."""
    return {
        "bot": dict(BENCH_BOT),
        "user": {"id": f"29:{member.aad_object_id}", "aadObjectId": member.aad_object_id},
        "conversation": {
            "id": conversation_id,
            "conversationType": "personal",
            "tenantId": BENCH_TENANT,
        },
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def seed_spocs(
    storage: Storage,
    count: int,
    service_url: str,
    *,
    now: datetime,
    chats: bool = True,
    coordinators: int = 0,
) -> Fleet:
    """A panel with one agency and `count` SPOCs (invented people), plus `coordinators`; each
    person has a personal chat with the bot unless `chats` is False."""
    suffix = uuid.uuid4().hex[:8]
    panel = Panel(
        name=f"Benchmark panel {suffix}",
        team_id=f"19:bench-{suffix}@thread.tacv2",
        tenant_id=BENCH_TENANT,
        created_at=now,
    )
    agency = Agency(panel_id=panel.id, name="Benchmark agency")
    people = [
        Member(
            panel_id=panel.id,
            aad_object_id=str(uuid.uuid4()),
            name=f"Coordinator {n + 1}" if n < coordinators else f"SPOC {n - coordinators + 1}",
            agency_id=agency.id,
            roles=frozenset({Role.COORDINATOR} if n < coordinators else {Role.SPOC}),
        )
        for n in range(coordinators + count)
    ]
    refs = []
    async with storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        await uow.agencies.save(agency)
        for member in people:
            await uow.members.save(member)
            if chats:
                conversation_id = f"a:1bench-{member.aad_object_id}"
                ref = ConversationRef(
                    panel_id=panel.id,
                    kind=ConversationKind.PERSONAL,
                    conversation_id=conversation_id,
                    member_id=member.id,
                    service_url=service_url,
                    reference=personal_reference(service_url, conversation_id, member),
                    updated_at=now,
                )
                await uow.conversations.save(ref)
                refs.append(ref)
        await uow.commit()
    return Fleet(panel, people, refs)


def reminder_card(text: str) -> dict[str, Any]:
    """A small reminder card (the action cards proper come with the reminders feature)."""
    return build([paragraph(text)], fallback=text)


async def queue_reminders(storage: Storage, fleet: Fleet, *, now: datetime) -> list[str]:
    """One reminder card for every SPOC of the fleet, in one unit of work; returns the ids of
    the outbox rows."""
    async with storage.unit_of_work() as uow:
        for n, member in enumerate(m for m in fleet.members if m.has(Role.SPOC)):
            text = f"Reminder {n + 1}: your action is due on Monday."
            await notify.card_to_member(
                uow,
                panel_id=fleet.panel.id,
                member_id=member.id,
                card=reminder_card(text),
                key=f"bench:{fleet.panel.id}:{n}",
                now=now,
            )
        await uow.commit()
    async with storage.unit_of_work() as uow:
        queued = await uow.outbox.due(now, 1_000_000)
    return [d.id for d in queued if d.panel_id == fleet.panel.id]


async def states(storage: Storage, panel_id: str, row_ids: Sequence[str]) -> Counter[str]:
    """How many of these outbox rows are in each state."""
    found: Counter[str] = Counter()
    async with storage.unit_of_work() as uow:
        for row_id in row_ids:
            delivery = await uow.outbox.get(panel_id, row_id)
            found[delivery.state.value if delivery is not None else "missing"] += 1
    return found


@contextlib.asynccontextmanager
async def _database(database_url: str | None) -> AsyncIterator[tuple[SqlStorage, str]]:
    """A fresh, migrated database: a SQLite file in a temporary directory, or a PostgreSQL
    schema of its own that is dropped afterwards."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="bench-fanout-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
            await migrate_async(url)
            storage = open_storage(url)
            try:
                yield storage, "SQLite"
            finally:
                await storage.close()
        return
    from sqlalchemy import text

    schema = f"bench_fanout_{uuid.uuid4().hex[:8]}"
    await migrate_async(database_url, schema=schema)
    storage = open_storage(database_url, schema=schema)
    try:
        yield storage, "PostgreSQL"
    finally:
        async with storage.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await storage.close()


async def run_fanout(
    spocs: int = 1000,
    *,
    database_url: str | None = None,
    tenant_rate: int = 50,
    concurrency: int = 16,
) -> dict[str, float]:
    """Send one reminder to each of `spocs` SPOCs and measure; see the module docstring.

    Returns fanout_rate_fraction, fanout_lost, fanout_duplicates, peak_rss_mb, and also
    fanout_messages, fanout_elapsed_s, fanout_throttled (the connector's 429s) and
    fanout_unsent_rows (outbox rows not SENT at the end).
    """
    fake, server, url = await start_connector(ConnectorLimits(per_tenant=((tenant_rate, 1.0),)))
    try:
        async with _database(database_url) as (storage, backend):
            now = datetime.now(UTC)
            fleet = await seed_spocs(storage, spocs, url, now=now)
            row_ids = await queue_reminders(storage, fleet, now=now)
            speed_up_connector_clients()  # as the app does (bot.app.create_app)
            dispatcher = OutboxDispatcher(
                make_adapter(Settings()),
                make_deps(uow=storage.unit_of_work, clock=SystemClock()),
                "",
                limits=RateLimits(per_tenant=(Window(tenant_rate, 1.0),)),
                policy=DeliveryPolicy(concurrency=concurrency),
            )
            loop = asyncio.get_running_loop()
            started = loop.time()
            deadline = started + spocs / tenant_rate * 2 + 30
            task = asyncio.create_task(dispatcher.run_forever(idle_seconds=0.2))
            try:
                while loop.time() < deadline:
                    delivered = len(fake.deliveries())
                    if delivered >= len(row_ids) and dispatcher.stats.sent >= len(row_ids):
                        break
                    if task.done():
                        break
                    await asyncio.sleep(0.05)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            finished = max(fake.accepted_at, default=loop.time())
            final = await states(storage, fleet.panel.id, row_ids)
            unsent = len(row_ids) - final[DeliveryState.SENT.value]
    finally:
        await server.close()
    delivered = len(fake.deliveries())
    elapsed = max(finished - started, 1e-9)
    return {
        "fanout_rate_fraction": delivered / elapsed / tenant_rate,
        "fanout_lost": float(len(row_ids) - delivered),
        "fanout_duplicates": float(fake.duplicates()),
        "peak_rss_mb": peak_rss_mb(),
        "fanout_messages": float(len(row_ids)),
        "fanout_elapsed_s": elapsed,
        "fanout_throttled": float(fake.throttled),
        "fanout_unsent_rows": float(unsent),
        "fanout_backend_postgres": float(backend == "PostgreSQL"),
    }


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB.

    Linux: VmHWM, the peak of this program alone (ru_maxrss survives exec, so a process
    started by a large parent would report the parent's size). Elsewhere ru_maxrss (macOS
    reports bytes, others KB).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def format_table(figures: dict[str, float], spocs: int, tenant_rate: int, backend: str) -> str:
    """The benchmark's figures as a small table."""
    ideal = 1 / SPREAD
    rows = [
        ("messages", f"{figures['fanout_messages']:.0f} ({backend})"),
        ("elapsed", f"{figures['fanout_elapsed_s']:.1f} s"),
        (
            "throughput",
            f"{figures['fanout_rate_fraction'] * tenant_rate:.1f}/s = "
            f"{figures['fanout_rate_fraction']:.2f} of {tenant_rate}/s (best about {ideal:.2f})",
        ),
        ("lost", f"{figures['fanout_lost']:.0f}"),
        ("sent twice", f"{figures['fanout_duplicates']:.0f}"),
        ("429s from the connector", f"{figures['fanout_throttled']:.0f}"),
        ("outbox rows not sent", f"{figures['fanout_unsent_rows']:.0f}"),
        ("peak RSS", f"{figures['peak_rss_mb']:.1f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"Fan-out: {spocs} SPOCs, one reminder each, tenant limit {tenant_rate}/s"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench.fanout", description=__doc__)
    parser.add_argument("--spocs", type=int, default=None, help="how many SPOCs (default 1000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SPOCS} SPOCs")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--tenant-rate", type=int, default=50, help="requests/s per tenant")
    parser.add_argument("--concurrency", type=int, default=16, help="sends on the wire at once")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    spocs = args.spocs or (QUICK_SPOCS if args.quick else 1000)
    logging.basicConfig(level=logging.ERROR)
    begun = time.perf_counter()
    figures = asyncio.run(
        run_fanout(
            spocs,
            database_url=args.database_url,
            tenant_rate=args.tenant_rate,
            concurrency=args.concurrency,
        )
    )
    backend = "PostgreSQL" if figures["fanout_backend_postgres"] else "SQLite"
    print(format_table(figures, spocs, args.tenant_rate, backend))
    print(f"  (whole run, seeding included: {time.perf_counter() - begun:.1f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    failed = figures["fanout_lost"] or figures["fanout_duplicates"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
