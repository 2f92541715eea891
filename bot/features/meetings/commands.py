"""What people ask of the meetings feature, read and checked at the edge into frozen values.

Every typed argument and every value a card sends is attacker-controlled until it is read
here: the use cases take these commands and never look at a card's data again. Card input
ids and data keys are the cards' own constants (cards.agenda, cards.chair, cards.minutes,
cards.schedule), so the card that writes a value and the command that reads it cannot drift.

A form whose refusal is shown on its card (the agenda's changes, the chair card's forms, a
summary in the minutes) is read when the form is applied, after the card has been checked
against the meeting: a wrong input is then answered on the card, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

from bot.domain.case import ClosureReason
from bot.domain.errors import InvalidInput
from bot.domain.risk import RiskLevel
from bot.kernel.guard import MAX_ID
from bot.kernel.inputs import text_field
from bot.kernel.versions import rendered_version
from cards.agenda import (
    DEFER_REASON_INPUT,
    ITEM_KEY,
    MINUTES_INPUT,
    REASON_INPUT,
    TITLE_INPUT,
    field_id,
)
from cards.chair import (
    AGENCY_DID_NOT_ACT,
    CANCEL,
    CANCEL_REASON_INPUT,
    CANCEL_WHY_INPUT,
    CARRY_WHY_INPUT,
    CIRCUMSTANCES_CHANGED,
    CLOSURE_NOTE_INPUT,
    CLOSURE_REASON_INPUT,
    DESCRIPTION_INPUT,
    DUE_ON_INPUT,
    ESCALATE_WHY_INPUT,
    ESCALATION_INPUT,
    INDEX_KEY,
    ISA_VERSION_KEY,
    KEPT_INPUTS,
    LEAD_AGENCY_INPUT,
    LEAD_OFFICER_INPUT,
    MAX_DESCRIPTION,
    MAX_NOTE,
    MAX_SUMMARY,
    MAX_UNMET_SHOWN,
    NEW_DUE_ON_INPUT,
    OWNER_AGENCY_INPUT,
    PASS_BACK,
    REVIEW_MEETING_INPUT,
    RISK_LEVEL_INPUT,
    SETTLE_PREFIX,
    STEP_KEY,
    SUMMARY_INPUT,
    TOKEN_KEY,
    indexed,
)
from cards.minutes import MAX_SUMMARY as MAX_MINUTES_SUMMARY
from cards.minutes import summary_id
from cards.schedule import (
    NEW_DATE_INPUT,
    NEW_TIME_INPUT,
    URGENT_CASES_INPUT,
    URGENT_DATE_INPUT,
    URGENT_REASON_INPUT,
    URGENT_TIME_INPUT,
)
from cards.schedule import REASON_INPUT as CANCEL_MEETING_REASON_INPUT
from cards.schedule import field_id as meeting_field_id
from cards.verbs import ACTION_ID_KEY, MEETING_KEY, REFERENCE_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ID_LIMIT = 64
CHAIR_OUT_OF_DATE = "This card is out of date. Type chair for the current one."
MINUTES_OUT_OF_DATE = "This card is out of date. Type minutes."
SCHEDULE_CARD_INCOMPLETE = "This card is missing something. Type schedule to start again."
USAGE = (
    "schedule [ics | move <date> <new date> [HH:MM] | cancel <date> <reason> | "
    "urgent <date> <HH:MM> <reason> [for CM-2026-014 ...]]"
)
USAGE_URGENT = "schedule urgent 2 Dec 14:00 <reason> for CM-2026-014"
USAGE_MOVE = "<date> <new date> [HH:MM], e.g. schedule move 8 Dec 10 Dec 14:00"


def _whole(raw: object) -> int | None:
    """A whole number a card carried (cards may send numbers as text)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _required(data: Mapping[str, Any], key: str, refusal: str) -> str:
    """An id the card must carry; `refusal` when it is missing or blank."""
    value = text_field(data, key, ID_LIMIT)
    if value is None:
        raise InvalidInput(refusal)
    return value


