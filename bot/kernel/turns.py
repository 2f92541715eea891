"""What every turn needs before a command runs: who, which panel, seen before?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.domain.delivery import ConversationKind, ConversationRef
from bot.kernel.guard import MAX_ID
from bot.kernel.ports import AlreadyExists, UnitOfWork
from cards.kit import CARD_PANEL

if TYPE_CHECKING:
    from bot.domain.panel import Member, Panel
    from bot.kernel.router import Caller, Deps, Request, Where


# The longest Teams user id noted (Teams' are under 100 characters).
MAX_TEAMS_ID = 200


@dataclass(frozen=True)
class Resolved:
    panel: Panel | None
    member: Member | None
    # How many panels the person belongs to (to say on each card which one it concerns),
    # and how many invitations wait for them.
    panels: int = 0
    invitations: int = 0


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
        if member is not None and member.invited:
            member = None  # not a member until they accept
        return Resolved(panel, member, panels=1)
    if not caller.aad_object_id:
        return Resolved(None, None)
    every = [
        (panel, member)
        for member, panel in await uow.members.memberships_with_panels(caller.aad_object_id)
        if member.active
    ]
    invitations = sum(1 for _, m in every if m.invited)
    pairs = [(p, m) for p, m in every if not m.invited]
    if not pairs:
        return Resolved(None, None, invitations=invitations)
    # The panel the person chose last (`panel`); until they choose, the first by name.
    chosen = [pair for pair in pairs if pair[1].chosen_at is not None]
    if chosen:
        panel, member = max(chosen, key=lambda pair: pair[1].chosen_at or pair[0].created_at)
    else:
        panel, member = min(pairs, key=lambda pair: (pair[0].name, pair[0].id))
    return Resolved(panel, member, panels=len(pairs), invitations=invitations)


async def acting_for(deps: Deps, request: Request, data: Mapping[str, Any]) -> Request | None:
    """The request as its card's panel's; None when the card names a panel the caller may
    not act for.

    In a private chat a button answers for the panel its card came from
    (`cards.kit.CARD_PANEL`, stamped on every card sent there to someone on several panels
    and on every card queued for a member), not for the panel the person acts for now: so
    someone on several panels answers any card without first switching panel, and the panel
    they act for stays as it was. Without a stamp, or anywhere but a private chat, the
    request is as it came.

    The stamp is the client's to forge: it only chooses among the caller's own active
    memberships, found by the Entra object id Teams gives (as `panel` does).
    """
    wanted = data.get(CARD_PANEL)
    if request.where.kind is not ConversationKind.PERSONAL or wanted is None:
        return request
    if request.panel is not None and request.panel.id == wanted and request.member is not None:
        return request
    aad = request.caller.aad_object_id
    if not aad or not isinstance(wanted, str) or not 0 < len(wanted) <= MAX_ID:
        return None
    async with deps.uow() as uow:
        pairs = await uow.members.memberships_with_panels(aad)
    for member, panel in pairs:
        if panel.id == wanted and member.active and not member.invited:
            return replace(request, panel=panel, member=member)
    return None


def for_later(reference: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """A conversation reference fit for later posts: without the id of the message that
    started this turn (no use later, and it would make every turn look like a change), and,
    for a channel, addressed to the channel itself rather than the thread it came from."""
    kept = {k: v for k, v in reference.items() if k not in {"activityId", "activity_id"}}
    conversation = kept.get("conversation")
    if where.kind is ConversationKind.CHANNEL and isinstance(conversation, Mapping):
        kept["conversation"] = {**conversation, "id": where.conversation_id}
    return kept


def _says_the_same(kept: Mapping[str, Any], new: Mapping[str, Any], kind: ConversationKind) -> bool:
    """Whether a stored reference already says what a new one does. In a shared chat the
    reference also names whoever spoke last (`user`), which a post to the whole chat does
    not use: another speaker is no change. Otherwise every attendee acknowledging in a
    meeting's chat rewrote the chat's reference, one more write each on the database's one
    writer (`python -m bot bench`, burst_ack_p99_ms)."""
    if kind is ConversationKind.PERSONAL:
        return kept == new
    return {k: v for k, v in kept.items() if k != "user"} == {
        k: v for k, v in new.items() if k != "user"
    }


async def open_turn(
    deps: Deps,
    caller: Caller,
    where: Where,
    reference: dict[str, Any],
    service_url: str,
    *,
    activity_key: str | None = None,
    installing: bool = False,
) -> Resolved | None:
    """Record the incoming activity (`activity_key`), resolve the caller's panel and
    membership, and keep the conversation reference (written only when it changed), in one
    unit of work committed before the turn's work starts. None, with nothing else done, when
    the activity was acted on before (a redelivery)."""
    args = (deps, caller, where, reference, service_url, activity_key, installing)
    try:
        return await _open_once(*args)
    except AlreadyExists:
        # Two turns of one conversation at once (the first two messages of a new chat, on a
        # database that lets both read before either writes) each stored its reference;
        # the later one stored nothing and looks again, now that the reference is there.
        return await _open_once(*args)


async def _open_once(
    deps: Deps,
    caller: Caller,
    where: Where,
    reference: dict[str, Any],
    service_url: str,
    activity_key: str | None,
    installing: bool,
) -> Resolved | None:
    async with deps.uow() as uow:
        resolved = await _resolve(uow, caller, where)
        wrote = await _remember(uow, deps, resolved, where, reference, service_url, installing)
        wrote = await _note_teams_id(uow, resolved, caller) or wrote
        # Recorded last: on SQLite the first write takes the database's one write lock until
        # the commit, so the reads above do not hold up other turns' writes.
        if activity_key is not None:
            if not await uow.activities.first_time(activity_key, deps.clock.now()):
                return None  # the unit of work ends without a commit: nothing is kept
            wrote = True
        if wrote:
            await uow.commit()
    return resolved


async def _note_teams_id(uow: UnitOfWork, resolved: Resolved, caller: Caller) -> bool:
    """Note the id Teams gives the member in the bot's chats (a shared card's refresh names
    its readers by it: bot.kernel.views), written only when it is new; True when it wrote."""
    member = resolved.member
    mri = caller.teams_user_id
    if member is None or not mri or member.teams_user_id == mri or len(mri) > MAX_TEAMS_ID:
        return False
    await uow.members.note_teams_user_id(member.panel_id, member.id, mri)
    member.teams_user_id = mri
    return True


async def first_time(deps: Deps, key: str) -> bool:
    """Record an incoming activity; False when it was already acted on (a redelivery)."""
    async with deps.uow() as uow:
        fresh = await uow.activities.first_time(key, deps.clock.now())
        await uow.commit()
    return fresh


async def _remember(
    uow: UnitOfWork,
    deps: Deps,
    resolved: Resolved,
    where: Where,
    reference: dict[str, Any],
    service_url: str,
    installing: bool = False,
) -> bool:
    """Save the conversation reference if it is new or changed; True when it wrote."""
    panel = resolved.panel
    if panel is None:
        return False
    member_id = resolved.member.id if resolved.member else None
    if where.kind is ConversationKind.PERSONAL and member_id is None:
        return False
    reference = for_later(reference, where)
    kept_member = member_id if where.kind is ConversationKind.PERSONAL else None
    existing = await uow.conversations.by_conversation(panel.id, where.conversation_id)
    if (
        existing is not None
        and _says_the_same(existing.reference, reference, where.kind)
        and existing.service_url == service_url
        and existing.member_id == kept_member
    ):
        return False
    ref = ConversationRef(
        panel_id=panel.id,
        kind=where.kind,
        conversation_id=where.conversation_id,
        member_id=kept_member,
        service_url=service_url,
        reference=reference,
        updated_at=deps.clock.now(),
    )
    if existing is not None:
        ref.id = existing.id
    # The panel's channel is the one `setup` was typed in, or, for a panel made without
    # setup (the demo), the channel the bot was installed in: never whichever channel of
    # the team someone happens to speak in first.
    if where.kind is ConversationKind.CHANNEL and panel.channel_id is None and installing:
        panel.channel_id = where.conversation_id
        await uow.panels.save(panel)
    await uow.conversations.save(ref)
    return True
