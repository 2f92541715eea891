"""Meetings and their agendas."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.meeting import AgendaItemKind, AgendaItemStatus, MeetingStatus
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def test_a_meeting_comes_back_with_every_field_and_saving_again_updates_it(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    bare = make.meeting(panel, status=MeetingStatus.SCHEDULED, join_url=None, teams_meeting_id=None)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save(bare)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.get(panel.id, meeting.id) == meeting
        assert await uow.meetings.get(panel.id, bare.id) == bare
    meeting.move_to(MeetingStatus.IN_PROGRESS)
    meeting.join_url = None
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.get(panel.id, meeting.id) == meeting


async def test_upcoming_meetings_start_at_or_after_the_time_soonest_first(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    now = make.at(days=100)
    past = make.meeting(panel, starts_at=now - timedelta(minutes=1))
    exactly_now = make.meeting(panel, starts_at=now)
    cancelled = make.meeting(
        panel, starts_at=now + timedelta(days=7), status=MeetingStatus.CANCELLED
    )
    later = [make.meeting(panel, starts_at=now + timedelta(days=30 * n)) for n in range(5, 0, -1)]
    async with storage.unit_of_work() as uow:
        for meeting in [past, *later, cancelled, exactly_now]:
            await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        upcoming = await uow.meetings.upcoming(panel.id, now)
        first_two = await uow.meetings.upcoming(panel.id, now, limit=2)
    expected = [exactly_now, cancelled, *reversed(later)]
    assert [m.id for m in upcoming] == [m.id for m in expected[:6]]
    assert [m.id for m in first_two] == [exactly_now.id, cancelled.id]


async def test_meetings_asked_for_by_ids_come_soonest_first_ignoring_unknown_ids(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    later = make.meeting(panel, starts_at=make.at(days=60))
    sooner = make.meeting(panel, starts_at=make.at(days=30))
    same_time = make.meeting(panel, starts_at=make.at(days=30), status=MeetingStatus.CANCELLED)
    not_asked = make.meeting(panel, starts_at=make.at(days=1))
    async with storage.unit_of_work() as uow:
        for meeting in (later, not_asked, same_time, sooner):
            await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.meetings.by_ids(panel.id, [later.id, "unknown", sooner.id, same_time.id])
        assert await uow.meetings.by_ids(panel.id, []) == []
    tied = sorted([sooner, same_time], key=lambda meeting: meeting.id)
    assert found == [*tied, later]


async def test_an_agenda_is_ordered_by_position_and_items_can_be_updated(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting, other_meeting = make.meeting(panel), make.meeting(panel)
    third = make.agenda_item(meeting, position=3)
    first = make.agenda_item(
        meeting, kind=AgendaItemKind.CONFIDENTIALITY, position=1, case_id=None, note=None
    )
    second = make.agenda_item(meeting, kind=AgendaItemKind.NEW_CASE, position=2)
    elsewhere = make.agenda_item(other_meeting, position=0)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save(other_meeting)
        for item in (third, first, second, elsewhere):
            await uow.meetings.save_agenda_item(item)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.agenda(panel.id, meeting.id) == [first, second, third]
    third.position, third.status, third.note = 0, AgendaItemStatus.DISCUSSED, "Heard first"
    async with storage.unit_of_work() as uow:
        await uow.meetings.save_agenda_item(third)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.agenda(panel.id, meeting.id) == [third, first, second]


async def test_an_agenda_item_needs_a_meeting_of_its_own_panel(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    meeting = make.meeting(mine)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()
    foreign = make.agenda_item(meeting, panel_id=theirs.id)
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.meetings.save_agenda_item(foreign)
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.meetings.save_agenda_item(make.agenda_item(make.meeting(mine)))


async def test_meetings_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    meeting = make.meeting(mine)
    item = make.agenda_item(meeting)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save_agenda_item(item)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.get(theirs.id, meeting.id) is None
        assert await uow.meetings.upcoming(theirs.id, make.at(days=-1000)) == []
        assert await uow.meetings.by_ids(theirs.id, [meeting.id]) == []
        assert await uow.meetings.agenda(theirs.id, meeting.id) == []
        assert await uow.meetings.agenda(mine.id, meeting.id) == [item]


async def test_an_urgent_meeting_comes_back_urgent(storage: Storage) -> None:
    """Revision 0017: the urgent flag is kept (and a meeting saved without it is not urgent)."""
    (panel,) = await make.stored_panels(storage)
    urgent = make.meeting(panel, urgent=True)
    regular = make.meeting(panel, starts_at=urgent.starts_at + timedelta(days=3))
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(urgent)
        await uow.meetings.save(regular)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = {m.id: m.urgent for m in await uow.meetings.upcoming(panel.id, urgent.starts_at)}
    assert found == {urgent.id: True, regular.id: False}


async def test_a_meetings_calendar_event_and_chat_come_back_and_can_be_forgotten(
    storage: Storage,
) -> None:
    """Revision 0021: the Outlook event's id and the meeting chat the bot joined are kept,
    and a meeting saved without them has neither."""
    (panel,) = await make.stored_panels(storage)
    linked = make.meeting(
        panel,
        join_url="https://teams.example/join/1",
        teams_meeting_id=None,
        calendar_event_id="AAMkAG-event-1=",
        teams_chat_id="19:meeting_abc@thread.v2",
    )
    plain = make.meeting(panel, starts_at=linked.starts_at + timedelta(days=3))
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(linked)
        await uow.meetings.save(plain)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = {
            m.id: (m.calendar_event_id, m.teams_chat_id)
            for m in await uow.meetings.upcoming(panel.id, linked.starts_at)
        }
        assert found == {
            linked.id: ("AAMkAG-event-1=", "19:meeting_abc@thread.v2"),
            plain.id: (None, None),
        }
        stored = await uow.meetings.get(panel.id, linked.id)
        assert stored is not None
        stored.calendar_event_id = stored.teams_chat_id = None
        await uow.meetings.save(stored)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        again = await uow.meetings.get(panel.id, linked.id)
    assert again is not None
    assert (again.calendar_event_id, again.teams_chat_id) == (None, None)
