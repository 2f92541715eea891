"""Referral intake as a service: `refer` and the intake card's clicks, on the in-memory store.

`bot.features.referrals.triage.referral_submitted` belongs to the triage feature; these tests
replace it with a small recorder (the `triage_calls` fixture) so they check only what intake does.
Every person, address and date of birth here is invented.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import make_deps
from bot.domain.delivery import ConversationKind, OutgoingDelivery
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.intake_rules import F, risk_field
from bot.domain.referral import (
    DeclineReason,
    Referral,
    ReferralStatus,
    SubjectRole,
    assessed_risk_level,
)
from bot.domain.risk import RiskLevel
from bot.features.referrals import intake, triage
from bot.features.referrals.notices import ReferralEvent, tell_referrer
from bot.kernel.config import load_risk_matrix
from bot.kernel.dispatch import run_command, run_verb
from bot.kernel.router import Reply, Router
from cards.kit import card_text
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, World, demo_world

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork

MATRIX = load_risk_matrix()

# What a referrer types on each step, as Teams sends it (every value a string).
ABOUT = {
    F.CATEGORY: "asb_vulnerable",
    F.DISCUSSED_WITH: "My line manager",
    F.TRIED_ALREADY: "Mediation offered; warning letter from the landlord.",
    F.MEETING_HELD: "true",
}
SUBJECTS = {
    "s1.role": "victim",
    "s1.name": "Wilhelmina Stroud",
    "s1.aliases": "",
    "s1.dob": "1958-06-02",
    "s1.address": "7 Ferry Walk, Riverside",
    "s1.postcode": "rv5 3hg",
    "s1.phone": "020 7946 0777",
    "s1.safe_to_call": "true",
    "s1.vulnerabilities": "Partially sighted; lives alone",
    "s1.language": "English",
    "s1.interpreter": "false",
}
HOUSEHOLD = {
    F.RELATIONSHIP: "Neighbours",
    F.INCIDENTS: "4",
    F.INCIDENTS_RISING: "true",
    F.AGENCIES: "",
}
CONSENT = {F.CONSENT_AWARE: "true", F.CONSENT_GIVEN: "true", F.CONSENT_REASON: ""}
RISK_SOME = {risk_field(item.id): "some" for item in MATRIX.items}
RISK_SIGNIFICANT = {risk_field(item.id): "significant" for item in MATRIX.items}
# What those answers add up to under the panel's matrix (bot.kernel.config), and the most
# any answers could: the expectations follow the matrix rather than restating its numbers.
SOME_TOTAL = MATRIX.score({item.id: "some" for item in MATRIX.items})
SIGNIFICANT_TOTAL = MATRIX.score({item.id: "significant" for item in MATRIX.items})
MAX_TOTAL = sum(max(option.score for option in item.options) for item in MATRIX.items)
REVIEW = {F.ESCALATION: "true", F.JUDGEMENT: "false", F.JUSTIFICATION: ""}


# --- reading cards -----------------------------------------------------------------------


def error_next_to(card: Mapping[str, Any], field_id: str) -> str | None:
    """The red line shown right under the input `field_id`, if any."""
    for node in cards.walk(card):
        for items in (node.get("items"), node.get("body")):
            if not isinstance(items, list):
                continue
            for here, after in itertools.pairwise(items):
                if here.get("id") == field_id:
                    if after.get("id") == f"{field_id}-error":
                        assert after.get("color") == "attention"
                        return str(after["text"])
                    return None
    raise AssertionError(f"no input {field_id} on the card")


def subtitle(card: Mapping[str, Any]) -> str:
    """The step indicator under the card's title."""
    return str(card["body"][1]["text"])


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
async def world() -> World:
    """The demo panel in memory, with intake alone registered; Aisha Bello (its referrer)
    talks to the bot unless told otherwise."""
    router = Router()
    intake.register(router)
    return await demo_world(router=router)


