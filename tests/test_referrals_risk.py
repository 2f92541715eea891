"""The assessed risk level of a referral: a rule of the domain (bot.domain.referral), pure.

The matrix here is a small invented one, so each expectation follows from its threshold.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.referral import Criteria, Referral, assessed_risk_level, meets_high_risk
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


def referral(total: int | None, criteria: Criteria | None = None) -> Referral:
    return Referral(
        panel_id="p1",
        reference="RF-2026-0001",
        referrer_member_id="m1",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        risk_total=total,
        criteria=criteria or Criteria(),
    )


def test_a_total_above_the_threshold_is_high_risk_and_at_it_is_not() -> None:
    assert assessed_risk_level(referral(ABOVE), MATRIX) is RiskLevel.HIGH
    assert meets_high_risk(referral(ABOVE), MATRIX)
    assert not meets_high_risk(referral(MATRIX.threshold), MATRIX)


def test_the_high_risk_criterion_makes_it_high_whatever_the_total() -> None:
    assert assessed_risk_level(referral(None, Criteria(high_risk=True)), MATRIX) is RiskLevel.HIGH
    assert assessed_risk_level(referral(1, Criteria(high_risk=True)), MATRIX) is RiskLevel.HIGH


@pytest.mark.parametrize(
    "criteria",
    [Criteria(potential_escalation=True), Criteria(professional_judgement="Frightened to go out.")],
)
def test_escalation_or_judgement_below_the_threshold_is_medium(criteria: Criteria) -> None:
    assert assessed_risk_level(referral(MATRIX.threshold, criteria), MATRIX) is RiskLevel.MEDIUM


def test_a_referral_meeting_no_criterion_below_the_threshold_is_standard() -> None:
    assert assessed_risk_level(referral(MATRIX.threshold), MATRIX) is RiskLevel.STANDARD
    assert assessed_risk_level(referral(None), MATRIX) is RiskLevel.STANDARD
    blank = referral(None, Criteria(professional_judgement="   "))
    assert assessed_risk_level(blank, MATRIX) is RiskLevel.STANDARD


def test_the_level_follows_the_matrix_it_is_given() -> None:
    stricter = RiskMatrix(version="test-2", threshold=ABOVE, items=MATRIX.items)
    assert assessed_risk_level(referral(ABOVE), MATRIX) is RiskLevel.HIGH
    assert assessed_risk_level(referral(ABOVE), stricter) is RiskLevel.STANDARD
