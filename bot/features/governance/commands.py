"""What people ask of the governance feature, read and checked at the edge into frozen values.

Every typed argument and every value a card sends is attacker-controlled until it is read
here: the use cases take these commands and do not look at a card's data again. Card input
ids and data keys are the cards' own constants (cards.panels, cards.membership, cards.isa,
cards.audit), so the card that writes a value and the command that reads it cannot drift.

A form whose mistakes are shown on its card (adding a member or an agency, saving a member,
a new agreement) is read whole, as typed, so the card can show it back; what only storage
can tell (a member already there, an agency's name taken) is checked by the use case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.domain.panel import AgencyKind, Role
from cards.audit import BEFORE_KEY
from cards.isa import (
    AGREEMENT_VERSION_KEY,
    MAX_ISA_TEXT,
    MAX_VERSION,
    NEXT_KEY,
    TEXT_ID,
    VERSION_ID,
)
from cards.membership import (
    AGENCY_KIND_ID,
    AGENCY_NAME_ID,
    CONFIRM_KEY,
    EMAIL_ID,
    KIND_KEY,
    MAX_NAME,
    NEW_AGENCY_ID,
    NEW_EMAIL_ID,
    NEW_NAME_ID,
    NEW_ROLES_ID,
    PICKER_ID,
    ROLES_ID,
    SETUP_AGENCY_ID,
)
from cards.panels import PANEL_ID
from cards.verbs import AGENCY_ID_KEY, MEMBER_ID_KEY, REFERENCE_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping

ID_LIMIT = 64
ROLES_LIMIT = 200
MAX_EMAIL = 200
ISA_USAGE = "isa [set]"
CASE_USAGE = "case CM-2026-014"
AUDIT_USAGE = "audit [CM-2026-014 | RF-2026-0049]"
PANEL_CARD_OUT_OF_DATE = "This card is out of date. Type panel."
MEMBERS_CARD_UNREADABLE = "This card sent something I cannot read. Type members."
ISA_CARD_UNREADABLE = "This card sent something I cannot read. Type isa set."
ISA_NEXT_UNKNOWN = "This card's button sent nothing I understand. Type isa."
AUDIT_CARD_OUT_OF_DATE = "This card is out of date. Type audit and a case reference."
CHECK_ROLES = "Choose roles from the list."
# What accepting the agreement may go on to open: a typed command, or an information request.
NEXT_VERBS = frozenset({Verb.COMMAND.value, Verb.INFO_OPEN.value})
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# A Teams user id, which a people picker may send instead of the Entra object id (the Agents
# Playground's does): the team's roster says whose it is.
TEAMS_USER_ID = re.compile(r"^29:[A-Za-z0-9_.:-]{1,60}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ROLE_SEPARATORS = re.compile(r"[;|,/]+|\s+")


def form_text(data: Mapping[str, Any], name: str, limit: int, unreadable: str) -> str:
    """A form's text input, stripped and cut to one past `limit` (so the form can say it is
    too long); "" when absent; `unreadable` when the card sent something else than text.

    Not bot.kernel.inputs.text_field: that refuses overlong text outright, where these
    forms show it back on the card with the field's mistake."""
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(unreadable)
    return raw[: limit + 1].strip()


def parse_roles(raw: str) -> tuple[frozenset[Role], list[str]]:
    """Roles from a multi-select's value or a CSV cell; and the words that are no role."""
    roles: set[Role] = set()
    unknown: list[str] = []
    for word in _ROLE_SEPARATORS.split(raw.strip()):
        if not word:
            continue
        role = next((r for r in Role if r.value == word.casefold()), None)
        if role is None:
            unknown.append(word[:30])
        else:
            roles.add(role)
    return frozenset(roles), unknown


def email_problem(email: str) -> str | None:
    """What is wrong with an e-mail address given (none is fine)."""
    if email and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
        return "Not an e-mail address."
    return None


# --- panels: the caller's own memberships ---------------------------------------------------


@dataclass(frozen=True)
class ChoosePanel:
    """A panels card's button (act for, join, decline): the panel it names. The caller's
    membership of it is found by their Entra object id, never by this id alone."""

    panel_id: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ChoosePanel:
        panel_id = data.get(PANEL_ID)
        if not isinstance(panel_id, str) or not 0 < len(panel_id) <= ID_LIMIT:
            raise InvalidInput(PANEL_CARD_OUT_OF_DATE)
        return cls(panel_id)


# --- setting up, members and agencies ------------------------------------------------------


@dataclass(frozen=True)
class SetUpPanel:
    """`setup [panel name]`: the name given ("" for the default)."""

    name: str

    @classmethod
    def typed(cls, args: str) -> SetUpPanel:
        return cls(" ".join(args.split())[:MAX_NAME])


