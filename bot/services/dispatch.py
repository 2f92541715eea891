"""Run a command or a card verb for a request, checking who may use it and where."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, NotAllowed
from bot.services import audit
from bot.services.router import Deps, Reply, Request, Router

_WHERE = {
    ConversationKind.PERSONAL: "our private chat",
    ConversationKind.CHANNEL: "a team channel",
    ConversationKind.GROUP_CHAT: "a group chat",
    ConversationKind.MEETING: "the meeting chat",
}


async def run_command(router: Router, request: Request, name: str, args: str, deps: Deps) -> Reply:
    """Run a typed command if the caller may use it here; refuse plainly (and audited, when
    the panel is known) otherwise."""
    spec = router.find_command(name)
    if request.where.kind not in spec.scopes:
        places = " or ".join(sorted(_WHERE[kind] for kind in spec.scopes))
        raise await _refused(
            request, deps, spec.name, "not here", f"`{spec.name}` works in {places}, not here."
        )
    if spec.roles is not None:
        if request.panel is None or request.member is None:
            raise await _refused(
                request,
                deps,
                spec.name,
                "not a member",
                f"`{spec.name}` is for panel members. Ask your panel coordinator to add you.",
            )
        if not spec.roles & request.roles():
            allowed = ", ".join(sorted(role.value for role in spec.roles))
            raise await _refused(
                request,
                deps,
                spec.name,
                "role",
                f"`{spec.name}` is for the panel's {allowed} only.",
            )
    return await spec.handler(replace(request, args=args), deps)


async def _refused(
    request: Request, deps: Deps, command: str, why: str, message: str
) -> NotAllowed:
    """Record the refusal in the panel's audit trail, if the panel is known; the error."""
    if request.panel is not None:
        async with deps.uow() as uow:
            await audit.record(
                uow, request, AuditVerb.REFUSE, "command", command, why, at=deps.clock.now()
            )
            await uow.commit()
    return NotAllowed(message)


async def run_verb(
    router: Router, request: Request, verb: str, data: Mapping[str, Any], deps: Deps
) -> Reply:
    """Run a card button's verb with the data the card carried."""
    if not verb or len(verb) > 64:
        raise InvalidInput("This card's button sent nothing I understand. Type help.")
    spec = router.find_verb(verb)
    return await spec.handler(replace(request, data=dict(data)), deps)
