"""The bounded queries the benchmark asked for, on the fake, SQLite and PostgreSQL alike.

`python -m bot bench` found an `agenda` turn whose statements grew with the panel: one
SELECT per agenda item saved, one per meeting its cases were listed at, and every unmet
action loaded with its history to count it. These are the repository methods that replaced
them: meetings by ids, agenda items saved together, and the ids of unmet actions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from bot.domain.action import ActionStatus
from bot.domain.case import CaseStatus
from bot.domain.meeting import AgendaItemKind, AgendaItemStatus
from bot.kernel import notify
from storage import ConstraintViolation, SqlStorage
from tests.contract import builders as make
from tests.contract.conftest import backends, storage

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

__all__ = ["backends", "storage"]  # the contract suite's fixtures, one module's databases


async def test_meetings_by_ids_are_the_panels_own_soonest_first(storage: Storage) -> None:
    mine, other = await make.stored_panels(storage, 2)
    later = make.meeting(mine, starts_at=make.at(days=60))
    sooner = make.meeting(mine, starts_at=make.at(days=30))
    theirs = make.meeting(other)
    async with storage.unit_of_work() as uow:
        for meeting in (later, sooner, theirs):
            await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.meetings.by_ids(mine.id, [later.id, theirs.id, sooner.id, "nope"])
        none = await uow.meetings.by_ids(mine.id, [])
    assert [m.id for m in found] == [sooner.id, later.id]
    assert found == [sooner, later]
    assert none == []


async def test_agenda_items_saved_together_are_stored_as_one_by_one(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    kept = make.agenda_item(meeting, position=1)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save_agenda_item(kept)
        await uow.commit()
    kept.status = AgendaItemStatus.PENDING
    kept.note = None
    new = make.agenda_item(
        meeting, kind=AgendaItemKind.OTHER_BUSINESS, case_id=None, position=2, title="AOB"
    )
    async with storage.unit_of_work() as uow:
        await uow.meetings.save_agenda_items([kept, new])
        await uow.meetings.save_agenda_items([])
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.agenda(panel.id, meeting.id) == [kept, new]


async def test_an_agenda_item_of_another_panel_is_refused_in_a_batch(storage: Storage) -> None:
    mine, other = await make.stored_panels(storage, 2)
    meeting = make.meeting(mine)
    theirs = make.meeting(other)
    item = make.agenda_item(theirs)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save(theirs)
        await uow.meetings.save_agenda_item(item)
        await uow.commit()
    hijack = make.agenda_item(meeting, id=item.id)
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.meetings.save_agenda_items([hijack])
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.agenda(other.id, theirs.id) == [item]


async def test_unmet_action_ids_are_open_due_by_the_day_earliest_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    # An open case: a closed case's actions are never unmet.
    case = make.case(
        panel, status=CaseStatus.OPEN, closure_reason=None, closure_note=None, closed_at=None
    )
    this_meeting, earlier_meeting = "meeting-now", "meeting-before"
    day = date(2026, 7, 10)
    late = make.action(case, due_on=day - timedelta(days=9), meeting_id=earlier_meeting)
    on_the_day = make.action(case, due_on=day, meeting_id=None)
    set_now = make.action(case, due_on=day - timedelta(days=1), meeting_id=this_meeting)
    after = make.action(case, due_on=day + timedelta(days=1), meeting_id=earlier_meeting)
    done = make.action(case, due_on=day - timedelta(days=2), status=ActionStatus.DONE)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        for action in (on_the_day, after, done, set_now, late):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        everything = [a.id for a in await uow.actions.open_due_by(panel.id, day)]
        all_ids = await uow.actions.open_ids_due_by(panel.id, day)
        unmet = await uow.actions.open_ids_due_by(panel.id, day, except_meeting_id=this_meeting)
        elsewhere = await uow.actions.open_ids_due_by("another-panel", day)
    assert all_ids == everything == [late.id, set_now.id, on_the_day.id]
    assert unmet == [late.id, on_the_day.id]
    assert elsewhere == []


async def test_saving_a_whole_agenda_costs_the_same_statements_for_any_size(
    storage: Storage,
) -> None:
    if not isinstance(storage, SqlStorage):
        pytest.skip("statements are counted on the SQL backends")
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()

    async def statements_to_save(count: int) -> int:
        items = [
            make.agenda_item(meeting, kind=AgendaItemKind.OTHER_BUSINESS, case_id=None)
            for _ in range(count)
        ]
        seen = 0

        def counted(*_args: Any) -> None:
            nonlocal seen
            seen += 1

        event.listen(storage.engine.sync_engine, "before_cursor_execute", counted)
        try:
            async with storage.unit_of_work() as uow:
                await uow.meetings.save_agenda_items(items)
                await uow.meetings.save_agenda_items(items)  # again, unchanged: no writes
        finally:
            event.remove(storage.engine.sync_engine, "before_cursor_execute", counted)
        return seen

    assert await statements_to_save(3) == await statements_to_save(60)


async def test_naming_the_panel_on_queued_cards_costs_the_same_lookups_for_any_fan_out(
    storage: Storage,
) -> None:
    """bot.kernel.notify.private_card names the panel on a card for someone on several
    panels and stamps its buttons: in one unit of work that is one lookup of the panel's
    members on several panels (and of its name), however many cards are queued; each card
    costs only its own insert."""
    if not isinstance(storage, SqlStorage):
        pytest.skip("statements are counted on the SQL backends")
    first, second = await make.stored_panels(storage, 2)
    people = [make.member(first) for _ in range(40)]
    elsewhere = [make.member(second, aad_object_id=p.aad_object_id) for p in people[:5]]
    async with storage.unit_of_work() as uow:
        for member in (*people, *elsewhere):
            await uow.members.save(member)
        await uow.commit()

    async def lookups_to_queue(count: int) -> tuple[int, int]:
        """(SELECTs, all statements) to queue a card for each of the first `count`."""
        selects = every = 0

        def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            nonlocal selects, every
            every += 1
            selects += statement.lstrip().upper().startswith("SELECT")

        event.listen(storage.engine.sync_engine, "before_cursor_execute", counted)
        try:
            async with storage.unit_of_work() as uow:
                for member in people[:count]:
                    await notify.card_to_member(
                        uow,
                        panel_id=first.id,
                        member_id=member.id,
                        card={"type": "AdaptiveCard", "body": [], "actions": []},
                        key=f"count:{count}:{member.id}",
                        now=make.at(),
                    )
                await uow.commit()
        finally:
            event.remove(storage.engine.sync_engine, "before_cursor_execute", counted)
        return selects, every

    few_selects, few = await lookups_to_queue(10)
    many_selects, many = await lookups_to_queue(40)
    assert few_selects == many_selects
    assert (many - few) * 10 == (few - few_selects) * 30  # only the inserts grow
    async with storage.unit_of_work() as uow:
        queued = await uow.outbox.due(make.at(days=1), 1000)
    named = [d for d in queued if d.payload["card"]["body"]]
    assert sorted(d.recipient_member_id for d in named if d.key.startswith("count:40")) == sorted(
        p.id for p in people[:5]
    )
