"""A council starting from nothing (issue 15, item 9): the triage card plans the panel's
meetings when none is open, and the referral keeps what matters for triage (the explanation
of the escalation typed in the justification, the subjects' vulnerabilities and what was
tried already) on the triage card and the case.

On the demo panel in memory (tests/support/world.py) with the clock moved past its meetings.
`setup` itself is tested through the real app in tests/test_setup_bot.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.errors import NotAllowed
from bot.domain.intake_rules import F, read_referral
from bot.domain.meeting import MeetingStatus
from bot.domain.referral import Criteria, DeclineReason, ReferralStatus
from bot.features.meetings import calendar
from bot.features.referrals.triage import MEETINGS_PLANNED, NO_MEETING_PLANNED
from bot.kernel.ports import AlreadyExists
from cards.kit import card_text
from cards.triage import PLAN_MEETINGS_BUTTON
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, TOM, Backend, World, demo_world, opened
from tests.test_intake_rules import CTX, valid_inputs

if TYPE_CHECKING:
    from pathlib import Path

    from bot.domain.referral import Referral

PENDING = "RF-2026-0049"
EXPLANATION = "The threats moved from the stairwell to his front door in the last fortnight."
TRIED = "Two warning letters from Riverside Homes; a community trigger review in October."
VULNERABLE = "Uses a walking frame; hard of hearing."
# Past every meeting the demo seeds: the panel has no meeting open.
LATER = NOW + timedelta(days=400)


async def referral(world: World, reference: str = PENDING) -> Referral:
    async with world.storage.unit_of_work() as uow:
        found = await uow.referrals.by_reference(world.panel.id, reference)
    assert found is not None
    return found


async def open_meetings(world: World) -> int:
    async with world.storage.unit_of_work() as uow:
        found = await uow.meetings.upcoming(world.panel.id, world.clock.now(), 50)
    return sum(1 for m in found if m.status is MeetingStatus.SCHEDULED)


async def triage_card(world: World) -> dict[str, object]:
    reply = await world.command("Priya", f"referrals {PENDING}")
    assert reply.card is not None
    return reply.card


# ---- planning the meetings from the triage card -----------------------------------------


async def test_with_no_meeting_open_the_triage_card_plans_them_and_shows_them() -> None:
    world = await demo_world()
    world.clock.advance(LATER)
    assert await open_meetings(world) == 0
    card = await triage_card(world)
    assert "No upcoming meeting is scheduled" in card_text(card)
    assert "Schedule the next meeting first" not in card_text(card)
    plan = cards.button(card, PLAN_MEETINGS_BUTTON)
    assert plan["verb"] == Verb.TRIAGE_PLAN_MEETINGS.value

    reply = await world.click("Priya", plan["verb"], plan["data"])

    assert reply.card is not None
    text = card_text(reply.card)
    assert MEETINGS_PLANNED in text
    assert "No upcoming meeting is scheduled" not in text
    # The Accept form is open with the meetings to choose from: the next six, by the rule.
    meeting_input = cards.inputs(reply.card)["meeting_id"]
    assert await open_meetings(world) == 6
    async with world.storage.unit_of_work() as uow:
        planned = await uow.meetings.upcoming(world.panel.id, LATER, 50)
    assert meeting_input["value"] == planned[0].id
    assert all(m.starts_at > LATER and m.starts_at.weekday() == 1 for m in planned)  # Tuesdays
    # Asked again (a second coordinator, a double click), nothing more is planned.
    await world.click("Priya", plan["verb"], plan["data"])
    assert await open_meetings(world) == 6


@pytest.mark.parametrize(
    "backend", [Backend.SQLITE, pytest.param(Backend.POSTGRES, marks=pytest.mark.postgres)]
)
async def test_the_meetings_are_planned_once_in_sql_storage(
    backend: Backend, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL: planned under the panel's lock in the click's unit of work,
    each date once however often it is asked."""
    async with opened(backend, tmp_path, label="plan_meetings") as storage:
        world = await demo_world(storage)
        world.clock.advance(LATER)
        plan = cards.button(await triage_card(world), PLAN_MEETINGS_BUTTON)
        await asyncio.gather(
            world.click("Priya", plan["verb"], plan["data"]),
            world.click("Priya", plan["verb"], plan["data"]),
        )
        assert await open_meetings(world) == 6
        async with world.storage.unit_of_work() as uow:
            planned = await uow.meetings.upcoming(world.panel.id, LATER, 50)
        days = [m.planned_on for m in planned]
        assert len(set(days)) == len(days) == 6


