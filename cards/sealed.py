"""A card that cannot change: one object a kept view answers many turns with.

A view kept between turns (the agenda card, kept by the panel's data version) used to be
kept as JSON text and parsed again for every turn, so that no reply could change what the
next turn shows; and each reply was then copied twice more on its way out (botbuilder
deep-copies every activity it sends, the Teams layer snapshots every card it sends). A
sealed card is made once, is checked then to be plain JSON, refuses every change at every
depth, and is its own copy: a kept card answers each turn as it is, and what botbuilder and
the Teams layer do with it cannot reach the next turn.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SEALED = "a sealed card cannot change"


def _refuse() -> NoReturn:
    raise TypeError(SEALED)


class SealedCard(dict[str, Any]):
    """A card, or any object inside one, that refuses every change; made by `seal`."""

    def __setitem__(self, key: str, value: Any) -> None:
        _refuse()

    def __delitem__(self, key: str) -> None:
        _refuse()

    # `|=` and `+=` change a dict or list in place without calling update or extend.
    def __ior__(self, _other: Any) -> SealedCard:  # type: ignore[override, misc]
        _refuse()

    def clear(self) -> None:
        _refuse()

    def pop(self, *_args: Any) -> Any:
        _refuse()

    def popitem(self) -> tuple[str, Any]:
        _refuse()

    def setdefault(self, *_args: Any) -> Any:
        _refuse()

    def update(self, *_args: Any, **_kwargs: Any) -> None:
        _refuse()

    def __copy__(self) -> SealedCard:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> SealedCard:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (seal, (dict(self),))


class SealedList(list[Any]):
    """A list inside a sealed card (its body, its actions), equally unchangeable."""

    def __setitem__(self, index: Any, value: Any) -> None:
        _refuse()

    def __delitem__(self, index: Any) -> None:
        _refuse()

    def __iadd__(self, _other: Iterable[Any]) -> SealedList:  # type: ignore[misc]
        _refuse()

    def __imul__(self, _count: SupportsIndex) -> SealedList:
        _refuse()

    def append(self, _item: Any) -> None:
        _refuse()

    def extend(self, _items: Iterable[Any]) -> None:
        _refuse()

    def insert(self, _index: SupportsIndex, _item: Any) -> None:
        _refuse()

    def pop(self, _index: SupportsIndex = -1) -> Any:
        _refuse()

    def remove(self, _item: Any) -> None:
        _refuse()

    def clear(self) -> None:
        _refuse()

    def sort(self, *_args: Any, **_kwargs: Any) -> None:
        _refuse()

    def reverse(self) -> None:
        _refuse()

    def __copy__(self) -> SealedList:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> SealedList:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_sealed, (list(self),))


def _sealed(node: Any) -> Any:
    if isinstance(node, dict):
        return SealedCard({key: _sealed(value) for key, value in node.items()})
    if isinstance(node, list):
        return SealedList(_sealed(item) for item in node)
    return node


def seal(card: Mapping[str, Any]) -> SealedCard:
    """The card, sealed; raises ValueError or TypeError for anything that is not plain JSON
    (dates, NaN, enums that are not strings), which no sealed card holds."""
    if isinstance(card, SealedCard):
        return card
    plain = json.loads(json.dumps(card, allow_nan=False))
    if not isinstance(plain, dict):
        raise TypeError("a card is a JSON object")
    sealed: SealedCard = _sealed(plain)
    return sealed
