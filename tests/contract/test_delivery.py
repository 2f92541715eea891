"""Conversation references, the outbox of deliveries, and the activity ledger."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.delivery import ConversationKind, DeliveryState, OutgoingDelivery
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage


def era(year: int) -> datetime:
    return datetime(year, 3, 1, 12, tzinfo=UTC)


async def drain(storage: Storage, now: datetime) -> None:
    """Mark whatever other tests left due as failed: `due` reads every panel's outbox."""
    async with storage.unit_of_work() as uow:
        while leftovers := await uow.outbox.due(now, 100):
            for delivery in leftovers:
                delivery.state = DeliveryState.FAILED
                await uow.outbox.save(delivery)
        await uow.commit()


async def test_a_conversation_reference_comes_back_with_every_field(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    ref = make.conversation(panel)
    channel = make.conversation(panel, kind=ConversationKind.CHANNEL, member_id=None)
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(ref)
        await uow.conversations.save(channel)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(panel.id, ref.conversation_id) == ref
        assert await uow.conversations.by_conversation(panel.id, channel.conversation_id) == channel


async def test_saving_a_reference_for_a_known_conversation_replaces_the_old_one(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    old = make.conversation(panel, kind=ConversationKind.GROUP_CHAT)
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(old)
        await uow.commit()
    new = make.conversation(
        panel,
        kind=ConversationKind.GROUP_CHAT,
        conversation_id=old.conversation_id,
        service_url="https://smba.trafficmanager.net/emea/",
        updated_at=make.at(days=1),
    )
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(new)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(panel.id, old.conversation_id) == new
        assert await uow.conversations.of_kind(panel.id, ConversationKind.GROUP_CHAT) == [new]
    new.reference = {"changed": True}
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(new)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(panel.id, old.conversation_id) == new


async def test_a_members_personal_chat_is_the_latest_one_saved(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    older = make.conversation(panel, member_id="m1", updated_at=make.at(days=-3))
    newer = make.conversation(panel, member_id="m1", updated_at=make.at(days=-1))
    in_a_channel = make.conversation(
        panel, kind=ConversationKind.CHANNEL, member_id="m1", updated_at=make.at()
    )
    async with storage.unit_of_work() as uow:
        for ref in (older, newer, in_a_channel, make.conversation(panel, member_id="m2")):
            await uow.conversations.save(ref)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.personal(panel.id, "m1") == newer
        assert await uow.conversations.personal(panel.id, "m3") is None


async def test_conversations_of_a_kind_are_listed_least_recently_updated_first(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    refs = [
        make.conversation(panel, kind=ConversationKind.CHANNEL, updated_at=make.at(days=d))
        for d in (2, 0, 1)
    ]
    async with storage.unit_of_work() as uow:
        for ref in [*refs, make.conversation(panel, kind=ConversationKind.MEETING)]:
            await uow.conversations.save(ref)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        listed = await uow.conversations.of_kind(panel.id, ConversationKind.CHANNEL)
    assert listed == [refs[1], refs[2], refs[0]]


async def test_a_conversation_reference_is_deleted_only_from_its_own_panel(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    ref = make.conversation(mine)
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(ref)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        await uow.conversations.delete(theirs.id, ref.id)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(mine.id, ref.conversation_id) == ref
        await uow.conversations.delete(mine.id, ref.id)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(mine.id, ref.conversation_id) is None


async def test_conversations_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    ref = make.conversation(mine, member_id="shared-member")
    async with storage.unit_of_work() as uow:
        await uow.conversations.save(ref)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.conversations.by_conversation(theirs.id, ref.conversation_id) is None
        assert await uow.conversations.personal(theirs.id, "shared-member") is None
        assert await uow.conversations.of_kind(theirs.id, ConversationKind.PERSONAL) == []


async def test_a_delivery_comes_back_with_every_field_and_saving_again_updates_it(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    delivery = make.delivery(panel, not_before=era(2100), created_at=era(2100))
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.enqueue(delivery) is True
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.get(panel.id, delivery.id) == delivery
    delivery.claim()
    delivery.sent(201, at=era(2100) + timedelta(seconds=3))
    async with storage.unit_of_work() as uow:
        await uow.outbox.save(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.outbox.get(panel.id, delivery.id)
    # Sent, it keeps what delivery records need and not the card (storage.inventory).
    assert loaded == dataclasses.replace(delivery, payload={})
    assert loaded is not None
    assert (loaded.state, loaded.attempts, loaded.last_status) == (DeliveryState.SENT, 1, 201)


async def test_a_key_is_queued_once_and_a_duplicate_leaves_the_unit_of_work_usable(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    first = make.delivery(panel, not_before=era(2101), created_at=era(2101))
    again = make.delivery(panel, key=first.key, payload={"other": True})
    agency = make.agency(panel)
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.enqueue(first) is True
        assert await uow.outbox.enqueue(again) is False
        await uow.agencies.save(agency)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.enqueue(again) is False
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.get(panel.id, first.id) == first
        assert await uow.outbox.get(panel.id, again.id) is None
        assert await uow.agencies.get(panel.id, agency.id) == agency


async def test_a_delivery_needs_a_panel_that_exists(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.outbox.enqueue(make.delivery(make.panel()))


async def test_due_deliveries_are_pending_ones_whose_time_has_come_oldest_first(
    storage: Storage,
) -> None:
    first, second = await make.stored_panels(storage, 2)
    now = era(2102)
    await drain(storage, now)

    def queued(owner: Panel, created_minutes_ago: int, **fields: object) -> OutgoingDelivery:
        created = now - timedelta(minutes=created_minutes_ago)
        values: dict[str, object] = {"created_at": created, "not_before": created}
        return make.delivery(owner, **(values | fields))

    oldest = queued(second, 30)
    middle = queued(first, 20, attempts=2, last_status=429)
    newest = queued(first, 10, not_before=now)
    same_instant = [queued(second, 5) for _ in range(3)]
    not_yet = queued(first, 40, not_before=now + timedelta(seconds=1))
    sending = queued(first, 50, state=DeliveryState.SENDING)
    sent = queued(first, 50, state=DeliveryState.SENT)
    failed = queued(first, 50, state=DeliveryState.FAILED)
    async with storage.unit_of_work() as uow:
        for delivery in [newest, *same_instant, not_yet, middle, sending, oldest, sent, failed]:
            assert await uow.outbox.enqueue(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.outbox.due(now, 10)
        assert await uow.outbox.due(now, 2) == [oldest, middle]
        assert await uow.outbox.due(now - timedelta(minutes=25), 10) == [oldest]
    assert [d.id for d in due] == [oldest.id, middle.id, newest.id, *(d.id for d in same_instant)]
    assert due[0] == oldest


async def test_two_units_of_work_queueing_the_same_key_at_once_store_one_delivery(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    await drain(storage, era(2103))
    key = make.unique("agenda-published")
    rivals = [
        make.delivery(panel, key=key, not_before=era(2103), created_at=era(2103)) for _ in range(2)
    ]

    async def queue_in_own_unit(delivery: OutgoingDelivery) -> bool:
        async with storage.unit_of_work() as uow:
            queued = await uow.outbox.enqueue(delivery)
            await asyncio.sleep(0.05)
            await uow.commit()
            return queued

    results = await asyncio.gather(*(queue_in_own_unit(d) for d in rivals))
    assert sorted(results) == [False, True]
    async with storage.unit_of_work() as uow:
        stored = [await uow.outbox.get(panel.id, d.id) for d in rivals]
        assert [d for d in stored if d is not None] == [rivals[results.index(True)]]
        assert len(await uow.outbox.due(era(2103), 10)) == 1


async def test_a_key_queued_by_a_unit_that_rolls_back_can_be_queued_again(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    delivery = make.delivery(panel, not_before=era(2104), created_at=era(2104))
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.enqueue(delivery) is True
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.enqueue(delivery) is True
        await uow.commit()


async def test_deliveries_taken_by_one_dispatcher_are_skipped_by_another(
    locking_storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(locking_storage)
    now = era(2105)
    await drain(locking_storage, now)
    deliveries = [
        make.delivery(panel, created_at=now - timedelta(minutes=n), not_before=now)
        for n in range(4, 0, -1)
    ]
    async with locking_storage.unit_of_work() as uow:
        for delivery in deliveries:
            await uow.outbox.enqueue(delivery)
        await uow.commit()
    async with locking_storage.unit_of_work() as first, locking_storage.unit_of_work() as second:
        taken_first = await first.outbox.due(now, 2)
        taken_second = await second.outbox.due(now, 10)
        assert [d.id for d in taken_first] == [d.id for d in deliveries[:2]]
        assert [d.id for d in taken_second] == [d.id for d in deliveries[2:]]
    async with locking_storage.unit_of_work() as uow:
        assert len(await uow.outbox.due(now, 10)) == 4


async def test_deliveries_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    delivery = make.delivery(mine, not_before=era(2106), created_at=era(2106))
    async with storage.unit_of_work() as uow:
        await uow.outbox.enqueue(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.get(theirs.id, delivery.id) is None
        with pytest.raises(ConstraintViolation):
            await uow.outbox.save(make.delivery(theirs, id=delivery.id, key=delivery.key))


async def test_an_activity_is_acted_on_the_first_time_only(storage: Storage) -> None:
    key = make.unique("activity")
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time(key, make.at()) is True
        assert await uow.activities.first_time(key, make.at(minutes=1)) is False
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time(key, make.at(minutes=2)) is False
        assert await uow.activities.first_time(make.unique("activity"), make.at()) is True


async def test_an_activity_seen_by_a_unit_that_rolls_back_is_new_again(storage: Storage) -> None:
    key = make.unique("activity")
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time(key, make.at()) is True
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time(key, make.at()) is True
        await uow.commit()


async def test_a_redelivered_activity_handled_at_once_twice_is_acted_on_once(
    storage: Storage,
) -> None:
    key = make.unique("activity")

    async def handle() -> bool:
        async with storage.unit_of_work() as uow:
            first = await uow.activities.first_time(key, make.at())
            await asyncio.sleep(0.05)
            await uow.commit()
            return first

    assert sorted(await asyncio.gather(handle(), handle())) == [False, True]


# The lease: when a dispatcher took a row, and rows a stopped dispatcher left sending.


async def drain_sending(storage: Storage) -> None:
    """Mark whatever other tests left sending as failed: `abandoned` reads every panel."""
    async with storage.unit_of_work() as uow:
        while leftovers := await uow.outbox.abandoned(era(2200), 100):
            for delivery in leftovers:
                delivery.state = DeliveryState.FAILED
                await uow.outbox.save(delivery)
        await uow.commit()


async def test_a_claimed_delivery_keeps_when_it_was_claimed_and_how_often_it_was_taken_back(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    delivery = make.delivery(panel, not_before=era(2107), created_at=era(2107))
    async with storage.unit_of_work() as uow:
        await uow.outbox.enqueue(delivery)
        await uow.commit()
    delivery.claim(era(2107) + timedelta(seconds=5))
    async with storage.unit_of_work() as uow:
        await uow.outbox.save(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        claimed = await uow.outbox.get(panel.id, delivery.id)
    assert claimed == delivery
    assert claimed is not None
    assert (claimed.claimed_at, claimed.resumed) == (era(2107) + timedelta(seconds=5), 0)
    delivery.resume()
    async with storage.unit_of_work() as uow:
        await uow.outbox.save(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        resumed = await uow.outbox.get(panel.id, delivery.id)
    assert resumed is not None
    assert (resumed.state, resumed.resumed) == (DeliveryState.PENDING, 1)


async def test_rows_left_sending_past_the_lease_are_found_longest_held_first(
    storage: Storage,
) -> None:
    first, second = await make.stored_panels(storage, 2)
    now = era(2108)
    await drain_sending(storage)

    def sending(owner: Panel, claimed_minutes_ago: int | None) -> OutgoingDelivery:
        claimed = (
            None if claimed_minutes_ago is None else now - timedelta(minutes=claimed_minutes_ago)
        )
        return make.delivery(
            owner,
            state=DeliveryState.SENDING,
            attempts=1,
            claimed_at=claimed,
            created_at=now - timedelta(hours=1),
            not_before=now - timedelta(hours=1),
        )

    long_ago = sending(second, 10)
    a_while_ago = sending(first, 5)
    unknown = sending(first, None)  # claimed before the lease was recorded
    recently = sending(first, 1)
    pending = make.delivery(first, claimed_at=now - timedelta(minutes=30))
    sent = make.delivery(first, state=DeliveryState.SENT, claimed_at=now - timedelta(minutes=30))
    async with storage.unit_of_work() as uow:
        for delivery in [recently, a_while_ago, pending, long_ago, sent, unknown]:
            assert await uow.outbox.enqueue(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        cutoff = now - timedelta(minutes=2)
        found = await uow.outbox.abandoned(cutoff, 10)
        assert await uow.outbox.abandoned(cutoff, 2) == [unknown, long_ago]
    assert [d.id for d in found] == [unknown.id, long_ago.id, a_while_ago.id]
    assert found[1] == long_ago


async def test_rows_one_dispatcher_takes_back_are_skipped_by_another(
    locking_storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(locking_storage)
    now = era(2109)
    await drain_sending(locking_storage)
    rows = [
        make.delivery(
            panel,
            state=DeliveryState.SENDING,
            claimed_at=now - timedelta(minutes=10 - n),
            created_at=now,
            not_before=now,
        )
        for n in range(4)
    ]
    async with locking_storage.unit_of_work() as uow:
        for delivery in rows:
            await uow.outbox.enqueue(delivery)
        await uow.commit()
    cutoff = now - timedelta(minutes=2)
    async with locking_storage.unit_of_work() as first, locking_storage.unit_of_work() as second:
        taken_first = await first.outbox.abandoned(cutoff, 2)
        taken_second = await second.outbox.abandoned(cutoff, 10)
        assert [d.id for d in taken_first] == [d.id for d in rows[:2]]
        assert [d.id for d in taken_second] == [d.id for d in rows[2:]]
