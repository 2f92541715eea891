"""The help feature's cards rendered with invented data, for the card gallery and the card
tests: help as different people see it (from the app's router), the welcomes and whoami."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.delivery import ConversationKind
from bot.domain.panel import Role
from bot.features.help.views import help_view, short_help_view
from cards.help import render_help, render_short_help
from cards.welcome import Installer, WelcomeView, render_welcome
from cards.whoami import WhoAmIView, render_whoami

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.router import Router
    from cards.kit import Card

DEMO_PANEL = "Riverside Community MARAC"
INSTALLER = Installer("Priya Raman", "29:3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d01")


def _help(router: Router, roles: frozenset[Role], kind: ConversationKind, panel: bool) -> Card:
    return render_help(help_view(router, roles, kind, DEMO_PANEL if panel else None))


def _short(
    router: Router, roles: frozenset[Role], kind: ConversationKind, typed: str, member: bool
) -> Card:
    return render_short_help(short_help_view(router, roles, kind, typed=typed, member=member))


def gallery(router: Router) -> Mapping[str, Card]:
    """Help (as the app's router lists the commands), the welcomes and whoami, with
    invented data."""
    cards: dict[str, Card] = {
        "help-newcomer": _help(router, frozenset(), ConversationKind.PERSONAL, panel=False),
        "help-coordinator": _help(
            router, frozenset({Role.COORDINATOR}), ConversationKind.PERSONAL, panel=True
        ),
        "help-spoc": _help(router, frozenset({Role.SPOC}), ConversationKind.PERSONAL, panel=True),
        "help-channel": _help(
            router, frozenset({Role.CHAIR}), ConversationKind.CHANNEL, panel=True
        ),
        "short-help-hello-spoc": _short(
            router, frozenset({Role.SPOC}), ConversationKind.PERSONAL, "hello", member=True
        ),
        "short-help-thanks-coordinator": _short(
            router, frozenset({Role.COORDINATOR}), ConversationKind.PERSONAL, "thanks!", True
        ),
        "short-help-unknown-word-in-channel": _short(
            router, frozenset({Role.CHAIR}), ConversationKind.CHANNEL, "frobnicate", member=True
        ),
        "short-help-newcomer": _short(
            router, frozenset(), ConversationKind.PERSONAL, "good morning", member=False
        ),
        "welcome-personal": render_welcome(
            WelcomeView(person_name="Gemma Hartley", panel_name=DEMO_PANEL, in_channel=False)
        ),
        "welcome-channel": render_welcome(
            WelcomeView(
                person_name=None, panel_name=DEMO_PANEL, in_channel=True, installer=INSTALLER
            )
        ),
        "welcome-group-chat": render_welcome(
            WelcomeView(
                person_name=None,
                panel_name=DEMO_PANEL,
                in_channel=True,
                place="chat",
                installer=INSTALLER,
            )
        ),
        "welcome-unregistered-team": render_welcome(
            WelcomeView(person_name=None, panel_name=None, in_channel=True)
        ),
        "whoami-accepted": render_whoami(
            WhoAmIView(
                name="Gemma Hartley",
                panel_name=DEMO_PANEL,
                agency_name="Riverside Homes (Housing)",
                roles=("spoc",),
                isa_version="2",
                isa_accepted_version="2",
                isa_accepted_on="03 Nov 2026",
            )
        ),
        "whoami-isa-outdated": render_whoami(
            WhoAmIView(
                name="Daniel Reyes",
                panel_name=DEMO_PANEL,
                agency_name="Riverside Homes (Housing)",
                roles=("deputy",),
                isa_version="2",
                isa_accepted_version="1",
                isa_accepted_on=None,
            )
        ),
    }
    return cards
