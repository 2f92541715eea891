"""The SPOC's action cards: one action, a list of an agency's actions, and the notice the
coordinator gets when an agency can't do an action.

Each open action carries the same three buttons wherever it is shown: **Done** (with a
note), **Add an update** and **Can't do this** (with a reason). They are `Action.Execute`,
so the answer replaces the clicked card in place. Every button carries the action, the
rendering's token (so one click is saved once), the action's version the card was rendered
from (so a click from an older card is refused), the view to render again ("card" or
"list") and, for a card the bot sent, the outbox row it was sent as (`copy`).

These cards carry case detail: they go to private chats only (the channel gate refuses
them anywhere else).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import CARD_VERSION, Card, build, command_button, facts, heading, paragraph
from cards.verbs import ACTION_ID_KEY, AGENCY_ID_KEY, REQUEST_ID_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DONE_BUTTON = "Done"
UPDATE_BUTTON = "Add an update"
CANT_BUTTON = "Can't do this"
MARK_DONE = "Mark done"
SAVE_UPDATE = "Save update"
SEND_CANT = "Send to the coordinator"
NOTE_LABEL = "Note on what was done"
UPDATE_LABEL = "Update"
REASON_LABEL = "Why your agency can't do it"
MAX_NOTE = 1000
# Updates shown per action, newest first.
UPDATES_SHOWN = 3
# Actions shown in one list card (the rest are counted): keeps the card well under 28 KB.
LIST_LIMIT = 8
# What a list card may weigh (the Teams validator's budget is 28 KB).
MAX_CARD_BYTES = 26 * 1024
CARD_VIEW = "card"
LIST_VIEW = "list"

# What each button's data carries, written here and read back by
# bot.features.actions.commands.Click: the action, the rendering's token, the view to
# render again, the action's position on the card, and the outbox row a sent card was
# sent as (`copy`) or the agency a list shows.
TOKEN_KEY = "token"  # noqa: S105 (the name of a card data key, not a secret)
VIEW_KEY = "view"
INDEX_KEY = "index"
COPY_KEY = "copy"
# The box of each button's form (on the card suffixed with the action's index: field_id).
NOTE_INPUT = "note"
UPDATE_INPUT = "update"
REASON_INPUT = "reason"
BOX_OF: Mapping[Verb, str] = {
    Verb.ACTION_DONE: NOTE_INPUT,
    Verb.ACTION_UPDATE: UPDATE_INPUT,
    Verb.ACTION_CANT: REASON_INPUT,
}


def action_title(case_reference: str) -> str:
    """The single action card's heading, e.g. "Action for CM-2026-013"."""
    return f"Action for {case_reference}"


def finished_title(agency: str) -> str:
    """The heading of an agency's finished actions, e.g. "Finished actions of Riverside Homes
    (Housing)"."""
    return f"Finished actions of {agency}"


def actions_title(agency: str) -> str:
    """The heading of an agency's list, e.g. "Open actions of Riverside Homes (Housing)"."""
    return f"Open actions of {agency}"


OVERDUE_TITLE = "Overdue actions"


def cant_title(agency: str, case_reference: str) -> str:
    """The coordinator's notice, e.g. "Riverside Homes (Housing) can't do an action for …"."""
    return f"{agency} can't do an action for {case_reference}"


def field_id(name: str, index: int) -> str:
    """An input's id on a card that may list several actions: unique across the card."""
    return f"{name}-{index}"


@dataclass(frozen=True)
class UpdateLine:
    when: str  # "Fri 16 Nov 2026"
    who: str
    text: str


@dataclass(frozen=True)
class ActionItem:
    """One action as its owner agency sees it (need to know: nothing beyond the case's
    reference, risk level and lead agency, and the action itself)."""

    action_id: str
    case_reference: str
    risk_level: str
    lead_agency: str
    owner: str
    description: str
    due: str  # "Mon 7 Dec 2026"
    due_phrase: str  # "due in 3 days", "overdue by 2 days"
    overdue: bool
    set_by: str  # "Priya Raman on Tue 10 Nov 2026, at the panel meeting"
    state: str  # "Open", "Done on Fri 20 Nov 2026", "Cancelled: …"
    is_open: bool
    updates: Sequence[UpdateLine] = ()
    # Why this action is in a reminder: "due in 3 days" (set by the reminder job).
    reminder: str | None = None
    # The action's version this rendering shows (the optimistic lock).
    version: int = 0


@dataclass(frozen=True)
class Buttons:
    """What the buttons carry besides the action: where the click re-renders."""

    token: str
    view: str = CARD_VIEW
    # The outbox row the card is sent as (a sent action card), so that its copies can be
    # updated and this one left to the click's answer.
    copy: str | None = None
    # The agency a list shows (a list card): its list is rendered again.
    agency_id: str | None = None
    # What a refused click had typed, by input (NOTE_INPUT, UPDATE_INPUT, REASON_INPUT):
    # shown again in its box so that nothing is lost.
    typed: Mapping[str, str] = field(default_factory=dict)


