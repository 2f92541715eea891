"""Matching a referral's subjects against the panel's earlier referrals and cases.

DOMAIN.md: the same person is recognised by name and date of birth, or by name and
postcode. Names are compared as a coordinator reads them (bot/domain/names.py: order,
punctuation, accents, titles, familiar forms, slips of the keyboard, aliases), within a
blocking key: the same date of birth, the date with day and month swapped (a common slip),
or, where a date of birth is missing on either side, the same postcode. Two known dates of
birth that differ otherwise are two people. Each match says why it matched and how strongly;
exact matches come first.

A match is a **possible duplicate** while the earlier referral is pending or its case is
open, a **repeat** when its case closed in the last 12 months, and otherwise earlier history
the coordinator may still want to know about.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.names import Likeness, likeness
from bot.domain.referral import Referral, ReferralStatus, Subject

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date, datetime

    from bot.domain.case import Case

REPEAT_WINDOW_MONTHS = 12

# Referrals still waiting for the panel: a new one on the same person may be the same matter.
PENDING = frozenset({ReferralStatus.SUBMITTED, ReferralStatus.MORE_INFO_REQUESTED})


class MatchKind(StrEnum):
    POSSIBLE_DUPLICATE = "possible_duplicate"
    REPEAT = "repeat"
    EARLIER = "earlier"


# How much each kind matters to the coordinator: shown in this order.
KIND_ORDER: dict[MatchKind, int] = {
    MatchKind.POSSIBLE_DUPLICATE: 0,
    MatchKind.REPEAT: 1,
    MatchKind.EARLIER: 2,
}


class MatchBasis(StrEnum):
    DATE_OF_BIRTH = "date_of_birth"
    SWAPPED_DATE_OF_BIRTH = "swapped_date_of_birth"
    POSTCODE = "postcode"
    # The same postcode, and dates of birth one digit apart (a slip when typing it).
    POSTCODE_NEAR_DATE = "postcode_near_date"


# How sure a blocking key makes the match, beside the names' likeness.
BASIS_WEIGHT: dict[MatchBasis, float] = {
    MatchBasis.DATE_OF_BIRTH: 1.0,
    MatchBasis.SWAPPED_DATE_OF_BIRTH: 0.9,
    MatchBasis.POSTCODE: 0.9,
    MatchBasis.POSTCODE_NEAR_DATE: 0.85,
}

# The least likeness of names taken for one person: with a date of birth in common, and with
# only a postcode (households share a postcode and a family name: ask for more).
NAME_THRESHOLD = 0.85
POSTCODE_NAME_THRESHOLD = 0.9


@dataclass(frozen=True)
class Resemblance:
    """Why two subjects are taken for one person, and how strongly (0 to 1)."""

    basis: MatchBasis
    names: Likeness
    # The alias that matched, when it was not the subject's name.
    alias: str | None = None

    @property
    def exact(self) -> bool:
        return self.names.exact and self.basis is not MatchBasis.SWAPPED_DATE_OF_BIRTH

    @property
    def strength(self) -> float:
        return round(self.names.score * BASIS_WEIGHT[self.basis], 3)


@dataclass(frozen=True)
class SubjectMatch:
    """One subject of the new referral found again in an earlier referral (and its case)."""

    subject: Subject
    earlier: Referral
    earlier_subject: Subject
    case: Case | None
    kind: MatchKind
    basis: MatchBasis
    resemblance: Resemblance | None = None

    @property
    def exact(self) -> bool:
        return self.resemblance is None or self.resemblance.exact

    @property
    def strength(self) -> float:
        return 1.0 if self.resemblance is None else self.resemblance.strength


def months_before(at: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (the 31st falls back to month end)."""
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    day = at.day
    while True:  # at most three steps back, from the 31st to the 28th
        try:
            return at.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def swapped(day: date) -> date | None:
    """The date with day and month swapped (3 April for 4 March), when that is a date."""
    if day.day > 12 or day.day == day.month:
        return None
    return day.replace(month=day.day, day=day.month)


def one_digit_apart(day: date, other: date) -> bool:
    """Dates written the same but for one digit (1986-04-03 and 1968-04-03 are two apart)."""
    written, other_written = day.isoformat(), other.isoformat()
    return sum(a != b for a, b in zip(written, other_written, strict=True)) == 1


