"""Queue cards for people and channels, in the same unit of work as the change they report.

A queued card is a row in the outbox (transactional outbox): it is sent only if the change
commits, and the dispatcher in bot.teams delivers it, retrying where Teams allows.
"""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from bot.domain.common import new_id
from bot.domain.delivery import ConversationKind, OutgoingDelivery
from bot.domain.panel import Panel, Role
from bot.kernel.localtime import local_day
from cards.delivery import render_member_unreachable
from cards.kit import concerning, stamped

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from bot.kernel.ports import UnitOfWork

# What the current turn queued (`watch`): the Teams handler wakes the delivery after a turn
# only when it queued something; otherwise its next tick is soon enough, and most turns
# (`agenda`, `help`, a click that changes one record) queue nothing.
_queued: ContextVar[list[str] | None] = ContextVar("marac_queued", default=None)


def watch() -> Callable[[], bool]:
    """Note from now on, in this context (the turn), what is queued; the function returned
    says whether anything was."""
    noted: list[str] = []
    _queued.set(noted)
    return lambda: bool(noted)


def _note(key: str) -> None:
    noted = _queued.get()
    if noted is not None:
        noted.append(key)


def note_queued(key: str) -> None:
    """Note that the turn queued a row of its own making (bot.kernel.views.post)."""
    _note(key)


async def card_to_member(
    uow: UnitOfWork,
    *,
    panel_id: str,
    member_id: str,
    card: dict[str, Any],
    key: str,
    now: datetime,
    text: str | None = None,
    not_before: datetime | None = None,
    update_of: str | None = None,
) -> bool:
    """Queue a card for a member's private chat; False if `key` was queued before."""
    queued = await private_card(
        uow,
        panel_id=panel_id,
        member_id=member_id,
        card=card,
        key=key,
        now=now,
        text=text,
        not_before=not_before,
        update_of=update_of,
    )
    return queued is not None


async def private_card(
    uow: UnitOfWork,
    *,
    panel_id: str,
    member_id: str,
    card: dict[str, Any],
    key: str,
    now: datetime,
    text: str | None = None,
    not_before: datetime | None = None,
    update_of: str | None = None,
    delivery_id: str | None = None,
) -> OutgoingDelivery | None:
    """Queue a card for a member's private chat: the one way every feature does it. None
    when `key` was queued before.

    `key` names the message and its recipient (e.g. "inforeq:<request id>:<member id>"), so
    the same message is never queued twice. `not_before` holds it back (quiet hours);
    `update_of` names an earlier delivery whose card this one replaces in place.
    `delivery_id` is the row's id, for a card that names the row it is sent as (made with
    bot.domain.common.new_id before the card is rendered; a fresh one when None).
    """
    # Its buttons answer for this panel whichever one the member acts for when they click
    # (bot.kernel.turns.acting_for); someone on several panels reads which one it concerns.
    name = (await _several_panels(uow, panel_id)).get(member_id)
    if name is not None:
        card = concerning(card, name)
    payload: dict[str, Any] = {"card": stamped(card, panel_id), "text": text}
    if update_of is not None:
        payload["update_of"] = update_of
    delivery = OutgoingDelivery(
        id=delivery_id or new_id(),
        panel_id=panel_id,
        key=key,
        recipient_member_id=member_id,
        payload=payload,
        not_before=not_before or now,
        created_at=now,
    )
    _note(key)
    return delivery if await uow.outbox.enqueue(delivery) else None


