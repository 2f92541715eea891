"""Matching a referral's subjects against the panel's earlier referrals and cases.

DOMAIN.md: the same person is recognised by normalised name and date of birth, or by
normalised name and postcode. A match is a **possible duplicate** while the earlier referral
is pending or its case is open, a **repeat** when its case closed in the last 12 months, and
otherwise earlier history the coordinator may still want to know about.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.referral import Referral, ReferralStatus, Subject

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

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
    POSTCODE = "postcode"


@dataclass(frozen=True)
class SubjectMatch:
    """One subject of the new referral found again in an earlier referral (and its case)."""

    subject: Subject
    earlier: Referral
    earlier_subject: Subject
    case: Case | None
    kind: MatchKind
    basis: MatchBasis


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


def match_basis(subject: Subject, other: Subject) -> MatchBasis | None:
    """Why two subjects are taken for the same person, or None when they are not."""
    if not subject.match_name or subject.match_name != other.match_name:
        return None
    if subject.date_of_birth is not None and subject.date_of_birth == other.date_of_birth:
        return MatchBasis.DATE_OF_BIRTH
    if subject.match_postcode is not None and subject.match_postcode == other.match_postcode:
        return MatchBasis.POSTCODE
    return None


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
    each earlier referral appears once per subject. Most pressing first, then newest first.
    """
    found: dict[tuple[str, str], SubjectMatch] = {}
    for subject, earlier, earlier_subject in hits:
        if earlier.id == referral.id or earlier.panel_id != referral.panel_id:
            continue
        basis = match_basis(subject, earlier_subject)
        if basis is None:
            continue
        case = cases.get(earlier.case_id) if earlier.case_id else None
        kind = match_kind(earlier, case, now)
        if kind is None:
            continue
        key = (subject.id, earlier.id)
        if key in found and found[key].basis is MatchBasis.DATE_OF_BIRTH:
            continue
        found[key] = SubjectMatch(
            subject=subject,
            earlier=earlier,
            earlier_subject=earlier_subject,
            case=case,
            kind=kind,
            basis=basis,
        )
    return sorted(
        found.values(),
        key=lambda m: (KIND_ORDER[m.kind], -_newest(m).timestamp(), m.earlier.reference),
    )


def _newest(match: SubjectMatch) -> datetime:
    earlier = match.earlier
    return earlier.submitted_at or earlier.created_at
