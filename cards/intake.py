"""The referrer's intake card: one step at a time, updated in place by Action.Execute.

Every button carries the referral id and the step it was clicked on; Teams adds the card's
input values to that data, so the bot saves what was typed on every click. Errors found on
the server are shown in red under their field and summed up at the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from bot.domain.intake_rules import (
    MAX_CHILDREN,
    MAX_NAME,
    MAX_SHORT,
    MAX_SUBJECTS,
    MAX_TEXT,
    MIN_JUSTIFICATION,
    STEP_TITLES,
    STEPS,
    F,
    Step,
    risk_field,
    row_field,
)
from bot.domain.referral import ReferralCategory, SubjectRole
from cards.kit import Card, build, command_button, facts, heading, paragraph
from cards.verbs import REFERRAL_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CATEGORY_TITLES: dict[ReferralCategory, str] = {
    ReferralCategory.ASB_VULNERABLE: "ASB with a vulnerable victim or perpetrator",
    ReferralCategory.COMPLEX_HIGH_RISK: "Complex high-risk case not resolvable locally",
    ReferralCategory.EXTREMISM: "Concern about extremism (consider Channel/Prevent)",
}
ROLE_TITLES: dict[SubjectRole, str] = {
    SubjectRole.VICTIM: "Victim",
    SubjectRole.PERPETRATOR: "Perpetrator",
    SubjectRole.WITNESS: "Witness",
}
CRITERIA_EXPLAINED = (
    "A referral must meet at least one criterion: **high risk** (a risk total above "
    "{threshold}), **potential escalation** (incidents rising in frequency or severity, e.g. "
    "3 or more in 12 months), or **professional judgement** with a written justification."
)

NEXT = "Next"
BACK = "Back"
SAVE = "Save and close"
SUBMIT = "Submit referral"
DISCARD = "Discard draft"
WITHDRAW = "Withdraw referral"
ADD_SUBJECT = "Add a subject"
ADD_CHILD = "Add a child"
CARRY_ON = "Carry on"

# What every button carries besides the referral: the step it was clicked on; the row a
# "Remove" button removes; and, on the discard question, that the person confirmed.
STEP_KEY = "step"
ROW_KEY = "row"
CONFIRM_KEY = "confirm"


@dataclass(frozen=True)
class Choice:
    value: str
    title: str


@dataclass(frozen=True)
class RiskQuestion:
    item_id: str
    question: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class RiskStepView:
    """The panel's matrix and the total of the answers saved so far (worked out by the bot)."""

    questions: tuple[RiskQuestion, ...]
    threshold: int
    max_total: int
    total_so_far: int
    answered: int
    example: bool


@dataclass(frozen=True)
class ReviewStepView:
    """What the bot worked out for the review step, and the summary of the referral."""

    summary: tuple[tuple[str, str], ...]
    risk_total: int | None
    threshold: int
    high_risk: bool
    escalation_suggested: bool


@dataclass(frozen=True)
class IntakeView:
    """One step of a draft referral, with what was typed and what is wrong with it."""

    referral_id: str
    reference: str
    step: Step
    referrer_name: str
    agency_name: str | None
    values: Mapping[str, Any]
    errors: Mapping[str, str] = field(default_factory=dict)
    notice: str | None = None
    question: str | None = None
    subject_keys: tuple[str, ...] = ()
    child_keys: tuple[str, ...] = ()
    agencies: tuple[Choice, ...] = ()
    risk: RiskStepView | None = None
    review: ReviewStepView | None = None
    other_drafts: tuple[str, ...] = ()
    sent_back: bool = False


def step_label(step: Step) -> str:
    """'Step 2 of 6 · Subjects'."""
    return f"Step {STEPS.index(step) + 1} of {len(STEPS)} · {STEP_TITLES[step]}"


def error_id(field_id: str) -> str:
    """The id of the red line under a field."""
    return f"{field_id}-error"


