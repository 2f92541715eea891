"""The card gallery: every card the bot can send passes the Teams validator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_router
from bot.gallery import gallery
from cards.kit import card_text, teams_findings
from cards.verbs import Verb

ROOT = Path(__file__).resolve().parents[1]
CARDS = gallery(build_router())


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_gallery_card_passes_the_teams_validator(name: str) -> None:
    card = CARDS[name]
    assert teams_findings(card) == []
    assert card["version"] == "1.5"
    assert len(json.dumps(card).encode()) < 28 * 1024


@pytest.mark.parametrize(
    "fault",
    [
        {"body": []},
        {"body": [{"type": "TextBlock", "text": "x" * 30_000}]},
        {"body": [{"type": "TextBlock", "text": "x", "size": "enormous"}]},
        {"body": [{"type": "NoSuchElement"}]},
    ],
    ids=["empty", "too-large", "bad-enum", "unknown-element"],
)
def test_the_validator_really_finds_faults(fault: dict[str, object]) -> None:
    assert teams_findings({**CARDS["help-coordinator"], **fault})


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_button_carries_a_known_verb(name: str) -> None:
    def buttons(node: object) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        if isinstance(node, dict):
            if node.get("type") in {"Action.Submit", "Action.Execute"}:
                found.append(node)
            for value in node.values():
                found.extend(buttons(value))
        elif isinstance(node, list):
            for item in node:
                found.extend(buttons(item))
        return found

    verbs = {v.value for v in Verb}
    for button in buttons(CARDS[name]):
        verb = button.get("verb") or (button.get("data") or {}).get("verb")  # type: ignore[union-attr]
        assert verb in verbs, button


def test_channel_cards_carry_no_personal_data() -> None:
    for name in ("welcome-channel", "welcome-unregistered-team", "help-channel"):
        text = card_text(CARDS[name])
        for invented_person in ("Margaret", "Ellison", "Rosa", "Lindqvist", "Gemma", "Priya"):
            assert invented_person not in text, (name, invented_person)


def test_the_cards_command_writes_the_gallery(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "cards", str(tmp_path / "gallery")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    written = sorted(p.stem for p in (tmp_path / "gallery").glob("*.json"))
    assert written == sorted(CARDS)
    assert f"{len(CARDS)} cards written" in result.stdout
    for path in (tmp_path / "gallery").glob("*.json"):
        assert teams_findings(json.loads(path.read_text())) == []
