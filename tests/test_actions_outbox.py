"""The outbox's "update" rows: a card put over the message an earlier row became.

Through the real adapter and dispatcher to a fake Bot Connector on 127.0.0.1 (the tests'
fake, with a way to fail updates added here).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import make_deps
from bot.bench.connector import FakeConnector
from bot.bench.fanout import Fleet, seed_spocs
from bot.domain.common import FixedClock
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.settings import Settings
from bot.teams.outbox import OutboxDispatcher
from bot.teams.web import make_adapter
from cards.kit import build, paragraph
from storage import migrate_async, open_storage
from tests.support import cards
from tests.support.connector import QUICK, deliver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.panel import Member
    from bot.kernel.ports import Storage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class UpdatingConnector(FakeConnector):
    """The fake connector, whose updates (PUT) can be told to fail."""

    update_failures: list[int] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put(
            "/v3/conversations/{conversation}/activities/{activity}", self._maybe_update
        )
        return app

    async def _maybe_update(self, request: web.Request) -> web.Response:
        if self.update_failures:
            status = self.update_failures.pop(0)
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response(
                {"error": {"code": "Injected", "message": f"injected {status}"}},
                status=status,
                headers=headers,
            )
        return await self._update(request)


@dataclass
class Rig:
    storage: Storage
    fake: UpdatingConnector
    fleet: Fleet
    clock: FixedClock

    @property
    def spoc(self) -> Member:
        return self.fleet.members[0]

    def dispatcher(self) -> OutboxDispatcher:
        return OutboxDispatcher(
            make_adapter(Settings()),
            make_deps(uow=self.storage.unit_of_work, clock=self.clock),
            "",
            policy=QUICK,
            rng=random.Random(3),
        )

    async def queue(self, text: str, *, update_of: str | None = None) -> OutgoingDelivery:
        payload: dict[str, Any] = {"card": build([paragraph(text)]), "text": None}
        if update_of is not None:
            payload["update_of"] = update_of
        row = OutgoingDelivery(
            panel_id=self.fleet.panel.id,
            key=f"test:{text}",
            recipient_member_id=self.spoc.id,
            payload=payload,
            not_before=self.clock.now(),
            created_at=self.clock.now(),
        )
        async with self.storage.unit_of_work() as uow:
            assert await uow.outbox.enqueue(row)
            await uow.commit()
        return row

    async def row(self, row_id: str) -> OutgoingDelivery:
        async with self.storage.unit_of_work() as uow:
            found = await uow.outbox.get(self.fleet.panel.id, row_id)
        assert found is not None
        return found

    async def save(self, row: OutgoingDelivery) -> None:
        async with self.storage.unit_of_work() as uow:
            await uow.outbox.save(row)
            await uow.commit()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'updates.sqlite3').as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    fake = UpdatingConnector()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        clock = FixedClock(NOW)
        fleet = await seed_spocs(storage, 1, str(server.make_url("/")), now=NOW)
        yield Rig(storage, fake, fleet, clock)
    finally:
        await server.close()
        await storage.close()


async def test_a_sent_row_remembers_its_activity_and_an_update_replaces_it(rig: Rig) -> None:
    first = await rig.queue("Your action is due on Monday.")
    dispatcher = rig.dispatcher()
    assert await deliver(dispatcher) == 1
    sent = await rig.row(first.id)
    conversation = rig.fleet.chats[0].conversation_id
    assert (sent.state, sent.conversation_id) == (DeliveryState.SENT, conversation)
    assert sent.activity_id is not None and sent.activity_id.startswith("reply-")
    update = await rig.queue("Done on Friday.", update_of=first.id)
    assert await deliver(dispatcher) == 1
    (put,) = rig.fake.updated
    assert (put["id"], put["conversation"]["id"]) == (sent.activity_id, conversation)
    assert cards.shown(put) == "Done on Friday."
    assert len(rig.fake.sent) == 1  # nothing posted anew
    done = await rig.row(update.id)
    assert (done.state, done.last_status) == (DeliveryState.SENT, 200)
    assert done.activity_id == sent.activity_id
    assert dispatcher.stats.updated == 1


async def test_an_update_waits_while_the_earlier_card_is_not_sent_yet(rig: Rig) -> None:
    first = await rig.queue("Your action is due on Monday.")
    monday = NOW + timedelta(days=3)
    held = await rig.row(first.id)
    held.not_before = monday  # quiet hours: it goes on Monday morning
    await rig.save(held)
    update = await rig.queue("Update saved.", update_of=first.id)
    dispatcher = rig.dispatcher()
    await deliver(dispatcher)
    waiting = await rig.row(update.id)
    assert waiting.state is DeliveryState.PENDING
    assert waiting.not_before > monday
    assert rig.fake.updated == [] and rig.fake.sent == []
    rig.clock.advance(waiting.not_before + timedelta(seconds=1))
    await deliver(dispatcher)
    assert [cards.shown(a) for a in rig.fake.sent] == ["Your action is due on Monday."]
    assert [cards.shown(a) for a in rig.fake.updated] == ["Update saved."]


async def test_an_update_of_a_card_that_never_arrived_is_dropped(rig: Rig) -> None:
    first = await rig.queue("Your action is due on Monday.")
    lost = await rig.row(first.id)
    lost.claim(NOW)
    lost.give_up(403, unreachable=True)
    await rig.save(lost)
    update = await rig.queue("Update saved.", update_of=first.id)
    dispatcher = rig.dispatcher()
    await deliver(dispatcher)
    dropped = await rig.row(update.id)
    assert (dropped.state, dropped.last_status) == (DeliveryState.SENT, 204)
    assert rig.fake.updated == [] and rig.fake.sent == []
    assert dispatcher.stats.updates_dropped == 1


async def test_a_throttled_update_is_retried_and_a_vanished_message_is_given_up(
    rig: Rig,
) -> None:
    first = await rig.queue("Your action is due on Monday.")
    dispatcher = rig.dispatcher()
    await deliver(dispatcher)
    rig.fake.update_failures = [429]
    retried = await rig.queue("Update saved.", update_of=first.id)
    await deliver(dispatcher)
    assert (await rig.row(retried.id)).state is DeliveryState.SENT
    assert [cards.shown(a) for a in rig.fake.updated] == ["Update saved."]
    # 404: the message was deleted. The chat itself is not forgotten, nor a new one opened.
    rig.fake.update_failures = [404]
    gone = await rig.queue("Marked done.", update_of=first.id)
    await deliver(dispatcher)
    final = await rig.row(gone.id)
    assert (final.state, final.last_status) == (DeliveryState.FAILED, 404)
    assert rig.fake.created == []
    async with rig.storage.unit_of_work() as uow:
        assert await uow.conversations.personal(rig.fleet.panel.id, rig.spoc.id) is not None
