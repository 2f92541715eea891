"""The help card: the commands this caller may use, where they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cards.kit import Card, build, command_button, heading, paragraph

if TYPE_CHECKING:
    from collections.abc import Sequence

HELP_TITLE = "Commands you can use"


@dataclass(frozen=True)
class CommandLine:
    name: str
    usage: str
    summary: str
    button: str | None = None


@dataclass(frozen=True)
class HelpView:
    panel_name: str | None
    roles: Sequence[str]
    commands: Sequence[CommandLine]
    where: str


def render_help(view: HelpView) -> Card:
    """List the caller's commands; buttons for the ones that need no arguments."""
    if view.panel_name:
        who = ", ".join(view.roles) if view.roles else "member with no role yet"
        subtitle = f"{view.panel_name} · you are: {who}"
    else:
        subtitle = "You are not a member of a panel yet."
    body = [*heading(HELP_TITLE, subtitle)]
    for line in view.commands:
        body.append(paragraph(f"**{line.usage or line.name}** — {line.summary}"))
    body.append(
        paragraph(
            "Type a command with or without a slash, e.g. `help` or `/help`. In a channel, "
            "mention me first.",
            subtle=True,
        )
    )
    if not view.panel_name:
        body.append(
            paragraph(
                "Ask your panel coordinator to add you; until then I can show you only this.",
                subtle=True,
            )
        )
    buttons = [command_button(line.button, line.name) for line in view.commands if line.button][:5]
    return build(body, buttons, fallback=HELP_TITLE)


SHORT_HELP_HINT = "Type **help** to see everything you can do here."
NOT_A_MEMBER_YET = "You are not on a panel yet: ask your panel coordinator to add you."


@dataclass(frozen=True)
class ShortHelpView:
    """The few lines that answer a greeting or a word that names no command."""

    title: str
    intro: str
    commands: Sequence[CommandLine]
    member: bool


def render_short_help(view: ShortHelpView) -> Card:
    """A greeting or a slip answered with what the person can do here, never an error."""
    body = [*heading(view.title), paragraph(view.intro)]
    body += [paragraph(f"**{line.name}** — {line.summary}") for line in view.commands]
    if not view.member:
        body.append(paragraph(NOT_A_MEMBER_YET))
    body.append(paragraph(SHORT_HELP_HINT, subtle=True))
    # A help card, as the channel gate knows it by its fallback text.
    return build(body, [command_button("Show what I can do", "help")], fallback=HELP_TITLE)
