"""What the caseload feature is asked, read at the edge into frozen, typed commands: `cases`
with its filter (typed, or carried by the "More" button with the page) and `find` with
what to search for. The use cases never look into a request's arguments or data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import is_postcode
from bot.domain.referral import normalise_postcode
from bot.domain.risk import RiskLevel
from cards.caseload import FILTER_KEY, PAGE_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

CASES_USAGE = "cases [overdue | high | medium | standard | <agency>]"
FIND_USAGE = "find <name or postcode>"
MAX_FILTER = 60
MAX_QUERY = 100
# Far more pages than a panel's open cases fill: a page beyond it is not one the bot wrote.
MAX_PAGE = 1000
# The fewest letters a name search needs: fewer would find half the panel.
MIN_LETTERS = 3
OVERDUE = "overdue"
OUT_OF_DATE = "This card is out of date. Type cases for the current one."
TOO_SHORT = (
    f"Give at least {MIN_LETTERS} letters of a name, or a full postcode: {FIND_USAGE}, "
    "e.g. find John Smith or find RV2 7LD."
)
TOO_LONG = f"That is too long to search for: give a name or a postcode ({FIND_USAGE})."


class FilterKind(StrEnum):
    ALL = "all"
    OVERDUE = "overdue"
    RISK = "risk"
    AGENCY = "agency"


def _folded(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class ListCases:
    """`cases`, `cases overdue`, `cases high` or `cases Housing` (an agency, by the start of
    its name or of a word in it), and the page to show (10 cases a page)."""

    filter: str = ""
    page: int = 1

    @classmethod
    def typed(cls, args: str) -> ListCases:
        """The filter as typed; the first page."""
        text = _folded(args)
        if len(text) > MAX_FILTER:
            raise InvalidInput(f"Give an agency's name, overdue or a risk level: {CASES_USAGE}.")
        return cls(text)

    @classmethod
    def clicked(cls, data: Mapping[str, Any]) -> ListCases:
        """The "More" button's page and filter."""
        raw_filter = data.get(FILTER_KEY, "")
        raw_page = data.get(PAGE_KEY)
        if not isinstance(raw_filter, str) or len(raw_filter) > MAX_FILTER:
            raise InvalidInput(OUT_OF_DATE)
        if isinstance(raw_page, str) and raw_page.isdigit():
            raw_page = int(raw_page)
        if isinstance(raw_page, bool) or not isinstance(raw_page, int):
            raise InvalidInput(OUT_OF_DATE)
        if not 1 <= raw_page <= MAX_PAGE:
            raise InvalidInput(OUT_OF_DATE)
        return cls(_folded(raw_filter), raw_page)

    @property
    def kind(self) -> FilterKind:
        if not self.filter:
            return FilterKind.ALL
        if self.filter.casefold() == OVERDUE:
            return FilterKind.OVERDUE
        if self.risk is not None:
            return FilterKind.RISK
        return FilterKind.AGENCY

    @property
    def risk(self) -> RiskLevel | None:
        """The risk level the filter names, if it names one."""
        try:
            return RiskLevel(self.filter.casefold())
        except ValueError:
            return None


_WORD = re.compile(r"[^\w]+")


def agency_matches(name: str, typed: str) -> bool:
    """Whether an agency's name starts with `typed`, or a word of it does, ignoring case and
    punctuation: `Housing` finds "Riverside Homes (Housing)", `riv` finds it too."""
    wanted = " ".join(word for word in _WORD.split(typed.casefold()) if word)
    if not wanted:
        return False
    words = [word for word in _WORD.split(name.casefold()) if word]
    return any(" ".join(words[i:]).startswith(wanted) for i in range(len(words)))


@dataclass(frozen=True)
class Find:
    """`find John Smith` or `find RV2 7LD`: a name (however written) or a full postcode."""

    text: str
    postcode: str | None = None  # normalised, when the text is a postcode

    @classmethod
    def typed(cls, args: str) -> Find:
        """The search, checked: a full UK postcode, or at least three letters of a name."""
        text = _folded(args)
        if len(text) > MAX_QUERY:
            raise InvalidInput(TOO_LONG)
        if text and is_postcode(text):
            return cls(text, normalise_postcode(text))
        if sum(1 for c in text if c.isalpha()) < MIN_LETTERS:
            raise InvalidInput(TOO_SHORT)
        return cls(text)

    @property
    def by(self) -> str:
        """What it searched by, in words (the card and the audit trail say it)."""
        return "postcode" if self.postcode else "name"
