"""Matching a new referral's subjects against earlier referrals and cases: the pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.matching import (
    MatchBasis,
    MatchKind,
    classify_matches,
    match_basis,
    match_kind,
    months_before,
)
from bot.domain.referral import (
    Consent,
    Criteria,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
)

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def subject(name: str = "Samuel Achebe", **fields: object) -> Subject:
    return Subject(role=SubjectRole.VICTIM, name=name, **fields)  # type: ignore[arg-type]


def referral(
    reference: str,
    *subjects: Subject,
    status: ReferralStatus = ReferralStatus.SUBMITTED,
    case_id: str | None = None,
    days_ago: int = 10,
    panel_id: str = "p1",
) -> Referral:
    return Referral(
        panel_id=panel_id,
        reference=reference,
        referrer_member_id="m1",
        status=status,
        subjects=list(subjects),
        criteria=Criteria(potential_escalation=True),
        consent=Consent(aware=True, consented=True),
        case_id=case_id,
        created_at=NOW - timedelta(days=days_ago),
        submitted_at=NOW - timedelta(days=days_ago),
    )


def case(status: CaseStatus = CaseStatus.OPEN, closed_days_ago: int | None = None) -> Case:
    opened = NOW - timedelta(days=900)
    c = Case(panel_id="p1", reference="CM-2025-007", status=status, opened_at=opened)
    if closed_days_ago is not None:
        c.status = CaseStatus.HEARD
        c.close(ClosureReason.CONCERNS_REDUCED, None, NOW - timedelta(days=closed_days_ago))
    return c


def test_the_same_name_and_date_of_birth_is_the_same_person() -> None:
    born = date(1972, 11, 30)
    assert (
        match_basis(
            subject("Samuel Achebe", date_of_birth=born),
            subject("SAMUEL  achebe", date_of_birth=born),
        )
        is MatchBasis.DATE_OF_BIRTH
    )


def test_the_same_name_and_postcode_is_the_same_person_even_spelled_differently() -> None:
    assert (
        match_basis(
            subject("Zoë O'Neill", postcode="rv3 1ab"), subject("Zoe O Neill", postcode="RV31AB")
        )
        is MatchBasis.POSTCODE
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (subject(date_of_birth=date(1972, 11, 30)), subject(date_of_birth=date(1972, 11, 29))),
        (
            subject("Samuel Achebe", postcode="RV3 1AB"),
            subject("Samuel Okafor", postcode="RV3 1AB"),
        ),
        (subject(), subject()),  # a name alone is not enough
    ],
    ids=["other-birthday", "other-name", "name-only"],
)
def test_a_name_without_a_matching_birth_date_or_postcode_is_not_a_match(
    ours: Subject, theirs: Subject
) -> None:
    assert match_basis(ours, theirs) is None


def test_a_pending_referral_on_the_same_person_is_a_possible_duplicate() -> None:
    for status in (ReferralStatus.SUBMITTED, ReferralStatus.MORE_INFO_REQUESTED):
        assert (
            match_kind(referral("RF-1", status=status), None, NOW) is MatchKind.POSSIBLE_DUPLICATE
        )


def test_an_open_case_on_the_same_person_is_a_possible_duplicate() -> None:
    earlier = referral("RF-1", status=ReferralStatus.ACCEPTED, case_id="c1")
    for status in (CaseStatus.OPEN, CaseStatus.HEARD):
        assert match_kind(earlier, case(status), NOW) is MatchKind.POSSIBLE_DUPLICATE


def test_a_case_closed_within_twelve_months_makes_a_repeat() -> None:
    earlier = referral("RF-1", status=ReferralStatus.ACCEPTED, case_id="c1")
    assert match_kind(earlier, case(closed_days_ago=200), NOW) is MatchKind.REPEAT


def test_a_case_closed_longer_ago_than_twelve_months_is_earlier_history() -> None:
    earlier = referral("RF-1", status=ReferralStatus.ACCEPTED, case_id="c1")
    assert match_kind(earlier, case(closed_days_ago=400), NOW) is MatchKind.EARLIER


def test_the_repeat_window_ends_exactly_twelve_calendar_months_back() -> None:
    earlier = referral("RF-1", status=ReferralStatus.ACCEPTED, case_id="c1")
    closed = case()
    closed.status = CaseStatus.CLOSED
    closed.closed_at = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
    assert match_kind(earlier, closed, NOW) is MatchKind.REPEAT
    closed.closed_at = datetime(2025, 11, 20, 9, 59, tzinfo=UTC)
    assert match_kind(earlier, closed, NOW) is MatchKind.EARLIER


def test_twelve_months_before_a_leap_day_falls_back_to_the_end_of_february() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert months_before(leap, 12) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)


def test_declined_and_withdrawn_referrals_are_earlier_history() -> None:
    for status in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN):
        assert match_kind(referral("RF-1", status=status), None, NOW) is MatchKind.EARLIER


def test_a_draft_is_never_a_match_the_coordinator_sees() -> None:
    assert match_kind(referral("RF-1", status=ReferralStatus.DRAFT), None, NOW) is None


def test_matches_come_most_pressing_first_and_leave_out_the_referral_itself() -> None:
    born = date(1972, 11, 30)
    new_subject = subject(date_of_birth=born, postcode="RV3 1AB")
    new = referral("RF-9", new_subject, days_ago=0)
    old_case = case(closed_days_ago=30)
    closed = referral(
        "RF-1", subject(date_of_birth=born), status=ReferralStatus.ACCEPTED, case_id=old_case.id
    )
    declined = referral("RF-2", subject(postcode="RV31AB"), status=ReferralStatus.DECLINED)
    pending = referral("RF-3", subject(date_of_birth=born), days_ago=3)
    hits = [
        (new_subject, earlier, earlier.subjects[0]) for earlier in (closed, declined, pending, new)
    ]
    matches = classify_matches(new, hits, {old_case.id: old_case}, NOW)
    assert [(m.earlier.reference, m.kind) for m in matches] == [
        ("RF-3", MatchKind.POSSIBLE_DUPLICATE),
        ("RF-1", MatchKind.REPEAT),
        ("RF-2", MatchKind.EARLIER),
    ]
    assert matches[1].case is old_case
    assert matches[2].basis is MatchBasis.POSTCODE


def test_what_the_search_returns_is_checked_again_and_other_panels_are_ignored() -> None:
    ours = subject(date_of_birth=date(1972, 11, 30))
    new = referral("RF-9", ours, days_ago=0)
    not_the_same = referral("RF-1", subject(date_of_birth=date(1990, 1, 1)))
    elsewhere = referral("RF-2", subject(date_of_birth=date(1972, 11, 30)), panel_id="p2")
    hits = [(ours, r, r.subjects[0]) for r in (not_the_same, elsewhere)]
    assert classify_matches(new, hits, {}, NOW) == []


def test_one_earlier_referral_found_twice_for_a_subject_is_listed_once() -> None:
    ours = subject(date_of_birth=date(1972, 11, 30), postcode="RV3 1AB")
    new = referral("RF-9", ours, days_ago=0)
    earlier = referral("RF-1", subject(date_of_birth=date(1972, 11, 30), postcode="RV3 1AB"))
    hits = [(ours, earlier, earlier.subjects[0]), (ours, earlier, earlier.subjects[0])]
    matches = classify_matches(new, hits, {}, NOW)
    assert len(matches) == 1
    assert matches[0].basis is MatchBasis.DATE_OF_BIRTH
