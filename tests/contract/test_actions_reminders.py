"""Revision 0006 on every backend: reminders queued once, the copies of an action's card,
what a sent card became in Teams, whose deliveries fail, and requests due soon."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from typing import TYPE_CHECKING

import pytest

from bot.domain.action import RequestStatus
from bot.domain.common import new_id
from bot.domain.delivery import DeliveryState
from bot.domain.reminders import ActionCardCopy, ReminderKind, SentReminder
from storage import ConstraintViolation
from storage.inventory import emptied_payload

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


def reminder(panel_id: str, **fields: object) -> SentReminder:
    values: dict[str, object] = {
        "panel_id": panel_id,
        "key": make.unique("remind:action:due:2026-06-15"),
        "kind": ReminderKind.DUE,
        "subject_id": new_id(),
        "recipient_member_id": new_id(),
        "day": date(2026, 6, 15),
        "created_at": make.at(),
    }
    return SentReminder(**(values | fields))  # type: ignore[arg-type]


async def test_a_reminder_is_recorded_once_and_known_afterwards(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    first = reminder(mine.id)
    other = reminder(mine.id, recipient_member_id=None, kind=ReminderKind.STATUS)
    async with storage.unit_of_work() as uow:
        assert await uow.reminders.record(first) is True
        assert await uow.reminders.record(first) is False  # the same key, same unit
        assert await uow.reminders.record(other) is True
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.reminders.record(reminder(mine.id, key=first.key)) is False
        assert await uow.reminders.known(mine.id, [first.key, other.key, "remind:x"]) == {
            first.key,
            other.key,
        }
        assert await uow.reminders.known(theirs.id, [first.key]) == set()
        assert await uow.reminders.known(mine.id, []) == set()


async def test_a_reminder_rolled_back_is_not_known(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    lost = reminder(panel.id)
    async with storage.unit_of_work() as uow:
        assert await uow.reminders.record(lost)
        await uow.rollback()
    async with storage.unit_of_work() as uow:
        assert await uow.reminders.known(panel.id, [lost.key]) == set()
        assert await uow.reminders.record(lost) is True


async def test_a_reminder_needs_its_panel(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.reminders.record(reminder("no-such-panel"))


async def test_many_keys_are_looked_up_at_once(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    recorded = [reminder(panel.id) for _ in range(3)]
    async with storage.unit_of_work() as uow:
        for each in recorded:
            await uow.reminders.record(each)
        await uow.commit()
    asked = [r.key for r in recorded] + [make.unique("remind") for _ in range(1200)]
    async with storage.unit_of_work() as uow:
        assert await uow.reminders.known(panel.id, asked) == {r.key for r in recorded}


@pytest.mark.parametrize(
    "storage", ["memory", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_runs_recording_the_same_reminder_keep_one(storage: Storage) -> None:
    """The second unit waits for the first and yields to it (PostgreSQL's ON CONFLICT)."""
    (panel,) = await make.stored_panels(storage)
    key = make.unique("remind:race")
    results: list[bool] = []

    async def run(delay: float) -> None:
        async with storage.unit_of_work() as uow:
            await asyncio.sleep(delay)
            results.append(await uow.reminders.record(reminder(panel.id, key=key)))
            await asyncio.sleep(0.05)
            await uow.commit()

    await asyncio.gather(run(0), run(0.01))
    assert sorted(results) == [False, True]


async def test_an_actions_card_copies_come_back_newest_first(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    action_id = new_id()
    rows = [make.delivery(mine, created_at=make.at(minutes=n)) for n in range(3)]
    stray = make.delivery(theirs)
    async with storage.unit_of_work() as uow:
        for n, row in enumerate(rows):
            await uow.outbox.enqueue(row)
            await uow.actions.record_card(
                ActionCardCopy(
                    panel_id=mine.id,
                    action_id=action_id,
                    delivery_id=row.id,
                    member_id=row.recipient_member_id,
                    created_at=make.at(minutes=n),
                )
            )
        # a row recorded twice is recorded once
        await uow.actions.record_card(
            ActionCardCopy(
                panel_id=mine.id, action_id=action_id, delivery_id=rows[0].id, created_at=make.at()
            )
        )
        await uow.outbox.enqueue(stray)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        copies = await uow.actions.card_deliveries(mine.id, action_id)
        assert [c.id for c in copies] == [rows[2].id, rows[1].id, rows[0].id]
        assert copies[0] == rows[2]
        assert [c.id for c in await uow.actions.card_deliveries(mine.id, action_id, 2)] == [
            rows[2].id,
            rows[1].id,
        ]
        assert await uow.actions.card_deliveries(theirs.id, action_id) == []
        assert await uow.actions.card_deliveries(mine.id, new_id()) == []


async def test_a_sent_row_remembers_the_message_it_became(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    delivery = make.delivery(panel)
    async with storage.unit_of_work() as uow:
        await uow.outbox.enqueue(delivery)
        await uow.commit()
    delivery.claim(make.at(minutes=1))
    delivery.sent(
        201, make.at(minutes=2), activity_id="1:abc-activity", conversation_id="a:personal-1"
    )
    async with storage.unit_of_work() as uow:
        await uow.outbox.save(delivery)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        stored = await uow.outbox.get(panel.id, delivery.id)
    # Sent, it keeps the ids delivery records need, not the card (storage.inventory).
    assert stored == dataclasses.replace(delivery, payload=emptied_payload(delivery.payload))
    assert stored is not None
    assert (stored.activity_id, stored.conversation_id) == ("1:abc-activity", "a:personal-1")


async def test_an_update_row_names_the_row_it_replaces(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    earlier = make.delivery(panel)
    update = make.delivery(panel, payload={"card": {}, "text": None, "update_of": earlier.id})
    async with storage.unit_of_work() as uow:
        await uow.outbox.enqueue(earlier)
        await uow.outbox.enqueue(update)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        stored = await uow.outbox.get(panel.id, update.id)
    assert stored is not None and stored.update_of == earlier.id
    assert earlier.update_of is None


async def test_a_member_is_unreachable_when_their_latest_finished_delivery_was(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    blocked, recovered, fine, never = new_id(), new_id(), new_id(), new_id()
    rows = [
        make.delivery(mine, recipient_member_id=blocked, state=DeliveryState.SENT),
        make.delivery(
            mine,
            recipient_member_id=blocked,
            state=DeliveryState.UNREACHABLE,
            created_at=make.at(minutes=1),
        ),
        # a pending row does not say whether they can be reached
        make.delivery(mine, recipient_member_id=blocked, created_at=make.at(minutes=2)),
        make.delivery(mine, recipient_member_id=recovered, state=DeliveryState.UNREACHABLE),
        make.delivery(
            mine,
            recipient_member_id=recovered,
            state=DeliveryState.SENT,
            created_at=make.at(minutes=1),
        ),
        make.delivery(mine, recipient_member_id=fine, state=DeliveryState.SENT),
        make.delivery(theirs, recipient_member_id=never, state=DeliveryState.UNREACHABLE),
    ]
    async with storage.unit_of_work() as uow:
        for row in rows:
            await uow.outbox.enqueue(row)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        asked = [blocked, recovered, fine, never, new_id()]
        assert await uow.outbox.unreachable(mine.id, asked) == {blocked}
        assert await uow.outbox.unreachable(theirs.id, asked) == {never}
        assert await uow.outbox.unreachable(mine.id, []) == set()


async def test_open_requests_due_before_a_time_come_soonest_first(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case = make.case(mine)
    soon = make.information_request(
        case,
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
        due_at=make.at(days=2),
    )
    sooner = make.information_request(
        case,
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
        due_at=make.at(days=1),
    )
    later = make.information_request(
        case,
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
        due_at=make.at(days=9),
    )
    answered = make.information_request(case, due_at=make.at(days=1))
    elsewhere = make.information_request(
        make.case(theirs),
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
        due_at=make.at(days=1),
    )
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        for request in (soon, sooner, later, answered):
            await uow.information_requests.save(request)
        await uow.cases.save(make.case(theirs, id=elsewhere.case_id))
        await uow.information_requests.save(elsewhere)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.information_requests.open_due_by(mine.id, make.at(days=5))
        assert [r.id for r in due] == [sooner.id, soon.id]
        assert due[0] == sooner
        assert await uow.information_requests.open_due_by(mine.id, make.at(days=1)) == []
        everything = await uow.information_requests.open_due_by(mine.id, make.at(days=365))
        assert len(everything) == 3
