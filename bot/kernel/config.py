"""Configuration data the panel can replace, loaded from files."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from bot.domain.risk import RiskMatrix

if TYPE_CHECKING:
    from pathlib import Path


def load_risk_matrix(path: Path | None = None) -> RiskMatrix:
    """The panel's risk matrix from a JSON file, or the shipped example when none is given."""
    if path is None:
        text = resources.files("bot.kernel").joinpath("risk_matrix_example.json").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    return RiskMatrix.from_data(json.loads(text))
