"""The JSON fast path for cards in botbuilder's msrest serialisation (bot/teams/replies.py),
which `python -m bot bench` asked for, gives exactly what msrest alone gives."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest
from botframework.connector import models
from msrest.serialization import Serializer

from bot.services.router import Reply
from bot.teams.replies import to_activity

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


def as_sent(value: Any) -> Any:
    """An activity carrying `value` as its card, serialised as botbuilder sends it."""
    client_models = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
    activity = to_activity(Reply(text="The agenda", card=value))
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
    slow = as_sent(card)
    assert repr(fast) == repr(slow)  # repr: NaN is not equal to itself


def test_the_fast_path_copies_the_card_rather_than_sharing_it() -> None:
    sent = as_sent(CARD)["attachments"][0]["content"]
    assert sent == CARD
    assert sent is not CARD
