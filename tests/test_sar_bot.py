"""`sar` through the real app: Teams activity JSON in, a card with two signed links out, and
the Word document and JSON downloaded from them. The demo panel's people are invented."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from docx import Document

from bot.domain.audit import AuditVerb
from bot.domain.panel import Role
from cards.dataprotection import DOCX_BUTTON, FIND_BUTTON, JSON_BUTTON
from cards.kit import card_text, teams_findings
from tests.conftest import NOW, BotUnderTest, Connector
from tests.support import cards
from tests.support import dataprotection as dp
from tests.support import governance as g
from tests.support.world import serving

if TYPE_CHECKING:
    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage
    from bot.settings import Settings

ROSA = "Rosa Lindqvist 1986-09-02"


@pytest.fixture
def bot_settings() -> Settings:
    """The bot is served with its download links (conftest's `bot`)."""
    return dp.settings()


async def test_the_coordinator_gets_everything_held_about_rosa_as_word_and_json(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, f"sar {ROSA}")
    card = bot.last_card()
    assert teams_findings(card) == []
    text = card_text(card)
    assert "Subject access: Rosa Lindqvist" in text
    assert f"Victim in RF-{NOW.year}-0047 (accepted): case {g.CASE}, open" in text
    urls = cards.links(card)
    assert set(urls) == {DOCX_BUTTON, JSON_BUTTON}

    response = await bot.client.get(dp.local_path(urls[JSON_BUTTON]))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="subject-access-export.json"' in response.headers["Content-Disposition"]
    export = json.loads(await response.read())
    (referral,) = export["referrals"]
    (rosa,) = referral["the_person"]
    assert (rosa["name"], rosa["date_of_birth"], rosa["postcode"]) == (
        "Rosa Lindqvist",
        "1986-09-02",
        "RV2 7LD",
    )
    assert referral["other_people"] == {"subjects": 0, "children": 1}
    assert "Elin" not in json.dumps(export)  # her daughter is someone else
    assert referral["case"]["reference"] == g.CASE
    assert len(referral["case"]["information_requests"]) == 3

    response = await bot.client.get(dp.local_path(urls[DOCX_BUTTON]))
    assert response.status == 200
    assert response.content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    opened = Document(io.BytesIO(await response.read()))
    paragraphs = [p.text for p in opened.paragraphs]
    assert paragraphs[0] == "Subject access export: Rosa Lindqvist"
    assert any(g.CASE in p and f"RF-{NOW.year}-0047" in p for p in paragraphs)


async def test_the_search_and_each_download_are_audited_without_naming_her(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, f"sar {ROSA}")
    await bot.client.get(dp.local_path(cards.links(bot.last_card())[JSON_BUTTON]))
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, g.CASE)
        assert case is not None
        trail = await uow.audit.for_entity(panel.id, "case", case.id)
        recent = await uow.audit.recent(panel.id, limit=10)
    assert (trail[-1].verb, trail[-1].detail) == (AuditVerb.EXPORT, "subject access search")
    downloaded = recent[0]
    assert (downloaded.verb, downloaded.entity, downloaded.where) == (
        AuditVerb.EXPORT,
        "subject_access",
        "download",
    )
    for event in recent:
        assert "Rosa" not in (event.detail or "") and "1986" not in (event.detail or "")


async def test_the_form_asks_for_the_person_and_finds_them(bot: BotUnderTest) -> None:
    await g.post(bot, "sar")
    form = bot.last_card()
    assert "Subject access request" in card_text(form)
    find = cards.button(form, FIND_BUTTON)
    body = await g.invoke(
        bot, find["verb"], {"name": "rosa lindqvist", "date_of_birth": "1986-09-02"}
    )
    assert "Subject access: rosa lindqvist" in cards.text(body)
    assert f"RF-{NOW.year}-0047" in cards.text(body)


async def test_only_the_coordinator_searches_and_only_in_private(bot: BotUnderTest) -> None:
    await g.post(bot, f"sar {ROSA}", aad=g.GEMMA)
    assert (
        bot.last_text() == "Only the panel's coordinators can export what is held about a person."
    )
    assert (await g.last_refusal(bot.storage, g.GEMMA)).detail == "export_sar: role"
    await g.post(bot, f"sar {ROSA}", aad=g.STRANGER)
    assert bot.last_text() == "`sar` is for panel members. Ask your panel coordinator to add you."
    await bot.post(g.channel_message(bot.service_url, f"sar {ROSA}", aad=g.PRIYA, name="Priya"))
    assert bot.last_text() == "`sar` works in our private chat, not here."
    body = await g.invoke(
        bot, "dp.sar_find", {"name": "Rosa", "date_of_birth": "1986-09-02"}, aad=g.GEMMA
    )
    assert (
        cards.text(body) == "Only the panel's coordinators can export what is held about a person."
    )
    await g.post(bot, "sar Rosa")  # the coordinator, in private: a name alone is searched
    assert card_text(bot.last_card()).startswith("Subject access: Rosa")


async def test_a_coordinator_new_to_the_agreement_accepts_it_first(bot: BotUnderTest) -> None:
    await g.add_member(
        bot.storage,
        g.OLA,
        "Community Safety (Riverside Council)",
        frozenset({Role.COORDINATOR}),
        accepted=None,
    )
    await g.post(bot, f"sar {ROSA}", aad=g.OLA)
    card = bot.last_card()
    assert "Accept the information sharing agreement first" in card_text(card)
    assert "Rosa" not in card_text(card)
    accept = cards.button(card, "Accept and continue")
    body = await g.invoke(bot, accept["verb"], accept["data"], aad=g.OLA)
    # Accepting runs what was asked, through the same check: the search itself.
    assert cards.text(body).startswith("Subject access: Rosa Lindqvist")
    ola = await g.member_of(bot.storage, g.OLA)
    async with bot.storage.unit_of_work() as uow:
        accepted = await uow.isa.latest(ola.panel_id, ola.id)
    assert accepted is not None and accepted.version == "2"


async def test_a_link_tampered_with_or_expired_finds_nothing(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    await g.post(bot, f"sar {ROSA}")
    url = dp.local_path(cards.links(bot.last_card())[JSON_BUTTON])
    assert (await bot.client.get(url[:-3] + "abc")).status == 404
    assert (await bot.client.get(url.replace(".json?", ".pdf?"))).status == 404
    clock.advance(NOW + timedelta(days=7, minutes=1))
    assert (await bot.client.get(url)).status == 404


async def test_without_a_public_address_there_are_no_links(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    async with serving(sqlite_storage, connector, clock) as running:  # the default settings
        await g.post(running, f"sar {ROSA}")
        card = running.last_card()
        assert cards.links(card) == {}
        assert "Downloads are not set up here" in card_text(card)
