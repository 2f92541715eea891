"""The panel, its agencies and members, and information-sharing agreement acceptance."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import new_id, require_aware
from bot.domain.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime

DEFAULT_TIMEZONE = "Europe/London"


@dataclass(kw_only=True)
class Panel:
    """One Community MARAC (a borough's panel), hosted in one Teams team."""

    id: str = field(default_factory=new_id)
    name: str
    team_id: str
    tenant_id: str
    channel_id: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    case_prefix: str = "CM"
    isa_version: str = "1"
    isa_text: str = ""
    created_at: datetime
    # Raised by storage whenever a transaction changes what the agenda is built from (the
    # panel, its agencies, cases, meetings, agenda items or actions), in every process that
    # shares the database; a key for caching such views, never set by a service.
    data_version: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if not self.name.strip():
            raise InvalidInput("A panel needs a name.", {"name": "required"})
        if not re.fullmatch(r"[A-Z]{1,6}", self.case_prefix):
            raise InvalidInput(
                "A case prefix is 1 to 6 capital letters.", {"case_prefix": "invalid"}
            )

    def case_reference(self, year: int, number: int) -> str:
        """The human reference of a case, e.g. CM-2026-014."""
        return f"{self.case_prefix}-{year}-{number:03d}"


class AgencyKind(StrEnum):
    CORE = "core"
    INVITED = "invited"


@dataclass(kw_only=True)
class Agency:
    """A partner agency; core agencies see every case, invited ones only theirs."""

    id: str = field(default_factory=new_id)
    panel_id: str
    name: str
    kind: AgencyKind = AgencyKind.CORE
    active: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("An agency needs a name.", {"name": "required"})


class Role(StrEnum):
    COORDINATOR = "coordinator"
    CHAIR = "chair"
    SPOC = "spoc"
    DEPUTY = "deputy"
    REFERRER = "referrer"


AGENCY_ROLES = frozenset({Role.SPOC, Role.DEPUTY})


@dataclass(kw_only=True)
class Member:
    """A Teams user's membership of one panel, with their roles there."""

    id: str = field(default_factory=new_id)
    panel_id: str
    aad_object_id: str
    name: str
    email: str | None = None
    agency_id: str | None = None
    roles: frozenset[Role] = frozenset()
    active: bool = True
    # A SPOC away until this date (inclusive) has their cards go to the agency's deputy.
    away_until: date | None = None
    # Added by a coordinator but not yet accepted: nothing of the panel reaches them, and
    # their private chat does not speak for the panel, until they accept the invitation.
    invited: bool = False
    # When the person last chose this panel to act for (someone on several panels).
    chosen_at: datetime | None = None
    # The id Teams gives the person in the bot's chats (an MRI, "29:…", an activity's
    # from.id), noted when they talk to the bot: a shared card's refresh names its readers so
    # (bot.kernel.views). None until they have.
    teams_user_id: str | None = None

    def __post_init__(self) -> None:
        if not self.aad_object_id.strip():
            raise InvalidInput("A member needs an Entra object id.", {"aad_object_id": "required"})
        if AGENCY_ROLES & self.roles and self.agency_id is None:
            raise InvalidInput(
                "A SPOC or deputy must belong to an agency.", {"agency_id": "required"}
            )

    def has(self, role: Role) -> bool:
        """Whether this member holds the role (and is still active)."""
        return self.active and role in self.roles

    def grant(self, role: Role, agency_id: str | None = None) -> None:
        """Give the member a role; SPOC and deputy roles need an agency."""
        if role in AGENCY_ROLES:
            agency = agency_id or self.agency_id
            if agency is None:
                raise InvalidInput(
                    "A SPOC or deputy must belong to an agency.", {"agency_id": "required"}
                )
            self.agency_id = agency
        self.roles = self.roles | {role}

    def revoke(self, role: Role) -> None:
        """Take a role away."""
        self.roles = self.roles - {role}

    def is_away_on(self, day: date) -> bool:
        """Whether the member said they are away on that day."""
        return self.away_until is not None and day <= self.away_until


def agency_contact(members: Iterable[Member], agency_id: str, day: date) -> Member | None:
    """Who receives an agency's cards on `day`: its SPOC, or the deputy while the SPOC is
    away (or when it has no SPOC); None when the agency has neither."""
    active = [m for m in members if m.active and m.agency_id == agency_id]
    spocs = sorted((m for m in active if Role.SPOC in m.roles), key=lambda m: m.name)
    deputies = sorted((m for m in active if Role.DEPUTY in m.roles), key=lambda m: m.name)
    present_spocs = [m for m in spocs if not m.is_away_on(day)]
    if present_spocs:
        return present_spocs[0]
    present_deputies = [m for m in deputies if not m.is_away_on(day)]
    if present_deputies:
        return present_deputies[0]
    return spocs[0] if spocs else (deputies[0] if deputies else None)


@dataclass(kw_only=True)
class IsaAcceptance:
    """A member accepted one version of the panel's information sharing agreement."""

    id: str = field(default_factory=new_id)
    panel_id: str
    member_id: str
    version: str
    accepted_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.accepted_at, "accepted_at")
