"""The errors the storage layer raises on purpose."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.kernel.ports import AlreadyExists, StaleVersion

if TYPE_CHECKING:
    from bot.domain.errors import Conflict

log = logging.getLogger(__name__)

STALE_REFERRAL = "Someone else changed this referral a moment ago. Look at it again before you act."


class ConstraintViolation(Exception):
    """A save broke an integrity rule: a duplicate unique value, a record of another panel
    under the same id, or a reference to a parent that does not exist.

    It signals a bug or a lost race, not bad input, so it is not a DomainError; the unit of
    work it happened in must be rolled back.
    """


class DuplicateRecord(ConstraintViolation, AlreadyExists):
    """A unique key (or a primary key) already taken by a record another unit of work
    committed first: a lost creation race, told to the person as the port's AlreadyExists.

    `constraint` names the rule for the log; the message never carries the stored values.
    """

    def __init__(self, constraint: str = "") -> None:
        AlreadyExists.__init__(self)
        self.constraint = constraint


# SQLite's extended result codes and PostgreSQL's SQLSTATE for a taken unique key.
_SQLITE_DUPLICATE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
_POSTGRES_UNIQUE_VIOLATION = "23505"


def refused(what: str, driver_error: Any) -> ConstraintViolation:
    """The storage error for an integrity error the database raised (`driver_error` is the
    DB-API exception, SQLAlchemy's `IntegrityError.orig`): a DuplicateRecord for a taken
    unique key, a plain ConstraintViolation for anything else (a missing parent: a bug)."""
    constraint: str | None = None
    if getattr(driver_error, "sqlite_errorname", None) in _SQLITE_DUPLICATE:
        constraint = str(driver_error).rpartition(":")[2].strip()  # column names only
    elif getattr(driver_error, "pgcode", None) == _POSTGRES_UNIQUE_VIOLATION:
        asyncpg_error = getattr(driver_error, "__cause__", None)
        constraint = str(getattr(asyncpg_error, "constraint_name", None) or "")
    if constraint is not None:
        # A lost race, told to the person plainly; the log says which rule, never the values.
        log.info("a unique key was taken first (%s)", constraint or "unknown")
        return DuplicateRecord(constraint)
    return ConstraintViolation(f"The database refused {what}: {driver_error}")


def stale_referral(referral_id: str = "") -> Conflict:
    """A referral saved from a copy older than the stored one (the optimistic lock).

    A DomainError the person can act on: nothing was stored, and the unit of work stays
    usable.
    """
    return StaleVersion("referral", referral_id, STALE_REFERRAL)


STALE_MINUTES = (
    "Someone else changed these minutes a moment ago. Look at them again before you act."
)


def stale_minutes(minutes_id: str = "") -> Conflict:
    """Minutes saved from a copy older than the stored one (their optimistic lock)."""
    return StaleVersion("minutes", minutes_id, STALE_MINUTES)


# The aggregates a click changes, as StaleVersion names them (and the audit trail does).
ACTION = "action"
INFORMATION_REQUEST = "information_request"
CASE = "case"
MEETING = "meeting"


def stale(entity: str, entity_id: str) -> StaleVersion:
    """An action, information request, case or meeting saved from an older copy."""
    return StaleVersion(entity, entity_id)