# Per unit of work and panel: the panel's name for each of its members on several panels.
# Looked up once, so that a fan-out of a thousand cards costs one statement, not a thousand
# (a membership joined meanwhile in another turn is named from the next unit of work on).
_SEVERAL: weakref.WeakKeyDictionary[Any, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()


async def _several_panels(uow: UnitOfWork, panel_id: str) -> dict[str, str]:
    """The panel's name for each of its members whose person is on several panels."""
    known = _SEVERAL.setdefault(uow, {})
    names = known.get(panel_id)
    if names is None:
        ids = await uow.members.on_several_panels(panel_id)
        panel = await uow.panels.get(panel_id) if ids else None
        names = {member_id: panel.name for member_id in ids} if panel is not None else {}
        known[panel_id] = names
    return names


# Payload kinds besides a card (bot.teams.replies.payload_activity makes the Teams message):
# a file offered through Teams' file consent card, and the file sent, as Teams shows one.
FILE_CONSENT = "file_consent"
FILE_INFO = "file_info"
# The member's answer to a file consent card, as the Teams layer hands it to the feature's
# verb (each value the client's: checked there): the offer's id (all the card's context
# holds), "accept" or "decline", and, accepted, where Teams wants the bytes and the file
# it made.
OFFER_ID = "offer_id"
ANSWER = "answer"
UPLOAD_URL = "upload_url"
CONTENT_URL = "content_url"
FILE_NAME = "file_name"
UNIQUE_ID = "unique_id"
FILE_TYPE = "file_type"


async def file_offer_to_member(
    uow: UnitOfWork,
    *,
    panel_id: str,
    member_id: str,
    file_name: str,
    description: str,
    size: int,
    offer_id: str,
    key: str,
    now: datetime,
    delivery_id: str,
    text: str | None = None,
) -> bool:
    """Queue a file consent card for a member's private chat: Teams asks them whether to
    save the file in their OneDrive and hands the bot `offer_id` back with their answer
    (never anything else of the offer: it is the client's to change). False if `key` was
    queued before."""
    return await _private(
        uow,
        panel_id,
        member_id,
        {
            FILE_CONSENT: {
                "name": file_name,
                "description": description,
                "size": size,
                "offer_id": offer_id,
                # The answer comes back for this panel, whichever the member acts for then.
                "panel_id": panel_id,
            },
            "text": text,
        },
        key,
        now,
        delivery_id,
    )


async def file_sent_to_member(
    uow: UnitOfWork,
    *,
    panel_id: str,
    member_id: str,
    file_name: str,
    content_url: str,
    unique_id: str,
    file_type: str,
    key: str,
    now: datetime,
) -> bool:
    """Queue, for a member's private chat, the card Teams shows for a file saved in their
    OneDrive (opened from the chat). False if `key` was queued before."""
    return await _private(
        uow,
        panel_id,
        member_id,
        {
            FILE_INFO: {
                "name": file_name,
                "content_url": content_url,
                "unique_id": unique_id,
                "file_type": file_type,
            },
            "text": None,
        },
        key,
        now,
        None,
    )


async def _private(
    uow: UnitOfWork,
    panel_id: str,
    member_id: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
    delivery_id: str | None,
) -> bool:
    delivery = OutgoingDelivery(
        id=delivery_id or new_id(),
        panel_id=panel_id,
        key=key,
        recipient_member_id=member_id,
        payload=payload,
        not_before=now,
        created_at=now,
    )
    _note(key)
    return await uow.outbox.enqueue(delivery)


async def card_to_channel(
    uow: UnitOfWork, *, panel: Panel, card: dict[str, Any], key: str, now: datetime
) -> bool:
    """Queue a card for the panel's team channel; False if queued before or no channel known.

    Channel cards must carry no personal data (case references, risk levels, counts only):
    the channel gate (bot.kernel.channel_gate) turns away any other card, and nothing is
    queued (False) but a note in the audit trail.
    """
    # Imported here: the gate queues its private copies through this module.
    from bot.kernel import channel_gate

    if panel.channel_id is None:
        return False
    verdict = await channel_gate.judge(uow, panel, card=card, text=None, now=now)
    if not verdict.allowed:
        await channel_gate.withheld(uow, panel, verdict, what=f"channel card {key[:60]}", at=now)
        return False
    ref = await uow.conversations.by_conversation(panel.id, panel.channel_id)
    if ref is None or ref.kind is not ConversationKind.CHANNEL:
        return False
    _note(key)
    return await uow.outbox.enqueue(
        OutgoingDelivery(
            panel_id=panel.id,
            key=key,
            conversation_ref_id=ref.id,
            payload={"card": card, "text": None, "conversation_id": ref.conversation_id},
            not_before=now,
            created_at=now,
        )
    )


async def member_unreachable(uow: UnitOfWork, delivery: OutgoingDelivery, now: datetime) -> None:
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
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=coordinator.id,
            card=card,
            key=f"unreachable:{member.id}:{day}:{coordinator.id}",
            now=now,
        )
