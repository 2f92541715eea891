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
    """A bold title marked as the card's heading (screen readers announce it as one), with
    an optional subtle line under it."""
    items: list[Any] = [
        ac.TextBlock(
            text=text,
            weight=t.FontWeight.BOLDER,
            size=t.FontSize.MEDIUM,
            wrap=True,
            style=t.TextBlockStyle.HEADING,
        )
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


def build(
    body: Sequence[Any],
    actions: Sequence[Any] = (),
    fallback: str | None = None,
    *,
    full_width: bool = False,
) -> Card:
    """Assemble a Teams-ready card (schema 1.5) and return it as a plain JSON dict.

    At most six of its buttons show at once (`overflow`); a card that is a table (a list of
    rows people compare) takes the chat's full width.
    """
    builder = ac.AdaptiveCard.new().version(CARD_VERSION).add_items(list(body))
    if actions:
        builder = builder.add_actions(list(actions))
    if fallback:
        builder = builder.fallback_text(fallback)
    card = builder.create()
    rendered: Card = json.loads(card.to_json())
    overflow(rendered)
    if full_width:
        rendered["msteams"] = {**rendered.get("msteams", {}), "width": "Full"}
    return rendered


# Teams' guidelines: no more than six buttons in view; the rest go under the card's "…"
# overflow menu (an action's `mode: "secondary"`, schema 1.5), one per action set.
MAX_VISIBLE_BUTTONS = 6
PRIMARY = "primary"
SECONDARY = "secondary"


def visible_buttons(card: Card) -> list[dict[str, Any]]:
    """The actions a person sees at once on a card: its own and those of every action set
    in its body, less those under an overflow menu (an Action.ShowCard's card is a card of
    its own, seen only when opened)."""
    return [
        action
        for group in (*_body_action_sets(card), card.get("actions") or [])
        for action in group
        if action.get("mode") != SECONDARY
    ]


def _body_action_sets(card: Card) -> list[list[dict[str, Any]]]:
    """The actions of each ActionSet in a card's body, in reading order (not those inside
    an Action.ShowCard's card, which is a card of its own)."""
    found: list[list[dict[str, Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ActionSet":
                found.append(node.get("actions") or [])
                return
            for key, value in node.items():
                if key not in {"actions", "selectAction"}:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body") or [])
    return found


def overflow(card: Card) -> Card:
    """Keep at most six buttons in view, moving the rest to the overflow menu (in place).

    The card's own actions (what the card is for: Next, Publish, Add…) come first, in the
    order given. The body's action sets (usually one per row of a list) share what is left
    a rank at a time: every row's first button, then every row's second, and so on, while
    a whole rank fits; so rows stay alike, and a list too long for even one button a row
    puts each row's buttons under that row's "…". An Action.ShowCard's card is held to the
    same limit when opened. Buttons already marked secondary stay there.
    """
    own = [a for a in card.get("actions") or [] if a.get("mode") != SECONDARY]
    for rank, action in enumerate(own):
        action["mode"] = PRIMARY if rank < MAX_VISIBLE_BUTTONS else SECONDARY
    room = MAX_VISIBLE_BUTTONS - min(len(own), MAX_VISIBLE_BUTTONS)
    rows = [[a for a in row if a.get("mode") != SECONDARY] for row in _body_action_sets(card)]
    shown_per_row = 0
    while True:
        level = [row[shown_per_row] for row in rows if len(row) > shown_per_row]
        if not level or len(level) > room:
            break
        room -= len(level)
        shown_per_row += 1
    for row in rows:
        for place, action in enumerate(row):
            action["mode"] = PRIMARY if place < shown_per_row else SECONDARY
    for group in (*_body_action_sets(card), card.get("actions") or []):
        for action in group:
            if action.get("type") == "Action.ShowCard" and isinstance(action.get("card"), dict):
                overflow(action["card"])
    return card


@cache
def _schema_validator() -> Draft6Validator:
    schema = resources.files("adaptive_cards").joinpath(f"schemas/schema-{CARD_VERSION}.json")
    return Draft6Validator(json.loads(schema.read_text(encoding="utf-8")))


def teams_findings(card: Card) -> list[str]:
    """What is wrong with a card for Teams; empty when valid.

    The library's Teams validator (schema 1.5, 28 KB) checks its own model of the card, which
    drops what it does not know; so the dict as sent is also checked against the schema.
    """
    # `msteams` is Teams' own extension (width, mentions), not in the Adaptive Card schema
    # (which the library's validator also holds its model to): checked on its own.
    adaptive = {key: value for key, value in card.items() if key != "msteams"}
    findings = [
        f"schema: {error.message} at {'/'.join(map(str, error.absolute_path))}"
        for error in _schema_validator().iter_errors(adaptive)
    ]
    findings += _msteams_findings(card.get("msteams"), card_text(adaptive))
    if not card.get("body"):
        findings.append("card body is empty")
    try:
        # adaptive-cards-py types `refresh.action` as a string (the schema: an Action.Execute),
        # so its model is shown the card without `refresh`, which the schema above checked.
        model = ac.AdaptiveCard.model_validate(
            {key: value for key, value in adaptive.items() if key != "refresh"}
        )
    except ValidationError as exc:
        return [*findings, f"model: {exc.error_count()} errors"]
    validator = CardValidatorFactory.create_validator_microsoft_teams()
    validator.validate(model, debug=False)
    return findings + [
        f"{f.failure.value}: {f.message} {f.message_additional}".strip()
        for f in validator.details()
    ]


def _msteams_findings(teams: Any, shown: str) -> list[str]:
    """What is wrong with a card's `msteams` extension: only a full width and mentions, each
    mention's `<at>` text among what the card shows (Teams' card mentions)."""
    if teams is None:
        return []
    if not isinstance(teams, dict):
        return ["msteams: not an object"]
    findings = [f"msteams: unknown {key!r}" for key in teams if key not in {"width", "entities"}]
    if "width" in teams and teams["width"] != "Full":
        findings.append(f"msteams: width {teams['width']!r}, not 'Full'")
    for entity in teams.get("entities", []):
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        text = entity.get("text") if isinstance(entity, dict) else None
        if (
            entity.get("type") != "mention"
            or not isinstance(text, str)
            or not isinstance(mentioned, dict)
            or not mentioned.get("id")
            or not mentioned.get("name")
        ):
            findings.append(f"msteams: not a mention: {entity!r}"[:200])
        elif text not in shown:
            findings.append(f"msteams: the mention {text!r} is not on the card")
    return findings


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
    """The card with a first line naming the panel it concerns (for someone on several);
    the card as it is when that line is there already (a reply sent on to the private chat
    is named once)."""
    line = {
        "type": "TextBlock",
        "text": f"Panel: {panel_name}",
        "isSubtle": True,
        "size": "small",
        "wrap": True,
    }
    body = card.get("body") or []
    if body and body[0] == line:
        return card
    return {**card, "body": [line, *body]}


# The key every button of a card sent to a private chat carries the card's panel under
# (bot.kernel.turns.acting_for): someone on several panels answers a card for the panel it
# came from, whichever panel they act for now. Only a panel id: nothing of a person.
CARD_PANEL = "card_panel"
_BUTTONS = frozenset({"Action.Execute", "Action.Submit"})


def stamped(card: Card, panel_id: str) -> Card:
    """The card with `panel_id` in the data of every button at any depth (its actions, its
    action sets, a Show card's card, a select action, its refresh): a new card, the one
    given left as it is (it may be a sealed view)."""
    return _stamp(card, panel_id)  # type: ignore[no-any-return]


def _stamp(node: Any, panel_id: str) -> Any:
    if isinstance(node, list):
        return [_stamp(item, panel_id) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: _stamp(value, panel_id) for key, value in node.items()}
    if copied.get("type") in _BUTTONS:
        data = copied.get("data")
        if data is None or isinstance(data, dict):
            copied["data"] = {**(data or {}), CARD_PANEL: panel_id}
    return copied


# Teams refreshes a card by itself for at most this many people (Universal Actions).
MAX_REFRESH_USERS = 60
SHOW_MY_VIEW = "Show my view"


def with_refresh(card: Card, verb: str, data: dict[str, Any], user_ids: Sequence[str]) -> Card:
    """The card with Universal Actions' `refresh`: the clients of `user_ids` (MRIs, the
    first 60) ask the bot, with `verb` and `data`, for their reader's own view. When more
    are concerned, a "Show my view" button asks the same for anyone by hand."""
    action = {"type": "Action.Execute", "title": SHOW_MY_VIEW, "verb": verb, "data": data}
    refreshed: Card = {
        **card,
        "refresh": {"action": action, "userIds": list(user_ids[:MAX_REFRESH_USERS])},
    }
    if len(user_ids) > MAX_REFRESH_USERS:
        refreshed["actions"] = [*(card.get("actions") or []), dict(action)]
    return refreshed
