"""The meetings' commands, read at the edge: what a card sends, pressed on the gallery's own
cards, reads back into the command the use case takes (the card and the command share their
input ids and data keys), and what no card would send is refused with a plain message."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from bot.domain.case import ClosureReason
from bot.domain.errors import InvalidInput
from bot.domain.risk import RiskLevel
from bot.features.meetings.commands import (
    AgendaAsked,
    AgendaCard,
    CancelAction,
    CancelMeeting,
    CaptureAction,
    CarryForward,
    ChairClick,
    ChairForm,
    CloseCase,
    EditSummary,
    MoveMeeting,
    SetAsideItem,
    SetRisk,
    ShowSchedule,
    kept_inputs,
    schedule_command,
)
from bot.features.meetings.gallery import agenda_cards, calendar_cards, meeting_cards
from cards.chair import AGENCY_DID_NOT_ACT, CIRCUMSTANCES_CHANGED
from tests.support import cards

TODAY = date(2026, 11, 20)


def submitted(card: dict[str, Any], label: str, **typed: Any) -> dict[str, Any]:
    """What an Action.Submit button sends: its data (the verb in it) and every input."""
    return cards.press(card, label, nth=0, **typed)[1]


def test_the_chair_cards_add_an_action_form_reads_back_into_its_command() -> None:
    card = meeting_cards()["chair-new-case"]
    _, data = cards.press(
        card, "Save action", description=" Fit a door camera. ", owner_agency_id="a-1"
    )
    click = ChairForm.of(data)
    assert (click.meeting_id, click.item_id, click.step, click.token) == (
        "demo-meeting",
        "i3",
        4,
        "demo-token",
    )
    assert CaptureAction.of(data) == CaptureAction("Fit a door camera.", "a-1", date(2027, 1, 11))


def test_an_unmet_actions_forms_read_their_own_indexed_inputs() -> None:
    card = meeting_cards()["chair-unmet-actions"]
    ids = set(cards.inputs(card))
    assert {"new_due_on-0", "why-0", "cancel_reason-0", "cancel_why-0"} <= ids
    _, data = cards.press(card, "Carry forward", **{"why-0": AGENCY_DID_NOT_ACT})
    assert CarryForward.of(data) == CarryForward("a1", date(2027, 1, 11), False)
    _, data = cards.press(
        card,
        "Cancel the action",
        **{"cancel_reason-0": "Tenant moved away", "cancel_why-0": CIRCUMSTANCES_CHANGED},
    )
    assert CancelAction.of(data) == CancelAction("a1", "Tenant moved away", True)


def test_the_other_chair_forms_read_their_choices() -> None:
    card = meeting_cards()["chair-new-case"]
    _, data = cards.press(card, "Save risk level", risk_level="high")
    assert SetRisk.of(data).level is RiskLevel.HIGH
    _, data = cards.press(card, "Close the case", closure_reason=ClosureReason.OTHER.value)
    # The card's one open action is passed back unless the chair chooses to cancel it.
    assert CloseCase.of(data) == CloseCase(ClosureReason.OTHER, None, frozenset({"demo-action"}))
    cancelled = CloseCase.of({**data, "settle.demo-action": "cancel"})
    assert (cancelled.pass_back, cancelled.cancel) == (frozenset(), frozenset({"demo-action"}))
    with pytest.raises(InvalidInput, match="pass it back or cancel it"):
        CloseCase.of({**data, "settle.demo-action": "archive"})
    with pytest.raises(InvalidInput, match="Choose a risk level"):
        SetRisk.of({**data, "risk_level": "enormous"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": None}, "This card is out of date. Type chair for the current one."),
        ({"item_id": "  "}, "This card is out of date. Type chair for the current one."),
        ({"meeting_id": 7}, "This card sent something I cannot read. Type help."),
    ],
    ids=["no-token", "blank-item", "not-text"],
)
def test_a_chair_click_without_what_it_needs_is_refused(
    change: dict[str, Any], message: str
) -> None:
    _, data = cards.press(meeting_cards()["chair-new-case"], "Save action")
    with pytest.raises(InvalidInput) as refused:
        ChairForm.of({**data, **change})
    assert refused.value.message == message


def test_a_back_click_carries_no_token_and_reads_as_a_click() -> None:
    _, data = cards.press(meeting_cards()["chair-new-case"], "Back")
    assert ChairClick.of(data).step == 4


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({"description": "   "}, "Describe the action.", "description"),
        ({"description": "x", "due_on": "soon"}, "Choose a date.", "due_on"),
    ],
)
def test_an_action_without_a_description_or_a_date_is_refused(
    data: dict[str, Any], message: str, field: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        CaptureAction.of(data)
    assert field in refused.value.fields


def test_an_unmet_action_form_from_beyond_the_list_is_out_of_date() -> None:
    with pytest.raises(InvalidInput, match="out of date"):
        CarryForward.of({"action_id": "a1", "index": 12})
    with pytest.raises(InvalidInput, match="circumstances changed"):
        CarryForward.of({"action_id": "a1", "index": "0", "new_due_on-0": "2027-01-11"})


def test_what_a_refused_form_keeps_is_the_text_typed_into_it() -> None:
    typed = {"description": "Refer to Early Help.", "due_on": 3, "token": "t", "summary": ""}
    assert kept_inputs(typed) == {"description": "Refer to Early Help.", "summary": ""}


def test_the_schedule_cards_move_and_cancel_forms_read_back_into_their_commands() -> None:
    card = calendar_cards()["schedule-coordinator"]
    meeting_id = next(i for i in cards.inputs(card) if i.startswith("new_date-"))[
        len("new_date-") :
    ]
    data = submitted(card, "Move meeting")
    move = MoveMeeting.of(data)
    assert move.meeting_id == meeting_id and move.start == time(10, 0)
    data = submitted(card, "Cancel meeting", **{f"reason-{meeting_id}": "Chair at court"})
    assert CancelMeeting.of(data) == CancelMeeting("Chair at court", meeting_id=meeting_id)
    with pytest.raises(InvalidInput, match="Choose the new date") as refused:
        MoveMeeting.of({**data, f"new_date-{meeting_id}": "someday"})
    assert refused.value.fields == {"new_date": "invalid"}
    with pytest.raises(InvalidInput, match="missing something"):
        CancelMeeting.of({"meeting_id": 42})


def test_typed_schedule_commands_read_dates_times_and_reasons() -> None:
    assert schedule_command("", TODAY) == ShowSchedule()
    assert schedule_command("move 8 Dec 10 Dec 14:00", TODAY) == MoveMeeting(
        new_day=date(2026, 12, 10), start=time(14, 0), day=date(2026, 12, 8)
    )
    assert schedule_command("cancel Tue 12 Jan 2027 chair ill", TODAY) == CancelMeeting(
        "chair ill", day=date(2027, 1, 12)
    )
    with pytest.raises(InvalidInput, match="Write it as: schedule move"):
        schedule_command("move 8 Dec 10 Dec 14:00 sharp", TODAY)
    with pytest.raises(InvalidInput, match=r"Write it as: schedule \[ics"):
        schedule_command("postpone 8 Dec", TODAY)


def test_the_agenda_cards_forms_read_back_into_their_commands() -> None:
    card = agenda_cards()["agenda-coordinator"]
    _, data = cards.press(card, "Remove from the agenda", nth=0, **{"reason-i3": "listed in error"})
    assert AgendaCard.of(data).meeting_id == "demo-meeting"
    assert SetAsideItem.removing(data) == SetAsideItem("i3", "listed in error")
    assert AgendaAsked.of(" Publish ").publish
    with pytest.raises(InvalidInput, match="agenda, or agenda publish"):
        AgendaAsked.of("print")
    with pytest.raises(InvalidInput, match="names no meeting"):
        AgendaCard.of({"item_id": "i4"})


def test_a_summary_in_the_minutes_is_read_for_its_own_case_and_kept_short() -> None:
    data = {"meeting_id": "m1", "item_id": "i3", "version": "2", "summary-i3": " Calmer. "}
    edit = EditSummary.of(data)
    assert (edit.version, edit.text(data)) == (2, "Calmer.")
    with pytest.raises(InvalidInput, match="under 4000"):
        edit.text({**data, "summary-i3": "x" * 4001})
    with pytest.raises(InvalidInput, match="Type minutes"):
        EditSummary.of({"meeting_id": "m1"})