async def test_only_the_coordinator_plans_the_meetings_from_a_triage_card() -> None:
    world = await demo_world()
    world.clock.advance(LATER)
    plan = cards.button(await triage_card(world), PLAN_MEETINGS_BUTTON)
    with pytest.raises(NotAllowed, match="coordinators"):
        await world.click("Tom", plan["verb"], plan["data"])  # the chair
    assert await open_meetings(world) == 0
    async with world.storage.unit_of_work() as uow:
        (refusal, *_) = await uow.audit.recent(world.panel.id)
    assert refusal.verb is AuditVerb.REFUSE
    assert refusal.actor_aad_object_id == TOM


async def test_a_referral_decided_meanwhile_plans_nothing() -> None:
    world = await demo_world()
    world.clock.advance(LATER)
    plan = cards.button(await triage_card(world), PLAN_MEETINGS_BUTTON)
    decline = {
        "referral_id": plan["data"]["referral_id"],
        "version": plan["data"]["version"],
        "decline_reason": DeclineReason.OUT_OF_AREA.value,
        "decline_note": "",
    }
    await world.click("Priya", Verb.TRIAGE_DECLINE, decline)
    assert (await referral(world)).status is ReferralStatus.DECLINED
    reply = await world.click("Priya", plan["verb"], plan["data"])
    assert reply.card is not None and "declined" in card_text(reply.card).lower()
    assert PLAN_MEETINGS_BUTTON not in card_text(reply.card)
    assert await open_meetings(world) == 0


# ---- what the referrer typed, on the triage card and the case ---------------------------


def test_the_explanation_typed_is_kept_without_professional_judgement() -> None:
    fields = read_referral(
        valid_inputs(**{F.JUDGEMENT: "false", F.JUSTIFICATION: EXPLANATION}), CTX
    )
    assert fields.criteria.professional_judgement is None
    assert fields.criteria.explanation == EXPLANATION
    assert fields.criteria.potential_escalation
    judged = read_referral(valid_inputs(**{F.JUDGEMENT: "true", F.JUSTIFICATION: EXPLANATION}), CTX)
    assert judged.criteria.professional_judgement == judged.criteria.explanation == EXPLANATION
    nothing = read_referral(valid_inputs(**{F.JUSTIFICATION: ""}), CTX)
    assert nothing.criteria.explanation is None is nothing.criteria.explained


def test_a_referral_stored_before_the_explanation_was_kept_shows_its_judgement() -> None:
    assert Criteria(professional_judgement=EXPLANATION).explained == EXPLANATION
    assert Criteria(explanation="  ").explained is None


async def told(world: World, reference: str) -> Referral:
    """The referral given the explanation, what was tried and its first subject's
    vulnerabilities, as the intake card stores them."""
    found = await referral(world, reference)
    found.criteria = dataclasses.replace(
        found.criteria, potential_escalation=True, explanation=EXPLANATION
    )
    found.tried_already = TRIED
    found.subjects[0].vulnerabilities = VULNERABLE
    await world.save(found)
    return found


async def test_the_triage_card_shows_the_explanation_the_vulnerabilities_and_what_was_tried() -> (
    None
):
    world = await demo_world()
    found = await told(world, PENDING)
    text = card_text(await triage_card(world))
    assert f"Why it escalates\n{EXPLANATION}" in text
    assert f"Tried already\n{TRIED}" in text
    assert f"{found.subjects[0].name} —" in text
    assert "vulnerabilities: Uses a walking frame; hard of hearing" in text
    assert "walking frame.;" not in text


async def test_the_case_shows_the_explanation_typed_with_the_referral() -> None:
    world = await demo_world()
    case = await world.case(f"CM-{NOW.year}-014")
    async with world.storage.unit_of_work() as uow:
        origin = await uow.referrals.get(world.panel.id, case.referral_id or "")
    assert origin is not None
    await told(world, origin.reference)
    reply = await world.command("Priya", f"case {case.reference}")
    assert reply.card is not None
    text = card_text(reply.card)
    assert f"Why it escalates\n{EXPLANATION}" in text
    assert f"Tried already\n{TRIED}" in text and "walking frame" in text


async def test_a_spoc_cannot_plan_the_meetings_either() -> None:
    world = await demo_world()
    world.clock.advance(LATER)
    plan = cards.button(await triage_card(world), PLAN_MEETINGS_BUTTON)
    with pytest.raises(NotAllowed):
        await world.click("Gemma", plan["verb"], plan["data"])
    assert await open_meetings(world) == 0


async def test_meetings_planned_meanwhile_by_another_instance_show_the_card_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another instance's calendar run stored a date first (the unique planned date says
    so at the commit): the click changes nothing and shows the card as it stands."""
    world = await demo_world()
    world.clock.advance(LATER)
    plan = cards.button(await triage_card(world), PLAN_MEETINGS_BUTTON)

    async def lost_the_race(*_: object) -> list[object]:
        raise AlreadyExists

    monkeypatch.setattr(calendar, "ensure_meetings", lost_the_race)
    reply = await world.click("Priya", plan["verb"], plan["data"])
    assert reply.card is not None and NO_MEETING_PLANNED in card_text(reply.card)
