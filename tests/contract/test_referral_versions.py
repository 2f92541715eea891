"""Referral drafts as typed, and the optimistic lock: a save from a stale copy is refused.

Where a lost race surfaces differs by backend, and the tests say which: on SQL the second
unit's `save` waits for the first unit to finish, then raises Conflict; the in-memory fake
does not make units wait, so it raises Conflict at that `save` when the other unit already
committed, and at `commit` otherwise.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import pytest

from bot.domain.errors import Conflict
from bot.domain.referral import Referral, ReferralStatus
from storage import MemoryStorage, SqlStorage
from storage.errors import STALE_REFERRAL

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage, UnitOfWork

STALE = "Someone else changed this referral a moment ago. Look at it again before you act."

# How long a save that must wait for another unit is given to show that it waits.
STILL_WAITING_AFTER = 0.3
# Ample time for a waiting save to finish once the other unit ends.
WAIT_LIMIT = 10


async def stored_referral(storage: Storage, panel: Panel, **fields: object) -> Referral:
    referral = make.referral(panel, **fields)
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    return referral


async def load(uow: UnitOfWork, referral: Referral) -> Referral:
    loaded = await uow.referrals.get(referral.panel_id, referral.id)
    assert loaded is not None
    return loaded


async def stored_now(storage: Storage, referral: Referral) -> Referral:
    async with storage.unit_of_work() as uow:
        return await load(uow, referral)


def test_the_conflict_message_is_the_agreed_one() -> None:
    assert STALE_REFERRAL == STALE


async def test_draft_inputs_come_back_exactly_as_typed(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    typed = {
        "victim_name": " zoë  o'brien",
        "victim_dob": "30/02/1984",
        "incidents": "about 7",
        "agencies": ["police", "health", "police"],
        "children": [{"name": "Amy", "dob": ""}, {"name": "", "dob": "2016"}],
        "safe_to_call": True,
        "score": 12.5,
        "note": None,
    }
    referral = await stored_referral(
        storage, panel, status=ReferralStatus.DRAFT, draft_inputs=typed, draft_step="subjects"
    )
    loaded = await stored_now(storage, referral)
    assert loaded.draft_inputs == typed
    assert loaded.draft_step == "subjects"
    assert loaded == referral


async def test_a_change_deep_inside_the_draft_inputs_is_saved(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel, draft_inputs={"agencies": ["police"]})
    async with storage.unit_of_work() as uow:
        loaded = await load(uow, referral)
        loaded.draft_inputs["agencies"].append("housing")
        loaded.draft_step = None
        await uow.referrals.save(loaded)
        await uow.commit()
    again = await stored_now(storage, referral)
    assert again.draft_inputs == {"agencies": ["police", "housing"]}
    assert again.draft_step is None


async def test_a_new_referral_is_stored_as_version_one(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = make.referral(panel)
    assert referral.version == 0
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        assert referral.version == 1
        assert (await load(uow, referral)).version == 1
        await uow.commit()
    assert (await stored_now(storage, referral)).version == 1


async def test_each_save_adds_one_to_the_version_and_updates_the_saved_object(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel)
    async with storage.unit_of_work() as uow:
        referral.status = ReferralStatus.ACCEPTED
        await uow.referrals.save(referral)
        assert referral.version == 2
        await uow.referrals.save(referral)
        assert referral.version == 3
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await load(uow, referral)
        assert loaded == referral
        loaded.draft_step = "consent"
        await uow.referrals.save(loaded)
        assert loaded.version == 4
        await uow.commit()
    assert await stored_now(storage, referral) == loaded


async def test_a_save_from_a_stale_copy_is_a_conflict_and_changes_nothing(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel, status=ReferralStatus.SUBMITTED)
    async with storage.unit_of_work() as uow:
        stale = await load(uow, referral)
    referral.status = ReferralStatus.ACCEPTED
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    winner = await stored_now(storage, referral)

    stale.status = ReferralStatus.DECLINED
    stale.subjects = stale.subjects[:1]
    stale.children = []
    stale.draft_inputs = {"overwritten": "yes"}
    agency = make.agency(panel)
    async with storage.unit_of_work() as uow:
        with pytest.raises(Conflict) as refused:
            await uow.referrals.save(stale)
        assert str(refused.value) == STALE
        assert stale.version == 1
        # Nothing was stored, and the unit of work can still do the rest of its work.
        assert await load(uow, referral) == winner
        await uow.agencies.save(agency)
        await uow.commit()
    assert await stored_now(storage, referral) == winner
    assert winner.version == 2
    assert winner.status is ReferralStatus.ACCEPTED
    assert len(winner.subjects) == 2
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(panel.id, agency.id) == agency


async def test_a_fresh_object_under_a_stored_id_is_a_conflict(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel)
    impostor = make.referral(panel, id=referral.id, reference=referral.reference)
    async with storage.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.referrals.save(impostor)
    assert await stored_now(storage, referral) == referral


async def test_of_two_units_saving_the_same_referral_exactly_one_wins(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel, status=ReferralStatus.SUBMITTED)
    first, second = storage.unit_of_work(), storage.unit_of_work()
    async with first, second:
        mine, theirs = await load(first, referral), await load(second, referral)
        mine.status, theirs.status = ReferralStatus.ACCEPTED, ReferralStatus.DECLINED

        async def turn(uow: UnitOfWork, copy: Referral) -> Literal["won", "lost"]:
            try:
                await uow.referrals.save(copy)
                await uow.commit()
            except Conflict:
                await uow.rollback()
                return "lost"
            return "won"

        outcomes = await asyncio.wait_for(
            asyncio.gather(turn(first, mine), turn(second, theirs)), WAIT_LIMIT
        )
    assert sorted(outcomes) == ["lost", "won"]
    winner = mine if outcomes[0] == "won" else theirs
    stored = await stored_now(storage, referral)
    assert stored.status is winner.status
    assert stored.version == winner.version == 2


@pytest.mark.parametrize("first_unit_ends_by", ["commit", "rollback"])
async def test_on_sql_a_second_save_waits_for_the_first_unit_then_is_refused_at_save(
    sql_storage: SqlStorage, first_unit_ends_by: str
) -> None:
    (panel,) = await make.stored_panels(sql_storage)
    referral = await stored_referral(sql_storage, panel, status=ReferralStatus.SUBMITTED)
    first, second = sql_storage.unit_of_work(), sql_storage.unit_of_work()
    async with first, second:
        mine, theirs = await load(first, referral), await load(second, referral)
        mine.status, theirs.status = ReferralStatus.ACCEPTED, ReferralStatus.DECLINED
        await first.referrals.save(mine)
        waiting = asyncio.create_task(second.referrals.save(theirs))
        try:
            await asyncio.sleep(STILL_WAITING_AFTER)
            assert not waiting.done()
            if first_unit_ends_by == "commit":
                await first.commit()
                with pytest.raises(Conflict):
                    await asyncio.wait_for(waiting, WAIT_LIMIT)
            else:
                await first.rollback()
                await asyncio.wait_for(waiting, WAIT_LIMIT)
                await second.commit()
        finally:
            if not waiting.done():
                waiting.cancel()
    expected = mine if first_unit_ends_by == "commit" else theirs
    stored = await stored_now(sql_storage, referral)
    assert (stored.status, stored.version) == (expected.status, 2)


async def test_in_memory_a_unit_that_saved_first_but_commits_second_is_refused_at_commit() -> None:
    storage = MemoryStorage()
    (panel,) = await make.stored_panels(storage)
    referral = await stored_referral(storage, panel, status=ReferralStatus.SUBMITTED)
    agency = make.agency(panel)
    first, second = storage.unit_of_work(), storage.unit_of_work()
    async with first, second:
        mine, theirs = await load(first, referral), await load(second, referral)
        mine.status, theirs.status = ReferralStatus.ACCEPTED, ReferralStatus.DECLINED
        await first.referrals.save(mine)
        await second.referrals.save(theirs)
        await second.agencies.save(agency)
        await first.commit()
        with pytest.raises(Conflict):
            await second.commit()
    stored = await stored_now(storage, referral)
    assert (stored.status, stored.version) == (ReferralStatus.ACCEPTED, 2)
    async with storage.unit_of_work() as uow:
        # The refused commit applied none of its unit's changes.
        assert await uow.agencies.get(panel.id, agency.id) is None
