"""`case CM-2026-014`: one case in full, for those the need-to-know policy entitles.

In a private chat only: asked in a channel or group chat, the card is turned away by the
gate there and sent to the person's private chat instead. Every view is audited, and so is
every refusal.
"""

from __future__ import annotations

from bot.domain.audit import AuditVerb
from bot.domain.errors import NotFound
from bot.domain.policy import Act, Relation, decide
from bot.features.governance.commands import CASE_USAGE, ShowCase
from bot.features.governance.views import case_view, read_case
from bot.kernel import access, audit
from bot.kernel.guard import NOT_MEETINGS, Access, Target
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from cards.case import render_case


async def show_case(request: Request, deps: Deps) -> Reply:
    """`case CM-2026-014`: the case in full, if the caller is entitled to it."""
    # VIEW_CASE_DETAIL on the case named, with the agreement: checked by the guard.
    request.admitted()
    return await open_case(request, deps, ShowCase.typed(request.args))


async def open_case(request: Request, deps: Deps, command: ShowCase) -> Reply:
    """The case card, its view audited in the same unit of work."""
    panel, member = request.admitted()
    reference = command.reference
    now = deps.clock.now()
    async with deps.uow() as uow:
        case = await uow.cases.by_reference(panel.id, reference)
        if case is None:
            raise NotFound(f"There is no case {reference} in this panel.")
        subject = await access.subject_for(uow, panel, member)
        read = await read_case(uow, panel, case)
        await audit.record(uow, request, AuditVerb.VIEW, "case", case.id, "case view", at=now)
        await uow.commit()
    may_audit = decide(subject, Act.VIEW_AUDIT, Relation.NONE).allowed
    return Reply(card=render_case(case_view(read, now), audit_button=may_audit))


def register(router: Router) -> None:
    """Register `case`."""
    router.command(
        CommandSpec(
            name="case",
            summary="Open a case in full (history, subjects, risk, agency returns, actions, "
            "decisions), if your role and agency need to know it.",
            handler=show_case,
            usage=CASE_USAGE,
            access=Access(Act.VIEW_CASE_DETAIL, NOT_MEETINGS, targets=(Target.CASE_IN_ARGS,)),
        )
    )
