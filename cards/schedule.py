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
URGENT_TITLE = "Call an urgent meeting"
URGENT_CALLED_TITLE = "Urgent meeting called"
URGENT_ANNOUNCEMENT_PREFIX = "Urgent panel meeting called for "
# A meeting's Move and Cancel forms' inputs, made unique by `field_id(name, meeting_id)`.
NEW_DATE_INPUT = "new_date"
NEW_TIME_INPUT = "new_time"
REASON_INPUT = "reason"
# The urgent meeting's form: one per card, so its ids need no meeting id.
URGENT_DATE_INPUT = "urgent_date"
URGENT_TIME_INPUT = "urgent_time"
URGENT_REASON_INPUT = "urgent_reason"
URGENT_CASES_INPUT = "urgent_cases"  # the case ids ticked, comma-separated (Teams' multi-select)


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
    urgent: bool = False


@dataclass(frozen=True)
class UrgentForm:
    """The form to call an urgent meeting: the open cases to tick (id, "CM-2026-014 · high
    risk"), and what a typed command already gave."""

    cases: Sequence[tuple[str, str]]
    date_value: str = ""
    time_value: str = ""
    reason: str = ""
    ticked: Sequence[str] = ()
    error: str | None = None


@dataclass(frozen=True)
class ScheduleView:
    panel_name: str
    pattern: str  # "second Tuesday of the month, 10:00 for 120 minutes"
    timezone: str
    meetings: Sequence[MeetingLine]
    ics_url: str | None
    coordinator: bool
    urgent: UrgentForm | None = None  # the coordinator's and chair's, in private


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
                "You can also type: schedule move 8 Dec 10 Dec 14:00, schedule cancel 8 Dec "
                "followed by the reason, or schedule urgent 2 Dec 14:00 threats escalating "
                "for CM-2026-014.",
                subtle=True,
            )
        )
    actions: list[Any] = []
    if view.ics_url:
        actions.append(ac.ActionOpenUrl(title="Add to calendar", url=view.ics_url))
    if view.urgent is not None:
        actions.append(ac.ActionShowCard(title="Urgent meeting…", card=_urgent_card(view.urgent)))
    return build(body, actions, fallback=SCHEDULE_TITLE, full_width=True)


def _urgent_body(form: UrgentForm) -> list[Any]:
    body: list[Any] = [
        paragraph(
            "An urgent (extraordinary) meeting hears only the cases you tick, within the next "
            "two weeks; only the agencies concerned are invited.",
            subtle=True,
        )
    ]
    if form.error:
        body.append(paragraph(form.error, attention=True))
    if not form.cases:
        body.append(paragraph("The panel has no open case to hear.", subtle=True))
        return body
    body += [
        ac.InputDate(
            id=URGENT_DATE_INPUT,
            label="Date",
            value=form.date_value or None,
            is_required=True,
            error_message="Choose the date.",
        ),
        ac.InputTime(
            id=URGENT_TIME_INPUT,
            label="Start time",
            value=form.time_value or None,
            is_required=True,
            error_message="Choose the start time.",
        ),
        ac.InputText(
            id=URGENT_REASON_INPUT,
            label="Why is it urgent?",
            value=form.reason or None,
            placeholder="e.g. threats escalating; no names, please",
            max_length=200,
            is_required=True,
            error_message="Say why the meeting is urgent.",
        ),
        ac.InputChoiceSet(
            id=URGENT_CASES_INPUT,
            label="Cases to hear",
            choices=[ac.InputChoice(title=label, value=case_id) for case_id, label in form.cases],
            value=",".join(form.ticked) or None,
            is_multi_select=True,
            style=t.ChoiceInputStyle.EXPANDED,
            is_required=True,
            error_message="Tick at least one case.",
        ),
    ]
    return body


def _urgent_submit(form: UrgentForm) -> list[Any]:
    if not form.cases:
        return []
    return [
        ac.ActionSubmit(title="Call the urgent meeting", data={"verb": Verb.SCHEDULE_URGENT.value})
    ]


