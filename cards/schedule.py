"""The panel's meeting calendar: the schedule, and confirmations of a move or cancellation.

The schedule carries dates, statuses and Teams links only (no case data), so it may be shown
in the team channel as well as in a private chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import CARD_VERSION, Card, build, command_button, facts, heading, paragraph
from cards.verbs import MEETING_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

SCHEDULE_TITLE = "Panel meetings"
MOVED_TITLE = "Meeting moved"
CANCELLED_TITLE = "Meeting cancelled"
CALENDAR_TITLE = "Add the panel's meetings to your calendar"
# A meeting's Move and Cancel forms' inputs, made unique by `field_id(name, meeting_id)`.
NEW_DATE_INPUT = "new_date"
NEW_TIME_INPUT = "new_time"
REASON_INPUT = "reason"


def field_id(name: str, meeting_id: str) -> str:
    """An input's id in a meeting's form: input ids must be unique across the whole card."""
    return f"{name}-{meeting_id}"


@dataclass(frozen=True)
class MeetingLine:
    """One meeting, already formatted in the panel's time zone."""

    meeting_id: str
    date_label: str  # "Tue 8 Dec 2026"
    time_label: str  # "10:00–12:00"
    deadline_label: str  # "Mon 30 Nov 2026, 10:00"
    deadline_passed: bool
    status: str
    cancelled: bool
    join_url: str | None
    can_change: bool
    date_value: str  # ISO date, the Move form's starting value
    time_value: str  # HH:MM


@dataclass(frozen=True)
class ScheduleView:
    panel_name: str
    pattern: str  # "second Tuesday of the month, 10:00 for 120 minutes"
    timezone: str
    meetings: Sequence[MeetingLine]
    ics_url: str | None
    coordinator: bool


def render_schedule(view: ScheduleView) -> Card:
    """The next meetings with their referral deadlines, status and join links; for the
    coordinator, a Move and a Cancel form under each meeting that has not started."""
    body: list[Any] = [
        *heading(SCHEDULE_TITLE, f"{view.panel_name} · {view.pattern} · times are {view.timezone}")
    ]
    if not view.meetings:
        body.append(paragraph("No meetings are planned yet.", subtle=True))
    for line in view.meetings:
        body.append(_meeting(line))
    if view.coordinator:
        body.append(
            paragraph(
                "You can also type: schedule move 8 Dec 10 Dec 14:00, or "
                "schedule cancel 8 Dec <reason>.",
                subtle=True,
            )
        )
    actions: list[Any] = []
    if view.ics_url:
        actions.append(ac.ActionOpenUrl(title="Add to calendar", url=view.ics_url))
    return build(body, actions, fallback=SCHEDULE_TITLE)


def _meeting(line: MeetingLine) -> Any:
    title = f"{line.date_label}, {line.time_label}"
    items: list[Any] = [
        ac.TextBlock(
            text=f"{title} — cancelled" if line.cancelled else title,
            weight=t.FontWeight.BOLDER,
            wrap=True,
            color=t.Colors.ATTENTION if line.cancelled else None,
        )
    ]
    if not line.cancelled:
        deadline = line.deadline_label + (" (passed)" if line.deadline_passed else "")
        items.append(facts([("Referrals due by", deadline), ("Status", line.status)]))
    if line.join_url:
        items.append(paragraph(f"[Join the Teams meeting]({line.join_url})"))
    if line.can_change:
        items.append(
            ac.ActionSet(actions=[_move_form(line), _cancel_form(line)], spacing=t.Spacing.SMALL)
        )
    return ac.Container(items=items, separator=True, spacing=t.Spacing.MEDIUM)


def _form(body: list[Any], submit: Any) -> Any:
    return (
        ac.AdaptiveCard.new().version(CARD_VERSION).add_items(body).add_actions([submit]).create()
    )


def _move_form(line: MeetingLine) -> Any:
    form = _form(
        [
            ac.InputDate(
                id=field_id(NEW_DATE_INPUT, line.meeting_id),
                label="New date",
                value=line.date_value,
                is_required=True,
                error_message="Choose the new date.",
            ),
            ac.InputTime(
                id=field_id(NEW_TIME_INPUT, line.meeting_id),
                label="Start time",
                value=line.time_value,
            ),
        ],
        ac.ActionSubmit(
            title="Move meeting",
            data={"verb": Verb.SCHEDULE_MOVE.value, MEETING_KEY: line.meeting_id},
        ),
    )
    return ac.ActionShowCard(title="Move…", card=form)


def _cancel_form(line: MeetingLine) -> Any:
    form = _form(
        [
            ac.InputText(
                id=field_id(REASON_INPUT, line.meeting_id),
                label="Why is it cancelled?",
                placeholder="e.g. the chair is at court; no names, please",
                max_length=200,
                is_required=True,
                error_message="Say why the meeting is cancelled.",
            )
        ],
        ac.ActionSubmit(
            title="Cancel meeting",
            style=t.ActionStyle.DESTRUCTIVE,
            data={"verb": Verb.SCHEDULE_CANCEL.value, MEETING_KEY: line.meeting_id},
        ),
    )
    return ac.ActionShowCard(title="Cancel…", card=form)


@dataclass(frozen=True)
class MeetingMovedView:
    panel_name: str
    before: str  # "Tue 8 Dec 2026, 10:00"
    after: str  # "Thu 10 Dec 2026, 14:00–16:00"
    deadline: str
    teams_note: str | None = None


def render_meeting_moved(view: MeetingMovedView) -> Card:
    """The coordinator's confirmation that a meeting moved."""
    body: list[Any] = [
        *heading(MOVED_TITLE, view.panel_name),
        facts([("Was", view.before), ("Now", view.after), ("Referrals due by", view.deadline)]),
    ]
    if view.teams_note:
        body.append(paragraph(view.teams_note, subtle=True))
    return build(body, [command_button("Show the schedule", "schedule")], fallback=MOVED_TITLE)


@dataclass(frozen=True)
class MeetingCancelledView:
    panel_name: str
    when: str
    reason: str
    teams_note: str | None = None


def render_meeting_cancelled(view: MeetingCancelledView) -> Card:
    """The coordinator's confirmation that a meeting is cancelled, with the reason."""
    body: list[Any] = [
        *heading(CANCELLED_TITLE, view.panel_name),
        facts([("Meeting", view.when), ("Reason", view.reason)]),
        paragraph("Members now see it as cancelled in the schedule.", subtle=True),
    ]
    if view.teams_note:
        body.append(paragraph(view.teams_note, subtle=True))
    return build(body, [command_button("Show the schedule", "schedule")], fallback=CANCELLED_TITLE)


@dataclass(frozen=True)
class CalendarLinkView:
    panel_name: str
    url: str
    expires: str | None = None  # when the link stops working, e.g. "Thu 18 Feb 2027"


def render_calendar_link(view: CalendarLinkView) -> Card:
    """The signed .ics download link."""
    body: list[Any] = [
        *heading(CALENDAR_TITLE, view.panel_name),
        paragraph(
            "Download the .ics file and open it to add the panel's meetings to Outlook or "
            "another calendar. It holds dates, times and Teams links only."
        ),
        paragraph(
            "The link is yours alone: do not share it. It stops working if you leave the panel"
            + (f", and on {view.expires}" if view.expires else "")
            + "; type schedule ics for a new one.",
            subtle=True,
        ),
    ]
    actions = [ac.ActionOpenUrl(title="Download .ics", url=view.url)]
    return build(body, actions, fallback=CALENDAR_TITLE)
