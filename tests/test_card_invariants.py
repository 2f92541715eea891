"""What every card of every feature holds, derived from bot.features.FEATURES (no list of
cards kept by hand besides which of them are meant for shared chats): it passes the Teams
validator, each of its buttons runs a verb the router knows, a card meant for a team channel
or group chat passes the gate and every other is turned away; and each feature registers
its own commands and verbs and contributes its cards to the gallery."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from bot.app import build_router
from bot.domain.errors import NotFound
from bot.domain.gate import SubjectNames, judge
from bot.features import FEATURES
from bot.gallery import gallery
from bot.kernel.channel_gate import shared_post
from bot.kernel.feature import Feature, Setup
from bot.kernel.router import Router
from cards.kit import teams_findings
from cards.verbs import INVOKE_VERBS, Verb
from tests.support import cards
from tests.support.world import demo_world

TODAY = date(2026, 11, 20)
MAX_CARD_BYTES = 28 * 1024

# The cards meant for a team channel or group chat; every other card must be turned away.
SHARED_CHAT_CARDS = frozenset(
    {
        "help-channel",
        "help-coordinator",
        "help-newcomer",
        "help-spoc",
        "short-help-hello-spoc",
        "short-help-thanks-coordinator",
        "short-help-unknown-word-in-channel",
        "short-help-newcomer",
        "welcome-channel",
        "welcome-group-chat",
        "welcome-personal",
        "welcome-unregistered-team",
        "triage-channel-notice",
        "triage-channel-notice-resubmitted",
        "schedule-member",
        "schedule-coordinator",
        "schedule-none-planned",
        "schedule-meeting-moved",
        "schedule-meeting-cancelled",
        "schedule-calendar-link",
        "schedule-urgent-announcement",
        "setup-done",
        "agenda-coordinator",
        "agenda-coordinator-notice",
        "agenda-overrun",
        "agenda-member",
        "agenda-none",
        "agenda-announcement",
        "agenda-announcement-updated",
        # the meeting's shared cards: the statement, counts, and the chair card without
        # narratives
        "meeting-confidentiality",
        "meeting-confidentiality-acknowledged",
        "meeting-isa-prompt",
        "meeting-ended",
        "chair-in-channel",
        # shared views' bases (bot.kernel.views), and a reader's own view of the statement,
        # which adds only the references of the cases they may see
        "shared-chair-base",
        "shared-chair-base-many-readers",
        "shared-confidentiality-base",
        "shared-confidentiality-spoc-view",
        "shared-action-captured-base",
        "shared-meeting-ended-base",
        "shared-agenda-announcement-base",
        "shared-agenda-base",
        # asks for the agreement, names nobody
        "isa-needed-for-case",
    }
)
# People named in the gallery's invented data besides the demo panel's subjects.
GALLERY_SUBJECTS = ("Jordan Pike", "Noor Haddad", "Callum Reid", "Sami Haddad", "Elin Lindqvist")

by_feature = pytest.mark.parametrize("feature", FEATURES, ids=[f.name for f in FEATURES])


async def demo_subject_names() -> list[str]:
    """The demo panel's subjects' names, as the gate loads them from storage."""
    world = await demo_world()
    async with world.storage.unit_of_work() as uow:
        return await uow.referrals.subject_names(world.panel.id)


@pytest.fixture(scope="module")
def router() -> Router:
    """The app's router: every feature registered."""
    return build_router()


def verbs_of(button: dict[str, Any]) -> list[Any]:
    """The verbs a button sends: an Action.Execute's own verb (what Teams invokes with)
    and the `verb` of its data, which is all an Action.Submit sends."""
    data = button.get("data")
    sent = [data.get("verb")] if isinstance(data, dict) and "verb" in data else []
    if button["type"] == "Action.Execute":
        return [button.get("verb"), *sent]
    return sent or [None]


def registered(feature: Feature) -> Router:
    """A router with this feature's commands and verbs alone."""
    own = Router()
    feature.register(own, Setup())
    return own


@by_feature
def test_every_card_of_each_feature_passes_the_teams_validator(
    feature: Feature, router: Router
) -> None:
    findings: dict[str, list[str]] = {}
    for name, card in feature.gallery(router).items():
        wrong = teams_findings(card)
        if card.get("version") != "1.5":
            wrong.append(f"version {card.get('version')}, not 1.5")
        if (size := len(json.dumps(card).encode())) >= MAX_CARD_BYTES:
            wrong.append(f"{size} bytes, Teams takes under {MAX_CARD_BYTES}")
        if wrong:
            findings[name] = wrong
    assert findings == {}


def first_text(node: Any) -> dict[str, Any] | None:
    """The first TextBlock a person reads on a card (depth first, in reading order), not
    looking into an Action.ShowCard's card."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            return node
        for key in ("body", "items", "columns"):
            if (found := first_text(node.get(key))) is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            if (found := first_text(item)) is not None:
                return found
    return None


def in_view(card: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The titles of the buttons a person sees at once on a card (its actions and those of
    its body's action sets, not those under the "…" overflow), and the cards its
    Action.ShowCards open (each seen on its own when opened)."""
    seen: list[str] = []
    opened: list[dict[str, Any]] = []

    def look_at(actions: list[dict[str, Any]]) -> None:
        for action in actions:
            if action.get("type") == "Action.ShowCard":
                opened.append(action["card"])
            if action.get("mode") != "secondary":
                seen.append(str(action.get("title")))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ActionSet":
                look_at(node["actions"])
                return
            for key, value in node.items():
                if key != "selectAction":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    look_at(card.get("actions", []))
    return seen, opened


