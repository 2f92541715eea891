"""The information sharing agreement through the real app: reading and accepting it, a new
version asking everyone again, and the detail it holds back until accepted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.panel import Role
from bot.features.governance.agreement import CHANGED_MEANWHILE, suggested_version
from bot.features.referrals import triage
from cards.isa import ACCEPT_BUTTON, SAVE_BUTTON
from cards.kit import card_text, teams_findings
from tests.conftest import NOW, BotUnderTest
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.delivery import OutgoingDelivery


async def queued(bot: BotUnderTest) -> list[OutgoingDelivery]:
    async with bot.storage.unit_of_work() as uow:
        return await uow.outbox.due(NOW + timedelta(days=365), 1000)


async def test_a_member_reads_the_agreement_and_accepts_it(bot: BotUnderTest) -> None:
    await g.post(bot, "isa", aad=g.DANIEL)
    card = bot.last_card()
    text = card_text(card)
    assert teams_findings(card) == []
    assert "Information sharing agreement" in text
    assert "Crime and Disorder Act 1998 s.115" in text
    assert "You accepted version 1; version 2 is new and needs your acceptance." in text
    accept = cards.button(card, ACCEPT_BUTTON)
    body = await g.invoke(bot, accept["verb"], accept["data"], aad=g.DANIEL)
    assert "Agreement accepted" in cards.text(body)
    assert "20 Nov 2026" in cards.text(body)
    daniel = await g.member_of(bot.storage, g.DANIEL)
    async with bot.storage.unit_of_work() as uow:
        first = await uow.isa.latest(daniel.panel_id, daniel.id)
        trail = await uow.audit.recent(daniel.panel_id, limit=1)
    assert first is not None and first.version == "2"
    assert (trail[0].verb, trail[0].entity, trail[0].detail) == (
        AuditVerb.CREATE,
        "isa_acceptance",
        "accepted version 2",
    )
    # a second click (another window) stores nothing more
    await g.invoke(bot, accept["verb"], accept["data"], aad=g.DANIEL)
    async with bot.storage.unit_of_work() as uow:
        assert await uow.isa.latest(daniel.panel_id, daniel.id) == first
    await g.post(bot, "isa", aad=g.DANIEL)
    text = card_text(bot.last_card())
    assert "You accepted version 2 on 20 Nov 2026." in text
    assert ACCEPT_BUTTON not in text


async def test_a_click_on_an_older_version_accepts_nothing(bot: BotUnderTest) -> None:
    body = await g.invoke(bot, "isa.accept", {"version": "1"}, aad=g.AISHA)
    assert CHANGED_MEANWHILE in cards.text(body)
    aisha = await g.member_of(bot.storage, g.AISHA)
    async with bot.storage.unit_of_work() as uow:
        assert await uow.isa.latest(aisha.panel_id, aisha.id) is None


async def test_the_coordinator_sets_a_new_version_and_everyone_is_asked_again(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "isa set")
    form = bot.last_card()
    assert "Change the information sharing agreement" in card_text(form)
    save = cards.button(form, SAVE_BUTTON)
    body = await g.invoke(
        bot,
        save["verb"],
        {
            **save["data"],
            "isa_version": "3",
            "isa_text": "Version three: share only to reduce risk.",
        },
    )
    assert "New agreement saved" in cards.text(body)
    assert "Members asked to accept it" in cards.text(body)
    panel = await g.demo_panel(bot.storage)
    assert (panel.isa_version, panel.isa_text) == ("3", "Version three: share only to reduce risk.")
    asked = [d for d in await queued(bot) if d.key.startswith(f"isa:{panel.id}:3:")]
    assert len(asked) == 5
    assert "New information sharing agreement: version 3" in card_text(asked[0].payload["card"])
    # Gemma accepted version 2: she sees no case detail until she accepts version 3
    await g.post(bot, f"case {g.CASE}", aad=g.GEMMA)
    text = card_text(bot.last_card())
    assert "Accept the information sharing agreement first" in text
    assert "Rosa" not in text
    async with bot.storage.unit_of_work() as uow:
        (changed, *_) = [
            e
            for e in await uow.audit.recent(panel.id)
            if e.entity == "panel" and e.verb.value == "update"
        ]
    assert changed.detail == "information sharing agreement: version 2 replaced by 3"


async def test_a_new_version_must_differ_and_have_a_text(bot: BotUnderTest) -> None:
    body = await g.invoke(bot, "isa.save", {"isa_version": "2", "isa_text": "  "})
    text = cards.text(body)
    assert "This is the current version: give the new one another name." in text
    assert "Write the agreement." in text
    body = await g.invoke(bot, "isa.save", {"isa_version": "v 3!", "isa_text": "x"})
    assert "letters, digits, dots or dashes" in cards.text(body)
    assert (await g.demo_panel(bot.storage)).isa_version == "2"


async def test_only_the_coordinator_changes_the_agreement(bot: BotUnderTest) -> None:
    await g.post(bot, "isa set", aad=g.GEMMA)
    assert bot.last_text() == (
        "Only the panel's coordinators can manage the panel's members, agencies and agreement."
    )
    body = await g.invoke(bot, "isa.save", {"isa_version": "9", "isa_text": "Mine"}, aad=g.TOM)
    assert cards.text(body).startswith("Only the panel's coordinators can manage")
    assert (await g.demo_panel(bot.storage)).isa_version == "2"


async def test_the_deputy_gets_the_information_request_only_after_accepting(
    bot: BotUnderTest,
) -> None:
    """Gemma is away, so the request goes to Daniel, whose agreement is out of date."""
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        gemma = await uow.members.by_aad(panel.id, g.GEMMA)
        assert gemma is not None
        gemma.away_until = date(2026, 12, 1)
        await uow.members.save(gemma)
        housing = await uow.agencies.by_name(panel.id, "Riverside Homes (Housing)")
        meetings = await uow.meetings.upcoming(panel.id, NOW)
        referral = await uow.referrals.by_reference(panel.id, f"RF-{NOW.year}-0049")
        await uow.commit()
    assert housing is not None and referral is not None
    body = await g.invoke(
        bot,
        "triage.accept",
        {
            "referral_id": referral.id,
            "version": referral.version,
            "meeting_id": meetings[0].id,
            "agency_ids": housing.id,
        },
    )
    assert "Riverside Homes (Housing) (Daniel Reyes)" in cards.text(body)
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    gated = delivery.payload["card"]
    text = card_text(gated)
    assert f"Information request for CM-{NOW.year}-015" in text
    assert "Please answer by" in text
    for personal in ("Samuel", "Achebe", "1972", "RV3"):
        assert personal not in text
    accept = cards.button(gated, "Accept and continue")
    opened = await g.invoke(bot, accept["verb"], accept["data"], aad=g.DANIEL)
    text = cards.text(opened)
    assert "Samuel Achebe — victim, born 30 Nov 1972" in text
    answer = cards.button(opened["value"], "Send to the panel")
    answered = await g.invoke(
        bot, answer["verb"], {**answer["data"], "answer": "Tenant since 2015."}, aad=g.DANIEL
    )
    assert "Thank you — returned to the panel" in cards.text(answered)
    async with bot.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(
            panel.id, "information_request", accept["data"]["next"]["request_id"]
        )
    assert [(e.verb, e.detail) for e in trail] == [
        (AuditVerb.CREATE, "asked Riverside Homes (Housing)"),
        (AuditVerb.VIEW, "opened"),
        (AuditVerb.UPDATE, "answered"),
    ]


async def test_another_agency_cannot_open_the_request(bot: BotUnderTest) -> None:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, g.CASE)
        assert case is not None
        requests = await uow.information_requests.for_case(panel.id, case.id)
        police_agency = await uow.agencies.by_name(panel.id, "Riverside Police")
    assert police_agency is not None
    (police,) = [r for r in requests if r.agency_id == police_agency.id]
    # Gemma is Housing's SPOC: Housing is asked on the same case, but this is Police's.
    body = await g.invoke(bot, "info.open", {"request_id": police.id}, aad=g.GEMMA)
    assert body["type"] == "application/vnd.microsoft.activity.message"
    # Said the same whether the request exists or not, naming nothing of it.
    assert cards.text(body) == (
        "This request was sent to another agency: only its SPOC or deputy can answer it."
    )
    refused = await g.last_refusal(bot.storage, g.GEMMA)
    assert (refused.entity, refused.entity_id) == ("information_request", police.id)
    assert refused.detail == "view_case_detail: need_to_know"
    # A referrer is no agency's contact at all.
    body = await g.invoke(bot, "info.open", {"request_id": police.id}, aad=g.AISHA)
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert cards.text(body) == (
        "Only the panel's coordinators, chairs, SPOCs and deputies can see a case in full."
    )
    refused = await g.last_refusal(bot.storage, g.AISHA)
    assert refused.detail == "view_case_detail: role"


def test_the_suggested_next_version_counts_on() -> None:
    assert suggested_version("2") == "3"
    assert suggested_version("2026.1") == "2026.2"
    assert suggested_version("draft") == "draft"


async def test_a_coordinator_without_the_agreement_opens_triage_only_after_accepting(
    bot: BotUnderTest,
) -> None:
    await g.add_member(
        bot.storage,
        g.OLA,
        "Community Safety (Riverside Council)",
        frozenset({Role.COORDINATOR}),
        accepted=None,
    )
    await g.post(bot, f"referrals RF-{NOW.year}-0049", aad=g.OLA)
    card = bot.last_card()
    text = card_text(card)
    assert f"Triage referral RF-{NOW.year}-0049" in text
    assert "You have not accepted version 2 yet." in text
    assert "Samuel" not in text and "Achebe" not in text
    accept = cards.button(card, "Accept and continue")
    body = await g.invoke(bot, accept["verb"], accept["data"], aad=g.OLA)
    assert "Samuel Achebe" in cards.text(body)
    assert "Accept and send requests" in cards.text(body)


async def test_a_new_referral_reaches_a_coordinator_without_the_agreement_without_detail(
    bot: BotUnderTest,
) -> None:
    ola = await g.add_member(
        bot.storage,
        g.OLA,
        "Community Safety (Riverside Council)",
        frozenset({Role.COORDINATOR}),
        accepted=None,
    )
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        referral = await uow.referrals.by_reference(panel.id, f"RF-{NOW.year}-0049")
        assert referral is not None
        await triage.referral_submitted(uow, panel, referral, NOW)
        await uow.commit()
    cards = {d.recipient_member_id: d.payload["card"] for d in await queued(bot)}
    priya = await g.member_of(bot.storage, g.PRIYA)
    assert "Samuel Achebe" in card_text(cards[priya.id])
    gated = card_text(cards[ola.id])
    assert f"Triage referral RF-{NOW.year}-0049" in gated
    assert "Risk level" in gated and "Samuel" not in gated
