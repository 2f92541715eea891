"""The governance feature's commands, read at the edge from what a person typed or a card sent.

The use cases are tested through the app (test_membership_*, test_isa_bot, test_case_view_bot,
test_audit_bot); these pin what the parsing alone accepts and refuses, with the card modules'
own keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.panel import AgencyKind, Role
from bot.features.governance.commands import (
    AUDIT_CARD_OUT_OF_DATE,
    AUDIT_USAGE,
    CASE_USAGE,
    ISA_CARD_UNREADABLE,
    ISA_NEXT_UNKNOWN,
    ISA_USAGE,
    MEMBERS_CARD_UNREADABLE,
    PANEL_CARD_OUT_OF_DATE,
    AcceptAgreement,
    AddAgency,
    AddMember,
    ChangeAgencyKind,
    ChoosePanel,
    ListMembers,
    OpenMember,
    RemoveMember,
    SaveAgreement,
    SaveMember,
    SetUpPanel,
    ShowAgreement,
    ShowCase,
    ShowTrail,
)
from cards.audit import BEFORE_KEY
from cards.isa import AGREEMENT_VERSION_KEY, MAX_ISA_TEXT, NEXT_KEY, TEXT_ID, VERSION_ID
from cards.kit import COMMAND_KEY
from cards.membership import (
    AGENCY_KIND_ID,
    AGENCY_NAME_ID,
    CONFIRM_KEY,
    EMAIL_ID,
    KIND_KEY,
    MAX_NAME,
    NEW_AGENCY_ID,
    NEW_EMAIL_ID,
    NEW_NAME_ID,
    NEW_ROLES_ID,
    PICKER_ID,
    ROLES_ID,
)
from cards.panels import PANEL_ID
from cards.verbs import AGENCY_ID_KEY, MEMBER_ID_KEY, REFERENCE_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Callable

NIA = "5b0c7a1e-2d3f-4a5b-8c6d-7e8f9a0b1c2d"


def refusal(read: Callable[[], object]) -> str:
    """The message a command refuses with."""
    with pytest.raises(InvalidInput) as refused:
        read()
    return refused.value.message


# ---- panels -------------------------------------------------------------------------------------


def test_a_panel_button_names_its_panel() -> None:
    assert ChoosePanel.of({PANEL_ID: "p1"}) == ChoosePanel("p1")


@pytest.mark.parametrize("panel_id", [None, "", 7, "p" * 65])
def test_a_panel_button_without_a_readable_panel_is_out_of_date(panel_id: object) -> None:
    assert refusal(lambda: ChoosePanel.of({PANEL_ID: panel_id})) == PANEL_CARD_OUT_OF_DATE


# ---- setup, members and agencies ----------------------------------------------------------------


def test_setup_keeps_the_name_given_with_its_spacing_tidied_and_cut() -> None:
    assert SetUpPanel.typed("  Riverside   Community MARAC ") == SetUpPanel(
        "Riverside Community MARAC"
    )
    assert SetUpPanel.typed("") == SetUpPanel("")
    assert len(SetUpPanel.typed("x" * 300).name) == MAX_NAME


def test_members_searches_by_part_of_a_name_or_asks_how_to_import() -> None:
    assert ListMembers.typed(" gem ") == ListMembers("gem")
    assert not ListMembers.typed("gem").import_help
    assert ListMembers.typed("IMPORT").import_help


def test_the_add_form_is_read_as_typed_and_says_what_is_wrong_by_input() -> None:
    typed = {
        PICKER_ID: "not-a-person",
        NEW_NAME_ID: " Nia Clarke ",
        NEW_EMAIL_ID: "nia at example",
        NEW_AGENCY_ID: "a-police",
        NEW_ROLES_ID: "spoc,boss",
    }
    command = AddMember.of(typed)
    assert command.values() == {**typed, NEW_NAME_ID: "Nia Clarke"}
    assert command.roles == frozenset({Role.SPOC})
    assert command.errors() == {
        PICKER_ID: "Choose the person in the picker.",
        NEW_EMAIL_ID: "Not an e-mail address.",
        NEW_ROLES_ID: "Choose roles from the list.",
    }


def test_a_complete_add_form_has_no_mistakes_the_form_alone_can_see() -> None:
    command = AddMember.of({PICKER_ID: NIA, NEW_ROLES_ID: "spoc deputy"})
    assert command.errors() == {}
    assert command.roles == frozenset({Role.SPOC, Role.DEPUTY})
    assert (command.name, command.email, command.agency_id) == ("", "", "")


def test_an_overlong_email_is_kept_to_show_back_with_its_mistake() -> None:
    command = AddMember.of({PICKER_ID: NIA, NEW_EMAIL_ID: "n" * 300 + "@example.org"})
    assert len(command.email) == 201
    assert command.errors() == {NEW_EMAIL_ID: "Not an e-mail address."}


@pytest.mark.parametrize(
    "read",
    [
        lambda: AddMember.of({NEW_NAME_ID: ["Nia"]}),
        lambda: SaveMember.of({MEMBER_ID_KEY: "m1", ROLES_ID: 3}),
        lambda: OpenMember.of({MEMBER_ID_KEY: {"id": "m1"}}),
        lambda: AddAgency.of({AGENCY_NAME_ID: 1}),
        lambda: ChangeAgencyKind.of({AGENCY_ID_KEY: False, KIND_KEY: "core"}),
    ],
)
def test_a_members_card_that_sends_something_other_than_text_is_refused(
    read: Callable[[], object],
) -> None:
    assert refusal(read) == MEMBERS_CARD_UNREADABLE


def test_a_member_button_names_its_member_and_removal_needs_the_confirming_button() -> None:
    assert OpenMember.of({MEMBER_ID_KEY: " m1 "}) == OpenMember("m1")
    assert OpenMember.of({}) == OpenMember("")
    assert RemoveMember.of({MEMBER_ID_KEY: "m1"}) == RemoveMember("m1", confirmed=False)
    assert RemoveMember.of({MEMBER_ID_KEY: "m1", CONFIRM_KEY: "true"}).confirmed is False
    assert RemoveMember.of({MEMBER_ID_KEY: "m1", CONFIRM_KEY: True}).confirmed is True


def test_a_members_card_reads_its_email_agency_and_roles() -> None:
    command = SaveMember.of(
        {MEMBER_ID_KEY: "m1", EMAIL_ID: " d@example.org ", AGENCY_ID_KEY: "a1", ROLES_ID: "chair,x"}
    )
    assert command == SaveMember("m1", "d@example.org", "a1", frozenset({Role.CHAIR}), True)


def test_an_agency_is_core_unless_invited_and_must_be_named() -> None:
    assert AddAgency.of({AGENCY_NAME_ID: "  Riverside   Police "}).kind is AgencyKind.CORE
    assert AddAgency.of({AGENCY_NAME_ID: "Fire", AGENCY_KIND_ID: "invited"}).errors() == {}
    unnamed = AddAgency.of({AGENCY_KIND_ID: "friendly"})
    assert unnamed.errors() == {
        AGENCY_NAME_ID: "Name the agency.",
        AGENCY_KIND_ID: "Choose core or invited.",
    }
    assert unnamed.values() == {AGENCY_NAME_ID: "", AGENCY_KIND_ID: "friendly"}


def test_an_agency_button_names_the_agency_and_a_known_kind_only() -> None:
    assert ChangeAgencyKind.of({AGENCY_ID_KEY: "a1", KIND_KEY: "invited"}) == ChangeAgencyKind(
        "a1", AgencyKind.INVITED
    )
    assert ChangeAgencyKind.of({AGENCY_ID_KEY: "a1", KIND_KEY: "boss"}).kind is None


# ---- the agreement ------------------------------------------------------------------------------


def test_isa_reads_the_agreement_or_the_coordinators_form_and_nothing_else() -> None:
    assert ShowAgreement.typed("") == ShowAgreement(set_form=False)
    assert ShowAgreement.typed(" SET ") == ShowAgreement(set_form=True)
    assert refusal(lambda: ShowAgreement.typed("sign")) == f"Write it as: {ISA_USAGE}."


def test_accepting_reads_the_version_shown_and_what_it_goes_on_to_open() -> None:
    next_step = {"verb": Verb.COMMAND.value, COMMAND_KEY: "case CM-2026-014"}
    command = AcceptAgreement.of({AGREEMENT_VERSION_KEY: "2", NEXT_KEY: next_step})
    assert command == AcceptAgreement("2", next_step)
    assert AcceptAgreement.of({AGREEMENT_VERSION_KEY: 2}) == AcceptAgreement(None, None)


@pytest.mark.parametrize(
    "next_step",
    [
        "case CM-2026-014",
        {"verb": Verb.MEMBERS_REMOVE.value, MEMBER_ID_KEY: "m1"},
        {"verb": Verb.COMMAND.value, COMMAND_KEY: "x" * 600},
    ],
)
def test_accepting_goes_on_only_to_a_command_or_an_information_request(
    next_step: object,
) -> None:
    data = {AGREEMENT_VERSION_KEY: "2", NEXT_KEY: next_step}
    assert refusal(lambda: AcceptAgreement.of(data)) == ISA_NEXT_UNKNOWN


def test_a_new_agreement_needs_a_new_version_name_and_a_text() -> None:
    assert SaveAgreement.of({VERSION_ID: " 3 ", TEXT_ID: " Share to reduce risk. "}) == (
        SaveAgreement("3", "Share to reduce risk.")
    )
    assert SaveAgreement.of({VERSION_ID: "3", TEXT_ID: "Share"}).errors("2") == {}
    assert SaveAgreement.of({VERSION_ID: "2", TEXT_ID: ""}).errors("2") == {
        VERSION_ID: "This is the current version: give the new one another name.",
        TEXT_ID: "Write the agreement.",
    }
    long = SaveAgreement.of({VERSION_ID: "v 3!", TEXT_ID: "x" * (MAX_ISA_TEXT + 50)})
    assert len(long.text) == MAX_ISA_TEXT + 1
    assert set(long.errors("2")) == {VERSION_ID, TEXT_ID}
    assert refusal(lambda: SaveAgreement.of({TEXT_ID: ["x"]})) == ISA_CARD_UNREADABLE


# ---- the case view and the audit trail ----------------------------------------------------------


def test_case_reads_one_reference_in_capitals() -> None:
    assert ShowCase.typed(" cm-2026-014 ") == ShowCase("CM-2026-014")
    for args in ("", "CM-2026-014 CM-2026-015"):
        assert refusal(lambda args=args: ShowCase.typed(args)) == f"Write it as: {CASE_USAGE}."


def test_audit_reads_the_panels_trail_or_one_records_and_the_older_button_its_cursor() -> None:
    assert ShowTrail.typed("") == ShowTrail("")
    assert ShowTrail.typed("rf-2026-0049") == ShowTrail("RF-2026-0049")
    assert refusal(lambda: ShowTrail.typed("a b")) == f"Write it as: {AUDIT_USAGE}."
    older = ShowTrail.of({REFERENCE_KEY: "CM-2026-014", BEFORE_KEY: "e40"})
    assert older == ShowTrail("CM-2026-014", "e40")
    for data in ({REFERENCE_KEY: "CM-2026-014"}, {REFERENCE_KEY: 1, BEFORE_KEY: "e"}):
        assert refusal(lambda data=data: ShowTrail.of(data)) == AUDIT_CARD_OUT_OF_DATE
