"""The JSON fast path for cards in botbuilder's msrest serialisation (bot/teams/replies.py),
which `python -m bot bench` asked for, gives exactly what msrest alone gives."""

from __future__ import annotations

import copy
import datetime as dt
import enum
import json
from typing import Any

import pytest
from botbuilder.core import InvokeResponse
from botbuilder.schema import Activity
from botframework.connector import models
from msrest.serialization import Serializer

from bot.kernel.router import Reply
from bot.teams.replies import to_activity, to_invoke_response
from cards.sealed import seal

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": f"CM-2026-{n:03d} · new case · élevé", "wrap": True}
        for n in range(40)
    ],
    "actions": [
        {"type": "Action.Execute", "verb": "agenda.move_up", "data": {"n": 1, "x": 1.5}},
        {"type": "Action.Submit", "data": {"none": None, "flag": False, "list": [1, "a", {}]}},
    ],
}


class Colour(enum.Enum):
    RED = 1


class Size(enum.StrEnum):
    LARGE = "large"


def as_sent(value: Any, *, plain_dict: bool = False) -> Any:
    """An activity carrying `value` as its card, serialised as botbuilder sends it (with
    `plain_dict`, the card as the plain dict msrest alone expects)."""
    client_models = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
    activity = to_activity(Reply(text="The agenda", card=value))
    if plain_dict:
        activity.attachments[0].content = dict(activity.attachments[0].content)
    return Serializer(client_models).body(activity, "Activity")


@pytest.mark.parametrize(
    "card",
    [
        CARD,
        {"size": Size.LARGE, "sizes": [Size.LARGE]},
        {"when": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), "inner": {"a": [1, 2]}},
        {"colour": Colour.RED},
        {"nan": float("nan")},
        {"day": dt.date(2026, 1, 2)},
    ],
)
def test_a_card_is_serialised_exactly_as_msrest_alone_would(
    card: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = as_sent(card)
    monkeypatch.setattr(Serializer, "serialize_object", Serializer.serialize_object.msrest_original)
    slow = as_sent(card, plain_dict=True)
    assert repr(fast) == repr(slow)  # repr: NaN is not equal to itself


def test_the_fast_path_copies_the_card_rather_than_sharing_it() -> None:
    sent = as_sent(CARD)["attachments"][0]["content"]
    assert sent == CARD
    assert sent is not CARD


@pytest.mark.parametrize("card", [CARD, {"when": dt.date(2026, 1, 2), "nan": float("nan")}])
def test_botbuilder_deep_copy_of_a_reply_gives_an_equal_card(card: dict[str, Any]) -> None:
    activity = to_activity(Reply(card=card))
    copied = copy.deepcopy(activity)  # what TurnContext.send_activities does to every reply
    assert repr(copied.attachments[0].content) == repr(card)


def test_the_card_sent_is_a_snapshot_that_later_changes_to_the_reply_do_not_reach() -> None:
    card = copy.deepcopy(CARD)
    activity = to_activity(Reply(card=card))
    card["body"].clear()
    card["version"] = "1.2"
    assert activity.attachments[0].content == CARD
    assert copy.deepcopy(activity).attachments[0].content == CARD


def test_a_card_that_is_not_plain_json_is_copied_as_before() -> None:
    card = {"when": dt.date(2026, 1, 2), "body": [{"n": 1}]}
    activity = to_activity(Reply(card=card))
    copied = copy.deepcopy(activity).attachments[0].content
    copied["body"].clear()
    assert (
        activity.attachments[0].content == card == {"when": dt.date(2026, 1, 2), "body": [{"n": 1}]}
    )


def test_a_sealed_card_is_sent_as_it_is_and_serialised_as_msrest_alone_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed = seal(CARD)
    activity = to_activity(Reply(card=sealed))
    assert activity.attachments[0].content is sealed
    assert copy.deepcopy(activity).attachments[0].content is sealed
    fast = as_sent(sealed)
    monkeypatch.setattr(Serializer, "serialize_object", Serializer.serialize_object.msrest_original)
    assert repr(fast) == repr(as_sent(CARD, plain_dict=True))


def test_an_invoke_answer_carries_a_snapshot_that_later_changes_do_not_reach() -> None:
    card = copy.deepcopy(CARD)
    body = to_invoke_response(Reply(card=card))
    card["body"].clear()
    assert body["value"] == CARD
    response = Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
    copied = copy.deepcopy(response)  # what TurnContext.send_activities does to it
    assert copied.value.body["value"] is body["value"]  # shared, not walked again
    assert json.loads(json.dumps(copied.value.body)) == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": CARD,
    }


def test_an_invoke_answer_with_a_card_that_is_not_plain_json_is_copied_as_before() -> None:
    card = {"when": dt.date(2026, 1, 2), "body": [{"n": 1}]}
    body = to_invoke_response(Reply(card=card))
    card["body"].clear()
    assert body["value"] == {"when": dt.date(2026, 1, 2), "body": [{"n": 1}]}
