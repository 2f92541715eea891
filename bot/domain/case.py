"""A case: an accepted referral the panel hears, reviews and closes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidInput
from bot.domain.risk import RiskLevel

if TYPE_CHECKING:
    from datetime import datetime


class CaseStatus(StrEnum):
    OPEN = "open"
    HEARD = "heard"
    CLOSED = "closed"


ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.HEARD, CaseStatus.CLOSED}),
    CaseStatus.HEARD: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}


class ClosureReason(StrEnum):
    SUPPORT_PLAN_IN_PLACE = "support_plan_in_place"
    CONCERNS_REDUCED = "concerns_reduced"
    PASSED_BACK_NO_ENGAGEMENT = "passed_back_no_engagement"
    PASSED_BACK_TO_PROGRESS = "passed_back_to_progress"
    OTHER = "other"


CLOSURE_LABELS: dict[ClosureReason, str] = {
    ClosureReason.SUPPORT_PLAN_IN_PLACE: "Joined-up support plan in place",
    ClosureReason.CONCERNS_REDUCED: "Safeguarding concerns reduced",
    ClosureReason.PASSED_BACK_NO_ENGAGEMENT: (
        "Passed back to the primary agency: the subjects do not engage"
    ),
    ClosureReason.PASSED_BACK_TO_PROGRESS: "Passed back to the primary agency to progress the plan",
    ClosureReason.OTHER: "Other",
}


@dataclass(kw_only=True)
class Case:
    """An open matter of the panel with a human reference such as CM-2026-014."""

    id: str = field(default_factory=new_id)
    panel_id: str
    reference: str
    referral_id: str | None = None
    status: CaseStatus = CaseStatus.OPEN
    risk_level: RiskLevel = RiskLevel.STANDARD
    risk_score: int | None = None
    has_children: bool = False
    lead_agency_id: str | None = None
    lead_officer: str | None = None
    keeps_victim_informed: str | None = None
    victim_last_updated_at: datetime | None = None
    invited_agency_ids: frozenset[str] = frozenset()
    closure_reason: ClosureReason | None = None
    closure_note: str | None = None
    opened_at: datetime
    first_heard_at: datetime | None = None
    closed_at: datetime | None = None
    # The meeting that reviews the case next (revision 0004); None: the next meeting.
    review_meeting_id: str | None = None
    # The optimistic lock: the version stored (0 until first saved). Storage saves only
    # from the stored version and sets the next; a stale copy raises StaleVersion.
    version: int = 0

    def __post_init__(self) -> None:
        require_aware(self.opened_at, "opened_at")

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.CLOSED

    def invite(self, agency_id: str) -> None:
        """Invite an agency outside the core group for this case only."""
        self.invited_agency_ids = self.invited_agency_ids | {agency_id}

    def mark_heard(self, at: datetime) -> None:
        """The panel has heard the case and agreed an action plan."""
        if self.status is CaseStatus.OPEN:
            self.status = move(self.status, CaseStatus.HEARD, ALLOWED, "case")
            self.first_heard_at = require_aware(at)

    def nominate_lead(self, agency_id: str, officer: str | None = None) -> None:
        """Nominate the lead agency (and officer) for the case."""
        self.lead_agency_id = agency_id
        self.lead_officer = officer

    def close(self, reason: ClosureReason, note: str | None, at: datetime) -> None:
        """Close with a reason; 'other' needs a note."""
        if reason is ClosureReason.OTHER and not (note or "").strip():
            raise InvalidInput("Say why the case is closed.", {"closure_note": "required"})
        self.status = move(self.status, CaseStatus.CLOSED, ALLOWED, "case")
        self.closure_reason = reason
        self.closure_note = note
        self.closed_at = require_aware(at)
        self.review_meeting_id = None

    def review_at(self, meeting_id: str) -> None:
        """The panel reviews the case again at this (later) meeting."""
        if not self.is_open:
            raise InvalidInput("A closed case is not reviewed.")
        self.review_meeting_id = meeting_id

    def set_risk_level(self, level: RiskLevel) -> None:
        """The panel's assessment of the risk now."""
        if not self.is_open:
            raise InvalidInput("The risk level of a closed case does not change.")
        self.risk_level = level

    def reopen(self) -> None:
        """Reopen a closed case."""
        self.status = move(self.status, CaseStatus.OPEN, ALLOWED, "case")
        self.closure_reason = None
        self.closure_note = None
        self.closed_at = None
