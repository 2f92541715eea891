"""The caseload feature's cards rendered with invented data: for `python -m bot cards`, the
card tests and the channel gate's walk. Every person, place and case here is invented."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cards.caseload import CaseLine, CaseloadView, FindView, Hit, render_caseload, render_find

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.router import Router
    from cards.kit import Card

DEMO_PANEL = "Riverside Community MARAC"
HOUSING = "Riverside Homes (Housing)"
POLICE = "Riverside Police"


def _lines() -> list[CaseLine]:
    return [
        CaseLine("CM-2026-013", HOUSING, "High", "Tue 8 Dec 2026", 2),
        CaseLine("CM-2026-011", POLICE, "High", "Tue 8 Dec 2026 (due)", 0),
        CaseLine("CM-2026-009", "not set", "Medium", "Tue 12 Jan 2027", 1),
        CaseLine("CM-2026-004", "Adult Social Care", "Standard", "not listed", 0),
    ]


def gallery(_router: Router) -> Mapping[str, Card]:
    """The caseload and the search's cards."""
    hits = [
        Hit(
            "CM-2026-013",
            "case, open",
            "victim",
            "Smith, Jon",
            "name: same name, written in another order",
            100,
            opens="case CM-2026-013",
        ),
        Hit(
            "RF-2026-0049",
            "referral, waiting for a decision",
            "perpetrator",
            "Jonathan Smyth",
            "alias Jon Smith: a familiar form of a first name",
            93,
            opens="referrals RF-2026-0049",
        ),
    ]
    return {
        "caseload": render_caseload(
            CaseloadView(DEMO_PANEL, _lines(), "Open cases", total=14, page=1, pages=2)
        ),
        "caseload-last-page": render_caseload(
            CaseloadView(
                DEMO_PANEL,
                _lines()[:2],
                "Open cases with overdue actions",
                total=12,
                page=2,
                pages=2,
                filter="overdue",
            )
        ),
        "caseload-empty": render_caseload(
            CaseloadView(
                DEMO_PANEL,
                [],
                f"Open cases of {HOUSING}",
                total=0,
                filter="Housing",
                empty=f"No open case is led by {HOUSING} or has an open action of theirs.",
            )
        ),
        "find-hits": render_find(FindView(DEMO_PANEL, "name", hits)),
        "find-hits-agency": render_find(
            FindView(DEMO_PANEL, "postcode", hits[:1], more=True, limited=True)
        ),
        "find-none": render_find(FindView(DEMO_PANEL, "name", [])),
    }
