"""`scale_out_ratio`: turns a second at saturation through nginx, two instances ÷ one.

Two `python -m bot serve` processes on a fresh PostgreSQL database (bot.bench.cluster):
both behind one nginx, and the first alone behind another. The load is the
turn latency's (bot.bench.turns): `conversations` members of a seeded panel each post
`agenda` messages one after another, so that many turns are always in flight, with replies
going to the bench's fake connector. Phases of the two alternate, and which goes first
alternates too, so a noisy neighbour slows both alike. Each one's throughput is its turns
answered over the time its phases took; the ratio divides the two instances' by the one's.

On a 2-core machine the load generator, the fake connector, nginx and PostgreSQL share the
cores with the bot processes, so two instances cannot double the throughput of one: the
aim (1.5) says the second process's core is put to use, not wasted on contention.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from bot.bench.cluster import ClusterError, cluster, fresh_database, start_nginx, stop_process
from bot.bench.seed import seed_panels
from bot.bench.turns import Samples, Target, phase
from storage import open_storage

if TYPE_CHECKING:
    from pathlib import Path

    from bot.bench.seed import PanelShape

# Where the bench creates its database when not given a PostgreSQL URL: the test suite's
# server (TEST_POSTGRES_URL), the local one by default.
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_server(database_url: str | None) -> str:
    """The PostgreSQL server to create the scale-out database on."""
    if database_url is not None and database_url.startswith("postgres"):
        return database_url
    return os.environ.get("TEST_POSTGRES_URL", LOCAL_POSTGRES)


@dataclass
class Throughput:
    """Turns answered, and the seconds the phases that answered them took."""

    turns: int = 0
    seconds: float = 0.0
    samples: Samples = field(default_factory=Samples)

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0


@dataclass
class ScaleOut:
    """The figures: turns a second through one instance and through two, and the ratio."""

    one: Throughput
    two: Throughput
    served: list[int]
    errors: list[str]
    peak_rss_mb: float

    @property
    def ratio(self) -> float:
        return self.two.per_second / self.one.per_second if self.one.per_second else 0.0

    def details(self) -> dict[str, Any]:
        return {
            "one_instance_turns_per_s": round(self.one.per_second, 1),
            "two_instances_turns_per_s": round(self.two.per_second, 1),
            "turns": {"one": self.one.turns, "two": self.two.turns},
            "served_by_each_of_two": self.served,
        }


async def measure_scale_out(
    server_url: str,
    directory: Path,
    service_url: str,
    *,
    shape: PanelShape,
    conversations: int,
    rounds: int,
    per_phase: int,
) -> ScaleOut:
    """Seed a panel in a fresh database on `server_url`, serve it through two instances
    behind nginx and through the first alone behind another, and load both in alternating
    phases."""
    async with fresh_database(server_url, label="bench_scale") as database_url:
        storage = open_storage(database_url)
        try:
            (panel,) = await seed_panels(storage, [shape], now=datetime.now(UTC))
        finally:
            await storage.close()
        async with cluster(database_url, directory, instances=2) as two:
            # One instance: the first of the two alone, behind an nginx of its own.
            alone = await start_nginx(directory / "nginx-one", [two.instances[0].port])
            try:
                targets = {
                    "one": Target("one", f"{alone.url}/api/messages", panel.members),
                    "two": Target("two", two.messages_url, panel.members),
                }
                found = await _load(targets, service_url, conversations, rounds, per_phase)
            finally:
                await stop_process(alone.process, seconds=5)
            # The turns each of the two served through both (nginx's access log).
            assert two.nginx is not None
            through = two.nginx.served()
            served = [through[i.port] for i in two.instances]
            errors = [line for i in two.instances for line in i.errors()]
            peak = max(i.peak_rss_mb() for i in two.instances)
    return ScaleOut(found["one"], found["two"], served, errors, peak)


async def _load(
    targets: dict[str, Target],
    service_url: str,
    conversations: int,
    rounds: int,
    per_phase: int,
) -> dict[str, Throughput]:
    found = {name: Throughput() for name in targets}
    kinds = ["message"] * per_phase
    connector = aiohttp.TCPConnector(limit=conversations * 2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for target in targets.values():  # each conversation's first turn stores its reference
            await phase(session, target, service_url, ["message"], Samples(), conversations)
        for n in range(rounds):
            order = list(targets.values()) if n % 2 == 0 else list(reversed(targets.values()))
            for target in order:
                into = found[target.name]
                before = len(into.samples.all())
                began = time.perf_counter()
                await phase(session, target, service_url, kinds, into.samples, conversations)
                into.seconds += time.perf_counter() - began
                into.turns += len(into.samples.all()) - before
    return found


async def scale_out_ratio(
    database_url: str | None,
    directory: Path,
    service_url: str,
    *,
    shape: PanelShape,
    conversations: int,
    rounds: int,
    per_phase: int,
) -> tuple[float, dict[str, Any], list[str], float]:
    """`scale_out_ratio` for the bench: the figure, its details, notes and the processes'
    peak memory in MB; NaN and a note saying why when it cannot be measured (no PostgreSQL
    server or no nginx)."""
    try:
        found = await measure_scale_out(
            postgres_server(database_url),
            directory / "scale-out",
            service_url,
            shape=shape,
            conversations=conversations,
            rounds=rounds,
            per_phase=per_phase,
        )
    except (ClusterError, OSError, SQLAlchemyError) as error:
        return math.nan, {}, [f"scale_out_ratio not measured: {error}"[:300]], math.nan
    notes = []
    if found.errors:
        notes.append(
            f"scale-out: the bots logged {len(found.errors)} errors: {found.errors[0][:200]}"
        )
    for name, throughput in (("one", found.one), ("two", found.two)):
        if throughput.samples.errors:
            notes.append(
                f"scale-out {name}: {len(throughput.samples.errors)} requests failed, "
                f"e.g. {throughput.samples.errors[0]}"
            )
    return found.ratio, found.details(), notes, found.peak_rss_mb
