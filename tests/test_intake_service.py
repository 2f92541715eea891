"""Referral intake as a service: `refer` and the intake card's clicks, on the in-memory store.

`bot.features.referrals.triage.referral_submitted` belongs to the triage feature; these tests
replace it with a small recorder (the `triage_calls` fixture) so they check only what intake does.
Every person, address and date of birth here is invented.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import make_deps
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.domain.delivery import ConversationKind, OutgoingDelivery
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.intake_rules import F, risk_field
from bot.domain.panel import Member, Panel
from bot.domain.referral import DeclineReason, Referral, ReferralStatus, SubjectRole
from bot.features.referrals import intake, triage
from bot.features.referrals.notices import ReferralEvent, tell_referrer
from bot.kernel.config import load_risk_matrix
from bot.kernel.dispatch import run_command, run_verb
from bot.kernel.ports import UnitOfWork
from bot.kernel.router import Caller, Deps, Reply, Request, Router, Where
from cards.kit import card_text
from cards.verbs import Verb
from storage import MemoryStorage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
AISHA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05"
GEMMA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03"
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
    "s1.phone": "07700 900777",
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
REVIEW = {F.ESCALATION: "true", F.JUDGEMENT: "false", F.JUSTIFICATION: ""}


# --- reading cards -----------------------------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every element and action of a card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def element(card: Mapping[str, Any], element_id: str) -> dict[str, Any] | None:
    """The card element with this id."""
    return next((e for e in walk(card) if e.get("id") == element_id), None)


def error_next_to(card: Mapping[str, Any], field_id: str) -> str | None:
    """The red line shown right under the input `field_id`, if any."""
    for node in walk(card):
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


def buttons(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's buttons by title."""
    return {
        str(e["title"]): e
        for e in walk(card)
        if e.get("type") in {"Action.Execute", "Action.Submit"} and "title" in e
    }


def subtitle(card: Mapping[str, Any]) -> str:
    """The step indicator under the card's title."""
    return str(card["body"][1]["text"])


# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    """The demo panel in memory, and Aisha Bello (its referrer) talking to the bot."""

    storage: MemoryStorage
    clock: FixedClock
    router: Router
    panel: Panel
    aisha: Member
    gemma: Member
    drafts: list[str] = field(default_factory=list)

    @property
    def deps(self) -> Deps:
        return make_deps(uow=self.storage.unit_of_work, clock=self.clock)

    def request(self, member: Member, kind: ConversationKind) -> Request:
        return Request(
            caller=Caller(f"29:{member.aad_object_id}", member.aad_object_id, member.name),
            where=Where(kind=kind, conversation_id=f"a:{member.id}"),
            panel=self.panel,
            member=member,
        )

    async def command(
        self,
        text: str,
        *,
        member: Member | None = None,
        kind: ConversationKind = ConversationKind.PERSONAL,
    ) -> Reply:
        name, _, args = text.partition(" ")
        request = self.request(member or self.aisha, kind)
        return await run_command(self.router, request, name, args, self.deps)

    async def click(
        self, verb: Verb, data: Mapping[str, Any], *, member: Member | None = None
    ) -> dict[str, Any]:
        """Click a button; the card that replaces the clicked one."""
        reply = await self.click_reply(verb, data, member=member)
        assert reply.card is not None, reply.text
        return reply.card

    async def click_reply(
        self, verb: Verb, data: Mapping[str, Any], *, member: Member | None = None
    ) -> Reply:
        request = self.request(member or self.aisha, ConversationKind.PERSONAL)
        return await run_verb(self.router, request, verb.value, data, self.deps)

    async def referral(self, referral_id: str) -> Referral:
        async with self.storage.unit_of_work() as uow:
            found = await uow.referrals.get(self.panel.id, referral_id)
        assert found is not None
        return found

    async def outbox(self) -> list[OutgoingDelivery]:
        async with self.storage.unit_of_work() as uow:
            return await uow.outbox.due(self.clock.now(), 100)

    async def start(self) -> str:
        """`refer new`: the id of the new draft."""
        card = (await self.command("refer new")).card
        assert card is not None
        return str(buttons(card)["Next"]["data"]["referral_id"])

    async def fill_to_review(self, referral_id: str, **overrides: Mapping[str, Any]) -> None:
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
            card = await self.click(Verb.REFER_NEXT, data)
            assert element(card, "intake-problems") is None, card_text(card)


