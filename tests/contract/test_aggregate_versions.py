"""Every aggregate a click changes (case, meeting, action, information request) carries a
version, and a save is a compare-and-set on it: a save from a stale copy raises
StaleVersion, naming the record, and changes nothing.

As for referrals (test_referral_versions.py), where a lost race surfaces differs by backend:
on SQL the second unit's `save` waits for the first unit to end, then is refused; the
in-memory fake refuses at `save` when the other unit already committed, at `commit`
otherwise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import pytest

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.case import Case, CaseStatus
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.risk import RiskLevel
from bot.kernel.ports import StaleVersion, Storage, UnitOfWork
from storage import MemoryStorage

from . import builders as make

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.domain.panel import Panel

# Ample time for a waiting save to finish once the other unit ends.
WAIT_LIMIT = 10

Record = Case | Meeting | Action | InformationRequest


@dataclass(frozen=True)
class Kind:
    """One versioned aggregate: how to make one, save it, load it and change it two ways."""

    entity: str
    make: Callable[[Panel], Record]
    save: Callable[[UnitOfWork, Any], Awaitable[None]]
    get: Callable[[UnitOfWork, str, str], Awaitable[Any]]
    # Two different changes, as two people's clicks would make them.
    first_change: Callable[[Any], None]
    second_change: Callable[[Any], None]
    # What tells the two outcomes apart once stored.
    outcome: Callable[[Any], object]


def _case(panel: Panel) -> Case:
    return make.case(panel, status=CaseStatus.OPEN, closed_at=None, closure_reason=None)


def _action(panel: Panel) -> Action:
    return make.action(
        make.case(panel), status=ActionStatus.OPEN, completed_at=None, cancel_reason=None
    )


def _request(panel: Panel) -> InformationRequest:
    return make.information_request(
        make.case(panel),
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
    )


def _answer(text: str) -> Callable[[InformationRequest], None]:
    def change(request: InformationRequest) -> None:
        request.status, request.answer = RequestStatus.ANSWERED, text

    return change


def _set(**values: object) -> Callable[[Any], None]:
    def change(record: Any) -> None:
        for name, value in values.items():
            setattr(record, name, value)

    return change


KINDS = [
    Kind(
        "case",
        _case,
        lambda uow, record: uow.cases.save(record),
        lambda uow, panel_id, record_id: uow.cases.get(panel_id, record_id),
        _set(risk_level=RiskLevel.MEDIUM),
        _set(lead_officer="PC Okafor"),
        lambda case: (case.risk_level, case.lead_officer),
    ),
    Kind(
        "meeting",
        make.meeting,
        lambda uow, record: uow.meetings.save(record),
        lambda uow, panel_id, record_id: uow.meetings.get(panel_id, record_id),
        _set(status=MeetingStatus.CANCELLED),
        _set(current_item_id="item-2", step=3),
        lambda meeting: (meeting.status, meeting.current_item_id, meeting.step),
    ),
    Kind(
        "action",
        _action,
        lambda uow, record: uow.actions.save(record),
        lambda uow, panel_id, record_id: uow.actions.get(panel_id, record_id),
        _set(status=ActionStatus.DONE),
        _set(due_on=date(2027, 1, 11)),
        lambda action: (action.status, action.due_on),
    ),
    Kind(
        "information_request",
        _request,
        lambda uow, record: uow.information_requests.save(record),
        lambda uow, panel_id, record_id: uow.information_requests.get(panel_id, record_id),
        _answer("Two calls to the flat since March."),
        _answer("No contact since the summer."),
        lambda request: (request.status, request.answer),
    ),
]


@pytest.fixture(params=KINDS, ids=[kind.entity for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> Kind:
    chosen: Kind = request.param
    return chosen


async def stored(storage: Storage, kind: Kind) -> Any:
    (panel,) = await make.stored_panels(storage)
    record = kind.make(panel)
    async with storage.unit_of_work() as uow:
        await kind.save(uow, record)
        await uow.commit()
    return record


async def load(uow: UnitOfWork, kind: Kind, record: Any) -> Any:
    loaded = await kind.get(uow, record.panel_id, record.id)
    assert loaded is not None
    return loaded


async def stored_now(storage: Storage, kind: Kind, record: Any) -> Any:
    async with storage.unit_of_work() as uow:
        return await load(uow, kind, record)


async def test_a_new_record_is_stored_as_version_one_and_each_save_adds_one(
    storage: Storage, kind: Kind
) -> None:
    (panel,) = await make.stored_panels(storage)
    record = kind.make(panel)
    assert record.version == 0
    async with storage.unit_of_work() as uow:
        await kind.save(uow, record)
        assert record.version == 1
        kind.first_change(record)
        await kind.save(uow, record)
        assert record.version == 2
        await uow.commit()
    loaded = await stored_now(storage, kind, record)
    assert loaded.version == 2
    assert loaded == record


async def test_a_save_from_a_stale_copy_raises_stale_version_and_changes_nothing(
    storage: Storage, kind: Kind
) -> None:
    record = await stored(storage, kind)
    async with storage.unit_of_work() as uow:
        stale = await load(uow, kind, record)
    kind.first_change(record)
    async with storage.unit_of_work() as uow:
        await kind.save(uow, record)
        await uow.commit()
    winner = await stored_now(storage, kind, record)
    assert winner.version == 2

    kind.second_change(stale)
    (other_panel,) = await make.stored_panels(storage)
    agency = make.agency(other_panel)
    async with storage.unit_of_work() as uow:
        with pytest.raises(StaleVersion) as refused:
            await kind.save(uow, stale)
        assert (refused.value.entity, refused.value.entity_id) == (kind.entity, record.id)
        assert "changed this" in refused.value.message
        assert stale.version == 1
        # Nothing was stored, and the unit of work can still do the rest of its work.
        assert await load(uow, kind, record) == winner
        await uow.agencies.save(agency)
        await uow.commit()
    assert await stored_now(storage, kind, record) == winner
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(other_panel.id, agency.id) == agency


async def test_a_fresh_object_under_a_stored_id_is_stale(storage: Storage, kind: Kind) -> None:
    record = await stored(storage, kind)
    (panel,) = await make.stored_panels(storage)
    impostor = kind.make(panel)
    impostor.id, impostor.panel_id = record.id, record.panel_id
    if isinstance(impostor, Action | InformationRequest):
        impostor.case_id = record.case_id
    kind.second_change(impostor)
    async with storage.unit_of_work() as uow:
        with pytest.raises(StaleVersion):
            await kind.save(uow, impostor)
    assert await stored_now(storage, kind, record) == record


async def test_of_two_units_saving_one_record_at_once_exactly_one_wins(
    storage: Storage, kind: Kind
) -> None:
    record = await stored(storage, kind)
    first, second = storage.unit_of_work(), storage.unit_of_work()
    async with first, second:
        mine, theirs = await load(first, kind, record), await load(second, kind, record)
        kind.first_change(mine)
        kind.second_change(theirs)

        async def turn(uow: UnitOfWork, copy: Any) -> Literal["won", "lost"]:
            try:
                await kind.save(uow, copy)
                await uow.commit()
            except StaleVersion:
                await uow.rollback()
                return "lost"
            return "won"

        outcomes = await asyncio.wait_for(
            asyncio.gather(turn(first, mine), turn(second, theirs)), WAIT_LIMIT
        )
    assert sorted(outcomes) == ["lost", "won"]
    winner, loser = (mine, theirs) if outcomes[0] == "won" else (theirs, mine)
    now = await stored_now(storage, kind, record)
    # One coherent outcome: the winner's change whole, nothing of the loser's.
    assert kind.outcome(now) == kind.outcome(winner) != kind.outcome(loser)
    assert now.version == winner.version == 2


async def test_in_memory_a_unit_that_saved_first_but_commits_second_is_refused_at_commit(
    kind: Kind,
) -> None:
    storage = MemoryStorage()
    record = await stored(storage, kind)
    first, second = storage.unit_of_work(), storage.unit_of_work()
    async with first, second:
        mine, theirs = await load(first, kind, record), await load(second, kind, record)
        kind.first_change(mine)
        kind.second_change(theirs)
        await kind.save(first, mine)
        await kind.save(second, theirs)
        await second.commit()
        with pytest.raises(StaleVersion):
            await first.commit()
    now = await stored_now(storage, kind, record)
    assert kind.outcome(now) == kind.outcome(theirs)
    assert now.version == 2
