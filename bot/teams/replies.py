"""Turning a service `Reply` into Bot Framework activities and invoke responses."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.services.router import Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"


def to_activity(reply: Reply) -> Activity:
    """A message carrying the reply's text and card."""
    if reply.card is not None:
        message = MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
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
