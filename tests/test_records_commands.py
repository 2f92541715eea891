"""The records feature's commands, read at the edge from what a person typed or a card sent.

The use cases are tested through the app and their own tests (test_sar*, test_erase*,
test_stats*); these pin what the parsing alone accepts and refuses, with the card modules'
own keys.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.retention import Person, PersonQuery
from bot.domain.stats import Quarter
from bot.features.records.commands import (
    ERASE_OUT_OF_DATE,
    ERASE_USAGE,
    EXAMPLE,
    GIVE_NAME,
    NOT_A_POSTCODE,
    SAR_USAGE,
    STATS_OUT_OF_DATE,
    STATS_USAGE,
    AskWho,
    ChosenPerson,
    ConfirmErasure,
    SearchPerson,
    ShowStats,
    person_asked,
)
from cards.dataprotection import (
    BIRTH_DATE_ID,
    CHOSEN,
    CHOSEN_KEY,
    MAX_REASON,
    NAME_ID,
    POSTCODE_ID,
    REASON_ID,
    TOKEN_KEY,
)
from cards.stats import QUARTER_KEY

if TYPE_CHECKING:
    from collections.abc import Callable

ROSA = {NAME_ID: "Rosa  Lindqvist", BIRTH_DATE_ID: "1986-09-02", POSTCODE_ID: ""}


def refusal(read: Callable[[], object]) -> str:
    """The message a command refuses with."""
    with pytest.raises(InvalidInput) as refused:
        read()
    return refused.value.message


# ---- who a subject access search or an erasure is about -----------------------------------------


def test_sar_or_erase_alone_asks_who() -> None:
    assert SearchPerson.typed("  ", SAR_USAGE) == AskWho()


def test_a_typed_name_with_a_date_of_birth_and_a_postcode_is_one_search() -> None:
    command = SearchPerson.typed("Rosa Lindqvist 02/09/1986 RV2 7LD", SAR_USAGE)
    assert command == SearchPerson(PersonQuery("Rosa Lindqvist", date(1986, 9, 2), "RV2 7LD"))


@pytest.mark.parametrize("usage", [SAR_USAGE, ERASE_USAGE])
def test_a_typed_mistake_says_how_to_write_it_for_the_command_used(usage: str) -> None:
    message = refusal(lambda: SearchPerson.typed("Rosa Lindqvist 31/02/1986", usage))
    assert message.endswith(f" Write it as: {usage}, {EXAMPLE}.")


def test_the_form_searches_by_name_with_a_date_of_birth_and_postcode_if_given() -> None:
    assert SearchPerson.of({NAME_ID: " Jonas  Berg "}) == SearchPerson(PersonQuery("Jonas Berg"))
    assert SearchPerson.of({**ROSA, POSTCODE_ID: "rv27ld"}).query == PersonQuery(
        "Rosa Lindqvist", date(1986, 9, 2), "RV2 7LD"
    )
    assert refusal(lambda: SearchPerson.of({NAME_ID: "  "})) == GIVE_NAME
    assert refusal(lambda: SearchPerson.of({NAME_ID: "Jonas Berg", POSTCODE_ID: "NB3"})) == (
        NOT_A_POSTCODE
    )


def test_a_listed_persons_button_chooses_them_as_recorded() -> None:
    chosen = person_asked({**ROSA, CHOSEN_KEY: CHOSEN})
    assert chosen == ChosenPerson(Person("Rosa Lindqvist", date(1986, 9, 2)))
    no_birthday = ChosenPerson.of({NAME_ID: "Rosa Lindqvist", POSTCODE_ID: "NB1 4QT"})
    assert no_birthday.person == Person("Rosa Lindqvist", None, "NB1 4QT")
    assert isinstance(person_asked({**ROSA, CHOSEN_KEY: "yes"}), SearchPerson)


def test_the_erase_button_reads_its_token_the_person_and_the_reason() -> None:
    reason = "  Erasure request under\nUK GDPR Art. 17  "
    command = ConfirmErasure.of({**ROSA, TOKEN_KEY: "t1", REASON_ID: reason})
    assert (command.token, command.person) == ("t1", Person("Rosa Lindqvist", date(1986, 9, 2)))
    assert command.reason_typed == reason.strip()
    assert command.reason == "Erasure request under UK GDPR Art. 17"
    assert ConfirmErasure.of({**ROSA, TOKEN_KEY: "t1"}).reason is None


@pytest.mark.parametrize(
    "data",
    [ROSA, {**ROSA, TOKEN_KEY: "  "}, {TOKEN_KEY: "t1"}, {**ROSA, TOKEN_KEY: "t1", NAME_ID: ""}],
)
def test_an_erase_button_without_its_token_or_person_is_out_of_date(data: dict[str, str]) -> None:
    assert refusal(lambda: ConfirmErasure.of(data)) == ERASE_OUT_OF_DATE


def test_an_overlong_reason_is_refused_before_anything_is_erased() -> None:
    data = {**ROSA, TOKEN_KEY: "t1", REASON_ID: "x" * (MAX_REASON + 1)}
    assert refusal(lambda: ConfirmErasure.of(data)) == f"Keep this under {MAX_REASON} characters."


# ---- the statistics ---------------------------------------------------------------------------


def test_stats_reads_this_quarter_or_the_one_named() -> None:
    assert ShowStats.typed("") == ShowStats(None)
    assert ShowStats.typed("2026-q3") == ShowStats(Quarter(2026, 3))
    assert ShowStats.typed("Q3 2026") == ShowStats(Quarter(2026, 3))
    assert refusal(lambda: ShowStats.typed("Q3 of 2026")) == f"Write it as: {STATS_USAGE}."


def test_a_quarter_button_names_its_quarter_or_is_out_of_date() -> None:
    assert ShowStats.of({QUARTER_KEY: "2026-Q4"}) == ShowStats(Quarter(2026, 4))
    for data in ({}, {QUARTER_KEY: 2026}, {QUARTER_KEY: "2026-Q4" * 2}):
        assert refusal(lambda data=data: ShowStats.of(data)) == STATS_OUT_OF_DATE
