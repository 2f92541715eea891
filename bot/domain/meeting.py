"""Panel meetings and their agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidInput


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    AGENDA_PUBLISHED = "agenda_published"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    MINUTES_APPROVED = "minutes_approved"
    CANCELLED = "cancelled"


ALLOWED: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.SCHEDULED: frozenset(
        {MeetingStatus.AGENDA_PUBLISHED, MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED}
    ),
    MeetingStatus.AGENDA_PUBLISHED: frozenset({MeetingStatus.IN_PROGRESS, MeetingStatus.CANCELLED}),
    MeetingStatus.IN_PROGRESS: frozenset({MeetingStatus.ENDED}),
    MeetingStatus.ENDED: frozenset({MeetingStatus.MINUTES_APPROVED}),
}


@dataclass(kw_only=True)
class Meeting:
    """One monthly panel meeting."""

    id: str = field(default_factory=new_id)
    panel_id: str
    starts_at: datetime
    ends_at: datetime
    referral_deadline: datetime
    status: MeetingStatus = MeetingStatus.SCHEDULED
    join_url: str | None = None
    teams_meeting_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("starts_at", "ends_at", "referral_deadline"):
            require_aware(getattr(self, name), name)
        if self.ends_at <= self.starts_at:
            raise InvalidInput("A meeting must end after it starts.", {"ends_at": "invalid"})
        if self.referral_deadline > self.starts_at:
            raise InvalidInput(
                "The referral deadline must fall before the meeting.",
                {"referral_deadline": "invalid"},
            )

    @property
    def length_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def accepts_referrals_at(self, at: datetime) -> bool:
        """Whether a case accepted at `at` can still be listed for this meeting."""
        return self.status in {MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED} and (
            at <= self.referral_deadline
        )

    def move_to(self, status: MeetingStatus) -> None:
        """Advance the meeting along its lifecycle."""
        self.status = move(self.status, status, ALLOWED, "meeting")


class AgendaItemKind(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    UNMET_ACTIONS = "unmet_actions"
    NEW_CASE = "new_case"
    REVIEW_CASE = "review_case"
    OTHER_BUSINESS = "other_business"


# DOMAIN.md's agenda order: the kind decides the section, position orders within it.
SECTION_ORDER: dict[AgendaItemKind, int] = {
    AgendaItemKind.CONFIDENTIALITY: 1,
    AgendaItemKind.UNMET_ACTIONS: 2,
    AgendaItemKind.NEW_CASE: 3,
    AgendaItemKind.REVIEW_CASE: 4,
    AgendaItemKind.OTHER_BUSINESS: 5,
}


class AgendaItemStatus(StrEnum):
    PENDING = "pending"
    DISCUSSED = "discussed"
    DEFERRED = "deferred"
    REMOVED = "removed"


@dataclass(kw_only=True)
class AgendaItem:
    """One item on a meeting's agenda; case items name their case."""

    id: str = field(default_factory=new_id)
    panel_id: str
    meeting_id: str
    kind: AgendaItemKind
    position: int
    title: str
    case_id: str | None = None
    minutes_estimate: int = 0
    status: AgendaItemStatus = AgendaItemStatus.PENDING
    note: str | None = None

    def __post_init__(self) -> None:
        is_case_item = self.kind in {AgendaItemKind.NEW_CASE, AgendaItemKind.REVIEW_CASE}
        if is_case_item != (self.case_id is not None):
            raise InvalidInput("New and review items, and only they, name a case.")
