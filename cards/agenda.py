"""The meeting's agenda: the coordinator's working card, the channel's announcement, and the
invitation an invited agency receives.

The agenda carries case references and risk levels only (never names or narratives), so a
member with any role may see it wherever they ask; the channel announcement is stricter
still and gives any other business as a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import CARD_VERSION, Card, build, command_button, facts, heading, paragraph
from cards.verbs import MEETING_KEY, REFERENCE_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

PUBLISH_BUTTON = "Publish agenda"
PUBLISH_AGAIN_BUTTON = "Publish the changes"
MOVE_UP_BUTTON = "Move up"
MOVE_DOWN_BUTTON = "Move down"
REMOVE_BUTTON = "Remove…"
CONFIRM_REMOVE = "Remove from the agenda"
DEFER_BUTTON = "Defer…"
CONFIRM_DEFER = "Defer to the next meeting"
ADD_OTHER_BUTTON = "Add any other business…"
CONFIRM_ADD_OTHER = "Add the item"
ADD_CASE_BUTTON = "Add a case…"
CONFIRM_ADD_CASE = "Add the case"
MAX_REASON = 300
# The card data key naming an agenda item (the agenda card's, the chair card's and the
# minutes card's buttons carry it).
ITEM_KEY = "item_id"
# The agenda card's inputs; an item's reasons are made unique by `field_id(name, item_id)`.
REASON_INPUT = "reason"
DEFER_REASON_INPUT = "defer_reason"
TITLE_INPUT = "title"
MINUTES_INPUT = "minutes"


def agenda_title(meeting_label: str) -> str:
    """The agenda card's heading, e.g. "Agenda for Tue 8 Dec 2026"."""
    return f"Agenda for {meeting_label}"


# What a reader's own view of the agenda or its announcement in a shared chat is headed by
# (never a shared kind's title, so the channel gate would never let it be posted there).
YOUR_VIEW = "Your view: "


def announcement_title(meeting_label: str) -> str:
    """The channel announcement's heading."""
    return f"Agenda published: {meeting_label}"


def invitation_title(meeting_label: str) -> str:
    """The invited agency's heading."""
    return f"You are invited to the panel meeting on {meeting_label}"


def field_id(name: str, item_id: str) -> str:
    """An input's id in one item's form: ids are unique across the whole card."""
    return f"{name}-{item_id}"


@dataclass(frozen=True)
class AgendaLine:
    """One agenda item as the card shows it: references and risk levels, never names."""

    item_id: str
    number: int | None  # on the running agenda; None when removed or deferred
    section: str
    text: str  # "CM-2026-014 · high risk · invited: Riverside Fire and Rescue"
    minutes: int
    kind: str  # AgendaItemKind value
    state: str | None = None  # "removed: listed in error", "deferred: …"
    can_move: bool = False
    can_remove: bool = False
    can_defer: bool = False
    # A reader's own view only (bot.kernel.views): what they may see of the case in full.
    detail: Sequence[str] = ()


@dataclass(frozen=True)
class AgendaView:
    panel_name: str
    meeting_id: str
    meeting_label: str  # "Tue 8 Dec 2026"
    time_label: str  # "10:00–12:00"
    status: str  # "Not published yet", "Published Fri 20 Nov 2026", "In progress"
    lines: Sequence[AgendaLine]
    planned_minutes: int
    meeting_minutes: int
    coordinator: bool = False  # show the editing controls
    published: bool = False
    notice: str | None = None
    warnings: Sequence[str] = field(default_factory=tuple)
    # The meeting's version this rendering shows: a change from an older card is refused.
    version: int = 0
    # A reader's own view in a shared chat (bot.kernel.views), with case detail in it.
    personal: bool = False

    @property
    def overrun(self) -> int:
        return max(0, self.planned_minutes - self.meeting_minutes)


def _meeting_data(view: AgendaView, item_id: str | None = None) -> dict[str, Any]:
    """What every button carries: the meeting, the version it was rendered from, and the
    item it acts on (if any)."""
    data: dict[str, Any] = {MEETING_KEY: view.meeting_id, VERSION_KEY: view.version}
    if item_id is not None:
        data[ITEM_KEY] = item_id
    return data


def _execute(title: str, verb: Verb, data: dict[str, Any], style: Any = None) -> Any:
    return ac.ActionExecute(title=title, verb=verb.value, data=data, style=style)


