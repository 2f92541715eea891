"""What people ask of the records feature, read and checked at the edge into frozen values.

Every typed argument and every value a card sends is attacker-controlled until it is read
here: the use cases take these commands and do not look at a card's data again. Card input
ids and data keys are the cards' own constants (cards.dataprotection, cards.stats), so the
card that writes a value and the command that reads it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import is_postcode
from bot.domain.retention import Person, PersonQuery, parse_birth_date
from bot.domain.stats import Quarter
from bot.kernel.inputs import text_field
from cards.dataprotection import (
    BIRTH_DATE_ID,
    CHOSEN,
    CHOSEN_KEY,
    MAX_BIRTH_DATE,
    MAX_NAME,
    MAX_POSTCODE,
    MAX_REASON,
    NAME_ID,
    POSTCODE_ID,
    REASON_ID,
    TOKEN_KEY,
)
from cards.stats import QUARTER_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

# Shown in help and in mistakes: no one's name, however invented (help may reach a channel).
SAR_USAGE = "sar <full name> [date of birth] [postcode]"
ERASE_USAGE = "erase <full name> [date of birth] [postcode]"
STATS_USAGE = "stats [2026-Q3]"
EXAMPLE = "the date of birth, if you know it, as 31/01/1980 or 1980-01-31"
GIVE_NAME = "Give the person's name."
NOT_A_POSTCODE = "Not a UK postcode: write it like RV2 7LD, or leave it empty."
ERASE_OUT_OF_DATE = "This card is out of date. Type erase and the person's name and date of birth."
STATS_OUT_OF_DATE = "This card is out of date. Type stats."
TOKEN_LIMIT = 64
QUARTER_LIMIT = 10


# --- who a subject access search or an erasure is about ---------------------------------------


@dataclass(frozen=True)
class AskWho:
    """`sar` or `erase` alone: the form that asks for the person."""


@dataclass(frozen=True)
class SearchPerson:
    """A name, and a date of birth and postcode if given: the people it may mean are found
    first, to choose from when it is not plain which one is meant."""

    query: PersonQuery

    @classmethod
    def typed(cls, args: str, usage: str) -> AskWho | SearchPerson:
        """`sar <name> [date of birth] [postcode]` (or `erase …`); the form when no name."""
        if not args.strip():
            return AskWho()
        try:
            return cls(PersonQuery.parse(args))
        except InvalidInput as err:
            raise InvalidInput(f"{err.message} Write it as: {usage}, {EXAMPLE}.") from None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SearchPerson:
        """The form's button: a name, and a date of birth and postcode if given."""
        name = text_field(data, NAME_ID, MAX_NAME)
        if not name:
            raise InvalidInput(GIVE_NAME)
        born = text_field(data, BIRTH_DATE_ID, MAX_BIRTH_DATE)
        postcode = text_field(data, POSTCODE_ID, MAX_POSTCODE)
        if postcode and not is_postcode(postcode):
            raise InvalidInput(NOT_A_POSTCODE)
        query = PersonQuery(
            " ".join(name.split()), parse_birth_date(born) if born else None, postcode or None
        )
        return cls(query)


@dataclass(frozen=True)
class ChosenPerson:
    """The button of one person a search listed (name, date of birth or "", postcode or "")."""

    person: Person

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ChosenPerson:
        name = text_field(data, NAME_ID, MAX_NAME)
        if not name:
            raise InvalidInput(GIVE_NAME)
        born = text_field(data, BIRTH_DATE_ID, MAX_BIRTH_DATE)
        postcode = text_field(data, POSTCODE_ID, MAX_POSTCODE)
        return cls(
            Person(
                " ".join(name.split()), parse_birth_date(born) if born else None, postcode or None
            )
        )


def person_asked(data: Mapping[str, Any]) -> SearchPerson | ChosenPerson:
    """What a subject access or erasure card's button asks for: one person it listed, or a
    search from the form."""
    if data.get(CHOSEN_KEY) == CHOSEN:
        return ChosenPerson.of(data)
    return SearchPerson.of(data)


@dataclass(frozen=True)
class ConfirmErasure:
    """The Erase button: the preview's confirmation token, the person it showed and the
    reason typed (None when none; it is checked against the person by the use case)."""

    token: str
    person: Person
    reason_typed: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ConfirmErasure:
        token = text_field(data, TOKEN_KEY, TOKEN_LIMIT)
        if token is None:
            raise InvalidInput(ERASE_OUT_OF_DATE)
        try:
            person = ChosenPerson.of(data).person
        except InvalidInput:
            raise InvalidInput(ERASE_OUT_OF_DATE) from None
        return cls(token, person, text_field(data, REASON_ID, MAX_REASON))

    @property
    def reason(self) -> str | None:
        """The reason, its spaces tidied; None when none was typed."""
        return " ".join(self.reason_typed.split()) if self.reason_typed else None


# --- the statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowStats:
    """A quarter's figures; None: the quarter of today, in the panel's time zone."""

    quarter: Quarter | None

    @classmethod
    def typed(cls, args: str) -> ShowStats:
        """`stats`, `stats 2026-Q3` (or `stats Q3 2026`)."""
        words = args.split()
        if len(words) > 2:
            raise InvalidInput(f"Write it as: {STATS_USAGE}.")
        return cls(Quarter.parse(" ".join(words)) if words else None)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ShowStats:
        """Previous quarter / Next quarter."""
        raw = data.get(QUARTER_KEY)
        if not isinstance(raw, str) or len(raw) > QUARTER_LIMIT:
            raise InvalidInput(STATS_OUT_OF_DATE)
        return cls(Quarter.parse(raw))
