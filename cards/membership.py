"""Setting the panel up and keeping its members and agencies: the coordinator's cards.

The "add a member" form carries Teams' people picker. The 1.5 schema (and adaptive-cards-py)
do not know its `choices.data`, so the card is rendered without it, validated, and
`with_people_picker` adds it to the card that is sent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, command_button, facts, heading, paragraph
from cards.verbs import AGENCY_ID_KEY, MEMBER_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SETUP_TITLE = "Panel set up"
MEMBERS_TITLE = "Panel members"
AGENCIES_TITLE = "Agencies"
ADD_MEMBER_BUTTON = "Add a member"
ADD_MEMBER_CONFIRM = "Add to the panel"
ADD_AGENCY_BUTTON = "Add an agency"
ADD_AGENCY_CONFIRM = "Add the agency"
SAVE_MEMBER_BUTTON = "Save changes"
REMOVE_MEMBER_BUTTON = "Remove from the panel"
CONFIRM_REMOVE_BUTTON = "Yes, remove"
RESTORE_MEMBER_BUTTON = "Add back to the panel"
BACK_TO_MEMBERS = "Back to the members"
IMPORTED_TITLE = "Members imported"
NOT_IMPORTED_TITLE = "Nothing was imported"
IMPORT_HELP_TITLE = "Import members from a CSV file"
# Input ids and data keys: written by these cards, read back by
# bot.features.governance.commands (MEMBER_ID_KEY and AGENCY_ID_KEY also name what a button
# concerns to the guard's targets).
PICKER_ID = "new_member"  # the add form's people picker: the person's Entra object id
NEW_NAME_ID = "new_name"
NEW_EMAIL_ID = "new_email"
NEW_AGENCY_ID = "new_agency"
NEW_ROLES_ID = "new_roles"
EMAIL_ID = "email"
ROLES_ID = "roles"
CONFIRM_KEY = "confirm"  # True on the button that confirms a removal
AGENCY_NAME_ID = "agency_name"
AGENCY_KIND_ID = "agency_kind"
KIND_KEY = "kind"  # the kind an agency's button makes it: "core" or "invited"
# The members file's columns, as the import help names them and the import reads them.
CSV_NAME = "name"
CSV_EMAIL = "email"
CSV_AAD = "aad_object_id"
CSV_AGENCY = "agency"
CSV_ROLES = "roles"
CSV_COLUMNS = (CSV_NAME, CSV_EMAIL, CSV_AAD, CSV_AGENCY, CSV_ROLES)
PEOPLE_PICKER = {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
MAX_LINES = 30
MAX_NAME = 100


def change_button_title(name: str) -> str:
    """The button that opens one member's card, e.g. "Change Gemma Hartley"."""
    return f"Change {name}"


def kind_button_title(name: str, to_core: bool) -> str:
    """e.g. "Make Riverside Fire and Rescue core"."""
    return f"Make {name} {'core' if to_core else 'invited'}"


@dataclass(frozen=True)
class Choice:
    value: str
    title: str


def _choices(choices: Sequence[Choice]) -> list[Any]:
    return [ac.InputChoice(title=c.title, value=c.value) for c in choices]


def _errors(errors: Mapping[str, str], name: str) -> list[Any]:
    message = errors.get(name)
    return [paragraph(message, attention=True)] if message else []


def _execute(title: str, verb: Verb, data: Mapping[str, Any], positive: bool = False) -> Any:
    return ac.ActionExecute(
        title=title,
        verb=verb.value,
        data=dict(data),
        style=t.ActionStyle.POSITIVE if positive else None,
    )


# ---- setup ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupView:
    panel_name: str
    coordinator: str
    # The panel's next meeting, planned at setup from its schedule ("Tue 12 Jan 2027,
    # 10:00"), and how many are planned.
    next_meeting: str | None = None
    meetings_planned: int = 0


