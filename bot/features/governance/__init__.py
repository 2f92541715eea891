"""Governance: panels and who belongs to them, agencies and members, the information
sharing agreement, the case view and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.governance import agreement, audit_trail, cases, gallery, membership, panels
from bot.kernel.feature import Feature, Setup

if TYPE_CHECKING:
    from bot.kernel.router import Router


def register(router: Router, _setup: Setup) -> None:
    """`panel`, `setup`, `members`, `agencies`, `isa`, `case`, `audit` and their buttons."""
    panels.register(router)
    membership.register(router)
    agreement.register(router)
    cases.register(router)
    audit_trail.register(router)


FEATURE = Feature("governance", register, gallery.gallery)
