"""Every card the bot can send, rendered with invented demo data: the card gallery.

A new card is covered by the gallery test as soon as it is added here.
"""

from __future__ import annotations

from bot.domain.delivery import ConversationKind
from bot.domain.panel import Role
from bot.features.governance import agreement as isa
from bot.features.governance import audit_trail, cases, membership, panels
from bot.features.help.basics import help_view
from bot.features.meetings import agenda, calendar, meeting_run, minutes
from bot.features.records import dataprotection, stats
from bot.features.referrals import intake, triage
from bot.kernel.router import Router
from cards.help import render_help
from cards.kit import Card
from cards.welcome import WelcomeView, render_welcome
from cards.whoami import WhoAmIView, render_whoami

DEMO_PANEL = "Riverside Community MARAC"


def _help(router: Router, roles: frozenset[Role], kind: ConversationKind, panel: bool) -> Card:
    return render_help(help_view(router, roles, kind, DEMO_PANEL if panel else None))


def gallery(router: Router) -> dict[str, Card]:
    """Name → card, for every card and notable variant."""
    cards: dict[str, Card] = {
        "help-newcomer": _help(router, frozenset(), ConversationKind.PERSONAL, panel=False),
        "help-coordinator": _help(
            router, frozenset({Role.COORDINATOR}), ConversationKind.PERSONAL, panel=True
        ),
        "help-spoc": _help(router, frozenset({Role.SPOC}), ConversationKind.PERSONAL, panel=True),
        "help-channel": _help(
            router, frozenset({Role.CHAIR}), ConversationKind.CHANNEL, panel=True
        ),
        "welcome-personal": render_welcome(
            WelcomeView(person_name="Gemma Hartley", panel_name=DEMO_PANEL, in_channel=False)
        ),
        "welcome-channel": render_welcome(
            WelcomeView(person_name=None, panel_name=DEMO_PANEL, in_channel=True)
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
    # each feature contributes its own cards, rendered with invented demo data
    features = (
        intake,
        triage,
        calendar,
        agenda,
        meeting_run,
        minutes,
        membership,
        isa,
        cases,
        audit_trail,
        dataprotection,
        stats,
        panels,
    )
    for feature in features:
        for name, card in feature.gallery_cards().items():
            if name in cards:
                raise ValueError(f"two gallery cards are called {name}")
            cards[name] = card
    return cards
