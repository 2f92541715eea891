"""The help feature's read side: the commands a caller may use where they are (from the
router's declarations), and their membership as whoami shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.panel import Role
from bot.kernel.localtime import local
from cards.help import CommandLine, HelpView, ShortHelpView
from cards.whoami import WhoAmIView

if TYPE_CHECKING:
    from bot.domain.delivery import ConversationKind
    from bot.domain.panel import Member, Panel
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


# What each role comes to the bot for most, first: the short help names the first three of
# these the person may use where they are.
_MOST_USED: dict[Role, tuple[str, ...]] = {
    Role.COORDINATOR: ("referrals", "agenda", "members", "cases", "schedule"),
    Role.CHAIR: ("agenda", "chair", "cases", "minutes", "schedule"),
    Role.SPOC: ("actions", "refer", "schedule", "agenda"),
    Role.DEPUTY: ("actions", "refer", "schedule", "agenda"),
    Role.REFERRER: ("refer", "referrals", "schedule"),
}
_ANYONE = ("refer", "schedule", "whoami", "panel")
SHORT_HELP_LINES = 3
_GREETINGS = frozenset({"hello", "hi", "hey", "hiya", "morning", "afternoon", "evening", "good"})
_THANKS = frozenset({"thanks", "thank", "thx", "cheers", "ta"})


def short_help_view(
    router: Router,
    roles: frozenset[Role],
    kind: ConversationKind,
    *,
    typed: str,
    member: bool,
) -> ShortHelpView:
    """A greeting, thanks or a word that names no command, answered with the three commands
    this person most likely came for, of those they may use here. What was typed is never
    repeated (in a shared chat it could name someone)."""
    first = typed.strip().split(" ")[0].strip(".,!?;:").lower() if typed.strip() else ""
    if first in _GREETINGS:
        title, intro = "Hello", "Here is what you can do with me here:"
    elif first in _THANKS:
        title, intro = "You're welcome", "Anything else? Here is what you can do with me here:"
    else:
        title, intro = "I didn't catch that", "It is not a command I know. You can:"
    wanted = [name for role in sorted(roles) for name in _MOST_USED[role]] + list(_ANYONE)
    lines: list[CommandLine] = []
    for name in dict.fromkeys(wanted):
        if not router.knows(name) or len(lines) == SHORT_HELP_LINES:
            continue
        spec = router.find_command(name)
        if spec.available_to(roles, kind, member=member):
            lines.append(CommandLine(spec.name, spec.usage or spec.name, spec.summary, spec.button))
    return ShortHelpView(title=title, intro=intro, commands=lines, member=member)


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
