"""End-to-end harness: the real bot, the Microsoft 365 Agents Playground, Debian's Chromium.

Everything here is plain Python with no pytest in it, so that a scenario, a script or a
debugging session can use it; `conftest.py` turns it into fixtures.

- `start_bot` runs `python -m bot migrate` then `python -m bot serve` on a free port with a
  fresh SQLite file, and waits for `/healthz`. The bot's `PUBLIC_URL` is its own address and
  it has a signing secret, so its download links (the minutes' .docx) work from the tests.
- `start_playground` runs the Playground from `tests/e2e/node_modules` against that bot, with
  telemetry off, on a free port, and waits for its web page.
- `write_config_as` writes a copy of `.m365agentsplayground.yml` in which another person is
  the current user, so a scenario can act as someone else (a second Playground).
- `Chat` does what a person does in the Playground's personal chat or its group chat: types
  (mentioning the bot where Teams needs it), waits for the bot's cards (new ones, or a
  clicked card updated in place), fills in a card's fields, reads the red error under a
  field, clicks buttons, follows a link button, and takes screenshots.

Environment variables:
- `E2E_BOT_URL`: use a bot that is already running (e.g. `http://127.0.0.1:3978`) instead of
  starting one.
- `E2E_BOT_CWD`: directory to start the bot in (default: the repository root); it must hold a
  `bot` package runnable as `python -m bot migrate|serve`.
- `E2E_CHROMIUM`: the browser to drive (default `/usr/bin/chromium`, Debian's package).
- `E2E_TIMEOUT`: seconds to wait for a reply in the chat (default 30).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
PLAYGROUND_CONFIG = E2E_DIR / ".m365agentsplayground.yml"
PLAYGROUND_PACKAGE = E2E_DIR / "node_modules" / "@microsoft" / "m365agentsplayground"
PLAYGROUND_CLI = PLAYGROUND_PACKAGE / "cli.js"
SCREENSHOTS_DIR = E2E_DIR / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
# A screenshot of a card taller than the chat pane makes the page up to this tall.
MAX_SHOT_HEIGHT = 8000
REPLY_TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "30"))
# The accessible name the Playground gives a card's or a row's overflow ("…") menu button.
MORE_OPTIONS = "More options"
START_TIMEOUT = 60.0
RUN_COMMAND = (
    "(cd tests/e2e && npm ci) && apt-get install -y chromium && python -m pytest tests/e2e -m e2e"
)

# The Playground's own settings (read from its bundle, version 0.2.28):
PLAYGROUND_ENV = {
    # Do not try to open a desktop browser.
    "TEAMSAPPTESTER_BROWSER": "none",
    # Application Insights' "statsbeat" probes Azure's instance metadata service
    # (169.254.169.254) and its own endpoint even with --disable-telemetry: turn it off.
    "APPLICATION_INSIGHTS_NO_STATSBEAT": "1",
}


class HarnessError(RuntimeError):
    """Something the tests depend on could not be started; the message says what and why."""


# --------------------------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------------------------


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run the end-to-end tests (empty if nothing)."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (Debian's chromium package)")
    if not PLAYGROUND_CLI.exists():
        missing.append("tests/e2e/node_modules (npm ci in tests/e2e)")
    if shutil.which("node") is None:
        missing.append("node (Node.js)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    return missing


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now (on any address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path.name}: no output)"
    return "\n".join(text.splitlines()[-lines:]) or f"({path.name}: empty)"


def stop_process_group(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM the process's whole group (it was started in its own session), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_for_http(
    url: str, timeout: float, proc: subprocess.Popen[Any] | None = None, what: str = "server"
) -> None:
    """Poll `url` until it answers 200; raise HarnessError if it does not, or `proc` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise HarnessError(
                f"the {what} exited with code {proc.returncode} before {url} answered"
            )
        if http_ok(url):
            return
        time.sleep(0.2)
    raise HarnessError(f"the {what} did not answer 200 at {url} within {timeout:.0f} s")


# --------------------------------------------------------------------------------------------
# The bot under test
# --------------------------------------------------------------------------------------------


@dataclass
class BotServer:
    """A bot the Playground can talk to: `messages_url` is its `/api/messages`.

    `base_url` is also the bot's `PUBLIC_URL` when the harness started it, so the download
    links on its cards point at it.
    """

    base_url: str
    database_url: str | None = None
    process: subprocess.Popen[Any] | None = None
    log_dir: Path | None = None

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/api/messages"

    def stderr_tail(self, lines: int = 40) -> str:
        return tail(self.log_dir / "serve.stderr.log", lines) if self.log_dir else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)


