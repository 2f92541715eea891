"""The referrer's side through the real app: Teams activity JSON in, cards and invokes out.

Aisha Bello is the demo panel's referrer.
`bot.features.referrals.triage.referral_submitted` belongs to the triage feature;
tests that submit replace it with a recorder so they check intake only.
Every person, address and date of birth here is invented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.referral import Referral, ReferralStatus
from bot.features.referrals.notices import ReferralEvent, tell_referrer
from cards.kit import card_text
from cards.verbs import Verb
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g
from tests.test_intake_service import (
    ABOUT,
    CONSENT,
    HOUSEHOLD,
    REVIEW,
    RISK_SOME,
    SOME_TOTAL,
    SUBJECTS,
    TriageCalls,
    error_next_to,
    subtitle,
    triage_calls,
)

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

__all__ = ["triage_calls"]  # the fixture, shared with the service tests

AISHA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05"
AISHAS_CHAT = f"a:personal-{AISHA}"
CARD = "application/vnd.microsoft.card.adaptive"


async def say(bot: BotUnderTest, text: str) -> None:
    """Aisha types in her private chat with the bot."""
    response = await bot.post(
        acts.personal_message(bot.service_url, text, aad=AISHA, name="Aisha Bello")
    )
    assert response.status in (200, 201)


async def click(bot: BotUnderTest, verb: Verb, data: dict[str, Any]) -> dict[str, Any]:
    """Aisha clicks an Action.Execute button: the invoke response's body."""
    activity = acts.card_invoke(bot.service_url, verb.value, data, aad=AISHA, name="Aisha Bello")
    response = await bot.post(activity)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    assert body["statusCode"] == 200
    return body


async def click_card(bot: BotUnderTest, verb: Verb, data: dict[str, Any]) -> dict[str, Any]:
    """The card that replaces the clicked one."""
    body = await click(bot, verb, data)
    assert body["type"] == CARD, body
    card: dict[str, Any] = body["value"]
    return card


async def start(bot: BotUnderTest) -> tuple[str, dict[str, Any]]:
    await say(bot, "refer")
    card = bot.connector.cards()[-1]
    return str(cards.button(card, "Next")["data"]["referral_id"]), card


async def stored(bot: BotUnderTest, referral_id: str) -> Referral:
    async with bot.storage.unit_of_work() as uow:
        aisha = (await uow.members.memberships(AISHA))[0]
        referral = await uow.referrals.get(aisha.panel_id, referral_id)
    assert referral is not None
    return referral


def at(referral_id: str, step: str, typed: dict[str, Any]) -> dict[str, Any]:
    return {"referral_id": referral_id, "step": step, **typed}


async def test_refer_in_the_private_chat_answers_with_the_first_step(bot: BotUnderTest) -> None:
    _, card = await start(bot)
    assert bot.connector.sent[-1]["_conversation"] == AISHAS_CHAT
    text = card_text(card)
    assert "Referral RF-2026-0050" in text
    assert subtitle(card) == "Step 1 of 6 · About the referral"
    assert "Aisha Bello" in text and "Victim Support" in text


async def test_refer_in_a_channel_answers_there_plainly_and_sends_the_card_in_private(
    bot: BotUnderTest,
) -> None:
    await say(bot, "whoami")  # Aisha has talked to the bot in private before
    channel = acts.channel_message(bot.service_url, "refer", aad=AISHA, name="Aisha Bello")
    await bot.post(channel)
    last = bot.connector.sent[-1]
    assert last["_conversation"].startswith(acts.TEAM)
    assert last["text"] == "Referrals are made in private: I've sent you a private message."
    assert not last.get("attachments")
    assert await bot.deliver() == 1
    delivered = bot.connector.sent[-1]
    assert delivered["_conversation"] == AISHAS_CHAT
    assert "Referral RF-2026-0050" in card_text(delivered["attachments"][0]["content"])


async def test_a_stranger_is_told_referrals_are_for_panel_members(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "refer", aad=acts.STRANGER, name="Sam"))
    assert bot.connector.texts()[-1].startswith("`refer` is for panel members.")


async def test_a_step_with_mistakes_comes_back_with_each_error_next_to_its_field(
    bot: BotUnderTest,
) -> None:
    referral_id, _ = await start(bot)
    await click_card(bot, Verb.REFER_NEXT, at(referral_id, "about", ABOUT))
    mistakes = {**SUBJECTS, "s1.dob": "2031-04-01", "s1.postcode": "RV5", "s1.phone": "07700"}
    card = await click_card(bot, Verb.REFER_NEXT, at(referral_id, "subjects", mistakes))
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert "in the future" in (error_next_to(card, "s1.dob") or "")
    assert "Not a UK postcode" in (error_next_to(card, "s1.postcode") or "")
    assert "not a phone number" in (error_next_to(card, "s1.phone") or "")
    assert cards.element(card, "s1.postcode")["value"] == "RV5"  # type: ignore[index]
    assert bot.connector.sent[-1]["_conversation"] == AISHAS_CHAT  # nothing new posted
    # corrected, the step moves on
    fixed = {
        **mistakes,
        "s1.dob": "1958-06-02",
        "s1.postcode": "RV5 3HG",
        "s1.phone": "020 7946 0777",
    }
    card = await click_card(bot, Verb.REFER_NEXT, at(referral_id, "subjects", fixed))
    assert subtitle(card) == "Step 3 of 6 · Household and history"


