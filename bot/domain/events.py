"""What one feature tells the others happened, as plain values.

The meetings feature agrees and changes actions; the actions feature owns the SPOC's card.
Neither imports the other: the first publishes one of these events in the unit of work of
the change (bot.kernel.events), the second subscribes to it in its FEATURE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.action import Action


@dataclass(frozen=True)
class ActionAgreed:
    """An action was agreed at a meeting: its owner agency's contact gets its card."""

    action: Action


@dataclass(frozen=True)
class ActionChanged:
    """An action was carried forward, escalated or cancelled at a meeting; `what` says how,
    e.g. "Carried forward to Mon 11 Jan 2027"."""

    action: Action
    what: str


DomainEvent = ActionAgreed | ActionChanged