def _form(body: list[Any], submit: Any) -> Any:
    return (
        ac.AdaptiveCard.new().version(CARD_VERSION).add_items(body).add_actions([submit]).create()
    )


def _reason_form(view: AgendaView, line: AgendaLine, verb: Verb, label: str, submit: str) -> Any:
    name = REASON_INPUT if verb is Verb.AGENDA_REMOVE else DEFER_REASON_INPUT
    return _form(
        [
            ac.InputText(
                id=field_id(name, line.item_id),
                label=label,
                placeholder="No names, please: the agenda is shared",
                max_length=MAX_REASON,
                is_required=True,
                error_message="Give a reason.",
            )
        ],
        _execute(
            submit,
            verb,
            _meeting_data(view, line.item_id),
            t.ActionStyle.DESTRUCTIVE if verb is Verb.AGENDA_REMOVE else None,
        ),
    )


def _controls(view: AgendaView, line: AgendaLine) -> list[Any]:
    actions: list[Any] = []
    data = _meeting_data(view, line.item_id)
    if line.can_move:
        actions += [
            _execute(MOVE_UP_BUTTON, Verb.AGENDA_MOVE_UP, data),
            _execute(MOVE_DOWN_BUTTON, Verb.AGENDA_MOVE_DOWN, data),
        ]
    if line.can_defer:
        actions.append(
            ac.ActionShowCard(
                title=DEFER_BUTTON,
                card=_reason_form(
                    view, line, Verb.AGENDA_DEFER, "Why is it deferred?", CONFIRM_DEFER
                ),
            )
        )
    if line.can_remove:
        actions.append(
            ac.ActionShowCard(
                title=REMOVE_BUTTON,
                card=_reason_form(
                    view, line, Verb.AGENDA_REMOVE, "Why is it removed?", CONFIRM_REMOVE
                ),
            )
        )
    return [ac.ActionSet(actions=actions, spacing=t.Spacing.SMALL)] if actions else []


def _line(view: AgendaView, line: AgendaLine) -> Any:
    if line.number is None:
        text = f"~~{line.text}~~ — {line.state}" if line.state else f"~~{line.text}~~"
        return ac.Container(items=[paragraph(text, subtle=True)], spacing=t.Spacing.SMALL)
    items: list[Any] = [
        ac.ColumnSet(
            columns=[
                ac.Column(
                    width="stretch",
                    items=[paragraph(f"**{line.number}.** {line.text}")],
                ),
                ac.Column(
                    width="auto",
                    items=[paragraph(f"{line.minutes} min", subtle=True)],
                ),
            ]
        )
    ]
    if line.state:
        items.append(paragraph(line.state, subtle=True))
    items += [paragraph(detail, subtle=True) for detail in line.detail]
    if view.coordinator:
        items += _controls(view, line)
    return ac.Container(items=items, spacing=t.Spacing.SMALL)


def _add_forms(view: AgendaView) -> list[Any]:
    other = _form(
        [
            ac.InputText(
                id=TITLE_INPUT,
                label="Item",
                placeholder="No names, please: the agenda is shared",
                max_length=200,
                is_required=True,
                error_message="Name the item.",
            ),
            ac.InputNumber(id=MINUTES_INPUT, label="Minutes planned", value=5, min=1, max=120),
        ],
        _execute(CONFIRM_ADD_OTHER, Verb.AGENDA_ADD_OTHER, _meeting_data(view)),
    )
    case = _form(
        [
            ac.InputText(
                id=REFERENCE_KEY,
                label="Case reference",
                placeholder="e.g. CM-2026-014",
                max_length=40,
                is_required=True,
                error_message="Give the case reference.",
            )
        ],
        _execute(CONFIRM_ADD_CASE, Verb.AGENDA_ADD_CASE, _meeting_data(view)),
    )
    return [
        ac.ActionShowCard(title=ADD_CASE_BUTTON, card=case),
        ac.ActionShowCard(title=ADD_OTHER_BUTTON, card=other),
    ]


