"""Running the meeting: the confidentiality card each attendee acknowledges, the chair card
that walks the agenda ("Item 3 of 9") and the card the meeting chat sees when it ends. The
owner agency's contact receives an action agreed at the meeting as the actions feature's
card (cards.actions), headed by `action_assigned_title`.

Every button of the chair card carries the meeting, the item and the step it was rendered
for, and a token that changes with every rendering: the server uses them so that a click
sent twice, or two people clicking at once, never adds an action twice or skips an item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.agenda import ITEM_KEY
from cards.kit import CARD_VERSION, Card, build, facts, heading, paragraph
from cards.verbs import ACTION_ID_KEY, MEETING_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CONFIDENTIALITY_TITLE = "Confidentiality statement"
ISA_TITLE = "Accept the information sharing agreement first"
ENDED_TITLE = "Meeting ended"
ACK_BUTTON = "I acknowledge"
OPEN_CHAIR_BUTTON = "Open the chair card"
ACCEPT_ISA_BUTTON = "Accept the agreement"
BACK_BUTTON = "Back"
NEXT_BUTTON = "Next"
END_BUTTON = "End the meeting"
ADD_ACTION_BUTTON = "Add an action…"
SAVE_ACTION = "Save action"
LEAD_BUTTON = "Lead agency…"
SAVE_LEAD = "Save lead agency"
RISK_BUTTON = "Risk level…"
SAVE_RISK = "Save risk level"
REVIEW_BUTTON = "Review later…"
SAVE_REVIEW = "Set the review meeting"
CLOSE_BUTTON = "Close case…"
CONFIRM_CLOSE = "Close the case"
REOPEN_BUTTON = "Reopen the case"
SUMMARY_BUTTON = "Summary…"
SAVE_SUMMARY = "Save summary"
CARRY_BUTTON = "Carry forward…"
CONFIRM_CARRY = "Carry forward"
ESCALATE_BUTTON = "Escalate…"
CONFIRM_ESCALATE = "Escalate"
CANCEL_ACTION_BUTTON = "Cancel action…"
CONFIRM_CANCEL_ACTION = "Cancel the action"
CIRCUMSTANCES_CHANGED = "changed"
AGENCY_DID_NOT_ACT = "did_not_act"
MAX_DESCRIPTION = 1000
MAX_NOTE = 500
MAX_SUMMARY = 4000
MAX_UNMET_SHOWN = 12
# What the chair card's buttons carry besides the meeting (MEETING_KEY), the agenda item
# (ITEM_KEY) and the version (VERSION_KEY): the step the card was rendered at, the token of
# this rendering and, on an unmet action's forms, the action and its place in the list.
STEP_KEY = "step"
TOKEN_KEY = "token"  # noqa: S105 (a card data key, not a secret)
INDEX_KEY = "index"
# The agreement's version the meeting's prompt asked the member to accept.
ISA_VERSION_KEY = "isa_version"
# The chair card's inputs.
DESCRIPTION_INPUT = "description"
OWNER_AGENCY_INPUT = "owner_agency_id"
DUE_ON_INPUT = "due_on"
LEAD_AGENCY_INPUT = "lead_agency_id"
LEAD_OFFICER_INPUT = "lead_officer"
RISK_LEVEL_INPUT = "risk_level"
REVIEW_MEETING_INPUT = "review_meeting_id"
CLOSURE_REASON_INPUT = "closure_reason"
CLOSURE_NOTE_INPUT = "closure_note"
# What closing does with each open action of the case: one input per action, named
# `settle_input(action_id)`, whose value is PASS_BACK or CANCEL.
SETTLE_PREFIX = "settle."
PASS_BACK = "pass_back"  # noqa: S105 (a choice value, not a secret)
CANCEL = "cancel"
SUMMARY_INPUT = "summary"
# An unmet action's inputs, made unique across the card by `indexed(name, index)`.
NEW_DUE_ON_INPUT = "new_due_on"
CARRY_WHY_INPUT = "why"
ESCALATION_INPUT = "escalation"
ESCALATE_WHY_INPUT = "escalate_why"
CANCEL_REASON_INPUT = "cancel_reason"
CANCEL_WHY_INPUT = "cancel_why"
# The inputs a refused form shows again, so the chair need not type them again.
KEPT_INPUTS = (DESCRIPTION_INPUT, OWNER_AGENCY_INPUT, DUE_ON_INPUT, SUMMARY_INPUT)
_CHAIR_TITLE = re.compile(r"Item \d+ of \d+: .+", re.DOTALL)


def chair_title(number: int, total: int, title: str) -> str:
    """The chair card's heading, e.g. "Item 3 of 9: CM-2026-014 (new case)"."""
    return f"Item {number} of {total}: {title}"