def render_setup(view: SetupView) -> Card:
    """Posted in the team channel: the panel exists and its next meetings are planned; the
    coordinator's agency and the next steps happen in private chat."""
    pairs = [("Panel", view.panel_name), ("Coordinator", view.coordinator)]
    if view.next_meeting:
        planned = f" ({view.meetings_planned} planned)" if view.meetings_planned > 1 else ""
        pairs.append(("Next meeting", view.next_meeting + planned))
    body = [
        *heading(SETUP_TITLE, view.panel_name),
        facts(pairs),
        paragraph(
            "This team is now the panel's home. In this channel I post only case references, "
            "risk levels and counts. In a private chat with me the coordinator gives their "
            "agency on the card I sent them (or types agency), then adds the agencies "
            "(agencies), the members (members) and the information sharing agreement (isa "
            "set); schedule shows the meetings."
        ),
    ]
    return build(body, [command_button("Show what I can do", "help")], fallback=SETUP_TITLE)


MY_AGENCY_TITLE = "Your agency"
SETUP_AGENCY_BUTTON = "Save my agency"
SETUP_AGENCY_ID = "setup_agency_id"


@dataclass(frozen=True)
class MyAgencyView:
    """The card the coordinator who set the panel up gets in private: her agency."""

    panel_name: str
    # Her agency, once given; until then the card asks for it.
    agency: str | None = None
    # The panel's agencies she may choose from (none on a panel just set up).
    agencies: Sequence[Choice] = ()
    notice: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def _my_agency_form(view: MyAgencyView) -> list[Any]:
    items: list[Any] = []
    if view.agencies:
        items += [
            ac.InputChoiceSet(
                id=SETUP_AGENCY_ID,
                label="One of the panel's agencies",
                choices=_choices(view.agencies),
                value=view.values.get(SETUP_AGENCY_ID) or None,
                style=t.ChoiceInputStyle.COMPACT,
                placeholder="A new agency, named below",
            ),
            *_errors(view.errors, SETUP_AGENCY_ID),
        ]
    return [
        *items,
        ac.InputText(
            id=AGENCY_NAME_ID,
            label="A new agency's name",
            value=view.values.get(AGENCY_NAME_ID) or None,
            max_length=MAX_NAME,
            placeholder="e.g. Community Safety (Eastborough Council)",
        ),
        *_errors(view.errors, AGENCY_NAME_ID),
        *_kind_inputs(view.values, view.errors),
    ]


def render_my_agency(view: MyAgencyView) -> Card:
    """The coordinator's agency: asked once, after setup, in her private chat."""
    body: list[Any] = [*heading(MY_AGENCY_TITLE, view.panel_name)]
    if view.notice:
        body.append(paragraph(view.notice, attention=bool(view.errors)))
    if view.agency is not None:
        body += [
            facts([("Your agency", view.agency)]),
            paragraph(
                "Next: add the panel's other agencies (agencies), its members (members) and "
                "its information sharing agreement (isa set)."
            ),
        ]
        return build(
            body,
            [command_button("Agencies", "agencies"), command_button("Members", "members")],
            fallback=MY_AGENCY_TITLE,
        )
    body += [
        paragraph(
            "Which agency do you work for? Choose it, or name a new one: it becomes one of "
            "the panel's agencies. Members and cases show it beside your name."
        ),
        *_my_agency_form(view),
    ]
    save = _execute(SETUP_AGENCY_BUTTON, Verb.SETUP_AGENCY, {}, positive=True)
    return build(body, [save], fallback=MY_AGENCY_TITLE)


# ---- members --------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    member_id: str
    name: str
    agency: str | None
    roles: Sequence[str]
    agreement: str  # "accepted v2", "v1 (outdated)", "not accepted"
    active: bool = True


@dataclass(frozen=True)
class MembersView:
    panel_name: str
    lines: Sequence[MemberLine]
    agencies: Sequence[Choice]
    roles: Sequence[Choice]
    notice: str | None = None
    # The add form after a refused click: open, with what was typed and what is wrong.
    open_add: bool = False
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def _add_form(view: MembersView) -> list[Any]:
    values, errors = view.values, view.errors
    return [
        ac.InputChoiceSet(
            id=PICKER_ID,
            label="Person (search your organisation)",
            choices=[],
            value=values.get(PICKER_ID) or None,
            is_required=True,
            error_message="Choose the person.",
        ),
        *_errors(errors, PICKER_ID),
        ac.InputText(
            id=NEW_NAME_ID,
            label="Name (if Teams does not show it)",
            value=values.get(NEW_NAME_ID) or None,
            max_length=MAX_NAME,
        ),
        *_errors(errors, NEW_NAME_ID),
        ac.InputText(
            id=NEW_EMAIL_ID,
            label="E-mail (optional)",
            value=values.get(NEW_EMAIL_ID) or None,
            max_length=200,
        ),
        *_errors(errors, NEW_EMAIL_ID),
        ac.InputChoiceSet(
            id=NEW_AGENCY_ID,
            label="Agency",
            choices=_choices(view.agencies),
            value=values.get(NEW_AGENCY_ID) or None,
            style=t.ChoiceInputStyle.COMPACT,
            placeholder="No agency",
        ),
        *_errors(errors, NEW_AGENCY_ID),
        ac.InputChoiceSet(
            id=NEW_ROLES_ID,
            label="Roles",
            choices=_choices(view.roles),
            value=values.get(NEW_ROLES_ID) or None,
            is_multi_select=True,
            style=t.ChoiceInputStyle.EXPANDED,
        ),
        *_errors(errors, NEW_ROLES_ID),
    ]


