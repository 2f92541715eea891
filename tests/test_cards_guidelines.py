"""The card kit keeps Teams' card guidelines for every card: the title is a heading, at most
six buttons are in view (the rest under the "…" overflow, in the order that keeps the card's
own buttons and keeps rows alike), and a table may take the chat's full width. Every card
built here passes the schema-1.5 check and the Teams validator."""

from __future__ import annotations

from typing import Any

from adaptive_cards import card as ac

from cards.kit import build, command_button, heading, paragraph, teams_findings, visible_buttons


def titles(actions: list[dict[str, Any]]) -> list[str]:
    return [str(a["title"]) for a in actions]


def row(number: int, *names: str) -> Any:
    """One row of a list: its text and an action set with a button per name."""
    return ac.Container(
        items=[
            paragraph(f"Row {number}"),
            ac.ActionSet(actions=[command_button(f"{name} {number}", "help") for name in names]),
        ]
    )


def action_sets(card: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [item["actions"] for container in card["body"][1:] for item in container["items"][1:]]


def modes(actions: list[dict[str, Any]]) -> list[str]:
    return [str(a["mode"]) for a in actions]


def test_the_title_is_a_heading_and_its_subtitle_is_not() -> None:
    card = build(heading("Panel meetings", "Riverside Community MARAC"))
    title, subtitle = card["body"]
    assert title["style"] == "heading" and title["text"] == "Panel meetings"
    assert "style" not in subtitle
    assert teams_findings(card) == []


def test_a_card_with_six_buttons_or_fewer_shows_them_all() -> None:
    card = build(
        heading("Actions"),
        [command_button(f"Button {n}", "help") for n in range(6)],
    )
    assert modes(card["actions"]) == ["primary"] * 6
    assert len(visible_buttons(card)) == 6


def test_the_cards_own_buttons_beyond_six_go_under_the_overflow_in_order() -> None:
    card = build(heading("Many"), [command_button(f"Button {n}", "help") for n in range(9)])
    assert modes(card["actions"]) == ["primary"] * 6 + ["secondary"] * 3
    assert titles(visible_buttons(card)) == [f"Button {n}" for n in range(6)]
    assert teams_findings(card) == []


def test_rows_share_what_the_cards_own_buttons_leave_a_whole_rank_at_a_time() -> None:
    """Two buttons of the card's own, three rows of three: each row's first button fits
    (3 of the 4 left), the second rank (3 more) does not: rows stay alike."""
    card = build(
        [*heading("Open actions"), *(row(n, "Done", "Update", "Can't") for n in (1, 2, 3))],
        [command_button("Overdue", "help"), command_button("Finished", "help")],
    )
    assert modes(card["actions"]) == ["primary", "primary"]
    for actions in action_sets(card):
        assert modes(actions) == ["primary", "secondary", "secondary"]
    assert titles(visible_buttons(card)) == ["Done 1", "Done 2", "Done 3", "Overdue", "Finished"]
    assert teams_findings(card) == []


def test_two_rows_of_three_with_no_buttons_of_the_card_show_whole() -> None:
    card = build([*heading("Open actions"), *(row(n, "Done", "Update", "Can't") for n in (1, 2))])
    assert [modes(actions) for actions in action_sets(card)] == [["primary"] * 3] * 2


def test_a_list_too_long_for_one_button_a_row_puts_every_rows_buttons_under_its_overflow() -> None:
    card = build(
        [*heading("Panel members"), *(row(n, "Change") for n in range(1, 8))],
        [command_button("Add a member", "help")],
    )
    assert all(modes(actions) == ["secondary"] for actions in action_sets(card))
    assert titles(visible_buttons(card)) == ["Add a member"]
    # every button is still on the card, reachable from its row's "…"
    assert sum(len(actions) for actions in action_sets(card)) == 7
    assert teams_findings(card) == []


def test_an_opened_show_cards_card_is_held_to_six_on_its_own() -> None:
    inner = ac.AdaptiveCard.new().version("1.5").add_items([paragraph("Why?")])
    inner = inner.add_actions([command_button(f"Reason {n}", "help") for n in range(8)])
    card = build(heading("Decline"), [ac.ActionShowCard(title="Decline…", card=inner.create())])
    shown = card["actions"][0]
    assert shown["mode"] == "primary"
    assert modes(shown["card"]["actions"]) == ["primary"] * 6 + ["secondary"] * 2
    assert teams_findings(card) == []


def test_a_button_made_secondary_by_its_card_stays_under_the_overflow() -> None:
    hidden = ac.ActionSubmit(title="Rarely", data={"verb": "command"}, mode="secondary")
    card = build(heading("One"), [command_button("Often", "help"), hidden])
    assert modes(card["actions"]) == ["primary", "secondary"]
    assert titles(visible_buttons(card)) == ["Often"]


def test_a_table_takes_the_full_width_and_other_cards_do_not() -> None:
    table = build(heading("The caseload"), full_width=True)
    assert table["msteams"] == {"width": "Full"}
    assert "msteams" not in build(heading("Your membership"))
    assert teams_findings(table) == []


def test_teams_extension_is_checked_on_its_own_mentions_and_width() -> None:
    """`msteams` is not in the Adaptive Card schema: the kit checks what Teams reads there."""
    card = build([*heading("Welcome"), paragraph("Added by <at>Priya Raman</at>.")])
    mention = {
        "type": "mention",
        "text": "<at>Priya Raman</at>",
        "mentioned": {"id": "29:priya", "name": "Priya Raman"},
    }
    assert teams_findings({**card, "msteams": {"entities": [mention], "width": "Full"}}) == []
    absent = {**mention, "text": "<at>Tom Okafor</at>"}
    assert teams_findings({**card, "msteams": {"entities": [absent]}}) == [
        "msteams: the mention '<at>Tom Okafor</at>' is not on the card"
    ]
    nameless = {**mention, "mentioned": {"id": "29:priya"}}
    assert teams_findings({**card, "msteams": {"entities": [nameless]}})[0].startswith(
        "msteams: not a mention"
    )
    assert teams_findings({**card, "msteams": {"width": "Half", "colour": "red"}}) == [
        "msteams: unknown 'colour'",
        "msteams: width 'Half', not 'Full'",
    ]
