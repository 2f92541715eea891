"""cards.kit.stamped and cards.kit.concerning: a card's buttons carry its panel at every
depth, the card given is left as it was, and a panel is named once."""

from __future__ import annotations

import copy
import json
from typing import Any

from cards.kit import CARD_PANEL, concerning, stamped
from cards.sealed import seal
from tests.support import cards

PANEL = "0f3c9a7e5b1d4e2f8a6c4b2d0e9f7a15"

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "refresh": {"action": {"type": "Action.Execute", "verb": "view.refresh", "data": {"k": 1}}},
    "body": [
        {"type": "TextBlock", "text": "Open actions", "wrap": True},
        {
            "type": "Container",
            "selectAction": {"type": "Action.Execute", "verb": "action.open"},
            "items": [
                {
                    "type": "ActionSet",
                    "actions": [
                        {"type": "Action.Submit", "data": {"verb": "info.open", "id": "r1"}},
                        {"type": "Action.Submit", "data": "a plain string"},
                        {"type": "Action.OpenUrl", "url": "https://example.org/help"},
                    ],
                }
            ],
        },
    ],
    "actions": [
        {
            "type": "Action.ShowCard",
            "title": "Update",
            "card": {
                "type": "AdaptiveCard",
                "body": [{"type": "Input.Text", "id": "update-0"}],
                "actions": [
                    {"type": "Action.Execute", "verb": "action.update", "data": {"a": "x"}}
                ],
            },
        }
    ],
}


def buttons_with_data(node: Any) -> list[dict[str, Any]]:
    return [b for b in cards.walk(node) if b.get("type") in ("Action.Execute", "Action.Submit")]


def test_every_button_at_every_depth_carries_the_panel() -> None:
    out = stamped(CARD, PANEL)
    found = buttons_with_data(out)
    assert len(found) == 5
    stamped_data = [b["data"] for b in found if isinstance(b["data"], dict)]
    assert len(stamped_data) == 4  # the string-data Submit is left as Teams would send it
    assert all(d[CARD_PANEL] == PANEL for d in stamped_data)
    # What the buttons carried is kept beside it.
    assert out["actions"][0]["card"]["actions"][0]["data"] == {"a": "x", CARD_PANEL: PANEL}
    assert out["refresh"]["action"]["data"] == {"k": 1, CARD_PANEL: PANEL}
    # Anything that is not a button that sends is untouched.
    assert out["body"][1]["items"][0]["actions"][2] == CARD["body"][1]["items"][0]["actions"][2]
    assert out["body"][0] == CARD["body"][0]


def test_the_card_given_is_left_as_it_was_even_sealed() -> None:
    before = copy.deepcopy(CARD)
    stamped(CARD, PANEL)
    assert before == CARD
    sealed = seal(copy.deepcopy(CARD))
    out = stamped(sealed, PANEL)
    assert json.loads(json.dumps(sealed)) == before
    assert out["actions"][0]["card"]["actions"][0]["data"][CARD_PANEL] == PANEL


def test_a_panel_is_named_once() -> None:
    once = concerning(CARD, "Riverside Community MARAC")
    twice = concerning(once, "Riverside Community MARAC")
    assert twice["body"][0]["text"] == "Panel: Riverside Community MARAC"
    assert twice == once
    assert len(twice["body"]) == len(CARD["body"]) + 1
    # Another panel's name is a different line: named as asked.
    other = concerning(once, "Northbank Panel")
    assert other["body"][0]["text"] == "Panel: Northbank Panel"