IN_CONFIDENCE = " · in confidence"


def is_chair_title(title: str) -> bool:
    """Whether a card's heading (its fallback text) is the shared rendering of a chair card
    (the one without narratives), which a group chat or channel may be shown."""
    return bool(_CHAIR_TITLE.fullmatch(title)) and not title.endswith(IN_CONFIDENCE)


def action_assigned_title(case_reference: str) -> str:
    """The heading of the card an owner agency receives for a new action."""
    return f"New action for {case_reference}"


def settle_input(action_id: str) -> str:
    """The close form's input for what becomes of one open action."""
    return f"{SETTLE_PREFIX}{action_id}"


def indexed(name: str, index: int) -> str:
    """An input id of one unmet action's form: ids are unique across the whole card."""
    return f"{name}-{index}"


@dataclass(frozen=True)
class Option:
    value: str
    title: str


# --- the confidentiality card ------------------------------------------------------------


@dataclass(frozen=True)
class ConfidentialityView:
    panel_name: str
    meeting_id: str
    meeting_label: str  # "Tue 8 Dec 2026, 10:00"
    statement: str
    attendance: Sequence[str]  # "Riverside Police (1)": agencies, not people
    notice: str | None = None
    acknowledged: bool = False
    # Facts of the meeting every reader is told: it started on another day than planned.
    started_late: str | None = None
    # A reader's own view: the cases on the agenda they will see in full.
    your_cases: str | None = None


def render_confidentiality(view: ConfidentialityView) -> Card:
    """The statement every attendee acknowledges; acknowledging records their attendance."""
    body: list[Any] = [
        *heading(CONFIDENTIALITY_TITLE, f"{view.panel_name} · {view.meeting_label}"),
        paragraph(view.statement),
    ]
    if view.started_late:
        body.append(paragraph(view.started_late))
    if view.notice:
        body.append(paragraph(view.notice, attention=not view.acknowledged))
    if view.your_cases:
        body.append(paragraph(view.your_cases))
    present = ", ".join(view.attendance) if view.attendance else "nobody yet"
    body.append(paragraph(f"**Acknowledged by:** {present}", subtle=True))
    data = {MEETING_KEY: view.meeting_id}
    actions: list[Any] = []
    if not view.acknowledged:
        actions.append(
            ac.ActionExecute(
                title=ACK_BUTTON,
                verb=Verb.MEETING_ACKNOWLEDGE.value,
                data=data,
                style=t.ActionStyle.POSITIVE,
            )
        )
    actions.append(
        ac.ActionExecute(title=OPEN_CHAIR_BUTTON, verb=Verb.MEETING_CHAIR.value, data=data)
    )
    return build(body, actions, fallback=CONFIDENTIALITY_TITLE)


@dataclass(frozen=True)
class IsaPromptView:
    panel_name: str
    meeting_id: str
    member_name: str
    isa_version: str
    isa_text: str
    accepted_version: str | None


