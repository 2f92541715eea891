"""Cards about delivery itself: what a panel's coordinators are told when the bot cannot
reach a member in Teams."""

from __future__ import annotations

from cards.kit import Card, build, heading, paragraph

UNREACHABLE_TITLE = "A member cannot be reached in Teams"


def render_member_unreachable(name: str) -> Card:
    """What the coordinators are told: the member's name and nothing else about them."""
    return build(
        [
            *heading(UNREACHABLE_TITLE),
            paragraph(
                f"I can't send messages to {name}: they have blocked the bot, or it has been "
                "turned off for them. Cards for them are not being delivered; please contact "
                "them another way."
            ),
        ],
        fallback=f"I can't send messages to {name} in Teams.",
    )