def _forms(item: ActionItem, index: int, buttons: Buttons) -> Any:
    data: dict[str, Any] = {
        ACTION_ID_KEY: item.action_id,
        VERSION_KEY: item.version,
        TOKEN_KEY: buttons.token,
        VIEW_KEY: buttons.view,
        INDEX_KEY: index,
    }
    if buttons.copy is not None:
        data[COPY_KEY] = buttons.copy
    if buttons.agency_id is not None:
        data[AGENCY_ID_KEY] = buttons.agency_id

    def form(
        input_name: str, label: str, required: bool, title: str, verb: Verb, error: str
    ) -> Any:
        box = ac.InputText(
            id=field_id(input_name, index),
            label=label,
            value=buttons.typed.get(input_name) or None,
            is_multiline=True,
            max_length=MAX_NOTE,
            is_required=required or None,
            error_message=error if required else None,
        )
        submit = ac.ActionExecute(title=title, verb=verb.value, data=data)
        return (
            ac.AdaptiveCard.new()
            .version(CARD_VERSION)
            .add_items([box])
            .add_actions([submit])
            .create()
        )

    return ac.ActionSet(
        actions=[
            ac.ActionShowCard(
                title=DONE_BUTTON,
                card=form(NOTE_INPUT, NOTE_LABEL, False, MARK_DONE, Verb.ACTION_DONE, ""),
            ),
            ac.ActionShowCard(
                title=UPDATE_BUTTON,
                card=form(
                    UPDATE_INPUT,
                    UPDATE_LABEL,
                    True,
                    SAVE_UPDATE,
                    Verb.ACTION_UPDATE,
                    "Write the update.",
                ),
            ),
            ac.ActionShowCard(
                title=CANT_BUTTON,
                card=form(
                    REASON_INPUT,
                    REASON_LABEL,
                    True,
                    SEND_CANT,
                    Verb.ACTION_CANT,
                    "Say why your agency can't do it.",
                ),
            ),
        ],
        spacing=t.Spacing.SMALL,
    )


def _updates(item: ActionItem) -> list[Any]:
    if not item.updates:
        return []
    lines = [f"{u.when} · {u.who}: {u.text}" for u in item.updates[:UPDATES_SHOWN]]
    more = len(item.updates) - UPDATES_SHOWN
    if more > 0:
        lines.append(f"… and {more} earlier")
    return [paragraph("**Updates**"), paragraph("\n\n".join(lines), subtle=True)]


def _item_facts(item: ActionItem, *, full: bool) -> Any:
    due = f"{item.due} ({item.due_phrase})" if item.is_open else item.due
    pairs = [("Due by", due), ("Status", item.state)]
    if full:
        pairs = [
            ("Case", f"{item.case_reference} · {item.risk_level} risk"),
            ("Lead agency", item.lead_agency),
            ("Owner", item.owner),
            *pairs,
            ("Set by", item.set_by),
        ]
    else:
        pairs = [("Case", f"{item.case_reference} · {item.risk_level} risk"), *pairs]
    return facts(pairs)


def render_action(
    item: ActionItem,
    *,
    panel_name: str,
    buttons: Buttons | None,
    notice: str | None = None,
    error: bool = False,
    title: str | None = None,
) -> Card:
    """One action: the case in brief, what was agreed, by when, who set it, its updates;
    with the three buttons while it is open and `buttons` are given (the owner's contact).
    `title` replaces the heading (e.g. "New action for CM-2026-013")."""
    title = title or action_title(item.case_reference)
    body: list[Any] = [*heading(title, f"{panel_name} · {item.owner}")]
    if notice:
        body.append(paragraph(notice, attention=error))
    if item.reminder and item.is_open:
        body.append(paragraph(f"Reminder: this action is {item.reminder}.", attention=item.overdue))
    body += [paragraph(item.description), _item_facts(item, full=True), *_updates(item)]
    if item.is_open and buttons is not None:
        body.append(_forms(item, 0, buttons))
        body.append(
            paragraph(
                "Only your agency's SPOC or deputy can answer this card. Keep it confidential.",
                subtle=True,
            )
        )
    return build(body, fallback=title)


@dataclass(frozen=True)
class ActionGroup:
    """Actions under one heading (an agency's name), or none for a single agency's list."""

    heading: str | None
    items: Sequence[ActionItem]


@dataclass(frozen=True)
class ActionListView:
    panel_name: str
    title: str
    groups: Sequence[ActionGroup]
    buttons: Buttons | None  # None: shown to someone who may not act on them
    subtitle: str | None = None
    intro: str | None = None
    notice: str | None = None
    error: bool = False
    empty: str = "No open actions."
    more: int = 0  # actions not shown
    more_command: str | None = None  # what to type to see them all
    # Information requests in a reminder: (line, request id)
    requests: Sequence[tuple[str, str]] = ()
    # An action just closed from this card: shown first, in its new state.
    closed: ActionItem | None = None


