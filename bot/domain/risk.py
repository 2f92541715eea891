"""The risk matrix: configuration data (items, options, threshold) and the scoring rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Mapping


class RiskLevel(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class RiskOption:
    value: str
    label: str
    score: int


@dataclass(frozen=True)
class RiskItem:
    id: str
    question: str
    options: tuple[RiskOption, ...]

    def option(self, value: str) -> RiskOption:
        """The option with this value, or an InvalidInput naming the item."""
        for option in self.options:
            if option.value == value:
                return option
        raise InvalidInput(
            f"'{value}' is not an answer to “{self.question}”.", {f"risk.{self.id}": "invalid"}
        )


@dataclass(frozen=True)
class RiskMatrix:
    """A versioned matrix; a total strictly above `threshold` is high risk."""

    version: str
    threshold: int
    items: tuple[RiskItem, ...]
    example: bool = False

    def score(self, answers: Mapping[str, str]) -> int:
        """The total of the scores of the given answers; every item must be answered."""
        missing = {f"risk.{item.id}": "required" for item in self.items if item.id not in answers}
        if missing:
            raise InvalidInput("Every risk question needs an answer.", missing)
        known = {item.id for item in self.items}
        unknown = {f"risk.{key}": "unknown" for key in answers if key not in known}
        if unknown:
            raise InvalidInput(
                "The answers name risk questions this matrix does not have.", unknown
            )
        return sum(item.option(answers[item.id]).score for item in self.items)

    def is_high(self, total: int) -> bool:
        """Whether a total counts as high risk under this matrix."""
        return total > self.threshold

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RiskMatrix:
        """Build a matrix from its configuration data, refusing malformed data."""
        try:
            items = tuple(
                RiskItem(
                    id=str(item["id"]),
                    question=str(item["question"]),
                    options=tuple(
                        RiskOption(str(o["value"]), str(o["label"]), int(o["score"]))
                        for o in item["options"]
                    ),
                )
                for item in data["items"]
            )
            matrix = cls(
                version=str(data["version"]),
                threshold=int(data["threshold"]),
                items=items,
                example=bool(data.get("example", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("The risk matrix configuration is malformed.") from exc
        if not matrix.items or len({i.id for i in matrix.items}) != len(matrix.items):
            raise InvalidInput("A risk matrix needs items with distinct ids.")
        return matrix
