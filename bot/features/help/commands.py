"""What people ask of the help feature, read and checked at the edge into frozen values.

A command button's data is attacker-controlled until it is read here; its key is the card
kit's own constant (cards.kit.COMMAND_KEY), so the button that writes it and the verb that
reads it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.kernel.router import parse_text
from cards.kit import COMMAND_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

# A command a button names is short: its name and perhaps a reference.
MAX_COMMAND = 200
NO_COMMAND = "This button names no command. Type help."


@dataclass(frozen=True)
class RunCommand:
    """A command button: the command it names, to run as if it had been typed."""

    name: str
    args: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> RunCommand:
        raw = data.get(COMMAND_KEY)
        parsed = parse_text(raw) if isinstance(raw, str) and len(raw) <= MAX_COMMAND else None
        if parsed is None:
            raise InvalidInput(NO_COMMAND)
        return cls(parsed.name, parsed.args)
