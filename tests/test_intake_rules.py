"""The intake card's rules, one by one: every name, date and postcode here is invented."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import (
    MAX_CHILDREN,
    MAX_CHOICE,
    MAX_NAME,
    MAX_SUBJECTS,
    MAX_TEXT,
    STEPS,
    SUBJECT_KEYS,
    F,
    IntakeContext,
    Step,
    add_child,
    add_subject,
    child_keys,
    date_of_birth,
    escalation_suggested,
    inputs_from_referral,
    merge_inputs,
    new_draft_inputs,
    next_step,
    phone_number,
    phone_text,
    previous_step,
    read_referral,
    remove_child,
    remove_subject,
    risk_field,
    risk_progress,
    subject_keys,
    uk_postcode,
    validate_all,
    validate_step,
)
from bot.domain.referral import Referral, ReferralCategory, SubjectRole
from bot.kernel.config import load_risk_matrix

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
MATRIX = load_risk_matrix()
CTX = IntakeContext(today=TODAY, matrix=MATRIX, agency_ids=frozenset({"ag-police", "ag-homes"}))


def valid_inputs(**changes: Any) -> dict[str, Any]:
    """A complete, valid draft as Teams would have sent it, step by step."""
    inputs = add_child(new_draft_inputs())
    inputs.update(
        {
            F.CATEGORY: "asb_vulnerable",
            F.DISCUSSED_WITH: "My line manager",
            F.TRIED_ALREADY: "Mediation offered twice; landlord warning letter.",
            F.MEETING_HELD: "true",
            "s1.role": "victim",
            "s1.name": "Odile Frampton",
            "s1.aliases": "Odie, O. F.",
            "s1.dob": "1961-07-19",
            "s1.address": "4 Quarry Close, Riverside",
            "s1.postcode": "rv4 9tw",
            "s1.phone": "+44 20 7946 0321",
            "s1.safe_to_call": "false",
            "s1.interpreter": "false",
            "c2.name": "Piper Frampton",
            "c2.dob": "2014-03-08",
            F.INCIDENTS: "4",
            F.INCIDENTS_RISING: "true",
            F.AGENCIES: "ag-police,ag-homes",
            F.CONSENT_AWARE: "true",
            F.CONSENT_GIVEN: "true",
            F.ESCALATION: "true",
            F.JUDGEMENT: "false",
        }
    )
    for item in MATRIX.items:
        inputs[risk_field(item.id)] = "significant"
    inputs.update(changes)
    return inputs


# --- postcodes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  ec1a   1bb ", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("gir0aa", "GIR 0AA"),
        ("RV2 7LD", "RV2 7LD"),
    ],
)
def test_a_uk_postcode_is_accepted_in_any_spacing_and_case(typed: str, standard: str) -> None:
    assert uk_postcode(typed) == standard


@pytest.mark.parametrize(
    "typed",
    ["12345", "SW1A", "SW1A 1AAA", "QA1 1AA", "AB1 1CI", "RV2 7LD!", "", "RV3 2P", "1AB 2CD"],
)
def test_anything_but_a_uk_postcode_is_refused(typed: str) -> None:
    # The hint shows the shape of a postcode, not the demo borough's (any panel reads it).
    with pytest.raises(
        InvalidInput, match=r"^Not a UK postcode: write both of its parts, as in AA9 9AA\.$"
    ):
        uk_postcode(typed)


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        # Invented numbers from Ofcom's ranges for drama (020 7946 0xxx, 0113 496 0xxx).
        ("020 7946 0018", "+442079460018"),
        ("02079460018", "+442079460018"),
        ("+44 20   7946 0018", "+442079460018"),
        ("0113 496 0999", "+441134960999"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_a_phone_number_is_checked_against_the_numbering_plan_and_kept_in_e164(
    typed: str, kept: str
) -> None:
    assert phone_number(typed) == kept


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("0770 nine", "digits and spaces"),
        ("+44-7700-900123", "digits and spaces"),
        ("44+7700900123", "digits and spaces"),
        ("(020) 7946 0000", "digits and spaces"),
        ("0000000000", "not a phone number"),
        ("123 456 789", "not a phone number"),
        ("020 7946 00181", "not a phone number"),
        ("1234567890123456", "not a phone number"),
    ],
)
def test_a_phone_number_with_other_characters_or_digits_is_refused(typed: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        phone_number(typed)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+442079460018", "020 7946 0018"),
        ("+33123456789", "+33 1 23 45 67 89"),
        ("07700 900123", "07700 900123"),  # stored before numbers were checked: as typed
    ],
)
def test_a_stored_phone_number_is_shown_as_people_write_it(stored: str, shown: str) -> None:
    assert phone_text(stored) == shown


# --- dates of birth ----------------------------------------------------------------------


def test_a_date_of_birth_is_read_as_year_month_day() -> None:
    assert date_of_birth("1980-02-29", TODAY) == date(1980, 2, 29)
    assert date_of_birth(" 2026-11-20 ", TODAY) == TODAY  # born today is possible


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("20/11/1980", "YYYY-MM-DD"),
        ("1980-2-3", "YYYY-MM-DD"),
        ("1981-02-29", "does not exist"),
        ("2026-11-21", "future"),
        ("3026-01-01", "future"),
        ("1899-12-31", "1900"),
    ],
)
def test_a_date_of_birth_that_is_malformed_future_or_absurd_is_refused(
    typed: str, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why):
        date_of_birth(typed, TODAY)


def test_a_child_is_under_eighteen() -> None:
    assert date_of_birth("2008-11-21", TODAY, child=True) == date(2008, 11, 21)
    with pytest.raises(InvalidInput, match="under 18"):
        date_of_birth("2008-11-20", TODAY, child=True)


# --- each step's required fields and limits ----------------------------------------------


def test_a_complete_draft_has_no_errors_on_any_step() -> None:
    assert validate_all(valid_inputs(), CTX) == {}


def test_the_first_step_needs_the_kind_who_it_was_discussed_with_and_what_was_tried() -> None:
    errors = validate_step(Step.ABOUT, new_draft_inputs(), CTX)
    assert set(errors) == {F.CATEGORY, F.DISCUSSED_WITH, F.TRIED_ALREADY}


def test_a_kind_of_referral_not_on_the_list_is_refused() -> None:
    errors = validate_step(Step.ABOUT, valid_inputs(category="gossip"), CTX)
    assert errors == {F.CATEGORY: "Choose one of the options."}


def test_each_subject_needs_a_role_and_a_name() -> None:
    inputs = valid_inputs(**{"s1.name": "  ", "s1.role": ""})
    errors = validate_step(Step.SUBJECTS, inputs, CTX)
    assert set(errors) == {"s1.name", "s1.role"}


def test_a_subjects_role_must_be_victim_perpetrator_or_witness() -> None:
    errors = validate_step(Step.SUBJECTS, valid_inputs(**{"s1.role": "bystander"}), CTX)
    assert errors == {"s1.role": "Choose one of the options."}


def test_each_bad_subject_field_gets_its_own_error() -> None:
    inputs = valid_inputs(
        **{"s1.dob": "2030-01-01", "s1.postcode": "nowhere", "s1.phone": "call me"}
    )
    errors = validate_step(Step.SUBJECTS, inputs, CTX)
    assert set(errors) == {"s1.dob", "s1.postcode", "s1.phone"}
    assert "future" in errors["s1.dob"]


@pytest.mark.parametrize(
    ("field_id", "limit"),
    [
        ("s1.name", 100),
        ("s1.language", 100),
        ("s1.address", 200),
        ("s1.vulnerabilities", 2000),
        (F.DISCUSSED_WITH, 200),
        (F.TRIED_ALREADY, 2000),
        (F.RELATIONSHIP, 2000),
        (F.CONSENT_REASON, 2000),
        (F.JUSTIFICATION, 2000),
    ],
)
def test_names_and_free_text_have_a_length_limit(field_id: str, limit: int) -> None:
    too_long = valid_inputs(**{field_id: "x" * 9999})
    step = next(s for s in STEPS if field_id in validate_step(s, too_long, CTX))
    at_limit = validate_step(step, valid_inputs(**{field_id: "y" * limit}), CTX)
    over = validate_step(step, valid_inputs(**{field_id: "y" * (limit + 1)}), CTX)
    assert field_id not in at_limit
    assert over[field_id] == f"At most {limit} characters (now {limit + 1})."


def test_aliases_are_separated_by_commas_and_bounded() -> None:
    many = ", ".join(f"Alias {n}" for n in range(11))
    errors = validate_step(Step.SUBJECTS, valid_inputs(**{"s1.aliases": many}), CTX)
    assert "at most 10 aliases" in errors["s1.aliases"].lower()


def test_a_referral_names_at_most_ten_subjects() -> None:
    inputs = new_draft_inputs()
    while len(subject_keys(inputs)) < MAX_SUBJECTS:
        inputs = add_subject(inputs)
    with pytest.raises(InvalidInput, match="at most 10 subjects"):
        add_subject(inputs)


def test_a_referral_names_at_most_ten_children() -> None:
    inputs = new_draft_inputs()
    for _ in range(MAX_CHILDREN):
        inputs = add_child(inputs)
    with pytest.raises(InvalidInput, match="at most 10 children"):
        add_child(inputs)


def test_a_new_subject_row_starts_as_a_victim_with_its_own_key() -> None:
    inputs = add_subject(new_draft_inputs())
    assert subject_keys(inputs) == ["s1", "s2"]
    assert inputs["s2.role"] == SubjectRole.VICTIM.value


def test_removing_a_subject_removes_what_was_typed_for_it() -> None:
    inputs = add_subject(valid_inputs())
    inputs["s3.name"] = "Tamsin Rook"
    removed = remove_subject(inputs, "s3")
    assert subject_keys(removed) == ["s1"]
    assert not any(key.startswith("s3.") for key in removed)
    assert removed["s1.name"] == "Odile Frampton"


def test_the_last_subject_cannot_be_removed() -> None:
    with pytest.raises(InvalidInput, match="at least one subject"):
        remove_subject(new_draft_inputs(), "s1")


def test_a_child_needs_a_name_and_a_date_of_birth_under_eighteen() -> None:
    blank = validate_step(Step.HOUSEHOLD, valid_inputs(**{"c2.name": "", "c2.dob": ""}), CTX)
    grown = validate_step(Step.HOUSEHOLD, valid_inputs(**{"c2.dob": "1990-01-01"}), CTX)
    assert set(blank) == {"c2.name", "c2.dob"}
    assert "under 18" in grown["c2.dob"]


def test_removing_a_child_keeps_the_others() -> None:
    inputs = add_child(valid_inputs())
    assert child_keys(inputs) == ["c2", "c3"]
    assert child_keys(remove_child(inputs, "c2")) == ["c3"]


@pytest.mark.parametrize("typed", ["", "many", "-1", "2.5", "1000"])
def test_incidents_are_a_whole_number_from_zero_to_999(typed: str) -> None:
    errors = validate_step(Step.HOUSEHOLD, valid_inputs(incidents=typed), CTX)
    assert F.INCIDENTS in errors


def test_agencies_involved_must_be_the_panels_agencies() -> None:
    errors = validate_step(Step.HOUSEHOLD, valid_inputs(agencies_involved="ag-police,ag-x"), CTX)
    assert errors == {F.AGENCIES: "Choose agencies from the list."}


def test_sharing_without_consent_needs_a_reason() -> None:
    without = valid_inputs(consent_given="false")
    assert validate_step(Step.CONSENT, without, CTX) == {
        F.CONSENT_REASON: "Say why you share this without the subject's consent."
    }
    explained = {**without, F.CONSENT_REASON: "Risk to the children in the household"}
    assert validate_step(Step.CONSENT, explained, CTX) == {}


def test_someone_who_consented_is_aware_of_the_referral() -> None:
    errors = validate_step(Step.CONSENT, valid_inputs(consent_aware="false"), CTX)
    assert set(errors) == {F.CONSENT_AWARE}


def test_every_risk_question_needs_one_of_its_answers() -> None:
    inputs = valid_inputs()
    first, second = MATRIX.items[0], MATRIX.items[1]
    del inputs[risk_field(first.id)]
    inputs[risk_field(second.id)] = "catastrophic"
    errors = validate_step(Step.RISK, inputs, CTX)
    assert errors == {
        risk_field(first.id): "Choose an answer.",
        risk_field(second.id): "Choose one of the options.",
    }


def test_the_risk_total_so_far_counts_only_valid_answers() -> None:
    first, second = MATRIX.items[0], MATRIX.items[1]
    inputs = {risk_field(first.id): "severe", risk_field(second.id): "bogus"}
    assert risk_progress(inputs, MATRIX) == (first.option("severe").score, 1)


def test_professional_judgement_needs_a_justification_of_twenty_characters() -> None:
    short = validate_step(Step.REVIEW, valid_inputs(judgement="true", justification="Worried"), CTX)
    enough = validate_step(
        Step.REVIEW, valid_inputs(judgement="true", justification="Serious concern for safety"), CTX
    )
    assert "at least 20 characters" in short[F.JUSTIFICATION]
    assert enough == {}


def test_a_justification_is_not_needed_without_professional_judgement() -> None:
    assert validate_step(Step.REVIEW, valid_inputs(judgement="false", justification=""), CTX) == {}


@pytest.mark.parametrize(
    ("incidents", "rising", "suggested"),
    [("3", "true", True), ("7", "true", True), ("2", "true", False), ("5", "false", False)],
)
def test_potential_escalation_is_suggested_from_three_rising_incidents(
    incidents: str, rising: str, suggested: bool
) -> None:
    inputs = {F.INCIDENTS: incidents, F.INCIDENTS_RISING: rising}
    assert escalation_suggested(inputs) is suggested


# --- keeping what was typed ----------------------------------------------------------------


def test_merging_keeps_what_was_typed_even_when_it_is_not_valid() -> None:
    merged = merge_inputs(new_draft_inputs(), {"s1.dob": "31/02/1980", F.INCIDENTS: "lots"}, MATRIX)
    assert merged["s1.dob"] == "31/02/1980"
    assert merged[F.INCIDENTS] == "lots"


def test_merging_takes_only_the_cards_own_fields() -> None:
    data = {
        "verb": "refer.next",
        "referral_id": "r1",
        "step": "risk",
        "total": "60",
        "risk_total": 60,
        "s7.name": "Not a row of this draft",
        "s1.colour": "red",
        SUBJECT_KEYS: ["s1", "s2", "s3"],  # bookkeeping is never taken from a card
        "s1.name": "Ivo Marchetti",
        risk_field("weapons"): "severe",
        F.MEETING_HELD: True,
        F.INCIDENTS: 4,
    }
    merged = merge_inputs(new_draft_inputs(), data, MATRIX)
    assert merged == {
        **new_draft_inputs(),
        "s1.name": "Ivo Marchetti",
        risk_field("weapons"): "severe",
        F.MEETING_HELD: "true",
        F.INCIDENTS: "4",
    }


def test_only_the_matrixs_own_risk_questions_are_kept() -> None:
    data = {risk_field("weapons"): "severe", risk_field("made_up"): "severe", "risk.x" * 9: "1"}
    merged = merge_inputs(new_draft_inputs(), data, MATRIX)
    assert merged == {**new_draft_inputs(), risk_field("weapons"): "severe"}


def test_what_was_typed_is_kept_within_twice_its_fields_limit() -> None:
    typed = {F.TRIED_ALREADY: "z" * 50_000, "s1.name": "n" * 50_000, F.CATEGORY: "c" * 50_000}
    merged = merge_inputs(new_draft_inputs(), typed, MATRIX)
    assert len(merged[F.TRIED_ALREADY]) == 2 * MAX_TEXT
    assert len(merged["s1.name"]) == 2 * MAX_NAME
    assert len(merged[F.CATEGORY]) == MAX_CHOICE


def test_the_steps_go_forward_and_back_within_bounds() -> None:
    assert next_step(Step.ABOUT) is Step.SUBJECTS
    assert next_step(Step.REVIEW) is Step.REVIEW
    assert previous_step(Step.SUBJECTS) is Step.ABOUT
    assert previous_step(Step.ABOUT) is Step.ABOUT


# --- from a valid draft to the referral's fields -------------------------------------------


def test_a_valid_draft_becomes_the_referrals_fields() -> None:
    fields = read_referral(valid_inputs(), CTX)
    assert fields.category is ReferralCategory.ASB_VULNERABLE
    [subject] = fields.subjects
    assert subject.name == "Odile Frampton"
    assert subject.aliases == ("Odie", "O. F.")
    assert subject.postcode == "RV4 9TW"
    assert subject.date_of_birth == date(1961, 7, 19)
    assert [c.name for c in fields.children] == ["Piper Frampton"]
    assert fields.incidents == 4
    assert fields.agencies_involved == ("ag-police", "ag-homes")
    assert fields.risk_total == MATRIX.score({i.id: "significant" for i in MATRIX.items})
    assert fields.risk_matrix_version == MATRIX.version


def test_high_risk_is_worked_out_from_the_total_never_typed() -> None:
    low = {risk_field(i.id): "some" for i in MATRIX.items}
    high = read_referral(valid_inputs(), CTX)  # "significant" to every question
    not_high = read_referral(valid_inputs(**low), CTX)
    assert MATRIX.is_high(high.risk_total or 0) and not MATRIX.is_high(not_high.risk_total or 0)
    assert high.criteria.high_risk is True
    assert not_high.criteria.high_risk is False
    assert not_high.risk_total == MATRIX.score({i.id: "some" for i in MATRIX.items})


def test_professional_judgement_is_kept_only_when_chosen() -> None:
    text = "Serious concern: the victim will not disclose."
    chosen = read_referral(valid_inputs(judgement="true", justification=text), CTX)
    unchosen = read_referral(valid_inputs(judgement="false", justification=text), CTX)
    assert chosen.criteria.professional_judgement == text
    assert unchosen.criteria.professional_judgement is None


def test_an_invalid_draft_is_not_read_and_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_referral(valid_inputs(category="", **{"s1.postcode": "xx"}), CTX)
    assert set(refused.value.fields) == {F.CATEGORY, "s1.postcode"}


def test_a_stored_referral_gives_back_a_draft_that_reads_the_same() -> None:
    fields = read_referral(valid_inputs(), CTX)
    referral = Referral(
        panel_id="p", reference="RF-2026-0001", referrer_member_id="m", created_at=NOW
    )
    fields.apply_to(referral)
    again = read_referral(inputs_from_referral(referral), CTX)
    assert [s.name for s in again.subjects] == [s.name for s in fields.subjects]
    assert again.children[0].date_of_birth == fields.children[0].date_of_birth
    assert again.risk_total == fields.risk_total
    assert again.consent == fields.consent
    assert again.criteria == fields.criteria


def test_erasure_looks_for_a_stored_number_however_people_write_it() -> None:
    from bot.domain.retention import Person, identifiers
    from tests.support.dataprotection import rosa

    subject = rosa(phone=phone_number("020 7946 0123"))
    assert subject.phone == "+442079460123"
    referral = Referral(
        panel_id="p1",
        reference="RF-2026-0001",
        referrer_member_id="m1",
        subjects=[subject],
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )
    found = identifiers(Person(subject.name, subject.date_of_birth), [referral])
    assert {"+442079460123", "020 7946 0123", "02079460123"} <= found.contact