def _member_line(line: MemberLine) -> Any:
    agency = line.agency or "no agency"
    roles = ", ".join(line.roles) or "no role yet"
    gone = " · **removed**" if not line.active else ""
    return ac.Container(
        items=[
            paragraph(f"**{line.name}** · {agency} · {roles} · agreement {line.agreement}{gone}"),
            ac.ActionSet(
                actions=[
                    _execute(
                        change_button_title(line.name),
                        Verb.MEMBERS_EDIT,
                        {MEMBER_ID_KEY: line.member_id},
                    )
                ]
            ),
        ],
        separator=True,
    )


def render_members(view: MembersView) -> Card:
    """Every member with agency, roles and agreement status, and a form to add one."""
    body: list[Any] = [*heading(MEMBERS_TITLE, view.panel_name)]
    if view.notice:
        body.append(paragraph(view.notice, attention=not view.errors and not view.open_add))
    if not view.lines:
        body.append(paragraph("The panel has no members yet."))
    body += [_member_line(line) for line in view.lines[:MAX_LINES]]
    if len(view.lines) > MAX_LINES:
        body.append(
            paragraph(
                f"… and {len(view.lines) - MAX_LINES} more. Type members and part of a name "
                "to find one.",
                subtle=True,
            )
        )
    body.append(
        paragraph(
            "To add many at once, send me a CSV file here with the columns "
            f"{', '.join(CSV_COLUMNS[:-1])} and {CSV_COLUMNS[-1]} (type members import for the "
            "details).",
            subtle=True,
        )
    )
    confirm = _execute(ADD_MEMBER_CONFIRM, Verb.MEMBERS_ADD, {}, positive=True)
    actions: list[Any] = []
    if view.open_add:
        body.append(
            ac.Container(
                items=[
                    paragraph(f"**{ADD_MEMBER_BUTTON}**"),
                    *_add_form(view),
                    ac.ActionSet(actions=[confirm]),
                ],
                style=t.ContainerStyle.EMPHASIS,
                separator=True,
            )
        )
    else:
        form = ac.AdaptiveCard.new().add_items(_add_form(view)).add_actions([confirm]).create()
        actions.append(ac.ActionShowCard(title=ADD_MEMBER_BUTTON, card=form))
    actions.append(command_button("Agencies", "agencies"))
    return build(body, actions, fallback=MEMBERS_TITLE, full_width=True)


def with_people_picker(card: Card) -> Card:
    """The card as sent to Teams: the person input becomes the people picker (a Teams
    extension the 1.5 schema does not know, so it is added after validation)."""
    sent = copy.deepcopy(card)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.ChoiceSet" and node.get("id") == PICKER_ID:
                node["choices.data"] = dict(PEOPLE_PICKER)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(sent)
    return sent


@dataclass(frozen=True)
class MemberView:
    panel_name: str
    member_id: str
    name: str
    email: str | None
    agency_id: str | None
    roles: Sequence[str]
    agreement: str
    active: bool
    agencies: Sequence[Choice]
    role_choices: Sequence[Choice]
    errors: Mapping[str, str] = field(default_factory=dict)
    notice: str | None = None
    confirm_remove: bool = False


def member_title(name: str) -> str:
    """The heading of one member's card."""
    return f"Member: {name}"