def render_isa_prompt(view: IsaPromptView) -> Card:
    """Asked of a member who has not accepted the panel's current agreement."""
    if view.accepted_version:
        why = (
            f"{view.member_name}, you accepted version {view.accepted_version}; the panel now "
            f"shares information under version {view.isa_version}."
        )
    else:
        why = f"{view.member_name}, you have not accepted the panel's agreement yet."
    body: list[Any] = [
        *heading(ISA_TITLE, view.panel_name),
        paragraph(why),
        ac.Container(
            items=[paragraph(view.isa_text or "The panel's information sharing agreement.")],
            style=t.ContainerStyle.EMPHASIS,
        ),
        paragraph(
            f"Accepting records version {view.isa_version} with today's date, then your "
            "attendance.",
            subtle=True,
        ),
    ]
    accept = ac.ActionExecute(
        title=ACCEPT_ISA_BUTTON,
        verb=Verb.MEETING_ACCEPT_ISA.value,
        data={MEETING_KEY: view.meeting_id, ISA_VERSION_KEY: view.isa_version},
        style=t.ActionStyle.POSITIVE,
    )
    return build(body, [accept], fallback=ISA_TITLE)


# --- the chair card ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionText:
    """An action in one line: "Riverside Homes (Housing): Fit a door camera — due … — open"."""

    owner: str
    description: str
    due: str
    state: str


@dataclass(frozen=True)
class CaseDetail:
    reference: str
    kind: str  # "new case" or "review"
    risk_level: str
    status: str
    lead: str
    children: str
    decision: str
    returns: Sequence[tuple[str, str]]  # (agency, what it returned or "not answered yet")
    earlier: Sequence[ActionText]
    agreed: Sequence[ActionText]
    # The case's open actions (id, "owner: description"), each settled when it is closed.
    open_actions: Sequence[Option] = ()
    closed: bool = False


@dataclass(frozen=True)
class UnmetLine:
    action_id: str
    reference: str
    owner: str
    description: str
    due: str
    state: str
    is_open: bool
    carry_to: str  # ISO date, the Carry forward form's starting value


@dataclass(frozen=True)
class ChairView:
    panel_name: str
    meeting_id: str
    meeting_label: str
    item_id: str
    step: int
    token: str
    number: int
    total: int
    title: str
    kind: str  # AgendaItemKind value
    summary: str = ""
    case: CaseDetail | None = None
    unmet: Sequence[UnmetLine] = ()
    attendance: Sequence[str] = ()
    notice: str | None = None
    error: bool = False
    agencies: Sequence[Option] = ()
    risk_levels: Sequence[Option] = ()
    review_meetings: Sequence[Option] = ()
    closure_reasons: Sequence[Option] = ()
    default_due: str = ""  # ISO date
    typed: Mapping[str, str] = field(default_factory=dict)
    # True when the card carries narratives (agencies' returns, actions, summaries): such a
    # card is for the meeting chat or a private chat, and its heading says so, which is how
    # the channel gate tells it from the shared rendering.
    in_confidence: bool = False
    # The meeting's version this rendering shows (it guards the meeting, its agenda items
    # and what the chair card changes): a click from an older card is refused.
    version: int = 0
    # Whether the card carries the chair's forms and Back/Next (the chair and the coordinator
    # only); without them it is a view of the item, and `opener` gives it the one button
    # that opens the chair card (answered for those who run the meeting alone).
    controls: bool = True
    opener: bool = False

    @property
    def data(self) -> dict[str, Any]:
        return {
            MEETING_KEY: self.meeting_id,
            ITEM_KEY: self.item_id,
            STEP_KEY: self.step,
            TOKEN_KEY: self.token,
            VERSION_KEY: self.version,
        }


def _choices(options: Sequence[Option]) -> list[Any]:
    return [ac.InputChoice(title=o.title, value=o.value) for o in options]


def _submit(view: ChairView, title: str, verb: Verb, **extra: Any) -> Any:
    return ac.ActionExecute(title=title, verb=verb.value, data={**view.data, **extra})


def _form(body: list[Any], submit: Any) -> Any:
    return (
        ac.AdaptiveCard.new().version(CARD_VERSION).add_items(body).add_actions([submit]).create()
    )


