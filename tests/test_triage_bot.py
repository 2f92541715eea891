"""Triage and information requests through the real app: Teams activity JSON in, cards out.

The demo panel on SQLite (the `bot` fixture): coordinator Priya Raman, Housing SPOC Gemma
Hartley and her deputy Daniel Reyes, referrer Aisha Bello, and the pending referral
RF-2026-0049. Clicks are sent as Teams sends them: the card's Action.Execute data with the
card's input values merged in.

`tell_referrer` belongs to the intake feature: these tests replace
`bot.features.referrals.triage.tell_referrer` with a recording function, so they do not depend
on it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.referral import ReferralStatus
from bot.features.referrals import triage
from cards.kit import card_text
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.case import Case
    from bot.domain.delivery import OutgoingDelivery

DANIEL = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d04"
AISHA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05"
REFERENCE = f"RF-{NOW.year}-0049"


@pytest.fixture(autouse=True)
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record what the referrer would be told instead of queueing the intake's card."""
    calls: list[tuple[str, str]] = []

    async def record(uow: Any, panel: Any, referral: Any, event: Any, now: Any, **_: Any) -> None:
        calls.append((referral.reference, event.value))

    monkeypatch.setattr(triage, "tell_referrer", record)
    return calls


async def invoke(
    bot: BotUnderTest, verb: str, data: dict[str, Any], *, aad: str = acts.PRIYA, name: str = ""
) -> dict[str, Any]:
    response = await bot.post(
        acts.card_invoke(bot.service_url, verb, data, aad=aad, name=name or "Someone")
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def triage_card(bot: BotUnderTest) -> dict[str, Any]:
    """Priya opens RF-…-0049 from the list of pending referrals, as its button does."""
    await bot.post(acts.personal_message(bot.service_url, "referrals"))
    listing = bot.connector.cards()[-1]
    button = cards.button(listing, f"Open {REFERENCE}", kind="Action.Submit")
    await bot.post(acts.personal_message(bot.service_url, "", value=button["data"]))
    card = bot.connector.cards()[-1]
    assert f"Triage referral {REFERENCE}" in card_text(card)
    return card


async def queued(bot: BotUnderTest) -> list[OutgoingDelivery]:
    async with bot.storage.unit_of_work() as uow:
        return await uow.outbox.due(NOW + timedelta(days=365), 1000)


async def agency_id(bot: BotUnderTest, name: str) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        agency = await uow.agencies.by_name(panel.id, name)
    assert agency is not None
    return agency.id


async def cases_of_referral(bot: BotUnderTest) -> list[Case]:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        referral = await uow.referrals.by_reference(panel.id, REFERENCE)
        assert referral is not None
        return [c for c in await uow.cases.list_open(panel.id) if c.referral_id == referral.id]


async def test_the_coordinator_lists_pending_referrals_with_their_age(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "referrals"))
    text = card_text(bot.connector.cards()[-1])
    assert "Referrals waiting for a decision" in text
    assert f"**{REFERENCE}** · Victim Support · medium risk · 2 days · awaiting triage" in text


