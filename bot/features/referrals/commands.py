"""What the referrals feature is asked to do, read at the edge into frozen, typed commands.

Every typed argument and every card input the feature acts on is read and checked here, once,
with the card modules' constants for its keys; the use cases take these commands and never
look into a request's data. A command's `parse` raises InvalidInput with what to do instead.

A triage form's inputs are not refused here: a form that cannot be read is shown again with
the error next to its field, once the referral is known to be still waiting for a decision,
so the command carries the first unreadable input (`unreadable`) for the use case to refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import Step
from bot.domain.referral import DeclineReason
from bot.kernel.inputs import text_field
from bot.kernel.versions import rendered_version
from cards.info_request import ANSWER_INPUT, MAX_ANSWER
from cards.intake import CONFIRM_KEY, ROW_KEY, STEP_KEY
from cards.triage import (
    ACCEPT_FORM,
    AGENCIES_INPUT,
    ASK_FORM,
    DECLINE_FORM,
    DECLINE_NOTE_INPUT,
    DECLINE_REASON_INPUT,
    FORM_INPUTS,
    INFO_QUESTION_INPUT,
    MAX_TEXT,
    MEETING_INPUT,
    OTHER_MEETING_INPUT,
    QUESTION_INPUT,
)
from cards.verbs import REFERRAL_ID_KEY, REQUEST_ID_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_ID = 64
MAX_REFERENCE = 40
HOW_TO_REFER = (
    "Type refer to carry on with your draft, refer new to start another, or refer and a "
    "reference such as RF-2026-0049."
)
OUT_OF_DATE = "This card is out of date. Type refer to carry on with your referral."
NO_REFERRAL = "This card names no referral. Type referrals."
NO_REQUEST = "This card names no request. Type help."
_REFERENCE = re.compile(r"^RF-\d{4}-\d{1,6}$", re.IGNORECASE)


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


# ---- the referrer: `refer` and the intake card ------------------------------------------


@dataclass(frozen=True)
class Refer:
    """`refer` (carry on with the newest draft, or start one), `refer new`, `refer RF-…`."""

    new: bool = False
    reference: str | None = None

    @classmethod
    def parse(cls, args: str) -> Refer:
        """The command's argument: nothing, `new`, or a referral reference (any case)."""
        wanted = args.strip()
        if wanted.lower() == "new":
            return cls(new=True)
        if not wanted:
            return cls()
        if not _REFERENCE.match(wanted):
            raise InvalidInput(HOW_TO_REFER)
        return cls(reference=wanted.upper())


def step_of(raw: object) -> Step | None:
    """The intake step a card (or a stored draft) names, if it names one."""
    return next((s for s in Step if s.value == raw), None)


@dataclass(frozen=True)
class IntakeClick:
    """A click on the intake card: the referral, the step it was clicked on, what the card's
    inputs held (laid over the draft by the intake rules, which keep only the card's own
    fields), and the row a "Remove" button names or the discard question's confirmation."""

    referral_id: str
    step: Step | None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    row: str = ""
    confirmed: bool = False

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IntakeClick:
        """The click's data; a card naming no readable referral is out of date."""
        try:
            referral_id = text_field(data, REFERRAL_ID_KEY, MAX_ID)
        except InvalidInput:
            referral_id = None
        if referral_id is None:
            raise InvalidInput(OUT_OF_DATE)
        row = data.get(ROW_KEY)
        return cls(
            referral_id=referral_id,
            step=step_of(data.get(STEP_KEY)),
            inputs=_frozen(data),
            row=row if isinstance(row, str) else "",
            confirmed=data.get(CONFIRM_KEY) is True,
        )


# ---- the coordinator: `referrals` and the triage card -----------------------------------


@dataclass(frozen=True)
class ListReferrals:
    """`referrals` (the list) or `referrals RF-…` (one referral's triage card)."""

    reference: str | None = None

    @classmethod
    def parse(cls, args: str) -> ListReferrals:
        """The first word of the argument, if any, cut to a reference's length."""
        words = args.split()
        return cls(words[0][:MAX_REFERENCE] if words else None)


def _id_list(raw: object) -> tuple[str, ...] | None:
    """A multi-select's value: 'a,b,c' (as cards send it) or a list; None if unreadable."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        parts = list(raw)
    else:
        return None
    ids = [p.strip() for p in parts if p.strip()]
    return tuple(dict.fromkeys(ids))


class _Form:
    """Reads a form's text inputs in order, stopping at the first that cannot be read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.unreadable: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        if self.unreadable:
            return None
        try:
            return text_field(self.data, name, MAX_TEXT)
        except InvalidInput as err:
            self.unreadable = {key: err.message for key in err.fields} or {name: err.message}
            return None


