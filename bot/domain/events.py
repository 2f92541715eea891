"""What one feature tells the others happened, as plain values.

The meetings feature agrees and changes actions; the actions feature owns the SPOC's card.
Governance sets a panel up and referrals triage its cases; the meetings feature plans the
meetings they need. None imports another: one publishes an event in the unit of work of the
change (bot.kernel.events), the other subscribes to it in its FEATURE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.action import Action
    from bot.domain.case import Case


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


@dataclass(frozen=True)
class MeetingsWanted:
    """The panel needs its next meetings planned now, not at the calendar's next daily run:
    it was just set up, or its coordinator asked from a triage card that had no meeting to
    list the case on. The meetings feature plans them from the panel's schedule."""


@dataclass(frozen=True)
class CaseChanged:
    """The chair changed what an action's card shows of its case (the lead agency, the risk
    level): every card already sent for the case's actions shows the case as it is now."""

    case: Case


DomainEvent = ActionAgreed | ActionChanged | MeetingsWanted | CaseChanged
