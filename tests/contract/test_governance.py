"""Storage for governance, on the fake, SQLite and PostgreSQL: the names the channel gate
looks for, each member's latest agreement, the audit trail read a page at a time (and never
changed), one acceptance per version and one agency per name."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.domain.audit import AuditVerb
from bot.domain.referral import Child
from bot.kernel.ports import AuditRepository, Storage
from storage import ConstraintViolation, SqlStorage

from . import builders as make

AUDIT_METHODS = {"append", "for_entity", "recent", "trail"}


async def test_the_gate_gets_every_subject_alias_and_child_name_once(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    first = make.referral(mine)  # Zoë O'Brien-Smith (Zoe Smith, Zed), Dan Black; Amy, Unborn
    second = make.referral(
        mine,
        subjects=[make.subject(name="Dan Black", aliases=())],
        children=[Child(name="Amy")],
    )
    elsewhere = make.referral(theirs, subjects=[make.subject(name="Other Panel Person")])
    async with storage.unit_of_work() as uow:
        for referral in (first, second, elsewhere):
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        names = await uow.referrals.subject_names(mine.id)
        assert await uow.referrals.subject_names(make.panel().id) == []
    assert names == ["Amy", "Dan Black", "Unborn", "Zed", "Zoe Smith", "Zoë O'Brien-Smith"]


async def test_each_members_latest_acceptance_comes_in_one_read(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    old = make.isa(mine, "ann", version="1", accepted_at=make.at(days=-30))
    new = make.isa(mine, "ann", version="2", accepted_at=make.at(days=-1))
    bob = make.isa(mine, "bob", version="1", accepted_at=make.at(days=-5))
    async with storage.unit_of_work() as uow:
        for acceptance in (new, old, bob, make.isa(theirs, "ann", version="7")):
            await uow.isa.save(acceptance)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.isa.latest_by_member(mine.id) == {"ann": new, "bob": bob}


async def test_a_member_accepts_one_version_once(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:
        await uow.isa.save(make.isa(panel, "ann", version="2"))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        again = make.isa(panel, "ann", version="2", accepted_at=make.at(days=1))
        with pytest.raises(ConstraintViolation):
            await uow.isa.save(again)


async def test_a_panel_has_one_agency_of_a_name_whatever_its_case(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(make.agency(mine, name="Riverside Police"))
        await uow.agencies.save(make.agency(theirs, name="Riverside Police"))  # another panel
        await uow.commit()
    async with storage.unit_of_work() as uow:
        shouting = make.agency(mine, name="RIVERSIDE POLICE")
        with pytest.raises(ConstraintViolation):
            await uow.agencies.save(shouting)


async def test_a_cases_trail_is_read_newest_first_a_page_at_a_time(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case, referral, other = ("case", "c1"), ("referral", "r1"), ("case", "c2")
    events = [
        make.audit_event(mine, entity=entity, entity_id=entity_id, at=make.at(minutes=minute))
        for minute, (entity, entity_id) in enumerate([case, referral, other, case, case, referral])
    ]
    same_instant = [
        make.audit_event(mine, entity="case", entity_id="c1", at=make.at(minutes=9), verb=verb)
        for verb in (AuditVerb.VIEW, AuditVerb.UPDATE)
    ]
    async with storage.unit_of_work() as uow:
        for event in [*events, *same_instant]:
            await uow.audit.append(event)
        await uow.audit.append(make.audit_event(theirs, entity="case", entity_id="c1"))
        await uow.commit()
    wanted = [events[i] for i in (0, 1, 3, 4, 5)] + same_instant
    newest_first = wanted[::-1]
    async with storage.unit_of_work() as uow:
        whole = await uow.audit.trail(mine.id, [case, referral], limit=100)
        page_one = await uow.audit.trail(mine.id, [case, referral], limit=3)
        page_two = await uow.audit.trail(
            mine.id, [case, referral], limit=3, before_id=page_one[-1].id
        )
        rest = await uow.audit.trail(mine.id, [case, referral], limit=3, before_id=page_two[-1].id)
        everything = await uow.audit.trail(mine.id, None, limit=100)
        nothing = await uow.audit.trail(mine.id, [], limit=100)
        unknown = await uow.audit.trail(mine.id, [case], limit=10, before_id="no-such-event")
    assert whole == newest_first
    assert page_one + page_two + rest == newest_first
    assert len(rest) == 1
    assert everything == (events + same_instant)[::-1]
    assert (nothing, unknown) == ([], [])


async def test_the_audit_repositories_offer_no_way_to_change_or_remove_an_event(
    storage: Storage,
) -> None:
    async with storage.unit_of_work() as uow:
        repository = uow.audit
    public = {
        name
        for name, member in inspect.getmembers(type(repository), inspect.isfunction)
        if not name.startswith("_")
    }
    assert public == AUDIT_METHODS
    port = {name for name in vars(AuditRepository) if not name.startswith("_")}
    assert port == AUDIT_METHODS


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_aad_object_id = 'someone else'",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET detail = NULL WHERE entity = 'case'",
    ],
    ids=["update-all", "delete-all", "update-some"],
)
async def test_the_database_itself_refuses_updates_and_deletes_of_the_trail(
    sql_storage: SqlStorage, statement: str
) -> None:
    (panel,) = await make.stored_panels(sql_storage)
    event = make.audit_event(panel)
    async with sql_storage.unit_of_work() as uow:
        await uow.audit.append(event)
        await uow.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        async with sql_storage.engine.begin() as conn:
            await conn.execute(text(statement))
    async with sql_storage.unit_of_work() as uow:
        assert await uow.audit.recent(panel.id) == [event]