@dataclass(frozen=True)
class TriageClick:
    """A decision clicked on the triage card: the referral, the version the card was
    rendered from, what its form held as typed (to show again if refused), and the first
    input that could not be read, with why."""

    form: ClassVar[str]

    referral_id: str
    version: int | None
    typed: Mapping[str, str]
    unreadable: Mapping[str, str]

    @staticmethod
    def _common(data: Mapping[str, Any], form: str) -> tuple[str, int | None, Mapping[str, str]]:
        referral_id = text_field(data, REFERRAL_ID_KEY, MAX_ID)
        if referral_id is None:
            raise InvalidInput(NO_REFERRAL)
        typed = {
            name: value[:MAX_TEXT]
            for name in FORM_INPUTS[form]
            if isinstance(value := data.get(name), str)
        }
        return referral_id, rendered_version(data), MappingProxyType(typed)


@dataclass(frozen=True)
class PlanMeetings:
    """The triage card's "Plan the next meetings": the referral whose card asked."""

    referral_id: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> PlanMeetings:
        referral_id = text_field(data, REFERRAL_ID_KEY, MAX_ID)
        if referral_id is None:
            raise InvalidInput(NO_REFERRAL)
        return cls(referral_id)


@dataclass(frozen=True)
class AcceptReferral(TriageClick):
    """Accept: the meeting to list the case on, the agencies to ask, and what to ask them."""

    form: ClassVar[str] = ACCEPT_FORM

    meeting_id: str | None = None
    agency_ids: tuple[str, ...] | None = ()  # None: the card sent something unreadable
    info_question: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AcceptReferral:
        """The accept form's inputs."""
        referral_id, version, typed = cls._common(data, cls.form)
        form = _Form(data)
        meeting_id = form.text(MEETING_INPUT)
        agency_ids = _id_list(data.get(AGENCIES_INPUT))
        info_question = form.text(INFO_QUESTION_INPUT)
        return cls(
            referral_id,
            version,
            typed,
            MappingProxyType(form.unreadable),
            meeting_id=meeting_id,
            agency_ids=agency_ids,
            info_question=info_question,
        )


@dataclass(frozen=True)
class AskReferrer(TriageClick):
    """Send the referral back to its referrer with a question."""

    form: ClassVar[str] = ASK_FORM

    question: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AskReferrer:
        """The ask form's question."""
        referral_id, version, typed = cls._common(data, cls.form)
        form = _Form(data)
        question = form.text(QUESTION_INPUT)
        return cls(
            referral_id, version, typed, MappingProxyType(form.unreadable), question=question
        )


@dataclass(frozen=True)
class DeclineReferral(TriageClick):
    """Decline: the reason (None when none of the list was chosen), the more appropriate
    meeting's key as chosen, and the note for the referrer."""

    form: ClassVar[str] = DECLINE_FORM

    reason: DeclineReason | None = None
    other_meeting: str | None = None
    note: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DeclineReferral:
        """The decline form's inputs."""
        referral_id, version, typed = cls._common(data, cls.form)
        form = _Form(data)
        raw_reason = form.text(DECLINE_REASON_INPUT)
        other_meeting = form.text(OTHER_MEETING_INPUT)
        note = form.text(DECLINE_NOTE_INPUT)
        return cls(
            referral_id,
            version,
            typed,
            MappingProxyType(form.unreadable),
            reason=next((r for r in DeclineReason if r.value == raw_reason), None),
            other_meeting=other_meeting,
            note=note,
        )


# ---- the asked agency: the information request card -----------------------------------


def _request_id(data: Mapping[str, Any]) -> str:
    request_id = text_field(data, REQUEST_ID_KEY, MAX_ID)
    if request_id is None:
        raise InvalidInput(NO_REQUEST)
    return request_id


@dataclass(frozen=True)
class OpenInfoRequest:
    """Open an information request's card (e.g. after accepting the agreement)."""

    request_id: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> OpenInfoRequest:
        """The request the button names."""
        return cls(_request_id(data))


@dataclass(frozen=True)
class AnswerInfoRequest:
    """The agency's answer: the request, the version the card was rendered from, the answer
    as read (None when blank), why it could not be read (not text, or too long), and the
    text as typed, to keep in the box when the answer is not sent."""

    request_id: str
    version: int | None
    answer: str | None
    unreadable: str | None
    typed: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AnswerInfoRequest:
        """The answer card's data."""
        request_id = _request_id(data)
        raw = data.get(ANSWER_INPUT)
        try:
            answer, unreadable = text_field(data, ANSWER_INPUT, MAX_ANSWER), None
        except InvalidInput as err:
            answer, unreadable = None, err.message
        return cls(
            request_id=request_id,
            version=rendered_version(data),
            answer=answer,
            unreadable=unreadable,
            typed=raw if isinstance(raw, str) else None,
        )
