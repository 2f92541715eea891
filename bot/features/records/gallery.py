"""The records cards rendered with invented data, for the card gallery and the card tests:
subject access and erasure, and the quarter's statistics. Every person, figure and link
here is invented."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.domain.case import ClosureReason
from bot.domain.panel import Agency, Panel
from bot.domain.referral import DeclineReason
from bot.domain.risk import RiskLevel
from bot.domain.stats import ActionTally, Quarter, QuarterStats
from bot.features.records.dataprotection import REASON_NAMES_PERSON, ErasureReport
from bot.features.records.views import stats_view
from cards.dataprotection import (
    CandidatesView,
    ErasedView,
    ErasePreviewView,
    PersonChoice,
    PersonFormView,
    SarResultView,
    render_candidates,
    render_erase_form,
    render_erase_preview,
    render_erased,
    render_sar_form,
    render_sar_result,
)
from cards.stats import render_stats

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.router import Router
    from cards.kit import Card


def dataprotection_cards() -> dict[str, Card]:
    """The subject access and erasure cards, with invented data."""
    panel = "Riverside Community MARAC"
    found = [
        "Victim in RF-2026-0047 (accepted): case CM-2026-014, open",
        "Child in the household in RF-2025-0112 (declined)",
    ]
    counts = [
        ("Referrals", "2"),
        ("Cases", "1"),
        ("Agencies' answers", "3"),
        ("Actions", "1"),
        ("Meetings", "1"),
    ]
    people = [
        PersonChoice(
            "Rosa Lindqvist", "2 Sep 1986", "1986-09-02", "RV2 7LD", ["victim in RF-2026-0047"]
        ),
        PersonChoice("Rosa Lindqvist", "", "", "NB1 4QT", ["witness in RF-2025-0031"]),
    ]
    base = "https://bot.example.org/panels/demo-panel/sar/demo-export"
    signed = "?token=1796000000.demo-priya.demo-signature"
    return {
        "sar-form": render_sar_form(PersonFormView(panel)),
        "sar-form-mistake": render_sar_form(
            PersonFormView(
                panel,
                "Rosa Lindqvist",
                "",
                notice="Give the person's name and date of birth.",
            )
        ),
        "sar-found": render_sar_result(
            SarResultView(
                panel_name=panel,
                name="Rosa Lindqvist",
                born="2 Sep 1986",
                found=found,
                counts=counts,
                docx_url=f"{base}.docx{signed}",
                json_url=f"{base}.json{signed}",
                expires="Fri 27 Nov 2026",
            )
        ),
        "sar-found-no-downloads": render_sar_result(
            SarResultView(panel, "Rosa Lindqvist", "2 Sep 1986", found, counts, None, None)
        ),
        "sar-nothing-found": render_sar_result(
            SarResultView(panel, "Rosa Lindquist", "2 Sep 1986", [], [], None, None)
        ),
        "sar-candidates": render_candidates(CandidatesView(panel, "Rosa Lindqvist", people)),
        "erase-candidates": render_candidates(
            CandidatesView(panel, "Rosa Lindqvist", people, erase=True)
        ),
        "erase-form": render_erase_form(PersonFormView(panel)),
        "erase-preview": render_erase_preview(
            ErasePreviewView(
                panel_name=panel,
                name="Rosa Lindqvist",
                born="2 Sep 1986",
                date_of_birth="1986-09-02",
                found=found,
                token="demo-erasure",  # noqa: S106 (a card's confirmation id, not a secret)
            )
        ),
        "erase-preview-reason-refused": render_erase_preview(
            ErasePreviewView(
                panel_name=panel,
                name="Rosa Lindqvist",
                born="2 Sep 1986",
                date_of_birth="1986-09-02",
                found=found,
                token="demo-erasure",  # noqa: S106 (a card's confirmation id, not a secret)
                reason="Asked by Rosa in person",
                notice=REASON_NAMES_PERSON,
            )
        ),
        "erased": render_erased(
            ErasedView(
                panel,
                ErasureReport(2, 1, 1, 1, 0).facts(),
                "Erasure request under UK GDPR Art. 17, letter of 3 Nov 2026",
            )
        ),
        "erased-already": render_erased(ErasedView(panel, (), "", already=True)),
    }


def stats_cards() -> dict[str, Card]:
    """The statistics card with invented figures: a busy quarter and an empty one."""
    panel = Panel(
        id="demo-panel",
        name="Riverside Community MARAC",
        team_id="demo-team",
        tenant_id="demo-tenant",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    names = [
        "Riverside Police",
        "Riverside Homes (Housing)",
        "Adult Social Care",
        "Children's Services",
        "Riverside Mental Health Trust",
        "Victim Support",
        "Community Safety (Riverside Council)",
    ]
    agencies = {
        f"a{n}": Agency(id=f"a{n}", panel_id=panel.id, name=name) for n, name in enumerate(names)
    }
    busy = QuarterStats(
        quarter=Quarter(2026, 4),
        to_date=True,
        received=23,
        by_agency={"a0": 7, "a1": 6, "a5": 4, "a2": 3, "a3": 2, None: 1},
        accepted=15,
        declined=5,
        withdrawn=1,
        decline_reasons={
            DeclineReason.CRITERIA_NOT_MET: 2,
            DeclineReason.MORE_APPROPRIATE_MEETING: 2,
            DeclineReason.OUT_OF_AREA: 1,
        },
        risk_levels={RiskLevel.HIGH: 6, RiskLevel.MEDIUM: 7, RiskLevel.STANDARD: 2},
        repeats=4,
        days_to_first_hearing=[6, 9, 12, 14, 14, 20, 27],
        actions={
            "a0": ActionTally(on_time=5, late=1, overdue=1),
            "a1": ActionTally(on_time=4, overdue=2, open=2),
            "a2": ActionTally(on_time=1, late=2, cancelled=1),
            "a4": ActionTally(on_time=2, open=1),
            "a3": ActionTally(overdue=1, open=1),
        },
        closures={
            ClosureReason.SUPPORT_PLAN_IN_PLACE: 4,
            ClosureReason.CONCERNS_REDUCED: 3,
            ClosureReason.PASSED_BACK_NO_ENGAGEMENT: 1,
        },
        new_cases=15,
        with_children=6,
    )
    empty = QuarterStats(
        quarter=Quarter(2025, 1),
        to_date=False,
        received=0,
        by_agency={},
        accepted=0,
        declined=0,
        withdrawn=0,
        decline_reasons={},
        risk_levels={},
        repeats=0,
        days_to_first_hearing=[],
        actions={},
        closures={},
        new_cases=0,
        with_children=0,
    )
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    url = (
        "https://bot.example.org/panels/demo-panel/stats/2026-Q4.csv"
        "?token=1796000000.demo-priya.demo-signature"
    )
    return {
        "stats-quarter": render_stats(stats_view(panel, busy, agencies, csv_url=url, now=now)),
        "stats-empty-quarter": render_stats(
            stats_view(panel, empty, agencies, csv_url=None, now=now)
        ),
    }


def cards() -> dict[str, Card]:
    """Every records card, with invented data."""
    return {**dataprotection_cards(), **stats_cards()}


def gallery(_router: Router) -> Mapping[str, Card]:
    """The records cards for the gallery (none of them needs the router)."""
    return cards()
