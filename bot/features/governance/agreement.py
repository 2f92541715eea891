"""The panel's information sharing agreement: `isa` to read and accept it, `isa set` for the
coordinator to publish a new version, which asks every member to accept it again.

No case detail reaches anyone who has not accepted the current version (bot.domain.policy);
the refusal shows them the agreement, and accepting it opens what they asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.errors import NotAllowed
from bot.domain.policy import Act
from bot.features.governance.commands import (
    ISA_USAGE,
    AcceptAgreement,
    SaveAgreement,
    ShowAgreement,
)
from bot.kernel import access, audit
from bot.kernel.agreement import accept_current
from bot.kernel.dispatch import run_verb
from bot.kernel.guard import ANYWHERE, PRIVATE, Access
from bot.kernel.localtime import born_text, local_day
from bot.kernel.notify import card_to_member
from bot.kernel.router import CommandSpec, Deps, Handler, Reply, Request, Router, VerbSpec
from cards.isa import (
    MAX_ISA_TEXT,
    AcceptedView,
    IsaSavedView,
    IsaSetView,
    render_isa_accepted,
    render_isa_saved,
    render_isa_set,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork

NOT_A_MEMBER = "The agreement is for panel members. Ask your panel coordinator to add you."
CHANGED_MEANWHILE = (
    "The agreement changed while this card was open, so nothing was accepted. Read the "
    "new version below."
)


def _member(request: Request) -> tuple[Panel, Member]:
    if request.panel is None or request.member is None or not request.member.active:
        raise NotAllowed(NOT_A_MEMBER)
    return request.panel, request.member


async def show(request: Request, deps: Deps) -> Reply:
    """`isa`: the agreement and whether the caller accepted it; `isa set` for coordinators."""
    panel, member = _member(request)
    if ShowAgreement.typed(request.args).set_form:
        return await set_form(request, deps)
    async with deps.uow() as uow:
        return Reply(card=await access.agreement_card(uow, panel, member))


def accept_verb(router: Router) -> Handler:
    """The Accept button: record the acceptance, then open what was asked for, if anything."""

    async def accept(request: Request, deps: Deps) -> Reply:
        _member(request)  # a member's, before anything the card sent is read
        return await accept_agreement(router, request, deps, AcceptAgreement.of(request.data))

    return accept


async def accept_agreement(
    router: Router, request: Request, deps: Deps, command: AcceptAgreement
) -> Reply:
    """Record the acceptance of the version shown, if it is still the current one; then
    open what was asked for, if anything."""
    panel, member = _member(request)
    next_step = command.next_step
    now = deps.clock.now()
    async with deps.uow() as uow:
        if command.version != panel.isa_version:
            card = await access.agreement_card(
                uow, panel, member, next_step=next_step, notice=CHANGED_MEANWHILE
            )
            return Reply(card=card)
        acceptance = await accept_current(uow, panel, member, now, where=request.where.kind.value)
        await uow.commit()
    if next_step is not None:
        return await run_verb(router, request, str(next_step["verb"]), next_step, deps)
    accepted_on = born_text(local_day(acceptance.accepted_at, panel))
    view = AcceptedView(panel.name, acceptance.version, accepted_on)
    return Reply(card=render_isa_accepted(view))


def suggested_version(current: str) -> str:
    """The next version: 2 → 3, 2026.1 → 2026.2; otherwise the current one, to edit."""
    head, dot, tail = current.rpartition(".")
    if tail.isdigit():
        return f"{head}{dot}{int(tail) + 1}"
    return current


async def set_form(request: Request, _deps: Deps) -> Reply:
    """`isa set`: the coordinator's form for a new version."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    view = IsaSetView(
        panel_name=panel.name,
        current_version=panel.isa_version,
        version=suggested_version(panel.isa_version),
        text=panel.isa_text,
    )
    return Reply(card=render_isa_set(view))


async def save(request: Request, deps: Deps) -> Reply:
    """Save a new version and text, and ask every active member to accept it."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    return await publish(request, deps, panel, SaveAgreement.of(request.data))


async def publish(request: Request, deps: Deps, panel: Panel, command: SaveAgreement) -> Reply:
    """The new version replaces the current one, and every active member is asked to
    accept it; or the form again, with what is wrong."""
    version, text = command.version, command.text
    errors = command.errors(panel.isa_version)
    if errors:
        view = IsaSetView(
            panel_name=panel.name,
            current_version=panel.isa_version,
            version=version,
            text=text[:MAX_ISA_TEXT],
            errors=errors,
        )
        return Reply(card=render_isa_set(view))
    now = deps.clock.now()
    async with deps.uow() as uow:
        stored = await uow.panels.get(panel.id)
        if stored is None:
            raise NotAllowed(NOT_A_MEMBER)
        before = stored.isa_version
        stored.isa_version, stored.isa_text = version, text
        await uow.panels.save(stored)
        await audit.record(
            uow,
            request,
            AuditVerb.UPDATE,
            "panel",
            stored.id,
            f"information sharing agreement: version {before} replaced by {version}",
            at=now,
        )
        asked = await ask_everyone(uow, stored, now)
        await uow.commit()
    return Reply(card=render_isa_saved(IsaSavedView(stored.name, version, asked)))


async def ask_everyone(uow: UnitOfWork, panel: Panel, now: datetime) -> int:
    """Queue the current agreement to every active member's private chat; how many."""
    asked = 0
    for member in await uow.members.all(panel.id):
        if not member.active:
            continue
        card = await access.agreement_card(
            uow,
            panel,
            member,
            reason="The panel has a new information sharing agreement. Until you accept it, "
            "you see no case detail.",
            title=f"New information sharing agreement: version {panel.isa_version}",
        )
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            card=card,
            key=f"isa:{panel.id}:{panel.isa_version}:{member.id}",
            now=now,
            text="Please read and accept the panel's new information sharing agreement",
        )
        asked += 1
    return asked


def register(router: Router) -> None:
    """Register `isa` and the agreement's buttons."""
    router.command(
        CommandSpec(
            name="isa",
            summary="Read the panel's information sharing agreement and accept it; "
            "coordinators: isa set for a new version.",
            handler=show,
            usage=ISA_USAGE,
            aliases=("agreement",),
            access=Access(Act.ACCEPT_AGREEMENT, ANYWHERE, sub_acts={"set": Act.MANAGE_MEMBERS}),
            button="Sharing agreement",
        )
    )
    router.verb(
        VerbSpec(Verb.ISA_ACCEPT.value, accept_verb(router), Access(Act.ACCEPT_AGREEMENT, ANYWHERE))
    )
    router.verb(VerbSpec(Verb.ISA_SAVE.value, save, Access(Act.MANAGE_MEMBERS, PRIVATE)))
