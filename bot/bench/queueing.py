"""Queueing benchmark: what naming the panel on queued cards costs a fan-out.

`python -m bot.bench.queueing [--cards N] [--rounds R] [--database-url URL] [--json FILE]`
seeds a panel of N SPOCs (invented), a tenth of whom are on a second panel too, in a fresh
SQLite file (or a PostgreSQL schema of its own), and queues one reminder card for each in
one unit of work, two ways, in alternating rounds on fresh panels:

- **baseline**: each row built and enqueued as it was before cards carried their panel
  (`uow.outbox.enqueue`, the card as given);
- **named**: through `bot.kernel.notify.card_to_member`, which stamps every button with the
  card's panel and names the panel for the members on several.

It prints the median time of each and their ratio (named / baseline), and the statements
each way ran. Both are measured in the same run, on the same machine, because these
machines are shared and noisy: nothing here is asserted against a fixed time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from bot.bench.fanout import _database, reminder_card, seed_spocs
from bot.domain.common import new_id
from bot.domain.delivery import OutgoingDelivery
from bot.domain.panel import Member, Panel, Role
from bot.kernel import notify

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.bench.fanout import Fleet
    from storage import SqlStorage

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
SERVICE_URL = "http://127.0.0.1:9/"  # never called: nothing is sent


async def _fleet(storage: SqlStorage, cards: int) -> Fleet:
    """A panel of `cards` SPOCs; every tenth is also on a panel of their own."""
    fleet = await seed_spocs(storage, cards, SERVICE_URL, now=NOW, chats=False)
    async with storage.unit_of_work() as uow:
        for n, member in enumerate(fleet.members):
            if n % 10:
                continue
            other = Panel(
                name=f"Second panel {n}",
                team_id=f"19:second-{fleet.panel.id}-{n}@thread.tacv2",
                tenant_id=fleet.panel.tenant_id,
                created_at=NOW,
            )
            await uow.panels.save(other)
            await uow.members.save(
                Member(
                    panel_id=other.id,
                    aad_object_id=member.aad_object_id,
                    name=member.name,
                    roles=frozenset({Role.REFERRER}),
                )
            )
        await uow.commit()
    return fleet


async def _queue(storage: SqlStorage, fleet: Fleet, *, named: bool) -> tuple[float, int]:
    """Seconds and statements to queue one card for every SPOC of the fleet."""
    seen = 0

    def counted(*_args: Any) -> None:
        nonlocal seen
        seen += 1

    spocs = [m for m in fleet.members if m.has(Role.SPOC)]
    event.listen(storage.engine.sync_engine, "before_cursor_execute", counted)
    try:
        started = time.perf_counter()
        async with storage.unit_of_work() as uow:
            for n, member in enumerate(spocs):
                card = reminder_card(f"Reminder {n + 1}: your action is due on Monday.")
                key = f"bench:{fleet.panel.id}:{n}"
                if named:
                    await notify.card_to_member(
                        uow,
                        panel_id=fleet.panel.id,
                        member_id=member.id,
                        card=card,
                        key=key,
                        now=NOW,
                    )
                else:
                    await uow.outbox.enqueue(
                        OutgoingDelivery(
                            id=new_id(),
                            panel_id=fleet.panel.id,
                            key=key,
                            recipient_member_id=member.id,
                            payload={"card": card, "text": None},
                            not_before=NOW,
                            created_at=NOW,
                        )
                    )
            await uow.commit()
        elapsed = time.perf_counter() - started
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", counted)
    return elapsed, seen


async def run_queueing(
    cards: int = 1000, rounds: int = 5, database_url: str | None = None
) -> dict[str, Any]:
    """The figures (see the module's docstring)."""
    times: dict[bool, list[float]] = {False: [], True: []}
    statements: dict[bool, int] = {}
    async with _database(database_url) as (storage, backend):
        for _ in range(rounds):
            for named in (False, True):  # alternating, each on a fresh panel
                fleet = await _fleet(storage, cards)
                elapsed, seen = await _queue(storage, fleet, named=named)
                times[named].append(elapsed)
                statements[named] = seen
    baseline = statistics.median(times[False])
    named_s = statistics.median(times[True])
    return {
        "backend": backend,
        "cards": cards,
        "rounds": rounds,
        "queue_baseline_ms": round(baseline * 1000, 1),
        "queue_named_ms": round(named_s * 1000, 1),
        "queue_named_ratio": round(named_s / baseline, 3),
        "queue_baseline_statements": statements[False],
        "queue_named_statements": statements[True],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(prog="python -m bot.bench.queueing", description=__doc__)
    args.add_argument("--cards", type=int, default=1000)
    args.add_argument("--rounds", type=int, default=5)
    args.add_argument("--database-url", default=None)
    args.add_argument("--json", default=None)
    parsed = args.parse_args(argv)
    figures = asyncio.run(run_queueing(parsed.cards, parsed.rounds, parsed.database_url))
    print(
        f"Queueing {figures['cards']:,} cards in one unit of work ({figures['backend']}, "
        f"median of {figures['rounds']} rounds):\n"
        f"  baseline (card as given)     {figures['queue_baseline_ms']:>8.1f} ms  "
        f"{figures['queue_baseline_statements']:>6} statements\n"
        f"  named and stamped (notify)   {figures['queue_named_ms']:>8.1f} ms  "
        f"{figures['queue_named_statements']:>6} statements\n"
        f"  queue_named_ratio            {figures['queue_named_ratio']:.3f}"
    )
    if parsed.json:
        Path(parsed.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
