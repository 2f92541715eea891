"""A referral: who is at risk, the risk assessment, the criteria met, consent; its lifecycle."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidInput
from bot.domain.risk import RiskLevel, RiskMatrix, above_threshold

if TYPE_CHECKING:
    from datetime import date, datetime


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO_REQUESTED = "more_info_requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


ALLOWED: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.DRAFT: frozenset({ReferralStatus.SUBMITTED, ReferralStatus.WITHDRAWN}),
    ReferralStatus.SUBMITTED: frozenset(
        {
            ReferralStatus.MORE_INFO_REQUESTED,
            ReferralStatus.ACCEPTED,
            ReferralStatus.DECLINED,
            ReferralStatus.WITHDRAWN,
        }
    ),
    ReferralStatus.MORE_INFO_REQUESTED: frozenset(
        {ReferralStatus.SUBMITTED, ReferralStatus.WITHDRAWN}
    ),
}


class ReferralCategory(StrEnum):
    ASB_VULNERABLE = "asb_vulnerable"
    COMPLEX_HIGH_RISK = "complex_high_risk"
    EXTREMISM = "extremism"


class SubjectRole(StrEnum):
    VICTIM = "victim"
    PERPETRATOR = "perpetrator"
    WITNESS = "witness"


class DeclineReason(StrEnum):
    CRITERIA_NOT_MET = "criteria_not_met"
    MORE_APPROPRIATE_MEETING = "more_appropriate_meeting"
    OUT_OF_AREA = "out_of_area"
    DUPLICATE = "duplicate"


def normalise_name(name: str) -> str:
    """Case-, accent- and punctuation-free form of a name, for matching repeats."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z ]+", " ", letters.lower()).split())


def normalise_postcode(postcode: str) -> str:
    """Upper-case postcode without spaces, for matching."""
    return re.sub(r"\s+", "", postcode).upper()


@dataclass(kw_only=True)
class Subject:
    """A person the referral is about: victim, perpetrator or witness."""

    id: str = field(default_factory=new_id)
    role: SubjectRole
    name: str
    aliases: tuple[str, ...] = ()
    date_of_birth: date | None = None
    address: str | None = None
    postcode: str | None = None
    phone: str | None = None
    safe_to_call: bool = False
    vulnerabilities: str | None = None
    language: str | None = None
    interpreter_needed: bool = False

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("Each subject needs a name.", {"subject.name": "required"})

    @property
    def match_name(self) -> str:
        return normalise_name(self.name)

    @property
    def match_postcode(self) -> str | None:
        return normalise_postcode(self.postcode) if self.postcode else None


@dataclass(kw_only=True)
class Child:
    """A child in the household."""

    name: str
    date_of_birth: date | None = None


@dataclass(kw_only=True)
class Consent:
    """Is the subject aware, did they consent, and if shared without consent, why."""

    aware: bool = False
    consented: bool = False
    without_consent_reason: str | None = None

    def check(self) -> None:
        """Sharing without consent needs a recorded reason."""
        if not self.consented and not (self.without_consent_reason or "").strip():
            raise InvalidInput(
                "Say why the referral is shared without consent.",
                {"consent.without_consent_reason": "required"},
            )


@dataclass(kw_only=True)
class Criteria:
    """Which eligibility criteria the referral meets."""

    high_risk: bool = False
    potential_escalation: bool = False
    professional_judgement: str | None = None
    # What the referrer typed to explain the escalation or their judgement, kept whenever
    # typed (professional_judgement holds it only when that box is ticked): the triage card
    # and the case show it.
    explanation: str | None = None

    @property
    def explained(self) -> str | None:
        """The explanation typed, or for a referral stored before it was kept whenever
        typed, the professional judgement's; None when nothing was typed."""
        return (self.explanation or self.professional_judgement or "").strip() or None

    @property
    def any(self) -> bool:
        return (
            self.high_risk
            or self.potential_escalation
            or bool((self.professional_judgement or "").strip())
        )


