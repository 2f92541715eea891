"""Actions agreed for a case, their dated updates, and information requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidInput, NotAllowed

if TYPE_CHECKING:
    from datetime import date, datetime


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    # The panel closed the case and passed the action back to its owner agency, which carries
    # on with it as its own work: the panel no longer reviews it.
    PASSED_BACK = "passed_back"


ALLOWED: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset(
        {ActionStatus.DONE, ActionStatus.CANCELLED, ActionStatus.PASSED_BACK}
    ),
}


class UpdateKind(StrEnum):
    NOTE = "note"
    DONE = "done"
    CANCELLED = "cancelled"
    CARRIED_FORWARD = "carried_forward"
    ESCALATED = "escalated"
    PASSED_BACK = "passed_back"


@dataclass(kw_only=True)
class ActionUpdate:
    """A dated note on an action."""

    id: str = field(default_factory=new_id)
    panel_id: str
    action_id: str
    kind: UpdateKind = UpdateKind.NOTE
    note: str
    author_member_id: str | None = None
    at: datetime
    circumstances_changed: bool | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "at")


@dataclass(kw_only=True)
class Action:
    """Something one agency agreed to do for a case, by a date."""

    id: str = field(default_factory=new_id)
    panel_id: str
    case_id: str
    owner_agency_id: str
    description: str
    due_on: date
    status: ActionStatus = ActionStatus.OPEN
    set_by_member_id: str | None = None
    meeting_id: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    cancel_reason: str | None = None
    escalated: bool = False
    updates: list[ActionUpdate] = field(default_factory=list)
    # The optimistic lock: the version stored (0 until first saved). Storage saves only
    # from the stored version and sets the next; a stale copy raises StaleVersion.
    version: int = 0

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if not self.description.strip():
            raise InvalidInput("Describe the action.", {"description": "required"})

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date."""
        return self.status is ActionStatus.OPEN and self.due_on < today

    def is_unmet_at(self, meeting_day: date) -> bool:
        """Still open when a later meeting sits: reviewed first on that agenda."""
        return self.status is ActionStatus.OPEN and self.due_on <= meeting_day

    def _check_owner(self, by_agency_id: str) -> None:
        if by_agency_id != self.owner_agency_id:
            raise NotAllowed("Only the agency that owns this action can change it.")

    def _note(self, kind: UpdateKind, note: str, at: datetime, by: str | None) -> ActionUpdate:
        update = ActionUpdate(
            panel_id=self.panel_id,
            action_id=self.id,
            kind=kind,
            note=note,
            author_member_id=by,
            at=at,
        )
        self.updates.append(update)
        return update

    def add_update(
        self, note: str, *, by_agency_id: str, at: datetime, by_member_id: str | None = None
    ) -> ActionUpdate:
        """Add a dated progress note from the owning agency."""
        self._check_owner(by_agency_id)
        if not note.strip():
            raise InvalidInput("Write the update.", {"note": "required"})
        return self._note(UpdateKind.NOTE, note.strip(), at, by_member_id)

    def complete(
        self, *, by_agency_id: str, at: datetime, note: str = "", by_member_id: str | None = None
    ) -> None:
        """Mark done by the owning agency."""
        self._check_owner(by_agency_id)
        self.status = move(self.status, ActionStatus.DONE, ALLOWED, "action")
        self.completed_at = require_aware(at)
        self._note(UpdateKind.DONE, note.strip() or "Done.", at, by_member_id)

    def cancel(
        self,
        reason: str,
        *,
        at: datetime,
        by_member_id: str | None = None,
        circumstances_changed: bool | None = None,
    ) -> None:
        """Cancel with a reason (the panel decides this, not the agency alone); an unmet
        action's cancellation may say whether circumstances changed."""
        if not reason.strip():
            raise InvalidInput("Give a reason for cancelling.", {"reason": "required"})
        self.status = move(self.status, ActionStatus.CANCELLED, ALLOWED, "action")
        self.cancel_reason = reason.strip()
        update = self._note(UpdateKind.CANCELLED, self.cancel_reason, at, by_member_id)
        update.circumstances_changed = circumstances_changed

    def pass_back(self, case_reference: str, *, at: datetime, by_member_id: str | None) -> None:
        """The panel closed the case: the owner agency carries on with the action as its own
        work, and the panel no longer reviews it (never unmet, no reminders)."""
        self.status = move(self.status, ActionStatus.PASSED_BACK, ALLOWED, "action")
        self._note(
            UpdateKind.PASSED_BACK,
            f"Passed back to the agency: the panel closed {case_reference}.",
            at,
            by_member_id,
        )

    def escalate(
        self,
        note: str,
        *,
        circumstances_changed: bool,
        at: datetime,
        by_member_id: str | None = None,
    ) -> None:
        """The panel escalates an unmet action (e.g. to the agency's management), recording
        why it was not met; the action stays open with its owner."""
        if self.status is not ActionStatus.OPEN:
            raise InvalidInput("Only an open action can be escalated.")
        note = " ".join(note.split())
        if not note:
            raise InvalidInput("Say how the action is escalated.", {"note": "required"})
        why = "circumstances changed" if circumstances_changed else "the agency did not act"
        update = self._note(UpdateKind.ESCALATED, f"Escalated: {note} ({why}).", at, by_member_id)
        update.circumstances_changed = circumstances_changed
        self.escalated = True

    def carry_forward(
        self,
        new_due_on: date,
        *,
        circumstances_changed: bool,
        at: datetime,
        by_member_id: str | None = None,
    ) -> None:
        """Give an unmet action a new date, recording why it was not met."""
        if self.status is not ActionStatus.OPEN:
            raise InvalidInput("Only an open action can be carried forward.")
        if new_due_on <= self.due_on:
            raise InvalidInput("The new date must be later.", {"due_on": "invalid"})
        why = "circumstances changed" if circumstances_changed else "the agency did not act"
        update = self._note(
            UpdateKind.CARRIED_FORWARD,
            f"Carried forward from {self.due_on.isoformat()} to {new_due_on.isoformat()}: {why}.",
            at,
            by_member_id,
        )
        update.circumstances_changed = circumstances_changed
        self.due_on = new_due_on


class RequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


@dataclass(kw_only=True)
class InformationRequest:
    """The panel asks one agency what it knows about a case before a meeting."""

    id: str = field(default_factory=new_id)
    panel_id: str
    case_id: str
    agency_id: str
    meeting_id: str | None = None
    question: str
    due_at: datetime
    status: RequestStatus = RequestStatus.OPEN
    answer: str | None = None
    answered_by_member_id: str | None = None
    answered_at: datetime | None = None
    # The optimistic lock: the version stored (0 until first saved). Storage saves only
    # from the stored version and sets the next; a stale copy raises StaleVersion.
    version: int = 0

    def __post_init__(self) -> None:
        require_aware(self.due_at, "due_at")

    def answer_with(self, text: str, *, by_agency_id: str, by_member_id: str, at: datetime) -> None:
        """Record the agency's return."""
        if by_agency_id != self.agency_id:
            raise NotAllowed("This request was sent to another agency.")
        if self.status is not RequestStatus.OPEN:
            raise InvalidInput("This request has already been answered or cancelled.")
        if not text.strip():
            raise InvalidInput("Write the agency's information.", {"answer": "required"})
        self.status = RequestStatus.ANSWERED
        self.answer = text.strip()
        self.answered_by_member_id = by_member_id
        self.answered_at = require_aware(at)
