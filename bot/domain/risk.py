"""The risk matrix: configuration data (items, options, threshold) and the scoring rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.errors import InvalidInput


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
        return above_threshold(total, self.threshold)

    @property
    def max_total(self) -> int:
        """The highest total the matrix can give."""
        return sum(max(option.score for option in item.options) for item in self.items)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RiskMatrix:
        """Build a matrix from its configuration data, refusing malformed data with a
        message that says what is wrong (the first problem found)."""
        if not isinstance(data, Mapping):
            raise InvalidInput("A risk matrix is a JSON object.")
        try:
            items = tuple(_item(n, item) for n, item in enumerate(data["items"], start=1))
            matrix = cls(
                version=str(data["version"]).strip(),
                threshold=_whole(data["threshold"], "threshold"),
                items=items,
                example=data.get("example", False) is True,
            )
        except KeyError as exc:
            raise InvalidInput(f"The risk matrix has no {exc.args[0]!r}.") from None
        except TypeError:
            raise InvalidInput("The risk matrix's items are a list of objects.") from None
        if not matrix.version or len(matrix.version) > MAX_VERSION:
            raise InvalidInput(f"A risk matrix's version is 1 to {MAX_VERSION} characters.")
        if not matrix.items:
            raise InvalidInput("A risk matrix needs at least one item.")
        ids = [item.id for item in matrix.items]
        if repeated := sorted({i for i in ids if ids.count(i) > 1}):
            raise InvalidInput(f"Risk items need distinct ids: {', '.join(repeated)[:80]}.")
        return matrix


# The length of a version, as referrals store it (the column is 32 characters).
MAX_VERSION = 32


def above_threshold(total: int, threshold: int) -> bool:
    """The scoring rule: a total strictly above the threshold is high risk."""
    return total > threshold


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"The risk matrix's {what} is a whole number.")
    return value


def _item(number: int, data: Any) -> RiskItem:
    """The matrix's `number`th item (1-based), or an InvalidInput naming it."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"Risk item {number} is not an object.")
    try:
        item_id, question, options = str(data["id"]).strip(), data["question"], data["options"]
    except KeyError as exc:
        raise InvalidInput(f"Risk item {number} has no {exc.args[0]!r}.") from None
    name = item_id[:40] or str(number)
    if not item_id or not isinstance(question, str) or not question.strip():
        raise InvalidInput(f"Risk item {name} needs an id and a question.")
    if not isinstance(options, list) or not options:
        raise InvalidInput(f"Risk item {name} needs a list of options.")
    read: list[RiskOption] = []
    for option in options:
        if not isinstance(option, Mapping) or not {"value", "label", "score"} <= set(option):
            raise InvalidInput(f"Each option of risk item {name} has a value, label and score.")
        score = _whole(option["score"], f"item {name}'s scores")
        read.append(RiskOption(str(option["value"]), str(option["label"]), score))
    values = [option.value for option in read]
    if len(set(values)) != len(values):
        raise InvalidInput(f"The options of risk item {name} need distinct values.")
    return RiskItem(id=item_id, question=question.strip(), options=tuple(read))
