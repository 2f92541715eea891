"""Governance: panels and who belongs to them, agencies and members, the information
sharing agreement, the case view and the audit trail."""

from __future__ import annotations

from collections.abc import Mapping

from bot.features.governance import agreement, audit_trail, cases, membership, panels
from bot.kernel.feature import Feature, Setup
from bot.kernel.router import Router
from cards.kit import Card


def register(router: Router, setup: Setup) -> None:
    """`panel`, `setup`, `members`, `agencies`, `isa`, `case`, `audit` and their buttons."""
    panels.register(router)
    membership.register(router)
    agreement.register(router)
    cases.register(router)
    audit_trail.register(router)


def gallery(router: Router) -> Mapping[str, Card]:
    """The governance cards, with invented data."""
    return {
        **panels.gallery_cards(),
        **membership.gallery_cards(),
        **agreement.gallery_cards(),
        **cases.gallery_cards(),
        **audit_trail.gallery_cards(),
    }


FEATURE = Feature("governance", register, gallery)