def render_agenda(view: AgendaView) -> Card:
    """The agenda in order, by section, with each item's planned minutes and the total; for
    the coordinator, controls to reorder, remove, defer, add and publish."""
    title = agenda_title(view.meeting_label)
    body: list[Any] = [
        *heading(title, f"{view.panel_name} · {view.time_label} · {view.status}"),
    ]
    if view.notice:
        body.append(paragraph(view.notice))
    for warning in view.warnings:
        body.append(paragraph(warning, attention=True))
    section = None
    for line in view.lines:
        if line.section != section:
            section = line.section
            body.append(
                ac.TextBlock(
                    text=section,
                    weight=t.FontWeight.BOLDER,
                    wrap=True,
                    separator=True,
                    spacing=t.Spacing.MEDIUM,
                )
            )
        body.append(_line(view, line))
    total = f"{view.planned_minutes} of {view.meeting_minutes} minutes planned"
    if view.overrun:
        body.append(
            paragraph(
                f"{total}: the agenda runs {view.overrun} minutes over the meeting. "
                "Defer a case or plan a longer meeting.",
                attention=True,
            )
        )
    else:
        body.append(paragraph(total, subtle=True))
    actions: list[Any] = []
    if view.coordinator:
        # The card's own buttons (publish, add) stay in view; each item's move, defer and
        # remove go under that item's "…" once the agenda is longer than a few items.
        actions.append(
            _execute(
                PUBLISH_AGAIN_BUTTON if view.published else PUBLISH_BUTTON,
                Verb.AGENDA_PUBLISH,
                _meeting_data(view),
                t.ActionStyle.POSITIVE,
            )
        )
        actions += _add_forms(view)
    return build(
        body,
        actions,
        fallback=YOUR_VIEW + title if view.personal else title,
        full_width=view.coordinator,
    )


@dataclass(frozen=True)
class AnnouncedCase:
    """A case as the channel may see it: reference, risk level, invited agencies."""

    reference: str
    kind: str  # "new case" or "review"
    risk_level: str
    invited: Sequence[str] = ()
    # A reader's own view only (bot.kernel.views): what they may see of the case in full.
    detail: Sequence[str] = ()


@dataclass(frozen=True)
class AnnouncementView:
    """The agenda as the team channel sees it: no personal data at all."""

    meeting_label: str  # "Tue 8 Dec 2026, 10:00–12:00"
    cases: Sequence[AnnouncedCase]
    unmet_actions: int
    other_business: int
    planned_minutes: int
    join_url: str | None = None
    republished: bool = False
    # A reader's own view (bot.kernel.views), with the detail of the cases they may see.
    personal: bool = False


def render_agenda_announcement(view: AnnouncementView) -> Card:
    """References, risk levels, invited agencies and counts only; a reader's own view adds
    what they may see of each case."""
    title = announcement_title(view.meeting_label)
    body: list[Any] = [
        *heading(title, "Updated agenda" if view.republished else None),
        facts(
            [
                ("Cases", str(len(view.cases))),
                ("Unmet actions to review", str(view.unmet_actions)),
                ("Any other business", str(view.other_business)),
                ("Planned", f"{view.planned_minutes} minutes"),
            ]
        ),
    ]
    for case in view.cases:
        text = f"**{case.reference}** · {case.kind} · {case.risk_level} risk"
        if case.invited:
            text += f" · invited: {', '.join(case.invited)}"
        body.append(paragraph(text))
        body += [paragraph(line, subtle=True) for line in case.detail]
    if view.join_url:
        body.append(paragraph(f"[Join the Teams meeting]({view.join_url})"))
    body.append(
        paragraph(
            "This is your own view: only you see the detail above."
            if view.personal
            else "Members: type agenda in our private chat for the agenda; case detail is "
            "shared only in the meeting.",
            subtle=True,
        )
    )
    return build(body, fallback=YOUR_VIEW + title if view.personal else title)


@dataclass(frozen=True)
class InvitationView:
    """An invited agency's cases at one meeting (need to know: only theirs)."""

    panel_name: str
    agency: str
    meeting_label: str
    cases: Sequence[tuple[str, str]]  # (reference, risk level)
    join_url: str | None = None


def render_agenda_invitation(view: InvitationView) -> Card:
    """Tell an invited agency's contact which cases they are invited for."""
    title = invitation_title(view.meeting_label)
    body: list[Any] = [
        *heading(title, view.panel_name),
        paragraph(f"{view.agency} is invited for these cases only:"),
        *(paragraph(f"**{ref}** · {risk} risk") for ref, risk in view.cases),
    ]
    if view.join_url:
        body.append(paragraph(f"[Join the Teams meeting]({view.join_url})"))
    body.append(
        paragraph(
            "Bring what your agency knows about them. You will see only these cases.",
            subtle=True,
        )
    )
    return build(body, [command_button("Show the agenda", "agenda")], fallback=title)
