"""The coordinator's triage card, its outcome cards, and the channel's no-personal-data notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, facts, heading, paragraph
from cards.verbs import REFERRAL_ID_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Titles people (and the e2e tests) look for.
ACCEPT_BUTTON = "Accept"
ASK_BUTTON = "Ask for more information"
DECLINE_BUTTON = "Decline"
CONFIRM_ACCEPT = "Accept and send requests"
CONFIRM_ASK = "Send the question"
CONFIRM_DECLINE = "Decline the referral"
PLAN_MEETINGS_BUTTON = "Plan the next meetings"
ACCEPT_FORM = "accept"
ASK_FORM = "ask"
DECLINE_FORM = "decline"
# The forms' input ids, read back by the triage use cases.
MEETING_INPUT = "meeting_id"
AGENCIES_INPUT = "agency_ids"
INFO_QUESTION_INPUT = "info_question"
QUESTION_INPUT = "question"
DECLINE_REASON_INPUT = "decline_reason"
OTHER_MEETING_INPUT = "other_meeting"
DECLINE_NOTE_INPUT = "decline_note"
FORM_INPUTS: Mapping[str, tuple[str, ...]] = {
    ACCEPT_FORM: (MEETING_INPUT, AGENCIES_INPUT, INFO_QUESTION_INPUT),
    ASK_FORM: (QUESTION_INPUT,),
    DECLINE_FORM: (DECLINE_REASON_INPUT, OTHER_MEETING_INPUT, DECLINE_NOTE_INPUT),
}
MAX_MATCHES = 10
MAX_TEXT = 2000


def triage_title(reference: str) -> str:
    """The triage card's heading."""
    return f"Triage referral {reference}"


def channel_notice_title(reference: str) -> str:
    """The channel notice's heading."""
    return f"New referral {reference}"


@dataclass(frozen=True)
class Choice:
    value: str
    title: str


@dataclass(frozen=True)
class SubjectLine:
    name: str
    role: str
    born: str | None = None
    postcode: str | None = None
    vulnerabilities: str | None = None


@dataclass(frozen=True)
class MatchLine:
    kind: str
    text: str


@dataclass(frozen=True)
class TriageView:
    """Everything the coordinator needs to decide on one referral."""

    referral_id: str
    version: int
    reference: str
    panel_name: str
    referrer: str
    agency: str
    submitted_on: str
    category: str
    subjects: Sequence[SubjectLine]
    children: int
    incidents: str
    consent: str
    risk: str
    risk_level: str
    criteria: Sequence[str]
    matches: Sequence[MatchLine]
    meetings: Sequence[Choice]
    default_meeting: str | None
    agencies: Sequence[Choice]
    default_agencies: Sequence[str]
    info_question: str
    decline_reasons: Sequence[Choice]
    other_meetings: Sequence[Choice]
    previous_question: str | None = None
    notice: str | None = None
    # What the referrer typed to explain the escalation, and what was tried already.
    explanation: str | None = None
    tried_already: str | None = None
    # After a refused click: the form to show open, what was typed, and what is wrong.
    open_form: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def _field_error(view: TriageView, name: str) -> list[Any]:
    error = view.errors.get(name)
    return [paragraph(error, attention=True)] if error else []


def _value(view: TriageView, name: str, default: str | None) -> str | None:
    return view.values.get(name, default) if view.open_form else default


def _required(view: TriageView, form: str) -> bool | None:
    # A form shown open in the body is submitted with the other forms' buttons too (their
    # inputs include the body's), so it must not block them; the server checks it anyway.
    return None if view.open_form == form else True


def _execute(title: str, verb: Verb, view: TriageView) -> Any:
    return ac.ActionExecute(
        title=title,
        verb=verb.value,
        data={REFERRAL_ID_KEY: view.referral_id, VERSION_KEY: view.version},
        style=t.ActionStyle.POSITIVE if verb is Verb.TRIAGE_ACCEPT else None,
    )


def _choices(choices: Sequence[Choice]) -> list[Any]:
    return [ac.InputChoice(title=c.title, value=c.value) for c in choices]


