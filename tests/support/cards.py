"""Reading what the bot said, for tests: the one home of the card helpers.

A "said" thing is any of: an Adaptive Card, a use case's Reply, an invoke response's body
(its value a card or a message), an activity posted to the connector (its text and its cards'
attachments) or a queued OutgoingDelivery (the card in its payload). `text` reads all of
them; `card` takes the card out of them. Buttons are found by title or verb wherever they
sit on a card (its actions, an ActionSet, a selectAction, a show card's card), and `press`
gives what Teams sends when one is clicked: the verb, and the data with the card's inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.domain.delivery import OutgoingDelivery
from bot.kernel.router import Reply
from cards.kit import Card, card_text

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
# The buttons that send something to the bot (an Action.ShowCard opens a card, an
# Action.OpenUrl a link).
SENDING = ("Action.Execute", "Action.Submit")


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every element and action of a card (or anything said), depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from walk(item)


def _is_activity(said: Mapping[str, Any]) -> bool:
    return "attachments" in said or said.get("type") == "message"


def _is_invoke_body(said: Mapping[str, Any]) -> bool:
    return "value" in said and "type" in said and said.get("type") != "AdaptiveCard"


def cards(said: Any) -> list[Card]:
    """Every card in what was said (none, one, or an activity's several)."""
    if isinstance(said, Reply):
        return [said.card] if said.card is not None else []
    if isinstance(said, OutgoingDelivery):
        found = said.payload.get("card")
        return [found] if isinstance(found, dict) else []
    if isinstance(said, Mapping):
        if said.get("type") == "AdaptiveCard":
            return [dict(said)]
        if _is_activity(said):
            return [
                a["content"]
                for a in said.get("attachments") or []
                if a.get("contentType", ADAPTIVE) == ADAPTIVE and isinstance(a.get("content"), dict)
            ]
        if _is_invoke_body(said):
            value = said["value"]
            return [value] if isinstance(value, dict) else []
    raise TypeError(f"not something the bot says: {said!r}")


def card(said: Any) -> Card:
    """The one card in what was said (an invoke body must be a card, not a message)."""
    if isinstance(said, Mapping) and _is_invoke_body(said) and not _is_activity(said):
        assert said["type"] == ADAPTIVE, said
    found = cards(said)
    assert len(found) == 1, f"expected one card, got {len(found)}: {said!r}"
    return found[0]


def text(said: Any) -> str:
    """Everything a person could read in what was said: a message's text and every visible
    string of its cards, one per line."""
    if isinstance(said, Reply):
        parts = [said.text or ""] if said.card is None or said.text else []
        return "\n".join([*parts, *(card_text(c) for c in cards(said))])
    if isinstance(said, Mapping) and _is_invoke_body(said) and not _is_activity(said):
        value = said["value"]
        return card_text(value) if isinstance(value, dict) else str(value)
    if isinstance(said, Mapping) and _is_activity(said):
        lines = [str(said["text"])] if said.get("text") else []
        return "\n".join([*lines, *(card_text(c) for c in cards(said))])
    return "\n".join(card_text(c) for c in cards(said))


def body_text(said: Any) -> str:
    """The text blocks of the cards' bodies, one per line: a card's words without its
    buttons, labels or fallback (to tell which of several small cards arrived)."""
    return "\n".join(
        str(block["text"])
        for found in cards(said)
        for block in found.get("body", [])
        if "text" in block
    )


def shown(said: Any) -> str:
    """The text of the one card in what was said (fails when it said no card, or several)."""
    return card_text(card(said))


def actions(node: Any, *kinds: str) -> list[dict[str, Any]]:
    """Every action of the given kinds (any Action.* when none is given), in card order."""
    return [
        n
        for n in walk(node)
        if str(n.get("type", "")).startswith("Action.") and (not kinds or n["type"] in kinds)
    ]


def buttons(node: Any) -> list[dict[str, Any]]:
    """Every button that sends something to the bot (Action.Execute and Action.Submit)."""
    return actions(node, *SENDING)


def verb_of(found: Mapping[str, Any]) -> str | None:
    """The verb a button sends: an Action.Execute's own, or the `verb` of an Action.Submit's
    data (all it sends)."""
    data = found.get("data")
    sent = data.get("verb") if isinstance(data, Mapping) else None
    if found.get("type") == "Action.Execute":
        return found.get("verb") or sent
    return sent


def titles(node: Any, *kinds: str) -> list[str]:
    """The titles of a card's actions of the given kinds (every kind when none is given), in
    card order."""
    return [str(a["title"]) for a in actions(node, *kinds) if "title" in a]


def with_verb(node: Any, verb: str) -> list[dict[str, Any]]:
    """Every button that sends `verb` (a Verb or its value)."""
    wanted = getattr(verb, "value", verb)
    return [b for b in buttons(node) if verb_of(b) == wanted]


def button(
    node: Any,
    title: str | None = None,
    *,
    verb: str | None = None,
    kind: str | None = None,
    nth: int | None = None,
) -> dict[str, Any]:
    """The button with this title and/or verb: the only one, or the nth of several."""
    found = actions(node, kind) if kind else buttons(node)
    if title is not None:
        found = [a for a in found if a.get("title") == title]
    if verb is not None:
        wanted = getattr(verb, "value", verb)
        found = [a for a in found if verb_of(a) == wanted]
    if nth is None:
        assert len(found) == 1, (title, verb, len(found), titles(node))
        return found[0]
    assert len(found) > nth, (title, verb, len(found), titles(node))
    return found[nth]


def inputs(node: Any) -> dict[str, dict[str, Any]]:
    """Every input of a card, by id."""
    return {
        str(n["id"]): n
        for n in walk(node)
        if str(n.get("type", "")).startswith("Input.") and "id" in n
    }


def input_ids(node: Any) -> list[str]:
    """The ids of a card's inputs, in card order."""
    return list(inputs(node))


def values(node: Any) -> dict[str, Any]:
    """What a card's inputs hold before anyone types: each input's value, if it has one."""
    return {key: found["value"] for key, found in inputs(node).items() if "value" in found}


def element(node: Any, element_id: str) -> dict[str, Any] | None:
    """The element (or action) with this id, if the card has one."""
    return next((n for n in walk(node) if n.get("id") == element_id), None)


def data(found: Mapping[str, Any], /, **typed: Any) -> dict[str, Any]:
    """The data a button submits, with what was typed."""
    return {**(found.get("data") or {}), **typed}


def press(
    node: Any,
    title: str | None = None,
    /,
    *,
    verb: str | None = None,
    nth: int | None = None,
    **typed: Any,
) -> tuple[str, dict[str, Any]]:
    """What Teams sends when a button is clicked: its verb, and its data with every input's
    value on the card and what was typed (an input may be called `title`)."""
    found = button(node, title, verb=verb, nth=nth)
    sent = verb_of(found)
    assert sent is not None, found
    return sent, {**values(node), **data(found), **typed}


def links(node: Any) -> dict[str, str]:
    """A card's Action.OpenUrl links, by title."""
    return {str(a["title"]): str(a["url"]) for a in actions(node, "Action.OpenUrl")}
