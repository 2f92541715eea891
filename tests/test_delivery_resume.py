"""A dispatcher killed in the middle of a fan-out: the next one finishes the work.

Nothing is lost, and only the rows that were on the wire at the moment of the kill can
arrive twice; the rows taken back are counted on each row and by the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.delivery import DeliveryState
from storage import open_storage
from tests.conftest import NOW
from tests.support import cards
from tests.support.connector import QUICK, Fault, deliver, delivery_rig

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bot.domain.common import FixedClock


async def wait_until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110  (the fake counts; it has no events)
            await asyncio.sleep(0.01)


async def test_rows_a_killed_dispatcher_held_are_resumed_and_delivered_by_the_next(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=10, coordinators=0) as rig:
        texts = [f"Reminder for {spoc.name}" for spoc in rig.spocs]
        ids = [await rig.queue(spoc, text) for spoc, text in zip(rig.spocs, texts, strict=True)]
        on_the_wire = 3
        # The first sends reach the connector and hang there until released.
        rig.fake.fail_next(*[Fault(hold=True)] * on_the_wire)
        policy = replace(QUICK, concurrency=on_the_wire)

        # First "process": its own engine on the file; killed while its sends hang.
        first_storage = open_storage(rig.database_url)
        first = rig.dispatcher(policy=policy, storage=first_storage)
        running = asyncio.create_task(first.run_forever(idle_seconds=0.05))
        await wait_until(lambda: rig.fake.held == on_the_wire)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await first_storage.close()
        in_flight_at_kill = rig.fake.held
        assert {(await rig.row(i)).state for i in ids} == {DeliveryState.SENDING}

        # What was on the wire lands after all (the connector had accepted it).
        rig.fake.release()
        await wait_until(lambda: rig.fake.in_flight == 0)
        assert len(rig.fake.sent) == in_flight_at_kill

        # Second "process", started after the lease ran out.
        clock.advance(NOW + policy.lease + timedelta(seconds=1))
        second_storage = open_storage(rig.database_url)
        try:
            second = rig.dispatcher(policy=policy, storage=second_storage)
            await deliver(second)
        finally:
            await second_storage.close()

        arrived = Counter(cards.body_text(activity) for activity in rig.fake.sent)
        assert set(arrived) == set(texts)  # nothing lost
        assert rig.fake.duplicates() == in_flight_at_kill  # only those on the wire, twice
        assert second.stats.resumed == len(ids)  # reported
        rows = [await rig.row(i) for i in ids]
        assert {(row.state, row.resumed) for row in rows} == {(DeliveryState.SENT, 1)}


async def test_rows_still_within_their_lease_are_left_to_their_dispatcher(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1, coordinators=0) as rig:
        (spoc,) = rig.spocs
        row_id = await rig.queue(spoc, "Held")
        async with rig.storage.unit_of_work() as uow:
            (row,) = await uow.outbox.due(clock.now(), 10)
            row.claim(clock.now())
            await uow.outbox.save(row)
            await uow.commit()

        clock.advance(NOW + QUICK.lease - timedelta(seconds=1))
        dispatcher = rig.dispatcher()
        assert await dispatcher.resume_abandoned() == 0
        assert (await rig.row(row_id)).state is DeliveryState.SENDING

        clock.advance(NOW + QUICK.lease + timedelta(seconds=1))
        assert await dispatcher.resume_abandoned() == 1
        await deliver(dispatcher)
        resumed = await rig.row(row_id)
        assert (resumed.state, resumed.resumed, resumed.attempts) == (DeliveryState.SENT, 1, 2)


async def test_a_dispatcher_that_lost_its_rows_lease_does_not_overwrite_the_outcome(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=1, coordinators=0) as rig:
        (spoc,) = rig.spocs
        row_id = await rig.queue(spoc, "Slow")
        rig.fake.fail_next(Fault(hold=True))
        slow = rig.dispatcher()
        sending = asyncio.create_task(deliver(slow))
        await wait_until(lambda: rig.fake.held == 1)

        # Meanwhile another dispatcher takes the row back and delivers it.
        clock.advance(NOW + QUICK.lease + timedelta(seconds=1))
        other = rig.dispatcher()
        await deliver(other)
        assert (await rig.row(row_id)).state is DeliveryState.SENT

        rig.fake.release()
        await sending
        assert slow.stats.lost_lease == 1
        assert slow.stats.sent == 0
        row = await rig.row(row_id)
        assert (row.state, row.resumed) == (DeliveryState.SENT, 1)
        assert rig.fake.duplicates() == 1  # the slow one's send landed too: counted, not hidden
