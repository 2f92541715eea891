"""Reminder cards: one person's digest of what is due (with the status request before a
meeting), and the coordinator's card of actions overdue past the limit, by agency.

A digest lists each action with the same buttons as its action card, so a reminder is
answered where it arrives. Private chats only: the channel gate refuses these elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cards.actions import ActionGroup, ActionItem, ActionListView, Buttons, render_action_list
from cards.kit import Card, build, command_button, heading, paragraph

if TYPE_CHECKING:
    from collections.abc import Sequence


def reminders_title(agency: str) -> str:
    """e.g. "Reminders for Riverside Homes (Housing)"."""
    return f"Reminders for {agency}"


def status_title(meeting_day: str) -> str:
    """e.g. "Status request before the meeting on Tue 8 Dec 2026"."""
    return f"Status request before the meeting on {meeting_day}"


def escalation_title(days: int) -> str:
    """e.g. "Actions overdue more than 14 days"."""
    return f"Actions overdue more than {days} days"


@dataclass(frozen=True)
class DigestView:
    """What is due for one agency's contact at one time."""

    panel_name: str
    agency: str
    items: Sequence[ActionItem]
    buttons: Buttons | None
    status_meeting: str | None = None  # the meeting day, when this is the status request
    requests: Sequence[tuple[str, str]] = ()  # (line, request id)
    more: int = 0


def render_digest(view: DigestView) -> Card:
    """Several reminders for one person as one card; the status request lists every open
    action of the agency."""
    if view.status_meeting:
        title = status_title(view.status_meeting)
        intro = (
            f"The panel meets on {view.status_meeting}. Please bring each of {view.agency}'s "
            "open actions up to date: add an update, mark it done, or say if you can't do it."
        )
    else:
        title = reminders_title(view.agency)
        intro = "These need your agency's attention."
    return render_action_list(
        ActionListView(
            panel_name=view.panel_name,
            title=title,
            subtitle=f"{view.panel_name} · {view.agency}",
            groups=[ActionGroup(None, view.items)],
            buttons=view.buttons,
            intro=intro,
            empty="No open actions: nothing to update.",
            more=view.more,
            more_command="actions",
            requests=view.requests,
        )
    )


@dataclass(frozen=True)
class OverdueLine:
    case_reference: str
    description: str
    due: str
    overdue_by: str  # "overdue by 19 days"
    contact: str  # who receives the agency's cards, or why nobody does


@dataclass(frozen=True)
class EscalationView:
    panel_name: str
    days: int
    groups: Sequence[tuple[str, Sequence[OverdueLine]]]  # agency, its actions
    new: int  # how many crossed the limit since the last card


def render_escalation(view: EscalationView) -> Card:
    """The coordinator's card: every action overdue past the limit, grouped by agency."""
    title = escalation_title(view.days)
    total = sum(len(lines) for _, lines in view.groups)
    body: list[Any] = [
        *heading(title, view.panel_name),
        paragraph(
            f"{total} action{'s are' if total != 1 else ' is'} overdue by more than {view.days} "
            f"days ({view.new} newly). The agencies' contacts have been reminded; consider "
            "raising them with the agencies or at the next meeting."
        ),
    ]
    for agency, lines in view.groups:
        body.append(paragraph(f"**{agency}** ({len(lines)})"))
        for line in lines:
            body.append(
                paragraph(
                    f"{line.case_reference} · due {line.due} · {line.overdue_by}\n\n"
                    f"{line.description}\n\nContact: {line.contact}",
                    subtle=False,
                )
            )
    return build(
        body,
        [command_button("Show all overdue actions", "overdue")],
        fallback=title,
        full_width=True,
    )
