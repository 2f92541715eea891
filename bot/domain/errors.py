"""Errors whose message is safe to show to the person who caused them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `message` is written for the person, never a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist in this panel (or is not visible to the caller)."""


class NotAllowed(DomainError):
    """The caller may not do this. `audited`: the refusal is in the audit trail already
    (otherwise dispatch records it, so that no refusal goes unrecorded)."""

    def __init__(self, message: str, *, audited: bool = False) -> None:
        super().__init__(message)
        self.audited = audited


class InvalidInput(DomainError):
    """Input failed validation; `fields` maps a field name to what is wrong with it."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class InvalidTransition(DomainError):
    """A state change that the lifecycle does not allow."""


class Conflict(DomainError):
    """Someone else changed the same record first; the person should look again."""
