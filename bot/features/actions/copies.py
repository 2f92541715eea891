"""The action's card as the bot sends it: each copy queued is remembered (ActionCardCopy),
so that when the action changes, every copy shows its new state in place. New actions and
actions changed at a meeting reach their agency's contacts this way (the FEATURE's
subscribers), and so does a reminder of a single action (bot.features.actions.reminders).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.action import Action
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.panel import Member, Panel
from bot.domain.reminders import ActionCardCopy
from bot.features.actions.views import Lookup, card_for, contacts
from bot.kernel.localtime import local_day
from bot.kernel.ports import UnitOfWork
from cards.chair import action_assigned_title
from cards.kit import Card

# Copies of one action's card that are updated when it changes (newest first).
COPIES_UPDATED = 20


async def queue_private(
    uow: UnitOfWork,
    panel: Panel,
    member: Member,
    card: Card,
    *,
    key: str,
    now: datetime,
    not_before: datetime | None = None,
    text: str | None = None,
    update_of: str | None = None,
) -> OutgoingDelivery | None:
    """Queue a card for a member's private chat; None when `key` was queued before."""
    payload: dict[str, Any] = {"card": card, "text": text}
    if update_of is not None:
        payload["update_of"] = update_of
    delivery = OutgoingDelivery(
        panel_id=panel.id,
        key=key,
        recipient_member_id=member.id,
        payload=payload,
        not_before=not_before or now,
        created_at=now,
    )
    return delivery if await uow.outbox.enqueue(delivery) else None


async def send_action_card(
    uow: UnitOfWork,
    look: Lookup,
    action: Action,
    now: datetime,
    *,
    key: str,
    not_before: datetime | None = None,
    notice: str | None = None,
    reminder: str | None = None,
    title: str | None = None,
    text: str | None = None,
) -> int:
    """Queue the action's card to its agency's contacts (each once per `key`), and remember
    each row as a copy to update later; returns how many were queued."""
    panel = look.panel
    day = local_day(not_before or now, panel)
    queued = 0
    for contact in await contacts(uow, panel, look.members.values(), action.owner_agency_id, day):
        delivery_key = f"{key}:{contact.id}"
        delivery = OutgoingDelivery(
            panel_id=panel.id,
            key=delivery_key,
            recipient_member_id=contact.id,
            payload={},
            not_before=not_before or now,
            created_at=now,
        )
        card = await card_for(
            uow,
            look,
            contact,
            action,
            day,
            copy=delivery.id,
            notice=notice,
            reminder=reminder,
            title=title,
        )
        if card is None:
            continue
        delivery.payload = {"card": card, "text": text}
        if await uow.outbox.enqueue(delivery):
            await uow.actions.record_card(
                ActionCardCopy(
                    panel_id=panel.id,
                    action_id=action.id,
                    delivery_id=delivery.id,
                    member_id=contact.id,
                    created_at=now,
                )
            )
            queued += 1
    return queued


async def send_new_action_cards(
    uow: UnitOfWork, panel: Panel, actions: Sequence[Action], now: datetime
) -> int:
    """Each new action's card to its owner agency's contact (the meeting calls this as it
    records an action); returns how many were queued."""
    if not actions:
        return 0
    look = await Lookup.load(uow, panel, [a.case_id for a in actions])
    queued = 0
    for action in actions:
        case = look.cases.get(action.case_id)
        if case is None or action.owner_agency_id not in look.agencies:
            continue
        queued += await send_action_card(
            uow,
            look,
            action,
            now,
            key=f"action-assigned:{action.id}",
            title=action_assigned_title(case.reference),
            text=f"New action for {look.agency_name(action.owner_agency_id)} on {case.reference}",
        )
    return queued


async def action_changed(
    uow: UnitOfWork, panel: Panel, action: Action, now: datetime, *, what: str
) -> int:
    """An action changed at a meeting (carried forward, escalated, cancelled): every copy
    of its card shows the new state, and its agency's contact gets a card saying what
    changed. `what` is e.g. "Carried forward to Mon 11 Jan 2027". Returns the cards
    queued (updates included)."""
    look = await Lookup.load(uow, panel, [action.case_id])
    if action.case_id not in look.cases:
        return 0
    updated = await refresh_copies(uow, look, action, now)
    stamp = action.updates[-1].id if action.updates else now.isoformat()
    notice = f"Changed at the panel meeting: {what}"
    return updated + await send_action_card(
        uow, look, action, now, key=f"action-changed:{action.id}:{stamp}", notice=notice
    )


async def refresh_copies(
    uow: UnitOfWork,
    look: Lookup,
    action: Action,
    now: datetime,
    *,
    skip: str | None = None,
) -> int:
    """Queue an update of every card the bot sent for the action (but `skip`, the clicked
    one, which the click's answer replaces), each rendered for its own recipient."""
    stamp = action.updates[-1].id if action.updates else now.isoformat()
    day = local_day(now, look.panel)
    queued = 0
    for earlier in await uow.actions.card_deliveries(look.panel.id, action.id, COPIES_UPDATED):
        if earlier.id == skip or earlier.update_of is not None:
            continue
        if earlier.state in (DeliveryState.FAILED, DeliveryState.UNREACHABLE):
            continue
        member = look.members.get(earlier.recipient_member_id or "")
        if member is None:
            continue
        title = None
        if earlier.key.startswith("action-assigned:"):
            case = look.cases.get(action.case_id)
            title = action_assigned_title(case.reference) if case else None
        card = await card_for(uow, look, member, action, day, copy=earlier.id, title=title)
        if card is None:
            continue
        text = earlier.payload.get("text")
        if await queue_private(
            uow,
            look.panel,
            member,
            card,
            key=f"action-update:{earlier.id}:{stamp}",
            now=now,
            text=text if isinstance(text, str) else None,
            update_of=earlier.id,
        ):
            queued += 1
    return queued
