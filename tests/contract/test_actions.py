"""Actions with their dated updates, and information requests."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from bot.domain.action import ActionStatus, InformationRequest, RequestStatus
from bot.domain.case import Case, CaseStatus
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage


async def test_an_action_comes_back_with_every_field_and_its_updates(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    action = make.action(make.case(panel))
    action.updates = [
        make.action_update(action),
        make.action_update(action, author_member_id=None, circumstances_changed=None),
    ]
    bare = make.action(
        make.case(panel),
        set_by_member_id=None,
        meeting_id=None,
        completed_at=None,
        cancel_reason=None,
        escalated=False,
    )
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.actions.save(bare)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.actions.get(panel.id, action.id) == action
        assert await uow.actions.get(panel.id, bare.id) == bare


async def test_saving_an_action_again_appends_its_new_updates(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    agency = "housing"
    action = make.action(make.case(panel), owner_agency_id=agency, completed_at=None)
    action.add_update("Visited", by_agency_id=agency, at=make.at(days=1))
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.commit()
    action.carry_forward(
        date(2026, 8, 1), circumstances_changed=False, at=make.at(days=2), by_member_id="m1"
    )
    action.complete(by_agency_id=agency, at=make.at(days=3), note="Alarm fitted")
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.actions.get(panel.id, action.id)
    assert loaded == action
    assert loaded is not None
    assert loaded.status is ActionStatus.DONE
    assert [u.note for u in loaded.updates][1:] == [
        "Carried forward from 2026-07-01 to 2026-08-01: the agency did not act.",
        "Alarm fitted",
    ]
    assert loaded.updates[1].circumstances_changed is False


async def test_stored_action_updates_are_never_rewritten_or_removed(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    action = make.action(make.case(panel))
    first = make.action_update(action, note="First")
    action.updates = [first]
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.actions.get(panel.id, action.id)
        assert loaded is not None
        loaded.updates[0].note = "Rewritten"
        second = make.action_update(loaded, note="Second")
        loaded.updates = [second]
        await uow.actions.save(loaded)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        again = await uow.actions.get(panel.id, action.id)
    assert again is not None
    assert [u.note for u in again.updates] == ["First", "Second"]


async def test_an_update_must_belong_to_the_action_it_is_saved_with(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    action, other = make.action(case), make.action(case)
    action.updates = [make.action_update(other)]
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.actions.save(action)


async def test_a_cases_actions_are_listed_in_the_order_they_were_agreed(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    second = make.action(case, created_at=make.at(hours=2), due_on=date(2026, 7, 1))
    first = make.action(case, created_at=make.at(hours=1), due_on=date(2026, 9, 1))
    async with storage.unit_of_work() as uow:
        for action in (second, first, make.action(make.case(panel))):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert [a.id for a in await uow.actions.for_case(panel.id, case.id)] == [
            first.id,
            second.id,
        ]


async def test_an_agencys_open_actions_come_earliest_due_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    late = make.action(case, owner_agency_id="police", due_on=date(2026, 9, 1))
    soon = make.action(case, owner_agency_id="police", due_on=date(2026, 7, 1))
    done = make.action(case, owner_agency_id="police", status=ActionStatus.DONE)
    cancelled = make.action(case, owner_agency_id="police", status=ActionStatus.CANCELLED)
    others = make.action(case, owner_agency_id="housing")
    async with storage.unit_of_work() as uow:
        for action in (late, soon, done, cancelled, others):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.actions.open_for_agency(panel.id, "police") == [soon, late]


async def test_open_actions_due_by_a_day_include_that_day_earliest_first(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    on_the_day = make.action(case, due_on=date(2026, 7, 10))
    before = make.action(case, due_on=date(2026, 7, 3))
    after = make.action(case, due_on=date(2026, 7, 11))
    done = make.action(case, due_on=date(2026, 7, 1), status=ActionStatus.DONE)
    async with storage.unit_of_work() as uow:
        for action in (on_the_day, before, after, done):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.actions.open_due_by(panel.id, date(2026, 7, 10))
    assert [a.id for a in due] == [before.id, on_the_day.id]


async def test_the_ids_of_open_actions_due_by_a_day_leave_out_one_meetings_only(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    case = open_case_of(panel)
    day = date(2026, 7, 10)
    this_meeting, earlier_meeting = "meeting-this", "meeting-earlier"
    late = make.action(case, due_on=date(2026, 7, 1), meeting_id=earlier_meeting)
    set_here = make.action(case, due_on=date(2026, 7, 2), meeting_id=this_meeting)
    unplanned = make.action(case, due_on=day, meeting_id=None)
    after = make.action(case, due_on=date(2026, 7, 11), meeting_id=earlier_meeting)
    done = make.action(case, due_on=date(2026, 6, 1), status=ActionStatus.DONE)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        for action in (unplanned, after, done, set_here, late):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        every = [action.id for action in await uow.actions.open_due_by(panel.id, day)]
        ids = await uow.actions.open_ids_due_by(panel.id, day)
        unmet = await uow.actions.open_ids_due_by(panel.id, day, except_meeting_id=this_meeting)
    assert ids == every == [late.id, set_here.id, unplanned.id]
    assert unmet == [late.id, unplanned.id]


def open_case_of(panel: Panel) -> Case:
    return make.case(
        panel, status=CaseStatus.OPEN, closure_reason=None, closure_note=None, closed_at=None
    )


async def test_open_actions_of_a_closed_case_are_never_unmet(storage: Storage) -> None:
    """Closing a case settles its actions; one left open before it did (an older database)
    does not come back as unmet either. Passed-back actions are not open."""
    (panel,) = await make.stored_panels(storage)
    open_case, closed_case = open_case_of(panel), make.case(panel)
    assert closed_case.status is CaseStatus.CLOSED
    day = date(2026, 7, 10)
    kept = make.action(open_case, due_on=date(2026, 7, 1))
    left_open = make.action(closed_case, due_on=date(2026, 7, 1))
    passed_back = make.action(open_case, due_on=date(2026, 7, 2), status=ActionStatus.PASSED_BACK)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(open_case)
        await uow.cases.save(closed_case)
        for action in (kept, left_open, passed_back):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        every = [action.id for action in await uow.actions.open_due_by(panel.id, day)]
        ids = await uow.actions.open_ids_due_by(panel.id, day)
        stored = await uow.actions.get(panel.id, passed_back.id)
    assert every == ids == [kept.id]
    assert stored is not None
    assert stored.status is ActionStatus.PASSED_BACK


async def test_an_agency_s_finished_actions_come_latest_due_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = open_case_of(panel)
    mine = [
        make.action(case, owner_agency_id="housing", due_on=date(2026, 7, d), status=status)
        for d, status in (
            (1, ActionStatus.DONE),
            (3, ActionStatus.CANCELLED),
            (2, ActionStatus.PASSED_BACK),
            (4, ActionStatus.OPEN),
        )
    ]
    others = make.action(case, owner_agency_id="police", status=ActionStatus.DONE)
    async with storage.unit_of_work() as uow:
        for action in (*mine, others):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        finished = await uow.actions.finished_for_agency(panel.id, "housing", 10)
        first_two = await uow.actions.finished_for_agency(panel.id, "housing", 2)
    assert [a.id for a in finished] == [mine[1].id, mine[2].id, mine[0].id]
    assert [a.id for a in first_two] == [mine[1].id, mine[2].id]


async def test_actions_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case = make.case(mine)
    action = make.action(case, owner_agency_id="shared-agency", due_on=date(2026, 1, 1))
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.actions.get(theirs.id, action.id) is None
        assert await uow.actions.for_case(theirs.id, case.id) == []
        assert await uow.actions.open_for_agency(theirs.id, "shared-agency") == []
        assert await uow.actions.open_due_by(theirs.id, date(2030, 1, 1)) == []
        assert await uow.actions.open_ids_due_by(theirs.id, date(2030, 1, 1)) == []


async def test_an_information_request_comes_back_with_every_field_and_updates(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    request = make.information_request(make.case(panel))
    unanswered = make.information_request(
        make.case(panel),
        agency_id="police",
        meeting_id=None,
        status=RequestStatus.OPEN,
        answer=None,
        answered_by_member_id=None,
        answered_at=None,
    )
    async with storage.unit_of_work() as uow:
        await uow.information_requests.save(request)
        await uow.information_requests.save(unanswered)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.information_requests.get(panel.id, request.id) == request
        assert await uow.information_requests.get(panel.id, unanswered.id) == unanswered
    unanswered.answer_with("Nothing known", by_agency_id="police", by_member_id="m", at=make.at())
    async with storage.unit_of_work() as uow:
        await uow.information_requests.save(unanswered)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.information_requests.get(panel.id, unanswered.id) == unanswered


async def test_information_requests_are_listed_soonest_due_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)

    def ask(due_in_days: int, **fields: object) -> InformationRequest:
        return make.information_request(case, due_at=make.at(days=due_in_days), **fields)

    late = ask(9, agency_id="police", status=RequestStatus.OPEN)
    soon = ask(2, agency_id="police", status=RequestStatus.OPEN)
    answered = ask(1, agency_id="police", status=RequestStatus.ANSWERED)
    cancelled = ask(1, agency_id="police", status=RequestStatus.CANCELLED)
    housing = ask(5, agency_id="housing", status=RequestStatus.OPEN)
    async with storage.unit_of_work() as uow:
        for request in (late, soon, answered, cancelled, housing):
            await uow.information_requests.save(request)
        await uow.information_requests.save(make.information_request(make.case(panel)))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        for_case = await uow.information_requests.for_case(panel.id, case.id)
        for_police = await uow.information_requests.open_for_agency(panel.id, "police")
    assert [r.due_at for r in for_case] == sorted(r.due_at for r in for_case)
    assert {r.id for r in for_case} == {r.id for r in (late, soon, answered, cancelled, housing)}
    assert for_police == [soon, late]


async def test_information_requests_of_one_panel_are_invisible_from_another(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case = make.case(mine)
    request = make.information_request(case, agency_id="shared", status=RequestStatus.OPEN)
    async with storage.unit_of_work() as uow:
        await uow.information_requests.save(request)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.information_requests.get(theirs.id, request.id) is None
        assert await uow.information_requests.for_case(theirs.id, case.id) == []
        assert await uow.information_requests.open_for_agency(theirs.id, "shared") == []
        assert await uow.information_requests.open_for_agency(mine.id, "shared") == [request]
