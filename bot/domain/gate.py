"""The gate for everything posted where more than one person reads: a team channel or a
group chat. Posts there carry case references, risk levels and counts only (DOMAIN.md).

Two locks, either of which refuses a post:

1. **What the card is.** Only the kinds in `SHARED_CHAT_KINDS` may be posted there, and never
   with free-text fields already filled in (a narrative). A card of any other kind, or of no
   known kind, is refused however harmless its text looks.
2. **What it says.** A detector reads every visible string for the panel's subjects' names,
   dates that look like dates of birth, UK postcodes and phone numbers.

Pure: the caller gives the card's kind, its visible text and the panel's subjects' names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.referral import normalise_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date


class SharedKind(StrEnum):
    """The kinds of card a team channel or group chat may be shown."""

    WELCOME = "welcome"
    HELP = "help"
    REFERRAL_NOTICE = "referral_notice"
    SCHEDULE = "schedule"
    AGENDA = "agenda"
    AGENDA_ANNOUNCEMENT = "agenda_announcement"
    PANEL_SETUP = "panel_setup"
    MEETING_CONFIDENTIALITY = "meeting_confidentiality"
    CHAIR = "chair"
    MEETING_ENDED = "meeting_ended"
    ISA_PROMPT = "isa_prompt"
    ACTION_CAPTURED = "action_captured"


# The whitelist, with what each kind may carry (for people reading this, and the tests).
SHARED_CHAT_KINDS: Mapping[SharedKind, str] = {
    SharedKind.WELCOME: "what the bot does; the panel's name",
    SharedKind.HELP: "the commands the caller may use",
    SharedKind.REFERRAL_NOTICE: "a referral's reference, referring agency and risk level",
    SharedKind.SCHEDULE: "meeting dates, deadlines, statuses and join links",
    SharedKind.AGENDA: "the agenda's items: case references, risk levels, minutes",
    SharedKind.AGENDA_ANNOUNCEMENT: "the meeting's case references, risk levels and counts",
    SharedKind.PANEL_SETUP: "the panel's name and its coordinator",
    SharedKind.MEETING_CONFIDENTIALITY: "the confidentiality statement and the meeting's date",
    SharedKind.CHAIR: "the agenda item: case reference, owners, dates; no narrative outside "
    "the meeting chat",
    SharedKind.MEETING_ENDED: "counts of items, actions and agencies present",
    SharedKind.ISA_PROMPT: "a request to accept the information sharing agreement",
    SharedKind.ACTION_CAPTURED: "an action agreed at the meeting: its case reference, owner "
    "agency and due date, never what it is",
}


class Finding(StrEnum):
    """What the gate found: said to the log and the audit trail, never the data itself."""

    NOT_FOR_SHARED_CHATS = "a card not meant for shared chats"
    FILLED_FREE_TEXT = "a filled-in free-text field"
    SUBJECT_NAME = "a subject's name"
    DATE_OF_BIRTH = "a date of birth"
    POSTCODE = "a postcode"
    PHONE = "a phone number"


@dataclass(frozen=True)
class SharedPost:
    """A post as the gate sees it. `kind` is None for a card of no whitelisted kind;
    `is_card` is False for plain text, which only the detector reads."""

    is_card: bool
    kind: SharedKind | None
    visible_text: str
    filled_free_text: Sequence[str] = ()


@dataclass(frozen=True)
class GateVerdict:
    findings: tuple[Finding, ...]

    @property
    def allowed(self) -> bool:
        return not self.findings

    def describe(self) -> str:
        """e.g. "a subject's name, a postcode": for logs and the audit trail."""
        return ", ".join(f.value for f in self.findings)


# A date the way people and the cards write it: 30 Nov 1972, 30 November 1972, 30/11/1972,
# 30-11-72, 1972-11-30.
_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    "july|august|september|october|november|december"
)
_DATES = (
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+(\d{{4}})\b", re.I),
    re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b"),
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
)
_BIRTH_WORDS = re.compile(r"\b(born|dob|d\.o\.b|date of birth|birthday|aged?)\b", re.I)
# A whole UK postcode (outward and inward parts), as Royal Mail formats them.
_POSTCODE = re.compile(
    r"\b(GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9](?:[0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.I,
)
# A UK number: 07700 900123, 020 7946 0123, +44 7700 900123, (01632) 960 001.
_PHONE = re.compile(r"(?<![\w-])(?:\+44\s?\(?0?\)?\s?|\(?0)\d[\d\s()-]{7,14}\d(?![\w-])")
# Whole years from this long ago or earlier read as dates of birth, not meetings or deadlines.
BIRTH_YEARS_AGO = 10
# Single words never matched on their own as a name (they are months, days or titles).
_NOT_NAMES = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "the", "and", "of"}
    | {m for m in _MONTHS.split("|")}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)
_MIN_NAME_WORD = 3
_MAX_NAME_WORDS = 6


class SubjectNames:
    """The panel's subjects' names, ready to look for in text: each full name (and alias),
    and each surname on its own."""

    def __init__(self, names: Iterable[str]) -> None:
        phrases: set[tuple[str, ...]] = set()
        for name in names:
            words = tuple(normalise_name(name).split())
            if not words or len(words) > _MAX_NAME_WORDS:
                continue
            if len(words) > 1 or _usable(words[0]):
                phrases.add(words)
            if len(words) > 1 and _usable(words[-1]):
                phrases.add(words[-1:])
        self._phrases = frozenset(phrases)
        self._longest = max((len(p) for p in phrases), default=0)

    def found_in(self, text: str) -> bool:
        """Whether any of the names appears in `text` as whole words."""
        if not self._phrases:
            return False
        words = normalise_name(text).split()
        for size in range(1, self._longest + 1):
            for start in range(len(words) - size + 1):
                if tuple(words[start : start + size]) in self._phrases:
                    return True
        return False


def _usable(word: str) -> bool:
    return len(word) >= _MIN_NAME_WORD and word not in _NOT_NAMES


def _year(raw: str) -> int:
    year = int(raw)
    return year if len(raw) == 4 else 1900 + year


def _looks_like_birth(text: str, today: date) -> bool:
    oldest = today.year - BIRTH_YEARS_AGO
    for pattern in _DATES:
        for match in pattern.finditer(text):
            groups = match.groups()
            year = _year(groups[0] if pattern is _DATES[2] else groups[-1])
            before = text[max(0, match.start() - 30) : match.start()]
            if year <= oldest or _BIRTH_WORDS.search(before):
                return True
    return False


def _has_phone(text: str) -> bool:
    for match in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group(0))
        if 10 <= digits <= 13:
            return True
    return False


def personal_data_in(text: str, names: SubjectNames, today: date) -> list[Finding]:
    """What in `text` looks like personal data about the panel's subjects."""
    found: list[Finding] = []
    if names.found_in(text):
        found.append(Finding.SUBJECT_NAME)
    if _looks_like_birth(text, today):
        found.append(Finding.DATE_OF_BIRTH)
    if _POSTCODE.search(text):
        found.append(Finding.POSTCODE)
    if _has_phone(text):
        found.append(Finding.PHONE)
    return found


def judge(post: SharedPost, names: SubjectNames, today: date) -> GateVerdict:
    """Whether `post` may be posted where more than one person reads."""
    findings: list[Finding] = []
    if post.is_card and post.kind not in SHARED_CHAT_KINDS:
        findings.append(Finding.NOT_FOR_SHARED_CHATS)
    if any(value.strip() for value in post.filled_free_text):
        findings.append(Finding.FILLED_FREE_TEXT)
    texts = [post.visible_text, *post.filled_free_text]
    for finding in personal_data_in("\n".join(texts), names, today):
        if finding not in findings:
            findings.append(finding)
    return GateVerdict(tuple(findings))
