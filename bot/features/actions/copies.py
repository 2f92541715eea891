"""The action's card as the bot sends it: each copy queued is remembered (ActionCardCopy),
so that when the action changes, every copy shows its new state in place. New actions and
actions changed at a meeting reach their agency's contacts this way (the FEATURE's
subscribers), and so does a reminder of a single action (bot.features.actions.reminders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.common import new_id
from bot.domain.delivery import DeliveryState
from bot.domain.reminders import ActionCardCopy
from bot.features.actions.views import Lookup, card_for, contacts
from bot.kernel.localtime import local_day
from bot.kernel.notify import card_to_member, private_card
from cards.chair import action_assigned_title

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from bot.domain.action import Action
    from bot.domain.case import Case
    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork

# Copies of one action's card that are updated when it changes (newest first).
COPIES_UPDATED = 20
# How the key of a new action's card begins: its updates keep the "New action" heading.
ASSIGNED_KEY = "action-assigned:"


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
        if await queue_copy(
            uow,
            look,
            contact,
            action,
            day,
            key=f"{key}:{contact.id}",
            now=now,
            not_before=not_before,
            text=text,
            notice=notice,
            reminder=reminder,
            title=title,
        ):
            queued += 1
    return queued


async def queue_copy(
    uow: UnitOfWork,
    look: Lookup,
    member: Member,
    action: Action,
    day: date,
    *,
    key: str,
    now: datetime,
    text: str | None,
    not_before: datetime | None = None,
    notice: str | None = None,
    reminder: str | None = None,
    title: str | None = None,
) -> bool:
    """Queue the action's card for one member and remember the row as a copy to update
    later; False when they may not see it or `key` was queued before."""
    # The card names the row it is sent as (`copy`), so the row's id comes first.
    delivery_id = new_id()
    card = await card_for(
        uow,
        look,
        member,
        action,
        day,
        copy=delivery_id,
        notice=notice,
        reminder=reminder,
        title=title,
    )
    if card is None:
        return False
    queued = await private_card(
        uow,
        panel_id=look.panel.id,
        member_id=member.id,
        card=card,
        key=key,
        now=now,
        text=text,
        not_before=not_before,
        delivery_id=delivery_id,
    )
    if queued is None:
        return False
    await uow.actions.record_card(
        ActionCardCopy(
            panel_id=look.panel.id,
            action_id=action.id,
            delivery_id=queued.id,
            member_id=member.id,
            created_at=now,
        )
    )
    return True


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
            key=f"{ASSIGNED_KEY}{action.id}",
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


async def case_changed(uow: UnitOfWork, panel: Panel, case: Case, now: datetime) -> int:
    """The case's lead agency or risk level changed: every copy of the card of each of its
    actions is updated in place, each for its own recipient. Returns the updates queued."""
    look = await Lookup.load(uow, panel, [case.id])
    look.cases[case.id] = case  # as changed in this unit of work
    queued = 0
    for action in await uow.actions.for_case(panel.id, case.id):
        queued += await refresh_copies(uow, look, action, now)
    return queued


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
        if earlier.key.startswith(ASSIGNED_KEY):
            case = look.cases.get(action.case_id)
            title = action_assigned_title(case.reference) if case else None
        card = await card_for(uow, look, member, action, day, copy=earlier.id, title=title)
        if card is None:
            continue
        text = earlier.payload.get("text")
        if await card_to_member(
            uow,
            panel_id=look.panel.id,
            member_id=member.id,
            card=card,
            key=f"action-update:{earlier.id}:{stamp}",
            now=now,
            text=text if isinstance(text, str) else None,
            update_of=earlier.id,
        ):
            queued += 1
    return queued