def _circumstances(input_id: str, *, required: bool) -> Any:
    return ac.InputChoiceSet(
        id=input_id,
        label="Why was it not met?",
        choices=[
            ac.InputChoice(title="Circumstances changed", value=CIRCUMSTANCES_CHANGED),
            ac.InputChoice(title="The agency did not act", value=AGENCY_DID_NOT_ACT),
        ],
        style=t.ChoiceInputStyle.EXPANDED,
        is_required=required or None,
        error_message="Say why it was not met." if required else None,
    )


def _action_lines(title: str, actions: Sequence[ActionText], empty: str) -> list[Any]:
    body: list[Any] = [paragraph(f"**{title}**")]
    if not actions:
        body.append(paragraph(empty, subtle=True))
    for a in actions:
        body.append(paragraph(f"{a.owner}: {a.description} — due {a.due} — {a.state}"))
    return body


def _case_forms(view: ChairView) -> list[Any]:
    capture = _form(
        [
            ac.InputText(
                id=DESCRIPTION_INPUT,
                label="Action",
                value=view.typed.get(DESCRIPTION_INPUT),
                is_multiline=True,
                max_length=MAX_DESCRIPTION,
                is_required=True,
                error_message="Describe the action.",
            ),
            ac.InputChoiceSet(
                id=OWNER_AGENCY_INPUT,
                label="Owner agency",
                choices=_choices(view.agencies),
                value=view.typed.get(OWNER_AGENCY_INPUT),
                style=t.ChoiceInputStyle.COMPACT,
                is_required=True,
                error_message="Choose the agency that owns it.",
            ),
            ac.InputDate(
                id=DUE_ON_INPUT,
                label="Due by",
                value=view.typed.get(DUE_ON_INPUT, view.default_due),
                is_required=True,
                error_message="Choose the date.",
            ),
        ],
        _submit(view, SAVE_ACTION, Verb.MEETING_CAPTURE),
    )
    lead = _form(
        [
            ac.InputChoiceSet(
                id=LEAD_AGENCY_INPUT,
                label="Lead agency",
                choices=_choices(view.agencies),
                style=t.ChoiceInputStyle.COMPACT,
                is_required=True,
                error_message="Choose the lead agency.",
            ),
            ac.InputText(id=LEAD_OFFICER_INPUT, label="Lead officer", max_length=200),
        ],
        _submit(view, SAVE_LEAD, Verb.MEETING_LEAD),
    )
    risk = _form(
        [
            ac.InputChoiceSet(
                id=RISK_LEVEL_INPUT,
                label="Risk level now",
                choices=_choices(view.risk_levels),
                style=t.ChoiceInputStyle.EXPANDED,
                is_required=True,
                error_message="Choose the risk level.",
            )
        ],
        _submit(view, SAVE_RISK, Verb.MEETING_RISK),
    )
    review = _form(
        [
            ac.InputChoiceSet(
                id=REVIEW_MEETING_INPUT,
                label="Review the case at",
                choices=_choices(view.review_meetings),
                value=view.review_meetings[0].value if view.review_meetings else None,
                style=t.ChoiceInputStyle.COMPACT,
                is_required=True,
                error_message="Choose the meeting.",
            )
        ],
        _submit(view, SAVE_REVIEW, Verb.MEETING_REVIEW),
    )
    close = _form(
        [
            ac.InputChoiceSet(
                id=CLOSURE_REASON_INPUT,
                label="Reason",
                choices=_choices(view.closure_reasons),
                style=t.ChoiceInputStyle.EXPANDED,
                is_required=True,
                error_message="Choose the reason.",
            ),
            ac.InputText(
                id=CLOSURE_NOTE_INPUT,
                label="Note (needed for Other)",
                is_multiline=True,
                max_length=MAX_NOTE,
            ),
            *_settle_inputs(view.case.open_actions if view.case else ()),
        ],
        _submit(view, CONFIRM_CLOSE, Verb.MEETING_CLOSE),
    )
    # In the order a case is usually taken: actions, the summary, the decision; a lead
    # agency and a new risk level less often. Beside Back and Next, the first four stay in
    # view and the rest go under the row's "…" (cards.kit.overflow).
    return [
        ac.ActionSet(
            actions=[
                ac.ActionShowCard(title=ADD_ACTION_BUTTON, card=capture),
                ac.ActionShowCard(title=SUMMARY_BUTTON, card=_summary_form(view)),
                ac.ActionShowCard(title=REVIEW_BUTTON, card=review),
                ac.ActionShowCard(title=CLOSE_BUTTON, card=close),
                ac.ActionShowCard(title=LEAD_BUTTON, card=lead),
                ac.ActionShowCard(title=RISK_BUTTON, card=risk),
            ],
            separator=True,
        ),
    ]


