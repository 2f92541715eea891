"""The person's panels: which one they act for, and invitations to accept or decline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adaptive_cards import card as ac

from cards.kit import Card, build, command_button, heading, paragraph
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

PANELS_TITLE = "Your panels"
INVITATION_TITLE = "You are invited to a panel"
# Card data keys: written by this card, read back by bot.features.governance.commands.
PANEL_ID = "panel_id"


@dataclass(frozen=True)
class PanelLine:
    panel_id: str
    panel_name: str
    roles: str  # "SPOC for Riverside Homes (Housing)"
    current: bool = False


@dataclass(frozen=True)
class InvitationLine:
    panel_id: str
    panel_name: str
    roles: str


@dataclass(frozen=True)
class PanelsView:
    panels: Sequence[PanelLine]
    invitations: Sequence[InvitationLine]
    notice: str | None = None
    # Just joined: the next steps (the panel's agreement, then what they can do).
    joined: bool = False


def _execute(title: str, verb: Verb, panel_id: str) -> ac.ActionExecute:
    return ac.ActionExecute(title=title, verb=verb.value, data={PANEL_ID: panel_id})


def render_panels(view: PanelsView) -> Card:
    """Each panel the person belongs to (the one they act for marked), then invitations."""
    body: list[object] = [*heading(PANELS_TITLE)]
    if view.notice:
        body.append(paragraph(view.notice))
    if not view.panels and not view.invitations:
        body.append(paragraph("You are not a member of any panel. Ask a panel coordinator."))
    actions: list[object] = []
    for line in view.panels:
        mark = " (you act for this one)" if line.current else ""
        body.append(paragraph(f"**{line.panel_name}**{mark}: {line.roles}"))
        if not line.current:
            actions.append(_execute(f"Act for {line.panel_name}", Verb.PANEL_CHOOSE, line.panel_id))
    for invite in view.invitations:
        body.append(
            paragraph(
                f"Invitation: **{invite.panel_name}** as {invite.roles}. Until you accept, "
                "you see nothing of this panel and it sends you nothing."
            )
        )
        actions.append(_execute(f"Join {invite.panel_name}", Verb.PANEL_JOIN, invite.panel_id))
        actions.append(
            _execute(f"Decline {invite.panel_name}", Verb.PANEL_DECLINE, invite.panel_id)
        )
    if view.joined:
        actions[:0] = [
            command_button("Read the sharing agreement", "isa"),
            command_button("What I can do", "help"),
        ]
    return build(body, actions[:6], fallback=PANELS_TITLE)


def render_invitation(panel_id: str, panel_name: str, roles: str, invited_by: str) -> Card:
    """The card a person gets when a coordinator adds them to a panel."""
    body = [
        *heading(INVITATION_TITLE, panel_name),
        paragraph(
            f"{invited_by} added you to {panel_name} as {roles}. Join to take part; until "
            "you do, you see nothing of the panel and it sends you nothing. If you do not "
            "know this panel, decline."
        ),
    ]
    actions = [
        _execute("Join the panel", Verb.PANEL_JOIN, panel_id),
        _execute("Decline", Verb.PANEL_DECLINE, panel_id),
    ]
    return build(body, actions, fallback=INVITATION_TITLE)
