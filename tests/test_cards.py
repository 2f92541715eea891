"""The card gallery: the validator it is checked with finds faults, the cards for shared chats
name none of the panel's people, and `python -m bot cards` writes it (what every card holds is
in test_card_invariants)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import build_router
from bot.gallery import gallery
from cards.kit import card_text, teams_findings

ROOT = Path(__file__).resolve().parents[1]
CARDS = gallery(build_router())


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


def test_channel_cards_carry_no_personal_data() -> None:
    """No subject and no member is named on a channel card, but for the welcome's mention of
    whoever added the bot (a member of staff, named to the channel they added it to)."""
    for name in ("welcome-channel", "welcome-unregistered-team", "help-channel"):
        text = card_text(CARDS[name])
        if name == "welcome-channel":
            assert "<at>Priya Raman</at> added me" in text
            text = text.replace("<at>Priya Raman</at>", "")
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