def _execute(
    title: str, verb: Verb, data: Mapping[str, Any], *, style: t.ActionStyle | None = None
) -> Any:
    return ac.ActionExecute(title=title, verb=verb.value, data=dict(data), style=style)


def _iso_date(value: str) -> str | None:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


class _Form:
    """Builds a step's inputs, each followed by its error, remembering which it showed."""

    def __init__(self, view: IntakeView) -> None:
        self.view = view
        self.shown: set[str] = set()

    def value(self, field_id: str) -> str:
        raw = self.view.values.get(field_id)
        return raw if isinstance(raw, str) else ""

    def error(self, field_id: str) -> list[Any]:
        self.shown.add(field_id)
        message = self.view.errors.get(field_id)
        if not message:
            return []
        return [
            ac.TextBlock(
                id=error_id(field_id),
                text=message,
                color=t.Colors.ATTENTION,
                size=t.FontSize.SMALL,
                wrap=True,
                spacing=t.Spacing.NONE,
            )
        ]

    def text(
        self,
        field_id: str,
        label: str,
        *,
        limit: int,
        multiline: bool = False,
        placeholder: str | None = None,
        style: t.TextInputStyle | None = None,
    ) -> list[Any]:
        return [
            ac.InputText(
                id=field_id,
                label=label,
                value=self.value(field_id) or None,
                max_length=limit,
                is_multiline=multiline or None,
                placeholder=placeholder,
                style=style,
            ),
            *self.error(field_id),
        ]

    def toggle(self, field_id: str, title: str, *, default: bool = False) -> list[Any]:
        raw = self.value(field_id)
        on = raw == "true" if raw else default
        return [
            ac.InputToggle(
                id=field_id,
                title=title,
                value="true" if on else "false",
                value_on="true",
                value_off="false",
                wrap=True,
            ),
            *self.error(field_id),
        ]

    def date(self, field_id: str, label: str) -> list[Any]:
        return [
            ac.InputDate(id=field_id, label=label, value=_iso_date(self.value(field_id))),
            *self.error(field_id),
        ]

    def number(self, field_id: str, label: str, placeholder: str) -> list[Any]:
        raw = self.value(field_id).strip()
        return [
            ac.InputNumber(
                id=field_id,
                label=label,
                value=int(raw) if raw.isdigit() else None,
                placeholder=placeholder,
            ),
            *self.error(field_id),
        ]

    def choice(
        self,
        field_id: str,
        label: str,
        choices: Sequence[Choice],
        *,
        multi: bool = False,
        placeholder: str | None = "Choose",
    ) -> list[Any]:
        known = {c.value for c in choices}
        raw = self.value(field_id)
        if multi:
            picked = [v for v in raw.split(",") if v in known]
            value = ",".join(picked) or None
        else:
            value = raw if raw in known else None
        return [
            ac.InputChoiceSet(
                id=field_id,
                label=label,
                choices=[ac.InputChoice(title=c.title, value=c.value) for c in choices],
                style=t.ChoiceInputStyle.COMPACT,
                is_multi_select=multi or None,
                value=value,
                placeholder=placeholder,
                wrap=True,
            ),
            *self.error(field_id),
        ]


