"""Several bot processes on one PostgreSQL database behind nginx, all on 127.0.0.1.

What the scale test (tests/scale/) and the bench's `scale_out_ratio` stand on:

- `fresh_database(server_url)`: a PostgreSQL database of its own, created on the server
  `server_url` names (its database is only where CREATE DATABASE is issued from), migrated
  with `python -m bot migrate`, and dropped afterwards, connections and all.
- `cluster(database_url, directory, instances=N)`: N processes of `python -m bot serve
  --port P` (local mode, no APP_ID; DATABASE_URL and whatever `env` adds, e.g. a short
  OUTBOX_LEASE_SECONDS), each with its own log, and Debian's nginx in front of them: a
  configuration generated in `directory` (round robin over the N ports, one worker, a free
  loopback port, its own pid file, error log and temporary paths, and an access log naming
  the upstream of every request), started with `-p` and `-c`, never as a service. It yields
  once every process's /readyz, and nginx's, answered 200; everything it started is stopped
  at the end (killed if need be), whatever happened.
- `watched_connector()`: the fake Bot Connector (bot.bench.connector) that also notes when
  every request arrived, how it was answered and which bot process sent it, and how late
  its own event loop was (a late loop bunches the arrivals it times). The sender is the
  sending socket's owner, looked up when a connection is first seen: the kernel's socket
  diagnostics (as `ss` asks them) give the socket's inode, the processes' /proc fd tables
  its owner (Linux). A test can then tell what each instance delivered without the bot
  saying anything about itself.

The turns each instance served are counted from its own access log (`Instance.turns_served`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.bench.connector import ConnectorLimits, FakeConnector
from storage.sql.engine import async_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

    from aiohttp.typedefs import Handler, Middleware

NGINX = Path("/usr/sbin/nginx")
ROOT = Path(__file__).resolve().parents[2]
# How long a process may take to answer /readyz (three start at once on two cores).
READY_SECONDS = 90.0
STOP_SECONDS = 20.0
# Settings a developer's environment may hold that must not reach the test's processes:
# the app id would turn authentication on; Graph and the telemetry exporters reach out.
_NOT_PASSED = ("APP_", "GRAPH_", "OTEL_", "APPLICATIONINSIGHTS_", "DATABASE_URL", "PORT", "HOST")
_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_ACTIVITIES = re.compile(r"^/v3/conversations/([^/]+)/activities")


class ClusterError(RuntimeError):
    """A part of the cluster did not start; the message carries the end of its log."""


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a `python -m bot` child: this one without the app's credentials,
    DATABASE_URL set, the repository importable, text logs at INFO (the access log's lines
    count the turns)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_PASSED)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["DATABASE_URL"] = database_url
    env["LOG_LEVEL"] = "INFO"
    env["LOG_FORMAT"] = "text"
    env.update(extra or {})
    return env


async def bot_command(database_url: str, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run `python -m bot ARGS` on the database (e.g. `migrate`, `seed-demo`) in a directory
    of its own (so no `.env` is read); its output. ClusterError when it fails."""
    with tempfile.TemporaryDirectory(prefix="bot-command-") as directory:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env(database_url, env),
            cwd=directory,
        )
        printed, _ = await asyncio.wait_for(process.communicate(), READY_SECONDS)
    output = printed.decode(errors="replace")
    if process.returncode != 0:
        raise ClusterError(f"python -m bot {' '.join(args)} failed: {output[-2000:]}")
    return output


