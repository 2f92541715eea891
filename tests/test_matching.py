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
    resemblance,
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


# --- names written differently (issue 15: matching as a coordinator would) ---------------

BORN = date(1984, 3, 7)


@pytest.mark.parametrize(
    ("new", "earlier", "reason"),
    [
        ("Smith, Jon", "John Smith", "a familiar form of a first name"),
        ("MR JOHN SMITH", "John Smith", "same name"),
        ("Bill Turner", "William Turner", "a familiar form of a first name"),
        ("Jonh Smtih", "John Smith", "spelt differently"),
        ("John Paul Smith", "John Smith", "a name more or less"),
        ("J. Smith", "John Smith", "an initial for a name"),
        ("Zoë O'Neill", "Zoe ONeill", "same name"),
    ],
)
def test_a_name_written_differently_with_the_same_date_of_birth_is_found(
    new: str, earlier: str, reason: str
) -> None:
    found = resemblance(subject(new, date_of_birth=BORN), subject(earlier, date_of_birth=BORN))
    assert found is not None
    assert found.basis is MatchBasis.DATE_OF_BIRTH
    assert found.names.reason == reason
    assert 0.85 <= found.strength <= 1.0


def test_the_same_name_in_another_order_is_an_exact_match() -> None:
    found = resemblance(
        subject("Smith, John", date_of_birth=BORN), subject("John Smith", date_of_birth=BORN)
    )
    assert found is not None
    assert found.exact
    assert found.strength == 1.0


def test_day_and_month_swapped_is_found_but_never_exact() -> None:
    found = resemblance(
        subject("John Smith", date_of_birth=date(1984, 7, 3)),
        subject("John Smith", date_of_birth=BORN),
    )
    assert found is not None
    assert found.basis is MatchBasis.SWAPPED_DATE_OF_BIRTH
    assert not found.exact
    assert found.strength < 1.0


def test_an_alias_of_the_earlier_subject_is_a_match_and_says_so() -> None:
    earlier = subject("Kyle Dawson", aliases=("KD Marsh",), date_of_birth=BORN)
    found = resemblance(subject("K.D. Marsh", date_of_birth=BORN), earlier)
    assert found is not None
    assert found.alias == "KD Marsh"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        # A relative at the same address: one family name, another first name.
        (
            subject("Grace Ashworth", postcode="RV3 1AB"),
            subject("Marcus Ashworth", postcode="RV3 1AB"),
        ),
        # Born the same day, another person.
        (subject("Leanne Osei", date_of_birth=BORN), subject("Tariq Iqbal", date_of_birth=BORN)),
        # The same name, born another day: two people (and not a slip: not one digit apart).
        (
            subject("John Smith", date_of_birth=BORN, postcode="RV3 1AB"),
            subject("John Smith", date_of_birth=date(1991, 10, 12), postcode="RV3 1AB"),
        ),
    ],
    ids=["relative-at-the-address", "stranger-same-birthday", "same-name-other-birthday"],
)
def test_strangers_who_look_alike_are_not_matched(ours: Subject, theirs: Subject) -> None:
    assert resemblance(ours, theirs) is None


def test_a_year_of_birth_mistyped_at_the_same_address_is_found() -> None:
    found = resemblance(
        subject("John Smith", date_of_birth=date(1948, 3, 7), postcode="RV3 1AB"),
        subject("John Smith", date_of_birth=BORN, postcode="rv31ab"),
    )
    assert found is None  # two digits apart
    found = resemblance(
        subject("John Smith", date_of_birth=date(1989, 3, 7), postcode="RV3 1AB"),
        subject("John Smith", date_of_birth=BORN, postcode="rv31ab"),
    )
    assert found is not None
    assert found.basis is MatchBasis.POSTCODE_NEAR_DATE


def test_exact_matches_come_before_similar_ones_then_the_strongest() -> None:
    ours = subject("John Smith", date_of_birth=BORN)
    new = referral("RF-9", ours, days_ago=0)
    similar = referral("RF-1", subject("Jon Smyth", date_of_birth=BORN), days_ago=1)
    swapped = referral("RF-2", subject("John Smith", date_of_birth=date(1984, 7, 3)), days_ago=2)
    exact = referral("RF-3", subject("Smith, John", date_of_birth=BORN), days_ago=300)
    hits = [(ours, r, r.subjects[0]) for r in (similar, swapped, exact)]
    matches = classify_matches(new, hits, {}, NOW)
    # The exact one first although it is the oldest; then the stronger of the two similar.
    assert [m.earlier.reference for m in matches] == ["RF-3", "RF-1", "RF-2"]
    assert matches[0].exact
    assert not matches[1].exact
    assert not matches[2].exact
    assert matches[1].strength > matches[2].strength


def test_the_invented_evaluation_set_meets_the_aims() -> None:
    from bot.bench.matching import evaluate, evaluation_set

    pairs = evaluation_set()
    assert len(pairs) >= 200
    assert {p.same for p in pairs} == {True, False}
    score = evaluate(pairs)
    assert score.recall >= 0.95, score.missed
    assert score.precision >= 0.8, score.wrongly_matched
