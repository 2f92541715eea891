"""The caller's own membership: panel, agency, roles, information sharing agreement."""

from __future__ import annotations

from dataclasses import dataclass

from cards.kit import Card, build, facts, heading, paragraph

WHOAMI_TITLE = "Your membership"


@dataclass(frozen=True)
class WhoAmIView:
    name: str
    panel_name: str
    agency_name: str | None
    roles: tuple[str, ...]
    isa_version: str
    isa_accepted_version: str | None
    isa_accepted_on: str | None


def render_whoami(view: WhoAmIView) -> Card:
    """Show what the panel knows of the caller and whether they may see case detail."""
    current = view.isa_accepted_version == view.isa_version
    if current:
        isa = f"accepted version {view.isa_version} on {view.isa_accepted_on}"
    elif view.isa_accepted_version:
        isa = f"version {view.isa_accepted_version} accepted; version {view.isa_version} is new"
    else:
        isa = "not accepted yet"
    body = [
        *heading(WHOAMI_TITLE, view.panel_name),
        facts(
            [
                ("Name", view.name),
                ("Agency", view.agency_name or "none"),
                ("Roles", ", ".join(view.roles) or "none yet"),
                ("Information sharing agreement", isa),
            ]
        ),
    ]
    if not current:
        body.append(
            paragraph(
                "You will see no case detail until you accept the current information "
                "sharing agreement.",
                attention=True,
            )
        )
    return build(body, fallback=WHOAMI_TITLE)
