"""Every verb a card button can carry, in one enum."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    # Runs a typed command from a button, as if the person had typed it.
    COMMAND = "command"