@pytest.fixture
async def world() -> World:
    storage = MemoryStorage()
    clock = FixedClock(NOW)
    await seed_demo(storage.unit_of_work, clock)
    router = Router()
    intake.register(router)
    async with storage.unit_of_work() as uow:
        aisha = (await uow.members.memberships(AISHA))[0]
        gemma = (await uow.members.memberships(GEMMA))[0]
        panel = await uow.panels.get(aisha.panel_id)
    assert panel is not None
    return World(storage, clock, router, panel, aisha, gemma)


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
    reply = await world.command("refer")
    assert reply.card is not None
    text = card_text(reply.card)
    assert "Referral RF-2026-0004" in text  # the demo panel made three referrals this year
    assert subtitle(reply.card) == "Step 1 of 6 · About the referral"
    assert "Aisha Bello" in text
    assert "Victim Support" in text
    referral_id = buttons(reply.card)["Next"]["data"]["referral_id"]
    stored = await world.referral(referral_id)
    assert stored.status is ReferralStatus.DRAFT
    assert stored.reference == "RF-2026-0004"
    assert stored.referring_agency_id == world.aisha.agency_id
    assert stored.draft_step == "about"


async def test_every_button_carries_the_referral_and_the_step(world: World) -> None:
    card = (await world.command("refer")).card
    assert card is not None
    for title in ("Next", "Save and close", "Discard draft"):
        data = buttons(card)[title]["data"]
        assert set(data) == {"referral_id", "step"}
        assert data["step"] == "about"


