"""What every turn needs before a command runs: who, which panel, seen before?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.delivery import ConversationKind, ConversationRef
from bot.domain.panel import Member, Panel
from bot.services.ports import UnitOfWork
from bot.services.router import Caller, Deps, Where


@dataclass(frozen=True)
class Resolved:
    panel: Panel | None
    member: Member | None


async def _resolve(uow: UnitOfWork, caller: Caller, where: Where) -> Resolved:
    if where.team_id:
        panel = await uow.panels.by_team(where.team_id)
        if panel is None:
            return Resolved(None, None)
        member = (
            await uow.members.by_aad(panel.id, caller.aad_object_id)
            if caller.aad_object_id
            else None
        )
        return Resolved(panel, member)
    if not caller.aad_object_id:
        return Resolved(None, None)
    memberships = [m for m in await uow.members.memberships(caller.aad_object_id) if m.active]
    if not memberships:
        return Resolved(None, None)
    panels = [await uow.panels.get(m.panel_id) for m in memberships]
    # Someone on several panels talks to the one listed first by name until they choose.
    pairs = sorted(
        ((p, m) for p, m in zip(panels, memberships, strict=True) if p is not None),
        key=lambda pair: pair[0].name,
    )
    if not pairs:
        return Resolved(None, None)
    return Resolved(*pairs[0])


async def resolve(deps: Deps, caller: Caller, where: Where) -> Resolved:
    """The panel this conversation belongs to and the caller's membership of it."""
    async with deps.uow() as uow:
        return await _resolve(uow, caller, where)


async def first_time(deps: Deps, key: str) -> bool:
    """Record an incoming activity; False when it was already acted on (a redelivery)."""
    async with deps.uow() as uow:
        fresh = await uow.activities.first_time(key, deps.clock.now())
        await uow.commit()
    return fresh


async def remember_conversation(
    deps: Deps,
    resolved: Resolved,
    where: Where,
    reference: dict[str, Any],
    service_url: str,
) -> None:
    """Keep the latest conversation reference so the bot can write here later."""
    panel = resolved.panel
    if panel is None:
        return
    member_id = resolved.member.id if resolved.member else None
    if where.kind is ConversationKind.PERSONAL and member_id is None:
        return
    async with deps.uow() as uow:
        existing = await uow.conversations.by_conversation(panel.id, where.conversation_id)
        ref = ConversationRef(
            panel_id=panel.id,
            kind=where.kind,
            conversation_id=where.conversation_id,
            member_id=member_id if where.kind is ConversationKind.PERSONAL else None,
            service_url=service_url,
            reference=reference,
            updated_at=deps.clock.now(),
        )
        if existing is not None:
            ref.id = existing.id
        if where.kind is ConversationKind.CHANNEL and panel.channel_id is None:
            panel.channel_id = where.conversation_id
            await uow.panels.save(panel)
        await uow.conversations.save(ref)
        await uow.commit()