def bot_environment(
    database_url: str, data_dir: Path, public_url: str = "", signing_secret: str = ""
) -> dict[str, str]:
    """The bot's environment: local mode (no app id, whatever `.env` says), a fresh database,
    and where its download links point (`PUBLIC_URL`) with the secret that signs them."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(data_dir),
        # Empty values win over a developer's `.env`: no app id means no token is checked.
        APP_ID="",
        APP_PASSWORD="",
        MicrosoftAppId="",
        MicrosoftAppPassword="",
        # Links on cards (the approved minutes' .docx, the .ics file) lead back to this bot.
        PUBLIC_URL=public_url,
        ICS_SIGNING_SECRET=signing_secret,
        PYTHONUNBUFFERED="1",
    )
    return env


def _run_step(python: str, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    """Run one `python -m bot ...` step to completion; raise with its output if it fails."""
    done = subprocess.run(
        [python, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        last = "\n".join((done.stderr or done.stdout).splitlines()[-40:])
        command = " ".join(args)
        raise HarnessError(f"`python -m bot {command}` failed ({done.returncode}):\n{last}")


def start_bot(
    work_dir: Path,
    *,
    cwd: Path | None = None,
    python: str = sys.executable,
    timeout: float = START_TIMEOUT,
    seed_demo: bool = True,
    settings: Mapping[str, str] | None = None,
) -> BotServer:
    """Migrate a fresh SQLite file, add the demo panel, serve the bot; wait for `/healthz`.

    The bot's `PUBLIC_URL` is its own `http://127.0.0.1:<port>`, and a new random
    `ICS_SIGNING_SECRET` signs its download links. Honours `E2E_BOT_URL` (use that running
    bot, whose links are what it was configured with) and `E2E_BOT_CWD` (where to start it).
    """
    running = os.environ.get("E2E_BOT_URL", "").strip()
    if running:
        base = running.rstrip("/").removesuffix("/api/messages")
        wait_for_http(f"{base}/healthz", timeout=10, what=f"bot at E2E_BOT_URL={running}")
        return BotServer(base_url=base)

    cwd = Path(os.environ.get("E2E_BOT_CWD") or cwd or REPO_ROOT)
    work_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{(work_dir / 'bot.sqlite3').as_posix()}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = bot_environment(database_url, work_dir / "data", base_url, secrets.token_urlsafe(32))
    env.update(settings or {})  # e.g. PANEL_ADMINS, for a scenario that starts with setup

    _run_step(python, ["migrate"], cwd, env, work_dir / "migrate.log")
    if seed_demo:
        # the invented demo panel, as `./dev.sh run` gives a new user
        _run_step(python, ["seed-demo"], cwd, env, work_dir / "seed.log")

    with (
        (work_dir / "serve.stdout.log").open("wb") as out,
        (work_dir / "serve.stderr.log").open("wb") as err,
    ):
        proc = subprocess.Popen(
            [python, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    bot = BotServer(base_url, database_url, proc, work_dir)
    try:
        wait_for_http(f"{base_url}/healthz", timeout, proc, what="bot")
    except HarnessError as exc:
        bot.stop()
        raise HarnessError(f"{exc}\n--- bot stderr (last lines) ---\n{bot.stderr_tail()}") from None
    return bot


# --------------------------------------------------------------------------------------------
# The Playground's configuration: who is who
# --------------------------------------------------------------------------------------------


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return str(json.loads(text))
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text[:1] in "{[|>&*!":
        raise ValueError(f"unsupported YAML in the Playground config: {text!r}")
    return text


def parse_config(text: str) -> dict[str, Any]:
    """Read the block-style YAML subset `.m365agentsplayground.yml` uses (no PyYAML here).

    Mappings, lists of mappings and string scalars; anything else raises ValueError.
    """
    rows: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = _strip_comment(raw).rstrip()
        if line.strip():
            rows.append((len(line) - len(line.lstrip(" ")), line.strip()))
    pos = 0

    def node(indent: int) -> Any:
        return seq(indent) if rows[pos][1].startswith("- ") else mapping(indent)

    def mapping(indent: int) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while pos < len(rows) and rows[pos][0] == indent and not rows[pos][1].startswith("- "):
            key, colon, rest = rows[pos][1].partition(":")
            if not colon or (rest and not rest.startswith(" ")):
                raise ValueError(
                    f"unsupported YAML line in the Playground config: {rows[pos][1]!r}"
                )
            pos += 1
            if rest.strip():
                out[key.strip()] = _scalar(rest)
            elif pos < len(rows) and (
                rows[pos][0] > indent or (rows[pos][0] == indent and rows[pos][1].startswith("- "))
            ):
                out[key.strip()] = node(rows[pos][0])
            else:
                out[key.strip()] = None
        return out

    def seq(indent: int) -> list[Any]:
        nonlocal pos
        out: list[Any] = []
        while pos < len(rows) and rows[pos][0] == indent and rows[pos][1].startswith("- "):
            item = rows[pos][1][2:].strip()
            if re.match(r"^[A-Za-z_][\w-]*:(\s|$)", item):
                rows[pos] = (indent + 2, item)  # "- key: value" opens a mapping
                out.append(mapping(indent + 2))
            else:
                out.append(_scalar(item))
                pos += 1
        return out

    result = mapping(0)
    if pos != len(rows):
        raise ValueError(f"unsupported YAML line in the Playground config: {rows[pos][1]!r}")
    return result


def read_config(path: Path = PLAYGROUND_CONFIG) -> dict[str, Any]:
    """A Playground config: the block YAML in the repository, or a JSON copy of it."""
    text = path.read_text()
    if text.lstrip().startswith("{"):
        return dict(json.loads(text))
    return parse_config(text)


def people(config: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """Everyone in the Playground's tenant: the current user first, then `users`."""
    config = read_config() if config is None else config
    return [dict(config["currentUser"]), *(dict(u) for u in config["users"])]


