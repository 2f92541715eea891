"""Panels, agencies, members and information sharing agreement acceptances."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from bot.domain.panel import AgencyKind, Role
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def test_a_panel_comes_back_with_every_field(storage: Storage) -> None:
    panel = make.panel()
    async with storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.panels.get(panel.id)
    assert loaded == panel
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None


async def test_saving_a_panel_again_updates_it(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    panel.name = "Renamed panel"
    panel.channel_id = None
    panel.isa_version = "4"
    async with storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.panels.get(panel.id) == panel


async def test_a_panel_is_found_by_its_team(storage: Storage) -> None:
    panel, other = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        assert await uow.panels.by_team(panel.team_id) == panel
        assert await uow.panels.by_team(other.team_id) == other
        assert await uow.panels.by_team("19:no-such-team") is None


async def test_panels_are_listed_oldest_first(storage: Storage) -> None:
    later, earlier = (
        make.panel(created_at=make.at(days=-1)),
        make.panel(created_at=make.at(days=-2)),
    )
    async with storage.unit_of_work() as uow:
        await uow.panels.save(later)
        await uow.panels.save(earlier)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        listed = [p.id for p in await uow.panels.list_all() if p.id in {later.id, earlier.id}]
    assert listed == [earlier.id, later.id]


async def test_two_panels_cannot_share_a_team(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.panels.save(make.panel(team_id=panel.team_id))


async def test_an_agency_comes_back_with_every_field_and_saving_again_updates_it(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    agency = make.agency(panel)
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(panel.id, agency.id) == agency
    agency.name, agency.kind, agency.active = "Northbrook Housing", AgencyKind.CORE, True
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(panel.id, agency.id) == agency
        assert await uow.agencies.by_name(panel.id, "Northbrook Homes") is None


async def test_an_agency_is_found_by_its_name_whatever_the_case(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    agency = make.agency(panel, name="Société Générale Housing")
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.by_name(panel.id, "SOCIÉTÉ GÉNÉRALE HOUSING") == agency
        assert await uow.agencies.by_name(panel.id, "société générale housing") == agency
        assert await uow.agencies.by_name(panel.id, "Société") is None


async def test_agencies_are_listed_by_name_whatever_the_case(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    names = ["police", "Adult Social Care", "Youth Offending", "housing"]
    async with storage.unit_of_work() as uow:
        for name in names:
            await uow.agencies.save(make.agency(panel, name=name))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        listed = [a.name for a in await uow.agencies.all(panel.id)]
    assert listed == ["Adult Social Care", "housing", "police", "Youth Offending"]


async def test_agencies_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    agency = make.agency(mine, name="Mine only")
    async with storage.unit_of_work() as uow:
        await uow.agencies.save(agency)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.agencies.get(theirs.id, agency.id) is None
        assert await uow.agencies.by_name(theirs.id, "Mine only") is None
        assert await uow.agencies.all(theirs.id) == []


async def test_a_member_comes_back_with_roles_and_every_field(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.member(panel)
    bare = make.member(
        panel, email=None, agency_id=None, roles=frozenset(), active=False, away_until=None
    )
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.members.save(bare)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.members.get(panel.id, member.id) == member
        assert await uow.members.get(panel.id, bare.id) == bare


async def test_a_member_back_from_leave_has_no_away_date(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.member(panel, away_until=date(2026, 8, 31))
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    member.away_until = None
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.members.get(panel.id, member.id)
    assert loaded is not None
    assert loaded.away_until is None


async def test_saving_a_member_again_updates_the_roles(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.member(panel)
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    member.revoke(Role.SPOC)
    member.grant(Role.COORDINATOR)
    member.grant(Role.REFERRER)
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.members.get(panel.id, member.id)
    assert loaded is not None
    assert loaded.roles == {Role.CHAIR, Role.COORDINATOR, Role.REFERRER}


async def test_a_teams_user_is_found_in_each_panel_they_belong_to(storage: Storage) -> None:
    first, second, third = await make.stored_panels(storage, 3)
    aad = make.unique("aad")
    in_first, in_second = (
        make.member(first, aad_object_id=aad),
        make.member(second, aad_object_id=aad),
    )
    async with storage.unit_of_work() as uow:
        await uow.members.save(in_second)
        await uow.members.save(in_first)
        await uow.members.save(make.member(third))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.members.by_aad(first.id, aad) == in_first
        assert await uow.members.by_aad(second.id, aad) == in_second
        assert await uow.members.by_aad(third.id, aad) is None
        memberships = await uow.members.memberships(aad)
        with_panels = await uow.members.memberships_with_panels(aad)
        stored = {p.id: await uow.panels.get(p.id) for p in (first, second)}
    assert sorted(m.id for m in memberships) == sorted([in_first.id, in_second.id])
    assert [m.panel_id for m in memberships] == sorted([first.id, second.id])
    assert [member for member, _ in with_panels] == memberships
    assert [(panel.id, panel.name) for _, panel in with_panels] == [
        (p.id, p.name) for p in (stored[m.panel_id] for m in memberships) if p is not None
    ]
    assert [panel.data_version for _, panel in with_panels] == [
        p.data_version for p in (stored[m.panel_id] for m in memberships) if p is not None
    ]


async def test_on_several_panels_names_the_members_whose_person_joined_another_panel(
    storage: Storage,
) -> None:
    first, second, third, fourth = await make.stored_panels(storage, 4)
    twice, invited_elsewhere, left_elsewhere = (make.unique("aad") for _ in range(3))
    on_both = make.member(first, aad_object_id=twice)
    also_second = make.member(second, aad_object_id=twice)
    only_invited = make.member(first, aad_object_id=invited_elsewhere)
    invitation = make.member(third, aad_object_id=invited_elsewhere)
    invitation.invited = True
    only_left = make.member(first, aad_object_id=left_elsewhere)
    gone = make.member(fourth, aad_object_id=left_elsewhere)
    gone.active = False
    alone = make.member(first)
    async with storage.unit_of_work() as uow:
        for member in (on_both, also_second, only_invited, invitation, only_left, gone, alone):
            await uow.members.save(member)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.members.on_several_panels(first.id) == {on_both.id}
        assert await uow.members.on_several_panels(second.id) == {also_second.id}
        # Invited to the first too: not yet a member there, so the second is her one panel.
        assert await uow.members.on_several_panels(third.id) == frozenset()
        assert await uow.members.on_several_panels("made-up") == frozenset()


async def test_a_teams_user_has_one_membership_per_panel(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member = make.member(panel)
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        with pytest.raises(ConstraintViolation):
            await uow.members.save(make.member(panel, aad_object_id=member.aad_object_id))


async def test_members_are_listed_by_name(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:
        for name in ["Oliver", "Amara", "Chen"]:
            await uow.members.save(make.member(panel, name=name))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert [m.name for m in await uow.members.all(panel.id)] == ["Amara", "Chen", "Oliver"]


async def test_members_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    member = make.member(mine)
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.members.get(theirs.id, member.id) is None
        assert await uow.members.by_aad(theirs.id, member.aad_object_id) is None
        assert await uow.members.all(theirs.id) == []


async def test_the_latest_isa_acceptance_counts_whatever_its_version(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    member_id = make.unique("member")
    oldest = make.isa(panel, member_id, version="9", accepted_at=make.at(days=-30))
    newest = make.isa(panel, member_id, version="2", accepted_at=make.at(days=-1))
    middle = make.isa(panel, member_id, version="5", accepted_at=make.at(days=-10))
    async with storage.unit_of_work() as uow:
        for acceptance in (oldest, newest, middle):
            await uow.isa.save(acceptance)
        await uow.isa.save(make.isa(panel, "someone-else", accepted_at=make.at(days=1)))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.isa.latest(panel.id, member_id) == newest
        assert await uow.isa.latest(panel.id, "nobody") is None


async def test_isa_acceptances_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    acceptance = make.isa(mine, "shared-member-id")
    async with storage.unit_of_work() as uow:
        await uow.isa.save(acceptance)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.isa.latest(mine.id, "shared-member-id") == acceptance
        assert await uow.isa.latest(theirs.id, "shared-member-id") is None
