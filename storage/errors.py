"""The errors the storage layer raises on purpose."""

from __future__ import annotations

from bot.domain.errors import Conflict

STALE_REFERRAL = "Someone else changed this referral a moment ago. Look at it again before you act."


class ConstraintViolation(Exception):
    """A save broke an integrity rule: a duplicate unique value, a record of another panel
    under the same id, or a reference to a parent that does not exist.

    It signals a bug or a lost race, not bad input, so it is not a DomainError; the unit of
    work it happened in must be rolled back.
    """


def stale_referral() -> Conflict:
    """A referral saved from a copy older than the stored one (the optimistic lock).

    A DomainError the person can act on: nothing was stored, and the unit of work stays
    usable.
    """
    return Conflict(STALE_REFERRAL)


STALE_MINUTES = (
    "Someone else changed these minutes a moment ago. Look at them again before you act."
)


def stale_minutes() -> Conflict:
    """Minutes saved from a copy older than the stored one (their optimistic lock)."""
    return Conflict(STALE_MINUTES)
