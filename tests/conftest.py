"""Shared fixtures: a real SQLite file, the fake connector, the real app behind a real
aiohttp server. The world and the bot are built in tests/support/world.py; these fixtures
only hand them out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.domain.common import FixedClock
from bot.settings import Settings
from tests.support.world import (
    NOW,
    Backend,
    BotUnderTest,
    Connector,
    World,
    connecting,
    demo_world,
    opened,
    serving,
    start_bot,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.kernel.ports import Storage

__all__ = ["NOW", "BotUnderTest", "Connector", "start_bot"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """A fresh, migrated SQLite file."""
    async with opened(Backend.SQLITE, tmp_path) as storage:
        yield storage


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """A fresh, migrated SQLite file or PostgreSQL schema (each test runs on both)."""
    async with opened(request.param, tmp_path, label=request.node.name) as storage:
        yield storage


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    async with connecting() as started:
        yield started


@pytest.fixture
async def world() -> World:
    """The demo panel in memory, with the app's router, deps and a fixed clock."""
    return await demo_world()


@pytest.fixture
def bot_storage(sqlite_storage: Storage) -> Storage:
    """The storage `bot` stands on: a SQLite file unless a module overrides this fixture
    (e.g. with `database`, for SQLite and PostgreSQL)."""
    return sqlite_storage


@pytest.fixture
def bot_settings() -> Settings:
    """The settings `bot` is served with: a module that needs others (download links,
    administrators) overrides this fixture instead of building a bot of its own."""
    return Settings()


@pytest.fixture
async def bot(
    bot_storage: Storage, connector: Connector, clock: FixedClock, bot_settings: Settings
) -> AsyncIterator[BotUnderTest]:
    """The demo panel served by the real app in local mode, on `bot_storage`, with its
    router built by create_app from `bot_settings`; replies go to `connector`."""
    async with serving(bot_storage, connector, clock, settings=bot_settings) as running:
        yield running
