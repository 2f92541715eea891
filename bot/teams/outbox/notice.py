"""Telling a panel's coordinators that the bot cannot reach a member in Teams."""

from __future__ import annotations

from datetime import datetime

from bot.domain.delivery import OutgoingDelivery
from bot.domain.panel import Role
from bot.kernel import notify
from bot.kernel.localtime import local_day
from bot.kernel.ports import UnitOfWork
from cards.delivery import render_member_unreachable


async def tell_coordinators(uow: UnitOfWork, delivery: OutgoingDelivery, now: datetime) -> None:
    """Queue, in the same unit of work as the row given up, a card to each of the panel's
    coordinators that the row's member cannot be reached: their name only, once a day at
    most (the day in the panel's time zone)."""
    member_id = delivery.recipient_member_id
    panel = await uow.panels.get(delivery.panel_id)
    if member_id is None or panel is None:
        return
    member = await uow.members.get(panel.id, member_id)
    if member is None:
        return
    day = local_day(now, panel).isoformat()
    card = render_member_unreachable(member.name)
    for coordinator in await uow.members.all(panel.id):
        if coordinator.id == member.id or not coordinator.has(Role.COORDINATOR):
            continue
        await notify.card_to_member(
            uow,
            panel_id=panel.id,
            member_id=coordinator.id,
            card=card,
            key=f"unreachable:{member.id}:{day}:{coordinator.id}",
            now=now,
        )
