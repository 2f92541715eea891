"""Reading what a card sent: every input is attacker-controlled until it is checked here."""

from __future__ import annotations

from bot.domain.errors import InvalidInput


def text_field(data: object, name: str, limit: int) -> str | None:
    """A string input from a card's data, or None when absent or blank; refuses other types
    and overlong text (the card's maxLength is a client-side hint only)."""
    if not isinstance(data, dict):
        return None
    raw = data.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("This card sent something I cannot read. Type help.", {name: "invalid"})
    if len(raw) > limit:
        raise InvalidInput(f"Keep this under {limit} characters.", {name: "too_long"})
    return raw.strip() or None
