"""Referrals: the referrer's intake card, the coordinator's triage (with the information
requests asked of agencies before deciding) and the notices that tell the referrer.

Information requests live here rather than with actions: triage is their only sender, and
the SPOC answers them on the request's own card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.referrals import gallery, info_requests, intake, matrix, triage
from bot.kernel.config import RiskBook, load_risk_book
from bot.kernel.feature import Feature, Setup

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.router import Router
    from cards.kit import Card


def risk_book(setup: Setup) -> RiskBook:
    """The panels' risk matrices (RISK_MATRIX_FILE, read and checked here); without a file,
    the shipped example for every panel."""
    if setup.settings is None or setup.settings.risk_matrix_file is None:
        return RiskBook()
    return load_risk_book(setup.settings.risk_matrix_file)


def register(router: Router, setup: Setup) -> None:
    """`refer`, `referrals`, `matrix`, triage and the information requests' buttons."""
    book = risk_book(setup)
    intake.register(router, book)
    triage.register(router)
    info_requests.register(router)
    matrix.register(router, book)


def demo_cards(_router: Router) -> Mapping[str, Card]:
    """The referrer's, the coordinator's and the asked agency's cards, with invented data
    (bot.features.referrals.gallery)."""
    return gallery.gallery_cards()


FEATURE = Feature("referrals", register, demo_cards)
