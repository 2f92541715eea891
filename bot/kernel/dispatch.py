"""Run a command or a card verb for a request once the guard has let it through.

Every command and verb is checked by `bot.kernel.guard.authorise` against its declared
`Access` before its handler runs; every refusal is recorded in the panel's audit trail (or,
for a caller of no panel in a chat of no panel, in the log) and answered plainly. When the
only thing missing is the current information sharing agreement, the answer is the
agreement to accept, and accepting it runs what was asked again (through this same check).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.policy import Act, Refusal
from bot.kernel import access, audit, turns
from bot.kernel.guard import Access, Allowed, Asked, Refused, authorise, replies_in_private
from bot.kernel.router import Deps, Handler, Reply, Request, Router
from bot.observability import logs
from cards.kit import concerning, stamped
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.ports import UnitOfWork

log = logging.getLogger(__name__)

NOT_AN_ADMIN = (
    "Only the deployment's administrators can make a team a panel. Ask your council's IT "
    "team to set it up."
)
NOT_YOUR_PANELS_CARD = (
    "This card is from a panel you are not a member of any more. Type panel to see yours."
)
# Verbs that accepting the agreement may run next (bot.features.governance.commands.NEXT_VERBS).
_RESUMABLE = frozenset({Verb.INFO_OPEN.value})


async def run_command(router: Router, request: Request, name: str, args: str, deps: Deps) -> Reply:
    """Run a typed command if the guard lets the caller use it here; refuse plainly (and
    audited) otherwise. A word that names no command goes to the router's `otherwise`,
    with all that was typed as its arguments."""
    if not router.knows(name):
        args = f"{name} {args}".strip()
    spec = router.command_for(name)
    logs.note_command(spec.name, args)
    next_step = {"verb": Verb.COMMAND.value, "command": f"{spec.name} {args}".strip()[:200]}
    checked = await _check(spec.access, request, deps, spec.name, args, {}, next_step)
    if isinstance(checked, Reply):
        return of_panel(request, checked)
    reply = await _run(spec.handler, replace(request, args=args, data=checked), deps, spec.name)
    reply = _kept_private(spec.access, request, args, reply)
    return reply if spec.own_memberships else of_panel(request, reply)


async def run_verb(
    router: Router, request: Request, verb: str, data: Mapping[str, Any], deps: Deps
) -> Reply:
    """Run a card button's verb with the data the card carried, if the guard lets it."""
    if not verb or len(verb) > 64:
        raise InvalidInput("This card's button sent nothing I understand. Type help.")
    spec = router.find_verb(verb)
    logs.note_command(verb, "", data)
    if not spec.own_memberships:
        request = await _for_card(request, data, deps, verb)
    next_step = {**data, "verb": verb} if verb in _RESUMABLE else spec.access.resume
    checked = await _check(spec.access, request, deps, verb, "", dict(data), next_step)
    if isinstance(checked, Reply):
        return of_panel(request, checked)
    reply = await _run(spec.handler, replace(request, data=checked), deps, verb)
    reply = _kept_private(spec.access, request, "", reply)
    return reply if spec.own_memberships else of_panel(request, reply)


async def _for_card(request: Request, data: Mapping[str, Any], deps: Deps, verb: str) -> Request:
    """The request as the clicked card's panel's (bot.kernel.turns.acting_for); a card
    naming a panel the caller is not an active member of is refused, audited in the panel
    they act for, before anything runs."""
    acting = await turns.acting_for(deps, request, data)
    if acting is not None:
        return acting
    async with deps.uow() as uow:
        await _record(uow, request, deps, "command", verb, f"{verb}: card of another panel")
    raise NotAllowed(NOT_YOUR_PANELS_CARD, audited=True)


def of_panel(request: Request, reply: Reply) -> Reply:
    """Someone on several panels reads on every card which panel it concerns; in their
    private chat its buttons carry that panel, so that they answer for it whichever panel
    the person acts for when they click (bot.kernel.turns.acting_for)."""
    if request.panels < 2 or request.panel is None or reply.card is None:
        return reply
    card = concerning(reply.card, request.panel.name)
    if request.where.kind is ConversationKind.PERSONAL:
        card = stamped(card, request.panel.id)
    return replace(reply, card=card)


def _kept_private(access_: Access, request: Request, args: str, reply: Reply) -> Reply:
    """A reply showing case detail, asked for in a shared chat, goes to the person in
    private whatever it looks like (bot.kernel.channel_gate sends it)."""
    if replies_in_private(access_.act_for(args), request.where.kind):
        return replace(reply, private=True)
    return reply


async def _run(handler: Handler, request: Request, deps: Deps, name: str) -> Reply:
    """Run the handler; a refusal it makes itself (a finer rule of its own) is audited
    here unless it was already, so that no refusal goes unrecorded."""
    try:
        return await handler(request, deps)
    except NotAllowed as refusal:
        if not refusal.audited:
            async with deps.uow() as uow:
                await _record(uow, request, deps, "command", name, f"{name}: refused")
            refusal.audited = True
        raise


async def permit(access_: Access, request: Request, deps: Deps, name: str) -> Reply | None:
    """Check something that is not a registered command (a file sent to the bot) as if it
    were one: None when allowed, else the agreement card; raises the refusal."""
    checked = await _check(access_, request, deps, name, "", {}, None)
    return checked if isinstance(checked, Reply) else None


async def _check(
    access_: Access,
    request: Request,
    deps: Deps,
    name: str,
    args: str,
    data: Mapping[str, Any],
    next_step: Mapping[str, Any] | None,
) -> dict[str, Any] | Reply:
    """The data to run with, or the agreement card to answer with; raises the refusal."""
    asked = Asked(
        panel=request.panel,
        member=request.member,
        kind=request.where.kind,
        conversation_id=request.where.conversation_id,
        args=args,
        data=data,
    )
    now = deps.clock.now()
    async with deps.uow() as uow:
        try:
            verdict = await authorise(uow, access_, asked, name=name, now=now)
        except (NotFound, InvalidInput) as err:
            # Never the ids it was sent: they may be another panel's, or made up.
            why = "not found" if isinstance(err, NotFound) else "invalid input"
            await _record(uow, request, deps, "command", name, why)
            raise
        if isinstance(verdict, Allowed):
            if access_.act_for(args) is Act.CREATE_PANEL:
                caller = (request.caller.aad_object_id or "").lower()
                if not caller or caller not in deps.admins:
                    await _record(uow, request, deps, "command", name, "create_panel: not admin")
                    raise NotAllowed(NOT_AN_ADMIN)
            return dict(verdict.data)
        await _refuse(uow, request, deps, verdict)
        decision = verdict.decision
        if (
            decision is not None
            and decision.refusal is Refusal.AGREEMENT
            and request.panel is not None
            and request.member is not None
        ):
            card = await access.agreement_card(
                uow, request.panel, request.member, reason=decision.reason, next_step=next_step
            )
            return Reply(card=card)
    raise NotAllowed(verdict.message, audited=True)


async def _refuse(uow: UnitOfWork, request: Request, deps: Deps, verdict: Refused) -> None:
    await _record(uow, request, deps, verdict.entity, verdict.entity_id, verdict.detail())


async def _record(
    uow: UnitOfWork, request: Request, deps: Deps, entity: str, entity_id: str | None, detail: str
) -> None:
    """A refusal in the panel's audit trail, committed; in the log when no panel is known."""
    if request.panel is None:
        log.warning("refused (no panel): %s", detail)
        return
    await audit.record(
        uow, request, AuditVerb.REFUSE, entity, entity_id, detail, at=deps.clock.now()
    )
    await uow.commit()