async def click_reply(
    world: World, verb: Verb, data: Mapping[str, Any], *, who: str = "Aisha"
) -> Reply:
    return await world.click(who, verb, data)


async def click(
    world: World, verb: Verb, data: Mapping[str, Any], *, who: str = "Aisha"
) -> dict[str, Any]:
    """Click a button; the card that replaces the clicked one."""
    reply = await click_reply(world, verb, data, who=who)
    assert reply.card is not None, reply.text
    return reply.card


async def referral_of(world: World, referral_id: str) -> Referral:
    async with world.storage.unit_of_work() as uow:
        found = await uow.referrals.get(world.panel.id, referral_id)
    assert found is not None
    return found


async def outbox(world: World) -> list[OutgoingDelivery]:
    """What is queued and due now."""
    async with world.storage.unit_of_work() as uow:
        return await uow.outbox.due(world.clock.now(), 100)


async def start(world: World) -> str:
    """`refer new`: the id of the new draft."""
    card = (await world.command("Aisha", "refer new")).card
    assert card is not None
    return str(cards.button(card, "Next")["data"]["referral_id"])


async def fill_to_review(world: World, referral_id: str, **overrides: Mapping[str, Any]) -> None:
    """Click Next through every step with valid answers (or the overrides)."""
    steps = {
        "about": ABOUT,
        "subjects": SUBJECTS,
        "household": HOUSEHOLD,
        "consent": CONSENT,
        "risk": RISK_SOME,
    }
    for step, typed in steps.items():
        data = {"referral_id": referral_id, "step": step, **typed, **overrides.get(step, {})}
        card = await click(world, Verb.REFER_NEXT, data)
        assert cards.element(card, "intake-problems") is None, card_text(card)


@dataclass
class TriageCalls:
    referrals: list[Referral] = field(default_factory=list)


@pytest.fixture
def triage_calls(monkeypatch: pytest.MonkeyPatch) -> TriageCalls:
    """Stand-in for the triage feature's `referral_submitted`: records what it was given."""
    calls = TriageCalls()

    async def record(uow: UnitOfWork, panel: Panel, referral: Referral, now: datetime) -> None:
        calls.referrals.append(referral)

    monkeypatch.setattr(triage, "referral_submitted", record)
    return calls


def at(referral_id: str, step: str, **typed: Any) -> dict[str, Any]:
    return {"referral_id": referral_id, "step": step, **typed}


# --- starting and resuming ---------------------------------------------------------------


async def test_refer_starts_a_draft_with_the_next_reference_and_the_referrer_filled_in(
    world: World,
) -> None:
    reply = await world.command("Aisha", "refer")
    assert reply.card is not None
    text = card_text(reply.card)
    assert "Referral RF-2026-0050" in text  # the demo's last referral this year is RF-2026-0049
    assert subtitle(reply.card) == "Step 1 of 6 · About the referral"
    assert "Aisha Bello" in text
    assert "Victim Support" in text
    referral_id = cards.button(reply.card, "Next")["data"]["referral_id"]
    stored = await referral_of(world, referral_id)
    assert stored.status is ReferralStatus.DRAFT
    assert stored.reference == "RF-2026-0050"
    assert stored.referring_agency_id == (await world.member("Aisha")).agency_id
    assert stored.draft_step == "about"


async def test_every_button_carries_the_referral_and_the_step(world: World) -> None:
    card = (await world.command("Aisha", "refer")).card
    assert card is not None
    for title in ("Next", "Save and close", "Discard draft"):
        data = cards.button(card, title)["data"]
        assert set(data) == {"referral_id", "step"}
        assert data["step"] == "about"


