"""One case in full, for those entitled to it, in a private chat: who, what risk, what each
agency said, the actions and their updates, the decisions and the history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, command_button, facts, heading, paragraph

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_CARD_BYTES = 26 * 1024
CONFIDENTIAL = (
    "Confidential: shared under the panel's information sharing agreement, for your role in "
    "this case only. Your viewing is recorded in the audit trail."
)


def case_title(reference: str) -> str:
    """The case card's heading, e.g. "Case CM-2026-014"."""
    return f"Case {reference}"


@dataclass(frozen=True)
class SubjectBlock:
    name: str
    role: str
    details: Sequence[str]  # "born 2 Sep 1986", "Flat 3, 40 Canal Street, RV2 7LD", …


@dataclass(frozen=True)
class ReturnLine:
    """One agency's answer to the panel's information request."""

    agency: str
    state: str  # "answered on Fri 27 Nov 2026 by Gemma Hartley", "awaiting, due …"
    answer: str | None = None


@dataclass(frozen=True)
class ActionBlock:
    description: str
    owner: str
    due: str
    status: str
    updates: Sequence[str] = ()  # "Mon 16 Nov 2026: Camera ordered; fitting booked."


@dataclass(frozen=True)
class HistoryLine:
    when: str
    text: str


@dataclass(frozen=True)
class CaseView:
    reference: str
    panel_name: str
    summary: str  # "Open · High risk"
    facts: Sequence[tuple[str, str]]
    subjects: Sequence[SubjectBlock]
    children: Sequence[str]
    referral: Sequence[tuple[str, str]]
    returns: Sequence[ReturnLine]
    actions: Sequence[ActionBlock]
    decisions: Sequence[str]
    history: Sequence[HistoryLine]


@dataclass(frozen=True)
class _Limits:
    text: int | None  # longest free text shown whole
    updates: int | None  # updates shown per action (the latest)
    history: int | None  # history lines shown (the latest)


# From everything to the least that still answers "what is this case": the first that fits.
LEVELS = (
    _Limits(None, None, None),
    _Limits(600, 5, 40),
    _Limits(240, 2, 20),
    _Limits(120, 1, 10),
    _Limits(60, 0, 5),
)


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _section(title: str) -> Any:
    return ac.TextBlock(
        text=title, weight=t.FontWeight.BOLDER, wrap=True, separator=True, spacing=t.Spacing.MEDIUM
    )


def _latest(items: Sequence[Any], limit: int | None) -> Sequence[Any]:
    if limit is None:
        return items
    return items[len(items) - limit :] if limit else []


def _render(view: CaseView, limits: _Limits) -> Card:
    title = case_title(view.reference)
    body: list[Any] = [*heading(title, f"{view.panel_name} · {view.summary}"), facts(view.facts)]
    body.append(_section("Subjects"))
    for subject in view.subjects:
        details = "; ".join(_cut(d, limits.text) for d in subject.details)
        body.append(
            paragraph(f"**{subject.name}** — {subject.role}" + (f"; {details}" if details else ""))
        )
    if view.children:
        body.append(paragraph("Children in the household: " + "; ".join(view.children)))
    if view.referral:
        body.append(_section("The referral"))
        body.append(facts([(k, _cut(v, limits.text)) for k, v in view.referral]))
    body.append(_section("Agency returns"))
    if not view.returns:
        body.append(paragraph("No agency has been asked for information.", subtle=True))
    for line in view.returns:
        answer = f": {_cut(line.answer, limits.text)}" if line.answer else ""
        body.append(paragraph(f"**{line.agency}** — {line.state}{answer}"))
    body.append(_section("Actions"))
    if not view.actions:
        body.append(paragraph("No actions yet.", subtle=True))
    for action in view.actions:
        items = [
            paragraph(
                f"**{_cut(action.description, limits.text)}** — {action.owner} · due "
                f"{action.due} · {action.status}"
            )
        ]
        shown = _latest(action.updates, limits.updates)
        if len(shown) < len(action.updates):
            items.append(
                paragraph(f"{len(action.updates) - len(shown)} earlier updates", subtle=True)
            )
        items += [paragraph(_cut(update, limits.text), subtle=True) for update in shown]
        body.append(ac.Container(items=items))
    body.append(_section("Decisions"))
    if not view.decisions:
        body.append(paragraph("No decisions recorded yet.", subtle=True))
    body += [paragraph(_cut(decision, limits.text)) for decision in view.decisions]
    body.append(_section("History"))
    history = _latest(view.history, limits.history)
    if len(history) < len(view.history):
        body.append(paragraph(f"{len(view.history) - len(history)} earlier events", subtle=True))
    body += [paragraph(f"**{line.when}** · {_cut(line.text, limits.text)}") for line in history]
    body.append(paragraph(CONFIDENTIAL, subtle=True))
    buttons = [command_button("Audit trail", f"audit {view.reference}")]
    return build(body, buttons, fallback=title)


def render_case(view: CaseView, *, audit_button: bool = True) -> Card:
    """The whole case, shortened (long texts, older updates and history) only as far as
    the card must be to fit Teams' size budget."""
    card: Card = {}
    for limits in LEVELS:
        card = _render(view, limits)
        if len(json.dumps(card).encode()) <= MAX_CARD_BYTES:
            break
    if not audit_button:
        card.pop("actions", None)
    return card
