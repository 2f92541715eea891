"""The commands every person has: help and whoami."""

from __future__ import annotations

from bot.domain.errors import NotFound
from bot.features.help.commands import RunCommand
from bot.features.help.views import help_view, short_help_view, whoami_view
from bot.kernel.dispatch import run_command
from bot.kernel.guard import public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.help import render_help, render_short_help
from cards.verbs import Verb
from cards.whoami import render_whoami


def register(router: Router) -> None:
    """Register help and whoami."""

    async def show_help(request: Request, _deps: Deps) -> Reply:
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

    async def short_help(request: Request, _deps: Deps) -> Reply:
        view = short_help_view(
            router,
            request.roles(),
            request.where.kind,
            typed=request.args,
            member=request.panel is not None and bool(request.member and request.member.active),
        )
        return Reply(card=render_short_help(view))

    # "hello", "thanks" and any word that names no command: a short help, not an error.
    router.otherwise(
        CommandSpec(
            name="greeting",
            summary="A greeting or a word that names no command: what you can do here.",
            handler=short_help,
            access=public(),
            in_manifest=False,
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
        view = await whoami_view(uow, request.panel, request.member)
    return Reply(card=render_whoami(view))
