"""The id Teams gives a member in the bot's chats (revision 0020_member_mri), on every
backend: noted on its own, it changes nothing else of the member, and a coordinator's save
of a copy loaded before does not forget it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.panel import Role
from tests.contract import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

MRI = "29:1a2b3c-invented-teams-user"


async def test_a_noted_teams_id_is_kept_and_changes_nothing_else(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    member = make.member(mine, roles=frozenset({Role.CHAIR}))
    async with storage.unit_of_work() as uow:
        await uow.members.save(member)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        stale = await uow.members.get(mine.id, member.id)
    async with storage.unit_of_work() as uow:
        await uow.members.note_teams_user_id(mine.id, member.id, MRI)
        await uow.members.note_teams_user_id(theirs.id, member.id, "29:another-panels")
        await uow.commit()
    async with storage.unit_of_work() as uow:
        noted = await uow.members.get(mine.id, member.id)
    assert noted is not None and noted.teams_user_id == MRI
    assert (noted.name, noted.roles, noted.active) == (member.name, member.roles, True)
    # The coordinator changes the member from a copy loaded before the note.
    assert stale is not None and stale.teams_user_id is None
    stale.roles = frozenset({Role.CHAIR, Role.COORDINATOR})
    async with storage.unit_of_work() as uow:
        await uow.members.save(stale)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        saved = await uow.members.get(mine.id, member.id)
        listed = await uow.members.all(mine.id)
    assert saved is not None
    assert (saved.teams_user_id, saved.roles) == (MRI, stale.roles)
    assert [m.teams_user_id for m in listed] == [MRI]
