"""The assessed risk level of a referral: a rule of the domain (bot.domain.referral), pure.
A referral is judged by the matrix version it was scored with: the threshold stored with
it, never today's matrix's.

The matrix here is a small invented one, so each expectation follows from its threshold.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.referral import (
    Criteria,
    Referral,
    assessed_risk_level,
    meets_high_risk,
    scored_threshold,
)
from bot.domain.risk import RiskItem, RiskLevel, RiskMatrix, RiskOption

MATRIX = RiskMatrix(
    version="test-1",
    threshold=4,
    items=(
        RiskItem(
            "harm",
            "How likely is harm?",
            (RiskOption("low", "Low", 1), RiskOption("high", "High", 3)),
        ),
        RiskItem(
            "often",
            "How often?",
            (RiskOption("rare", "Rarely", 1), RiskOption("daily", "Daily", 3)),
        ),
    ),
)
ABOVE = MATRIX.threshold + 1


def referral(
    total: int | None,
    criteria: Criteria | None = None,
    *,
    threshold: int | None = MATRIX.threshold,
    version: str | None = MATRIX.version,
) -> Referral:
    return Referral(
        panel_id="p1",
        reference="RF-2026-0001",
        referrer_member_id="m1",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        risk_total=total,
        risk_threshold=threshold if total is not None else None,
        risk_matrix_version=version if total is not None else None,
        criteria=criteria or Criteria(),
    )


def test_a_total_above_the_threshold_is_high_risk_and_at_it_is_not() -> None:
    assert assessed_risk_level(referral(ABOVE)) is RiskLevel.HIGH
    assert meets_high_risk(referral(ABOVE))
    assert not meets_high_risk(referral(MATRIX.threshold))


def test_the_high_risk_criterion_makes_it_high_whatever_the_total() -> None:
    assert assessed_risk_level(referral(None, Criteria(high_risk=True))) is RiskLevel.HIGH
    assert assessed_risk_level(referral(1, Criteria(high_risk=True))) is RiskLevel.HIGH


@pytest.mark.parametrize(
    "criteria",
    [Criteria(potential_escalation=True), Criteria(professional_judgement="Frightened to go out.")],
)
def test_escalation_or_judgement_below_the_threshold_is_medium(criteria: Criteria) -> None:
    assert assessed_risk_level(referral(MATRIX.threshold, criteria)) is RiskLevel.MEDIUM


def test_a_referral_meeting_no_criterion_below_the_threshold_is_standard() -> None:
    assert assessed_risk_level(referral(MATRIX.threshold)) is RiskLevel.STANDARD
    assert assessed_risk_level(referral(None)) is RiskLevel.STANDARD
    blank = referral(None, Criteria(professional_judgement="   "))
    assert assessed_risk_level(blank) is RiskLevel.STANDARD


def test_an_old_referral_high_under_its_version_stays_high_after_the_threshold_rises() -> None:
    old = referral(ABOVE)  # scored under test-1: above 4 is high
    raised = RiskMatrix(version="test-2", threshold=ABOVE + 10, items=MATRIX.items)
    assert assessed_risk_level(old, raised) is RiskLevel.HIGH
    assert scored_threshold(old, raised) == MATRIX.threshold


def test_an_old_referral_below_its_threshold_stays_below_after_the_threshold_falls() -> None:
    old = referral(MATRIX.threshold)
    lowered = RiskMatrix(version="test-2", threshold=1, items=MATRIX.items)
    assert assessed_risk_level(old, lowered) is RiskLevel.STANDARD
    # Even today's matrix under the same name does not speak over the stored threshold.
    renamed = RiskMatrix(version=MATRIX.version, threshold=1, items=MATRIX.items)
    assert assessed_risk_level(old, renamed) is RiskLevel.STANDARD


def test_a_referral_stored_without_a_threshold_is_judged_by_its_own_version_only() -> None:
    unstored = referral(ABOVE, threshold=None)
    assert assessed_risk_level(unstored, MATRIX) is RiskLevel.HIGH  # its version: judged
    other = RiskMatrix(version="test-2", threshold=0, items=MATRIX.items)
    assert scored_threshold(unstored, other) is None
    assert assessed_risk_level(unstored, other) is RiskLevel.STANDARD  # total not judged
    assert assessed_risk_level(unstored) is RiskLevel.STANDARD
    escalating = referral(ABOVE, Criteria(potential_escalation=True), threshold=None)
    assert assessed_risk_level(escalating, other) is RiskLevel.MEDIUM