def _list_item(item: ActionItem, index: int, buttons: Buttons | None) -> Any:
    head = f"**{item.case_reference}** · {item.due_phrase if item.is_open else item.state}"
    items: list[Any] = [
        paragraph(head, attention=item.overdue and item.is_open),
        paragraph(item.description),
        _item_facts(item, full=False),
    ]
    if item.updates:
        latest = item.updates[0]
        items.append(paragraph(f"Latest: {latest.when} · {latest.who}: {latest.text}", subtle=True))
    if item.is_open and buttons is not None:
        items.append(_forms(item, index, buttons))
    return ac.Container(items=items, separator=True, spacing=t.Spacing.MEDIUM)


def render_action_list(view: ActionListView) -> Card:
    """Actions in order (overdue first), grouped under agencies where several are shown;
    as many as fit the card budget, the rest counted."""
    card = _render_list(view)
    while len(json.dumps(card).encode()) > MAX_CARD_BYTES:
        groups = [g for g in view.groups if g.items]
        if not groups or sum(len(g.items) for g in groups) <= 1:
            break
        last = groups[-1]
        shorter = ActionGroup(last.heading, last.items[:-1])
        view = replace(
            view,
            groups=[shorter if g is last else g for g in view.groups],
            more=view.more + 1,
        )
        card = _render_list(view)
    return card


def _render_list(view: ActionListView) -> Card:
    body: list[Any] = [*heading(view.title, view.subtitle or view.panel_name)]
    if view.notice:
        body.append(paragraph(view.notice, attention=view.error))
    if view.intro:
        body.append(paragraph(view.intro))
    if view.closed is not None:
        body.append(_list_item(view.closed, 99, None))
    index = 0
    for group in view.groups:
        if group.heading:
            body.append(paragraph(f"**{group.heading}** ({len(group.items)})"))
        for item in group.items:
            body.append(_list_item(item, index, view.buttons))
            index += 1
    if index == 0 and not view.requests:
        body.append(paragraph(view.empty))
    if view.more:
        more = f"… and {view.more} more."
        if view.more_command:
            more += f" Type `{view.more_command}` to see them."
        body.append(paragraph(more, subtle=True))
    actions: list[Any] = []
    if view.requests:
        body.append(paragraph("**Information requests to answer**"))
        for line, request_id in view.requests:
            body.append(paragraph(line))
            actions.append(
                ac.ActionSubmit(
                    title=f"Answer {line.split(' ')[0]}",
                    data={"verb": Verb.INFO_OPEN.value, REQUEST_ID_KEY: request_id},
                )
            )
    if index and view.buttons is not None:
        body.append(
            paragraph(
                "Only your agency's SPOC or deputy can answer these. Keep them confidential.",
                subtle=True,
            )
        )
    # Every request keeps its button: those beyond six go under the overflow (cards.kit).
    return build(body, actions, fallback=view.title, full_width=True)


@dataclass(frozen=True)
class CantDoView:
    """What the coordinator is told when an agency can't do an action."""

    panel_name: str
    agency: str
    case_reference: str
    description: str
    due: str
    said_by: str  # "Gemma Hartley on Fri 20 Nov 2026"
    reason: str


def render_cant_do(view: CantDoView) -> Card:
    title = cant_title(view.agency, view.case_reference)
    body: list[Any] = [
        *heading(title, view.panel_name),
        facts(
            [
                ("Action", view.description),
                ("Due by", view.due),
                ("Said by", view.said_by),
                ("Reason", view.reason),
            ]
        ),
        paragraph(
            f"The action stays open with {view.agency} until the panel decides: it comes up "
            "with the unmet actions at the next meeting, where it can be carried forward to "
            "another agency, escalated or cancelled.",
            subtle=True,
        ),
    ]
    show = command_button(f"Open actions of {view.agency}", f"actions {view.agency}")
    return build(body, [show], fallback=title)


def input_value(data: Mapping[str, Any], name: str, index: int) -> Any:
    """What a person typed in an action's box (NOTE_INPUT, UPDATE_INPUT or REASON_INPUT)."""
    return data.get(field_id(name, index))


def list_more(items: Sequence[ActionItem], limit: int = LIST_LIMIT) -> tuple[list[ActionItem], int]:
    """The items a list card shows, and how many it leaves out."""
    return list(items[:limit]), max(0, len(items) - limit)


def reminder_count(items: Sequence[ActionItem]) -> str:
    """e.g. "3 actions" / "1 action"."""
    return f"{len(items)} action{'s' if len(items) != 1 else ''}"