def _accept_form(view: TriageView) -> tuple[list[Any], list[Any]]:
    if not view.meetings:
        return [
            paragraph(
                "No upcoming meeting is scheduled, so the case cannot be listed yet. Plan the "
                "panel's next meetings from its schedule: this card then shows them.",
                attention=True,
            )
        ], [_execute(PLAN_MEETINGS_BUTTON, Verb.TRIAGE_PLAN_MEETINGS, view)]
    items: list[Any] = [
        ac.InputChoiceSet(
            id=MEETING_INPUT,
            label="Meeting",
            choices=_choices(view.meetings),
            value=_value(view, MEETING_INPUT, view.default_meeting),
            style=t.ChoiceInputStyle.COMPACT,
            is_required=_required(view, ACCEPT_FORM),
            error_message="Choose the meeting.",
        ),
        *_field_error(view, MEETING_INPUT),
        ac.InputChoiceSet(
            id=AGENCIES_INPUT,
            label="Ask these agencies for information",
            choices=_choices(view.agencies),
            value=_value(view, AGENCIES_INPUT, ",".join(view.default_agencies)),
            is_multi_select=True,
            style=t.ChoiceInputStyle.EXPANDED,
        ),
        *_field_error(view, AGENCIES_INPUT),
        ac.InputText(
            id=INFO_QUESTION_INPUT,
            label="Question for the agencies",
            value=_value(view, INFO_QUESTION_INPUT, view.info_question),
            is_multiline=True,
            max_length=MAX_TEXT,
        ),
        *_field_error(view, INFO_QUESTION_INPUT),
    ]
    return items, [_execute(CONFIRM_ACCEPT, Verb.TRIAGE_ACCEPT, view)]


def _ask_form(view: TriageView) -> tuple[list[Any], list[Any]]:
    items: list[Any] = [
        ac.InputText(
            id=QUESTION_INPUT,
            label="Question for the referrer",
            value=_value(view, QUESTION_INPUT, None),
            placeholder=f"What do you need from {view.referrer}?",
            is_multiline=True,
            max_length=MAX_TEXT,
            is_required=_required(view, ASK_FORM),
            error_message="Write the question.",
        ),
        *_field_error(view, QUESTION_INPUT),
    ]
    return items, [_execute(CONFIRM_ASK, Verb.TRIAGE_ASK, view)]


def _decline_form(view: TriageView) -> tuple[list[Any], list[Any]]:
    items: list[Any] = [
        ac.InputChoiceSet(
            id=DECLINE_REASON_INPUT,
            label="Reason",
            choices=_choices(view.decline_reasons),
            value=_value(view, DECLINE_REASON_INPUT, None),
            style=t.ChoiceInputStyle.EXPANDED,
            is_required=_required(view, DECLINE_FORM),
            error_message="Choose a reason.",
        ),
        *_field_error(view, DECLINE_REASON_INPUT),
        ac.InputChoiceSet(
            id=OTHER_MEETING_INPUT,
            label="The more appropriate meeting (when that is the reason)",
            choices=_choices(view.other_meetings),
            value=_value(view, OTHER_MEETING_INPUT, None),
            style=t.ChoiceInputStyle.COMPACT,
            placeholder="Choose a meeting",
        ),
        *_field_error(view, OTHER_MEETING_INPUT),
        ac.InputText(
            id=DECLINE_NOTE_INPUT,
            label="Note for the referrer",
            value=_value(view, DECLINE_NOTE_INPUT, None),
            is_multiline=True,
            max_length=MAX_TEXT,
        ),
        *_field_error(view, DECLINE_NOTE_INPUT),
    ]
    return items, [_execute(CONFIRM_DECLINE, Verb.TRIAGE_DECLINE, view)]


