"""`python -m bot bench [--quick] [--json FILE]`: the bot's figures, measured in one run.

What it measures, and how:

- **Turn latency** (`turn_p50_ratio`, `turn_p99_ratio`, `invoke_p99_ms`): the bot runs in a
  process of its own (bot.bench.server: the real app, local mode, on a SQLite file or a
  PostgreSQL schema), replies go to the fake Bot Connector (bot.bench.connector) on
  127.0.0.1 in this process, and 20 conversations post `agenda` messages and card invokes
  (`command` → `agenda`) to it at once. The same load goes to a minimal echo bot on the same
  adapter in the same server (bot.bench.echo), in alternating phases; the ratios divide the
  bot's p50 and p99 over messages and invokes together by the echo bot's. The panel is the
  large one below (2,000 cases, 50,000 actions); one of the 20 is its coordinator, whose
  `agenda` builds and saves the agenda again.
- **SQL per turn** (`sql_per_turn_small`, `sql_per_turn_large`): statements the engine
  executes (`before_cursor_execute`) for one coordinator's `agenda` turn through the real
  app, in this process, on a panel with 100 actions and on one with 50,000 (2,000 cases, ten
  years of history), after a first turn has built the agenda.
- **Fan-out** (`fanout_*`): bot.bench.fanout in a process of its own (1,000 SPOCs, tenant
  limit 50/s; 300 with --quick).
- **Memory** (`peak_rss_mb`): the peak resident memory (VmHWM) of every bot process the
  bench ran (the turn load, the panels comparison, the fan-out), the largest of them.
- **A burst of acknowledgements** (`burst_ack_p99_ms`): the chair types `start` in a
  meeting's chat, and 40 attendees press "I acknowledge" on the confidentiality card within
  one second (bot.bench.burst, a bot process of its own on a database of its own); the p99
  of their round trips, counted only when every acknowledgement is in the database exactly
  once (an attendance row and an audit event each), NaN (missed) otherwise.
- **Scale-out** (`scale_out_ratio`, PostgreSQL: `--database-url`, or else the local
  server): turns a second at saturation through nginx with two `python -m bot serve`
  processes, divided by the same with one (bot.bench.scale).
- **Panels** (`panels_scale_ratio`): the p50 of `agenda` turns on a panel of 2,000 cases
  alone in its database, and on the same panel among 20 such panels in another; two bot
  processes, phases alternating.

Figures are ratios against baselines measured in the same run, because these machines are
shared and noisy; nothing here is asserted against a fixed time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text

from bot.bench.burst import burst
from bot.bench.connector import ConnectorLimits, start_connector
from bot.bench.echo import ECHO_ROUTE
from bot.bench.matching import figures as matching_figures
from bot.bench.matching import main as matching_main
from bot.bench.scale import scale_out_ratio
from bot.bench.seed import LARGE, SMALL, PanelShape, SeededPanel, seed_panels
from bot.bench.turns import Samples, Target, interleaved, message, percentile, post
from storage import SqlStorage, migrate_async, open_storage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from bot.bench.connector import FakeConnector

log = logging.getLogger(__name__)

AIMS = {
    "turn_p50_ratio": ("<=", 2.0),
    "invoke_p99_ms": ("<=", 500.0),
    "fanout_rate_fraction": (">=", 0.9),
    "fanout_lost": ("<=", 0.0),
    "fanout_duplicates": ("<=", 0.0),
    "peak_rss_mb": ("<=", 200.0),
    "panels_scale_ratio": ("<=", 1.2),
    "burst_ack_p99_ms": ("<=", 1000.0),
    "scale_out_ratio": (">=", 1.5),
    "matching_recall": (">=", 0.95),
    "matching_precision": (">=", 0.8),
}
KEYS = (
    "turn_p50_ratio",
    "turn_p99_ratio",
    "invoke_p99_ms",
    "sql_per_turn_small",
    "sql_per_turn_large",
    "fanout_rate_fraction",
    "fanout_lost",
    "fanout_duplicates",
    "peak_rss_mb",
    "panels_scale_ratio",
    "burst_ack_p99_ms",
    "scale_out_ratio",
    "matching_recall",
    "matching_precision",
)
SERVER_START_SECONDS = 90.0
# The burst's panel: a few cases on the agenda, and the attendees as its members.
BURST = PanelShape(cases=30, actions=120, years=1, open_cases=8, audit=False)
# The panels compared alone and among others: 2,000 cases each, fewer actions than LARGE so
# that twenty of them seed in seconds.
SCALE = PanelShape(cases=2_000, actions=5_000, years=10, open_cases=40)


@dataclass(frozen=True)
class BenchConfig:
    """How much of everything; QUICK and FULL below, and a tiny one for the test suite."""

    name: str
    conversations: int = 20
    # Turn load: alternating phases; each conversation posts `per_phase` requests a phase.
    rounds: int = 8
    per_phase: int = 4
    small: PanelShape = SMALL
    large: PanelShape = LARGE
    scale_panels: int = 20
    scale_shape: PanelShape = SCALE
    scale_rounds: int = 6
    scale_per_phase: int = 3
    fanout_spocs: int = 1000
    # The burst: this many attendees acknowledge within `burst_spread` seconds.
    burst_attendees: int = 40
    burst_spread: float = 1.0
    # Scale-out: alternating phases of one instance and two, each `per_phase` turns a
    # conversation.
    scale_out_rounds: int = 6
    scale_out_per_phase: int = 8
    database_url: str | None = None


FULL = BenchConfig("full", rounds=16, per_phase=6, scale_rounds=10, scale_per_phase=4)
# Quick: the same twenty panels of 2,000 cases, with fewer actions and no audit trail (which
# an agenda turn does not read), so that they seed in a fraction of the time.
SCALE_QUICK = PanelShape(cases=2_000, actions=2_000, years=10, open_cases=40, audit=False)
QUICK = BenchConfig(
    "quick",
    rounds=4,
    per_phase=4,
    scale_shape=SCALE_QUICK,
    scale_rounds=4,
    fanout_spocs=300,
    scale_out_rounds=2,
    scale_out_per_phase=4,
)
TINY = BenchConfig(
    "tiny",
    conversations=3,
    rounds=1,
    per_phase=2,
    small=PanelShape(cases=4, actions=10, years=1, open_cases=3, members=3, audit=False),
    large=PanelShape(cases=30, actions=120, years=2, open_cases=5, members=3, audit=False),
    scale_panels=2,
    scale_shape=PanelShape(cases=20, actions=40, years=1, open_cases=4, members=3, audit=False),
    scale_rounds=1,
    scale_per_phase=1,
    fanout_spocs=20,
    burst_attendees=4,
    scale_out_rounds=1,
    scale_out_per_phase=2,
)


# --- databases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """A migrated database the bench owns: a SQLite file, or a PostgreSQL schema."""

    url: str
    schema: str | None
    path: Path | None

    def storage(self) -> SqlStorage:
        return open_storage(self.url, schema=self.schema)

    @property
    def backend(self) -> str:
        return "SQLite" if self.path is not None else "PostgreSQL"


class Databases:
    """Creates the bench's databases and removes them afterwards."""

    def __init__(self, database_url: str | None, directory: Path) -> None:
        self._url = database_url
        self._directory = directory
        self._schemas: list[str] = []

    async def create(self, name: str) -> Database:
        if self._url is None:
            path = self._directory / f"{name}.sqlite3"
            url = f"sqlite:///{path}"
            await migrate_async(url)
            return Database(url, None, path)
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        self._schemas.append(schema)
        await migrate_async(self._url, schema=schema)
        return Database(self._url, schema, None)

    async def copy(self, source: Database, name: str) -> Database | None:
        """A copy of a SQLite database (None on PostgreSQL: seed it again instead)."""
        if source.path is None:
            return None
        path = self._directory / f"{name}.sqlite3"
        shutil.copyfile(source.path, path)
        return Database(f"sqlite:///{path}", None, path)

    async def drop_all(self) -> None:
        if self._url is None or not self._schemas:
            return
        storage = open_storage(self._url)
        try:
            async with storage.engine.begin() as conn:
                for schema in self._schemas:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await storage.close()


