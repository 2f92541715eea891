"""Fixtures for the end-to-end tests: the real bot, the Agents Playground, Chromium.

Per test module: one bot on a fresh SQLite file with the demo panel (`bot_server`) and one
Playground per person (`playgrounds`; `playground` is the configured current user's), so
that what one scenario changes (an accepted referral, a meeting that has ended) never shows
in another file's scenarios. Session-wide: one browser (`browser`).
Per test: a fresh browser profile and page (`page`), its screenshots (`shots`) and a `Chat`
(`chat`); `chat_as("Gemma Hartley")` opens another person's Playground in a second page.

The tests use Playwright's async API and run in pytest-asyncio's session event loop, like the
session fixtures they share.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from . import harness
from .harness import BotServer, Chat, HarnessError, Playground, PlaygroundPool, Shots

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def _fail(message: str) -> None:
    pytest.fail(message, pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report (for failure screenshots) and attach the servers' output."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        bot = funcargs.get("bot_server")
        if isinstance(bot, BotServer) and bot.log_dir is not None:
            report.sections.append(("bot stderr (last lines)", bot.stderr_tail()))
        pool = funcargs.get("playgrounds")
        if isinstance(pool, PlaygroundPool):
            for who, playground in pool.running.items():
                report.sections.append((f"Playground output ({who})", playground.output_tail()))
    return report


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    """Skip (or, under CI, fail) when Chromium, node_modules or Playwright is missing."""
    missing = harness.missing_prerequisites()
    if missing:
        message = (
            f"end-to-end tests need {'; '.join(missing)}. "
            f"Run the command in tests/e2e/README.md: {harness.RUN_COMMAND}"
        )
        if os.environ.get("CI"):
            _fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    """This test module's bot: a migrated fresh SQLite file with the demo panel, served on a
    free port with its links pointing at itself (or the bot at `E2E_BOT_URL`, shared)."""
    problem = ""
    try:
        bot = harness.start_bot(tmp_path_factory.mktemp("bot"))
    except HarnessError as exc:
        problem = f"could not start the bot: {exc}"
    if problem:
        _fail(problem)
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def playgrounds(
    e2e_ready: None, bot_server: BotServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlaygroundPool]:
    """One Playground per person, all talking to `bot_server`; stopped after the module."""
    pool = PlaygroundPool(bot_server.messages_url, tmp_path_factory.mktemp("playground"))
    yield pool
    pool.close()


def _start(pool: PlaygroundPool, person: str | None = None) -> Playground:
    problem = ""
    try:
        return pool.get(person)
    except HarnessError as exc:
        problem = f"could not start the Agents Playground: {exc}"
    _fail(problem)
    raise AssertionError(problem)  # unreachable: pytest.fail raises


@pytest.fixture(scope="module")
def playground(playgrounds: PlaygroundPool) -> Playground:
    """The Playground of the current user in `.m365agentsplayground.yml` (the coordinator)."""
    return _start(playgrounds)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(e2e_ready: None) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await harness.launch_browser(playwright)
        yield chromium
        await chromium.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    """This test's screenshot folder, `tests/e2e/screenshots/<test name>/`."""
    return Shots(request.node.name)


@pytest_asyncio.fixture(loop_scope="session")
async def pages(
    browser: Any, shots: Shots, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Open fresh browser pages (each its own profile); on failure, screenshot each.

    `open_page(watch="Gemma Hartley")` opens a page that believes that person is its
    Playground's current user (`harness.watch_as`): several people watching one group chat.
    """
    contexts: list[Any] = []
    opened: list[Any] = []

    async def open_page(watch: str | None = None) -> Any:
        context = await harness.new_context(browser)
        contexts.append(context)
        if watch is not None:
            await harness.watch_as(context, watch)
        page = await context.new_page()
        opened.append(page)
        return page

    yield open_page
    reports = request.node.stash.get(_REPORTS, {})
    if any(r.failed for r in reports.values()):
        for page in opened:
            try:
                await shots.take(page, "failure")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"no failure screenshot: {exc}")  # noqa: T201 (in the test report)
    for context in contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(pages: Callable[[], Awaitable[Any]]) -> Any:
    """A fresh browser page."""
    return await pages()


@pytest_asyncio.fixture(loop_scope="session")
async def chat(page: Any, playground: Playground, shots: Shots) -> Chat:
    """The current user (the coordinator) at the Playground; nothing is open yet."""
    return Chat(page, playground, shots)


@pytest_asyncio.fixture(loop_scope="session")
async def chat_as(
    playgrounds: PlaygroundPool, pages: Callable[[], Awaitable[Any]], shots: Shots
) -> Callable[[str], Awaitable[Chat]]:
    """`await chat_as("Gemma Hartley")`: that person at their own Playground, in a new page."""

    async def open_as(person: str) -> Chat:
        return Chat(await pages(), _start(playgrounds, person), shots)

    return open_as
