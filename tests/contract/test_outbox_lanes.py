"""Revision 0012: the outbox's lanes and the tenant's shared budget.

On every backend a row keeps its lane (even once a sent row's payload is emptied), one
owner claims due rows oldest first, and a lane's sends come back as its history. On
PostgreSQL a lane belongs to one owner at a time: another waits until it is let go or its
lease runs out with nothing of it still sending, and the tenant's turns are spaced. On
SQLite (one instance) and in memory nobody shares the outbox: no lanes are taken and the
tenant's budget is the dispatcher's own (None).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from bot.domain.delivery import DeliveryState
from storage import SqlStorage

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.delivery import OutgoingDelivery
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage
    from tests.contract.conftest import Backends

LEASE = timedelta(seconds=20)


@pytest.fixture(scope="module", params=[pytest.param("postgres", marks=pytest.mark.postgres)])
async def postgres(request: pytest.FixtureRequest, backends: Backends) -> Storage:
    """PostgreSQL alone: the one backend several instances share."""
    return await backends.get(request.param)


async def drain(storage: Storage, now: datetime) -> None:
    """Mark whatever other tests left due as failed: claims read every panel's outbox."""
    async with storage.unit_of_work() as uow:
        while leftovers := await uow.outbox.due(now, 100):
            for delivery in leftovers:
                delivery.state = DeliveryState.FAILED
                await uow.outbox.save(delivery)
        await uow.commit()


async def queued(storage: Storage, *deliveries: OutgoingDelivery) -> None:
    async with storage.unit_of_work() as uow:
        for delivery in deliveries:
            assert await uow.outbox.enqueue(delivery)
        await uow.commit()


async def claim(
    storage: Storage, owner: str, now: datetime, *, limit: int = 10, mark: bool = False
) -> tuple[list[OutgoingDelivery], set[str]]:
    """One claim, committed; `mark`: the rows are marked SENDING as the dispatcher does."""
    async with storage.unit_of_work() as uow:
        rows, taken = await uow.outbox.claim_due(owner, now, limit, now + LEASE)
        if mark:
            for row in rows:
                row.claim(now)
                await uow.outbox.save(row)
        await uow.commit()
    return rows, taken


async def shared(storage: Storage, panel: Panel) -> bool:
    async with storage.unit_of_work() as uow:
        turn = await uow.outbox.tenant_turn(f"probe-{panel.id}", "probe", 0.001)
        await uow.commit()
    return turn is not None


