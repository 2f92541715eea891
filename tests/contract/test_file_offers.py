"""Files offered through Teams' file consent card (revision 0022) and each panel's choice of
download links, on every backend: an offer is found only in its own panel, and of two units
answering one offer at once, one moves it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.domain.file_offer import FileOffer, OfferState
from tests.contract import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def offered(storage: Storage, panel_id: str, meeting_id: str, member_id: str) -> FileOffer:
    offer = FileOffer.of(panel_id, meeting_id, member_id, make.at())
    async with storage.unit_of_work() as uow:
        await uow.file_offers.add(offer)
        await uow.commit()
    return offer


async def test_an_offer_is_kept_and_found_in_its_own_panel_only(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    first = await offered(storage, mine.id, "meeting-1", "member-1")
    second = await offered(storage, mine.id, "meeting-1", "member-2")
    await offered(storage, mine.id, "meeting-2", "member-1")
    async with storage.unit_of_work() as uow:
        found = await uow.file_offers.get(mine.id, first.id)
        assert await uow.file_offers.get(theirs.id, first.id) is None
        assert await uow.file_offers.get(mine.id, "made-up") is None
        listed = await uow.file_offers.for_meeting(mine.id, "meeting-1")
        assert await uow.file_offers.for_meeting(theirs.id, "meeting-1") == []
    assert found == first
    assert found.state is OfferState.OFFERED
    assert found.open_at(make.at(days=29))
    assert not found.open_at(make.at(days=30))
    assert {o.id for o in listed} == {first.id, second.id}


async def test_an_offer_moves_only_from_the_state_it_is_in(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    offer = await offered(storage, panel.id, "meeting-1", "member-1")
    then = make.at(hours=2)
    async with storage.unit_of_work() as uow:
        moves = uow.file_offers
        assert await moves.move(panel.id, offer.id, OfferState.OFFERED, OfferState.UPLOADING, then)
        assert not await moves.move(panel.id, offer.id, OfferState.OFFERED, OfferState.SENT, then)
        assert not await moves.move("other", offer.id, OfferState.UPLOADING, OfferState.SENT, then)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        moved = await uow.file_offers.get(panel.id, offer.id)
        assert moved is not None
        assert moved.state is OfferState.UPLOADING
        assert moved.answered_at == then
        # Not committed: the move is undone with the unit.
        assert await uow.file_offers.move(
            panel.id, offer.id, OfferState.UPLOADING, OfferState.SENT, then
        )
    async with storage.unit_of_work() as uow:
        kept = await uow.file_offers.get(panel.id, offer.id)
    assert kept is not None
    assert kept.state is OfferState.UPLOADING


async def test_of_two_units_taking_one_offer_at_once_one_takes_it(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    offer = await offered(storage, panel.id, "meeting-1", "member-1")
    go = asyncio.Event()

    async def take() -> bool:
        await go.wait()
        async with storage.unit_of_work() as uow:
            took = await uow.file_offers.move(
                panel.id, offer.id, OfferState.OFFERED, OfferState.UPLOADING, make.at()
            )
            await asyncio.sleep(0.05)  # hold it a moment, as an upload would
            await uow.commit()
        return took

    both = asyncio.gather(take(), take())
    go.set()
    assert sorted(await both) == [False, True]


async def test_minutes_links_are_allowed_until_a_panel_turns_them_off(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        assert await uow.file_offers.links_allowed(mine.id)
        await uow.file_offers.allow_links(mine.id, False, make.at())
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert not await uow.file_offers.links_allowed(mine.id)
        assert await uow.file_offers.links_allowed(theirs.id)
        await uow.file_offers.allow_links(mine.id, True, make.at(hours=1))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.file_offers.links_allowed(mine.id)