def _settle_inputs(open_actions: Sequence[Option]) -> list[Any]:
    """For each open action, what closing the case does with it: passed back to its agency
    (the default: the agency carries on, the panel no longer reviews it) or cancelled."""
    if not open_actions:
        return []
    inputs: list[Any] = [
        paragraph(
            "**Open actions.** Pass each back to its agency, which carries on with it outside "
            "the panel, or cancel it. None comes back as unmet.",
        )
    ]
    for option in open_actions:
        inputs.append(
            ac.InputChoiceSet(
                id=settle_input(option.value),
                label=option.title,
                choices=[
                    ac.InputChoice(title="Pass back to the agency", value=PASS_BACK),
                    ac.InputChoice(title="Cancel", value=CANCEL),
                ],
                value=PASS_BACK,
                style=t.ChoiceInputStyle.EXPANDED,
                is_required=True,
                error_message="Choose what becomes of the action.",
            )
        )
    return inputs


def _summary_form(view: ChairView) -> Any:
    return _form(
        [
            ac.InputText(
                id=SUMMARY_INPUT,
                label="Summary of the discussion (for the minutes)",
                value=view.typed.get(SUMMARY_INPUT, view.summary) or None,
                is_multiline=True,
                max_length=MAX_SUMMARY,
            )
        ],
        _submit(view, SAVE_SUMMARY, Verb.MEETING_SUMMARY),
    )


def _case_body(view: ChairView, case: CaseDetail) -> list[Any]:
    body: list[Any] = [
        facts(
            [
                ("Case", f"{case.reference} ({case.kind})"),
                ("Risk level", case.risk_level),
                ("Status", case.status),
                ("Lead", case.lead),
                ("Children in household", case.children),
                ("Decision", case.decision),
            ]
        ),
        paragraph("**Information returned by agencies**"),
    ]
    if not case.returns:
        body.append(paragraph("No agency was asked before the meeting.", subtle=True))
    for agency, answer in case.returns:
        body.append(paragraph(f"{agency}: {answer}"))
    body += _action_lines("Earlier actions", case.earlier, "None.")
    body += _action_lines("Actions agreed at this meeting", case.agreed, "None yet.")
    if view.summary:
        body.append(paragraph(f"**Summary:** {view.summary}"))
    if not view.controls:
        return body
    if case.closed:
        # A closed case takes no decisions: it can only be reopened.
        body.append(paragraph(f"{case.reference} is closed. Reopen it to record decisions."))
        reopen = _submit(view, REOPEN_BUTTON, Verb.MEETING_REOPEN)
        return [*body, ac.ActionSet(actions=[reopen], separator=True)]
    return body + _case_forms(view)