def _iso_date(raw: object) -> date | None:
    try:
        return date.fromisoformat(raw if isinstance(raw, str) else "")
    except ValueError:
        return None


def _date(data: Mapping[str, Any], name: str) -> date:
    found = _iso_date(data.get(name))
    if found is None:
        raise InvalidInput("Choose a date.", {name: "invalid"})
    return found


# --- the calendar: typed -------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")
_WEEKDAY_NAMES = ("mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri")


def parse_time(text: str) -> time:
    """A 24-hour time such as 14:00 (or 14.00)."""
    match = _HHMM.match(text.strip())
    if match is None:
        raise InvalidInput(f"'{text[:10]}' is not a time such as 14:00.", {"time": "invalid"})
    return time(int(match.group(1)), int(match.group(2)))


def take_date(words: Sequence[str], today: date) -> tuple[date, int]:
    """Read a date from the start of `words`: 2026-12-08, 8/12/2026, 8 Dec 2026, 8 Dec,
    optionally after a weekday (Tue 8 Dec). Without a year it is the next such date.
    Returns the date and how many words it used."""
    skip = 1 if words and words[0].lower().rstrip(",") in _WEEKDAY_NAMES else 0
    rest = [w.rstrip(",").lower() for w in words[skip : skip + 3]]
    if rest:
        try:
            return date.fromisoformat(rest[0]), skip + 1
        except ValueError:
            pass
        match = _DMY.match(rest[0])
        if match:
            day, month, year = match.groups()
            return _build(today, int(day), int(month), year), skip + 1
        if len(rest) >= 2 and rest[0].isdigit() and rest[1] in _MONTHS:
            year_text = rest[2] if len(rest) >= 3 and re.fullmatch(r"\d{4}", rest[2]) else None
            used = skip + (3 if year_text else 2)
            return _build(today, int(rest[0]), _MONTHS[rest[1]], year_text), used
    shown = " ".join(words[:3])[:30] or "nothing"
    raise InvalidInput(
        f"'{shown}' is not a date I understand: write it as 8 Dec 2026 or 2026-12-08.",
        {"date": "invalid"},
    )


