"""Shared fixtures: a real SQLite file, the real app behind a real aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import DISPATCHER, build_router, create_app
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.kernel.ports import Storage
from bot.kernel.router import Router
from bot.settings import Settings
from storage import migrate_async, open_storage
from tests.support.connector import FakeConnector, start_connector

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """A fresh, migrated SQLite file."""
    url = f"sqlite+aiosqlite:///{(tmp_path / 'bot.sqlite3').as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    yield storage
    await storage.close()


@dataclass
class Connector:
    fake: FakeConnector
    url: str


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    fake, server, url = await start_connector()
    yield Connector(fake, url)
    await server.close()


@dataclass
class BotUnderTest:
    """The running bot and the fake connector its replies go to."""

    client: TestClient[Any, Any]
    connector: FakeConnector
    service_url: str
    storage: Storage

    async def deliver(self) -> int:
        """Run the outbox dispatcher until nothing is due; returns how many rows it tried."""
        total = 0
        while sent := await self.client.app[DISPATCHER].run_once():
            total += sent
        return total

    async def post(self, activity: dict[str, Any], **headers: str) -> ClientResponse:
        """POST an activity to /api/messages as Teams would."""
        return await self.client.post(
            "/api/messages",
            json=activity,
            headers={"Content-Type": "application/json", **headers},
        )


async def start_bot(
    storage: Storage,
    connector: Connector,
    clock: FixedClock,
    *,
    settings: Settings | None = None,
    router: Router | None = None,
) -> BotUnderTest:
    """Serve the real app on a free loopback port."""
    settings = settings or Settings()
    app = create_app(
        settings,
        storage=storage,
        clock=clock,
        router=router or build_router(),
        deliver_in_background=False,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return BotUnderTest(client, connector.fake, connector.url, storage)


@pytest.fixture
async def bot(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> AsyncIterator[BotUnderTest]:
    """The demo panel on SQLite, served by the real app in local mode."""
    await seed_demo(sqlite_storage.unit_of_work, clock)
    under_test = await start_bot(sqlite_storage, connector, clock)
    yield under_test
    await under_test.client.close()