async def test_accepting_from_the_card_opens_the_case_and_asks_the_housing_spoc(
    bot: BotUnderTest, told: list[tuple[str, str]]
) -> None:
    card = await triage_card(bot)
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    body = await invoke(bot, *cards.press(card, verb="triage.accept", agency_ids=housing))
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    outcome = card_text(body["value"])
    assert f"Accepted as CM-{NOW.year}-015 for Tue 8 Dec" in outcome
    assert "Riverside Homes (Housing) (Gemma Hartley)" in outcome
    assert told == [(REFERENCE, "accepted")]
    (case,) = await cases_of_referral(bot)
    (request_card,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    assert f"Information request for {case.reference}" in card_text(request_card.payload["card"])
    # Delivered, the card comes once: its short line is the activity's summary, not a text
    # Teams would show above the card.
    await bot.deliver()
    (sent,) = [
        a
        for a in bot.connector.sent
        if a.get("attachments")
        and f"Information request for {case.reference}" in card_text(a["attachments"][0]["content"])
    ]
    assert not sent.get("text")
    assert sent["summary"] == f"The panel asks Riverside Homes (Housing) about {case.reference}"


async def test_the_spoc_answers_the_information_request_from_its_card(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    await invoke(bot, *cards.press(card, verb="triage.accept", agency_ids=housing))
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    request_card = delivery.payload["card"]

    _, data = cards.press(request_card, verb="info.answer", answer="Tenant since 2019; no arrears.")
    body = await invoke(bot, "info.answer", data, aad=acts.GEMMA, name="Gemma Hartley")
    assert "Thank you — returned to the panel" in card_text(body["value"])
    (notice,) = [d for d in await queued(bot) if d.key.startswith("inforeq-answered:")]
    assert card_text(notice.payload["card"]).startswith(
        f"Riverside Homes (Housing) answered the request for CM-{NOW.year}-015 "
        "(1 of 1 agencies answered)"
    )


async def test_another_agency_cannot_answer_the_request(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    await invoke(bot, *cards.press(card, verb="triage.accept", agency_ids=housing))
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    _, data = cards.press(delivery.payload["card"], verb="info.answer", answer="Police know him.")
    # Tom is the Police SPOC: Police is a core agency, but the request is Housing's.
    body = await invoke(bot, "info.answer", data, aad=g.TOM, name="Tom Okafor")
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == (
        "This request was sent to another agency: only its SPOC or deputy can answer it."
    )
    refused = await g.last_refusal(bot.storage, g.TOM)
    assert (refused.entity, refused.entity_id) == ("information_request", data["request_id"])
    assert refused.detail == "answer_info_request: need_to_know"
    # The coordinator is no agency's contact: the panel asks, the agencies answer.
    body = await invoke(bot, "info.answer", data, aad=acts.PRIYA, name="Priya Raman")
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == (
        "Only the panel's SPOCs and deputies can answer the panel's information requests."
    )
    assert (await g.last_refusal(bot.storage, acts.PRIYA)).detail == "answer_info_request: role"
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        request = await uow.information_requests.get(panel.id, data["request_id"])
    assert request is not None and request.answer is None


async def test_the_request_goes_to_the_deputy_while_the_spoc_is_away(bot: BotUnderTest) -> None:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        gemma = await uow.members.by_aad(panel.id, acts.GEMMA)
        daniel = await uow.members.by_aad(panel.id, DANIEL)
        assert gemma is not None and daniel is not None
        gemma.away_until = date(2026, 12, 1)
        await uow.members.save(gemma)
        await uow.commit()
    card = await triage_card(bot)
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    body = await invoke(bot, *cards.press(card, verb="triage.accept", agency_ids=housing))
    assert "Riverside Homes (Housing) (Daniel Reyes)" in card_text(body["value"])
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    assert delivery.recipient_member_id == daniel.id


async def test_a_referrer_clicking_a_triage_button_is_refused_plainly(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    body = await invoke(
        bot, *cards.press(card, verb="triage.accept"), aad=AISHA, name="Aisha Bello"
    )
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == "Only the panel's coordinators can triage referrals."
    assert (await g.last_refusal(bot.storage, AISHA)).detail == "triage: role"
    assert await cases_of_referral(bot) == []


async def test_asking_without_a_question_shows_the_error_on_the_card(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    body = await invoke(bot, *cards.press(card, verb="triage.ask", question=""))
    text = card_text(body["value"])
    assert f"Triage referral {REFERENCE}" in text
    assert "Write the question for the referrer." in text


async def test_sending_the_referral_back_tells_who_it_went_to(
    bot: BotUnderTest, told: list[tuple[str, str]]
) -> None:
    card = await triage_card(bot)
    _, data = cards.press(card, verb="triage.ask", question="Has the landlord been told?")
    body = await invoke(bot, "triage.ask", data)
    assert "Sent back to Aisha Bello" in card_text(body["value"])
    assert told == [(REFERENCE, "more_info_needed")]
    # the second coordinator's (or a stale) click on the same card is told what happened
    again = await invoke(bot, *cards.press(card, verb="triage.decline"))
    assert "Already sent back to Aisha Bello by Priya Raman" in card_text(again["value"])


async def test_declining_for_another_meeting_from_the_card(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    _, data = cards.press(
        card,
        verb="triage.decline",
        decline_reason="more_appropriate_meeting",
        other_meeting="childrens_safeguarding",
    )
    body = await invoke(bot, "triage.decline", data)
    assert "Declined: A more appropriate meeting exists" in card_text(body["value"])
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        referral = await uow.referrals.by_reference(panel.id, REFERENCE)
    assert referral is not None
    assert referral.status is ReferralStatus.DECLINED
    assert referral.decline_note == "Children's safeguarding"


async def test_a_redelivered_accept_opens_one_case(bot: BotUnderTest) -> None:
    card = await triage_card(bot)
    activity = acts.card_invoke(
        bot.service_url,
        *cards.press(card, verb="triage.accept"),
        activity_id="f:accept-twice",
    )
    first = await (await bot.post(activity)).json()
    second = await (await bot.post(activity)).json()
    assert "Accepted as" in card_text(first["value"])
    assert second["value"] == "I have already dealt with that."
    assert len(await cases_of_referral(bot)) == 1


async def test_a_referrer_sees_their_own_referrals(bot: BotUnderTest) -> None:
    await bot.post(
        acts.personal_message(bot.service_url, "referrals", aad=AISHA, name="Aisha Bello")
    )
    text = card_text(bot.connector.cards()[-1])
    assert "Your referrals" in text
    assert f"**{REFERENCE}**" in text
    assert "submitted, waiting for the coordinator" in text
    assert f"accepted as CM-{NOW.year}-014" in text


async def test_referrals_are_not_listed_in_the_channel(bot: BotUnderTest) -> None:
    await bot.post(acts.channel_message(bot.service_url, "referrals"))
    assert bot.connector.texts()[-1] == "`referrals` works in our private chat, not here."