async def test_refer_again_resumes_where_the_referrer_stopped(bot: BotUnderTest) -> None:
    referral_id, _ = await start(bot)
    await click_card(bot, Verb.REFER_NEXT, at(referral_id, "about", ABOUT))
    card = await click_card(bot, Verb.REFER_SAVE, at(referral_id, "subjects", SUBJECTS))
    assert card_text(card).startswith("Draft RF-2026-0050 saved")
    await say(bot, "refer")
    card = bot.connector.cards()[-1]
    assert subtitle(card) == "Step 2 of 6 · Subjects"
    assert cards.element(card, "s1.name")["value"] == "Wilhelmina Stroud"  # type: ignore[index]


async def test_a_referrer_walks_every_step_and_submits(
    bot: BotUnderTest, triage_calls: TriageCalls
) -> None:
    referral_id, _ = await start(bot)
    for step, typed in (
        ("about", ABOUT),
        ("subjects", SUBJECTS),
        ("household", HOUSEHOLD),
        ("consent", CONSENT),
        ("risk", RISK_SOME),
    ):
        card = await click_card(bot, Verb.REFER_NEXT, at(referral_id, step, typed))
        assert cards.element(card, "intake-problems") is None, card_text(card)
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    assert f"Risk total: {SOME_TOTAL}**: not high risk" in card_text(card)
    card = await click_card(bot, Verb.REFER_SUBMIT, at(referral_id, "review", REVIEW))
    assert card_text(card).startswith("Referral RF-2026-0050 submitted")
    referral = await stored(bot, referral_id)
    assert referral.status is ReferralStatus.SUBMITTED
    assert [s.name for s in referral.subjects] == ["Wilhelmina Stroud"]
    assert referral.risk_total == SOME_TOTAL
    assert [r.id for r in triage_calls.referrals] == [referral_id]
    assert await bot.deliver() == 1
    notice = bot.connector.sent[-1]
    assert notice["_conversation"] == AISHAS_CHAT
    assert "Referral RF-2026-0050 received" in card_text(notice["attachments"][0]["content"])
    # a second click on the old card changes nothing and says why
    again = await click(bot, Verb.REFER_SUBMIT, at(referral_id, "review", REVIEW))
    assert again["value"].startswith("RF-2026-0050 was submitted on")
    assert len(triage_calls.referrals) == 1


async def test_the_coordinators_question_is_answered_from_the_notice_card(
    bot: BotUnderTest, triage_calls: TriageCalls, clock: Any
) -> None:
    await say(bot, "help")
    async with bot.storage.unit_of_work() as uow:
        aisha = (await uow.members.memberships(AISHA))[0]
        panel = await uow.panels.get(aisha.panel_id)
        referral = await uow.referrals.by_reference(aisha.panel_id, "RF-2026-0049")
        assert panel is not None and referral is not None
        referral.ask_for_more_information("Has anyone visited Mr Achebe at home?")
        await uow.referrals.save(referral)
        await tell_referrer(uow, panel, referral, ReferralEvent.MORE_INFO_NEEDED, clock.now())
        await uow.commit()
    assert await bot.deliver() == 1
    notice = bot.connector.cards()[-1]
    assert "More information needed: RF-2026-0049" in card_text(notice)
    answer = cards.button(notice, "Answer and resubmit")
    card = await click_card(bot, Verb(answer["verb"]), answer["data"])
    assert subtitle(card) == "Step 6 of 6 · Criteria and review"
    assert "Has anyone visited Mr Achebe at home?" in card_text(card)
    # Submit checks every step again: this older referral never said what was tried.
    typed = {"answer": "Yes, the housing officer on 16 November."}
    card = await click_card(bot, Verb.REFER_SUBMIT, at(referral.id, "review", typed))
    assert subtitle(card) == "Step 1 of 6 · About the referral"
    assert error_next_to(card, "tried_already") is not None
    card = await click_card(bot, Verb.REFER_NEXT, at(referral.id, "about", ABOUT))
    card = await click_card(bot, Verb.REFER_SUBMIT, at(referral.id, "review", {}))
    assert card_text(card).startswith("Referral RF-2026-0049 resubmitted")
    assert (await stored(bot, referral.id)).status is ReferralStatus.SUBMITTED
    assert [r.reference for r in triage_calls.referrals] == ["RF-2026-0049"]


@pytest.mark.parametrize("verb", [Verb.REFER_NEXT, Verb.REFER_DISCARD])
async def test_a_click_on_someone_elses_referral_is_refused_plainly(
    bot: BotUnderTest, verb: Verb
) -> None:
    referral_id, _ = await start(bot)
    activity = acts.card_invoke(bot.service_url, verb.value, at(referral_id, "about", ABOUT))
    body = await (await bot.post(activity)).json()  # Priya, the coordinator, clicks
    # Not the policy's "Your agency is not involved in this case": it is nobody's case yet,
    # and the coordinator's agency may well be involved; the draft is simply not hers.
    assert body["value"] == "I can't find that referral among yours. Type refer to see your draft."
    refused = await g.last_refusal(bot.storage, acts.PRIYA)
    assert (refused.entity, refused.entity_id) == ("referral", referral_id)
    assert refused.detail == "edit_referral: need_to_know"
    assert (await stored(bot, referral_id)).draft_inputs.get("discussed_with") is None
