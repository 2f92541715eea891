"""Every card the bot can send, rendered with invented demo data: the card gallery.

Each feature contributes its own (bot.features.FEATURES); `python -m bot cards DIR` writes
them and the card tests walk them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import FEATURES

if TYPE_CHECKING:
    from bot.kernel.router import Router
    from cards.kit import Card


def gallery(router: Router) -> dict[str, Card]:
    """Name → card, for every card any feature sends and its notable variants."""
    cards: dict[str, Card] = {}
    for feature in FEATURES:
        for name, card in feature.gallery(router).items():
            if name in cards:
                raise ValueError(f"two gallery cards are called {name}")
            cards[name] = card
    return cards