def _summary(view: TriageView) -> list[Any]:
    body: list[Any] = [
        facts(
            [
                ("Referrer", f"{view.referrer}, {view.agency}"),
                ("Submitted", view.submitted_on),
                ("Category", view.category),
                ("Children in household", str(view.children) if view.children else "none"),
                ("Incidents", view.incidents),
                ("Consent", view.consent),
                ("Risk", f"{view.risk_level} — {view.risk}"),
                ("Criteria met", "; ".join(view.criteria) or "none"),
                *([("Why it escalates", view.explanation)] if view.explanation else []),
                *([("Tried already", view.tried_already)] if view.tried_already else []),
            ]
        ),
        paragraph("**Subjects**"),
    ]
    for subject in view.subjects:
        details = [subject.role]
        if subject.born:
            details.append(f"born {subject.born}")
        if subject.postcode:
            details.append(subject.postcode)
        if subject.vulnerabilities:
            details.append(f"vulnerabilities: {subject.vulnerabilities}")
        body.append(paragraph(f"{subject.name} — {', '.join(details)}"))
    if view.previous_question:
        body.append(paragraph(f"Resubmitted after the question: “{view.previous_question}”"))
    return body


def _matches(view: TriageView) -> list[Any]:
    body: list[Any] = [paragraph("**Matches in this panel's records** (coordinators only)")]
    if not view.matches:
        body.append(paragraph("No earlier referral or case matches these subjects.", subtle=True))
        return body
    for match in view.matches[:MAX_MATCHES]:
        body.append(paragraph(f"**{match.kind}**: {match.text}"))
    if len(view.matches) > MAX_MATCHES:
        body.append(paragraph(f"… and {len(view.matches) - MAX_MATCHES} more.", subtle=True))
    return body


def render_triage(view: TriageView) -> Card:
    """The referral's summary, score, criteria and matches, with the three decisions.

    Each decision's form opens under its button; after a refused click the form is shown
    open in the card with each error next to its field.
    """
    title = triage_title(view.reference)
    body: list[Any] = [*heading(title, view.panel_name)]
    if view.notice:
        body.append(paragraph(view.notice, attention=True))
    body += _summary(view)
    body += _matches(view)
    forms = {
        ACCEPT_FORM: (ACCEPT_BUTTON, _accept_form(view)),
        ASK_FORM: (ASK_BUTTON, _ask_form(view)),
        DECLINE_FORM: (DECLINE_BUTTON, _decline_form(view)),
    }
    actions: list[Any] = []
    for name, (button, (items, submit)) in forms.items():
        if name == view.open_form:
            body.append(
                ac.Container(
                    items=[paragraph(f"**{button}**"), *items, ac.ActionSet(actions=submit)]
                    if submit
                    else [paragraph(f"**{button}**"), *items],
                    style=t.ContainerStyle.EMPHASIS,
                    separator=True,
                )
            )
            continue
        shown = ac.AdaptiveCard.new().add_items(items)
        if submit:
            shown = shown.add_actions(submit)
        actions.append(ac.ActionShowCard(title=button, card=shown.create()))
    return build(body, actions, fallback=title)


@dataclass(frozen=True)
class OutcomeView:
    """What became of the referral: shown in place of the clicked triage card."""

    title: str
    subtitle: str | None
    facts: Sequence[tuple[str, str]]
    note: str | None = None


def render_triage_outcome(view: OutcomeView) -> Card:
    """The decision made (or found already made), without the buttons."""
    body: list[Any] = [*heading(view.title, view.subtitle)]
    if view.facts:
        body.append(facts(view.facts))
    if view.note:
        body.append(paragraph(view.note, subtle=True))
    return build(body, fallback=view.title)


@dataclass(frozen=True)
class ChannelNoticeView:
    """A new referral, as the team channel may see it: no personal data at all."""

    reference: str
    agency: str
    risk_level: str
    resubmitted: bool = False


def render_channel_notice(view: ChannelNoticeView) -> Card:
    """Reference, referring agency and risk level only; details go to coordinators."""
    title = channel_notice_title(view.reference)
    subtitle = "Resubmitted with more information" if view.resubmitted else None
    body = [
        *heading(title, subtitle),
        facts(
            [
                ("Referring agency", view.agency),
                ("Risk level", view.risk_level),
                ("Status", "Awaiting triage"),
            ]
        ),
        paragraph("The coordinators have the details in their private chat.", subtle=True),
    ]
    return build(body, fallback=title)
