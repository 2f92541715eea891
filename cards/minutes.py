"""The minutes: the card to edit them (the coordinator) and sign them off (the coordinator,
the chair or both, as the panel's terms of reference say), with each sign-off given; the
card each attending member entitled to them receives in 1:1 chat before the Word file (a
file consent card, Teams' own); and what is put over that consent card once answered, with
a download link where the panel allows links.

Minutes carry case detail, so these cards go to people in private chat only, never to the
team channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.agenda import ITEM_KEY
from cards.kit import CARD_VERSION, Card, build, facts, heading, paragraph
from cards.verbs import MEETING_KEY, VERSION_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

# The sign button: the coordinator approving alone; anyone whose sign-off is awaited; a
# coordinator passing her draft to the chair.
APPROVE_BUTTON = "Approve minutes"
SIGN_BUTTON = "Sign off the minutes"
SEND_TO_CHAIR_BUTTON = "Send to the chair to sign off"
EDIT_SUMMARY_BUTTON = "Edit summary…"
SAVE_SUMMARY = "Save the summary"
DOWNLOAD_BUTTON = "Download the minutes (.docx)"
# The approved minutes' file buttons: a copy for the reader; the file offered again to those
# attending who declined it or let it lapse; the panel's download links off or on.
SAVE_FILE_BUTTON = "Save the Word file in my OneDrive"
OFFER_AGAIN_BUTTON = "Offer the file again to attendees"
LINKS_OFF_BUTTON = "Turn download links off"
LINKS_ON_BUTTON = "Turn download links on"
# The card data key of the links button: whether links are to be allowed from now on.
ALLOW_LINKS_KEY = "allow_links"
MAX_SUMMARY = 4000
# Longer summaries are shown shortened, and their edit box starts empty, so that the card
# stays within Teams' size budget.
SHOWN_SUMMARY = 400
PREFILLED_SUMMARY = 1200


def minutes_title(meeting_label: str, *, approved: bool) -> str:
    """e.g. "Draft minutes: Tue 8 Dec 2026, 10:00"."""
    return f"{'Minutes' if approved else 'Draft minutes'}: {meeting_label}"


def ready_title(meeting_label: str) -> str:
    """The heading of the card an attending SPOC receives."""
    return f"Minutes approved: {meeting_label}"


SUMMARY_INPUT = "summary"


def summary_id(item_id: str) -> str:
    """The input id of one case's summary: ids are unique across the whole card."""
    return f"{SUMMARY_INPUT}-{item_id}"


@dataclass(frozen=True)
class MinutesCase:
    item_id: str
    heading: str  # "CM-2026-014 (new case)"
    summary: str
    facts: Sequence[tuple[str, str]]  # risk level, lead agency, decision
    actions: Sequence[str]  # "Riverside Homes (Housing): Fit a door camera — due Mon 7 Dec"


@dataclass(frozen=True)
class MinutesView:
    panel_name: str
    meeting_id: str
    meeting_label: str
    version: int
    approved: bool
    status_line: str  # "Draft of Tue 8 Dec 2026 · signed off by the chair" / "Approved on …"
    attendance: Sequence[str]  # "Riverside Police: Tom Okafor"
    cases: Sequence[MinutesCase]
    unmet: Sequence[str]
    other_business: Sequence[str]
    editable: bool = False
    notice: str | None = None
    download_url: str | None = None
    # "Priya Raman (coordinator), Tue 8 Dec 2026", one a sign-off given
    signatures: Sequence[str] = ()
    # The sign button's label ("Approve minutes", "Sign off the minutes", "Send to the
    # chair to sign off"); None: nothing for this reader to sign.
    sign_button: str | None = None
    # Approved minutes: a button to have the Word file in one's OneDrive; for the
    # coordinator, one to offer it again to attendees, and whether links are allowed now
    # (None: no links button).
    save_file: bool = False
    offer_again: bool = False
    links_allowed: bool | None = None


def _shortened(text: str) -> str:
    return text if len(text) <= SHOWN_SUMMARY else text[: SHOWN_SUMMARY - 1].rstrip() + "…"


def _edit_form(view: MinutesView, case: MinutesCase) -> Any:
    long = len(case.summary) > PREFILLED_SUMMARY
    form = (
        ac.AdaptiveCard.new()
        .version(CARD_VERSION)
        .add_items(
            [
                ac.InputText(
                    id=summary_id(case.item_id),
                    label="Summary of the discussion",
                    value=None if long else (case.summary or None),
                    placeholder="The summary is long: type the whole new text"
                    if long
                    else "What the panel discussed",
                    is_multiline=True,
                    max_length=MAX_SUMMARY,
                )
            ]
        )
        .add_actions(
            [
                ac.ActionExecute(
                    title=SAVE_SUMMARY,
                    verb=Verb.MINUTES_EDIT.value,
                    data={
                        MEETING_KEY: view.meeting_id,
                        ITEM_KEY: case.item_id,
                        VERSION_KEY: view.version,
                    },
                )
            ]
        )
        .create()
    )
    return ac.ActionSet(actions=[ac.ActionShowCard(title=EDIT_SUMMARY_BUTTON, card=form)])


def _case(view: MinutesView, case: MinutesCase) -> Any:
    items: list[Any] = [
        ac.TextBlock(text=case.heading, weight=t.FontWeight.BOLDER, wrap=True),
        paragraph(_shortened(case.summary) if case.summary else "No summary yet.", subtle=True),
        facts(case.facts),
    ]
    if case.actions:
        items.append(paragraph("**Actions**"))
        items += [paragraph(f"• {line}") for line in case.actions]
    else:
        items.append(paragraph("No actions agreed.", subtle=True))
    if view.editable:
        items.append(_edit_form(view, case))
    return ac.Container(items=items, separator=True, spacing=t.Spacing.MEDIUM)


