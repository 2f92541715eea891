"""`erase` through the real app: the confirmation card, the reason, the Erase button pressed
(twice), and what is left of the records. The demo panel's people are invented."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.referral import Child
from bot.domain.retention import ERASED
from cards.dataprotection import ERASE_BUTTON, PREVIEW_BUTTON
from cards.kit import card_text, teams_findings
from tests.conftest import NOW, BotUnderTest
from tests.support import cards
from tests.support import dataprotection as dp
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.settings import Settings

ROSA = "Rosa Lindqvist 1986-09-02"
REASON = "Erasure request under UK GDPR Art. 17, letter of 3 Nov 2026"


@pytest.fixture
def bot_settings() -> Settings:
    """The bot is served with its download links (conftest's `bot`)."""
    return dp.settings()


async def erase_button(bot: BotUnderTest) -> dict[str, Any]:
    await g.post(bot, f"erase {ROSA}")
    card = bot.last_card()
    assert teams_findings(card) == []
    return cards.button(card, ERASE_BUTTON)


async def deletes(bot: BotUnderTest) -> list[AuditEvent]:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        return [
            e for e in await uow.audit.recent(panel.id, limit=500) if e.verb is AuditVerb.DELETE
        ]


async def test_the_coordinator_sees_what_would_go_and_nothing_goes_yet(bot: BotUnderTest) -> None:
    await g.post(bot, f"erase {ROSA}")
    text = card_text(bot.last_card())
    assert "Erase Rosa Lindqvist's personal data?" in text
    assert f"Victim in RF-{NOW.year}-0047 (accepted): case {g.CASE}, open" in text
    await g.post(bot, f"case {g.CASE}")
    assert "**Rosa Lindqvist** — victim" in card_text(bot.last_card())
    assert await deletes(bot) == []


async def test_erasing_needs_a_reason_that_names_nobody(bot: BotUnderTest) -> None:
    erase = await erase_button(bot)
    body = await g.invoke(bot, str(erase["verb"]), {**erase["data"], "reason": ""})
    assert "Give the reason for erasing" in cards.text(body)
    body = await g.invoke(
        bot,
        str(erase["verb"]),
        {**erase["data"], "reason": "Rosa wrote to us"},
    )
    assert "Don't name or describe the person in the reason" in cards.text(body)
    assert await deletes(bot) == []


async def test_rosas_data_goes_her_daughters_and_everyone_elses_stays(bot: BotUnderTest) -> None:
    erase = await erase_button(bot)
    body = await g.invoke(bot, str(erase["verb"]), {**erase["data"], "reason": REASON})
    text = cards.text(body)
    assert "Personal data erased" in text and REASON in text
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        referral = await uow.referrals.by_reference(panel.id, f"RF-{NOW.year}-0047")
        other = await uow.referrals.by_reference(panel.id, f"RF-{NOW.year}-0041")
    assert referral is not None and other is not None
    (rosa,) = referral.subjects
    assert (rosa.name, rosa.date_of_birth, rosa.address, rosa.postcode, rosa.phone) == (
        ERASED,
        None,
        None,
        None,
        None,
    )
    assert referral.children == [Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))]
    assert referral.relationship == ERASED
    assert other.subjects[0].name == "Margaret Ellison"
    await g.post(bot, f"case {g.CASE}")
    case_text = card_text(bot.last_card())
    assert "Rosa" not in case_text and "Canal Street" not in case_text
    assert "**[erased]** — victim" in case_text


async def test_the_erasure_is_audited_with_its_reason_and_twice_is_once(
    bot: BotUnderTest,
) -> None:
    erase = await erase_button(bot)
    data = {**erase["data"], "reason": REASON}
    await g.invoke(bot, str(erase["verb"]), data)
    recorded = await deletes(bot)
    assert {e.entity for e in recorded} == {"referral", "case"}
    assert {e.detail for e in recorded} == {f"one person's data erased: {REASON}"}
    body = await g.invoke(bot, str(erase["verb"]), data)
    assert "Already erased" in cards.text(body)
    assert len(await deletes(bot)) == len(recorded)
    await g.post(bot, f"erase {ROSA}")
    assert bot.last_text() == (
        "The panel holds nothing about Rosa Lindqvist, born 2 Sep 1986, so there is nothing to "
        "erase."
    )


async def test_the_form_leads_to_the_confirmation(bot: BotUnderTest) -> None:
    await g.post(bot, "erase")
    form = bot.last_card()
    preview = cards.button(form, PREVIEW_BUTTON)
    body = await g.invoke(
        bot, preview["verb"], {"name": "Rosa Lindqvist", "date_of_birth": "1986-09-02"}
    )
    assert "Erase Rosa Lindqvist's personal data?" in cards.text(body)


async def test_only_the_coordinator_erases_and_refusals_are_plain(bot: BotUnderTest) -> None:
    await g.post(bot, f"erase {ROSA}", aad=g.TOM)
    assert bot.last_text() == "Only the panel's coordinators can erase a person's data."
    assert (await g.last_refusal(bot.storage, g.TOM)).detail == "erase: role"
    body = await g.invoke(
        bot,
        "dp.erase_confirm",
        {"name": "Rosa Lindqvist", "date_of_birth": "1986-09-02", "token": "x", "reason": REASON},
        aad=g.TOM,
    )
    assert cards.text(body) == "Only the panel's coordinators can erase a person's data."
    await bot.post(g.group_message(bot.service_url, f"erase {ROSA}", aad=g.PRIYA, name="Priya"))
    assert bot.last_text() == "`erase` works in our private chat, not here."
    assert await deletes(bot) == []
