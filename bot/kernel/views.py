"""Shared views: one card in a shared chat, and each reader's own view of it.

A card the bot posts where several people read (the meeting's chat, the team channel) is
its *base* view: no personal data, and passed by the channel gate like every shared post.
It carries Teams' Universal Actions `refresh` with the MRIs of the panel members it
concerns (at most 60, the most Teams refreshes for): each of their clients asks the bot for
that person's own view (an `adaptiveCard/action` invoke of `Verb.VIEW_REFRESH`, trigger
"automatic"), and Teams shows the answer to that person alone. When more than 60 are
concerned, the base card has a "Show my view" button that asks the same by hand.

What a person's own view may show is decided here, by the policy table alone
(bot.domain.policy), never by the feature that draws it: `Act.RUN_MEETING` gives the
controls (the chair and the coordinator), `Act.VIEW_CASE_DETAIL` gives one case's detail
per case (a core agency's SPOC every case, an invited agency's SPOC the case it was invited
to), and anything else, including a missing agreement, gives the base. Each kind of shared
card (`SharedView`) declares how its subject is found from the card's data (in the
caller's panel, as every verb's is; in a shared chat, a meeting's cards only for the
meeting started in that chat) and how it renders for a `Grant`. Card data is the client's:
an unknown kind, ids of another panel or made up, someone of no panel: the base, or where
no base can be made, a line saying there is nothing more, which leaves the card as it is.

A view made here is a `SharedReply`, sealed so that nothing else can make one. The channel
gate (bot.kernel.channel_gate) lets its personal card through in a shared chat only as the
answer to the very person's own invoke, which Teams shows to them alone, and the base
everywhere else; the base must pass the gate like any shared post.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind, OutgoingDelivery
from bot.domain.panel import AgencyKind
from bot.domain.policy import Act, PolicySubject, Relation, decide
from bot.kernel import access, audit
from bot.kernel.guard import ANYWHERE, SHARED, Access, chat_meeting
from bot.kernel.router import Reply, VerbSpec
from cards.kit import with_refresh
from cards.verbs import MEETING_KEY, VIEW_KEY, Verb

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.case import Case
    from bot.domain.meeting import Meeting
    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Deps, Request, Router
    from cards.kit import Card

log = logging.getLogger(__name__)
NOTHING_MORE = "There is nothing more on this card for you."


@dataclass(frozen=True)
class Grant:
    """What the policy lets one reader see on a shared card: the controls (running the
    meeting), and the cases whose detail they may read. The base is neither."""

    member_id: str | None = None
    controls: bool = False
    cases: frozenset[str] = frozenset()

    @property
    def base(self) -> bool:
        return not self.controls and not self.cases


BASE = Grant()


@dataclass(frozen=True)
class Subject:
    """What a shared card is about, found in the caller's panel: its meeting (if any), the
    cases it may show detail of, and the ids its refresh carries to find it again."""

    meeting: Meeting | None
    cases: Sequence[Case] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


# What the reader alone sees besides (a notice of what their click did; on a refused
# form, what they typed): never put on the base.
Extras = dict[str, Any]
Locate = Callable[["UnitOfWork", "Panel", Mapping[str, Any]], Awaitable["Subject | None"]]
Render = Callable[["UnitOfWork", "Panel", Subject, Grant, Extras], Awaitable["Card"]]


@dataclass(frozen=True)
class SharedView:
    """One kind of shared card: its name (carried in the refresh's data), how its subject is
    found from that data, and how it renders for a grant (BASE: for everyone). A meeting's
    card (`of_meeting`) answers in a shared chat only for the meeting started there."""

    kind: str
    locate: Locate
    render: Render
    of_meeting: bool = True


_SEAL = object()


@dataclass(frozen=True)
class SharedReply(Reply):
    """A shared view as made by `answer`: `card` is the caller's own view, `shared` the base
    every reader of the chat sees; `edit` when the message clicked should now show that base
    to everyone (its readers' clients then refresh their own views)."""

    shared: Card | None = None
    edit: bool = False
    grant: Grant = BASE
    seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("only bot.kernel.views makes a shared view")


def is_view_for(reply: Reply, member_id: str | None) -> bool:
    """Whether `reply` is a shared view the views kernel made for this very member."""
    return isinstance(reply, SharedReply) and reply.grant.member_id == member_id


# --- the registry: one verb, many kinds -----------------------------------------------------

_KINDS: weakref.WeakKeyDictionary[Router, dict[str, SharedView]] = weakref.WeakKeyDictionary()

# The refresh shows nothing by itself: what it shows is decided by `grant_for` from the
# policy table, so that anyone (a stranger, a member without the agreement) gets the base
# rather than a refusal in place of the card.
REFRESH_ACCESS = Access(None, ANYWHERE)


def install(router: Router, *views: SharedView) -> None:
    """Register shared views (and, the first time for this router, the refresh verb)."""
    kinds = _KINDS.get(router)
    if kinds is None:
        kinds = {}
        _KINDS[router] = kinds

        async def refresh(request: Request, deps: Deps) -> Reply:
            kind = request.data.get(VIEW_KEY)
            view = kinds.get(kind) if isinstance(kind, str) else None
            if view is None:
                return Reply(text=NOTHING_MORE)
            return await answer(deps, request, view, request.data)

        router.verb(VerbSpec(Verb.VIEW_REFRESH.value, refresh, REFRESH_ACCESS))
    for view in views:
        if view.kind in kinds:
            raise ValueError(f"shared view '{view.kind}' is registered twice")
        kinds[view.kind] = view


def kinds_of(router: Router) -> list[str]:
    """The shared views registered on a router."""
    return sorted(_KINDS.get(router, {}))


# --- who sees what ---------------------------------------------------------------------------


async def grant_for(
    uow: UnitOfWork, panel: Panel, member: Member | None, subject: Subject
) -> Grant:
    """What the policy table lets `member` see of `subject`: asked once per act and case."""
    if member is None or not member.active or member.invited:
        return BASE
    policy = await access.subject_for(uow, panel, member)
    runs = decide(policy, Act.RUN_MEETING, Relation.NONE).allowed
    controls = subject.meeting is not None and runs
    cases: set[str] = set()
    for case in subject.cases:
        relations = await access.relations_to_case(uow, panel, member, case)
        if decide(policy, Act.VIEW_CASE_DETAIL, relations).allowed:
            cases.add(case.id)
    return Grant(member.id, controls, frozenset(cases))


async def audience(uow: UnitOfWork, panel: Panel, subject: Subject) -> list[str]:
    """The MRIs of the members the card concerns, those who run the meeting first: everyone
    the policy would show more than the base once they accept the agreement. An MRI is the
    id Teams gave the member when they last talked to the bot (noted on the member)."""
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    first: list[Member] = []
    then: list[Member] = []
    for member in await uow.members.all(panel.id):
        if not member.active or member.invited:
            continue
        policy = PolicySubject(
            member=True, active=True, roles=member.roles, agreement_accepted=True
        )
        if subject.meeting is not None and decide(policy, Act.RUN_MEETING, Relation.NONE).allowed:
            first.append(member)
            continue
        agency = agencies.get(member.agency_id or "")
        for case in subject.cases:
            relations = {Relation.NONE}
            if agency is not None and agency.active and agency.kind is AgencyKind.CORE:
                relations.add(Relation.CORE_AGENCY)
            if member.agency_id in case.invited_agency_ids:
                relations.add(Relation.INVITED_AGENCY)
            if decide(policy, Act.VIEW_CASE_DETAIL, relations).allowed:
                then.append(member)
                break
    ordered = sorted(first, key=lambda m: m.name) + sorted(then, key=lambda m: m.name)
    known = {m.id: m.teams_user_id for m in ordered if m.teams_user_id}
    if len(known) < len(ordered):
        # Not yet noted (they have not talked to the bot since revision 0020): the user of
        # their 1:1 chat's stored reference, as a turn there kept it.
        chats = await uow.conversations.of_kind(panel.id, ConversationKind.PERSONAL)
        aad = {m.id: m.aad_object_id for m in ordered}
        for ref in chats:
            found = _user_id(ref.reference) if ref.member_id in aad else None
            # A chat the bot opened itself names the person by their Entra id: no MRI.
            if ref.member_id and found and found != aad[ref.member_id]:
                known.setdefault(ref.member_id, found)
    return [mri for m in ordered if (mri := known.get(m.id))]


def _user_id(reference: Mapping[str, Any]) -> str | None:
    user = reference.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) and found else None


# --- answering -------------------------------------------------------------------------------


async def _subject(
    uow: UnitOfWork, request: Request, view: SharedView, data: Mapping[str, Any], now: datetime
) -> Subject | None:
    panel = request.panel
    if panel is None:
        return None
    try:
        subject = await view.locate(uow, panel, data)
    except ValueError:
        return None
    if subject is None:
        return None
    if view.of_meeting and request.where.kind in SHARED:
        # In a shared chat a meeting's cards speak only of the meeting started there.
        here = await chat_meeting(uow, panel, request.where.conversation_id, now)
        if here is None or subject.meeting is None or subject.meeting.id != here.id:
            return None
    return subject


async def answer(
    deps: Deps,
    request: Request,
    view: SharedView,
    data: Mapping[str, Any],
    *,
    extras: Extras | None = None,
    base_extras: Extras | None = None,
    edit: bool = False,
) -> Reply:
    """The caller's own view of a shared card and the base everyone sees, each carrying the
    refresh; every case shown in detail is audited as viewed. A line saying there is
    nothing more when the card's subject is not the caller's to find. `extras` are the
    caller's alone (what their click did); `base_extras` go on the base, which every reader
    sees (and the gate judges)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        subject = await _subject(uow, request, view, data, now)
        panel = request.panel
        if subject is None or panel is None:
            return Reply(text=NOTHING_MORE)
        grant = await grant_for(uow, panel, request.member, subject)
        base = await view.render(uow, panel, subject, BASE, dict(base_extras or {}))
        own = (
            await view.render(uow, panel, subject, grant, dict(extras or {}))
            if extras or not grant.base
            else base
        )
        users = await audience(uow, panel, subject)
        refresh_data = {VIEW_KEY: view.kind, **subject.data}
        own_card = with_refresh(own, Verb.VIEW_REFRESH.value, refresh_data, users)
        base_card = with_refresh(base, Verb.VIEW_REFRESH.value, refresh_data, users)
        if grant.cases and request.member is not None:
            actor = audit.Actor.member(request.member, request.where.kind.value)
            for case_id in sorted(grant.cases):
                await audit.record(
                    uow, actor, AuditVerb.VIEW, "case", case_id, f"shared view {view.kind}", at=now
                )
            await uow.commit()
    return SharedReply(card=own_card, shared=base_card, edit=edit, grant=grant, seal=_SEAL)


async def base_card(uow: UnitOfWork, panel: Panel, view: SharedView, subject: Subject) -> Card:
    """The base of a shared card, with its refresh: what a post to a shared chat carries."""
    return await refreshed(
        uow, panel, view, subject, await view.render(uow, panel, subject, BASE, {})
    )


async def refreshed(
    uow: UnitOfWork, panel: Panel, view: SharedView, subject: Subject, base: Card
) -> Card:
    """A base the feature drew itself (it passes the gate where it is posted), with the
    refresh that brings each member concerned their own view of it."""
    users = await audience(uow, panel, subject)
    return with_refresh(base, Verb.VIEW_REFRESH.value, {VIEW_KEY: view.kind, **subject.data}, users)


async def post(
    uow: UnitOfWork,
    panel: Panel,
    view: SharedView,
    subject: Subject,
    *,
    conversation_id: str,
    key: str,
    now: datetime,
) -> bool:
    """Queue the base of a shared card for one of the panel's shared chats (the meeting's
    chat), if the gate lets it; False when it does not, or the chat is not known."""
    # Imported here: the gate reads this module's SharedReply.
    from bot.kernel import channel_gate, notify

    card = await base_card(uow, panel, view, subject)
    verdict = await channel_gate.judge(uow, panel, card=card, text=None, now=now)
    if not verdict.allowed:
        await channel_gate.withheld(uow, panel, verdict, what=f"shared view {view.kind}", at=now)
        return False
    ref = await uow.conversations.by_conversation(panel.id, conversation_id)
    if ref is None or ref.kind is ConversationKind.PERSONAL:
        return False
    notify.note_queued(key)
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


def meeting_data(meeting: Meeting) -> dict[str, Any]:
    """The refresh data naming a meeting."""
    return {MEETING_KEY: meeting.id}
