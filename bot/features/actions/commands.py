"""What the actions feature is asked to do, read at the edge into frozen, typed commands.

A click on an action's button and the arguments of `actions`, `away` and `back` are read and
checked here, once, with cards.actions' constants for the card's keys; the use cases take
these commands and never look into a request's data. `parse` raises InvalidInput with what
to do instead. (`overdue` and `reminders` take no argument: anything typed after them is
ignored, so they need no command.)

The box of a button's form is not refused here: what cannot be read (too long, not text)
is said on the action's card once the action is known to be open, so the click carries it
(`unreadable`) for the use case to refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.kernel.inputs import text_field
from bot.kernel.versions import rendered_version
from cards.actions import (
    BOX_OF,
    CARD_VIEW,
    COPY_KEY,
    INDEX_KEY,
    LIST_VIEW,
    MAX_NOTE,
    TOKEN_KEY,
    VIEW_KEY,
    input_value,
)
from cards.verbs import ACTION_ID_KEY, AGENCY_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_ID = 64
MAX_VIEW = 16
# Cards list far fewer actions than this (cards.actions.LIST_LIMIT): an index beyond it is
# not one the bot wrote.
MAX_INDEX = 100
ACTIONS_USAGE = "actions [done] [agency]"
AWAY_USAGE = "away until 2026-12-24"
# The longest absence `away` accepts.
AWAY_AT_MOST = timedelta(days=366)
OUT_OF_DATE = "This card is out of date. Type actions for the current one."
UNREADABLE = "This card sent something I cannot read. Type actions."
_UNTIL = re.compile(r"^(?P<who>.*?)\s*\buntil\s+(?P<day>\S+)\s*$", re.IGNORECASE)


def _text(data: Mapping[str, Any], name: str, limit: int) -> str | None:
    """bot.kernel.inputs.text_field, worded for the action cards (type actions to go on)."""
    try:
        return text_field(dict(data), name, limit)
    except InvalidInput as err:
        if err.fields.get(name) == "too_long":
            raise InvalidInput(f"Keep it under {limit} characters.", {name: "too_long"}) from None
        raise InvalidInput(UNREADABLE) from None


def _index(data: Mapping[str, Any]) -> int:
    """The action's position on the card (its boxes' suffix); 0 for anything else."""
    raw = data.get(INDEX_KEY, 0)
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int) and 0 <= raw < MAX_INDEX:
        return raw
    if isinstance(raw, str) and raw.isdigit() and int(raw) < MAX_INDEX:
        return int(raw)
    return 0


def _folded(text: str | None) -> str | None:
    """Runs of spaces and line breaks as one space (a note reads on one line)."""
    if text is None:
        return None
    return " ".join(text.split()) or None


@dataclass(frozen=True)
class Click:
    """A click on an action's button (Done, Add an update, Can't do this) on an action's
    card or a list: the action, the rendering's token (one click saves once) and version
    (a click from an older card saves nothing), the view to render again, the action's
    position on the card, the outbox row a sent card was sent as (`copy`) or the agency a
    list shows; and what the button's form box held."""

    verb: Verb
    action_id: str
    token: str
    # The action's version the card was rendered from (None: it carries none).
    version: int | None = None
    view: str = CARD_VIEW
    index: int = 0
    copy: str | None = None
    agency_id: str | None = None
    # What was typed in the form's box (whitespace folded), or why it could not be read.
    typed: str | None = None
    unreadable: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any], verb: Verb) -> Click:
        """The button's data; a card naming no action or token is out of date."""
        action_id = _text(data, ACTION_ID_KEY, MAX_ID)
        token = _text(data, TOKEN_KEY, MAX_ID)
        if action_id is None or token is None:
            raise InvalidInput(OUT_OF_DATE)
        view = _text(data, VIEW_KEY, MAX_VIEW) or CARD_VIEW
        index = _index(data)
        box = BOX_OF[verb]
        typed: str | None = None
        unreadable: str | None = None
        try:
            typed = _folded(_text({box: input_value(data, box, index)}, box, MAX_NOTE))
        except InvalidInput as err:
            unreadable = err.message
        return cls(
            verb=verb,
            action_id=action_id,
            token=token,
            version=rendered_version(data),
            view=view if view in (CARD_VIEW, LIST_VIEW) else CARD_VIEW,
            index=index,
            copy=_text(data, COPY_KEY, MAX_ID),
            agency_id=_text(data, AGENCY_ID_KEY, MAX_ID),
            typed=typed,
            unreadable=unreadable,
        )

    @property
    def box(self) -> str:
        """The input of this button's form (cards.actions.BOX_OF)."""
        return BOX_OF[self.verb]

    def text(self) -> str | None:
        """What was typed in the form's box; InvalidInput (said on the card, nothing saved)
        when it could not be read."""
        if self.unreadable is not None:
            raise InvalidInput(self.unreadable, {self.box: "unreadable"})
        return self.typed


@dataclass(frozen=True)
class ListActions:
    """`actions` (my agency's open actions) or `actions Housing` (an agency by name, for
    the coordinator and chair); `actions done` (or `actions done Housing`): the agency's
    finished actions instead."""

    agency: str | None = None
    done: bool = False

    @classmethod
    def parse(cls, args: str) -> ListActions:
        """The agency's name as typed, if any (matched against the panel's agencies later),
        after `done` when the finished actions are asked for."""
        words = args.split()
        done = bool(words) and words[0].casefold() in {"done", "finished"}
        rest = " ".join(words[1:] if done else words)
        return cls(rest or None, done)

    @property
    def command(self) -> str:
        """The command as typed, to run again (e.g. after accepting the agreement)."""
        parts = [
            "actions",
            *(["done"] if self.done else []),
            *([self.agency] if self.agency else []),
        ]
        return " ".join(parts)


def _someone(text: str) -> str | None:
    """A member's name as typed, or None for the caller ("", "me")."""
    name = " ".join(text.split())
    return None if not name or name.casefold() == "me" else name


@dataclass(frozen=True)
class Away:
    """`away until 2026-12-24` (the caller) or `away Gemma Hartley until 2026-12-24` (the
    coordinator, for someone else): cards go to the deputy until that day, inclusive."""

    until: date
    who: str | None = None  # None: the caller

    @classmethod
    def parse(cls, args: str, today: date) -> Away:
        """The name (if any) and the last day away: not past, at most a year ahead."""
        found = _UNTIL.match(args.strip())
        if found is None:
            raise InvalidInput(f"Write it as: {AWAY_USAGE} (the last day you are away).")
        try:
            until = date.fromisoformat(found.group("day"))
        except ValueError:
            raise InvalidInput(f"Write the date as 2026-12-24: {AWAY_USAGE}.") from None
        if until < today:
            raise InvalidInput("That date has passed: give the last day you are away.")
        if until - today > AWAY_AT_MOST:
            raise InvalidInput("That is more than a year away: give an earlier date.")
        return cls(until, _someone(found.group("who")))


@dataclass(frozen=True)
class Back:
    """`back` (the caller) or `back Gemma Hartley` (the coordinator): cards come to them
    again."""

    who: str | None = None  # None: the caller

    @classmethod
    def parse(cls, args: str) -> Back:
        """The name, if any."""
        return cls(_someone(args))
