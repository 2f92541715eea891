"""Running a meeting (revision 0004): the meeting's new state, agenda items' summary and
unmet actions, a case's review meeting, attendance, minutes, and actions by id; on the
in-memory fake, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text

from bot.domain.case import CaseStatus
from bot.domain.errors import Conflict
from bot.domain.meeting import AgendaItemKind, Attendance, MeetingStatus
from bot.domain.minutes import ActionLine, AttendanceLine, CaseMinutes, Minutes, UnmetOutcome
from storage import ConstraintViolation, SqlStorage, open_storage
from storage.sql.engine import create_engine

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema
from .test_migrations import Database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.kernel.ports import Storage


def attendance(meeting_id: str, panel_id: str, **fields: object) -> Attendance:
    values: dict[str, object] = {
        "panel_id": panel_id,
        "meeting_id": meeting_id,
        "member_id": make.unique("member"),
        "agency_id": make.unique("agency"),
        "acknowledged_at": make.at(minutes=5),
    }
    return Attendance(**(values | fields))  # type: ignore[arg-type]


def minutes_of(meeting_id: str, panel_id: str) -> Minutes:
    return Minutes(
        panel_id=panel_id,
        meeting_id=meeting_id,
        meeting_starts_at=make.at(days=10),
        drafted_at=make.at(days=10, hours=2),
        meeting_label="Tue 25 Jun 2026, 10:00",
        attendance=[AttendanceLine("Northbrook Homes", ("Zoë O'Brien-Smith", "Dan Black"))],
        cases=[
            CaseMinutes(
                item_id="i1",
                case_id="c1",
                reference="NB-2026-001",
                review=True,
                discussed=True,
                summary="Threats continue; ñ and “quotes”.",
                risk_level="High",
                lead_agency="Northbrook Homes",
                lead_officer=None,
                decision="Review at the next meeting",
                actions=[
                    ActionLine("a1", "Fit a door camera", "Northbrook Homes", date(2026, 7, 1))
                ],
            )
        ],
        unmet=[UnmetOutcome("a0", "NB-2026-000", "Serve a warning", "Police", "Escalated.")],
        other_business=["Board figures"],
    )


async def test_a_meeting_under_way_comes_back_with_its_new_state(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(
        panel,
        status=MeetingStatus.IN_PROGRESS,
        agenda_published_at=make.at(days=3),
        agenda_manual=True,
        started_at=make.at(days=10),
        chat_conversation_id="19:group@thread.v2",
        current_item_id=make.unique("item"),
        step=7,
    )
    bare = make.meeting(panel)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save(bare)
        await uow.commit()
    meeting.end(make.at(days=10, hours=2))
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.get(panel.id, meeting.id) == meeting
        loaded = await uow.meetings.get(panel.id, bare.id)
    assert loaded == bare
    assert loaded is not None and (loaded.step, loaded.agenda_manual) == (0, False)


async def test_agenda_items_keep_their_summary_and_unmet_actions(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    unmet = make.agenda_item(
        meeting,
        kind=AgendaItemKind.UNMET_ACTIONS,
        case_id=None,
        action_ids=("a2", "a1"),
        summary=None,
    )
    case_item = make.agenda_item(meeting, position=2, summary="Discussed at length — ñ")
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save_agenda_item(unmet)
        await uow.meetings.save_agenda_item(case_item)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.agenda(panel.id, meeting.id) == [unmet, case_item]


async def test_a_case_keeps_the_meeting_that_reviews_it(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel, status=CaseStatus.HEARD, review_meeting_id=make.unique("meeting"))
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.cases.get(panel.id, case.id) == case


async def test_items_for_cases_finds_every_meeting_s_items_of_those_cases_only(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    first, second = make.meeting(mine), make.meeting(mine, starts_at=make.at(days=40))
    case_id, other_id = make.unique("case"), make.unique("case")
    wanted = [
        make.agenda_item(first, case_id=case_id),
        make.agenda_item(second, case_id=case_id, position=4),
    ]
    other = make.agenda_item(first, case_id=other_id, position=2)
    async with storage.unit_of_work() as uow:
        for meeting in (first, second):
            await uow.meetings.save(meeting)
        for item in (*wanted, other):
            await uow.meetings.save_agenda_item(item)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.meetings.items_for_cases(mine.id, [case_id])
        assert sorted(i.id for i in found) == sorted(i.id for i in wanted)
        assert await uow.meetings.items_for_cases(mine.id, []) == []
        assert await uow.meetings.items_for_cases(theirs.id, [case_id]) == []


async def test_attendance_is_recorded_once_per_member_in_order(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    later = attendance(meeting.id, panel.id, acknowledged_at=make.at(minutes=9))
    earlier = attendance(meeting.id, panel.id, acknowledged_at=make.at(minutes=2), agency_id=None)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        assert await uow.meetings.record_attendance(later)
        assert await uow.meetings.record_attendance(earlier)
        again = attendance(meeting.id, panel.id, member_id=later.member_id)
        assert not await uow.meetings.record_attendance(again)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert not await uow.meetings.record_attendance(
            attendance(meeting.id, panel.id, member_id=earlier.member_id)
        )
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.attendance(panel.id, meeting.id) == [earlier, later]


async def test_attendance_needs_a_meeting_of_its_own_panel_and_stays_in_it(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    meeting = make.meeting(mine)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.record_attendance(attendance(meeting.id, mine.id))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.meetings.attendance(theirs.id, meeting.id) == []
        with pytest.raises(ConstraintViolation):
            await uow.meetings.record_attendance(attendance(meeting.id, theirs.id))


async def test_minutes_come_back_whole_and_save_only_from_the_version_stored(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel, status=MeetingStatus.ENDED)
    minutes = minutes_of(meeting.id, panel.id)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save_minutes(minutes)
        await uow.commit()
    assert minutes.version == 1
    async with storage.unit_of_work() as uow:
        loaded = await uow.meetings.minutes(panel.id, meeting.id)
        assert await uow.meetings.minutes(panel.id, make.unique("meeting")) is None
    assert loaded == minutes
    assert loaded is not None
    stale = minutes_of(meeting.id, panel.id)
    stale.id, stale.version = minutes.id, 1
    loaded.edit_summary("i1", "Rewritten.")
    loaded.approve(by_member_id="m1", by_name="Priya Shah", at=make.at(days=11))
    async with storage.unit_of_work() as uow:
        await uow.meetings.save_minutes(loaded)
        await uow.commit()
    assert loaded.version == 2
    async with storage.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.meetings.save_minutes(stale)
    async with storage.unit_of_work() as uow:
        again = await uow.meetings.minutes(panel.id, meeting.id)
    assert again == loaded
    assert again is not None and again.cases[0].summary == "Rewritten."


async def test_a_meeting_has_one_set_of_minutes(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    meeting = make.meeting(panel)
    async with storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.meetings.save_minutes(minutes_of(meeting.id, panel.id))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.meetings.save_minutes(minutes_of(meeting.id, panel.id))


async def test_actions_by_ids_come_in_the_order_asked_and_within_the_panel(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case = make.case(mine)
    first, second = make.action(case), make.action(case, due_on=date(2026, 6, 1))
    foreign = make.action(make.case(theirs))
    async with storage.unit_of_work() as uow:
        for action in (first, second, foreign):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.actions.by_ids(mine.id, [second.id, foreign.id, "missing", first.id])
        assert found == [second, first]
        assert await uow.actions.by_ids(mine.id, []) == []


# --- the migration ---------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'meeting-run.sqlite3'}")
        return
    await require_postgres()
    schema = unique_schema("meeting_run")
    try:
        yield Database(POSTGRES_URL, schema)
    finally:
        await drop_schema(schema)


ADDED_IN_0004 = {
    "meetings": {
        "agenda_published_at",
        "agenda_manual",
        "started_at",
        "ended_at",
        "chat_conversation_id",
        "current_item_id",
        "step",
    },
    "agenda_items": {"summary", "action_ids"},
    "cases": {"review_meeting_id"},
}


async def test_revision_0004_keeps_meetings_and_can_be_undone_and_done_again(
    database: Database,
) -> None:
    await database.upgrade("0003")
    panel = make.panel()
    meeting = make.meeting(panel)
    item = make.agenda_item(meeting)
    storage = open_storage(database.url, schema=database.schema)
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO panels (id, name, team_id, tenant_id, timezone, case_prefix, "
                    "isa_version, isa_text, created_at) VALUES (:id, 'P', :team, 't', "
                    "'Europe/London', 'NB', '1', '', :at)"
                ),
                {"id": panel.id, "team": panel.team_id, "at": make.at()},
            )
            await conn.execute(
                text(
                    "INSERT INTO meetings (id, panel_id, starts_at, ends_at, referral_deadline, "
                    "status) VALUES (:id, :panel, :s, :e, :d, 'scheduled')"
                ),
                {
                    "id": meeting.id,
                    "panel": panel.id,
                    "s": meeting.starts_at,
                    "e": meeting.ends_at,
                    "d": meeting.referral_deadline,
                },
            )
            await conn.execute(
                text(
                    "INSERT INTO agenda_items (id, panel_id, meeting_id, kind, position, title, "
                    "minutes_estimate, status) VALUES (:id, :panel, :meeting, 'other_business', "
                    "1, 'AOB', 5, 'pending')"
                ),
                {"id": item.id, "panel": panel.id, "meeting": meeting.id},
            )
        await database.migrate()
        for table, added in ADDED_IN_0004.items():
            assert added <= await database.columns(table)
        async with storage.unit_of_work() as uow:
            loaded = await uow.meetings.get(panel.id, meeting.id)
            (agenda_item,) = await uow.meetings.agenda(panel.id, meeting.id)
        assert loaded is not None
        assert (loaded.step, loaded.agenda_manual, loaded.current_item_id) == (0, False, None)
        assert (agenda_item.action_ids, agenda_item.summary) == ((), None)
        await database.downgrade("0003")
        for table, added in ADDED_IN_0004.items():
            assert not added & await database.columns(table)
        async with engine.connect() as conn:
            kept = await conn.scalar(select(func.count()).select_from(text("agenda_items")))
        assert kept == 1
        await database.migrate()
        _, differences = await database.inspect()
        assert differences == []
    finally:
        await storage.close()
        await engine.dispose()


async def test_concurrent_first_attendance_of_one_member_stores_one_row(
    sql_storage: SqlStorage,
) -> None:
    (panel,) = await make.stored_panels(sql_storage)
    meeting = make.meeting(panel)
    async with sql_storage.unit_of_work() as uow:
        await uow.meetings.save(meeting)
        await uow.commit()
    member_id = make.unique("member")

    async def acknowledge() -> bool:
        async with sql_storage.unit_of_work() as uow:
            recorded = await uow.meetings.record_attendance(
                attendance(meeting.id, panel.id, member_id=member_id)
            )
            await asyncio.sleep(0.01)
            await uow.commit()
            return recorded

    results = await asyncio.gather(acknowledge(), acknowledge(), return_exceptions=True)
    assert sorted(r for r in results if isinstance(r, bool)) in ([False, True], [True])
    async with sql_storage.unit_of_work() as uow:
        assert len(await uow.meetings.attendance(panel.id, meeting.id)) == 1


async def test_the_migrated_schema_has_the_meeting_tables(database: Database) -> None:
    await database.migrate()
    tables, differences = await database.inspect()
    assert {"meeting_attendance", "meeting_minutes"} <= tables
    assert differences == []