async def seed(database: Database, shapes: Sequence[PanelShape], first_index: int = 0) -> Any:
    storage = database.storage()
    try:
        return await seed_panels(storage, shapes, now=datetime.now(UTC), first_index=first_index)
    finally:
        await storage.close()


# --- SQL statements per turn -------------------------------------------------------------


@dataclass(frozen=True)
class SqlCount:
    """Statements of one `agenda` turn: the coordinator's first (builds the agenda), the
    coordinator's next, and a SPOC's."""

    first: int
    coordinator: int
    member: int


async def count_sql(database: Database, panel: SeededPanel, service_url: str) -> SqlCount:
    """Post `agenda` turns through the real app in this process and count the statements
    the engine executes for each (`executemany` counts once)."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from bot.settings import Settings

    storage = database.storage()
    statements = 0

    def counted(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(storage.engine.sync_engine, "before_cursor_execute", counted)
    app = create_app(Settings(), storage=storage, deliver_in_background=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    url = str(client.make_url("/api/messages"))
    spoc = next(p for p in panel.members if p is not panel.coordinator)

    async def turn(member: Any) -> int:
        nonlocal statements
        statements = 0
        _, status, _ = await post(client.session, url, message(service_url, member, "agenda"))
        if status not in (200, 201):
            raise RuntimeError(f"agenda turn answered HTTP {status}")
        return statements

    try:
        first = await turn(panel.coordinator)
        await turn(spoc)  # stores the SPOC's conversation reference
        coordinator = await turn(panel.coordinator)
        member = await turn(spoc)
    finally:
        await client.close()
        await storage.close()
    return SqlCount(first, coordinator, member)


# --- bot processes -----------------------------------------------------------------------


@dataclass
class BotProcess:
    """A bot server in a child process (bot.bench.server)."""

    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (Linux VmHWM), in MB."""
        return _status_mb(self.process.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        """The CPU time the process has used so far (Linux), in seconds; NaN elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def settle(self, *, quiet: float = 1.0, busy: float = 0.05, limit: float = 60.0) -> None:
        """Wait until the process has been all but idle (under `busy` of a core) for `quiet`
        seconds, at most `limit`: the jobs a fresh process runs at once (reminders, the
        calendar) done, as in a bot that has been running for a while."""
        deadline = time.monotonic() + limit
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            now = self.cpu_seconds()
            if math.isnan(now) or now - before < busy * quiet:
                return
            before = now


def _status_mb(pid: int, field_name: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


@contextlib.asynccontextmanager
async def bot_process(database: Database, log_path: Path) -> AsyncIterator[BotProcess]:
    """Start the bench server on `database`; stop it afterwards."""
    args = [sys.executable, "-m", "bot.bench.server", "--database-url", database.url]
    if database.schema is not None:
        args += ["--schema", database.schema]
    with log_path.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=subprocess.PIPE, stderr=errors, env=_child_env()
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), SERVER_START_SECONDS)
            if not line.startswith(b"PORT "):
                raise RuntimeError(f"the bench server did not start: {_tail(log_path)}")
            yield BotProcess(process, int(line.split()[1]), log_path)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.pop("APP_ID", None)  # local mode: the bench posts no tokens
    return env


def errors_of(process: BotProcess) -> list[str]:
    """Lines the bot logged at ERROR or above."""
    try:
        lines = process.log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if " ERROR " in line or " CRITICAL " in line]


# --- the fan-out -------------------------------------------------------------------------


async def fanout(config: BenchConfig, directory: Path) -> dict[str, float]:
    """bot.bench.fanout in a child process; its figures."""
    out = directory / "fanout.json"
    args = [
        sys.executable,
        "-m",
        "bot.bench.fanout",
        "--spocs",
        str(config.fanout_spocs),
        "--json",
        str(out),
    ]
    if config.database_url is not None:
        args += ["--database-url", config.database_url]
    process = await asyncio.create_subprocess_exec(
        *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_env()
    )
    bound = config.fanout_spocs / 50 * 2 + 120
    printed, _ = await asyncio.wait_for(process.communicate(), bound)
    if not out.exists():
        raise RuntimeError(f"the fan-out benchmark failed: {printed.decode()[-2000:]}")
    figures: dict[str, float] = json.loads(out.read_text())
    return figures


# --- the whole run -----------------------------------------------------------------------


@dataclass
class Report:
    """Every figure, and the notes the table prints under them."""

    figures: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _ms(values: Sequence[float], q: float) -> float:
    return percentile(values, q) * 1000


async def run_bench(config: BenchConfig, *, progress: bool = True) -> Report:
    """Run every measurement of `config`; see the module docstring."""
    report = Report()
    began = time.perf_counter()

    def say(what: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - began:5.1f} s] {what}", file=sys.stderr, flush=True)

    say("matching: the invented pairs (bot.bench.matching)")
    matched = matching_figures()
    report.figures["matching_recall"] = matched["matching_recall"]
    report.figures["matching_precision"] = matched["matching_precision"]
    report.details["matching_pairs"] = matched["matching_pairs"]

    fake, server, service_url = await start_connector(ConnectorLimits(enforce=False))
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        directory = Path(tmp)
        databases = Databases(config.database_url, directory)
        try:
            say("seeding the small and the large panel")
            history = await databases.create("history")
            small, large = await seed(history, [config.small, config.large])
            report.details["backend"] = history.backend
            report.details["large_panel"] = large.counts
            report.details["small_panel"] = small.counts

            say("counting SQL statements per agenda turn")
            small_sql = await count_sql(history, small, service_url)
            large_sql = await count_sql(history, large, service_url)
            report.figures["sql_per_turn_small"] = float(small_sql.coordinator)
            report.figures["sql_per_turn_large"] = float(large_sql.coordinator)
            report.details["sql"] = {
                "small": small_sql.__dict__,
                "large": large_sql.__dict__,
            }

            say(f"turn latency: bot and echo, {config.conversations} conversations")
            rss: dict[str, float] = {}
            async with bot_process(history, directory / "turns.log") as bot:
                marac = Target("bot", f"{bot.url}/api/messages", large.members)
                echo = Target("echo", f"{bot.url}{ECHO_ROUTE}", large.members)
                kinds = ["message", "invoke"] * (config.per_phase // 2) + ["message"] * (
                    config.per_phase % 2
                )
                samples = await interleaved(
                    [marac, echo],
                    service_url,
                    rounds=config.rounds,
                    kinds=kinds,
                    conversations=config.conversations,
                )
                rss["turns"] = bot.peak_rss_mb()
                logged = errors_of(bot)
            _turn_figures(report, samples["bot"], samples["echo"])
            if logged:
                report.notes.append(f"the bot logged {len(logged)} errors: {logged[0][:200]}")

            say(f"panels: one panel alone, and among {config.scale_panels}")
            lone = await databases.create("lone")
            (lone_panel,) = await seed(lone, [config.scale_shape])
            many = await databases.copy(lone, "many")
            if many is None:
                many = await databases.create("many")
                (many_panel,) = await seed(many, [config.scale_shape])
            else:
                many_panel = lone_panel
            others = [config.scale_shape] * (config.scale_panels - 1)
            if others:
                await seed(many, others, first_index=1)
            async with (
                bot_process(lone, directory / "lone.log") as lone_bot,
                bot_process(many, directory / "many.log") as many_bot,
            ):
                panel_samples = await interleaved(
                    [
                        Target("lone", f"{lone_bot.url}/api/messages", lone_panel.members),
                        Target("many", f"{many_bot.url}/api/messages", many_panel.members),
                    ],
                    service_url,
                    rounds=config.scale_rounds,
                    kinds=["message"] * config.scale_per_phase,
                    conversations=config.conversations,
                    warm_up=["message"],
                )
                rss["panels"] = max(lone_bot.peak_rss_mb(), many_bot.peak_rss_mb())
            _panel_figures(report, panel_samples["lone"], panel_samples["many"])

            say("scale-out: turns a second through nginx, one instance and two (PostgreSQL)")
            ratio, details, notes, rss["scale_out"] = await scale_out_ratio(
                config.database_url,
                directory,
                service_url,
                shape=config.small,
                conversations=config.conversations,
                rounds=config.scale_out_rounds,
                per_phase=config.scale_out_per_phase,
            )
            report.figures["scale_out_ratio"] = ratio
            report.details["scale_out"] = details
            report.notes += notes

            say(f"burst: {config.burst_attendees} attendees acknowledge the statement at once")
            rss["burst"] = await _burst(report, config, databases, directory, fake, service_url)

            say(f"fan-out: {config.fanout_spocs} SPOCs")
            figures = await fanout(config, directory)
            for key in ("fanout_rate_fraction", "fanout_lost", "fanout_duplicates"):
                report.figures[key] = figures[key]
            rss["fanout"] = figures["peak_rss_mb"]
            report.details["fanout"] = figures
            report.figures["peak_rss_mb"] = max(v for v in rss.values() if not math.isnan(v))
            report.details["peak_rss_mb"] = rss
        finally:
            await server.close()
            await databases.drop_all()
    report.details["connector_messages"] = len(fake.sent)
    report.details["elapsed_s"] = round(time.perf_counter() - began, 1)
    report.details["config"] = config.name
    return report


def _turn_figures(report: Report, bot: Samples, echo: Samples) -> None:
    mine, base = bot.all(), echo.all()
    report.figures["turn_p50_ratio"] = percentile(mine, 50) / percentile(base, 50)
    report.figures["turn_p99_ratio"] = percentile(mine, 99) / percentile(base, 99)
    report.figures["invoke_p99_ms"] = _ms(bot.by_kind.get("invoke", []), 99)
    # The pooled p50 falls between the echo bot's two kinds (its invoke answers at once,
    # its message waits for the connector), so each kind's own ratio is printed beside it.
    report.details["ratios_by_kind"] = {
        kind: {
            q: round(percentile(values, n) / percentile(echo.by_kind.get(kind, []), n), 2)
            for q, n in (("p50", 50), ("p99", 99))
        }
        for kind, values in sorted(bot.by_kind.items())
    }
    report.details["turns"] = {
        name: {
            kind: {
                "n": len(values),
                "p50_ms": round(_ms(values, 50), 1),
                "p99_ms": round(_ms(values, 99), 1),
            }
            for kind, values in (("all", samples.all()), *sorted(samples.by_kind.items()))
        }
        for name, samples in (("bot", bot), ("echo", echo))
    }
    for name, samples in (("bot", bot), ("echo", echo)):
        if samples.errors:
            report.notes.append(
                f"{name}: {len(samples.errors)} requests failed, e.g. {samples.errors[0]}"
            )


async def _burst(
    report: Report,
    config: BenchConfig,
    databases: Databases,
    directory: Path,
    fake: FakeConnector,
    service_url: str,
) -> float:
    """bot.bench.burst on a panel of its own in a bot process of its own; its peak RSS."""
    database = await databases.create("burst")
    shape = replace(BURST, members=config.burst_attendees + 2)
    (panel,) = await seed(database, [shape])
    storage = database.storage()
    try:
        async with bot_process(database, directory / "burst.log") as bot:
            await bot.settle()
            result = await burst(
                url=f"{bot.url}/api/messages",
                service_url=service_url,
                fake=fake,
                storage=storage,
                panel=panel,
                attendees=config.burst_attendees,
                spread=config.burst_spread,
            )
            peak = bot.peak_rss_mb()
            logged = errors_of(bot)
    finally:
        await storage.close()
    report.figures["burst_ack_p99_ms"] = result.p99_ms() if result.recorded_once else math.nan
    report.details["burst"] = result.details()
    if not result.recorded_once:
        report.notes.append(
            f"burst: not every acknowledgement was recorded once: {result.details()}"
        )
    if logged:
        report.notes.append(f"burst: the bot logged {len(logged)} errors: {logged[0][:200]}")
    return peak


def _panel_figures(report: Report, lone: Samples, many: Samples) -> None:
    report.figures["panels_scale_ratio"] = percentile(many.all(), 50) / percentile(lone.all(), 50)
    report.details["panels"] = {
        name: {"n": len(s.all()), "p50_ms": round(_ms(s.all(), 50), 1)}
        for name, s in (("lone", lone), ("many", many))
    }
    for name, samples in (("lone", lone), ("many", many)):
        if samples.errors:
            report.notes.append(
                f"{name}: {len(samples.errors)} requests failed, e.g. {samples.errors[0]}"
            )


def meets(key: str, value: float, figures: dict[str, float]) -> bool | None:
    """Whether a figure meets its aim; None when it has none."""
    if key in ("sql_per_turn_small", "sql_per_turn_large"):
        return figures.get("sql_per_turn_small") == figures.get("sql_per_turn_large")
    aim = AIMS.get(key)
    if aim is None:
        return None
    op, bound = aim
    return value <= bound if op == "<=" else value >= bound


def format_table(report: Report) -> str:
    """The figures, each with its aim, then the details behind them."""
    figures = report.figures
    lines = [f"Benchmark ({report.details.get('config')}, {report.details.get('backend')})"]
    width = max(len(k) for k in KEYS)
    for key in KEYS:
        value = figures.get(key, math.nan)
        verdict = meets(key, value, figures)
        aim = AIMS.get(key)
        aim_text = (
            f"aim {aim[0]} {aim[1]:g}"
            if aim
            else "aim: small == large"
            if key.startswith("sql_")
            else ""
        )
        mark = "" if verdict is None else ("met" if verdict else "MISSED")
        lines.append(f"  {key.ljust(width)}  {value:10.2f}  {aim_text:<14} {mark}")
    turns = report.details.get("turns", {})
    for name in ("bot", "echo"):
        for kind, figures_of in turns.get(name, {}).items():
            lines.append(
                f"    {name:>4} {kind:<8} n={figures_of['n']:<5} p50 {figures_of['p50_ms']:7.1f} ms"
                f"   p99 {figures_of['p99_ms']:7.1f} ms"
            )
    for kind, ratios in report.details.get("ratios_by_kind", {}).items():
        lines.append(f"    {kind} alone: p50 ratio {ratios['p50']}, p99 ratio {ratios['p99']}")
    sql = report.details.get("sql", {})
    for name in ("small", "large"):
        if name in sql:
            c = sql[name]
            lines.append(
                f"    SQL {name}: first agenda {c['first']}, coordinator {c['coordinator']}, "
                f"SPOC {c['member']} statements"
            )
    panels = report.details.get("panels", {})
    if panels:
        lines.append(
            f"    panels: alone p50 {panels['lone']['p50_ms']} ms, among many "
            f"p50 {panels['many']['p50_ms']} ms"
        )
    rss = report.details.get("peak_rss_mb", {})
    if rss:
        lines.append(
            "    peak RSS by process: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items())
        )
    fan = report.details.get("fanout", {})
    if fan:
        lines.append(
            f"    fan-out: {fan.get('fanout_messages', 0):.0f} messages in "
            f"{fan.get('fanout_elapsed_s', 0):.1f} s, {fan.get('fanout_throttled', 0):.0f} 429s"
        )
    scale = report.details.get("scale_out", {})
    if scale:
        one, two = scale["one"], scale["two"]
        lines.append(
            f"    scale-out: one instance {one['turns_per_s']} turns/s "
            f"({one['bot_cpu_ms_per_turn']} ms CPU a turn, machine idle "
            f"{one['machine_idle']:.0%}), two {two['turns_per_s']} turns/s "
            f"({two['bot_cpu_ms_per_turn']} ms, idle {two['machine_idle']:.0%}), "
            f"served {scale['served_by_each_of_two']}"
        )
    burst_details = report.details.get("burst", {})
    if burst_details:
        lines.append(
            f"    burst: {burst_details['answered']} of {burst_details['attendees']} answered, "
            f"p50 {burst_details['p50_ms']} ms; recorded {burst_details['attendance_rows']} "
            f"attendances, {burst_details['audit_events']} audit events"
        )
    lines += [f"  note: {note}" for note in report.notes]
    lines.append(f"  ({report.details.get('elapsed_s')} s in all)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print its table, write its JSON; 0 however the figures come out."""
    parser = argparse.ArgumentParser(prog="python -m bot bench", description=__doc__)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options (shared with `python -m bot bench`)."""
    parser.add_argument(
        "only",
        nargs="?",
        choices=["all", "matching"],
        default="all",
        help="matching: only the repeat-matching precision and recall (a second, no server)",
    )
    parser.add_argument("--quick", action="store_true", help="a run under two minutes")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL URL (default: SQLite files)"
    )


def run_from_args(args: argparse.Namespace, config: BenchConfig | None = None) -> int:
    """Run with parsed options."""
    if getattr(args, "only", "all") == "matching":
        matching_main([])
        if args.json:
            figures = matching_figures()
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        return 0
    config = config or (QUICK if args.quick else FULL)
    if args.database_url:
        config = replace(config, database_url=args.database_url)
    logging.getLogger().setLevel(logging.WARNING)
    report = asyncio.run(run_bench(config))
    print(format_table(report))
    if args.json:
        payload: dict[str, Any] = {key: report.figures.get(key) for key in KEYS}
        payload["details"] = report.details
        payload["notes"] = report.notes
        Path(args.json).write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