def render_minutes(view: MinutesView) -> Card:
    """The minutes for the coordinator: attendance, each case (summary, decisions, actions),
    the unmet actions' outcomes; while a draft, each summary can be edited, then approved."""
    title = minutes_title(view.meeting_label, approved=view.approved)
    body: list[Any] = [*heading(title, f"{view.panel_name} · {view.status_line}")]
    if view.notice:
        body.append(paragraph(view.notice))
    if view.signatures:
        body.append(paragraph("**Signed off**"))
        body += [paragraph(f"• {line}") for line in view.signatures]
    body.append(paragraph("**Attendance**"))
    body += [paragraph(line) for line in view.attendance] or [
        paragraph("Nobody acknowledged the confidentiality statement.", subtle=True)
    ]
    for case in view.cases:
        body.append(_case(view, case))
    if view.unmet:
        body.append(
            ac.TextBlock(
                text="Unmet actions from earlier meetings",
                weight=t.FontWeight.BOLDER,
                wrap=True,
                separator=True,
            )
        )
        body += [paragraph(f"• {line}") for line in view.unmet]
    if view.other_business:
        body.append(paragraph("**Any other business**"))
        body += [paragraph(f"• {line}") for line in view.other_business]
    actions: list[Any] = []
    if view.sign_button:
        actions.append(
            ac.ActionExecute(
                title=view.sign_button,
                verb=Verb.MINUTES_APPROVE.value,
                data={MEETING_KEY: view.meeting_id, VERSION_KEY: view.version},
                style=t.ActionStyle.POSITIVE,
            )
        )
    meeting = {MEETING_KEY: view.meeting_id}
    if view.save_file:
        actions.append(
            ac.ActionExecute(title=SAVE_FILE_BUTTON, verb=Verb.MINUTES_OFFER.value, data=meeting)
        )
    if view.offer_again:
        actions.append(
            ac.ActionExecute(
                title=OFFER_AGAIN_BUTTON, verb=Verb.MINUTES_OFFER_AGAIN.value, data=meeting
            )
        )
    if view.download_url:
        actions.append(ac.ActionOpenUrl(title=DOWNLOAD_BUTTON, url=view.download_url))
    if view.links_allowed is not None:
        actions.append(
            ac.ActionExecute(
                title=LINKS_OFF_BUTTON if view.links_allowed else LINKS_ON_BUTTON,
                verb=Verb.MINUTES_LINKS.value,
                data={**meeting, ALLOW_LINKS_KEY: not view.links_allowed},
            )
        )
    return build(body, actions, fallback=title)


@dataclass(frozen=True)
class MinutesReadyView:
    panel_name: str
    meeting_label: str
    download_url: str | None
    cases: int
    actions: int
    expires: str | None = None  # "Sun 10 Jan 2027"
    signed_off: str | None = None  # "Priya Raman (coordinator) and Tom Okafor (chair)"
    # The Word file follows as a file consent card; whether a link is sent if it is declined.
    as_file: bool = False
    link_if_declined: bool = False


def render_minutes_ready(view: MinutesReadyView) -> Card:
    """Sent in 1:1 chat to each member who attended and may read them: the approved minutes
    as a Word document."""
    title = ready_title(view.meeting_label)
    body: list[Any] = [
        *heading(title, view.panel_name),
        facts(
            [
                ("Cases", str(view.cases)),
                ("Actions agreed", str(view.actions)),
                *([("Signed off by", view.signed_off)] if view.signed_off else []),
            ]
        ),
    ]
    actions: list[Any] = []
    if view.as_file:
        note = (
            "The Word document follows: allow it and Teams saves it in your OneDrive, where "
            "your organisation's retention and security policies apply."
        )
        if view.link_if_declined:
            note += " If you cannot save files, decline it and I send you a download link."
        else:
            note += " If you decline it, ask the coordinator to offer it again."
        body.append(paragraph(note, subtle=True))
    elif view.download_url:
        actions.append(ac.ActionOpenUrl(title=DOWNLOAD_BUTTON, url=view.download_url))
        note = "The link is yours: do not forward it."
        if view.expires:
            note += f" It works until {view.expires}."
        body.append(paragraph(note, subtle=True))
    else:
        body.append(
            paragraph(
                "Downloads are not set up here yet: ask the coordinator for the document.",
                subtle=True,
            )
        )
    return build(body, actions, fallback=title)


@dataclass(frozen=True)
class FileAnswerView:
    """What became of a file offered through Teams' file consent card."""

    meeting_label: str
    panel_name: str
    outcome: str  # "Saved in your OneDrive as Panel minutes 20 Nov 2026.docx."
    download_url: str | None = None
    expires: str | None = None  # "Sun 10 Jan 2027"


def render_file_answer(view: FileAnswerView) -> Card:
    """Put over the file consent card once it is answered (it cannot be answered twice),
    and sent when the file could not be saved: with a download link, where the panel
    allows links."""
    title = f"Minutes: {view.meeting_label}"
    body: list[Any] = [*heading(title, view.panel_name), paragraph(view.outcome)]
    actions: list[Any] = []
    if view.download_url:
        actions.append(ac.ActionOpenUrl(title=DOWNLOAD_BUTTON, url=view.download_url))
        note = "The link is yours: do not forward it."
        if view.expires:
            note += f" It works until {view.expires}."
        body.append(paragraph(note, subtle=True))
    return build(body, actions, fallback=title)
