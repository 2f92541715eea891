"""The `audit` command: who viewed and changed a case or referral, newest first.

Events are recorded by bot.kernel.audit.record; this shows them to coordinators, a page at
a time (what each event is called and how a line reads: bot.features.governance.views).
"""

from __future__ import annotations

from bot.domain.audit import AuditVerb
from bot.domain.policy import Act
from bot.features.governance.commands import AUDIT_USAGE, ShowTrail
from bot.features.governance.views import PAGE, fit, trail_labels, trail_line, trail_scope
from bot.kernel.audit import record
from bot.kernel.guard import NOT_MEETINGS, Access, Target
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.audit import AuditView
from cards.verbs import Verb


async def show_trail(request: Request, deps: Deps, command: ShowTrail) -> Reply:
    """One page of a trail, newest first (the guard checked the caller may read it)."""
    panel, _ = request.admitted()  # VIEW_AUDIT, checked by the guard (see `register`)
    reference, before_id = command.reference, command.before
    now = deps.clock.now()
    async with deps.uow() as uow:
        scope = await trail_scope(uow, panel, reference)
        if before_id is None:
            detail = "audit trail" + (f" of {scope.reference}" if scope.reference else "")
            await record(uow, request, AuditVerb.VIEW, *scope.viewed, detail, at=now)
        events = await uow.audit.trail(
            panel.id, scope.entities, limit=PAGE + 1, before_id=before_id
        )
        page, more = events[:PAGE], len(events) > PAGE
        members = {m.id: m for m in await uow.members.all(panel.id)}
        labels = await trail_labels(uow, panel, page)
        await uow.commit()
    lines = [trail_line(e, panel, members, labels) for e in page]
    view = AuditView(
        title=scope.title,
        subtitle=panel.name,
        lines=lines,
        reference=scope.reference,
        event_ids=[e.id for e in page],
        more=more,
        continued=before_id is not None,
    )
    card, _ = fit(view)
    return Reply(card=card)


async def audit(request: Request, deps: Deps) -> Reply:
    """`audit CM-2026-014`: the case's trail, newest first; `audit`: the panel's."""
    return await show_trail(request, deps, ShowTrail.typed(request.args))


async def older(request: Request, deps: Deps) -> Reply:
    """The Older events button: the next page of the same trail."""
    return await show_trail(request, deps, ShowTrail.of(request.data))


def register(router: Router) -> None:
    """Register `audit` and its Older events button."""
    router.command(
        CommandSpec(
            name="audit",
            summary="Coordinators: who viewed and changed a case, newest first.",
            handler=audit,
            usage=AUDIT_USAGE,
            access=Access(Act.VIEW_AUDIT, NOT_MEETINGS, targets=(Target.RECORD_IN_ARGS,)),
            in_manifest=False,
        )
    )
    router.verb(
        VerbSpec(
            Verb.AUDIT_PAGE.value, older, Access(Act.VIEW_AUDIT, NOT_MEETINGS, (Target.RECORD,))
        )
    )