async def test_a_row_keeps_its_lane_once_sent_and_emptied(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.delivery(panel)
    chat = make.delivery(
        panel, recipient_member_id=None, payload={"conversation_id": "19:chat", "text": "Hi"}
    )
    await queued(storage, member, chat)
    async with storage.unit_of_work() as uow:
        stored = await uow.outbox.get(panel.id, chat.id)
        assert stored is not None
        stored.claim(make.at())
        stored.sent(201, make.at(), conversation_id="19:chat")
        await uow.outbox.save(stored)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        got_member = await uow.outbox.get(panel.id, member.id)
        got_chat = await uow.outbox.get(panel.id, chat.id)
    assert got_member is not None
    assert got_member.lane == f"{panel.id}:member:{member.recipient_member_id}"
    assert got_chat is not None
    assert "text" not in got_chat.payload  # emptied
    assert got_chat.lane == f"{panel.id}:conversation:19:chat"


async def test_one_owner_claims_due_rows_oldest_first(storage: Storage) -> None:
    now = make.at(days=40)
    await drain(storage, now)
    (panel,) = await make.stored_panels(storage)
    member = make.new_id()
    rows = [
        make.delivery(panel, recipient_member_id=member, created_at=make.at(days=40, minutes=-n))
        for n in range(3)
    ]
    later = make.delivery(panel, not_before=now + timedelta(minutes=1))
    await queued(storage, *rows, later)

    claimed, taken = await claim(storage, "instance-a", now)

    assert [d.id for d in claimed] == [d.id for d in reversed(rows)]
    lane = f"{panel.id}:member:{member}"
    assert taken == ({lane} if await shared(storage, panel) else set())
    async with storage.unit_of_work() as uow:
        await uow.outbox.keep_lanes("instance-a", [], now)
        await uow.commit()


async def test_a_lanes_history_is_its_rows_sent_since_oldest_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.new_id()
    lane = f"{panel.id}:member:{member}"
    sent_times = [make.at(minutes=n) for n in (5, 1, 3)]
    rows = [make.delivery(panel, recipient_member_id=member) for _ in sent_times]
    old = make.delivery(panel, recipient_member_id=member)
    other = make.delivery(panel)
    unsent = make.delivery(panel, recipient_member_id=member)
    await queued(storage, *rows, old, other, unsent)
    async with storage.unit_of_work() as uow:
        finished = [(old, make.at()), (other, make.at(minutes=2))]
        for row, at in [*zip(rows, sent_times, strict=True), *finished]:
            stored = await uow.outbox.get(panel.id, row.id)
            assert stored is not None
            stored.claim(at)
            stored.sent(201, at, conversation_id=f"a:chat-{row.recipient_member_id}")
            await uow.outbox.save(stored)
        await uow.commit()

    async with storage.unit_of_work() as uow:
        history = await uow.outbox.lane_history([lane], make.at(minutes=0.5))
        assert await uow.outbox.lane_history([], make.at()) == []

    assert history == [(lane, f"a:chat-{member}", at) for at in sorted(sent_times)]


async def test_the_tenants_turns_are_spaced_where_the_outbox_is_shared(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    tenant = f"tenant-{panel.id}"

    async def turn(owner: str, count: int = 1) -> tuple[datetime, bool] | None:
        async with storage.unit_of_work() as uow:
            taken = await uow.outbox.tenant_turn(tenant, owner, 10.0, count, alone_after=0.05)
            await uow.commit()
        return taken

    began = await turn("instance-a")
    if began is None:  # one instance paces the tenant alone
        assert await turn("instance-b") is None
        return
    first, new = began
    assert abs((first - datetime.now(UTC)).total_seconds()) < 60  # about now
    assert new  # the tenant's first turns: someone else may be starting too
    await asyncio.sleep(0.1)
    assert await turn("instance-a") == (first + timedelta(seconds=10), False)  # alone
    assert await turn("instance-a") == (first + timedelta(seconds=20), False)
    assert await turn("instance-b", 3) == (first + timedelta(seconds=30), True)
    assert await turn("instance-a") == (first + timedelta(seconds=60), True)


async def test_a_lane_held_by_one_owner_is_not_claimed_by_another(postgres: Storage) -> None:
    now = make.at(days=50)
    await drain(postgres, now)
    (panel,) = await make.stored_panels(postgres)
    first, second = (make.delivery(panel, recipient_member_id="m1") for _ in range(2))
    elsewhere = make.delivery(panel, recipient_member_id="m2")
    await queued(postgres, first, second, elsewhere)

    mine, taken = await claim(postgres, "instance-a", now, limit=1, mark=True)
    assert [d.id for d in mine] == [first.id]
    assert taken == {first.lane}

    theirs, taken = await claim(postgres, "instance-b", now + timedelta(seconds=1))
    assert [d.id for d in theirs] == [elsewhere.id]  # not `second`: its lane is held
    assert taken == {elsewhere.lane}

    again, taken = await claim(postgres, "instance-a", now + timedelta(seconds=2))
    assert [d.id for d in again] == [second.id]  # the holder renews and goes on
    assert taken == set()


async def test_a_lane_whose_lease_ran_out_is_taken_once_nothing_of_it_is_sending(
    postgres: Storage,
) -> None:
    now = make.at(days=60)
    await drain(postgres, now)
    (panel,) = await make.stored_panels(postgres)
    first, second = (make.delivery(panel, recipient_member_id="m3") for _ in range(2))
    await queued(postgres, first, second)
    mine, _ = await claim(postgres, "instance-a", now, limit=1, mark=True)
    assert [d.id for d in mine] == [first.id]

    after_lease = now + LEASE + timedelta(seconds=1)
    theirs, taken = await claim(postgres, "instance-b", after_lease)
    assert theirs == []  # `first` is still sending: its order must hold
    assert taken == set()

    async with postgres.unit_of_work() as uow:
        stored = await uow.outbox.get(panel.id, first.id)
        assert stored is not None
        stored.sent(201, after_lease, conversation_id="a:chat-m3")
        await uow.outbox.save(stored)
        await uow.commit()
    theirs, taken = await claim(postgres, "instance-b", after_lease)
    assert [d.id for d in theirs] == [second.id]
    assert taken == {second.lane}


async def test_a_lane_let_go_is_taken_at_once(postgres: Storage) -> None:
    now = make.at(days=70)
    await drain(postgres, now)
    (panel,) = await make.stored_panels(postgres)
    row = make.delivery(panel, recipient_member_id="m4")
    await queued(postgres, row)
    mine, _ = await claim(postgres, "instance-a", now)  # claimed, left pending
    assert [d.id for d in mine] == [row.id]
    theirs, _ = await claim(postgres, "instance-b", now)
    assert theirs == []

    async with postgres.unit_of_work() as uow:
        await uow.outbox.keep_lanes("instance-a", [], now)
        await uow.commit()
    theirs, taken = await claim(postgres, "instance-b", now)

    assert [d.id for d in theirs] == [row.id]
    assert taken == {row.lane}


async def test_leases_that_ran_out_long_ago_are_forgotten(postgres: Storage) -> None:
    now = make.at(days=80)
    await drain(postgres, now)
    (panel,) = await make.stored_panels(postgres)
    old, recent = (make.delivery(panel, recipient_member_id=m) for m in ("m5", "m6"))
    await queued(postgres, old)
    await claim(postgres, "instance-a", now - timedelta(hours=2), mark=True)
    await queued(postgres, recent)
    await claim(postgres, "instance-b", now, mark=True)

    async with postgres.unit_of_work() as uow:
        await uow.outbox.keep_lanes("instance-c", [], now + LEASE)
        await uow.commit()

    assert isinstance(postgres, SqlStorage)
    async with postgres.engine.connect() as conn:
        leases = (await conn.execute(text("SELECT lane_key, owner FROM outbox_lanes"))).all()
    # instance-a's lease ran out more than an hour ago: forgotten; instance-b's holds.
    assert (old.lane, "instance-a") not in leases
    assert (recent.lane, "instance-b") in leases