def blocking_basis(subject: Subject, other: Subject) -> MatchBasis | None:
    """The key that puts two subjects in one block, or None: they cannot be one person."""
    born, other_born = subject.date_of_birth, other.date_of_birth
    if born is not None and other_born is not None:
        if born == other_born:
            return MatchBasis.DATE_OF_BIRTH
        if swapped(born) == other_born:
            return MatchBasis.SWAPPED_DATE_OF_BIRTH
        same_address = subject.match_postcode is not None and (
            subject.match_postcode == other.match_postcode
        )
        if same_address and one_digit_apart(born, other_born):
            return MatchBasis.POSTCODE_NEAR_DATE
        return None  # two known dates of birth that differ: two people
    if subject.match_postcode is not None and subject.match_postcode == other.match_postcode:
        return MatchBasis.POSTCODE
    return None


def resemblance(subject: Subject, other: Subject) -> Resemblance | None:
    """Why `subject` is taken for `other`, or None when the coordinator would not think so."""
    basis = blocking_basis(subject, other)
    if basis is None:
        return None
    best: tuple[Likeness, str | None] | None = None
    for name in (subject.name, *subject.aliases):
        for other_name in (other.name, *other.aliases):
            alike = likeness(name, other_name)
            if other_name != other.name:
                via: str | None = other_name
            else:
                via = name if name != subject.name else None
            if best is None or alike.score > best[0].score:
                best = (alike, via)
    assert best is not None
    names, alias = best
    threshold = (
        NAME_THRESHOLD
        if basis in (MatchBasis.DATE_OF_BIRTH, MatchBasis.SWAPPED_DATE_OF_BIRTH)
        else POSTCODE_NAME_THRESHOLD
    )
    if names.score < threshold:
        return None
    return Resemblance(basis=basis, names=names, alias=alias)


def match_basis(subject: Subject, other: Subject) -> MatchBasis | None:
    """Why two subjects are taken for the same person, or None when they are not."""
    found = resemblance(subject, other)
    return None if found is None else found.basis


def match_kind(earlier: Referral, case: Case | None, now: datetime) -> MatchKind | None:
    """How an earlier referral (with its case, if accepted) bears on a new one; None for a
    draft, which the panel has not received and the coordinator must not see."""
    if earlier.status is ReferralStatus.DRAFT:
        return None
    if case is not None:
        if case.is_open:
            return MatchKind.POSSIBLE_DUPLICATE
        closed_at = case.closed_at
        if closed_at is not None and closed_at >= months_before(now, REPEAT_WINDOW_MONTHS):
            return MatchKind.REPEAT
        return MatchKind.EARLIER
    if earlier.status in PENDING:
        return MatchKind.POSSIBLE_DUPLICATE
    return MatchKind.EARLIER


def classify_matches(
    referral: Referral,
    hits: Iterable[tuple[Subject, Referral, Subject]],
    cases: Mapping[str, Case],
    now: datetime,
) -> list[SubjectMatch]:
    """Classify what the search found for each subject of `referral`.

    `hits` are (subject of `referral`, earlier referral, its subject) as the repository
    found them; `cases` holds the earlier referrals' cases by id. Each pair is checked again
    (the rule lives here, not in a query), the referral itself and drafts are left out, and
    each earlier referral appears once per subject, by its strongest resemblance. Exact
    matches first, then the most pressing, the strongest, the newest.
    """
    found: dict[tuple[str, str], SubjectMatch] = {}
    for subject, earlier, earlier_subject in hits:
        if earlier.id == referral.id or earlier.panel_id != referral.panel_id:
            continue
        found_alike = resemblance(subject, earlier_subject)
        if found_alike is None:
            continue
        case = cases.get(earlier.case_id) if earlier.case_id else None
        kind = match_kind(earlier, case, now)
        if kind is None:
            continue
        key = (subject.id, earlier.id)
        if key in found and found[key].strength >= found_alike.strength:
            continue
        found[key] = SubjectMatch(
            subject=subject,
            earlier=earlier,
            earlier_subject=earlier_subject,
            case=case,
            kind=kind,
            basis=found_alike.basis,
            resemblance=found_alike,
        )
    return sorted(
        found.values(),
        key=lambda m: (
            not m.exact,
            KIND_ORDER[m.kind],
            -m.strength,
            -_newest(m).timestamp(),
            m.earlier.reference,
        ),
    )


def _newest(match: SubjectMatch) -> datetime:
    earlier = match.earlier
    return earlier.submitted_at or earlier.created_at