def _build(today: date, day: int, month: int, year_text: str | None) -> date:
    try:
        if year_text is not None:
            return date(int(year_text), month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        raise InvalidInput("That date does not exist.", {"date": "invalid"}) from None


def _schedule_card_meeting(data: Mapping[str, Any]) -> str:
    """The meeting a schedule card's form names."""
    value = data.get(MEETING_KEY)
    if not isinstance(value, str) or not value.strip() or len(value) > ID_LIMIT:
        raise InvalidInput(SCHEDULE_CARD_INCOMPLETE)
    return value.strip()


@dataclass(frozen=True)
class ShowSchedule:
    """`schedule` (or `schedule show`, `schedule list`): the next meetings."""


@dataclass(frozen=True)
class AskCalendarLink:
    """`schedule ics`: the member's own signed calendar link."""


@dataclass(frozen=True)
class MoveMeeting:
    """Move a meeting (found by its local date, or by id from the schedule card) to another
    day, and optionally another start time."""

    new_day: date
    start: time | None
    day: date | None = None
    meeting_id: str | None = None

    @classmethod
    def typed(cls, words: Sequence[str], today: date) -> MoveMeeting:
        """`schedule move 8 Dec 10 Dec [14:00]`, dates without a year the next such."""
        day, used = take_date(words, today)
        new_day, more = take_date(words[used:], today)
        tail = words[used + more :]
        if len(tail) > 1:
            raise InvalidInput(f"Write it as: schedule move {USAGE_MOVE}.")
        start = parse_time(tail[0]) if tail else None
        return cls(new_day=new_day, start=start, day=day)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> MoveMeeting:
        """The schedule card's Move form."""
        meeting_id = _schedule_card_meeting(data)
        new_day = _iso_date(data.get(meeting_field_id(NEW_DATE_INPUT, meeting_id)))
        if new_day is None:
            raise InvalidInput("Choose the new date.", {NEW_DATE_INPUT: "invalid"})
        raw_time = data.get(meeting_field_id(NEW_TIME_INPUT, meeting_id))
        start = parse_time(raw_time) if isinstance(raw_time, str) and raw_time.strip() else None
        return cls(new_day=new_day, start=start, meeting_id=meeting_id)


@dataclass(frozen=True)
class CancelMeeting:
    """Cancel a meeting (by its local date, or by id from the schedule card); the reason is
    checked by the use case (bot.features.meetings.calendar.cancel_meeting)."""

    reason: str
    day: date | None = None
    meeting_id: str | None = None

    @classmethod
    def typed(cls, words: Sequence[str], today: date) -> CancelMeeting:
        """`schedule cancel 8 Dec <reason>`."""
        day, used = take_date(words, today)
        return cls(reason=" ".join(words[used:]), day=day)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CancelMeeting:
        """The schedule card's Cancel form."""
        meeting_id = _schedule_card_meeting(data)
        reason = data.get(meeting_field_id(CANCEL_MEETING_REASON_INPUT, meeting_id))
        return cls(reason=reason if isinstance(reason, str) else "", meeting_id=meeting_id)


_REFERENCE = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{1,6}$")
MAX_URGENT_CASES_GIVEN = 20
MAX_URGENT_REASON_GIVEN = 400


@dataclass(frozen=True)
class CallUrgentMeeting:
    """Call an urgent meeting (`schedule urgent 2 Dec 14:00 <reason> for CM-2026-014`, or
    the schedule card's form): its date and start, the reason (checked by the use case) and
    the cases, by reference when typed or by id when ticked. Without date, time or cases
    the form is shown to finish it."""

    day: date | None = None
    start: time | None = None
    reason: str = ""
    references: tuple[str, ...] = ()
    case_ids: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return (
            self.day is not None
            and self.start is not None
            and bool(self.references or self.case_ids)
        )

    @classmethod
    def typed(cls, words: Sequence[str], today: date) -> CallUrgentMeeting:
        if not words:
            return cls()
        day, used = take_date(words, today)
        rest = list(words[used:])
        if rest:
            rest[0] = rest[0].rstrip(",")
        if not rest or _HHMM.match(rest[0]) is None:
            raise InvalidInput(
                f"Give the start time after the date: {USAGE_URGENT}.", {"time": "invalid"}
            )
        start = parse_time(rest[0])
        tail = rest[1:]
        references: list[str] = []
        while tail and (
            _REFERENCE.match(tail[-1].strip(",;.")) or tail[-1].lower() in {"and", "&"}
        ):
            word = tail.pop().strip(",;.")
            if _REFERENCE.match(word):
                references.insert(0, word.upper())
        if references and tail and tail[-1].lower() == "for":
            tail.pop()
        if len(references) > MAX_URGENT_CASES_GIVEN:
            raise InvalidInput("That is too many cases for one urgent meeting.")
        return cls(
            day=day,
            start=start,
            reason=" ".join(tail),
            references=tuple(dict.fromkeys(references)),
        )

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CallUrgentMeeting:
        """The urgent meeting's form."""
        raw_time = text_field(data, URGENT_TIME_INPUT, 10)
        ticked = text_field(data, URGENT_CASES_INPUT, (ID_LIMIT + 1) * MAX_URGENT_CASES_GIVEN)
        ids = tuple(dict.fromkeys(i.strip() for i in (ticked or "").split(",") if i.strip()))
        if any(len(i) > ID_LIMIT for i in ids):
            raise InvalidInput(SCHEDULE_CARD_INCOMPLETE)
        return cls(
            day=_iso_date(data.get(URGENT_DATE_INPUT)),
            start=parse_time(raw_time) if raw_time else None,
            reason=text_field(data, URGENT_REASON_INPUT, MAX_URGENT_REASON_GIVEN) or "",
            case_ids=ids,
        )


ScheduleCommand = ShowSchedule | AskCalendarLink | MoveMeeting | CancelMeeting | CallUrgentMeeting


def schedule_command(args: str, today: date) -> ScheduleCommand:
    """`schedule` and its sub-commands; `today` is the panel's local date."""
    head, _, rest = args.strip().partition(" ")
    sub = head.lower()
    if sub in {"", "show", "list"}:
        return ShowSchedule()
    if sub in {"ics", "ical", "download"}:
        return AskCalendarLink()
    if sub == "move":
        return MoveMeeting.typed(rest.split(), today)
    if sub == "cancel":
        return CancelMeeting.typed(rest.split(), today)
    if sub == "urgent":
        return CallUrgentMeeting.typed(rest.split(), today)
    raise InvalidInput(f"Write it as: {USAGE}.")


# --- the agenda ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaAsked:
    """`agenda` shows the next meeting's agenda; `agenda publish` publishes it."""

    publish: bool

    @classmethod
    def of(cls, args: str) -> AgendaAsked:
        sub = args.strip().lower()
        if sub and sub != "publish":
            raise InvalidInput("Write it as: agenda, or agenda publish.")
        return cls(publish=sub == "publish")


@dataclass(frozen=True)
class AgendaCard:
    """What every agenda card button carries: the meeting and the version it showed."""

    meeting_id: str
    version: int | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AgendaCard:
        meeting_id = text_field(data, MEETING_KEY, ID_LIMIT)
        if meeting_id is None:
            raise InvalidInput("This card names no meeting. Type agenda.")
        return cls(meeting_id, rendered_version(data))


def _agenda_item(data: Mapping[str, Any]) -> str:
    item_id = text_field(data, ITEM_KEY, ID_LIMIT)
    if item_id is None:
        raise InvalidInput("This card names no agenda item. Type agenda.")
    return item_id


@dataclass(frozen=True)
class MoveItem:
    """Move an item up or down the agenda."""

    item_id: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> MoveItem:
        return cls(_agenda_item(data))


@dataclass(frozen=True)
class SetAsideItem:
    """Remove an item from the agenda, or defer a case to the next meeting, with a reason."""

    item_id: str
    reason: str

    @classmethod
    def removing(cls, data: Mapping[str, Any]) -> SetAsideItem:
        item_id = _agenda_item(data)
        return cls(item_id, text_field(data, field_id(REASON_INPUT, item_id), 600) or "")

    @classmethod
    def deferring(cls, data: Mapping[str, Any]) -> SetAsideItem:
        item_id = _agenda_item(data)
        return cls(item_id, text_field(data, field_id(DEFER_REASON_INPUT, item_id), 600) or "")


def _minutes(data: Mapping[str, Any]) -> int:
    raw = data.get(MINUTES_INPUT, 5)
    if isinstance(raw, bool):
        raise InvalidInput("Plan 1 to 120 minutes.", {MINUTES_INPUT: "invalid"})
    if isinstance(raw, int | float):
        return int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    if isinstance(raw, str) and not raw.strip():
        return 5
    raise InvalidInput("Plan 1 to 120 minutes.", {MINUTES_INPUT: "invalid"})


@dataclass(frozen=True)
class AddOtherBusiness:
    """Add an item of any other business (its title and the minutes planned for it are
    checked by the agenda's rules, bot.domain.agenda.other_business)."""

    title: str
    minutes: int

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AddOtherBusiness:
        return cls(text_field(data, TITLE_INPUT, 400) or "", _minutes(data))


@dataclass(frozen=True)
class AddCase:
    """Add a case to the agenda by its reference."""

    reference: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AddCase:
        return cls(text_field(data, REFERENCE_KEY, 40))


# --- running the meeting ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingAsked:
    """A card or a command about the meeting it names, or else the one under way (or next)."""

    meeting_id: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> MeetingAsked:
        return cls(text_field(data, MEETING_KEY, ID_LIMIT))


@dataclass(frozen=True)
class AcceptIsa:
    """The meeting's prompt accepted: the agreement's version it showed."""

    meeting_id: str | None
    isa_version: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AcceptIsa:
        version = data.get(ISA_VERSION_KEY)
        return cls(
            text_field(data, MEETING_KEY, ID_LIMIT), version if isinstance(version, str) else None
        )


@dataclass(frozen=True)
class ChairClick:
    """What every chair card button carries: the meeting, the item and the step the card
    was rendered at, and the meeting's version it showed."""

    meeting_id: str
    item_id: str
    step: int | None
    version: int | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ChairClick:
        return cls(
            _required(data, MEETING_KEY, CHAIR_OUT_OF_DATE),
            _required(data, ITEM_KEY, CHAIR_OUT_OF_DATE),
            _whole(data.get(STEP_KEY)),
            rendered_version(data),
        )


@dataclass(frozen=True)
class ChairForm(ChairClick):
    """A chair card form's button: a click, and the token of the rendering it came from."""

    token: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ChairForm:
        click = ChairClick.of(data)
        token = text_field(data, TOKEN_KEY, ID_LIMIT)
        if token is None:
            raise InvalidInput(CHAIR_OUT_OF_DATE)
        return cls(click.meeting_id, click.item_id, click.step, click.version, token)


def kept_inputs(data: Mapping[str, Any]) -> dict[str, str]:
    """What was typed into a refused chair card form, to show again (KEPT_INPUTS)."""
    return {k: v for k in KEPT_INPUTS if isinstance(v := data.get(k), str)}


def _why(data: Mapping[str, Any], name: str, *, required: bool) -> bool | None:
    raw = data.get(name)
    if raw == CIRCUMSTANCES_CHANGED:
        return True
    if raw == AGENCY_DID_NOT_ACT:
        return False
    if required or raw not in (None, ""):
        raise InvalidInput(
            "Say whether circumstances changed or the agency did not act.", {name: "required"}
        )
    return None


@dataclass(frozen=True)
class CaptureAction:
    """An action agreed on the case: what, which agency owns it, by when."""

    description: str
    owner_agency_id: str | None
    due_on: date

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CaptureAction:
        description = text_field(data, DESCRIPTION_INPUT, MAX_DESCRIPTION)
        if description is None:
            raise InvalidInput("Describe the action.", {DESCRIPTION_INPUT: "required"})
        agency_id = text_field(data, OWNER_AGENCY_INPUT, ID_LIMIT)
        return cls(description, agency_id, _date(data, DUE_ON_INPUT))


@dataclass(frozen=True)
class NominateLead:
    """The case's lead agency, and its officer if named."""

    agency_id: str | None
    officer: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> NominateLead:
        return cls(
            text_field(data, LEAD_AGENCY_INPUT, ID_LIMIT),
            text_field(data, LEAD_OFFICER_INPUT, 200),
        )


@dataclass(frozen=True)
class SetRisk:
    """The case's risk level now."""

    level: RiskLevel

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SetRisk:
        raw = text_field(data, RISK_LEVEL_INPUT, 32)
        level = next((r for r in RiskLevel if r.value == raw), None)
        if level is None:
            raise InvalidInput("Choose a risk level.", {RISK_LEVEL_INPUT: "invalid"})
        return cls(level)


@dataclass(frozen=True)
class ReviewLater:
    """The later meeting at which the case is reviewed."""

    meeting_id: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ReviewLater:
        return cls(text_field(data, REVIEW_MEETING_INPUT, ID_LIMIT))


@dataclass(frozen=True)
class CloseCase:
    """Close the case: the reason, a note, and what becomes of each open action (by its id:
    passed back to its agency, or cancelled). Which actions those are is checked against
    the case by the handler."""

    reason: ClosureReason
    note: str | None
    pass_back: frozenset[str] = frozenset()
    cancel: frozenset[str] = frozenset()

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CloseCase:
        raw = text_field(data, CLOSURE_REASON_INPUT, 64)
        reason = next((r for r in ClosureReason if r.value == raw), None)
        if reason is None:
            raise InvalidInput("Choose the reason for closing.", {CLOSURE_REASON_INPUT: "invalid"})
        chosen: dict[str, set[str]] = {PASS_BACK: set(), CANCEL: set()}
        for key, value in data.items():
            if not isinstance(key, str) or not key.startswith(SETTLE_PREFIX):
                continue
            action_id = key.removeprefix(SETTLE_PREFIX)
            if not action_id or len(action_id) > MAX_ID or value not in chosen:
                raise InvalidInput(
                    "Choose, for each open action, to pass it back or cancel it.", {key: "invalid"}
                )
            chosen[value].add(action_id)
        return cls(
            reason,
            text_field(data, CLOSURE_NOTE_INPUT, MAX_NOTE),
            frozenset(chosen[PASS_BACK]),
            frozenset(chosen[CANCEL]),
        )


@dataclass(frozen=True)
class ReopenCase:
    """Reopen the (closed) case of the chair card's item: nothing to read."""

    @classmethod
    def of(cls, _data: Mapping[str, Any]) -> ReopenCase:
        return cls()


@dataclass(frozen=True)
class SaveSummary:
    """The item's discussion summary, for the minutes; None clears it."""

    summary: str | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SaveSummary:
        return cls(text_field(data, SUMMARY_INPUT, MAX_SUMMARY))


def _unmet(data: Mapping[str, Any]) -> tuple[str, int]:
    """The unmet action a form names, and its place in the card's list (which makes its
    inputs' ids)."""
    action_id = _required(data, ACTION_ID_KEY, CHAIR_OUT_OF_DATE)
    index = _whole(data.get(INDEX_KEY))
    if index is None or not 0 <= index < MAX_UNMET_SHOWN:
        raise InvalidInput(CHAIR_OUT_OF_DATE)
    return action_id, index


@dataclass(frozen=True)
class CarryForward:
    """An unmet action carried forward to a new date, and why it was not met."""

    action_id: str
    new_due: date
    circumstances_changed: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CarryForward:
        action_id, index = _unmet(data)
        new_due = _date(data, indexed(NEW_DUE_ON_INPUT, index))
        changed = _why(data, indexed(CARRY_WHY_INPUT, index), required=True)
        assert changed is not None
        return cls(action_id, new_due, changed)


@dataclass(frozen=True)
class Escalate:
    """An unmet action escalated: to whom and how, and why it was not met."""

    action_id: str
    note: str
    circumstances_changed: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Escalate:
        action_id, index = _unmet(data)
        note = text_field(data, indexed(ESCALATION_INPUT, index), MAX_NOTE) or ""
        changed = _why(data, indexed(ESCALATE_WHY_INPUT, index), required=True)
        assert changed is not None
        return cls(action_id, note, changed)


@dataclass(frozen=True)
class CancelAction:
    """An unmet action cancelled: the reason, and (optionally) why it was not met."""

    action_id: str
    reason: str
    circumstances_changed: bool | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> CancelAction:
        action_id, index = _unmet(data)
        reason = text_field(data, indexed(CANCEL_REASON_INPUT, index), MAX_NOTE) or ""
        changed = _why(data, indexed(CANCEL_WHY_INPUT, index), required=False)
        return cls(action_id, reason, changed)


# --- the minutes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesCard:
    """What the minutes card's buttons carry: the meeting, and the minutes' version shown."""

    meeting_id: str
    version: int | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> MinutesCard:
        meeting_id = text_field(data, MEETING_KEY, ID_LIMIT)
        if meeting_id is None:
            raise InvalidInput(MINUTES_OUT_OF_DATE)
        return cls(meeting_id, rendered_version(data))


@dataclass(frozen=True)
class EditSummary(MinutesCard):
    """One case's summary in the draft: the case's agenda item (its text is read by
    `text`, when the edit is applied)."""

    item_id: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> EditSummary:
        meeting_id = text_field(data, MEETING_KEY, ID_LIMIT)
        item_id = text_field(data, ITEM_KEY, ID_LIMIT)
        if meeting_id is None or item_id is None:
            raise InvalidInput(MINUTES_OUT_OF_DATE)
        return cls(meeting_id, rendered_version(data), item_id)

    def text(self, data: Mapping[str, Any]) -> str:
        """The summary typed for this case (blank clears it)."""
        return text_field(data, summary_id(self.item_id), MAX_MINUTES_SUMMARY) or ""
