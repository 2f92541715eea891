"""The help feature's read side: the commands a caller may use where they are (from the
router's declarations), and their membership as whoami shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.kernel.localtime import local
from cards.help import CommandLine, HelpView
from cards.whoami import WhoAmIView

if TYPE_CHECKING:
    from bot.domain.delivery import ConversationKind
    from bot.domain.panel import Member, Panel, Role
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Router


def help_view(
    router: Router, roles: frozenset[Role], kind: ConversationKind, panel_name: str | None
) -> HelpView:
    """The commands a caller with these roles may use in this kind of chat."""
    lines = [
        CommandLine(spec.name, spec.usage or spec.name, spec.summary, spec.button)
        for spec in router.commands()
        if spec.available_to(roles, kind, member=panel_name is not None)
    ]
    return HelpView(
        panel_name=panel_name,
        roles=sorted(role.value for role in roles),
        commands=lines,
        where=kind.value,
    )


async def whoami_view(uow: UnitOfWork, panel: Panel, member: Member) -> WhoAmIView:
    """The member's panel, agency, roles and the agreement they last accepted."""
    agency = await uow.agencies.get(panel.id, member.agency_id) if member.agency_id else None
    accepted = await uow.isa.latest(panel.id, member.id)
    return WhoAmIView(
        name=member.name,
        panel_name=panel.name,
        agency_name=agency.name if agency else None,
        roles=tuple(sorted(role.value for role in member.roles)),
        isa_version=panel.isa_version,
        isa_accepted_version=accepted.version if accepted else None,
        # Day first, zero-padded ("03 Nov 2026"), as whoami has always shown it.
        isa_accepted_on=(
            local(accepted.accepted_at, panel).strftime("%d %b %Y") if accepted else None
        ),
    )
