"""Configuration data the panel can replace, loaded from files.

The risk matrix: each panel scores referrals with its own matrix, chosen like its meeting
schedule (RISK_MATRIX_FILE): one matrix for every panel, or
`{"default": <matrix>, "teams": {"<Teams team id>": <matrix>}}`. Without a file, or for a
panel the file does not name and no default given, the shipped example matrix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput
from bot.domain.risk import RiskMatrix

if TYPE_CHECKING:
    from pathlib import Path

    from bot.domain.panel import Panel

BOOK_KEYS = frozenset({"default", "teams"})


class RiskMatrixError(InvalidInput):
    """The risk matrix file cannot be used; the message names the file and the problem."""


@cache
def example_matrix() -> RiskMatrix:
    """The example matrix shipped with the product (labelled as an example)."""
    text = resources.files("bot.kernel").joinpath("risk_matrix_example.json").read_text()
    return RiskMatrix.from_data(json.loads(text))


def load_risk_matrix(path: Path | None = None) -> RiskMatrix:
    """One risk matrix from a JSON file, or the shipped example when none is given."""
    if path is None:
        return example_matrix()
    return RiskMatrix.from_data(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class RiskBook:
    """Which matrix each panel scores with: by the panel's Teams team id, else the default
    (the shipped example unless the file gives one)."""

    default: RiskMatrix = field(default_factory=example_matrix)
    by_team: Mapping[str, RiskMatrix] = field(default_factory=dict)

    def matrix_for(self, panel: Panel) -> RiskMatrix:
        """The panel's current matrix."""
        return self.by_team.get(panel.team_id) or self.default


def risk_book_from_data(data: Any) -> RiskBook:
    """Read the matrix configuration: one matrix, or a default and one per team."""
    if not isinstance(data, Mapping):
        raise InvalidInput("The risk matrix configuration is a JSON object.")
    if not (BOOK_KEYS & set(data)):
        return _one_matrix_a_version(RiskBook(default=RiskMatrix.from_data(data)))
    if unknown := sorted(str(key) for key in data if key not in BOOK_KEYS):
        raise InvalidInput(f"Unknown risk matrix configuration key: {', '.join(unknown)[:80]}.")
    teams = data.get("teams", {})
    if not isinstance(teams, Mapping):
        raise InvalidInput("teams maps a Teams team id to its matrix.")
    by_team: dict[str, RiskMatrix] = {}
    for team_id, matrix in teams.items():
        try:
            by_team[str(team_id)] = RiskMatrix.from_data(matrix)
        except InvalidInput as exc:
            raise InvalidInput(f"Team {str(team_id)[:60]}: {exc.message}") from None
    if data.get("default") is None:
        return _one_matrix_a_version(RiskBook(by_team=by_team))
    try:
        default = RiskMatrix.from_data(data["default"])
    except InvalidInput as exc:
        raise InvalidInput(f"default: {exc.message}") from None
    return _one_matrix_a_version(RiskBook(default=default, by_team=by_team))


def _one_matrix_a_version(book: RiskBook) -> RiskBook:
    """A version names one matrix: two different matrices under one version (or a changed
    copy of the example under its version) would make a referral's version ambiguous."""
    seen: dict[str, RiskMatrix] = {}
    for matrix in (example_matrix(), book.default, *book.by_team.values()):
        if seen.setdefault(matrix.version, matrix) != matrix:
            raise InvalidInput(
                f"Version {matrix.version} names two different matrices: give each its own."
            )
    return book


def load_risk_book(path: Path | None) -> RiskBook:
    """The panels' matrices from RISK_MATRIX_FILE; the shipped example without one.
    RiskMatrixError, naming the file and the problem, when it cannot be used."""
    if path is None:
        return RiskBook()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RiskMatrixError(f"Cannot read the risk matrix file {path}: {exc}") from None
    try:
        return risk_book_from_data(data)
    except InvalidInput as exc:
        raise RiskMatrixError(f"The risk matrix file {path}: {exc.message}") from None