async def test_refer_again_resumes_the_draft_at_its_step_with_what_was_typed(
    world: World,
) -> None:
    referral_id = await start(world)
    await click(world, Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    await click(world, Verb.REFER_SAVE, at(referral_id, "subjects", **{"s1.name": "Jory Penhale"}))
    card = (await world.command("Aisha", "refer")).card
    assert card is not None
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert cards.element(card, "s1.name") == {
        **cards.element(card, "s1.name"),
        "value": "Jory Penhale",
    }  # type: ignore[dict-item]
    card = await click(world, Verb.REFER_BACK, at(referral_id, "subjects"))
    assert cards.element(card, F.DISCUSSED_WITH)["value"] == "My line manager"  # type: ignore[index]


async def test_refer_new_starts_another_draft_and_names_the_other_one(world: World) -> None:
    await start(world)
    card = (await world.command("Aisha", "refer new")).card
    assert card is not None
    text = card_text(card)
    assert "Referral RF-2026-0051" in text
    assert "Your other drafts: RF-2026-0050" in text


async def test_refer_with_a_reference_opens_that_draft(world: World) -> None:
    first = await start(world)
    await start(world)
    card = (await world.command("Aisha", "refer rf-2026-0050")).card
    assert card is not None
    assert cards.button(card, "Next")["data"]["referral_id"] == first


async def test_refer_with_a_submitted_reference_says_where_it_is(world: World) -> None:
    reply = await world.command(
        "Aisha", "refer RF-2026-0049"
    )  # the demo panel's, submitted by Aisha
    assert reply.text == (
        "RF-2026-0049 was submitted on Wed 18 Nov 2026 and is with the coordinator. I'll tell "
        "you here when they decide."
    )


async def test_refer_with_someone_elses_or_a_malformed_reference_is_refused(world: World) -> None:
    with pytest.raises(NotFound, match="You have no referral RF-2026-0049"):
        await world.command("Gemma", "refer RF-2026-0049")
    with pytest.raises(InvalidInput, match="refer new to start another"):
        await world.command("Aisha", "refer please")


async def test_someone_else_cannot_click_on_anothers_draft(world: World) -> None:
    referral_id = await start(world)
    with pytest.raises(NotAllowed, match=r"^I can't find that referral among yours"):
        await click(world, Verb.REFER_NEXT, at(referral_id, "about", **ABOUT), who="Gemma")
    assert (await referral_of(world, referral_id)).draft_inputs.get("discussed_with") is None


async def test_a_card_without_its_referral_is_out_of_date(world: World) -> None:
    with pytest.raises(InvalidInput, match="out of date"):
        await click(world, Verb.REFER_NEXT, {"step": "about"})


async def test_a_person_who_is_not_a_panel_member_cannot_refer(world: World) -> None:
    request = replace(await world.request("Aisha"), panel=None, member=None)
    with pytest.raises(NotAllowed):
        await run_command(world.router, request, "refer", "", world.deps)


async def test_refer_in_a_channel_answers_in_private_and_queues_the_card(world: World) -> None:
    reply = await world.command("Aisha", "refer", ConversationKind.CHANNEL)
    assert reply == Reply(text="Referrals are made in private: I've sent you a private message.")
    [queued] = await outbox(world)
    assert queued.recipient_member_id == (await world.member("Aisha")).id
    assert "Referral RF-2026-0050" in card_text(queued.payload["card"])


# --- saving on every click ---------------------------------------------------------------


async def test_every_click_keeps_what_was_typed_even_when_it_is_not_valid(world: World) -> None:
    referral_id = await start(world)
    await click(world, Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    bad = {**SUBJECTS, "s1.postcode": "not a postcode", "s1.dob": "2099-01-01"}
    card = await click(world, Verb.REFER_NEXT, at(referral_id, "subjects", **bad))
    assert subtitle(card) == "Step 2 of 6 · Subjects"  # the step does not advance
    stored = await referral_of(world, referral_id)
    assert stored.draft_step == "subjects"
    assert stored.draft_inputs["s1.postcode"] == "not a postcode"
    assert stored.draft_inputs["s1.dob"] == "2099-01-01"
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"
    assert cards.element(card, "s1.postcode")["value"] == "not a postcode"  # type: ignore[index]


async def test_a_valid_step_moves_on_to_the_next(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert (await referral_of(world, referral_id)).draft_step == "subjects"


@pytest.mark.parametrize(
    ("step", "typed", "field_id", "says"),
    [
        ("about", {**ABOUT, F.CATEGORY: ""}, F.CATEGORY, "Choose the kind of referral."),
        ("about", {**ABOUT, F.TRIED_ALREADY: " "}, F.TRIED_ALREADY, "what has been tried"),
        ("subjects", {**SUBJECTS, "s1.name": ""}, "s1.name", "Write the subject's name."),
        ("subjects", {**SUBJECTS, "s1.dob": "2030-02-02"}, "s1.dob", "in the future"),
        ("subjects", {**SUBJECTS, "s1.dob": "1850-02-02"}, "s1.dob", "before 1900"),
        ("subjects", {**SUBJECTS, "s1.postcode": "RV5"}, "s1.postcode", "Not a UK postcode"),
        ("subjects", {**SUBJECTS, "s1.phone": "07700-900"}, "s1.phone", "digits and spaces"),
        ("subjects", {**SUBJECTS, "s1.name": "N" * 101}, "s1.name", "At most 100 characters"),
        ("household", {**HOUSEHOLD, F.INCIDENTS: ""}, F.INCIDENTS, "0 if none"),
        ("household", {**HOUSEHOLD, F.INCIDENTS: "lots"}, F.INCIDENTS, "whole number"),
        (
            "consent",
            {**CONSENT, F.CONSENT_GIVEN: "false"},
            F.CONSENT_REASON,
            "without the subject's consent",
        ),
        (
            "risk",
            {**RISK_SOME, risk_field("weapons"): ""},
            risk_field("weapons"),
            "Choose an answer.",
        ),
        (
            "review",
            {**REVIEW, F.JUDGEMENT: "true", F.JUSTIFICATION: "Gut feeling"},
            F.JUSTIFICATION,
            "at least 20 characters",
        ),
    ],
)
async def test_each_error_is_shown_on_the_card_next_to_its_field(
    world: World, step: str, typed: dict[str, Any], field_id: str, says: str
) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_NEXT, at(referral_id, step, **typed))
    message = error_next_to(card, field_id)
    assert message is not None and says in message
    problems = cards.element(card, "intake-problems")
    assert problems is not None and "Check the 1 field marked in red below." in card_text(problems)


async def test_a_child_with_an_adults_date_of_birth_is_shown_the_error(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_ADD_CHILD, at(referral_id, "household", **HOUSEHOLD))
    assert "c2.name" in str(card)
    card = await click(
        world,
        Verb.REFER_NEXT,
        at(referral_id, "household", **HOUSEHOLD, **{"c2.name": "Elowen", "c2.dob": "2001-01-01"}),
    )
    assert "under 18" in (error_next_to(card, "c2.dob") or "")
    card = await click(world, Verb.REFER_REMOVE_CHILD, at(referral_id, "household", row="c2"))
    assert cards.element(card, "c2.name") is None
    assert (await referral_of(world, referral_id)).draft_inputs["child_keys"] == []


async def test_subjects_are_added_and_removed_keeping_the_others(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_ADD_SUBJECT, at(referral_id, "subjects", **SUBJECTS))
    assert cards.element(card, "s2.name") is not None
    assert cards.element(card, "s2.role")["value"] == SubjectRole.VICTIM.value  # type: ignore[index]
    assert "Remove subject 2" in cards.titles(card, *cards.SENDING)
    card = await click(world, Verb.REFER_REMOVE_SUBJECT, at(referral_id, "subjects", row="s1"))
    assert cards.element(card, "s1.name") is None
    assert cards.element(card, "s2.name") is not None
    assert "Remove subject 1" not in cards.titles(
        card, *cards.SENDING
    )  # the last subject cannot be removed
    stored = await referral_of(world, referral_id)
    assert stored.draft_inputs["subject_keys"] == ["s2"]
    assert "s1.name" not in stored.draft_inputs


async def test_removing_the_last_subject_is_refused_on_the_card(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_REMOVE_SUBJECT, at(referral_id, "subjects", row="s1"))
    assert "A referral needs at least one subject." in card_text(card)
    assert cards.element(card, "s1.name") is not None


async def test_save_and_close_keeps_the_step_and_offers_to_carry_on(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_SAVE, at(referral_id, "about", **ABOUT))
    assert card_text(card).startswith("Draft RF-2026-0050 saved")
    carry_on = cards.button(card, "Carry on")
    assert carry_on["verb"] == Verb.REFER_OPEN.value
    card = await click(world, Verb.REFER_OPEN, carry_on["data"])
    assert subtitle(card) == "Step 1 of 6 · About the referral"
    assert cards.element(card, F.CATEGORY)["value"] == "asb_vulnerable"  # type: ignore[index]


async def test_the_risk_step_shows_the_total_worked_out_from_the_saved_answers(
    world: World,
) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_SAVE, at(referral_id, "risk", **RISK_SOME, total="99"))
    card = await click(world, Verb.REFER_OPEN, at(referral_id, "risk"))
    questions = len(MATRIX.items)
    expected = f"Total so far: {SOME_TOTAL}** of {MAX_TOTAL} ({questions} of {questions} answered"
    assert expected in card_text(card)


# --- submitting --------------------------------------------------------------------------


async def test_submit_stores_the_referral_and_queues_the_referrers_notice(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    card = await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert card_text(card).startswith("Referral RF-2026-0050 submitted")
    assert cards.titles(card, *cards.SENDING) == ["Start another referral"]
    stored = await referral_of(world, referral_id)
    assert stored.status is ReferralStatus.SUBMITTED
    assert stored.submitted_at == NOW
    [subject] = stored.subjects
    assert (subject.name, subject.postcode, subject.safe_to_call) == (
        "Wilhelmina Stroud",
        "RV5 3HG",
        True,
    )
    assert stored.incidents_last_12_months == 4
    assert stored.risk_answers == {item.id: "some" for item in MATRIX.items}
    assert stored.risk_matrix_version == MATRIX.version
    assert stored.risk_total == SOME_TOTAL
    assert stored.criteria.potential_escalation and not stored.criteria.high_risk
    # Not high risk under the matrix; eligible by escalation.
    assert assessed_risk_level(stored, MATRIX) is RiskLevel.MEDIUM
    assert [r.id for r in triage_calls.referrals] == [referral_id]
    [notice] = await outbox(world)
    assert notice.recipient_member_id == (await world.member("Aisha")).id
    assert notice.key == f"referrer:{referral_id}:received:{stored.version}"
    assert "Referral RF-2026-0050 received" in card_text(notice.payload["card"])


async def test_the_risk_total_is_worked_out_on_the_server_and_a_forged_one_ignored(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    assert not MATRIX.is_high(SOME_TOTAL) and MATRIX.is_high(MAX_TOTAL)
    forged = {**RISK_SOME, "total": str(MAX_TOTAL), "risk_total": MAX_TOTAL, "high_risk": "true"}
    await fill_to_review(world, referral_id, risk=forged)
    typed = {**REVIEW, "risk_total": MAX_TOTAL}
    await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **typed))
    stored = await referral_of(world, referral_id)
    assert stored.risk_total == SOME_TOTAL
    assert stored.criteria.high_risk is False
    assert not {"total", "risk_total", "high_risk"} & set(stored.draft_inputs)


async def test_a_high_total_makes_the_referral_high_risk(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    assert MATRIX.is_high(SIGNIFICANT_TOTAL)
    await fill_to_review(world, referral_id, risk=RISK_SIGNIFICANT)
    card = await click(world, Verb.REFER_OPEN, at(referral_id, "review"))
    assert f"Risk total: {SIGNIFICANT_TOTAL}**: high risk" in card_text(card)
    await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    stored = await referral_of(world, referral_id)
    assert (stored.risk_total, stored.criteria.high_risk) == (SIGNIFICANT_TOTAL, True)
    assert assessed_risk_level(stored, MATRIX) is RiskLevel.HIGH


async def test_a_referral_meeting_no_criterion_is_refused_with_the_criteria_explained(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    calm = {F.INCIDENTS: "1", F.INCIDENTS_RISING: "false"}
    await fill_to_review(world, referral_id, household={**HOUSEHOLD, **calm})
    card = await click(
        world, Verb.REFER_SUBMIT, at(referral_id, "review", **{**REVIEW, F.ESCALATION: "false"})
    )
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    problems = card_text(cards.element(card, "intake-problems") or {})
    assert "meets none of the panel's criteria" in problems
    assert "high risk" in problems and "professional judgement" in problems
    stored = await referral_of(world, referral_id)
    assert stored.status is ReferralStatus.DRAFT
    assert stored.subjects == []  # a refused submission leaves nothing for duplicate searches
    assert stored.draft_inputs[F.ESCALATION] == "false"
    assert triage_calls.referrals == []
    assert await outbox(world) == []


async def test_potential_escalation_is_suggested_on_the_review_step(world: World) -> None:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    card = await click(world, Verb.REFER_OPEN, at(referral_id, "review"))
    assert cards.element(card, F.ESCALATION)["value"] == "true"  # type: ignore[index]
    assert "Suggested: 3 or more incidents in 12 months, and rising." in card_text(card)


async def test_submit_sends_the_person_to_the_first_step_with_errors(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    await click(world, Verb.REFER_SAVE, at(referral_id, "consent", **{F.CONSENT_GIVEN: "false"}))
    await click(world, Verb.REFER_SAVE, at(referral_id, "risk", **{risk_field("hate"): ""}))
    card = await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert subtitle(card) == "Step 4 of 6 · Consent"
    assert error_next_to(card, F.CONSENT_REASON) is not None
    assert "Then check: Risk assessment." in card_text(card)
    assert (await referral_of(world, referral_id)).status is ReferralStatus.DRAFT
    assert triage_calls.referrals == []


async def test_a_second_click_on_submit_is_told_it_was_submitted(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    again = await click_reply(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert again.text is not None and again.text.startswith("RF-2026-0050 was submitted on")
    assert len(triage_calls.referrals) == 1


# --- sent back for more information ------------------------------------------------------


async def ask(world: World, referral_id: str, question: str) -> None:
    """What the coordinator's triage does when it sends a referral back."""
    async with world.storage.unit_of_work() as uow:
        referral = await uow.referrals.get(world.panel.id, referral_id)
        assert referral is not None
        referral.ask_for_more_information(question)
        await uow.referrals.save(referral)
        await tell_referrer(uow, world.panel, referral, ReferralEvent.MORE_INFO_NEEDED, NOW)
        await uow.commit()


async def test_a_referral_sent_back_is_answered_and_resubmitted(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    await ask(world, referral_id, "Is the landlord taking tenancy action?")
    notices = await outbox(world)
    card = notices[-1].payload["card"]
    assert "More information needed: RF-2026-0050" in card_text(card)
    answer = cards.button(card, "Answer and resubmit")
    assert answer["verb"] == Verb.REFER_ANSWER.value

    card = await click(world, Verb.REFER_ANSWER, answer["data"])
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    assert "The coordinator asks\nIs the landlord taking tenancy action?" in card_text(card)
    assert cards.element(card, "s1.name") is None and "Wilhelmina Stroud" in card_text(card)
    assert "Withdraw referral" in cards.titles(card, *cards.SENDING)

    typed = {**REVIEW, F.ANSWER: "Yes: a notice of seeking possession was served."}
    card = await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **typed))
    assert card_text(card).startswith("Referral RF-2026-0050 resubmitted")
    stored = await referral_of(world, referral_id)
    assert stored.status is ReferralStatus.SUBMITTED
    assert stored.draft_inputs[F.ANSWER].startswith("Yes: a notice")
    assert [r.id for r in triage_calls.referrals] == [referral_id, referral_id]
    received = [n for n in await outbox(world) if ":received:" in n.key]
    assert len(received) == 2  # told again on resubmission, under a new key


async def test_refer_resumes_a_referral_sent_back_with_the_question_on_top(world: World) -> None:
    async with world.storage.unit_of_work() as uow:
        seeded = await uow.referrals.by_reference(world.panel.id, "RF-2026-0049")
    assert seeded is not None and not seeded.draft_inputs
    await ask(world, seeded.id, "What is the victim's phone number?")
    await start(world)  # a newer draft does not hide the one the coordinator is waiting for
    card = (await world.command("Aisha", "refer")).card
    assert card is not None
    assert "Referral RF-2026-0049" in card_text(card)
    assert "What is the victim's phone number?" in card_text(card)
    # a referral made before drafts were kept is rebuilt from its stored fields
    card = await click(world, Verb.REFER_OPEN, at(seeded.id, "subjects"))
    assert cards.element(card, "s1.name")["value"] == "Samuel Achebe"  # type: ignore[index]


# --- discarding --------------------------------------------------------------------------


async def test_discard_asks_first_then_withdraws_the_draft(world: World) -> None:
    referral_id = await start(world)
    card = await click(world, Verb.REFER_DISCARD, at(referral_id, "about", **ABOUT))
    assert card_text(card).startswith("Discard draft RF-2026-0050?")
    assert (await referral_of(world, referral_id)).status is ReferralStatus.DRAFT
    card = await click(world, Verb.REFER_OPEN, cards.button(card, "No, keep it")["data"])
    assert cards.element(card, F.DISCUSSED_WITH)["value"] == "My line manager"  # type: ignore[index]

    card = await click(world, Verb.REFER_DISCARD, cards.button(card, "Discard draft")["data"])
    card = await click(world, Verb.REFER_DISCARD, cards.button(card, "Yes, discard")["data"])
    assert card_text(card).startswith("Draft RF-2026-0050 discarded")
    assert (await referral_of(world, referral_id)).status is ReferralStatus.WITHDRAWN
    later = await click_reply(world, Verb.REFER_NEXT, at(referral_id, "about"))
    assert later.text == "RF-2026-0050 was withdrawn, so it cannot be changed."
    card = (await world.command("Aisha", "refer")).card
    assert card is not None and "Referral RF-2026-0051" in card_text(card)


# --- two clicks at once ------------------------------------------------------------------


async def test_a_stale_copy_of_a_draft_cannot_be_saved(world: World) -> None:
    referral_id = await start(world)
    async with world.storage.unit_of_work() as uow:
        stale = await uow.referrals.get(world.panel.id, referral_id)
    await click(world, Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    assert stale is not None
    stale.draft_inputs = {}

    async def save_the_stale_copy() -> None:
        async with world.storage.unit_of_work() as uow:
            await uow.referrals.save(stale)
            await uow.commit()

    with pytest.raises(Conflict):
        await save_the_stale_copy()
    stored = await referral_of(world, referral_id)
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"


async def test_a_click_that_races_another_is_laid_over_the_newer_draft(world: World) -> None:
    referral_id = await start(world)
    storage = world.storage
    raced = False

    def racing_uow() -> UnitOfWork:
        """A unit of work in which another window saves the draft just before this one."""
        uow = storage.unit_of_work()
        save = uow.referrals.save

        async def save_after_the_other_window(referral: Referral) -> None:
            nonlocal raced
            if not raced:
                raced = True
                async with storage.unit_of_work() as other:
                    newer = await other.referrals.get(referral.panel_id, referral.id)
                    assert newer is not None
                    newer.draft_inputs = {**newer.draft_inputs, F.RELATIONSHIP: "Typed elsewhere"}
                    await other.referrals.save(newer)
                    await other.commit()
            await save(referral)

        uow.referrals.save = save_after_the_other_window  # type: ignore[method-assign]
        return uow

    request = await world.request("Aisha")
    deps = make_deps(uow=racing_uow, clock=world.clock)
    data = at(referral_id, "about", **ABOUT)
    reply = await run_verb(world.router, request, Verb.REFER_NEXT.value, data, deps)
    assert reply.card is not None and subtitle(reply.card) == "Step 2 of 6 · Subjects"
    stored = await referral_of(world, referral_id)
    assert stored.draft_inputs[F.RELATIONSHIP] == "Typed elsewhere"  # the other window's
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"  # and this click's


# --- telling the referrer ----------------------------------------------------------------


async def submitted(world: World, triage_calls: TriageCalls) -> Referral:
    referral_id = await start(world)
    await fill_to_review(world, referral_id)
    await click(world, Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    return await referral_of(world, referral_id)


async def test_an_accepted_referrer_is_told_the_case_and_the_meeting_in_local_time(
    world: World, triage_calls: TriageCalls
) -> None:
    referral = await submitted(world, triage_calls)
    summer_meeting = datetime(2027, 7, 13, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
    async with world.storage.unit_of_work() as uow:
        referral.accept("case-1", NOW)
        await uow.referrals.save(referral)
        await tell_referrer(
            uow,
            world.panel,
            referral,
            ReferralEvent.ACCEPTED,
            NOW,
            case_reference="CM-2026-015",
            meeting_starts_at=summer_meeting,
        )
        await uow.commit()
    notice = (await outbox(world))[-1]
    text = card_text(notice.payload["card"])
    assert "Referral RF-2026-0050 accepted" in text
    assert "CM-2026-015" in text
    assert "Tue 13 Jul 2027, 10:00" in text
    assert notice.key == f"referrer:{referral.id}:accepted:{referral.version}"


@pytest.mark.parametrize(
    ("reason", "note", "says"),
    [
        (DeclineReason.CRITERIA_NOT_MET, None, "does not meet the panel's criteria"),
        (DeclineReason.MORE_APPROPRIATE_MEETING, "Channel panel", "Channel panel"),
        (DeclineReason.OUT_OF_AREA, None, "outside the panel's area"),
        (DeclineReason.DUPLICATE, "See CM-2026-014", "already has an open case"),
    ],
)
async def test_a_declined_referrer_is_told_why_in_plain_words(
    world: World, triage_calls: TriageCalls, reason: DeclineReason, note: str | None, says: str
) -> None:
    referral = await submitted(world, triage_calls)
    async with world.storage.unit_of_work() as uow:
        referral.decline(reason, note, NOW)
        await uow.referrals.save(referral)
        await tell_referrer(uow, world.panel, referral, ReferralEvent.DECLINED, NOW)
        await uow.commit()
    text = card_text((await outbox(world))[-1].payload["card"])
    assert "Referral RF-2026-0050 declined" in text
    assert says in text


async def test_telling_the_referrer_twice_of_the_same_change_queues_one_card(
    world: World, triage_calls: TriageCalls
) -> None:
    referral = await submitted(world, triage_calls)
    for _ in range(2):
        async with world.storage.unit_of_work() as uow:
            await tell_referrer(uow, world.panel, referral, ReferralEvent.RECEIVED, NOW)
            await uow.commit()
    assert len([n for n in await outbox(world) if ":received:" in n.key]) == 1


async def test_an_accepted_notice_without_a_case_reference_is_a_programming_error(
    world: World, triage_calls: TriageCalls
) -> None:
    referral = await submitted(world, triage_calls)
    async with world.storage.unit_of_work() as uow:
        with pytest.raises(ValueError, match="case reference"):
            await tell_referrer(uow, world.panel, referral, ReferralEvent.ACCEPTED, NOW)
