"""Greetings on installation: personal chat, team channel."""

from __future__ import annotations

from dataclasses import dataclass

from cards.kit import Card, build, command_button, heading, paragraph

WELCOME_TITLE = "Community MARAC"
# Teams display names are short; a longer one is cut, and angle brackets would break the
# mention's <at> tag, so they are dropped.
MAX_MENTION_NAME = 80


@dataclass(frozen=True)
class Installer:
    """Who added the bot to a team or chat, as Teams names them (the activity's `from`)."""

    name: str
    teams_user_id: str

    def shown_name(self) -> str:
        """Their name as the mention shows it: one line, no angle brackets, not too long."""
        name = " ".join(self.name.replace("<", " ").replace(">", " ").split())
        return name[:MAX_MENTION_NAME].strip()

    def mention_text(self) -> str | None:
        """The `<at>…</at>` text that mentions them, or None when Teams gave no usable name."""
        name = self.shown_name()
        return f"<at>{name}</at>" if name and self.teams_user_id.strip() else None


@dataclass(frozen=True)
class WelcomeView:
    person_name: str | None
    panel_name: str | None
    in_channel: bool
    # What the shared place is called where the card is posted: "channel", "chat" (a group
    # chat) or "meeting chat".
    place: str = "channel"
    # In a shared place: who added the bot, mentioned on the card.
    installer: Installer | None = None


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
    mention = view.installer.mention_text() if view.installer and view.in_channel else None
    if mention:
        body.append(paragraph(f"{mention} added me to this {view.place}."))
    if view.in_channel:
        body.append(
            paragraph(
                f"In this {view.place} I post only case references, risk levels and counts, never "
                "names or details. Personal data goes to authorised people in private chat."
            )
        )
    if view.panel_name is None and view.in_channel:
        body.append(paragraph("This team is not a panel yet: its coordinator can set it up."))
    card = build(body, [command_button("Show what I can do", "help")], fallback=WELCOME_TITLE)
    if mention and view.installer:
        # A card mention: Teams shows the name as a mention and notifies the person.
        entity = {
            "type": "mention",
            "text": mention,
            "mentioned": {
                "id": view.installer.teams_user_id,
                "name": view.installer.shown_name(),
            },
        }
        card["msteams"] = {**card.get("msteams", {}), "entities": [entity]}
    return card
