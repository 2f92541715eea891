"""Greetings on installation: personal chat, team channel."""

from __future__ import annotations

from dataclasses import dataclass

from cards.kit import Card, build, command_button, heading, paragraph

WELCOME_TITLE = "Community MARAC"


@dataclass(frozen=True)
class WelcomeView:
    person_name: str | None
    panel_name: str | None
    in_channel: bool
    # What the shared place is called where the card is posted: "channel", "chat" (a group
    # chat) or "meeting chat".
    place: str = "channel"


def render_welcome(view: WelcomeView) -> Card:
    """Say what the bot does and how to start; never any case detail."""
    greeting = f"Hello {view.person_name}." if view.person_name else "Hello."
    body = [
        *heading(WELCOME_TITLE, view.panel_name or "Multi-agency ASB risk panel"),
        paragraph(
            f"{greeting} I run this panel's referrals, agenda, meetings and actions, so "
            "nobody needs spreadsheets or e-mail chains."
        ),
    ]
    if view.in_channel:
        body.append(
            paragraph(
                f"In this {view.place} I post only case references, risk levels and counts, never "
                "names or details. Personal data goes to authorised people in private chat."
            )
        )
    if view.panel_name is None and view.in_channel:
        body.append(paragraph("This team is not a panel yet: its coordinator can set it up."))
    return build(body, [command_button("Show what I can do", "help")], fallback=WELCOME_TITLE)
