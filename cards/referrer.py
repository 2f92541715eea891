"""Cards that tell a referrer, in their private chat, what happened to their referral."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adaptive_cards import card as ac
from adaptive_cards import types as t

from bot.domain.intake_rules import Step
from bot.domain.referral import DeclineReason
from cards.intake import STEP_KEY
from cards.kit import Card, build, command_button, facts, heading, paragraph
from cards.verbs import REFERRAL_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

ANSWER = "Answer and resubmit"

DECLINE_REASONS: dict[DeclineReason, str] = {
    DeclineReason.CRITERIA_NOT_MET: (
        "It does not meet the panel's criteria: high risk, potential escalation, or "
        "professional judgement with a written justification."
    ),
    DeclineReason.MORE_APPROPRIATE_MEETING: "Another meeting is better placed to hear it.",
    DeclineReason.OUT_OF_AREA: "The people concerned are outside the panel's area.",
    DeclineReason.DUPLICATE: "The panel already has an open case about the same people.",
}


@dataclass(frozen=True)
class ReceivedView:
    reference: str
    panel_name: str
    submitted: str
    summary: Sequence[tuple[str, str]]
    resubmitted: bool = False


def render_received(view: ReceivedView) -> Card:
    """The panel has the referral; the coordinator will triage it."""
    title = f"Referral {view.reference} received"
    subtitle = f"{view.panel_name} · {'resubmitted' if view.resubmitted else 'submitted'} "
    return build(
        [
            *heading(title, subtitle + view.submitted),
            paragraph(
                "The coordinator will triage it. I'll tell you here when they decide, or if "
                "they need more information."
            ),
            facts(view.summary),
        ],
        fallback=title,
    )


@dataclass(frozen=True)
class MoreInfoView:
    referral_id: str
    reference: str
    panel_name: str
    question: str


def render_more_info(view: MoreInfoView) -> Card:
    """The coordinator sent the referral back with a question."""
    title = f"More information needed: {view.reference}"
    return build(
        [
            *heading(title, view.panel_name),
            ac.Container(
                style=t.ContainerStyle.WARNING,
                items=[
                    ac.TextBlock(text="The coordinator asks", weight=t.FontWeight.BOLDER),
                    ac.TextBlock(text=view.question, wrap=True, spacing=t.Spacing.NONE),
                ],
            ),
            paragraph(
                "Everything you wrote is kept. Answer on the referral, change what is needed, "
                "and submit it again."
            ),
        ],
        [
            ac.ActionExecute(
                title=ANSWER,
                verb=Verb.REFER_ANSWER.value,
                data={REFERRAL_ID_KEY: view.referral_id, STEP_KEY: Step.REVIEW.value},
                style=t.ActionStyle.POSITIVE,
            )
        ],
        fallback=title,
    )


@dataclass(frozen=True)
class AcceptedView:
    reference: str
    panel_name: str
    case_reference: str
    meeting: str | None


def render_accepted(view: AcceptedView) -> Card:
    """Accepted: the case reference and when the panel hears it."""
    title = f"Referral {view.reference} accepted"
    return build(
        [
            *heading(title, view.panel_name),
            facts(
                [
                    ("Case", view.case_reference),
                    ("Meeting", view.meeting or "the next meeting (date to follow)"),
                ]
            ),
            paragraph(
                "The agencies concerned have been asked what they know. The meeting agrees an "
                "action plan and a lead agency; you will hear what is decided."
            ),
        ],
        fallback=title,
    )


@dataclass(frozen=True)
class DeclinedView:
    reference: str
    panel_name: str
    reason: DeclineReason | None
    note: str | None


def render_declined(view: DeclinedView) -> Card:
    """Declined: why, in plain words, and the coordinator's note."""
    title = f"Referral {view.reference} declined"
    pairs = [("Reason", DECLINE_REASONS[view.reason] if view.reason else "not given")]
    if view.note:
        pairs.append(("Note", view.note))
    return build(
        [
            *heading(title, view.panel_name),
            facts(pairs),
            paragraph(
                "If things change, or you have new information, you can make a new referral.",
                subtle=True,
            ),
        ],
        [command_button("Make a new referral", "refer new")],
        fallback=title,
    )