def _data(view: IntakeView, *, row: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {REFERRAL_ID_KEY: view.referral_id, STEP_KEY: view.step.value}
    if row is not None:
        data[ROW_KEY] = row
    return data


def _about(form: _Form) -> list[Any]:
    view = form.view
    return [
        facts([("Referrer", view.referrer_name), ("Agency", view.agency_name or "none")]),
        *form.choice(
            F.CATEGORY,
            "Kind of referral *",
            [Choice(c.value, title) for c, title in CATEGORY_TITLES.items()],
        ),
        *form.text(
            F.DISCUSSED_WITH,
            "Discussed in your agency with *",
            limit=MAX_SHORT,
            placeholder="Line manager, SPOC or safeguarding lead",
        ),
        *form.text(
            F.TRIED_ALREADY, "What has been tried already *", limit=MAX_TEXT, multiline=True
        ),
        *form.toggle(F.MEETING_HELD, "A multi-professional meeting was held"),
    ]


def _subject(form: _Form, key: str, number: int, removable: bool) -> Any:
    def f(name: str) -> str:
        return row_field(key, name)

    items: list[Any] = [
        ac.TextBlock(text=f"Subject {number}", weight=t.FontWeight.BOLDER, wrap=True),
        *form.choice(
            f("role"), "Role *", [Choice(r.value, title) for r, title in ROLE_TITLES.items()]
        ),
        *form.text(f("name"), "Full name *", limit=MAX_NAME),
        *form.text(f("aliases"), "Aliases (commas between)", limit=MAX_SHORT),
        *form.date(f("dob"), "Date of birth"),
        *form.text(f("address"), "Address", limit=MAX_SHORT),
        *form.text(f("postcode"), "Postcode", limit=10),
        *form.text(f("phone"), "Phone", limit=20, style=t.TextInputStyle.TEL),
        *form.toggle(f("safe_to_call"), "Safe to call"),
        *form.text(f("vulnerabilities"), "Vulnerabilities", limit=MAX_TEXT, multiline=True),
        *form.text(f("language"), "Language", limit=MAX_NAME),
        *form.toggle(f("interpreter"), "Needs an interpreter"),
    ]
    if removable:
        items.append(
            ac.ActionSet(
                actions=[
                    _execute(
                        f"Remove subject {number}",
                        Verb.REFER_REMOVE_SUBJECT,
                        _data(form.view, row=key),
                    )
                ]
            )
        )
    return ac.Container(items=items, separator=True, spacing=t.Spacing.MEDIUM)


def _subjects(form: _Form) -> list[Any]:
    view = form.view
    keys = view.subject_keys
    body = [_subject(form, key, n, len(keys) > 1) for n, key in enumerate(keys, 1)]
    if len(keys) < MAX_SUBJECTS:
        body.append(
            ac.ActionSet(
                actions=[_execute(ADD_SUBJECT, Verb.REFER_ADD_SUBJECT, _data(view))],
                separator=True,
            )
        )
    return body


def _household(form: _Form) -> list[Any]:
    view = form.view
    body: list[Any] = [
        ac.TextBlock(text="Children in the household", weight=t.FontWeight.BOLDER, wrap=True)
    ]
    if not view.child_keys:
        body.append(paragraph("None added.", subtle=True))
    for n, key in enumerate(view.child_keys, 1):
        body.append(
            ac.Container(
                items=[
                    *form.text(row_field(key, "name"), f"Child {n}: name *", limit=MAX_NAME),
                    *form.date(row_field(key, "dob"), f"Child {n}: date of birth *"),
                    ac.ActionSet(
                        actions=[
                            _execute(
                                f"Remove child {n}",
                                Verb.REFER_REMOVE_CHILD,
                                _data(view, row=key),
                            )
                        ]
                    ),
                ],
                separator=True,
            )
        )
    if len(view.child_keys) < MAX_CHILDREN:
        body.append(ac.ActionSet(actions=[_execute(ADD_CHILD, Verb.REFER_ADD_CHILD, _data(view))]))
    body += [
        *form.text(
            F.RELATIONSHIP, "Relationship between the parties", limit=MAX_TEXT, multiline=True
        ),
        *form.number(F.INCIDENTS, "Incidents in the last 12 months *", "0 if none"),
        *form.toggle(F.INCIDENTS_RISING, "Incidents are rising in frequency or severity"),
    ]
    if view.agencies:
        body += form.choice(
            F.AGENCIES, "Agencies already involved", view.agencies, multi=True, placeholder=None
        )
    return body


def _consent(form: _Form) -> list[Any]:
    return [
        paragraph(
            "Record whether the subject knows of this referral and agreed to share their "
            "information. Sharing without consent needs a reason (e.g. a risk to children).",
            subtle=True,
        ),
        *form.toggle(F.CONSENT_AWARE, "The subject knows about this referral"),
        *form.toggle(F.CONSENT_GIVEN, "The subject consented to sharing their information"),
        *form.text(
            F.CONSENT_REASON, "If shared without consent, why", limit=MAX_TEXT, multiline=True
        ),
    ]


def _risk(form: _Form) -> list[Any]:
    risk = form.view.risk
    if risk is None:
        return [paragraph("The panel has no risk matrix configured.", attention=True)]
    body: list[Any] = []
    if risk.example:
        body.append(
            paragraph(
                "This is the product's EXAMPLE matrix: your panel should replace it with its own.",
                subtle=True,
            )
        )
    body.append(
        paragraph(
            f"**Total so far: {risk.total_so_far}** of {risk.max_total} "
            f"({risk.answered} of {len(risk.questions)} answered when last saved). "
            f"Above {risk.threshold} is high risk. The bot works the total out.",
        )
    )
    for question in risk.questions:
        body += form.choice(
            risk_field(question.item_id), f"{question.question} *", question.choices
        )
    return body


def _review(form: _Form) -> list[Any]:
    view = form.view
    review = view.review
    body: list[Any] = []
    if review is not None:
        if review.risk_total is None:
            risk_line = "Risk total: not worked out yet (answer every risk question)."
        else:
            level = "high risk" if review.high_risk else "not high risk"
            risk_line = (
                f"**Risk total: {review.risk_total}**: {level} (high is above {review.threshold})."
            )
        body.append(paragraph(risk_line))
    suggested = review is not None and review.escalation_suggested
    body += form.toggle(
        F.ESCALATION,
        "Potential escalation: incidents rising in frequency or severity",
        default=suggested,
    )
    if suggested:
        body.append(
            paragraph(
                "Suggested: 3 or more incidents in 12 months, and rising.",
                subtle=True,
            )
        )
    body += [
        *form.toggle(F.JUDGEMENT, "Professional judgement"),
        *form.text(
            F.JUSTIFICATION,
            f"Justification (at least {MIN_JUSTIFICATION} characters if judgement)",
            limit=MAX_TEXT,
            multiline=True,
        ),
    ]
    if view.question:
        body += form.text(
            F.ANSWER, "Your answer to the coordinator", limit=MAX_TEXT, multiline=True
        )
    if review is not None:
        body += [
            ac.TextBlock(text="Summary", weight=t.FontWeight.BOLDER, separator=True, wrap=True),
            facts(review.summary),
            paragraph(CRITERIA_EXPLAINED.format(threshold=review.threshold), subtle=True),
        ]
    return body


_STEP_BODIES = {
    Step.ABOUT: _about,
    Step.SUBJECTS: _subjects,
    Step.HOUSEHOLD: _household,
    Step.CONSENT: _consent,
    Step.RISK: _risk,
    Step.REVIEW: _review,
}


def _actions(view: IntakeView) -> list[Any]:
    data = _data(view)
    withdraw = WITHDRAW if view.sent_back else DISCARD
    go_on = (
        _execute(SUBMIT, Verb.REFER_SUBMIT, data, style=t.ActionStyle.POSITIVE)
        if view.step is Step.REVIEW
        else _execute(NEXT, Verb.REFER_NEXT, data, style=t.ActionStyle.POSITIVE)
    )
    actions = [go_on]
    if view.step is not Step.ABOUT:
        actions.append(_execute(BACK, Verb.REFER_BACK, data))
    actions.append(_execute(SAVE, Verb.REFER_SAVE, data))
    if view.step in (Step.ABOUT, Step.REVIEW):
        actions.append(_execute(withdraw, Verb.REFER_DISCARD, data))
    return actions


def _top(view: IntakeView, form: _Form) -> list[Any]:
    top: list[Any] = [*heading(f"Referral {view.reference}", step_label(view.step))]
    if view.question:
        top.append(
            ac.Container(
                style=t.ContainerStyle.WARNING,
                items=[
                    ac.TextBlock(text="The coordinator asks", weight=t.FontWeight.BOLDER),
                    ac.TextBlock(text=view.question, wrap=True, spacing=t.Spacing.NONE),
                ],
            )
        )
    problems: list[str] = []
    if view.notice:
        problems.append(view.notice)
    if view.errors:
        count = sum(1 for key in view.errors if key in form.shown)
        if count:
            noun = "field" if count == 1 else "fields"
            problems.append(f"Check the {count} {noun} marked in red below.")
        problems += [m for key, m in view.errors.items() if key not in form.shown]
    if problems:
        top.append(
            ac.Container(
                id="intake-problems",
                style=t.ContainerStyle.ATTENTION,
                items=[paragraph(p, attention=True) for p in problems],
            )
        )
    if view.other_drafts:
        others = ", ".join(view.other_drafts)
        top.append(
            paragraph(f"Your other drafts: {others} (type refer and the reference).", subtle=True)
        )
    return top


def render_intake(view: IntakeView) -> Card:
    """One step of the intake card, with the typed values and any errors."""
    form = _Form(view)
    body = _STEP_BODIES[view.step](form)
    return build(
        [*_top(view, form), *body],
        _actions(view),
        fallback=f"Referral {view.reference}: {step_label(view.step)}",
    )


@dataclass(frozen=True)
class DraftNoteView:
    """A short card about a draft: saved, about to be discarded, or discarded."""

    referral_id: str
    reference: str
    step: Step
    sent_back: bool = False


def render_saved(view: DraftNoteView) -> Card:
    """The draft is saved: how to carry on."""
    what = "Referral" if view.sent_back else "Draft"
    title = f"{what} {view.reference} saved"
    return build(
        [
            *heading(title, step_label(view.step)),
            paragraph(
                "Everything you typed is kept. Type **refer** to carry on where you stopped, "
                "or use the button."
            ),
        ],
        [
            _execute(
                CARRY_ON, Verb.REFER_OPEN, {REFERRAL_ID_KEY: view.referral_id, STEP_KEY: view.step}
            )
        ],
        fallback=title,
    )


def render_discard_question(view: DraftNoteView) -> Card:
    """Ask before discarding a draft (or withdrawing a referral sent back)."""
    if view.sent_back:
        title = f"Withdraw referral {view.reference}?"
        text = "The coordinator will see it as withdrawn, and you cannot resubmit it."
        yes = "Yes, withdraw"
    else:
        title = f"Discard draft {view.reference}?"
        text = "The draft will be closed and its reference not used again."
        yes = "Yes, discard"
    data = {REFERRAL_ID_KEY: view.referral_id, STEP_KEY: view.step.value}
    return build(
        [*heading(title), paragraph(text)],
        [
            _execute(
                yes,
                Verb.REFER_DISCARD,
                {**data, CONFIRM_KEY: True},
                style=t.ActionStyle.DESTRUCTIVE,
            ),
            _execute("No, keep it", Verb.REFER_OPEN, data),
        ],
        fallback=title,
    )


def render_discarded(view: DraftNoteView) -> Card:
    """The draft is discarded (or the referral withdrawn)."""
    title = (
        f"Referral {view.reference} withdrawn"
        if view.sent_back
        else f"Draft {view.reference} discarded"
    )
    return build(
        [*heading(title), paragraph("Nothing more will happen with it.")],
        [command_button("Start a new referral", "refer new")],
        fallback=title,
    )


@dataclass(frozen=True)
class SubmittedView:
    reference: str
    panel_name: str
    summary: tuple[tuple[str, str], ...]
    resubmitted: bool = False


def render_submitted(view: SubmittedView) -> Card:
    """The clicked intake card becomes the confirmation that the referral was sent."""
    title = f"Referral {view.reference} {'resubmitted' if view.resubmitted else 'submitted'}"
    return build(
        [
            *heading(title, view.panel_name),
            paragraph(
                "The panel's coordinator will look at it. I'll tell you here what they decide, "
                "or if they need more information."
            ),
            facts(view.summary),
        ],
        [command_button("Start another referral", "refer new")],
        fallback=title,
    )