@by_feature
def test_every_card_of_each_feature_opens_with_a_heading(feature: Feature, router: Router) -> None:
    """Teams' guidelines: a card's title is marked as a heading (screen readers announce it)."""
    wrong = {}
    for name, card in feature.gallery(router).items():
        title = first_text(card)
        if title is None or title.get("style") != "heading":
            wrong[name] = (title or {}).get("text")
    assert wrong == {}


@by_feature
def test_no_card_of_each_feature_shows_more_than_six_buttons_at_once(
    feature: Feature, router: Router
) -> None:
    """Teams' guidelines: at most six buttons in view, the rest under the "…" overflow; an
    Action.ShowCard's card is counted when it is open, on its own."""
    crowded: dict[str, list[str]] = {}
    for name, card in feature.gallery(router).items():
        waiting = [(name, card)]
        while waiting:
            where, shown = waiting.pop()
            seen, opened = in_view(shown)
            if len(seen) > 6:
                crowded[where] = seen
            waiting += [(f"{where} (opened)", inner) for inner in opened]
    assert crowded == {}


# The cards that are tables (rows people read across and compare): they take the chat's full
# width: the coordinator's agenda among them (the views the shared chats read are short).
TABLE_CARDS = (
    "action-list",
    "actions-overdue",
    "agenda-coordinator",
    "agencies",
    "audit-case",
    "audit-panel-older-page",
    "caseload",
    "find-hits",
    "members",
    "referrals-coordinator",
    "referrals-referrer",
    "reminders-digest",
    "reminders-overdue-escalation",
    "reminders-status-request",
    "schedule-coordinator",
    "schedule-member",
    "stats-quarter",
)


# What a person does on every use of a card stays in view, not under the "…" menu.
EVERYDAY_BUTTONS = {
    "agenda-coordinator": ["Publish agenda", "Add a case…", "Add any other business…"],
    "chair-new-case": ["Add an action…", "Summary…", "Review later…", "Close case…", "Next"],
    "shared-chair-chair-view": ["Add an action…", "Summary…", "Review later…", "Next"],
    "members": ["Add a member"],
    "schedule-coordinator": ["Urgent meeting…"],
}


def test_the_buttons_used_every_time_stay_in_view(router: Router) -> None:
    shown = gallery(router)
    hidden = {
        name: [title for title in titles if title not in in_view(shown[name])[0]]
        for name, titles in EVERYDAY_BUTTONS.items()
    }
    assert hidden == {name: [] for name in EVERYDAY_BUTTONS}


def test_every_card_that_is_a_table_takes_the_full_width(router: Router) -> None:
    shown = gallery(router)
    assert {name: shown[name].get("msteams") for name in TABLE_CARDS} == {
        name: {"width": "Full"} for name in TABLE_CARDS
    }


@by_feature
def test_every_button_on_each_features_cards_sends_a_verb_the_router_knows(
    feature: Feature, router: Router
) -> None:
    known = set(router.verbs())
    wrong: list[tuple[str, str, object]] = []
    for name, card in feature.gallery(router).items():
        for button in cards.buttons(card):
            title = str(button.get("title"))
            wrong += [(name, title, verb) for verb in verbs_of(button) if verb not in known]
            if (button.get("data") or {}).get("verb") == Verb.COMMAND:
                typed = str(button["data"].get("command", ""))
                try:
                    router.find_command(typed.split(" ")[0])
                except NotFound:
                    wrong.append((name, title, f"command {typed!r}"))
    assert wrong == []


def test_every_registered_verb_is_a_card_verb_and_sits_on_some_gallery_card(
    router: Router,
) -> None:
    """One enum of verbs, and the gallery shows every card with a button people can press."""
    on_cards = {
        verb
        for card in gallery(router).values()
        for b in cards.buttons(card)
        for verb in verbs_of(b)
    }
    assert set(router.verbs()) - {verb.value for verb in Verb} == set()
    assert set(router.verbs()) - on_cards - INVOKE_VERBS == set()


async def test_every_card_meant_for_a_shared_chat_passes_the_gate_and_every_other_is_refused(
    router: Router,
) -> None:
    subjects = await demo_subject_names()
    assert {"Rosa Lindqvist", "Elin Lindqvist"} <= set(subjects)  # a subject and a child
    names = SubjectNames([*subjects, *GALLERY_SUBJECTS])
    shown = gallery(router)
    assert SHARED_CHAT_CARDS - shown.keys() == set()
    wrong = []
    for name, card in sorted(shown.items()):
        verdict = judge(shared_post(card, None), names, TODAY)
        if verdict.allowed != (name in SHARED_CHAT_CARDS):
            wrong.append((name, verdict.describe() or "allowed"))
    assert wrong == []


def test_each_feature_registers_its_own_commands_and_verbs_and_no_name_twice() -> None:
    owners: dict[str, list[str]] = {}
    for feature in FEATURES:
        own = registered(feature)
        names = [n for spec in own.commands() for n in (spec.name, *spec.aliases)]
        assert names or own.verbs(), f"{feature.name} registers nothing"
        for name in (*names, *(f"verb {verb}" for verb in own.verbs())):
            owners.setdefault(name, []).append(feature.name)
    assert {name: who for name, who in owners.items() if len(who) > 1} == {}
    assert len({feature.name for feature in FEATURES}) == len(FEATURES)
    # The app's router holds what the features register and nothing else.
    app = build_router()
    in_app = {n for spec in app.commands() for n in (spec.name, *spec.aliases)}
    assert in_app | {f"verb {verb}" for verb in app.verbs()} == owners.keys()


def test_the_gallery_is_every_features_cards_each_feature_with_some(router: Router) -> None:
    names: list[str] = []
    for feature in FEATURES:
        own = list(feature.gallery(router))
        assert own, f"{feature.name} has no card in the gallery"
        names += own
    assert sorted(gallery(router)) == sorted(names)
