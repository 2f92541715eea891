"""The panel's information sharing agreement: `isa` to read and accept it, `isa set` for the
coordinator to publish a new version, which asks every member to accept it again.

No case detail reaches anyone who has not accepted the current version (bot.domain.policy);
the refusal shows them the agreement, and accepting it opens what they asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.panel import Member, Panel
from bot.domain.policy import Act
from bot.kernel import access, audit
from bot.kernel.agreement import accept_current
from bot.kernel.dispatch import run_verb
from bot.kernel.guard import ANYWHERE, PRIVATE, Access
from bot.kernel.notify import card_to_member
from bot.kernel.ports import UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Handler, Reply, Request, Router, VerbSpec
from cards.isa import (
    AGREEMENT_VERSION_KEY,
    MAX_ISA_TEXT,
    MAX_VERSION,
    NEXT_KEY,
    TEXT_ID,
    VERSION_ID,
    AcceptedView,
    IsaSavedView,
    IsaSetView,
    render_isa_accepted,
    render_isa_saved,
    render_isa_set,
)
from cards.verbs import Verb

USAGE = "isa [set]"
NOT_A_MEMBER = "The agreement is for panel members. Ask your panel coordinator to add you."
CHANGED_MEANWHILE = (
    "The agreement changed while this card was open, so nothing was accepted. Read the "
    "new version below."
)
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# What accepting may go on to open: a typed command, or an information request.
NEXT_VERBS = frozenset({Verb.COMMAND.value, Verb.INFO_OPEN.value})


def day_text(at: datetime, panel: Panel) -> str:
    """e.g. "20 Nov 2026"."""
    local = at.astimezone(ZoneInfo(panel.timezone))
    return f"{local.day} {local:%b %Y}"


def _member(request: Request) -> tuple[Panel, Member]:
    if request.panel is None or request.member is None or not request.member.active:
        raise NotAllowed(NOT_A_MEMBER)
    return request.panel, request.member


async def show(request: Request, deps: Deps) -> Reply:
    """`isa`: the agreement and whether the caller accepted it; `isa set` for coordinators."""
    panel, member = _member(request)
    sub = request.args.strip().lower()
    if sub == "set":
        return await set_form(request, deps)
    if sub:
        raise InvalidInput(f"Write it as: {USAGE}.")
    async with deps.uow() as uow:
        return Reply(card=await access.agreement_card(uow, panel, member))


def _next_step(data: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = data.get(NEXT_KEY)
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("verb") not in NEXT_VERBS or len(str(raw)) > 500:
        raise InvalidInput("This card's button sent nothing I understand. Type isa.")
    return dict(raw)


def accept_verb(router: Router) -> Handler:
    """The Accept button: record the acceptance, then open what was asked for, if anything."""

    async def accept(request: Request, deps: Deps) -> Reply:
        panel, member = _member(request)
        next_step = _next_step(request.data)
        version = request.data.get(AGREEMENT_VERSION_KEY)
        now = deps.clock.now()
        async with deps.uow() as uow:
            if version != panel.isa_version:
                card = await access.agreement_card(
                    uow, panel, member, next_step=next_step, notice=CHANGED_MEANWHILE
                )
                return Reply(card=card)
            acceptance = await accept_current(
                uow, panel, member, now, where=request.where.kind.value
            )
            await uow.commit()
        if next_step is not None:
            return await run_verb(router, request, str(next_step["verb"]), next_step, deps)
        view = AcceptedView(panel.name, acceptance.version, day_text(acceptance.accepted_at, panel))
        return Reply(card=render_isa_accepted(view))

    return accept


async def _coordinator(request: Request, deps: Deps) -> tuple[Panel, Member] | Reply:
    # MANAGE_MEMBERS (`isa set`, the form's Save): checked by the guard.
    return request.admitted()


def suggested_version(current: str) -> str:
    """The next version: 2 → 3, 2026.1 → 2026.2; otherwise the current one, to edit."""
    head, dot, tail = current.rpartition(".")
    if tail.isdigit():
        return f"{head}{dot}{int(tail) + 1}"
    return current


async def set_form(request: Request, deps: Deps) -> Reply:
    """`isa set`: the coordinator's form for a new version."""
    allowed = await _coordinator(request, deps)
    if isinstance(allowed, Reply):
        return allowed
    panel, _ = allowed
    view = IsaSetView(
        panel_name=panel.name,
        current_version=panel.isa_version,
        version=suggested_version(panel.isa_version),
        text=panel.isa_text,
    )
    return Reply(card=render_isa_set(view))


def _typed(data: Mapping[str, Any], name: str, limit: int) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput("This card sent something I cannot read. Type isa set.")
    return raw[: limit + 1].strip()


async def save(request: Request, deps: Deps) -> Reply:
    """Save a new version and text, and ask every active member to accept it."""
    allowed = await _coordinator(request, deps)
    if isinstance(allowed, Reply):
        return allowed
    panel, _ = allowed
    version = _typed(request.data, VERSION_ID, MAX_VERSION)
    text = _typed(request.data, TEXT_ID, MAX_ISA_TEXT)
    errors: dict[str, str] = {}
    if not version or len(version) > MAX_VERSION or not _VERSION.match(version):
        errors[VERSION_ID] = (
            f"Up to {MAX_VERSION} letters, digits, dots or dashes, e.g. 3 or 2026-12."
        )
    elif version == panel.isa_version:
        errors[VERSION_ID] = "This is the current version: give the new one another name."
    if not text:
        errors[TEXT_ID] = "Write the agreement."
    elif len(text) > MAX_ISA_TEXT:
        errors[TEXT_ID] = f"Keep the agreement under {MAX_ISA_TEXT} characters."
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
            usage=USAGE,
            aliases=("agreement",),
            access=Access(Act.ACCEPT_AGREEMENT, ANYWHERE, sub_acts={"set": Act.MANAGE_MEMBERS}),
            button="Sharing agreement",
        )
    )
    router.verb(
        VerbSpec(Verb.ISA_ACCEPT.value, accept_verb(router), Access(Act.ACCEPT_AGREEMENT, ANYWHERE))
    )
    router.verb(VerbSpec(Verb.ISA_SAVE.value, save, Access(Act.MANAGE_MEMBERS, PRIVATE)))
