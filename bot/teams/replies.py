"""Turning a service `Reply` into Bot Framework activities and invoke responses."""

from __future__ import annotations

import copy
import importlib
import json
from typing import TYPE_CHECKING, Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Attachment

from bot.kernel.notify import FILE_CONSENT, FILE_INFO
from bot.kernel.router import Reply
from cards.sealed import SealedCard

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botbuilder.schema import Activity

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
# Teams' file cards (1:1 chats only): the bot asks to save a file in the member's OneDrive,
# and shows the file once it is there.
FILE_CONSENT_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.info"
# The key of the consent card's context that names the offer (all the context holds).
OFFER_CONTEXT_KEY = "offer"
# And the key naming the offer's panel, so that the answer is taken for that panel.
PANEL_CONTEXT_KEY = "panel"


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
        if plain and type(attr) in _PLAIN:
            return attr  # plain JSON already: checked when it was made
        if plain and type(attr) in (dict, list):
            try:
                return json.loads(json.dumps(attr, allow_nan=False))
            except (TypeError, ValueError):
                pass
        if type(attr) in _PLAIN:
            attr = json.loads(json.dumps(attr))  # msrest writes a dict subclass as its str()
        return original(self, attr, **kwargs)

    serialize_object.plain_json_first = True  # type: ignore[attr-defined]
    serialize_object.msrest_original = original  # type: ignore[attr-defined]
    serializer.serialize_object = serialize_object


class CardJson(dict[str, Any]):
    """A card as sent: a snapshot of plain JSON, made once (`sent_card`) and never changed.

    botbuilder deep-copies every activity it sends (`TurnContext.send_activities`) and then
    serialises it with msrest; both walk a card value by value in Python, which was most of
    an agenda reply's cost. The snapshot is made by one JSON round trip (in C), which also
    shows it is plain JSON: its copies share it, and msrest passes it through as it is.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> CardJson:
        return self


# Cards checked to be plain JSON when they were made, which never change afterwards.
_PLAIN = (CardJson, SealedCard)


def sent_card(card: dict[str, Any]) -> dict[str, Any]:
    """The card an activity carries: a CardJson snapshot, or, for a card that is not plain
    JSON (dates, NaN, enums that are not strings), a copy that botbuilder and msrest treat
    as they always did. A sealed card (cards.sealed) is its own snapshot."""
    if type(card) in _PLAIN:
        return card
    try:
        return CardJson(json.loads(json.dumps(card, allow_nan=False)))
    except (TypeError, ValueError):
        return copy.deepcopy(card)


_serialise_cards_as_json()


def to_activity(reply: Reply) -> Activity:
    """A message carrying the reply's card, or its text when it has no card.

    With a card, the text goes as the activity's summary (what a client that cannot show the
    card, or a notification, may show) rather than as its text: Teams shows an activity's text
    above its card, so the person read every notice twice (issue 15).
    """
    if reply.card is not None:
        message = MessageFactory.attachment(CardFactory.adaptive_card(sent_card(reply.card)))
        if reply.text:
            message.summary = reply.text
        return message
    return MessageFactory.text(reply.text or "")


def to_invoke_response(reply: Reply) -> dict[str, Any]:
    """The answer to an Action.Execute: a card replaces the clicked one; text is a message.

    A plain dict: botbuilder's AdaptiveCardInvokeResponse model cannot serialise a text value.
    Its card is the snapshot a message would carry: botbuilder deep-copies the response as it
    does every activity, which for a card made of plain dicts and lists walks it in Python.
    """
    if reply.card is not None:
        return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": sent_card(reply.card)}
    return {"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": reply.text or "Done."}


def payload_activity(payload: Mapping[str, Any]) -> Activity:
    """The message an outbox row's payload stands for: a file consent card, a file's card,
    or a card and its text (bot.kernel.notify)."""
    consent = payload.get(FILE_CONSENT)
    info = payload.get(FILE_INFO)
    if isinstance(consent, dict):
        context = {OFFER_CONTEXT_KEY: consent.get("offer_id")}
        if consent.get("panel_id"):  # offers queued before it was carried have none
            context[PANEL_CONTEXT_KEY] = consent.get("panel_id")
        attachment = Attachment(
            content_type=FILE_CONSENT_CONTENT_TYPE,
            name=consent.get("name"),
            content={
                "description": consent.get("description"),
                "sizeInBytes": consent.get("size"),
                "acceptContext": context,
                "declineContext": context,
            },
        )
    elif isinstance(info, dict):
        attachment = Attachment(
            content_type=FILE_INFO_CONTENT_TYPE,
            name=info.get("name"),
            content_url=info.get("content_url"),
            content={"uniqueId": info.get("unique_id"), "fileType": info.get("file_type")},
        )
    else:
        return to_activity(Reply(text=payload.get("text"), card=payload.get("card")))
    message = MessageFactory.attachment(attachment)
    text = payload.get("text")
    if isinstance(text, str) and text:
        message.summary = text
    return message