@dataclass(kw_only=True)
class Referral:
    """A professional's referral to the panel, from draft to decision."""

    id: str = field(default_factory=new_id)
    panel_id: str
    reference: str
    referrer_member_id: str
    referring_agency_id: str | None = None
    category: ReferralCategory = ReferralCategory.ASB_VULNERABLE
    status: ReferralStatus = ReferralStatus.DRAFT
    subjects: list[Subject] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    relationship: str | None = None
    incidents_last_12_months: int = 0
    incidents_rising: bool = False
    tried_already: str | None = None
    multi_professional_meeting_held: bool = False
    discussed_with: str | None = None
    agencies_involved: tuple[str, ...] = ()
    consent: Consent = field(default_factory=Consent)
    risk_answers: dict[str, str] = field(default_factory=dict)
    risk_matrix_version: str | None = None
    risk_total: int | None = None
    # The threshold of the matrix version the total was scored with, kept with it so that a
    # new version (a higher threshold, or the version gone from the panel's file) never
    # changes how this referral was judged.
    risk_threshold: int | None = None
    criteria: Criteria = field(default_factory=Criteria)
    decline_reason: DeclineReason | None = None
    decline_note: str | None = None
    more_info_question: str | None = None
    case_id: str | None = None
    created_at: datetime
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    # What the referrer typed on the intake card, kept as typed (even where not yet valid)
    # so nothing is lost between steps or sessions; `draft_step` is where they were.
    draft_inputs: dict[str, Any] = field(default_factory=dict)
    draft_step: str | None = None
    # Optimistic lock: storage refuses a save made from a stale copy (raises Conflict).
    version: int = 0

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")

    @property
    def has_children(self) -> bool:
        return bool(self.children)

    def submit(self, at: datetime) -> None:
        """Send the referral to the coordinator; it must meet at least one criterion."""
        if not self.subjects:
            raise InvalidInput("Add at least one subject.", {"subjects": "required"})
        if not self.criteria.any:
            raise InvalidInput(
                "This referral meets none of the panel's criteria: high risk (a risk total "
                "above the threshold), potential escalation, or professional judgement with "
                "a written justification."
            )
        self.consent.check()
        self.status = move(self.status, ReferralStatus.SUBMITTED, ALLOWED, "referral")
        self.submitted_at = require_aware(at)

    def ask_for_more_information(self, question: str) -> None:
        """Send the referral back to its referrer with a question."""
        if not question.strip():
            raise InvalidInput("Write the question for the referrer.", {"question": "required"})
        self.status = move(self.status, ReferralStatus.MORE_INFO_REQUESTED, ALLOWED, "referral")
        self.more_info_question = question.strip()

    def accept(self, case_id: str, at: datetime) -> None:
        """Accept: the referral becomes the case `case_id`."""
        self.status = move(self.status, ReferralStatus.ACCEPTED, ALLOWED, "referral")
        self.case_id = case_id
        self.decided_at = require_aware(at)

    def decline(self, reason: DeclineReason, note: str | None, at: datetime) -> None:
        """Decline with a reason from the panel's list."""
        if reason is DeclineReason.MORE_APPROPRIATE_MEETING and not (note or "").strip():
            raise InvalidInput("Name the more appropriate meeting.", {"decline_note": "required"})
        self.status = move(self.status, ReferralStatus.DECLINED, ALLOWED, "referral")
        self.decline_reason = reason
        self.decline_note = note
        self.decided_at = require_aware(at)

    def withdraw(self, at: datetime) -> None:
        """The referrer withdraws the referral."""
        self.status = move(self.status, ReferralStatus.WITHDRAWN, ALLOWED, "referral")
        self.decided_at = require_aware(at)


# How the categories and decline reasons read to people (DOMAIN.md's words).
CATEGORY_LABELS: dict[ReferralCategory, str] = {
    ReferralCategory.ASB_VULNERABLE: "ASB with a vulnerable victim or perpetrator",
    ReferralCategory.COMPLEX_HIGH_RISK: "Complex high-risk case that cannot be resolved locally",
    ReferralCategory.EXTREMISM: "Concern about extremism (consider Channel/Prevent)",
}
DECLINE_LABELS: dict[DeclineReason, str] = {
    DeclineReason.CRITERIA_NOT_MET: "Does not meet the panel's criteria",
    DeclineReason.MORE_APPROPRIATE_MEETING: "A more appropriate meeting exists",
    DeclineReason.OUT_OF_AREA: "Out of area",
    DeclineReason.DUPLICATE: "Duplicate of an open case",
}


def scored_threshold(referral: Referral, matrix: RiskMatrix | None = None) -> int | None:
    """The threshold of the matrix version the referral was scored with: the one stored
    with it; for a referral stored without one, `matrix`'s when it is that very version;
    otherwise None (the total cannot be judged). Today's matrix never judges a referral
    scored with another version."""
    if referral.risk_threshold is not None:
        return referral.risk_threshold
    if matrix is not None and referral.risk_matrix_version == matrix.version:
        return matrix.threshold
    return None


def meets_high_risk(referral: Referral, matrix: RiskMatrix | None = None) -> bool:
    """The high-risk criterion: the referrer's scoring found it so, or the total is above
    the threshold of the version it was scored with (`scored_threshold`)."""
    if referral.criteria.high_risk:
        return True
    threshold = scored_threshold(referral, matrix)
    total = referral.risk_total
    return total is not None and threshold is not None and above_threshold(total, threshold)


def assessed_risk_level(referral: Referral, matrix: RiskMatrix | None = None) -> RiskLevel:
    """High when the referral meets the high-risk criterion under the matrix version it was
    scored with; otherwise medium when escalation or professional judgement makes it
    eligible; standard when it meets none. `matrix` only speaks for referrals stored
    without their threshold, and only when it is their version."""
    if meets_high_risk(referral, matrix):
        return RiskLevel.HIGH
    if referral.criteria.any:
        return RiskLevel.MEDIUM
    return RiskLevel.STANDARD
