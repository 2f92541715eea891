"""Information requests: the card an agency's contact answers, and what follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac

from cards.kit import Card, build, facts, heading, paragraph
from cards.verbs import REQUEST_ID_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

SEND_ANSWER = "Send to the panel"
ANSWERED_TITLE = "Thank you — returned to the panel"
MAX_ANSWER = 4000
# The card data key naming the request a button acts on, and the answer box's input id.
ANSWER_INPUT = "answer"


def info_request_title(case_reference: str) -> str:
    """The information request card's heading."""
    return f"Information request for {case_reference}"


@dataclass(frozen=True)
class RequestSubject:
    name: str
    role: str
    born: str | None = None


@dataclass(frozen=True)
class InfoRequestView:
    """Need to know: this card goes only to the asked agency's SPOC (or deputy)."""

    request_id: str
    case_reference: str
    panel_name: str
    agency: str
    risk_level: str
    meeting: str | None
    due: str
    subjects: Sequence[RequestSubject]
    question: str
    answer: str | None = None
    error: str | None = None
    # The request's version this rendering shows: an answer from an older card is refused.
    version: int = 0


def render_info_request(view: InfoRequestView) -> Card:
    """The case in brief, the panel's question, and a box for the agency's answer."""
    title = info_request_title(view.case_reference)
    pairs = [("Agency", view.agency), ("Risk level", view.risk_level)]
    if view.meeting:
        pairs.append(("Meeting", view.meeting))
    pairs.append(("Please answer by", view.due))
    body: list[Any] = [*heading(title, view.panel_name), facts(pairs), paragraph("**Subjects**")]
    for subject in view.subjects:
        born = f", born {subject.born}" if subject.born else ""
        body.append(paragraph(f"{subject.name} — {subject.role}{born}"))
    body += [
        paragraph(f"**The panel asks:** {view.question}"),
        ac.InputText(
            id=ANSWER_INPUT,
            label="What your agency knows",
            value=view.answer,
            is_multiline=True,
            max_length=MAX_ANSWER,
            is_required=True,
            error_message="Write what your agency knows, or that it knows nothing.",
        ),
    ]
    if view.error:
        body.append(paragraph(view.error, attention=True))
    body.append(
        paragraph(
            "Sent to you as your agency's contact for this panel. Keep it confidential and "
            "share it only with those who need to know.",
            subtle=True,
        )
    )
    send = ac.ActionExecute(
        title=SEND_ANSWER,
        verb=Verb.INFO_ANSWER.value,
        data={REQUEST_ID_KEY: view.request_id, VERSION_KEY: view.version},
    )
    return build(body, [send], fallback=title)


@dataclass(frozen=True)
class InfoAnsweredView:
    case_reference: str
    agency: str
    answered_by: str
    answered_on: str
    answer: str
    # Why this is shown to someone whose own answer was not sent (a stale card, a lost race).
    notice: str | None = None


def render_info_answered(view: InfoAnsweredView) -> Card:
    """Shown in place of the request card once the agency has answered."""
    body = [
        *heading(ANSWERED_TITLE, f"{view.case_reference} · {view.agency}"),
        *([paragraph(view.notice, attention=True)] if view.notice else []),
        facts([("Answered by", view.answered_by), ("On", view.answered_on)]),
        paragraph(view.answer, subtle=True),
    ]
    return build(body, fallback=ANSWERED_TITLE)


@dataclass(frozen=True)
class AnsweredNoticeView:
    """The coordinator's short note that one agency has answered."""

    agency: str
    case_reference: str
    answered: int
    asked: int


def answered_notice_text(view: AnsweredNoticeView) -> str:
    """e.g. 'Riverside Homes answered the request for CM-2026-015 (2 of 3 agencies answered)'."""
    return (
        f"{view.agency} answered the request for {view.case_reference} "
        f"({view.answered} of {view.asked} agencies answered)"
    )


def render_answered_notice(view: AnsweredNoticeView) -> Card:
    """A one-line card for the coordinators."""
    text = answered_notice_text(view)
    everyone = "Every agency asked has answered." if view.answered == view.asked else None
    return build(heading(text, everyone), fallback=text)
