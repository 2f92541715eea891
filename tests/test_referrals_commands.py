"""The referrals feature's commands, read at the edge from what a person typed or a card sent.

The use cases are tested through the app (test_intake_*, test_triage_*); these pin what the
parsing alone accepts and refuses, with the card modules' own keys.
"""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import Step
from bot.domain.referral import DeclineReason
from bot.features.referrals.commands import (
    HOW_TO_REFER,
    NO_REFERRAL,
    NO_REQUEST,
    OUT_OF_DATE,
    AcceptReferral,
    AnswerInfoRequest,
    AskReferrer,
    DeclineReferral,
    IntakeClick,
    ListReferrals,
    OpenInfoRequest,
    Refer,
)
from cards.info_request import ANSWER_INPUT, MAX_ANSWER
from cards.intake import CONFIRM_KEY, ROW_KEY, STEP_KEY
from cards.triage import (
    AGENCIES_INPUT,
    DECLINE_NOTE_INPUT,
    DECLINE_REASON_INPUT,
    INFO_QUESTION_INPUT,
    MAX_TEXT,
    MEETING_INPUT,
    OTHER_MEETING_INPUT,
    QUESTION_INPUT,
)
from cards.verbs import REFERRAL_ID_KEY, REQUEST_ID_KEY, VERSION_KEY


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", Refer()),
        ("  ", Refer()),
        ("new", Refer(new=True)),
        (" NEW ", Refer(new=True)),
        ("rf-2026-0049", Refer(reference="RF-2026-0049")),
    ],
)
def test_refer_reads_nothing_new_or_a_reference_in_any_case(args: str, expected: Refer) -> None:
    assert Refer.parse(args) == expected


@pytest.mark.parametrize("args", ["CM-2026-014", "RF-26-1", "new please", "RF-2026-1234567"])
def test_refer_with_anything_else_says_how_to_refer(args: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Refer.parse(args)
    assert refused.value.message == HOW_TO_REFER


def test_an_intake_click_reads_the_referral_step_row_and_confirmation() -> None:
    data = {
        REFERRAL_ID_KEY: "r1",
        STEP_KEY: "subjects",
        ROW_KEY: "s2",
        CONFIRM_KEY: True,
        "s1.name": "Noor Haddad",
    }
    click = IntakeClick.parse(data)
    assert (click.referral_id, click.step, click.row, click.confirmed) == (
        "r1",
        Step.SUBJECTS,
        "s2",
        True,
    )
    assert click.inputs["s1.name"] == "Noor Haddad"


def test_an_intake_click_with_an_unknown_step_or_a_confirmation_not_true_reads_as_none() -> None:
    click = IntakeClick.parse({REFERRAL_ID_KEY: "r1", STEP_KEY: "nowhere", CONFIRM_KEY: "true"})
    assert click.step is None
    assert not click.confirmed
    assert click.row == ""


@pytest.mark.parametrize("referral_id", [None, "", 42, "x" * 65])
def test_an_intake_click_naming_no_readable_referral_is_out_of_date(referral_id: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        IntakeClick.parse({REFERRAL_ID_KEY: referral_id})
    assert refused.value.message == OUT_OF_DATE


def test_referrals_reads_the_first_word_cut_to_a_references_length() -> None:
    assert ListReferrals.parse("") == ListReferrals(None)
    assert ListReferrals.parse("  RF-2026-0049 please") == ListReferrals("RF-2026-0049")
    assert ListReferrals.parse("R" * 50).reference == "R" * 40


def test_a_triage_click_naming_no_referral_is_refused() -> None:
    for command in (AcceptReferral, AskReferrer, DeclineReferral):
        with pytest.raises(InvalidInput) as refused:
            command.parse({VERSION_KEY: 3})
        assert refused.value.message == NO_REFERRAL


def test_accept_reads_the_meeting_the_agencies_and_the_question() -> None:
    command = AcceptReferral.parse(
        {
            REFERRAL_ID_KEY: "r1",
            VERSION_KEY: "3",
            MEETING_INPUT: "m1",
            AGENCIES_INPUT: "a1, a2,,a1",
            INFO_QUESTION_INPUT: "  ",
        }
    )
    assert command.version == 3
    assert command.meeting_id == "m1"
    assert command.agency_ids == ("a1", "a2")
    assert command.info_question is None
    assert command.unreadable == {}
    assert command.typed == {
        MEETING_INPUT: "m1",
        AGENCIES_INPUT: "a1, a2,,a1",
        INFO_QUESTION_INPUT: "  ",
    }


def test_accept_with_agencies_not_text_reads_them_as_unreadable() -> None:
    command = AcceptReferral.parse({REFERRAL_ID_KEY: "r1", AGENCIES_INPUT: [1, 2]})
    assert command.agency_ids is None
    assert AcceptReferral.parse({REFERRAL_ID_KEY: "r1"}).agency_ids == ()


def test_only_the_first_unreadable_input_of_a_form_is_kept() -> None:
    command = DeclineReferral.parse(
        {
            REFERRAL_ID_KEY: "r1",
            DECLINE_REASON_INPUT: "duplicate",
            OTHER_MEETING_INPUT: ["mappa"],
            DECLINE_NOTE_INPUT: "x" * (MAX_TEXT + 1),
        }
    )
    assert command.reason is DeclineReason.DUPLICATE
    assert list(command.unreadable) == [OTHER_MEETING_INPUT]
    assert command.typed == {DECLINE_REASON_INPUT: "duplicate", DECLINE_NOTE_INPUT: "x" * MAX_TEXT}


def test_decline_with_a_reason_not_on_the_list_reads_no_reason() -> None:
    assert (
        DeclineReferral.parse({REFERRAL_ID_KEY: "r1", DECLINE_REASON_INPUT: "bored"}).reason is None
    )


def test_ask_reads_the_question_and_a_card_version_it_cannot_read_as_none() -> None:
    command = AskReferrer.parse(
        {REFERRAL_ID_KEY: "r1", VERSION_KEY: True, QUESTION_INPUT: " Has the landlord been told? "}
    )
    assert command.question == "Has the landlord been told?"
    assert command.version is None


def test_an_information_request_click_naming_no_request_is_refused() -> None:
    for command in (OpenInfoRequest, AnswerInfoRequest):
        with pytest.raises(InvalidInput) as refused:
            command.parse({ANSWER_INPUT: "Nothing known."})
        assert refused.value.message == NO_REQUEST


def test_an_answer_too_long_is_kept_as_typed_with_why_it_was_not_read() -> None:
    typed = "y" * (MAX_ANSWER + 5)
    command = AnswerInfoRequest.parse({REQUEST_ID_KEY: "q1", VERSION_KEY: 2, ANSWER_INPUT: typed})
    assert command.answer is None
    assert command.unreadable == f"Keep this under {MAX_ANSWER} characters."
    assert command.typed == typed
    assert command.version == 2


def test_an_answer_reads_stripped_and_blank_as_none() -> None:
    assert (
        AnswerInfoRequest.parse({REQUEST_ID_KEY: "q1", ANSWER_INPUT: " known "}).answer == "known"
    )
    blank = AnswerInfoRequest.parse({REQUEST_ID_KEY: "q1", ANSWER_INPUT: "  "})
    assert (blank.answer, blank.unreadable, blank.typed) == (None, None, "  ")