def person(name: str, config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The person called `name` (full name, or a unique first name), case-insensitively."""
    everyone = people(config)
    wanted = name.strip().casefold()
    found = [p for p in everyone if p["name"].casefold() == wanted] or [
        p for p in everyone if p["givenName"].casefold() == wanted
    ]
    if len(found) != 1:
        names = ", ".join(p["name"] for p in everyone)
        raise KeyError(f"no single person called {name!r} in the Playground config ({names})")
    return found[0]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def config_as(name: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The configuration with `name` as the current user and everyone else in `users`."""
    config = read_config() if config is None else config
    me = person(name, config)
    was = config["currentUser"]
    new: dict[str, Any] = json.loads(json.dumps(config))
    new["currentUser"] = me
    new["users"] = [p for p in people(config) if p["id"] != me["id"]]
    # A personal chat is one person's chat with the bot: give each person their own id.
    chat_id = str(config["personalChat"]["id"])
    old_slug, new_slug = _slug(was["name"]), _slug(me["name"])
    if me["id"] != was["id"]:
        chat_id = (
            chat_id.replace(old_slug, new_slug) if old_slug in chat_id else f"{chat_id}-{new_slug}"
        )
    new["personalChat"] = {"id": chat_id}
    return new


def write_config_as(name: str, dest_dir: Path, source: Path = PLAYGROUND_CONFIG) -> Path:
    """Write a temporary Playground config in `dest_dir` in which `name` is the current user.

    JSON is YAML, so the copy is JSON; pass the path to `start_playground(config=...)`.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"m365agentsplayground-{_slug(person(name, read_config(source))['name'])}.yml"
    path.write_text(json.dumps(config_as(name, read_config(source)), indent=2) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# The Playground
# --------------------------------------------------------------------------------------------


@dataclass
class Playground:
    """A running Agents Playground: open `url` in the browser."""

    port: int
    person: str
    config: Path
    process: subprocess.Popen[Any]
    log_dir: Path
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output_tail(self) -> str:
        return "\n".join(self.output)

    def stop(self) -> None:
        stop_process_group(self.process)


def _playground_command(bot_messages_url: str, port: int) -> list[str]:
    node = shutil.which("node") or "node"
    return [
        node,
        str(PLAYGROUND_CLI),
        "start",
        "--app-endpoint",
        bot_messages_url,
        "--channel-id",
        "msteams",
        "--port",
        str(port),
        # The URL the bot replies to; the default says "localhost".
        "--service-url",
        f"http://127.0.0.1:{port}/_connector",
        "--disable-telemetry",
    ]


def start_playground(
    bot_messages_url: str,
    log_dir: Path,
    *,
    config: Path = PLAYGROUND_CONFIG,
    timeout: float = START_TIMEOUT,
    attempts: int = 3,
) -> Playground:
    """Start the Playground on a free port for `bot_messages_url`; wait until its page loads.

    It falls back to a random port when the one asked for is taken, which would make
    `--service-url` wrong: then it is stopped and started again on another port.
    """
    if not PLAYGROUND_CLI.exists():
        raise HarnessError(f"no Playground in tests/e2e/node_modules: run `{RUN_COMMAND}`")
    log_dir.mkdir(parents=True, exist_ok=True)
    who = read_config(config)["currentUser"]["name"]
    env = dict(os.environ)
    env.update(PLAYGROUND_ENV)
    env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(config)
    env["M365_AGENTS_PLAYGROUND_LOGFILE"] = str(log_dir / "m365agentsplayground.log")
    problems = []
    for _ in range(attempts):
        port = free_port()
        proc = subprocess.Popen(
            _playground_command(bot_messages_url, port),
            cwd=E2E_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        playground = Playground(port, who, config, proc, log_dir)
        listening: list[int] = []
        ready = threading.Event()

        def pump(
            pg: Playground = playground,
            found: list[int] = listening,
            event: threading.Event = ready,
        ) -> None:
            assert pg.process.stdout is not None
            # The pipe is closed here once the Playground has exited (an unclosed pipe is a
            # ResourceWarning, an error under the suite's filterwarnings).
            with pg.process.stdout, (pg.log_dir / f"playground-{pg.port}.out.log").open("w") as log:
                for raw in pg.process.stdout:
                    line = raw.decode(errors="replace").rstrip()
                    pg.output.append(line)
                    log.write(line + "\n")
                    log.flush()
                    match = re.search(r"Listening on (\d+)", line)
                    if match and not found:
                        found.append(int(match.group(1)))
                        event.set()
            event.set()

        threading.Thread(target=pump, name=f"playground-{port}", daemon=True).start()
        if not ready.wait(timeout) or not listening:
            playground.stop()
            raise HarnessError(
                f"the Playground did not start within {timeout:.0f} s:\n{playground.output_tail()}"
            )
        if listening[0] != port:
            problems.append(f"asked for port {port}, got {listening[0]}")
            playground.stop()
            continue
        try:
            wait_for_http(playground.url, timeout, proc, what="Playground")
        except HarnessError as exc:
            playground.stop()
            raise HarnessError(f"{exc}\n{playground.output_tail()}") from None
        return playground
    raise HarnessError("the Playground found no free port: " + "; ".join(problems))


class PlaygroundPool:
    """One Playground per person, started on first use and stopped together.

    Every Playground talks to the same bot, so a scenario can have the coordinator act in one
    browser page and the SPOC in another.
    """

    def __init__(self, bot_messages_url: str, work_dir: Path) -> None:
        self.bot_messages_url = bot_messages_url
        self.work_dir = work_dir
        self._running: dict[str, Playground] = {}

    def get(self, name: str | None = None) -> Playground:
        default = read_config()["currentUser"]["name"]
        who = default if name is None else person(name)["name"]
        if who not in self._running:
            slug = _slug(who)
            config = (
                PLAYGROUND_CONFIG
                if who == default
                else write_config_as(who, self.work_dir / "configs")
            )
            self._running[who] = start_playground(
                self.bot_messages_url, self.work_dir / f"playground-{slug}", config=config
            )
        return self._running[who]

    @property
    def running(self) -> dict[str, Playground]:
        """The Playgrounds started so far, by person."""
        return dict(self._running)

    def close(self) -> None:
        for playground in self._running.values():
            playground.stop()
        self._running.clear()


# --------------------------------------------------------------------------------------------
# The browser and the chat
# --------------------------------------------------------------------------------------------


def _local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in ("127.0.0.1", "localhost", "::1")


async def launch_browser(playwright: Any) -> Any:
    """Debian's Chromium, headless, with no network of its own (no browser download ever)."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )


async def new_context(browser: Any) -> Any:
    """A fresh browser profile that reaches only this machine.

    The Playground's page asks a CDN for Segoe UI; those requests are refused at once (the
    page falls back to local fonts) rather than left to time out.
    """
    context = await browser.new_context(
        viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(15_000)

    async def only_local(route: Any) -> None:
        if _local(route.request.url):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", only_local)
    return context


class Shots:
    """One test's screenshots: `tests/e2e/screenshots/<test name>/<NN>-<name>.png`.

    The folder is emptied first, so it holds only the last run's pictures; numbering is
    shared by every chat in the test, so the files sort in the order things happened.
    """

    def __init__(self, test_name: str, root: Path = SCREENSHOTS_DIR) -> None:
        safe = re.sub(r"[^\w.-]+", "_", test_name).strip("_") or "test"
        self.folder = root / safe
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self.count = 0

    async def take(self, page: Any, name: str) -> Path:
        self.count += 1
        safe = re.sub(r"[^\w.-]+", "-", name).strip("-") or "shot"
        path = self.folder / f"{self.count:02d}-{safe}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


Text = str | re.Pattern[str]


def _whole(text: Text) -> re.Pattern[str]:
    """`text` as a pattern for a whole text block: a string matches exactly (spaces aside)."""
    if isinstance(text, re.Pattern):
        return text
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def _has_class(name: str) -> str:
    """An XPath test for an HTML class."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# From a card's input to the text block right under its field: Adaptive Cards puts each input
# (with its label) in a wrapper whose child is `.ac-input-container`; the bot's error, when
# there is one, is the next element after that wrapper.
_UNDER_FIELD = (
    f"xpath=ancestor::div[{_has_class('ac-input-container')}][1]/.."
    f"/following-sibling::*[1][{_has_class('ac-textBlock')}]"
)


def _rgb(colour: str) -> tuple[int, int, int]:
    found = [int(n) for n in re.findall(r"\d+", colour)[:3]]
    if len(found) != 3:
        raise AssertionError(f"cannot read the colour {colour!r}")
    return found[0], found[1], found[2]


def looks_red(colour: str) -> bool:
    """Whether a CSS colour (`rgb(196, 49, 75)`) reads as red: the card's "attention" colour."""
    red, green, blue = _rgb(colour)
    return red >= 150 and red >= 2 * green and red >= 2 * blue


PERSONAL_CHAT = "Personal Chat"


class Chat:
    """A person in the Playground: opens a chat, types, reads replies, fills in and clicks cards.

    The conversation open now (`conversation`) is the personal chat ("personal", as the
    Playground opens; `open_personal_chat`), the group chat ("group"; `open_group_chat`, the
    stand-in for a meeting's chat) or a team channel ("channel:General"; `open_channel`, to
    read what the bot posted there). Switching draws that conversation's history afresh, so
    waits that follow count all of it as new (a card delivered meanwhile is found; so is an
    older card with the same heading), and nothing of the conversation left behind.
    """

    def __init__(self, page: Any, playground: Playground, shots: Shots) -> None:
        self.page = page
        self.playground = playground
        self.shots = shots
        self._cards_found = 0
        config = read_config(playground.config)
        self.bot_name = str(config["bot"]["name"])
        self.group_chat_name = str((config.get("groupChat") or {}).get("name") or "")
        self.team_name = str((config.get("team") or {}).get("name") or "")
        self.conversation = "personal"

    # What is on the screen -----------------------------------------------------------------

    @property
    def person(self) -> str:
        """Who is using this Playground (its current user)."""
        return self.playground.person

    @property
    def chat_box(self) -> Any:
        """Where a person types: the last textbox on the page."""
        return self.page.get_by_role("textbox").last

    @property
    def bot_messages(self) -> Any:
        """Every message the bot has shown in the open conversation."""
        return self.page.locator(".fai-OutputCard")

    @property
    def cards(self) -> Any:
        """Every rendered Adaptive Card in the open conversation."""
        return self.page.locator(".ac-adaptiveCard")

    def card_with(self, text: str) -> Any:
        """Rendered Adaptive Cards that have a text block reading exactly `text`."""
        block = self.page.locator(".ac-textBlock").filter(has_text=_whole(text))
        return self.cards.filter(has=block)

    def field(self, card: Any, label: str) -> Any:
        """The input labelled `label` in `card`: a text box or area, a dropdown, a date, a
        number, a toggle (by its title) or one choice of a list of tick boxes.

        A required input's label may end in the renderer's own "*": `label` need not say it.
        A tick box of a choice set is labelled by the set's label, and titled by its choice.
        """
        named = re.compile(rf"^\s*{re.escape(label)}(\s*\*)?\s*$")
        titled = card.locator(f"input[aria-label={json.dumps(label)}]")
        return card.get_by_label(named).or_(titled).and_(card.locator("input, textarea")).first

    def field_error(self, card: Any, label: str) -> Any:
        """The text right under the field labelled `label`, where the bot shows what is wrong
        with it; it matches nothing when the field has no error under it."""
        return self.field(card, label).locator(_UNDER_FIELD)

    async def expect_field_error(self, card: Any, label: str, message: str) -> None:
        """Check that `message` is shown in red right under the field labelled `label`."""
        from playwright.async_api import expect

        error = self.field_error(card, label)
        await expect(error, f"the error under {label!r}").to_have_text(message)
        colour = await error.evaluate("(el) => getComputedStyle(el).color")
        if not looks_red(colour):
            raise AssertionError(f"the error under {label!r} is not red but {colour}")

    # What a person does --------------------------------------------------------------------

    async def open(self) -> None:
        """Open the Playground in the browser: it shows the personal chat."""
        await self.page.goto(self.playground.url)
        await self.page.get_by_role("treeitem", name=PERSONAL_CHAT, exact=True).wait_for()
        self.conversation = "personal"

    async def open_personal_chat(self) -> None:
        """Click "Personal Chat" (the one-to-one chat with the bot) in the chat list."""
        await self._open_conversation(PERSONAL_CHAT, "personal")

    async def open_group_chat(self) -> None:
        """Click the group chat ("Riverside panel group chat") in the chat list: the bot and
        everyone in the configuration are in it. Messages there mention the bot (`send`)."""
        if not self.group_chat_name:
            raise AssertionError("the Playground configuration has no groupChat name")
        await self._open_conversation(self.group_chat_name, "group")

    async def open_channel(self, name: str = "General") -> None:
        """Click a channel of the team in the list ("General", "Panel meetings"). Opening it
        is what makes the Playground add the bot to the team: until someone has, the bot
        knows no channel to post in. `send` there starts with the bot's @mention, as in the
        group chat (e.g. `setup`)."""
        await self._open_conversation(f"{self.team_name} - {name}", f"channel:{name}")

    async def _open_conversation(self, item_name: str, kind: str) -> None:
        if not self.page.url.startswith(self.playground.url):
            await self.open()
        if kind != self.conversation:
            # The conversation left behind is drawn no more; the one opened is drawn anew.
            await self._mark_seen()
        await self.page.get_by_role("treeitem", name=item_name, exact=True).click()
        await self.chat_box.wait_for(state="visible")
        self.conversation = kind

    async def _mark_seen(self) -> None:
        """Mark what is on screen now, so that waits look only at what comes after."""
        await self.page.evaluate(
            """() => document.querySelectorAll('.ac-adaptiveCard, .fai-OutputCard')
                .forEach((el) => { el.dataset.e2eSeen = '1'; })"""
        )

    async def send(self, text: str) -> None:
        """Type `text` in the chat box and press Enter.

        In the group chat the message starts with an @mention of the bot, picked from the
        list that "@" opens, as in Teams: the Playground passes the bot only messages that
        mention it there.
        """
        from playwright.async_api import expect

        await self._mark_seen()
        channel = self.conversation.startswith("channel")
        # A channel has a new post's box at the top (posted with its Post button) above
        # each thread's reply box: `send` starts a new post.
        box = self.page.get_by_role("textbox").first if channel else self.chat_box
        await box.click()
        if self.conversation == "group" or channel:
            await box.fill("")
            await box.press_sequentially("@")
            # Each person in the list is named twice: by their avatar, then by their name.
            menu = self.page.get_by_role("listbox", name="Typeahead menu")
            await (
                menu.get_by_role("menuitem")
                .filter(has=self.page.get_by_text(self.bot_name, exact=True))
                .click()
            )
            await expect(box).to_contain_text(self.bot_name)
            await box.press_sequentially(f" {text}")
        else:
            await box.fill(text)
        if channel:
            await self.page.get_by_role("button", name="Post", exact=True).click()
        else:
            await box.press("Enter")
        # The box empties once the message is on its way.
        await expect(box).to_have_text(re.compile(r"^\s*$"), timeout=10_000)

    async def _new_messages(self) -> list[str]:
        new = self.page.locator(".fai-OutputCard:not([data-e2e-seen])")
        return [" ".join(t.split()) for t in await new.all_inner_texts()]

    async def wait_for_text(
        self,
        text: Text,
        *,
        card: Any = None,
        timeout: float = REPLY_TIMEOUT,  # noqa: ASYNC109
    ) -> Any:
        """Wait until the bot shows `text` in the chat; return the message (or `card`).

        With `card` (from `wait_for_card`), wait for that card to show it: an Action.Execute
        click makes the bot's answer replace the clicked card in place, so no new card comes.
        """
        from playwright.async_api import TimeoutError as PlaywrightTimeout
        from playwright.async_api import expect

        if card is None:
            message = self.bot_messages.filter(has_text=text).last
            try:
                await message.wait_for(state="visible", timeout=timeout * 1000)
            except PlaywrightTimeout:
                raise AssertionError(
                    f"the bot did not show {text!r} within {timeout:.0f} s; "
                    f"its new messages: {await self._new_messages() or 'none'}"
                ) from None
            return message
        try:
            await expect(card).to_contain_text(text, timeout=timeout * 1000)
        except AssertionError:
            now = await card.inner_text(timeout=1000) if await card.count() else ""
            raise AssertionError(
                f"the card did not come to show {text!r} within {timeout:.0f} s; "
                f"it reads: {' '.join(now.split()) or '(no card)'}"
            ) from None
        return card

    async def wait_for_card(self, heading: Text, timeout: float = REPLY_TIMEOUT) -> Any:  # noqa: ASYNC109
        """Wait for a new Adaptive Card (since the last `send` or click) with a text block
        reading exactly `heading` (or matching it, if a pattern); return the card.

        Only a rendered card counts: the same words in a plain-text reply do not. A card the
        dispatcher delivers (queued for this person by someone else's action) counts too. The
        returned locator keeps finding the card when a click updates it in place.
        """
        card = (
            self.page.locator(".ac-adaptiveCard:not([data-e2e-seen])")
            .filter(has=self.page.locator(".ac-textBlock").filter(has_text=_whole(heading)))
            .last
        )
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            await card.wait_for(state="visible", timeout=timeout * 1000)
        except PlaywrightTimeout:
            shown = heading.pattern if isinstance(heading, re.Pattern) else heading
            raise AssertionError(
                f"no new Adaptive Card reading {shown!r} within {timeout:.0f} s; "
                f"the bot's new messages: {await self._new_messages() or 'none'}"
            ) from None
        # Name the card, so the locator still finds it once later waits mark it as seen.
        self._cards_found += 1
        name = f"{id(self):x}-{self._cards_found}"
        await card.evaluate("(el, name) => { el.dataset.e2eCard = name; }", name)
        return self.page.locator(f'.ac-adaptiveCard[data-e2e-card="{name}"]')

    async def click_card_button(self, title: str, card: Any = None) -> None:
        """Click the card button whose accessible name is `title` (in `card`, or the newest).

        A card shows at most six buttons; the rest sit under a row's or the card's "…"
        ("More options") menu. A button not in view is looked for in those menus, as a person
        would, and chosen there.
        """
        scope = card if card is not None else self.page
        button = scope.get_by_role("button", name=title, exact=True).last
        menus = scope.get_by_role("button", name=MORE_OPTIONS, exact=True)
        await button.or_(menus.first).first.wait_for(state="visible")
        if await button.is_visible() or not await self._choose_from_menus(menus, title):
            await button.wait_for(state="visible")
            await self._mark_seen()
            await button.click()

    async def _choose_from_menus(self, menus: Any, title: str) -> bool:
        """Open each "…" menu of `menus` in turn; choose `title` from the one holding it.
        False, with every menu closed again, when none does."""
        item = self.page.get_by_role("menuitem", name=title, exact=True)
        for index in range(await menus.count()):
            await menus.nth(index).click()
            with contextlib.suppress(Exception):
                await item.wait_for(state="visible", timeout=1_000)
            if await item.is_visible():
                await self._mark_seen()
                await item.click()
                return True
            await self.page.keyboard.press("Escape")
        return False

    async def link_of(self, title: str, card: Any = None) -> str:
        """The address a link button (Action.OpenUrl) titled `title` opens.

        The button is clicked as a person clicks it; the Playground hands the address to
        `window.open`, which is caught for the click, so no tab opens and the test can fetch
        the address itself.
        """
        scope = card if card is not None else self.page
        # The Playground draws a link button as a link, not a button.
        button = scope.get_by_role("link", name=title, exact=True).last
        await button.wait_for(state="visible")
        await self.page.evaluate(
            """() => {
                window.__e2eOpened = [];
                window.__e2eOpen = window.__e2eOpen || window.open;
                window.open = (url) => { window.__e2eOpened.push(String(url)); return null; };
            }"""
        )
        try:
            await button.click()
            opened = await self.page.wait_for_function(
                "() => window.__e2eOpened.length ? window.__e2eOpened[0] : null",
                timeout=10_000,
            )
            return str(await opened.json_value())
        finally:
            await self.page.evaluate("() => { window.open = window.__e2eOpen; }")

    async def fill(self, card: Any, label: str, text: str) -> None:
        """Click in the text box (or area, or number box) labelled `label` and type `text`
        in place of what it held.

        The click matters: on a card that came in the same message as some text (the bot's
        notifications), the Playground takes no notice of a value put in a box that was never
        clicked, so a required box still counts as empty and the button refuses to send.
        """
        box = self.field(card, label)
        await box.click()
        await box.fill(text)

    async def choose(self, card: Any, label: str, option: str) -> None:
        """Open the dropdown labelled `label` and pick `option`, as a person does."""
        from playwright.async_api import expect

        box = self.field(card, label)
        await box.click()
        await self.page.get_by_role("option", name=option, exact=True).click()
        await expect(box).to_have_value(option)

    async def fill_date(self, card: Any, label: str, day: str) -> None:
        """Type `day` (YYYY-MM-DD) in the date field labelled `label`, as a person types it.

        The date picker reads the typed date on Enter and then opens its calendar, which
        Escape closes (the date stays).
        """
        from playwright.async_api import expect

        box = self.field(card, label)
        await box.fill(day)
        await box.press("Enter")
        await self.page.keyboard.press("Escape")
        await expect(box).to_have_attribute("aria-expanded", "false")
        await expect(box).not_to_have_value(re.compile(r"^\s*$"))

    async def set_toggle(self, card: Any, title: str, on: bool = True) -> None:
        """Tick (or untick) the toggle or tick box whose title is `title`."""
        await self.field(card, title).set_checked(on)

    async def shot(self, name: str, card: Any = None) -> Path:
        """Save a full-page screenshot as `<NN>-<name>.png` in this test's folder.

        With `card`, the card is scrolled into view first, and when it is taller than the
        chat pane the page is made taller for the picture, so that all of it shows.
        """
        if card is None:
            return await self.shots.take(self.page, name)
        size = dict(self.page.viewport_size or VIEWPORT)
        box = await card.bounding_box()
        # the Playground's header, the sender line and the message box take about 260 px
        needed = min(int(box["height"]) + 260, MAX_SHOT_HEIGHT) if box else 0
        grown = needed > size["height"]
        if grown:
            await self.page.set_viewport_size({"width": size["width"], "height": needed})
        try:
            await card.scroll_into_view_if_needed()
            return await self.shots.take(self.page, name)
        finally:
            if grown:
                await self.page.set_viewport_size(size)


# --------------------------------------------------------------------------------------------
# Several people watching one Playground's group chat, and Teams' automatic refresh
# --------------------------------------------------------------------------------------------
#
# Leans on Agents Playground 0.2.28's internals (read from its bundle): the page's config
# comes from `GET /_internal/v1/config`; the page keeps its state in a Redux store reachable
# from React's root fiber; a card click is the action `Invoke/SEND_INVOKE_REQUEST_ASYNC`.
# The Playground never sends Universal Actions' automatic refresh itself ("User specific
# view is not supported yet"): `emulate_refresh` sends it the way Teams would.


async def watch_as(context: Any, name: str) -> None:
    """Make every page of `context` believe `name` is the Playground's current user.

    Call before `context.new_page()`. The page's card clicks then reach the bot as `name`;
    what it types still reaches the bot as the Playground's configured user, so only that
    user types. The group chat and team member lists swap the two ids, or the page fails.
    """
    wanted = person(name)["name"]

    async def swap(route: Any) -> None:
        response = await route.fetch()
        data = await response.json()
        config = data.get("config") if isinstance(data, dict) else None
        if not isinstance(config, dict) or "currentUser" not in config:
            raise HarnessError(
                "the Playground's /_internal/v1/config no longer holds config.currentUser: "
                "watch_as was written against Agents Playground 0.2.28"
            )
        everyone = [config["currentUser"], *config.get("users", [])]
        me = next(p for p in everyone if p["name"] == wanted)
        was = config["currentUser"]["id"]
        config["currentUser"] = me
        config["users"] = [p for p in everyone if p["id"] != me["id"]]
        for group in [*config.get("groupChats", []), *config.get("teams", [])]:
            group["members"] = [was if m == me["id"] else m for m in group.get("members", [])]
        await route.fulfill(response=response, json=data)

    await context.route("**/_internal/v1/config", swap)


_FIND_STORE = """() => {
  if (window.__e2eStore) return true;
  const root = document.getElementById('root');
  const key = root && Object.keys(root).find((k) => k.startsWith('__reactContainer$'));
  const stack = key ? [root[key]] : [];
  let seen = 0;
  while (stack.length && seen < 50000) {
    const fiber = stack.pop(); seen++;
    if (!fiber) continue;
    const props = fiber.memoizedProps;
    if (props && props.store && typeof props.store.dispatch === 'function'
        && typeof props.store.getState === 'function') {
      window.__e2eStore = props.store;
      window.__e2eViews = window.__e2eViews || {};
      return true;
    }
    if (fiber.child) stack.push(fiber.child);
    if (fiber.sibling) stack.push(fiber.sibling);
  }
  return false;
}"""

_EMULATE = """() => {
  const state = window.__e2eStore.getState();
  if (!state.messageList || !state.conversationList || !state.account) {
    throw new Error('the Playground store has no messageList, conversationList or account');
  }
  const me = state.account.id, out = [];
  const conversationId = state.conversationList.active.id;
  for (const id of Object.keys(state.messageList.byId)) {
    const message = state.messageList.byId[id];
    const attachments = message.attachments
      || (message.content && message.content.attachments) || [];
    attachments.forEach((attachment, index) => {
      const card = attachment.content;
      if (!card || !card.refresh || !card.refresh.action) return;
      const shown = JSON.stringify(card);
      if (window.__e2eViews[id + '#' + index] === shown) return;  // refreshed already
      window.__e2eViews[id + '#' + index] = shown;
      const heading = ((card.body || []).find((b) => b.type === 'TextBlock') || {}).text || '';
      const userIds = Array.isArray(card.refresh.userIds) ? card.refresh.userIds : null;
      const entry = {message: id, heading, userIds, action: card.refresh.action, refreshed: false};
      out.push(entry);
      if (userIds && !userIds.includes(me)) return;  // Teams refreshes only for those listed
      const action = card.refresh.action;
      window.__e2eStore.dispatch({type: 'Invoke/SEND_INVOKE_REQUEST_ASYNC', payload: {
        name: 'adaptiveCard/action', userId: me, conversationId, message, attachmentIndex: index,
        value: {action: {type: action.type, title: action.title, verb: action.verb,
                         data: action.data}, trigger: 'automatic'}}});
      entry.refreshed = true;
    });
  }
  return out;
}"""

_SETTLE = """() => {
  const state = window.__e2eStore.getState();
  for (const id of Object.keys(state.messageList.byId)) {
    const message = state.messageList.byId[id];
    const attachments = message.attachments
      || (message.content && message.content.attachments) || [];
    attachments.forEach((attachment, index) => {
      if (attachment.content && attachment.content.refresh) {
        window.__e2eViews[id + '#' + index] = JSON.stringify(attachment.content);
      }
    });
  }
}"""


@dataclass(frozen=True)
class Refresh:
    """One card with `refresh` seen by `emulate_refresh`: whether this page's user asked."""

    message: str
    heading: str
    user_ids: tuple[str, ...] | None
    verb: str
    data: dict[str, Any]
    refreshed: bool


async def find_store(page: Any) -> None:
    """Find the Playground page's Redux store; fail plainly when this Playground has none."""
    if not await page.evaluate(_FIND_STORE):
        raise HarnessError(
            "no Redux store found in the Playground page: the automatic refresh emulation "
            "leans on Agents Playground 0.2.28's internals (React root fiber, store prop), "
            "which this Playground version does not have"
        )


async def emulate_refresh(page: Any) -> list[Refresh]:
    """Do what a Teams client does for each card with `refresh` posted or edited since the
    last call: if the page's user is in its `userIds` (or it has none), send the refresh's
    Action.Execute as an `adaptiveCard/action` invoke with trigger "automatic", through the
    Playground's own click saga, so the answer replaces the card in this page only.

    Returns every such card, refreshed or not. Call `settle_views` once the answers show,
    so the answers themselves are not refreshed again.
    """
    await find_store(page)
    found = await page.evaluate(_EMULATE)
    return [
        Refresh(
            message=str(f["message"]),
            heading=str(f["heading"]),
            user_ids=tuple(f["userIds"]) if f["userIds"] is not None else None,
            verb=str(f["action"].get("verb", "")),
            data=dict(f["action"].get("data") or {}),
            refreshed=bool(f["refreshed"]),
        )
        for f in found
    ]


async def settle_views(page: Any) -> None:
    """Note every card the page shows now as seen by `emulate_refresh`."""
    await find_store(page)
    await page.evaluate(_SETTLE)


class ActivityRecorder:
    """A pass-through on 127.0.0.1 between the Playground and the bot that keeps every
    activity the bot is sent (its JSON), so a test can say what reached the bot.

    A thread serves it; each request is forwarded to `target` (the bot's base URL) as it
    came, and the bot's answer is passed back as it was.
    """

    def __init__(self, target: str) -> None:
        import http.server

        self.target = target.rstrip("/")
        self.activities: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if body and self.command == "POST":
                    with contextlib.suppress(ValueError):
                        activity = json.loads(body)
                        if isinstance(activity, dict):
                            with recorder._lock:
                                recorder.activities.append(activity)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "authorization")
                }
                request = urllib.request.Request(
                    recorder.target + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        status, data, kind = answer.status, answer.read(), answer.headers
                except urllib.error.HTTPError as err:
                    status, data, kind = err.code, err.read(), err.headers
                self.send_response(status)
                if kind.get("Content-Type"):
                    self.send_header("Content-Type", kind["Content-Type"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="activity-recorder", daemon=True
        )
        self._thread.start()

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/api/messages"

    def refresh_invokes(self, verb: str) -> list[dict[str, Any]]:
        """The `adaptiveCard/action` invokes of `verb` the bot was sent, in order."""
        with self._lock:
            sent = list(self.activities)
        return [
            a
            for a in sent
            if a.get("type") == "invoke"
            and a.get("name") == "adaptiveCard/action"
            and ((a.get("value") or {}).get("action") or {}).get("verb") == verb
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