@dataclass(frozen=True)
class ListMembers:
    """`members [part of a name | import]`."""

    search: str

    @classmethod
    def typed(cls, args: str) -> ListMembers:
        return cls(" ".join(args.split())[:MAX_NAME])

    @property
    def import_help(self) -> bool:
        """`members import`: how to write the members' CSV file."""
        return self.search.casefold() == "import"


@dataclass(frozen=True)
class AddMember:
    """The members card's add form, as typed."""

    aad_object_id: str
    name: str
    email: str
    agency_id: str
    roles_text: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AddMember:
        def typed(name: str, limit: int) -> str:
            return form_text(data, name, limit, MEMBERS_CARD_UNREADABLE)

        return cls(
            aad_object_id=typed(PICKER_ID, ID_LIMIT),
            name=typed(NEW_NAME_ID, MAX_NAME),
            email=typed(NEW_EMAIL_ID, MAX_EMAIL),
            agency_id=typed(NEW_AGENCY_ID, ID_LIMIT),
            roles_text=typed(NEW_ROLES_ID, ROLES_LIMIT),
        )

    @property
    def roles(self) -> frozenset[Role]:
        return parse_roles(self.roles_text)[0]

    @property
    def teams_user_id(self) -> bool:
        """Whether the picker sent a Teams user id rather than an Entra object id."""
        return bool(TEAMS_USER_ID.match(self.aad_object_id))

    def values(self) -> dict[str, str]:
        """The form as typed, to show it back."""
        return {
            PICKER_ID: self.aad_object_id,
            NEW_NAME_ID: self.name,
            NEW_EMAIL_ID: self.email,
            NEW_AGENCY_ID: self.agency_id,
            NEW_ROLES_ID: self.roles_text,
        }

    def errors(self) -> dict[str, str]:
        """The form's mistakes that need no storage to see, by input id."""
        errors: dict[str, str] = {}
        if not GUID.match(self.aad_object_id) and not self.teams_user_id:
            errors[PICKER_ID] = "Choose the person in the picker."
        email_error = email_problem(self.email)
        if email_error:
            errors[NEW_EMAIL_ID] = email_error
        if parse_roles(self.roles_text)[1]:
            errors[NEW_ROLES_ID] = CHECK_ROLES
        return errors


def _member_id(data: Mapping[str, Any]) -> str:
    return form_text(data, MEMBER_ID_KEY, ID_LIMIT, MEMBERS_CARD_UNREADABLE)


@dataclass(frozen=True)
class OpenMember:
    """A button naming one member: their card (Change, Keep them), or Add back."""

    member_id: str  # "" when the card named none

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> OpenMember:
        return cls(_member_id(data))


@dataclass(frozen=True)
class RemoveMember:
    """Remove from the panel; `confirmed` on the card's second button."""

    member_id: str
    confirmed: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> RemoveMember:
        return cls(_member_id(data), data.get(CONFIRM_KEY) is True)


@dataclass(frozen=True)
class SaveMember:
    """One member's card: their e-mail, agency and roles, as chosen."""

    member_id: str
    email: str
    agency_id: str
    roles: frozenset[Role]
    unknown_roles: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SaveMember:
        def typed(name: str, limit: int) -> str:
            return form_text(data, name, limit, MEMBERS_CARD_UNREADABLE)

        email = typed(EMAIL_ID, MAX_EMAIL)
        roles, unknown = parse_roles(typed(ROLES_ID, ROLES_LIMIT))
        return cls(
            member_id=_member_id(data),
            email=email,
            agency_id=typed(AGENCY_ID_KEY, ID_LIMIT),
            roles=roles,
            unknown_roles=bool(unknown),
        )


@dataclass(frozen=True)
class AddAgency:
    """The agencies card's add form, as typed."""

    name: str
    kind_text: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AddAgency:
        name = " ".join(form_text(data, AGENCY_NAME_ID, MAX_NAME, MEMBERS_CARD_UNREADABLE).split())
        kind = form_text(data, AGENCY_KIND_ID, 20, MEMBERS_CARD_UNREADABLE)
        return cls(name, kind or AgencyKind.CORE.value)

    @property
    def kind(self) -> AgencyKind | None:
        return next((k for k in AgencyKind if k.value == self.kind_text), None)

    def values(self) -> dict[str, str]:
        """The form as typed, to show it back."""
        return {AGENCY_NAME_ID: self.name, AGENCY_KIND_ID: self.kind_text}

    def errors(self) -> dict[str, str]:
        """The form's mistakes that need no storage to see, by input id."""
        errors: dict[str, str] = {}
        if not self.name:
            errors[AGENCY_NAME_ID] = "Name the agency."
        elif len(self.name) > MAX_NAME:
            errors[AGENCY_NAME_ID] = f"Keep the name under {MAX_NAME} characters."
        if self.kind is None:
            errors[AGENCY_KIND_ID] = "Choose core or invited."
        return errors