def render_member(view: MemberView) -> Card:
    """One member: change their agency, roles and e-mail; remove them or add them back."""
    title = member_title(view.name)
    body: list[Any] = [*heading(title, view.panel_name)]
    data = {MEMBER_ID_KEY: view.member_id}
    back = _execute(BACK_TO_MEMBERS, Verb.MEMBERS_LIST, {})
    if view.notice:
        body.append(paragraph(view.notice, attention=bool(view.errors)))
    if view.confirm_remove:
        body.append(
            paragraph(
                f"Remove {view.name} from the panel? They will see nothing of it from now on. "
                "What they did stays on record, and you can add them back later."
            )
        )
        remove = _execute(CONFIRM_REMOVE_BUTTON, Verb.MEMBERS_REMOVE, {**data, CONFIRM_KEY: True})
        return build(body, [remove, _execute("Keep them", Verb.MEMBERS_EDIT, data)], fallback=title)
    body.append(
        facts(
            [
                ("Agreement", view.agreement),
                ("Status", "member" if view.active else "removed from the panel"),
            ]
        )
    )
    if not view.active:
        restore = _execute(RESTORE_MEMBER_BUTTON, Verb.MEMBERS_RESTORE, data, positive=True)
        return build(body, [restore, back], fallback=title)
    body += [
        ac.InputText(id=EMAIL_ID, label="E-mail", value=view.email or None, max_length=200),
        *_errors(view.errors, EMAIL_ID),
        ac.InputChoiceSet(
            id=AGENCY_ID_KEY,
            label="Agency",
            choices=_choices(view.agencies),
            value=view.agency_id or None,
            style=t.ChoiceInputStyle.COMPACT,
            placeholder="No agency",
        ),
        *_errors(view.errors, AGENCY_ID_KEY),
        ac.InputChoiceSet(
            id=ROLES_ID,
            label="Roles",
            choices=_choices(view.role_choices),
            value=",".join(view.roles) or None,
            is_multi_select=True,
            style=t.ChoiceInputStyle.EXPANDED,
        ),
        *_errors(view.errors, ROLES_ID),
    ]
    actions = [
        _execute(SAVE_MEMBER_BUTTON, Verb.MEMBERS_SAVE, data, positive=True),
        _execute(REMOVE_MEMBER_BUTTON, Verb.MEMBERS_REMOVE, data),
        back,
    ]
    return build(body, actions, fallback=title)


# ---- agencies -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyLine:
    agency_id: str
    name: str
    core: bool
    members: int


@dataclass(frozen=True)
class AgenciesView:
    panel_name: str
    lines: Sequence[AgencyLine]
    notice: str | None = None
    open_add: bool = False
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


KIND_CHOICES = (
    Choice("core", "Core: sees every case"),
    Choice("invited", "Invited: sees only the cases it is invited to"),
)


def _kind_inputs(values: Mapping[str, str], errors: Mapping[str, str]) -> list[Any]:
    """A new agency's kind, core unless chosen otherwise, with its error if any."""
    return [
        ac.InputChoiceSet(
            id=AGENCY_KIND_ID,
            label="Kind",
            choices=_choices(KIND_CHOICES),
            value=values.get(AGENCY_KIND_ID) or "core",
            style=t.ChoiceInputStyle.EXPANDED,
        ),
        *_errors(errors, AGENCY_KIND_ID),
    ]


def _agency_form(view: AgenciesView) -> list[Any]:
    return [
        ac.InputText(
            id=AGENCY_NAME_ID,
            label="Agency name",
            value=view.values.get(AGENCY_NAME_ID) or None,
            max_length=MAX_NAME,
            is_required=True,
            error_message="Name the agency.",
        ),
        *_errors(view.errors, AGENCY_NAME_ID),
        *_kind_inputs(view.values, view.errors),
    ]


