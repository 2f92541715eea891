"""The actions feature's commands (bot.features.actions.commands): a click read from the very
card the bot renders, and the typed arguments of `actions`, `away` and `back`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.domain.errors import InvalidInput
from bot.features.actions.commands import (
    OUT_OF_DATE,
    UNREADABLE,
    Away,
    Back,
    Click,
    ListActions,
)
from bot.features.actions.gallery import demo_item
from bot.kernel.guard import DATA_KEYS, Target
from cards.actions import (
    BOX_OF,
    CARD_VIEW,
    INDEX_KEY,
    LIST_VIEW,
    MAX_NOTE,
    NOTE_INPUT,
    REASON_INPUT,
    TOKEN_KEY,
    UPDATE_INPUT,
    VIEW_KEY,
    ActionGroup,
    ActionListView,
    Buttons,
    field_id,
    render_action,
    render_action_list,
)
from cards.verbs import ACTION_ID_KEY, AGENCY_ID_KEY, Verb
from tests.support import cards

TODAY = date(2026, 11, 20)


def pressed(card: dict[str, Any], verb: Verb, nth: int = 0) -> dict[str, Any]:
    """The data the nth button with `verb` sends (without what was typed)."""
    return cards.data(cards.button(card, verb=verb, nth=nth))


def action_card(**buttons: Any) -> dict[str, Any]:
    item = demo_item(action_id="action-1", version=4)
    return render_action(item, panel_name="Riverside", buttons=Buttons(token="t-1", **buttons))


@pytest.mark.parametrize("verb", [Verb.ACTION_DONE, Verb.ACTION_UPDATE, Verb.ACTION_CANT])
def test_a_click_on_an_action_card_reads_back_what_the_card_wrote(verb: Verb) -> None:
    data = pressed(action_card(copy="row-7"), verb)
    data[field_id(BOX_OF[verb], 0)] = "  Camera\n fitted  today "
    click = Click.parse(data, verb)
    assert click == Click(
        verb=verb,
        action_id="action-1",
        token="t-1",
        version=4,
        view=CARD_VIEW,
        index=0,
        copy="row-7",
        agency_id=None,
        typed="Camera fitted today",
    )
    assert click.text() == "Camera fitted today"


def test_a_click_on_the_second_action_of_a_list_reads_that_actions_boxes() -> None:
    items = [demo_item(action_id="first"), demo_item(action_id="second")]
    card = render_action_list(
        ActionListView(
            panel_name="Riverside",
            title="Open actions",
            groups=[ActionGroup(None, items)],
            buttons=Buttons(token="t-2", view=LIST_VIEW, agency_id="housing"),
        )
    )
    data = pressed(card, Verb.ACTION_UPDATE, nth=1)
    data[field_id(UPDATE_INPUT, 0)] = "typed for the first"
    data[field_id(UPDATE_INPUT, 1)] = "typed for the second"
    click = Click.parse(data, Verb.ACTION_UPDATE)
    assert (click.action_id, click.index, click.view) == ("second", 1, LIST_VIEW)
    assert (click.agency_id, click.copy) == ("housing", None)
    assert click.text() == "typed for the second"


def test_the_guard_checks_the_action_and_agency_the_parser_reads() -> None:
    assert DATA_KEYS[Target.ACTION] == ACTION_ID_KEY
    assert DATA_KEYS[Target.AGENCY] == AGENCY_ID_KEY


def test_each_buttons_form_has_its_own_box() -> None:
    assert BOX_OF == {
        Verb.ACTION_DONE: NOTE_INPUT,
        Verb.ACTION_UPDATE: UPDATE_INPUT,
        Verb.ACTION_CANT: REASON_INPUT,
    }


@pytest.mark.parametrize("missing", [ACTION_ID_KEY, TOKEN_KEY])
def test_a_click_naming_no_action_or_token_is_out_of_date(missing: str) -> None:
    data = pressed(action_card(), Verb.ACTION_DONE)
    del data[missing]
    with pytest.raises(InvalidInput) as refused:
        Click.parse(data, Verb.ACTION_DONE)
    assert refused.value.message == OUT_OF_DATE


def test_a_click_whose_ids_are_not_text_is_refused_as_unreadable() -> None:
    data = {**pressed(action_card(), Verb.ACTION_DONE), ACTION_ID_KEY: ["a", "b"]}
    with pytest.raises(InvalidInput) as refused:
        Click.parse(data, Verb.ACTION_DONE)
    assert refused.value.message == UNREADABLE


def test_an_overlong_id_is_refused_with_the_limit() -> None:
    data = {**pressed(action_card(), Verb.ACTION_DONE), TOKEN_KEY: "t" * 65}
    with pytest.raises(InvalidInput) as refused:
        Click.parse(data, Verb.ACTION_DONE)
    assert refused.value.message == "Keep it under 64 characters."


@pytest.mark.parametrize(("view", "index"), [("board", 3), (LIST_VIEW, 100), (CARD_VIEW, True)])
def test_an_unknown_view_or_index_falls_back_to_the_card_and_its_first_action(
    view: str, index: object
) -> None:
    data = {**pressed(action_card(), Verb.ACTION_DONE), VIEW_KEY: view, INDEX_KEY: index}
    click = Click.parse(data, Verb.ACTION_DONE)
    assert click.view == (LIST_VIEW if view == LIST_VIEW else CARD_VIEW)
    assert click.index == (3 if view == "board" else 0)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("x" * (MAX_NOTE + 1), f"Keep it under {MAX_NOTE} characters."),
        (["not", "text"], UNREADABLE),
    ],
)
def test_an_unreadable_box_is_refused_only_when_its_text_is_needed(
    typed: object, says: str
) -> None:
    data = {**pressed(action_card(), Verb.ACTION_UPDATE), field_id(UPDATE_INPUT, 0): typed}
    click = Click.parse(data, Verb.ACTION_UPDATE)  # the card says so, once the action is known
    assert click.typed is None
    with pytest.raises(InvalidInput) as refused:
        click.text()
    assert refused.value.message == says


def test_an_empty_box_reads_as_nothing_typed() -> None:
    data = {**pressed(action_card(), Verb.ACTION_CANT), field_id(REASON_INPUT, 0): "  \n "}
    assert Click.parse(data, Verb.ACTION_CANT).text() is None


@pytest.mark.parametrize(
    ("args", "agency", "command"),
    [("", None, "actions"), ("  Housing ", "Housing", "actions Housing")],
)
def test_actions_names_an_agency_or_none(args: str, agency: str | None, command: str) -> None:
    asked = ListActions.parse(args)
    assert (asked.agency, asked.command, asked.done) == (agency, command, False)


@pytest.mark.parametrize(
    ("args", "agency", "command"),
    [
        ("done", None, "actions done"),
        (" DONE  Riverside Homes ", "Riverside Homes", "actions done Riverside Homes"),
        ("finished Housing", "Housing", "actions done Housing"),
    ],
)
def test_actions_done_asks_for_the_finished_ones(
    args: str, agency: str | None, command: str
) -> None:
    asked = ListActions.parse(args)
    assert (asked.agency, asked.command, asked.done) == (agency, command, True)


@pytest.mark.parametrize(
    ("args", "who"),
    [
        ("until 2026-12-24", None),
        ("me until 2026-12-24", None),
        ("  Gemma   Hartley  UNTIL 2026-12-24 ", "Gemma Hartley"),
    ],
)
def test_away_reads_whom_and_the_last_day(args: str, who: str | None) -> None:
    assert Away.parse(args, TODAY) == Away(until=date(2026, 12, 24), who=who)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("next week", "Write it as: away until 2026-12-24 (the last day you are away)."),
        ("until 24/12/2026", "Write the date as 2026-12-24: away until 2026-12-24."),
        ("until 2026-11-19", "That date has passed: give the last day you are away."),
        ("until 2027-11-22", "That is more than a year away: give an earlier date."),
    ],
)
def test_away_refuses_a_date_it_cannot_use(args: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Away.parse(args, TODAY)
    assert refused.value.message == says


def test_away_accepts_today_and_a_year_ahead() -> None:
    assert Away.parse("until 2026-11-20", TODAY).until == TODAY
    assert Away.parse("until 2027-11-21", TODAY).until == date(2027, 11, 21)


@pytest.mark.parametrize(
    ("args", "who"), [("", None), (" ME ", None), (" Gemma  Hartley", "Gemma Hartley")]
)
def test_back_reads_whom(args: str, who: str | None) -> None:
    assert Back.parse(args) == Back(who)
