"""The `referrals` lists: pending referrals for coordinators, a referrer's own referrals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac

from cards.kit import Card, build, command_button, heading, paragraph

if TYPE_CHECKING:
    from collections.abc import Sequence

PENDING_TITLE = "Referrals waiting for a decision"
MINE_TITLE = "Your referrals"
MAX_LINES = 25
# The card data key naming the referral a button acts on: written by the intake, triage and
# referrer cards, read by the referrals feature (and the guard, to check whose it is).


def open_button_title(reference: str) -> str:
    """The title of the button that opens a referral's triage card."""
    return f"Open {reference}"


@dataclass(frozen=True)
class PendingLine:
    reference: str
    agency: str
    risk_level: str
    age_days: int
    state: str


@dataclass(frozen=True)
class PendingView:
    panel_name: str
    lines: Sequence[PendingLine]


def _age(days: int) -> str:
    if days <= 0:
        return "today"
    return "1 day" if days == 1 else f"{days} days"


def render_pending(view: PendingView) -> Card:
    """Every pending referral, oldest first, each with a button to open its triage card."""
    body: list[Any] = [*heading(PENDING_TITLE, view.panel_name)]
    if not view.lines:
        body.append(paragraph("Nothing is waiting: every referral has been decided."))
    for line in view.lines[:MAX_LINES]:
        body.append(
            ac.Container(
                items=[
                    paragraph(
                        f"**{line.reference}** · {line.agency} · {line.risk_level} risk · "
                        f"{_age(line.age_days)} · {line.state}"
                    ),
                    ac.ActionSet(
                        actions=[
                            command_button(
                                open_button_title(line.reference), f"referrals {line.reference}"
                            )
                        ]
                    ),
                ],
                separator=True,
            )
        )
    if len(view.lines) > MAX_LINES:
        body.append(
            paragraph(
                f"… and {len(view.lines) - MAX_LINES} more. Type `referrals RF-…` to open one.",
                subtle=True,
            )
        )
    return build(body, fallback=PENDING_TITLE, full_width=True)


@dataclass(frozen=True)
class MyLine:
    reference: str
    started_on: str
    state: str


@dataclass(frozen=True)
class MineView:
    panel_name: str
    lines: Sequence[MyLine]


def render_mine(view: MineView) -> Card:
    """The caller's own referrals, newest first, with what became of each."""
    body: list[Any] = [*heading(MINE_TITLE, view.panel_name)]
    if not view.lines:
        body.append(paragraph("You have not made a referral to this panel yet."))
    for line in view.lines[:MAX_LINES]:
        body.append(paragraph(f"**{line.reference}** · started {line.started_on} · {line.state}"))
    if len(view.lines) > MAX_LINES:
        body.append(paragraph(f"… and {len(view.lines) - MAX_LINES} older ones.", subtle=True))
    return build(body, fallback=MINE_TITLE, full_width=True)
