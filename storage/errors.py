"""The one error the storage layer raises on purpose."""

from __future__ import annotations


class ConstraintViolation(Exception):
    """A save broke an integrity rule: a duplicate unique value, a record of another panel
    under the same id, or a reference to a parent that does not exist.

    It signals a bug or a lost race, not bad input, so it is not a DomainError; the unit of
    work it happened in must be rolled back.
    """