async def test_refer_again_resumes_the_draft_at_its_step_with_what_was_typed(
    world: World,
) -> None:
    referral_id = await world.start()
    await world.click(Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    await world.click(Verb.REFER_SAVE, at(referral_id, "subjects", **{"s1.name": "Jory Penhale"}))
    card = (await world.command("refer")).card
    assert card is not None
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert element(card, "s1.name") == {**element(card, "s1.name"), "value": "Jory Penhale"}  # type: ignore[dict-item]
    card = await world.click(Verb.REFER_BACK, at(referral_id, "subjects"))
    assert element(card, F.DISCUSSED_WITH)["value"] == "My line manager"  # type: ignore[index]


async def test_refer_new_starts_another_draft_and_names_the_other_one(world: World) -> None:
    await world.start()
    card = (await world.command("refer new")).card
    assert card is not None
    text = card_text(card)
    assert "Referral RF-2026-0005" in text
    assert "Your other drafts: RF-2026-0004" in text


async def test_refer_with_a_reference_opens_that_draft(world: World) -> None:
    first = await world.start()
    await world.start()
    card = (await world.command("refer rf-2026-0004")).card
    assert card is not None
    assert buttons(card)["Next"]["data"]["referral_id"] == first


async def test_refer_with_a_submitted_reference_says_where_it_is(world: World) -> None:
    reply = await world.command("refer RF-2026-0049")  # the demo panel's, submitted by Aisha
    assert reply.text == (
        "RF-2026-0049 was submitted on Wed 18 Nov 2026 and is with the coordinator. I'll tell "
        "you here when they decide."
    )


async def test_refer_with_someone_elses_or_a_malformed_reference_is_refused(world: World) -> None:
    with pytest.raises(NotFound, match="You have no referral RF-2026-0049"):
        await world.command("refer RF-2026-0049", member=world.gemma)
    with pytest.raises(InvalidInput, match="refer new to start another"):
        await world.command("refer please")


async def test_someone_else_cannot_click_on_anothers_draft(world: World) -> None:
    referral_id = await world.start()
    with pytest.raises(NotAllowed, match=r"^I can't find that referral among yours"):
        await world.click(Verb.REFER_NEXT, at(referral_id, "about", **ABOUT), member=world.gemma)
    assert (await world.referral(referral_id)).draft_inputs.get("discussed_with") is None


async def test_a_card_without_its_referral_is_out_of_date(world: World) -> None:
    with pytest.raises(InvalidInput, match="out of date"):
        await world.click(Verb.REFER_NEXT, {"step": "about"})


async def test_a_person_who_is_not_a_panel_member_cannot_refer(world: World) -> None:
    request = replace(
        world.request(world.aisha, ConversationKind.PERSONAL), panel=None, member=None
    )
    with pytest.raises(NotAllowed):
        await run_command(world.router, request, "refer", "", world.deps)


async def test_refer_in_a_channel_answers_in_private_and_queues_the_card(world: World) -> None:
    reply = await world.command("refer", kind=ConversationKind.CHANNEL)
    assert reply == Reply(text="Referrals are made in private: I've sent you a private message.")
    [queued] = await world.outbox()
    assert queued.recipient_member_id == world.aisha.id
    assert "Referral RF-2026-0004" in card_text(queued.payload["card"])


# --- saving on every click ---------------------------------------------------------------


async def test_every_click_keeps_what_was_typed_even_when_it_is_not_valid(world: World) -> None:
    referral_id = await world.start()
    await world.click(Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    bad = {**SUBJECTS, "s1.postcode": "not a postcode", "s1.dob": "2099-01-01"}
    card = await world.click(Verb.REFER_NEXT, at(referral_id, "subjects", **bad))
    assert subtitle(card) == "Step 2 of 6 · Subjects"  # the step does not advance
    stored = await world.referral(referral_id)
    assert stored.draft_step == "subjects"
    assert stored.draft_inputs["s1.postcode"] == "not a postcode"
    assert stored.draft_inputs["s1.dob"] == "2099-01-01"
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"
    assert element(card, "s1.postcode")["value"] == "not a postcode"  # type: ignore[index]


async def test_a_valid_step_moves_on_to_the_next(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert (await world.referral(referral_id)).draft_step == "subjects"


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
    referral_id = await world.start()
    card = await world.click(Verb.REFER_NEXT, at(referral_id, step, **typed))
    message = error_next_to(card, field_id)
    assert message is not None and says in message
    problems = element(card, "intake-problems")
    assert problems is not None and "Check the 1 field marked in red below." in card_text(problems)


async def test_a_child_with_an_adults_date_of_birth_is_shown_the_error(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_ADD_CHILD, at(referral_id, "household", **HOUSEHOLD))
    assert "c2.name" in str(card)
    card = await world.click(
        Verb.REFER_NEXT,
        at(referral_id, "household", **HOUSEHOLD, **{"c2.name": "Elowen", "c2.dob": "2001-01-01"}),
    )
    assert "under 18" in (error_next_to(card, "c2.dob") or "")
    card = await world.click(Verb.REFER_REMOVE_CHILD, at(referral_id, "household", row="c2"))
    assert element(card, "c2.name") is None
    assert (await world.referral(referral_id)).draft_inputs["child_keys"] == []


async def test_subjects_are_added_and_removed_keeping_the_others(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_ADD_SUBJECT, at(referral_id, "subjects", **SUBJECTS))
    assert element(card, "s2.name") is not None
    assert element(card, "s2.role")["value"] == SubjectRole.VICTIM.value  # type: ignore[index]
    assert "Remove subject 2" in buttons(card)
    card = await world.click(Verb.REFER_REMOVE_SUBJECT, at(referral_id, "subjects", row="s1"))
    assert element(card, "s1.name") is None
    assert element(card, "s2.name") is not None
    assert "Remove subject 1" not in buttons(card)  # the last subject cannot be removed
    stored = await world.referral(referral_id)
    assert stored.draft_inputs["subject_keys"] == ["s2"]
    assert "s1.name" not in stored.draft_inputs


async def test_removing_the_last_subject_is_refused_on_the_card(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_REMOVE_SUBJECT, at(referral_id, "subjects", row="s1"))
    assert "A referral needs at least one subject." in card_text(card)
    assert element(card, "s1.name") is not None


async def test_save_and_close_keeps_the_step_and_offers_to_carry_on(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_SAVE, at(referral_id, "about", **ABOUT))
    assert card_text(card).startswith("Draft RF-2026-0004 saved")
    carry_on = buttons(card)["Carry on"]
    assert carry_on["verb"] == Verb.REFER_OPEN.value
    card = await world.click(Verb.REFER_OPEN, carry_on["data"])
    assert subtitle(card) == "Step 1 of 6 · About the referral"
    assert element(card, F.CATEGORY)["value"] == "asb_vulnerable"  # type: ignore[index]


async def test_the_risk_step_shows_the_total_worked_out_from_the_saved_answers(
    world: World,
) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_SAVE, at(referral_id, "risk", **RISK_SOME, total="99"))
    card = await world.click(Verb.REFER_OPEN, at(referral_id, "risk"))
    assert "Total so far: 20** of 60 (20 of 20 answered" in card_text(card)


# --- submitting --------------------------------------------------------------------------


async def test_submit_stores_the_referral_and_queues_the_referrers_notice(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    card = await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert card_text(card).startswith("Referral RF-2026-0004 submitted")
    assert list(buttons(card)) == ["Start another referral"]
    stored = await world.referral(referral_id)
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
    assert stored.risk_total == 20
    assert stored.criteria.potential_escalation and not stored.criteria.high_risk
    assert [r.id for r in triage_calls.referrals] == [referral_id]
    [notice] = await world.outbox()
    assert notice.recipient_member_id == world.aisha.id
    assert notice.key == f"referrer:{referral_id}:received:{stored.version}"
    assert "Referral RF-2026-0004 received" in card_text(notice.payload["card"])


async def test_the_risk_total_is_worked_out_on_the_server_and_a_forged_one_ignored(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    forged = {**RISK_SOME, "total": "60", "risk_total": 60, "high_risk": "true"}
    await world.fill_to_review(referral_id, risk=forged)
    await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW, risk_total=60))
    stored = await world.referral(referral_id)
    assert stored.risk_total == 20
    assert stored.criteria.high_risk is False
    assert not {"total", "risk_total", "high_risk"} & set(stored.draft_inputs)


async def test_a_high_total_makes_the_referral_high_risk(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    severe = {risk_field(item.id): "significant" for item in MATRIX.items}
    await world.fill_to_review(referral_id, risk=severe)
    card = await world.click(Verb.REFER_OPEN, at(referral_id, "review"))
    assert "Risk total: 40**: high risk" in card_text(card)
    await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    stored = await world.referral(referral_id)
    assert (stored.risk_total, stored.criteria.high_risk) == (40, True)


async def test_a_referral_meeting_no_criterion_is_refused_with_the_criteria_explained(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    calm = {F.INCIDENTS: "1", F.INCIDENTS_RISING: "false"}
    await world.fill_to_review(referral_id, household={**HOUSEHOLD, **calm})
    card = await world.click(
        Verb.REFER_SUBMIT, at(referral_id, "review", **{**REVIEW, F.ESCALATION: "false"})
    )
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    problems = card_text(element(card, "intake-problems") or {})
    assert "meets none of the panel's criteria" in problems
    assert "high risk" in problems and "professional judgement" in problems
    stored = await world.referral(referral_id)
    assert stored.status is ReferralStatus.DRAFT
    assert stored.subjects == []  # a refused submission leaves nothing for duplicate searches
    assert stored.draft_inputs[F.ESCALATION] == "false"
    assert triage_calls.referrals == []
    assert await world.outbox() == []


async def test_potential_escalation_is_suggested_on_the_review_step(world: World) -> None:
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    card = await world.click(Verb.REFER_OPEN, at(referral_id, "review"))
    assert element(card, F.ESCALATION)["value"] == "true"  # type: ignore[index]
    assert "Suggested: 3 or more incidents in 12 months, and rising." in card_text(card)


async def test_submit_sends_the_person_to_the_first_step_with_errors(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    await world.click(Verb.REFER_SAVE, at(referral_id, "consent", **{F.CONSENT_GIVEN: "false"}))
    await world.click(Verb.REFER_SAVE, at(referral_id, "risk", **{risk_field("hate"): ""}))
    card = await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert subtitle(card) == "Step 4 of 6 · Consent"
    assert error_next_to(card, F.CONSENT_REASON) is not None
    assert "Then check: Risk assessment." in card_text(card)
    assert (await world.referral(referral_id)).status is ReferralStatus.DRAFT
    assert triage_calls.referrals == []


async def test_a_second_click_on_submit_is_told_it_was_submitted(
    world: World, triage_calls: TriageCalls
) -> None:
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    again = await world.click_reply(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    assert again.text is not None and again.text.startswith("RF-2026-0004 was submitted on")
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
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    await ask(world, referral_id, "Is the landlord taking tenancy action?")
    notices = await world.outbox()
    card = notices[-1].payload["card"]
    assert "More information needed: RF-2026-0004" in card_text(card)
    answer = buttons(card)["Answer and resubmit"]
    assert answer["verb"] == Verb.REFER_ANSWER.value

    card = await world.click(Verb.REFER_ANSWER, answer["data"])
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    assert "The coordinator asks\nIs the landlord taking tenancy action?" in card_text(card)
    assert element(card, "s1.name") is None and "Wilhelmina Stroud" in card_text(card)
    assert "Withdraw referral" in buttons(card)

    typed = {**REVIEW, F.ANSWER: "Yes: a notice of seeking possession was served."}
    card = await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **typed))
    assert card_text(card).startswith("Referral RF-2026-0004 resubmitted")
    stored = await world.referral(referral_id)
    assert stored.status is ReferralStatus.SUBMITTED
    assert stored.draft_inputs[F.ANSWER].startswith("Yes: a notice")
    assert [r.id for r in triage_calls.referrals] == [referral_id, referral_id]
    received = [n for n in await world.outbox() if ":received:" in n.key]
    assert len(received) == 2  # told again on resubmission, under a new key


async def test_refer_resumes_a_referral_sent_back_with_the_question_on_top(world: World) -> None:
    async with world.storage.unit_of_work() as uow:
        seeded = await uow.referrals.by_reference(world.panel.id, "RF-2026-0049")
    assert seeded is not None and not seeded.draft_inputs
    await ask(world, seeded.id, "What is the victim's phone number?")
    await world.start()  # a newer draft does not hide the one the coordinator is waiting for
    card = (await world.command("refer")).card
    assert card is not None
    assert "Referral RF-2026-0049" in card_text(card)
    assert "What is the victim's phone number?" in card_text(card)
    # a referral made before drafts were kept is rebuilt from its stored fields
    card = await world.click(Verb.REFER_OPEN, at(seeded.id, "subjects"))
    assert element(card, "s1.name")["value"] == "Samuel Achebe"  # type: ignore[index]


# --- discarding --------------------------------------------------------------------------


async def test_discard_asks_first_then_withdraws_the_draft(world: World) -> None:
    referral_id = await world.start()
    card = await world.click(Verb.REFER_DISCARD, at(referral_id, "about", **ABOUT))
    assert card_text(card).startswith("Discard draft RF-2026-0004?")
    assert (await world.referral(referral_id)).status is ReferralStatus.DRAFT
    card = await world.click(Verb.REFER_OPEN, buttons(card)["No, keep it"]["data"])
    assert element(card, F.DISCUSSED_WITH)["value"] == "My line manager"  # type: ignore[index]

    card = await world.click(Verb.REFER_DISCARD, buttons(card)["Discard draft"]["data"])
    card = await world.click(Verb.REFER_DISCARD, buttons(card)["Yes, discard"]["data"])
    assert card_text(card).startswith("Draft RF-2026-0004 discarded")
    assert (await world.referral(referral_id)).status is ReferralStatus.WITHDRAWN
    later = await world.click_reply(Verb.REFER_NEXT, at(referral_id, "about"))
    assert later.text == "RF-2026-0004 was withdrawn, so it cannot be changed."
    card = (await world.command("refer")).card
    assert card is not None and "Referral RF-2026-0005" in card_text(card)


# --- two clicks at once ------------------------------------------------------------------


async def test_a_stale_copy_of_a_draft_cannot_be_saved(world: World) -> None:
    referral_id = await world.start()
    async with world.storage.unit_of_work() as uow:
        stale = await uow.referrals.get(world.panel.id, referral_id)
    await world.click(Verb.REFER_NEXT, at(referral_id, "about", **ABOUT))
    assert stale is not None
    stale.draft_inputs = {}

    async def save_the_stale_copy() -> None:
        async with world.storage.unit_of_work() as uow:
            await uow.referrals.save(stale)
            await uow.commit()

    with pytest.raises(Conflict):
        await save_the_stale_copy()
    stored = await world.referral(referral_id)
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"


async def test_a_click_that_races_another_is_laid_over_the_newer_draft(world: World) -> None:
    referral_id = await world.start()
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

    request = world.request(world.aisha, ConversationKind.PERSONAL)
    deps = make_deps(uow=racing_uow, clock=world.clock)
    data = at(referral_id, "about", **ABOUT)
    reply = await run_verb(world.router, request, Verb.REFER_NEXT.value, data, deps)
    assert reply.card is not None and subtitle(reply.card) == "Step 2 of 6 · Subjects"
    stored = await world.referral(referral_id)
    assert stored.draft_inputs[F.RELATIONSHIP] == "Typed elsewhere"  # the other window's
    assert stored.draft_inputs[F.DISCUSSED_WITH] == "My line manager"  # and this click's


# --- telling the referrer ----------------------------------------------------------------


async def submitted(world: World, triage_calls: TriageCalls) -> Referral:
    referral_id = await world.start()
    await world.fill_to_review(referral_id)
    await world.click(Verb.REFER_SUBMIT, at(referral_id, "review", **REVIEW))
    return await world.referral(referral_id)


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
    notice = (await world.outbox())[-1]
    text = card_text(notice.payload["card"])
    assert "Referral RF-2026-0004 accepted" in text
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
    text = card_text((await world.outbox())[-1].payload["card"])
    assert "Referral RF-2026-0004 declined" in text
    assert says in text


async def test_telling_the_referrer_twice_of_the_same_change_queues_one_card(
    world: World, triage_calls: TriageCalls
) -> None:
    referral = await submitted(world, triage_calls)
    for _ in range(2):
        async with world.storage.unit_of_work() as uow:
            await tell_referrer(uow, world.panel, referral, ReferralEvent.RECEIVED, NOW)
            await uow.commit()
    assert len([n for n in await world.outbox() if ":received:" in n.key]) == 1


async def test_an_accepted_notice_without_a_case_reference_is_a_programming_error(
    world: World, triage_calls: TriageCalls
) -> None:
    referral = await submitted(world, triage_calls)
    async with world.storage.unit_of_work() as uow:
        with pytest.raises(ValueError, match="case reference"):
            await tell_referrer(uow, world.panel, referral, ReferralEvent.ACCEPTED, NOW)
