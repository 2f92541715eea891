"""The gate in front of every team channel and group chat (rules in bot.domain.gate).

Replies: the Teams handler passes each reply for a shared chat through `guard_reply`; one the
gate turns away goes to the person's private chat instead, and the shared chat reads "I've
sent you the details in private". Queued posts: bot.kernel.notify.card_to_channel asks
`judge` and queues nothing the gate turns away. Both record what was withheld (the kinds of
finding, never the data) in the audit trail.

A card's kind is read from its title (every card's fallback text is its heading). A new card
meant for a channel is added to `SHARED_CARDS` below, and to bot.domain.gate's whitelist.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.common import new_id
from bot.domain.delivery import ConversationKind
from bot.domain.gate import Finding, GateVerdict, SharedKind, SharedPost, SubjectNames
from bot.domain.gate import judge as rule
from bot.domain.panel import DEFAULT_TIMEZONE, Panel
from bot.kernel import audit, views
from bot.kernel.notify import card_to_member
from bot.kernel.router import Deps, Reply, Request
from cards.agenda import agenda_title, announcement_title
from cards.chair import (
    CONFIDENTIALITY_TITLE,
    ENDED_TITLE,
    is_action_captured_title,
    is_chair_title,
)
from cards.chair import ISA_TITLE as CHAIR_ISA_TITLE
from cards.help import HELP_TITLE
from cards.kit import Card, build, card_text, paragraph
from cards.membership import SETUP_TITLE
from cards.schedule import (
    CALENDAR_TITLE,
    CANCELLED_TITLE,
    MOVED_TITLE,
    SCHEDULE_TITLE,
    URGENT_ANNOUNCEMENT_PREFIX,
)
from cards.triage import channel_notice_title
from cards.welcome import WELCOME_TITLE

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from bot.kernel.ports import UnitOfWork

log = logging.getLogger(__name__)

# Only a 1:1 chat is private: a channel, a group chat and a meeting's chat are read by all
# in them (a channel meeting's chat is a thread of the channel).
SHARED_CHATS = frozenset(
    {ConversationKind.CHANNEL, ConversationKind.GROUP_CHAT, ConversationKind.MEETING}
)
SENT_PRIVATELY = "I've sent you the details in private."
NOT_HERE = "I can't show that here. Ask me in our private chat."
PRIVATE_COPY = "You asked for this in a shared chat; here it is in private."

_NOTICE = re.compile(re.escape(channel_notice_title("")) + r"[A-Z]{1,6}-\d{4}-\d{1,6}")
SHARED_CARDS: tuple[tuple[SharedKind, Callable[[str], bool]], ...] = (
    (SharedKind.WELCOME, lambda title: title == WELCOME_TITLE),
    (SharedKind.HELP, lambda title: title == HELP_TITLE),
    (SharedKind.REFERRAL_NOTICE, lambda title: bool(_NOTICE.fullmatch(title))),
    (
        SharedKind.SCHEDULE,
        # an urgent meeting's announcement: its date and how many cases
        lambda title: (
            title in {SCHEDULE_TITLE, MOVED_TITLE, CANCELLED_TITLE, CALENDAR_TITLE}
            or title.startswith(URGENT_ANNOUNCEMENT_PREFIX)
        ),
    ),
    (SharedKind.AGENDA, lambda title: title.startswith(agenda_title(""))),
    (SharedKind.AGENDA_ANNOUNCEMENT, lambda title: title.startswith(announcement_title(""))),
    (SharedKind.PANEL_SETUP, lambda title: title == SETUP_TITLE),
    (SharedKind.MEETING_CONFIDENTIALITY, lambda title: title == CONFIDENTIALITY_TITLE),
    (SharedKind.CHAIR, is_chair_title),
    (SharedKind.MEETING_ENDED, lambda title: title == ENDED_TITLE),
    (SharedKind.ISA_PROMPT, lambda title: title == CHAIR_ISA_TITLE),
    (SharedKind.ACTION_CAPTURED, is_action_captured_title),
)


def kind_of(card: Card) -> SharedKind | None:
    """The card's kind among those shared chats may see, by its title; None otherwise."""
    title = card.get("fallbackText")
    if not isinstance(title, str):
        return None
    return next((kind for kind, matches in SHARED_CARDS if matches(title)), None)


