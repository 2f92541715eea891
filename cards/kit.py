"""The few building blocks every card shares, on top of adaptive-cards-py."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from adaptive_cards import card as ac
from adaptive_cards import types as t
from adaptive_cards.validation import CardValidatorFactory
from jsonschema.validators import Draft6Validator
from pydantic import ValidationError

from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

CARD_VERSION: Literal["1.5"] = "1.5"
Card = dict[str, Any]


def heading(text: str, subtitle: str | None = None) -> list[Any]:
    """A bold title with an optional subtle line under it."""
    items: list[Any] = [
        ac.TextBlock(text=text, weight=t.FontWeight.BOLDER, size=t.FontSize.MEDIUM, wrap=True)
    ]
    if subtitle:
        items.append(ac.TextBlock(text=subtitle, is_subtle=True, wrap=True, spacing=t.Spacing.NONE))
    return items


def paragraph(text: str, *, subtle: bool = False, attention: bool = False) -> Any:
    """A wrapped block of text."""
    return ac.TextBlock(
        text=text,
        wrap=True,
        is_subtle=subtle or None,
        color=t.Colors.ATTENTION if attention else None,
    )


def facts(pairs: Sequence[tuple[str, str]]) -> Any:
    """A label/value list."""
    return ac.FactSet(facts=[ac.Fact(title=title, value=value) for title, value in pairs])


# The data key a command button names its command under (as typed, with its arguments);
# read back by the command verb (bot.features.help).
COMMAND_KEY = "command"


def command_button(title: str, command: str) -> Any:
    """A button that runs a typed command, so the person need not type it."""
    return ac.ActionSubmit(title=title, data={"verb": Verb.COMMAND.value, COMMAND_KEY: command})


def build(body: Sequence[Any], actions: Sequence[Any] = (), fallback: str | None = None) -> Card:
    """Assemble a Teams-ready card (schema 1.5) and return it as a plain JSON dict."""
    builder = ac.AdaptiveCard.new().version(CARD_VERSION).add_items(list(body))
    if actions:
        builder = builder.add_actions(list(actions))
    if fallback:
        builder = builder.fallback_text(fallback)
    card = builder.create()
    rendered: Card = json.loads(card.to_json())
    return rendered


@cache
def _schema_validator() -> Draft6Validator:
    schema = resources.files("adaptive_cards").joinpath(f"schemas/schema-{CARD_VERSION}.json")
    return Draft6Validator(json.loads(schema.read_text(encoding="utf-8")))


def teams_findings(card: Card) -> list[str]:
    """What is wrong with a card for Teams; empty when valid.

    The library's Teams validator (schema 1.5, 28 KB) checks its own model of the card, which
    drops what it does not know; so the dict as sent is also checked against the schema.
    """
    findings = [
        f"schema: {error.message} at {'/'.join(map(str, error.absolute_path))}"
        for error in _schema_validator().iter_errors(card)
    ]
    if not card.get("body"):
        findings.append("card body is empty")
    try:
        model = ac.AdaptiveCard.model_validate(card)
    except ValidationError as exc:
        return [*findings, f"model: {exc.error_count()} errors"]
    validator = CardValidatorFactory.create_validator_microsoft_teams()
    validator.validate(model, debug=False)
    return findings + [
        f"{f.failure.value}: {f.message} {f.message_additional}".strip()
        for f in validator.details()
    ]


def card_text(card: Card) -> str:
    """Every visible string of a card, joined: what a person could read on it."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"text", "title", "value", "placeholder", "label", "fallbackText"} and (
                    isinstance(value, str)
                ):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


def concerning(card: Card, panel_name: str) -> Card:
    """The card with a first line naming the panel it concerns (for someone on several)."""
    line = {
        "type": "TextBlock",
        "text": f"Panel: {panel_name}",
        "isSubtle": True,
        "size": "small",
        "wrap": True,
    }
    return {**card, "body": [line, *card.get("body", [])]}
