"""The panel's information sharing agreement: reading and accepting it, and changing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, facts, heading, paragraph
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ISA_TITLE = "Information sharing agreement"
NEEDED_TITLE = "Accept the information sharing agreement first"
ACCEPT_BUTTON = "I accept the agreement"
ACCEPT_AND_CONTINUE = "Accept and continue"
ACCEPTED_TITLE = "Agreement accepted"
SET_TITLE = "Change the information sharing agreement"
SAVE_BUTTON = "Save and ask everyone to accept it"
SAVED_TITLE = "New agreement saved"
# The agreement's text is shown whole on the card, so it is kept to what a card can carry.
MAX_ISA_TEXT = 6000
MAX_VERSION = 32
# Data keys and input ids: written by these cards, read back by
# bot.features.governance.commands.
AGREEMENT_VERSION_KEY = "version"  # the version the Accept button was shown
NEXT_KEY = "next"  # the verb (and its data) accepting goes on to run
VERSION_ID = "isa_version"  # the coordinator's form: the new version's name
TEXT_ID = "isa_text"  # and its text


@dataclass(frozen=True)
class IsaView:
    """The agreement as one member sees it, and what accepting it leads to."""

    panel_name: str
    version: str
    text: str
    accepted_version: str | None
    accepted_on: str | None
    # Why it is shown: the person asked for something that needs it (None: they asked
    # to read it). `title` and `facts` then say what is waiting, without case detail.
    reason: str | None = None
    title: str | None = None
    facts: Sequence[tuple[str, str]] = ()
    # The verb (and its data) to run once accepted, e.g. {"verb": "command", "command":
    # "case CM-2026-014"}: accepting opens what was asked for.
    next_step: Mapping[str, Any] | None = None
    notice: str | None = None

    @property
    def accepted(self) -> bool:
        return self.accepted_version == self.version


def _status(view: IsaView) -> str:
    if view.accepted:
        return f"You accepted version {view.version} on {view.accepted_on}."
    if view.accepted_version:
        return (
            f"You accepted version {view.accepted_version}; version {view.version} is new and "
            "needs your acceptance."
        )
    return f"You have not accepted version {view.version} yet."


def render_isa(view: IsaView) -> Card:
    """The agreement's text with the member's status and, until accepted, the Accept button."""
    title = view.title or (NEEDED_TITLE if view.reason else ISA_TITLE)
    body: list[Any] = [*heading(title, f"{view.panel_name} · version {view.version}")]
    if view.notice:
        body.append(paragraph(view.notice, attention=True))
    if view.facts:
        body.append(facts(view.facts))
    if view.reason:
        body.append(paragraph(view.reason, attention=True))
    body += [
        ac.Container(
            items=[paragraph(f"**{ISA_TITLE}**"), paragraph(view.text[:MAX_ISA_TEXT])],
            style=t.ContainerStyle.EMPHASIS,
            separator=True,
        ),
        paragraph(_status(view), subtle=True),
    ]
    actions: list[Any] = []
    if not view.accepted or view.next_step:
        data: dict[str, Any] = {AGREEMENT_VERSION_KEY: view.version}
        if view.next_step:
            data[NEXT_KEY] = dict(view.next_step)
        actions.append(
            ac.ActionExecute(
                title=ACCEPT_AND_CONTINUE if view.next_step else ACCEPT_BUTTON,
                verb=Verb.ISA_ACCEPT.value,
                data=data,
                style=t.ActionStyle.POSITIVE,
            )
        )
    return build(body, actions, fallback=title)


@dataclass(frozen=True)
class AcceptedView:
    panel_name: str
    version: str
    accepted_on: str


def render_isa_accepted(view: AcceptedView) -> Card:
    """Shown in place of the agreement once accepted."""
    body = [
        *heading(ACCEPTED_TITLE, view.panel_name),
        facts([("Version", view.version), ("Accepted", view.accepted_on)]),
        paragraph(
            "Thank you. You can now see the case detail your role and agency need. Keep it "
            "confidential and share it only as the agreement allows.",
            subtle=True,
        ),
    ]
    return build(body, fallback=ACCEPTED_TITLE)


@dataclass(frozen=True)
class IsaSetView:
    """The coordinator's form for a new version of the agreement."""

    panel_name: str
    current_version: str
    version: str
    text: str
    errors: Mapping[str, str] = field(default_factory=dict)


def _error(view: IsaSetView, name: str) -> list[Any]:
    message = view.errors.get(name)
    return [paragraph(message, attention=True)] if message else []


def render_isa_set(view: IsaSetView) -> Card:
    """A new version and text; saving asks every member to accept it again."""
    body: list[Any] = [
        *heading(SET_TITLE, f"{view.panel_name} · now version {view.current_version}"),
        paragraph(
            "Saving a new version asks every member to accept it: until they do, they see "
            "no case detail."
        ),
        ac.InputText(
            id=VERSION_ID,
            label="New version",
            value=view.version,
            max_length=MAX_VERSION,
            is_required=True,
            error_message="Give the new version a name, e.g. 3 or 2026-12.",
        ),
        *_error(view, VERSION_ID),
        ac.InputText(
            id=TEXT_ID,
            label="The agreement",
            value=view.text,
            is_multiline=True,
            max_length=MAX_ISA_TEXT,
            is_required=True,
            error_message="Write the agreement.",
        ),
        *_error(view, TEXT_ID),
    ]
    save = ac.ActionExecute(title=SAVE_BUTTON, verb=Verb.ISA_SAVE.value, data={})
    return build(body, [save], fallback=SET_TITLE)


@dataclass(frozen=True)
class IsaSavedView:
    panel_name: str
    version: str
    asked: int


def render_isa_saved(view: IsaSavedView) -> Card:
    """What the coordinator sees once a new version is saved."""
    body = [
        *heading(SAVED_TITLE, view.panel_name),
        facts([("Version", view.version), ("Members asked to accept it", str(view.asked))]),
        paragraph(
            "Each member gets the new agreement in their private chat; until they accept it "
            "they see no case detail.",
            subtle=True,
        ),
    ]
    return build(body, fallback=SAVED_TITLE)