def _filled_free_text(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "Input.Text" and isinstance(node.get("value"), str):
            found.append(node["value"])
        for value in node.values():
            found += _filled_free_text(value)
    elif isinstance(node, list):
        for item in node:
            found += _filled_free_text(item)
    return found


def shared_post(card: Card | None, text: str | None) -> SharedPost:
    """What the gate reads of a reply: the card's kind, visible text and filled fields."""
    visible = "\n".join(part for part in (text, card_text(card) if card else None) if part)
    return SharedPost(
        is_card=card is not None,
        kind=kind_of(card) if card is not None else None,
        visible_text=visible,
        filled_free_text=tuple(_filled_free_text(card)) if card is not None else (),
    )


async def judge(
    uow: UnitOfWork, panel: Panel | None, *, card: Card | None, text: str | None, now: datetime
) -> GateVerdict:
    """The gate's verdict on a post to one of `panel`'s shared chats (its subjects' names
    loaded from storage; a chat of no panel has none)."""
    names = await uow.referrals.subject_names(panel.id) if panel is not None else []
    zone = ZoneInfo(panel.timezone if panel else DEFAULT_TIMEZONE)
    return rule(shared_post(card, text), SubjectNames(names), now.astimezone(zone).date())


async def withheld(
    uow: UnitOfWork, panel: Panel, verdict: GateVerdict, *, what: str, at: datetime
) -> None:
    """Log and audit that a post was kept out of a shared chat (in `uow`)."""
    log.warning("shared-chat post withheld (%s): %s", what, verdict.describe())
    await audit.record(
        uow,
        audit.Actor(panel.id, "bot"),
        AuditVerb.REFUSE,
        "shared_post",
        None,
        f"{what} withheld from a shared chat: {verdict.describe()}",
        at=at,
    )


async def guard_reply(deps: Deps, request: Request, reply: Reply, *, invoke: bool = False) -> Reply:
    """The reply to post where the request came from: itself, or, in a team channel or
    group chat when the gate turns it away, a line saying it went to the private chat.

    One exemption, and only one: a shared view (bot.kernel.views) made for the caller, as
    the answer to their own card invoke (`invoke`), which Teams shows to them alone. The
    policy chose what it shows for that caller; only its base, which every reader of the
    chat sees when the clicked message is edited, is judged here as a shared post. Anywhere
    else a shared view posts its base, judged like any post."""
    if isinstance(reply, views.SharedReply):
        return await _shared_view(deps, request, reply, invoke=invoke)
    if request.where.kind not in SHARED_CHATS or (reply.card is None and not reply.text):
        return reply
    panel, member = request.panel, request.member
    now = deps.clock.now()
    async with deps.uow() as uow:
        verdict = (
            GateVerdict((Finding.NOT_FOR_SHARED_CHATS,))
            if reply.private
            else await judge(uow, panel, card=reply.card, text=reply.text, now=now)
        )
        if verdict.allowed:
            return reply
        if panel is None or member is None or not member.active:
            log.info("shared-chat reply withheld: %s", verdict.describe())
            return Reply(text=NOT_HERE)
        private = reply.card or build([paragraph(reply.text or "")], fallback=PRIVATE_COPY)
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            card=private,
            key=f"private-copy:{member.id}:{new_id()}",
            now=now,
            text=PRIVATE_COPY if reply.card is not None else None,
        )
        await audit.record(
            uow,
            request,
            AuditVerb.REFUSE,
            "shared_post",
            None,
            f"reply sent in private instead: {verdict.describe()}",
            at=now,
        )
        await uow.commit()
    return Reply(text=SENT_PRIVATELY)


async def _shared_view(
    deps: Deps, request: Request, reply: views.SharedReply, *, invoke: bool
) -> Reply:
    member_id = request.member.id if request.member is not None else None
    if request.where.kind not in SHARED_CHATS:
        return Reply(text=reply.text, card=reply.card)  # a private chat: the person alone
    if not invoke or not views.is_view_for(reply, member_id):
        # Posted as a message (or, which views never does, made for someone else): the base.
        return await guard_reply(deps, request, Reply(text=reply.text, card=reply.shared))
    if reply.edit and reply.shared is not None:
        now = deps.clock.now()
        async with deps.uow() as uow:
            verdict = await judge(uow, request.panel, card=reply.shared, text=None, now=now)
            if not verdict.allowed:
                if request.panel is not None:
                    await withheld(uow, request.panel, verdict, what="shared view", at=now)
                    await uow.commit()
                return replace(reply, edit=False, shared=None)
    return reply