async def stop_process(
    process: asyncio.subprocess.Process, *, seconds: float = STOP_SECONDS
) -> None:
    """SIGTERM, then SIGKILL if it is still there after `seconds`; waits for it either way."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


async def wait_ready(
    url: str,
    *,
    process: asyncio.subprocess.Process | None = None,
    log_path: Path | None = None,
    seconds: float = READY_SECONDS,
) -> None:
    """Poll `url` (a /readyz) until it answers 200; ClusterError if `process` exits first
    or the time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    timeout = aiohttp.ClientTimeout(total=3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            if process is not None and process.returncode is not None:
                raise ClusterError(
                    f"{url}: the process exited ({process.returncode}) before it was ready: "
                    f"{tail(log_path) if log_path else ''}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            if loop.time() > deadline:
                raise ClusterError(
                    f"{url} was not ready within {seconds:.0f} s: "
                    f"{tail(log_path) if log_path else ''}"
                )
            await asyncio.sleep(0.1)


@dataclass
class Instance:
    """One `python -m bot serve` process; a restart keeps its port and log."""

    index: int
    port: int
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    # Every process id it has had, the current one last.
    pids: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def log(self) -> str:
        return tail(self.log_path, 10**9)

    def turns_served(self) -> int:
        """Activities this process answered, from its own access log."""
        return sum(1 for line in self.log().splitlines() if "POST /api/messages " in line)

    def errors(self) -> list[str]:
        """Lines it logged at ERROR or above (tracebacks follow such a line)."""
        return [
            line for line in self.log().splitlines() if " ERROR " in line or " CRITICAL " in line
        ]

    def peak_rss_mb(self) -> float:
        """Its peak resident memory so far (Linux VmHWM), in MB; 0 when unknown."""
        if self.pid is None:
            return 0.0
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0


# --- nginx ------------------------------------------------------------------------------


def nginx_config(directory: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """nginx in the foreground on 127.0.0.1:`port`, round robin over the bot ports; every
    file it writes inside `directory`. Bodies are not buffered to disk (the bot's requests
    are under 1 MB), so its workers need nothing of `directory`."""
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    return f"""\
daemon off;
master_process on;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format upstream '$upstream_addr $status $request_method $uri';
    access_log {directory}/access.log upstream;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    upstream bots {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://bots;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    """Debian's nginx with a generated configuration, in the foreground."""

    port: int
    directory: Path
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def served(self, path: str = "/api/messages") -> Counter[int]:
        """Requests for `path` nginx passed on, by the upstream port that answered."""
        counts: Counter[int] = Counter()
        for line in tail(self.directory / "access.log", 10**9).splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[3] == path:
                # `$upstream_addr` lists every upstream tried; the last one answered.
                last = parts[0].split(",")[-1].strip()
                if last.rpartition(":")[2].isdigit():
                    counts[int(last.rpartition(":")[2])] += 1
        return counts


def _write_nginx_config(directory: Path, port: int, upstream_ports: Sequence[int]) -> Path:
    if not NGINX.exists():
        raise ClusterError(f"{NGINX} is missing: `./dev.sh test` installs Debian's nginx")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, port, upstream_ports))
    return config


async def start_nginx(directory: Path, upstream_ports: Sequence[int]) -> Nginx:
    """nginx on a free loopback port in front of `upstream_ports`, answering once started."""
    port = free_port()
    config = _write_nginx_config(directory, port, upstream_ports)
    with (directory / "nginx.out").open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            str(NGINX),
            "-p",
            str(directory),
            "-c",
            str(config),
            "-e",
            str(directory / "error.log"),
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    nginx = Nginx(port, directory, process)
    try:
        await wait_ready(
            f"{nginx.url}/readyz", process=process, log_path=directory / "error.log", seconds=30
        )
    except BaseException:
        await stop_process(process, seconds=5)
        raise
    return nginx


# --- the cluster ------------------------------------------------------------------------


@dataclass
class Cluster:
    """The bot processes and nginx in front of them."""

    database_url: str
    directory: Path
    env: dict[str, str]
    instances: list[Instance] = field(default_factory=list)
    nginx: Nginx | None = None

    @property
    def url(self) -> str:
        """nginx's address: where Teams' requests would come in."""
        assert self.nginx is not None, "the cluster is not started"
        return self.nginx.url

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"

    def pids(self) -> dict[int, int]:
        """Every process id each instance has had, to its index."""
        return {pid: i.index for i in self.instances for pid in i.pids}

    def turns_served(self) -> list[int]:
        """Activities each instance answered, from its own access log, in index order."""
        return [i.turns_served() for i in self.instances]

    async def start(self, instances: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.instances = [
            Instance(n, free_port(), self.directory / f"bot-{n}.log") for n in range(instances)
        ]
        await asyncio.gather(*(self.start_instance(i.index) for i in self.instances))
        self.nginx = await start_nginx(self.directory / "nginx", [i.port for i in self.instances])

    async def start_instance(self, index: int) -> Instance:
        """Start (or start again) instance `index` on its port; returns once it is ready."""
        instance = self.instances[index]
        if instance.alive:
            raise ClusterError(f"instance {index} is already running")
        with instance.log_path.open("ab") as log:
            instance.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(instance.port),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=child_env(self.database_url, self.env),
                cwd=self.directory,
            )
        instance.pids.append(instance.process.pid)
        await wait_ready(
            f"{instance.url}/readyz", process=instance.process, log_path=instance.log_path
        )
        return instance

    async def kill(self, index: int) -> None:
        """SIGKILL instance `index`: no goodbye, no outcomes flushed, rows left as they are."""
        process = self.instances[index].process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def stop(self, index: int) -> None:
        """Stop instance `index` as a service manager would (SIGTERM)."""
        process = self.instances[index].process
        if process is not None:
            await stop_process(process)

    async def close(self) -> None:
        """Stop nginx and every instance, killing what does not stop."""
        stopping = [stop_process(i.process) for i in self.instances if i.process is not None]
        if self.nginx is not None:
            stopping.append(stop_process(self.nginx.process, seconds=5))
        results = await asyncio.gather(*stopping, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


@contextlib.asynccontextmanager
async def cluster(
    database_url: str,
    directory: Path,
    *,
    instances: int = 3,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Cluster]:
    """`instances` bot processes on `database_url` (migrated already) behind nginx; see the
    module docstring. Everything is stopped at the end, even when starting failed."""
    running = Cluster(database_url, directory, dict(env or {}))
    try:
        await running.start(instances)
        yield running
    finally:
        await running.close()


# --- the database -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database(
    server_url: str, *, label: str = "cluster", migrate: bool = True
) -> AsyncIterator[str]:
    """A new PostgreSQL database on `server_url`'s server, migrated by `python -m bot
    migrate` unless told; its URL. Dropped afterwards, even with processes still on it."""
    if not _LABEL.match(label):
        raise ValueError(f"a database label is lower-case letters, digits and _: {label!r}")
    server = make_url(server_url)
    if server.get_backend_name() != "postgresql":
        raise ValueError("several instances need PostgreSQL: give a postgresql:// URL")
    name = f"{label}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(async_url(server), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            database_url = server.set(database=name).render_as_string(hide_password=False)
            if migrate:
                await bot_command(database_url, "migrate")
            yield database_url
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


# --- the fake connector, watched --------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """One request to the fake connector: when (its event loop's clock), from which
    instance (None: not a cluster process), for which conversation, answered how."""

    at: float
    instance: int | None
    conversation: str | None
    status: int


@dataclass
class Watch:
    """What the watched connector saw; `track` tells it which processes are which."""

    fake: FakeConnector
    arrivals: list[Arrival] = field(default_factory=list)
    # The instance behind each activity the fake accepted, by its index in `fake.sent`.
    senders: dict[int, int | None] = field(default_factory=dict)
    _pids: dict[int, int] = field(default_factory=dict)
    # How late the connector's event loop woke from 10 ms sleeps, and when: a request is
    # timed when the loop gets to it, so a late loop bunches arrivals that were apart.
    lags: list[tuple[float, float]] = field(default_factory=list)
    # A connection's owner, by the connection (kept, so its id is not reused meanwhile).
    _owners: dict[int, tuple[object, int | None]] = field(default_factory=dict)

    def track(self, pids: Mapping[int, int]) -> None:
        """Process ids to instance indexes (call again after a restart)."""
        self._pids.update(pids)

    def sender(self, sent_index: int) -> int | None:
        return self.senders.get(sent_index)

    def worst_lag(self, since: float = float("-inf")) -> float:
        """The connector's loop's worst lateness (seconds) since the loop instant `since`."""
        return max((lag for at, lag in self.lags if at >= since), default=0.0)

    async def watch_lag(self, every: float = 0.01) -> None:
        """Note how late the loop wakes, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            asleep = loop.time()
            await asyncio.sleep(every)
            woke = loop.time()
            self.lags.append((woke, woke - asleep - every))

    def delivered_by(self, since: int = 0) -> Counter[int | None]:
        """Activities accepted from `fake.sent[since]` on, by the instance that sent them."""
        return Counter(self.senders.get(n) for n in range(since, len(self.fake.sent)))

    def middleware(self) -> Middleware:
        @web.middleware
        async def watch(request: web.Request, handler: Handler) -> web.StreamResponse:
            at = asyncio.get_running_loop().time()
            instance = self._owner_of(request)
            response = await handler(request)
            match = _ACTIVITIES.match(request.path) if request.method == "POST" else None
            if match and response.status == 201:
                # The fake appends an accepted activity and answers without yielding in
                # between: the last one it holds is this request's.
                self.senders[len(self.fake.sent) - 1] = instance
            self.arrivals.append(
                Arrival(at, instance, match.group(1) if match else None, response.status)
            )
            return response

        return watch

    def _owner_of(self, request: web.Request) -> int | None:
        transport = request.transport
        if transport is None:
            return None
        known = self._owners.get(id(transport))
        if known is not None and known[0] is transport:
            return known[1]
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        owner = None
        if peer and local:
            owner = _socket_owner(int(peer[1]), int(local[1]), self._pids)
        self._owners[id(transport)] = (transport, owner)
        return owner


def busiest_second(arrivals: Iterable[Arrival], seconds: float = 1.0) -> int:
    """The most of `arrivals` within any `seconds` (a sliding window, not clock seconds)."""
    times = sorted(a.at for a in arrivals)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def _socket_owner(client_port: int, server_port: int, pids: Mapping[int, int]) -> int | None:
    """Which of `pids` holds the TCP socket from `client_port` to `server_port` (loopback)."""
    inode = _socket_inode(client_port, server_port)
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for pid, index in pids.items():
        with contextlib.suppress(OSError), os.scandir(f"/proc/{pid}/fd") as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if os.readlink(entry.path) == wanted:
                        return index
    return None


# sock_diag (netlink), as `ss` asks the kernel for one socket: /proc/net/tcp lists every
# socket of the machine and takes tens of milliseconds to read, this a few microseconds.
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NO_COOKIE = 0xFFFFFFFF
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_LOOPBACK = socket.inet_aton("127.0.0.1") + bytes(12)


def _socket_inode(local_port: int, remote_port: int) -> int | None:
    """The inode of the TCP socket 127.0.0.1:`local_port` -> 127.0.0.1:`remote_port`."""
    # struct inet_diag_req_v2, with its struct inet_diag_sockid naming one socket exactly.
    request = (
        struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF)
        + struct.pack("!HH", local_port, remote_port)
        + _LOOPBACK
        + _LOOPBACK
        + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    )
    header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as diag:
            diag.sendall(header + request)
            answer = diag.recv(65536)
    except (OSError, AttributeError):  # not Linux
        return None
    if len(answer) < _HEADER.size + 72 or _HEADER.unpack_from(answer)[1] != _SOCK_DIAG_BY_FAMILY:
        return None  # an error message: no such socket (any more)
    # struct inet_diag_msg: 4 bytes, the socket id (48), then expires, queues, uid, inode.
    inode: int = struct.unpack_from("=I", answer, _HEADER.size + 4 + 48 + 16)[0]
    return inode or None


@contextlib.asynccontextmanager
async def watched_connector(
    limits: ConnectorLimits | None = None,
) -> AsyncIterator[tuple[Watch, str]]:
    """The fake Bot Connector on a free loopback port, watched; the watch and its URL."""
    fake = FakeConnector(limits=limits or ConnectorLimits())
    watch = Watch(fake)
    app = fake.app()
    app.middlewares.append(watch.middleware())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    lag = asyncio.create_task(watch.watch_lag())
    try:
        yield watch, str(server.make_url("/"))
    finally:
        lag.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lag
        await server.close()
