"""`scale_out_ratio`: turns a second at saturation through nginx, two instances ÷ one.

Two `python -m bot serve` processes on a fresh PostgreSQL database (bot.bench.cluster):
both behind one nginx, and the first alone behind another. The load is the turn
latency's (bot.bench.turns) with twice its conversations: 40 members of a seeded panel (its
coordinator among them) each post `agenda` messages one after another, so that 40 turns
are always in flight, with replies going to the bench's fake connector. Phases of the two
alternate, and which goes first alternates too, so a noisy neighbour slows both alike.
Each one's throughput is its turns answered over the time its phases took; the ratio
divides the two instances' by the one's. The details give the bots' CPU per turn and the
machine's idle share during each one's phases (from /proc).

On a 2-core machine the load generator, the fake connector, nginx and PostgreSQL share the
cores with the bot processes, so two instances cannot double the throughput of one, and
when other work leaves no core idle a second process has nothing to gain: read the ratio
with the idle share beside it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from bot.bench.cluster import ClusterError, cluster, fresh_database, start_nginx, stop_process
from bot.bench.seed import seed_panels
from bot.bench.turns import Samples, Target, phase
from storage import open_storage

if TYPE_CHECKING:
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
    """Turns answered, the seconds the phases that answered them took, the CPU seconds the
    bot processes spent meanwhile, and the machine's idle share then (from /proc)."""

    turns: int = 0
    seconds: float = 0.0
    bot_cpu: float = 0.0
    idle: list[float] = field(default_factory=list)
    samples: Samples = field(default_factory=Samples)

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "turns_per_s": round(self.per_second, 1),
            "turns": self.turns,
            "bot_cpu_ms_per_turn": round(self.bot_cpu / self.turns * 1000, 2) if self.turns else 0,
            "machine_idle": round(sum(self.idle) / len(self.idle), 2) if self.idle else math.nan,
        }


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
            "one": self.one.summary(),
            "two": self.two.summary(),
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
    phases, `conversations` members at once."""
    shape = replace(shape, members=max(shape.members, conversations))
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
                pids = [i.pid for i in two.instances if i.pid is not None]
                found = await _load(targets, pids, service_url, conversations, rounds, per_phase)
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
    pids: list[int],
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
                cpu, machine = _cpu_seconds(pids), _machine_ticks()
                began = time.perf_counter()
                await phase(session, target, service_url, kinds, into.samples, conversations)
                into.seconds += time.perf_counter() - began
                into.turns += len(into.samples.all()) - before
                into.bot_cpu += _cpu_seconds(pids) - cpu
                total, idle = (b - a for a, b in zip(machine, _machine_ticks(), strict=True))
                if total > 0:
                    into.idle.append(idle / total)
    return found


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used (Linux; 0 elsewhere)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def _machine_ticks() -> tuple[int, int]:
    """The machine's CPU time so far, in all and idle (idle and waiting), in ticks."""
    with contextlib.suppress(OSError, ValueError):
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]
    return 0, 0


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
    """`scale_out_ratio` for the bench, with twice the turn latency's `conversations` at once
    (each of the two instances then has as many turns in flight as the latency test gives
    one): the figure, its details, notes and the processes' peak memory in MB; NaN and a
    note saying why when it cannot be measured (no PostgreSQL server or no nginx)."""
    try:
        found = await measure_scale_out(
            postgres_server(database_url),
            directory / "scale-out",
            service_url,
            shape=shape,
            conversations=2 * conversations,
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
