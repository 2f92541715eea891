"""The caseload: `cases`, the panel's open cases at a glance (lead agency, risk, next
hearing, overdue actions), and `find`, the people referred found by name or postcode
within need to know."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.caseload import caseload, gallery, search
from bot.kernel.feature import Feature, Setup

if TYPE_CHECKING:
    from bot.kernel.router import Router


def register(router: Router, _setup: Setup) -> None:
    """`cases`, its "More" button and `find`."""
    caseload.register(router)
    search.register(router)


FEATURE = Feature("caseload", register, gallery.gallery)