@dataclass(frozen=True)
class SetMyAgency:
    """The setup card's "Your agency": one of the panel's agencies, or a new one."""

    agency_id: str
    new: AddAgency

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SetMyAgency:
        agency_id = form_text(data, SETUP_AGENCY_ID, ID_LIMIT, MEMBERS_CARD_UNREADABLE)
        return cls(agency_id, AddAgency.of(data))

    def values(self) -> dict[str, str]:
        """The form as typed, to show it back."""
        return {SETUP_AGENCY_ID: self.agency_id, **self.new.values()}

    def errors(self) -> dict[str, str]:
        """What is wrong with the form that needs no storage to see, by input id."""
        if self.agency_id:
            return {}
        if not self.new.name:
            return {AGENCY_NAME_ID: "Choose your agency, or name a new one."}
        return self.new.errors()


@dataclass(frozen=True)
class ChangeAgencyKind:
    """An agency's button: make it core, or invited."""

    agency_id: str
    kind: AgencyKind | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ChangeAgencyKind:
        kind = next((k for k in AgencyKind if k.value == data.get(KIND_KEY)), None)
        return cls(form_text(data, AGENCY_ID_KEY, ID_LIMIT, MEMBERS_CARD_UNREADABLE), kind)


# --- the agreement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowAgreement:
    """`isa` (the agreement and the caller's status) or `isa set` (the coordinator's form)."""

    set_form: bool

    @classmethod
    def typed(cls, args: str) -> ShowAgreement:
        sub = args.strip().lower()
        if sub not in ("", "set"):
            raise InvalidInput(f"Write it as: {ISA_USAGE}.")
        return cls(sub == "set")


@dataclass(frozen=True)
class AcceptAgreement:
    """The Accept button: the version it was shown (None if the card sent none) and what
    accepting goes on to open, if anything."""

    version: str | None
    next_step: Mapping[str, Any] | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AcceptAgreement:
        raw = data.get(NEXT_KEY)
        next_step: dict[str, Any] | None = None
        if raw is not None:
            if (
                not isinstance(raw, dict)
                or raw.get("verb") not in NEXT_VERBS
                or len(str(raw)) > 500
            ):
                raise InvalidInput(ISA_NEXT_UNKNOWN)
            next_step = dict(raw)
        version = data.get(AGREEMENT_VERSION_KEY)
        return cls(version if isinstance(version, str) else None, next_step)


@dataclass(frozen=True)
class SaveAgreement:
    """The coordinator's form: a new version's name and text, as typed."""

    version: str
    text: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> SaveAgreement:
        return cls(
            form_text(data, VERSION_ID, MAX_VERSION, ISA_CARD_UNREADABLE),
            form_text(data, TEXT_ID, MAX_ISA_TEXT, ISA_CARD_UNREADABLE),
        )

    def errors(self, current_version: str) -> dict[str, str]:
        """What is wrong with the form, by input id."""
        errors: dict[str, str] = {}
        version, text = self.version, self.text
        if not version or len(version) > MAX_VERSION or not _VERSION.match(version):
            errors[VERSION_ID] = (
                f"Up to {MAX_VERSION} letters, digits, dots or dashes, e.g. 3 or 2026-12."
            )
        elif version == current_version:
            errors[VERSION_ID] = "This is the current version: give the new one another name."
        if not text:
            errors[TEXT_ID] = "Write the agreement."
        elif len(text) > MAX_ISA_TEXT:
            errors[TEXT_ID] = f"Keep the agreement under {MAX_ISA_TEXT} characters."
        return errors


# --- the case view and the audit trail -------------------------------------------------------


@dataclass(frozen=True)
class ShowCase:
    """`case CM-2026-014`."""

    reference: str

    @classmethod
    def typed(cls, args: str) -> ShowCase:
        words = args.split()
        if len(words) != 1:
            raise InvalidInput(f"Write it as: {CASE_USAGE}.")
        return cls(words[0][:40].upper())


@dataclass(frozen=True)
class ShowTrail:
    """One page of an audit trail: a case's or referral's ("" for the panel's), the first
    page or the one after the event `before`."""

    reference: str
    before: str | None = None

    @classmethod
    def typed(cls, args: str) -> ShowTrail:
        """`audit`, `audit CM-2026-014`."""
        words = args.split()
        if len(words) > 1:
            raise InvalidInput(f"Write it as: {AUDIT_USAGE}.")
        return cls(words[0][:40].upper() if words else "")

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ShowTrail:
        """The Older events button."""
        reference = data.get(REFERENCE_KEY)
        before = data.get(BEFORE_KEY)
        if not isinstance(reference, str) or not isinstance(before, str) or len(before) > 64:
            raise InvalidInput(AUDIT_CARD_OUT_OF_DATE)
        return cls(reference[:40], before)