def render_agencies(view: AgenciesView) -> Card:
    """The panel's agencies, core or invited, each with a button to change that."""
    body: list[Any] = [*heading(AGENCIES_TITLE, view.panel_name)]
    if view.notice:
        body.append(paragraph(view.notice, attention=bool(view.errors)))
    body.append(
        paragraph(
            "Core agencies see every case; an invited agency sees only the cases it is "
            "invited to (and those it owns an action on).",
            subtle=True,
        )
    )
    if not view.lines:
        body.append(paragraph("The panel has no agencies yet."))
    for line in view.lines[:MAX_LINES]:
        kind = "core" if line.core else "invited"
        people = "1 member" if line.members == 1 else f"{line.members} members"
        body.append(
            ac.Container(
                items=[
                    paragraph(f"**{line.name}** · {kind} · {people}"),
                    ac.ActionSet(
                        actions=[
                            _execute(
                                kind_button_title(line.name, not line.core),
                                Verb.AGENCIES_KIND,
                                {
                                    AGENCY_ID_KEY: line.agency_id,
                                    KIND_KEY: "invited" if line.core else "core",
                                },
                            )
                        ]
                    ),
                ],
                separator=True,
            )
        )
    confirm = _execute(ADD_AGENCY_CONFIRM, Verb.AGENCIES_ADD, {}, positive=True)
    actions: list[Any] = []
    if view.open_add:
        body.append(
            ac.Container(
                items=[
                    paragraph(f"**{ADD_AGENCY_BUTTON}**"),
                    *_agency_form(view),
                    ac.ActionSet(actions=[confirm]),
                ],
                style=t.ContainerStyle.EMPHASIS,
                separator=True,
            )
        )
    else:
        form = ac.AdaptiveCard.new().add_items(_agency_form(view)).add_actions([confirm]).create()
        actions.append(ac.ActionShowCard(title=ADD_AGENCY_BUTTON, card=form))
    actions.append(command_button("Members", "members"))
    return build(body, actions, fallback=AGENCIES_TITLE, full_width=True)


# ---- CSV import -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedView:
    panel_name: str
    added: int
    updated: int


def render_imported(view: ImportedView) -> Card:
    """The import went through, all of it."""
    body = [
        *heading(IMPORTED_TITLE, view.panel_name),
        facts([("Added", str(view.added)), ("Updated", str(view.updated))]),
        paragraph(
            "Each new member is asked to accept the information sharing agreement the first "
            "time they ask for case detail.",
            subtle=True,
        ),
    ]
    return build(body, [command_button("Show the members", "members")], fallback=IMPORTED_TITLE)


@dataclass(frozen=True)
class ImportErrorLine:
    line: int  # 0: the file as a whole
    column: str
    message: str


@dataclass(frozen=True)
class ImportRefusedView:
    panel_name: str
    file_name: str
    errors: Sequence[ImportErrorLine]
    rows: int


def render_import_refused(view: ImportRefusedView) -> Card:
    """Nothing was imported; each problem with its line, to fix and send again."""
    body: list[Any] = [
        *heading(NOT_IMPORTED_TITLE, f"{view.panel_name} · {view.file_name}"),
        paragraph(
            f"The file has {view.rows} rows and {len(view.errors)} problems. Fix them and send "
            "the file again: it is imported whole or not at all."
        ),
    ]
    for error in view.errors[:MAX_LINES]:
        where = f"Line {error.line}" if error.line else "The file"
        column = f", {error.column}" if error.column else ""
        body.append(paragraph(f"**{where}{column}**: {error.message}"))
    if len(view.errors) > MAX_LINES:
        body.append(paragraph(f"… and {len(view.errors) - MAX_LINES} more.", subtle=True))
    return build(body, fallback=NOT_IMPORTED_TITLE)


CSV_MEANINGS = (
    "the person's name (required)",
    "their work e-mail (optional)",
    "their Entra object id (required), as in Entra admin",
    "one of the panel's agencies, as named below (needed for a SPOC or deputy)",
    "any of coordinator, chair, spoc, deputy, referrer, separated by ; or |",
)


def render_import_help(panel_name: str, agencies: Sequence[str]) -> Card:
    """How to write the CSV file."""
    body = [
        *heading(IMPORT_HELP_TITLE, panel_name),
        paragraph(
            "Send me the file here in our private chat. The first line names the columns: "
            f"{', '.join(CSV_COLUMNS)}."
        ),
        facts(list(zip(CSV_COLUMNS, CSV_MEANINGS, strict=True))),
        paragraph("Agencies: " + ("; ".join(agencies) or "none yet: add them first"), subtle=True),
        paragraph(
            "A person already on the panel is updated. If any line is wrong, nothing is "
            "imported and I list what to fix.",
            subtle=True,
        ),
    ]
    return build(body, fallback=IMPORT_HELP_TITLE)
