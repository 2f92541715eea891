"""A sealed card (cards/sealed.py): what a kept view answers every turn with. It refuses
every change at every depth, is its own copy, and is sent exactly as the card it seals."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from typing import TYPE_CHECKING, Any

import pytest

from cards.sealed import SealedCard, SealedList, seal

if TYPE_CHECKING:
    from collections.abc import Callable

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Agenda for Tue 8 Dec 2026", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "CM-2026-014", "value": "high"}]},
    ],
    "actions": [{"type": "Action.Execute", "verb": "agenda.publish", "data": {"v": 3}}],
}

CHANGES: list[tuple[str, Callable[[Any], object]]] = [
    ("set a key", lambda c: c.__setitem__("version", "1.2")),
    ("delete a key", lambda c: c.__delitem__("version")),
    ("update", lambda c: c.update(version="1.2")),
    ("merge in place", lambda c: c.__ior__({"version": "1.2"})),
    ("setdefault", lambda c: c.setdefault("fallbackText", "x")),
    ("pop", lambda c: c.pop("version")),
    ("popitem", lambda c: c.popitem()),
    ("clear", lambda c: c.clear()),
    ("append to the body", lambda c: c["body"].append({"type": "TextBlock"})),
    ("extend the body", lambda c: c["body"].extend([{}])),
    ("add to the body in place", lambda c: c["body"].__iadd__([{}])),
    ("repeat the body in place", lambda c: c["body"].__imul__(2)),
    ("insert into the body", lambda c: c["body"].insert(0, {})),
    ("replace an element", lambda c: c["body"].__setitem__(0, {})),
    ("delete an element", lambda c: c["body"].__delitem__(0)),
    ("pop an element", lambda c: c["body"].pop()),
    ("remove an element", lambda c: c["body"].remove(c["body"][0])),
    ("sort the body", lambda c: c["body"].sort(key=str)),
    ("reverse the body", lambda c: c["body"].reverse()),
    ("clear the body", lambda c: c["body"].clear()),
    ("change a text", lambda c: c["body"][0].__setitem__("text", "Changed")),
    ("change a fact", lambda c: c["body"][1]["facts"][0].update(value="low")),
    ("change a button's data", lambda c: c["actions"][0]["data"].__setitem__("v", 4)),
]


@pytest.mark.parametrize(("what", "change"), CHANGES, ids=[what for what, _ in CHANGES])
def test_a_sealed_card_refuses_every_change_at_every_depth(
    what: str, change: Callable[[Any], object]
) -> None:
    sealed = seal(CARD)
    with pytest.raises(TypeError, match="sealed"):
        change(sealed)
    assert sealed == CARD, what


def test_a_sealed_card_is_plain_json_equal_to_the_card_and_sent_as_it() -> None:
    sealed = seal(CARD)
    assert sealed == CARD
    assert json.dumps(sealed) == json.dumps(CARD)
    assert isinstance(sealed["body"], SealedList)
    assert isinstance(sealed["body"][1]["facts"][0], SealedCard)


def test_sealing_copies_the_card_so_later_changes_to_it_do_not_reach_the_sealed_one() -> None:
    card = copy.deepcopy(CARD)
    sealed = seal(card)
    card["body"].clear()
    assert sealed == CARD


def test_a_sealed_card_is_its_own_copy_and_sealing_it_again_gives_it_back() -> None:
    sealed = seal(CARD)
    assert copy.deepcopy(sealed) is sealed
    assert copy.copy(sealed) is sealed
    assert copy.deepcopy(sealed["body"]) is sealed["body"]
    assert seal(sealed) is sealed


def test_copies_made_another_way_are_plain_and_may_change() -> None:
    sealed = seal(CARD)
    merged = {
        **sealed,
        "body": [{"type": "TextBlock", "text": "Panel: Riverside"}, *sealed["body"]],
    }
    merged["version"] = "1.2"
    assert type(sealed | {}) is dict
    assert type(sealed["body"] + []) is list
    assert sealed == CARD


def test_a_sealed_card_survives_pickling_still_sealed() -> None:
    again = pickle.loads(pickle.dumps(seal(CARD)))
    assert again == CARD
    with pytest.raises(TypeError):
        again["body"].append({})


@pytest.mark.parametrize(
    "card",
    [{"when": dt.date(2026, 12, 8)}, {"nan": float("nan")}, {"x": {1, 2}}],
    ids=["date", "NaN", "set"],
)
def test_only_plain_json_is_sealed(card: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        seal(card)
