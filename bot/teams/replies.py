"""Turning a service `Reply` into Bot Framework activities and invoke responses."""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.services.router import Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"


def _serialise_cards_as_json() -> None:
    """botbuilder serialises every activity it sends with msrest, which walks a card (an
    attachment's `object` content) value by value, catching an AttributeError for every
    string. `python -m bot bench` found it: for an agenda card, 7 of a SPOC's 24 ms turn and
    19 of the coordinator's 42 ms. A card is plain JSON, for which a JSON round trip (in C)
    gives the very same result in a fraction of that; anything that is not plain JSON (dates,
    enums that are not strings, NaN, XML) still goes msrest's way.
    """
    serializer = importlib.import_module("msrest.serialization").Serializer
    original = serializer.serialize_object
    if getattr(original, "plain_json_first", False):
        return

    def serialize_object(self: Any, attr: Any, **kwargs: Any) -> Any:
        plain = not kwargs.get("is_xml") and not kwargs.get("basic_types_serializers")
        if plain and type(attr) in (dict, list, CardJson):
            try:
                return json.loads(json.dumps(attr, allow_nan=False))
            except (TypeError, ValueError):
                pass
        if type(attr) is CardJson:
            attr = dict(attr)  # msrest writes a dict subclass as its str()
        return original(self, attr, **kwargs)

    serialize_object.plain_json_first = True  # type: ignore[attr-defined]
    serialize_object.msrest_original = original  # type: ignore[attr-defined]
    serializer.serialize_object = serialize_object


class CardJson(dict[str, Any]):
    """A card as sent: a plain dict whose deep copy is a JSON round trip (in C).

    botbuilder deep-copies every activity it sends (`TurnContext.send_activities`), and
    `copy.deepcopy` walks a card value by value in Python: for an agenda card, more than half
    of the reply's cost. A card is plain JSON, so the round trip gives an equal copy; a card
    that is not plain JSON is copied by `copy.deepcopy` as before.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> CardJson:
        try:
            return CardJson(json.loads(json.dumps(self, allow_nan=False)))
        except (TypeError, ValueError):
            return CardJson(copy.deepcopy(dict(self), memo))


_serialise_cards_as_json()


def to_activity(reply: Reply) -> Activity:
    """A message carrying the reply's text and card."""
    if reply.card is not None:
        message = MessageFactory.attachment(CardFactory.adaptive_card(CardJson(reply.card)))
        if reply.text:
            message.text = reply.text
        return message
    return MessageFactory.text(reply.text or "")


def to_invoke_response(reply: Reply) -> dict[str, Any]:
    """The answer to an Action.Execute: a card replaces the clicked one; text is a message.

    A plain dict: botbuilder's AdaptiveCardInvokeResponse model cannot serialise a text value.
    """
    if reply.card is not None:
        return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": reply.card}
    return {"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": reply.text or "Done."}
