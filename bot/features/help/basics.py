"""The commands every person has: help and whoami."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.delivery import ConversationKind
from bot.domain.errors import NotFound
from bot.domain.panel import Role
from bot.features.help.commands import RunCommand
from bot.kernel.dispatch import run_command
from bot.kernel.guard import public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.help import CommandLine, HelpView, render_help
from cards.verbs import Verb
from cards.whoami import WhoAmIView, render_whoami


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


def register(router: Router) -> None:
    """Register help and whoami."""

    async def show_help(request: Request, deps: Deps) -> Reply:
        panel_name = request.panel.name if request.panel else None
        view = help_view(router, request.roles(), request.where.kind, panel_name)
        return Reply(card=render_help(view))

    router.command(
        CommandSpec(
            name="help",
            summary="Show the commands you can use here.",
            handler=show_help,
            access=public(),
            aliases=("?", "commands"),
        )
    )
    router.command(
        CommandSpec(
            name="whoami",
            summary="Show your panel, agency, roles and information sharing status.",
            handler=whoami,
            access=public(),
            aliases=("me",),
            button="My membership",
        )
    )

    async def command_button(request: Request, deps: Deps) -> Reply:
        command = RunCommand.of(request.data)
        return await run_command(router, request, command.name, command.args, deps)

    # The command it names is checked by run_command, as if it had been typed.
    router.verb(VerbSpec(Verb.COMMAND.value, command_button, public()))


async def whoami(request: Request, deps: Deps) -> Reply:
    """The caller's membership of the panel they are talking to."""
    if request.panel is None or request.member is None:
        raise NotFound(
            "You are not a member of a panel yet. Ask your panel coordinator to add you."
        )
    async with deps.uow() as uow:
        agency = (
            await uow.agencies.get(request.panel.id, request.member.agency_id)
            if request.member.agency_id
            else None
        )
        accepted = await uow.isa.latest(request.panel.id, request.member.id)
    zone = ZoneInfo(request.panel.timezone)
    view = WhoAmIView(
        name=request.member.name,
        panel_name=request.panel.name,
        agency_name=agency.name if agency else None,
        roles=tuple(sorted(role.value for role in request.member.roles)),
        isa_version=request.panel.isa_version,
        isa_accepted_version=accepted.version if accepted else None,
        isa_accepted_on=(
            accepted.accepted_at.astimezone(zone).strftime("%d %b %Y") if accepted else None
        ),
    )
    return Reply(card=render_whoami(view))
