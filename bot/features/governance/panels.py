"""`panel`: the panels a person belongs to, the one they act for, and invitations.

Nobody is placed on a panel without accepting: a coordinator's `members` add (or CSV import)
makes an invitation, and the person joins or declines it here. Someone on several panels
chooses which one their private chat speaks for; every card they get says which panel it
concerns. These verbs touch only the caller's own membership rows, found by the Entra
object id Teams gives for the caller, never by ids in the card's data alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.errors import InvalidInput, NotAllowed
from bot.features.governance.commands import PANEL_CARD_OUT_OF_DATE, ChoosePanel
from bot.features.governance.views import my_panels, panels_view
from bot.kernel import audit
from bot.kernel.guard import PRIVATE, public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.panels import (
    render_panels,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card

NOT_INVITED = "There is no invitation of yours to that panel any more. Type panel."
JOINED = (
    "You joined {panel}. You act for it in this chat now. Read and accept its information "
    "sharing agreement to see case detail."
)
DECLINED = "You declined the invitation to {panel}. Nothing of it will reach you."


async def panels_card(
    deps: Deps, request: Request, notice: str | None = None, *, joined: bool = False
) -> Card:
    """The caller's panels and invitations."""
    aad = request.caller.aad_object_id or ""
    async with deps.uow() as uow:
        pairs = await my_panels(uow, aad) if aad else []
    current = request.panel.id if request.panel and request.member else None
    return render_panels(panels_view(pairs, current, notice, joined))


async def show(request: Request, deps: Deps) -> Reply:
    """`panel`: list the caller's panels and invitations."""
    return Reply(card=await panels_card(deps, request))


async def _own(uow: UnitOfWork, request: Request, choice: ChoosePanel) -> tuple[Panel, Member]:
    """The caller's own membership of the panel the card names."""
    aad = request.caller.aad_object_id
    if not aad:
        raise InvalidInput(PANEL_CARD_OUT_OF_DATE)
    panel = await uow.panels.get(choice.panel_id)
    member = await uow.members.by_aad(choice.panel_id, aad) if panel is not None else None
    if panel is None or member is None or not member.active:
        raise NotAllowed(NOT_INVITED)
    return panel, member


async def _choose(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """The person acts for this membership's panel from now on: the only one marked."""
    for other in await uow.members.memberships(member.aad_object_id):
        if other.id != member.id and other.chosen_at is not None:
            other.chosen_at = None
            await uow.members.save(other)
    member.chosen_at = now
    await uow.members.save(member)


async def choose(request: Request, deps: Deps) -> Reply:
    """Act for this panel from now on, in the private chat."""
    return await act_for(request, deps, ChoosePanel.of(request.data))


async def act_for(request: Request, deps: Deps, choice: ChoosePanel) -> Reply:
    """The caller acts for the chosen panel from now on."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        panel, member = await _own(uow, request, choice)
        if member.invited:
            raise NotAllowed("Join that panel first: its invitation is below. Type panel.")
        await _choose(uow, member, now)
        await uow.commit()
    chosen = Request(request.caller, request.where, panel, member)
    return Reply(card=await panels_card(deps, chosen, f"You act for {panel.name} now."))


async def join(request: Request, deps: Deps) -> Reply:
    """Accept an invitation: the person becomes a member and acts for that panel."""
    return await accept_invitation(request, deps, ChoosePanel.of(request.data))


async def accept_invitation(request: Request, deps: Deps, choice: ChoosePanel) -> Reply:
    """The caller joins the chosen panel, if invited, and acts for it."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        panel, member = await _own(uow, request, choice)
        if member.invited:
            member.invited = False
            await _choose(uow, member, now)
            actor = audit.Actor.member(member, request.where.kind.value)
            await audit.record(uow, actor, AuditVerb.UPDATE, "member", member.id, "joined", at=now)
            await uow.commit()
    joined = Request(request.caller, request.where, panel, member)
    card = await panels_card(deps, joined, JOINED.format(panel=panel.name), joined=True)
    return Reply(card=card)


async def decline(request: Request, deps: Deps) -> Reply:
    """Decline an invitation: the membership is withdrawn and nothing of the panel follows."""
    return await decline_invitation(request, deps, ChoosePanel.of(request.data))


async def decline_invitation(request: Request, deps: Deps, choice: ChoosePanel) -> Reply:
    """The caller's invitation to the chosen panel is withdrawn."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        panel, member = await _own(uow, request, choice)
        if not member.invited:
            raise NotAllowed(
                f"You are a member of {panel.name}; ask its coordinator to remove you."
            )
        member.active = False
        member.invited = False
        await uow.members.save(member)
        actor = audit.Actor.member(member, request.where.kind.value)
        await audit.record(uow, actor, AuditVerb.UPDATE, "member", member.id, "declined", at=now)
        await uow.commit()
    return Reply(card=await panels_card(deps, request, DECLINED.format(panel=panel.name)))


def register(router: Router) -> None:
    """Register `panel` and its buttons: each acts only on the caller's own memberships."""
    router.command(
        CommandSpec(
            name="panel",
            summary="Your panels: choose the one you act for; join or decline invitations.",
            handler=show,
            access=public(PRIVATE),
            usage="panel",
            aliases=("panels",),
            own_memberships=True,
        )
    )
    for verb, handler in (
        (Verb.PANEL_CHOOSE, choose),
        (Verb.PANEL_JOIN, join),
        (Verb.PANEL_DECLINE, decline),
    ):
        router.verb(VerbSpec(verb.value, handler, public(PRIVATE), own_memberships=True))