def _unmet_forms(view: ChairView, index: int, line: UnmetLine) -> Any:
    data = {ACTION_ID_KEY: line.action_id, INDEX_KEY: index}
    carry = _form(
        [
            ac.InputDate(
                id=indexed(NEW_DUE_ON_INPUT, index),
                label="New date",
                value=line.carry_to,
                is_required=True,
                error_message="Choose the new date.",
            ),
            _circumstances(indexed(CARRY_WHY_INPUT, index), required=True),
        ],
        _submit(view, CONFIRM_CARRY, Verb.MEETING_CARRY, **data),
    )
    escalate = _form(
        [
            ac.InputText(
                id=indexed(ESCALATION_INPUT, index),
                label="Escalated to, and how",
                max_length=MAX_NOTE,
                is_required=True,
                error_message="Say how it is escalated.",
            ),
            _circumstances(indexed(ESCALATE_WHY_INPUT, index), required=True),
        ],
        _submit(view, CONFIRM_ESCALATE, Verb.MEETING_ESCALATE, **data),
    )
    cancel = _form(
        [
            ac.InputText(
                id=indexed(CANCEL_REASON_INPUT, index),
                label="Why is it cancelled?",
                max_length=MAX_NOTE,
                is_required=True,
                error_message="Give a reason.",
            ),
            _circumstances(indexed(CANCEL_WHY_INPUT, index), required=False),
        ],
        _submit(view, CONFIRM_CANCEL_ACTION, Verb.MEETING_CANCEL_ACTION, **data),
    )
    return ac.ActionSet(
        actions=[
            ac.ActionShowCard(title=CARRY_BUTTON, card=carry),
            ac.ActionShowCard(title=ESCALATE_BUTTON, card=escalate),
            ac.ActionShowCard(title=CANCEL_ACTION_BUTTON, card=cancel),
        ],
        spacing=t.Spacing.SMALL,
    )


def _unmet_body(view: ChairView) -> list[Any]:
    body: list[Any] = []
    if not view.unmet:
        body.append(paragraph("No action is left open from earlier meetings.", subtle=True))
    for index, line in enumerate(view.unmet[:MAX_UNMET_SHOWN]):
        items: list[Any] = [
            paragraph(f"**{line.reference}** · {line.owner}: {line.description}"),
            paragraph(f"Due {line.due} — {line.state}", subtle=True),
        ]
        if line.is_open and view.controls:
            items.append(_unmet_forms(view, index, line))
        body.append(ac.Container(items=items, separator=True, spacing=t.Spacing.MEDIUM))
    if len(view.unmet) > MAX_UNMET_SHOWN:
        more = len(view.unmet) - MAX_UNMET_SHOWN
        body.append(paragraph(f"… and {more} more: deal with these first.", subtle=True))
    return body


def render_chair(view: ChairView) -> Card:
    """One agenda item for the chair: what the panel needs and the decisions to record,
    with Back and Next (and End the meeting on the last item)."""
    title = chair_title(view.number, view.total, view.title)
    body: list[Any] = [*heading(title, f"{view.panel_name} · {view.meeting_label}")]
    if view.notice:
        body.append(paragraph(view.notice, attention=view.error))
    if view.kind == "confidentiality":
        present = ", ".join(view.attendance) if view.attendance else "nobody yet"
        body += [
            paragraph("Read the confidentiality statement; each attendee acknowledges it."),
            paragraph(f"**Acknowledged by:** {present}", subtle=True),
        ]
    elif view.kind == "unmet_actions":
        body += _unmet_body(view)
    elif view.case is not None:
        body += _case_body(view, view.case)
    else:
        if view.summary:
            body.append(paragraph(f"**Summary:** {view.summary}"))
        if view.controls:
            body.append(
                ac.ActionSet(
                    actions=[ac.ActionShowCard(title=SUMMARY_BUTTON, card=_summary_form(view))],
                    separator=True,
                )
            )
    fallback = title + (IN_CONFIDENCE if view.in_confidence else "")
    if not view.controls:
        data = {MEETING_KEY: view.meeting_id}
        opener: list[Any] = []
        if view.opener and view.kind == "confidentiality":
            # The chair card opened over the statement: whoever has not acknowledged can.
            opener.append(
                ac.ActionExecute(title=ACK_BUTTON, verb=Verb.MEETING_ACKNOWLEDGE.value, data=data)
            )
        if view.opener:
            opener.append(
                ac.ActionExecute(title=OPEN_CHAIR_BUTTON, verb=Verb.MEETING_CHAIR.value, data=data)
            )
        return build(body, opener, fallback=fallback)
    actions: list[Any] = []
    if view.number > 1:
        actions.append(_submit(view, BACK_BUTTON, Verb.MEETING_BACK))
    if view.number < view.total:
        actions.append(
            ac.ActionExecute(
                title=NEXT_BUTTON,
                verb=Verb.MEETING_NEXT.value,
                data=view.data,
                style=t.ActionStyle.POSITIVE,
            )
        )
    else:
        actions.append(
            ac.ActionExecute(
                title=END_BUTTON,
                verb=Verb.MEETING_END.value,
                data=view.data,
                style=t.ActionStyle.DESTRUCTIVE,
            )
        )
    return build(body, actions, fallback=fallback)


