"""What the governance tests share: the demo panel's people, talking to the bot as one of
them, and the Teams activities the other helpers do not build. The bot is started by
tests/support/world.py and cards are read with tests/support/cards.py.

Every person is invented. The demo panel (bot.demo): Priya Raman coordinator,
Tom Okafor chair and Police SPOC, Gemma Hartley Housing SPOC, Daniel Reyes Housing deputy
who accepted only version 1 of the agreement (version 2 is current), Aisha Bello referrer
(Victim Support) who never accepted it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.demo import DEMO_TEAM
from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.panel import IsaAcceptance, Member, Panel, Role
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support.activities import TENANT, _base

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

PRIYA = acts.PRIYA
TOM = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d02"
GEMMA = acts.GEMMA
DANIEL = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d04"
AISHA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05"
STRANGER = acts.STRANGER
# Added by the tests that need them: a SPOC of an agency uninvolved in CM-2026-014, and
# one of the agency invited to it.
OLA = "7b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a11"
FARID = "7b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a12"
NAMES = {
    PRIYA: "Priya Raman",
    TOM: "Tom Okafor",
    GEMMA: "Gemma Hartley",
    DANIEL: "Daniel Reyes",
    AISHA: "Aisha Bello",
    STRANGER: "Sam Stranger",
    OLA: "Ola Nwosu",
    FARID: "Farid Haddad",
}
CASE = f"CM-{NOW.year}-014"
HEARD_CASE = f"CM-{NOW.year}-013"
CASE_REFERRAL = f"RF-{NOW.year}-0047"


def say(bot: BotUnderTest, text: str, aad: str = PRIYA) -> dict[str, Any]:
    """A message typed in `aad`'s personal chat."""
    return acts.personal_message(bot.service_url, text, aad=aad, name=NAMES.get(aad, "Someone"))


async def post(bot: BotUnderTest, text: str, aad: str = PRIYA) -> None:
    response = await bot.post(say(bot, text, aad))
    assert response.status in (200, 201)


async def invoke(
    bot: BotUnderTest, verb: str, data: dict[str, Any], aad: str = PRIYA
) -> dict[str, Any]:
    """An Action.Execute click in `aad`'s personal chat; the invoke response's body."""
    response = await bot.post(
        acts.card_invoke(bot.service_url, verb, data, aad=aad, name=NAMES.get(aad, "Someone"))
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


def group_message(service_url: str, text: str, *, aad: str, name: str) -> dict[str, Any]:
    """A message in a group chat (no team) that mentions the bot."""
    activity = _base(
        service_url,
        aad=aad,
        name=name,
        conversation={
            "id": "19:group-chat@thread.v2",
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": TENANT,
        },
        channel_data={"tenant": {"id": TENANT}},
        activity_id=None,
    )
    activity.update({"type": "message", "text": f"<at>Community MARAC</at> {text}"})
    return activity


def channel_message(
    service_url: str, text: str, *, aad: str, name: str, team: str = DEMO_TEAM
) -> dict[str, Any]:
    """A message in a team's General channel that mentions the bot (any team)."""
    activity = acts.channel_message(service_url, text, aad=aad, name=name)
    activity["conversation"]["id"] = f"{team};messageid=1700000000001"
    activity["channelData"]["team"] = {"id": team, "name": "Some team"}
    activity["channelData"]["channel"] = {"id": team, "name": "General"}
    return activity


async def demo_panel(storage: Storage) -> Panel:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(DEMO_TEAM)
    assert panel is not None
    return panel


async def last_refusal(storage: Storage, aad: str) -> AuditEvent:
    """The demo panel's newest audit event, which must be `aad`'s refusal."""
    panel = await demo_panel(storage)
    async with storage.unit_of_work() as uow:
        (newest, *_) = await uow.audit.recent(panel.id)
    assert newest.verb is AuditVerb.REFUSE, newest
    assert newest.actor_aad_object_id == aad, newest
    return newest


async def member_of(storage: Storage, aad: str) -> Member:
    panel = await demo_panel(storage)
    async with storage.unit_of_work() as uow:
        member = await uow.members.by_aad(panel.id, aad)
    assert member is not None
    return member


async def add_member(
    storage: Storage, aad: str, agency: str, roles: frozenset[Role], *, accepted: str | None
) -> Member:
    """A member of the demo panel in `agency`, who accepted agreement version `accepted`."""
    panel = await demo_panel(storage)
    async with storage.unit_of_work() as uow:
        found = await uow.agencies.by_name(panel.id, agency)
        assert found is not None
        member = Member(
            panel_id=panel.id, aad_object_id=aad, name=NAMES[aad], agency_id=found.id, roles=roles
        )
        await uow.members.save(member)
        if accepted:
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id, member_id=member.id, version=accepted, accepted_at=NOW
                )
            )
        await uow.commit()
    return member