def _urgent_card(form: UrgentForm) -> Any:
    builder = ac.AdaptiveCard.new().version(CARD_VERSION).add_items(_urgent_body(form))
    submit = _urgent_submit(form)
    if submit:
        builder = builder.add_actions(submit)
    return builder.create()


@dataclass(frozen=True)
class UrgentFormView:
    panel_name: str
    form: UrgentForm


def render_urgent_form(view: UrgentFormView) -> Card:
    """The urgent meeting's form on a card of its own (`schedule urgent` without cases, or a
    refused form shown again with what was typed)."""
    body = [*heading(URGENT_TITLE, view.panel_name), *_urgent_body(view.form)]
    return build(body, _urgent_submit(view.form), fallback=URGENT_TITLE)


@dataclass(frozen=True)
class UrgentCalledView:
    panel_name: str
    when: str  # "Wed 2 Dec 2026, 14:00–15:00"
    cases: Sequence[str]  # references
    reason: str | None  # None: not shown (the card for the panel's other chairs)
    invited: Sequence[str]  # "Riverside Police (Tom Okafor)"
    announced: bool
    teams_note: str | None = None
    called_by: str | None = None  # for the others: who called it


def render_urgent_called(view: UrgentCalledView) -> Card:
    """The confirmation for whoever called the urgent meeting (in private: it shows the
    reason they gave)."""
    body: list[Any] = [
        *heading(URGENT_CALLED_TITLE, view.panel_name),
        facts(
            [
                ("Meeting", view.when),
                ("Cases", ", ".join(view.cases)),
                *([("Called by", view.called_by)] if view.called_by else []),
                *([("Reason", view.reason)] if view.reason is not None else []),
                ("Invited", "; ".join(view.invited) or "no agency contact found"),
            ]
        ),
        paragraph(
            "The team channel has the announcement (no names)."
            if view.announced
            else "The channel gets no announcement (the bot has not been added to the "
            "team's channel yet).",
            subtle=True,
        ),
    ]
    if view.teams_note:
        body.append(paragraph(view.teams_note, subtle=True))
    return build(
        body,
        [
            command_button("Show the agenda", "agenda"),
            command_button("Show the schedule", "schedule"),
        ],
        fallback=URGENT_CALLED_TITLE,
    )


@dataclass(frozen=True)
class UrgentAnnouncementView:
    when: str  # "Wed 2 Dec, 14:00"
    cases: int
    join_url: str | None = None


def urgent_announcement_title(view: UrgentAnnouncementView) -> str:
    """ "Urgent panel meeting called for Wed 2 Dec, 14:00: 1 case"."""
    count = f"{view.cases} case" + ("" if view.cases == 1 else "s")
    return f"{URGENT_ANNOUNCEMENT_PREFIX}{view.when}: {count}"


def render_urgent_announcement(view: UrgentAnnouncementView) -> Card:
    """The channel's post: when, and how many cases; no reference, reason or name."""
    title = urgent_announcement_title(view)
    body: list[Any] = [
        *heading(title),
        paragraph(
            "Only the agencies concerned are invited; they have the cases in private.",
            subtle=True,
        ),
    ]
    if view.join_url:
        body.append(paragraph(f"[Join the Teams meeting]({view.join_url})"))
    return build(body, fallback=title)


def _meeting(line: MeetingLine) -> Any:
    title = f"{line.date_label}, {line.time_label}"
    if line.urgent:
        title = f"Urgent: {title}"
    items: list[Any] = [
        ac.TextBlock(
            text=f"{title} — cancelled" if line.cancelled else title,
            weight=t.FontWeight.BOLDER,
            wrap=True,
            color=t.Colors.ATTENTION if line.cancelled else None,
        )
    ]
    if line.urgent and not line.cancelled:
        items.append(
            facts(
                [
                    ("Kind", "urgent meeting, for the cases it was called for"),
                    ("Status", line.status),
                ]
            )
        )
    elif not line.cancelled:
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