# --- the end of the meeting ---------------------------------------------------------------


@dataclass(frozen=True)
class MeetingEndedView:
    """What the meeting chat sees when the meeting ends: counts only; a reader's own view
    (`detail`) adds the actions agreed on the cases they may see (`agreed`)."""

    panel_name: str
    meeting_label: str
    discussed: int
    items: int
    actions: int
    agencies: int
    minutes_drafted: bool = True
    notice: str | None = None
    agreed: Sequence[str] = ()
    detail: bool = False


def render_meeting_ended(view: MeetingEndedView) -> Card:
    body: list[Any] = [
        *heading(ENDED_TITLE, f"{view.panel_name} · {view.meeting_label}"),
    ]
    if view.notice:
        body.append(paragraph(view.notice))
    body.append(
        facts(
            [
                ("Items discussed", f"{view.discussed} of {view.items}"),
                ("Actions agreed", str(view.actions)),
                ("Agencies present", str(view.agencies)),
            ]
        )
    )
    if view.detail:
        body.append(paragraph("**Actions agreed on the cases you may see**"))
        body += [paragraph(line) for line in view.agreed] or [paragraph("None.", subtle=True)]
    if view.minutes_drafted:
        body.append(
            paragraph(
                "The minutes are drafted. The coordinator reviews and approves them in private "
                "chat; attending SPOCs then receive them there. Each action's owner has its "
                "card already.",
                subtle=True,
            )
        )
    return build(body, fallback=ENDED_TITLE + (IN_CONFIDENCE if view.detail else ""))


# --- an action agreed, as the meeting's chat sees it ---------------------------------------

ACTION_CAPTURED_PREFIX = "Action agreed for "
_ACTION_CAPTURED = re.compile(re.escape(ACTION_CAPTURED_PREFIX) + r"[A-Z]{1,6}-\d{4}-\d{1,6}")


def action_captured_title(case_reference: str) -> str:
    """The heading of the card the meeting's chat gets when an action is agreed."""
    return f"{ACTION_CAPTURED_PREFIX}{case_reference}"


def is_action_captured_title(title: str) -> bool:
    """Whether a card's heading is the shared rendering of an action agreed (without its
    description)."""
    return bool(_ACTION_CAPTURED.fullmatch(title))


@dataclass(frozen=True)
class ActionCapturedView:
    """An action agreed at the meeting: its case, owner agency and due date for everyone;
    what it is and its state for a reader who may see the case (`description`)."""

    panel_name: str
    meeting_label: str
    reference: str
    agency: str
    due: str
    description: str | None = None
    state: str | None = None
    hidden: str = ""


def render_action_captured(view: ActionCapturedView) -> Card:
    title = action_captured_title(view.reference)
    shown = view.description is not None
    pairs = [
        ("Case", view.reference),
        ("Owner agency", view.agency),
        ("Due by", view.due),
        ("Action", view.description if shown else view.hidden),
    ]
    if shown and view.state:
        pairs.append(("State", view.state))
    body: list[Any] = [
        *heading(title, f"{view.panel_name} · {view.meeting_label}"),
        facts([(k, v) for k, v in pairs if v]),
        paragraph("The owner agency has the action's card in its private chat.", subtle=True),
    ]
    return build(body, fallback=title + (IN_CONFIDENCE if shown else ""))
