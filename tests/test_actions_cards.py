"""The action and reminder cards: valid for Teams, buttons with known verbs, private only."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.domain.gate import SubjectNames, judge
from bot.features.actions import gallery
from bot.kernel.channel_gate import shared_post
from cards.actions import (
    CANT_BUTTON,
    DONE_BUTTON,
    LIST_VIEW,
    UPDATE_BUTTON,
    ActionGroup,
    ActionListView,
    Buttons,
    UpdateLine,
    render_action_list,
)
from cards.kit import card_text, teams_findings
from cards.verbs import Verb
from tests.support import cards

CARDS = gallery.gallery_cards()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_action_and_reminder_card_passes_the_teams_validator(name: str) -> None:
    card = CARDS[name]
    assert teams_findings(card) == []
    assert len(json.dumps(card).encode()) < 28 * 1024


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_button_carries_a_known_verb_and_what_it_needs(name: str) -> None:
    known = {v.value for v in Verb}
    for button in cards.buttons(CARDS[name]):
        verb = cards.verb_of(button)
        assert verb in known
        if verb in {Verb.ACTION_DONE, Verb.ACTION_UPDATE, Verb.ACTION_CANT}:
            assert {"action_id", "token", "view", "index"} <= set(button["data"])


@pytest.mark.parametrize("name", sorted(CARDS))
def test_no_action_card_may_be_posted_in_a_channel(name: str) -> None:
    verdict = judge(shared_post(CARDS[name], None), SubjectNames([]), date(2026, 11, 20))
    assert not verdict.allowed


def test_an_open_action_offers_done_an_update_and_cant_do_this_and_a_done_one_nothing() -> None:
    shown = [b["title"] for b in cards.actions(CARDS["action-card"], "Action.ShowCard")]
    assert shown == [DONE_BUTTON, UPDATE_BUTTON, CANT_BUTTON]
    assert cards.actions(CARDS["action-card-done"], "Action.ShowCard") == []
    assert cards.actions(CARDS["action-list-read-only"], "Action.ShowCard") == []


def test_each_action_of_a_list_has_inputs_of_its_own() -> None:
    inputs = cards.inputs(CARDS["action-list"])
    ids = [key for key, found in inputs.items() if found["type"] == "Input.Text"]
    assert ids == ["note-0", "update-0", "reason-0", "note-1", "update-1", "reason-1"]


def test_a_long_list_is_cut_to_fit_the_teams_budget_and_says_how_many_more() -> None:
    long = "x" * 1000
    items = [
        gallery.demo_item(
            action_id=f"a{n}", description=long, updates=[UpdateLine("Mon", "Gemma", long)]
        )
        for n in range(8)
    ]
    card = render_action_list(
        ActionListView(
            panel_name="Riverside Community MARAC",
            title="Open actions of Riverside Homes (Housing)",
            groups=[ActionGroup(None, items)],
            buttons=Buttons(token="t", view=LIST_VIEW),
        )
    )
    assert len(json.dumps(card).encode()) <= 26 * 1024
    assert teams_findings(card) == []
    assert "… and" in card_text(card) and "more." in card_text(card)
