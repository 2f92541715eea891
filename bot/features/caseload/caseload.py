"""`cases`: the panel's open cases at a glance for the coordinator and the chair, in the
private chat; filtered (`cases overdue`, `cases high`, `cases Housing`) and paged ("More"
carries the page and the filter). Every page shown is audited as a view of the caseload."""

from __future__ import annotations

from bot.domain.audit import AuditVerb
from bot.domain.policy import Act
from bot.features.caseload.commands import CASES_USAGE, FilterKind, ListCases
from bot.features.caseload.views import caseload
from bot.kernel import audit
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.caseload import CaseloadView, render_caseload
from cards.verbs import Verb

CASELOAD_ACCESS = Access(Act.VIEW_CASELOAD, PRIVATE)


async def list_cases(request: Request, deps: Deps) -> Reply:
    """`cases [filter]`: the first page."""
    return await show(request, deps, ListCases.typed(request.args))


async def next_page(request: Request, deps: Deps) -> Reply:
    """The "More" button: the page and filter it carries."""
    return await show(request, deps, ListCases.clicked(request.data))


async def show(request: Request, deps: Deps, wanted: ListCases) -> Reply:
    """One page of the caseload, its view audited in the same unit of work."""
    panel, _member = request.admitted()
    now = deps.clock.now()
    async with deps.uow() as uow:
        found = await caseload(uow, panel, wanted, now)
        pages = found.pages()
        page = min(wanted.page, pages)
        filtered = "" if wanted.kind is FilterKind.ALL else f", filtered by {wanted.kind.value}"
        said = f"caseload viewed{filtered}: page {page} of {pages}, {len(found.lines)} cases"
        await audit.record(uow, request, AuditVerb.VIEW, "panel", panel.id, said, at=now)
        await uow.commit()
    view = CaseloadView(
        panel_name=panel.name,
        lines=found.page(page),
        shows=found.shows,
        total=len(found.lines),
        page=page,
        pages=pages,
        filter=wanted.filter,
        empty=found.empty,
    )
    return Reply(card=render_caseload(view))


def register(router: Router) -> None:
    """Register `cases` and its "More" button."""
    router.command(
        CommandSpec(
            name="cases",
            summary="The panel's open cases at a glance: lead agency, risk level, next hearing "
            "and overdue actions; `cases overdue`, `cases high` or `cases <agency>` to narrow it.",
            handler=list_cases,
            usage=CASES_USAGE,
            access=CASELOAD_ACCESS,
            # The personal menu holds Teams' twelve already (tests/test_manifest_menu.py).
            in_manifest=False,
        )
    )
    router.verb(VerbSpec(Verb.CASES_PAGE.value, next_page, CASELOAD_ACCESS))
