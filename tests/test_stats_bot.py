"""`stats` through the real app: the demo panel's quarter as a card with bar charts, other
quarters from its buttons, and the CSV from its signed link. All invented."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.audit import AuditVerb
from cards.kit import card_text, teams_findings
from cards.stats import CSV_BUTTON, NEXT_BUTTON, PREVIOUS_BUTTON
from tests.conftest import NOW, BotUnderTest
from tests.support import cards
from tests.support import dataprotection as dp
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.common import FixedClock
    from bot.settings import Settings


@pytest.fixture
def bot_settings() -> Settings:
    """The bot is served with its download links (conftest's `bot`)."""
    return dp.settings()


async def test_the_coordinator_sees_this_quarter_at_a_glance(bot: BotUnderTest) -> None:
    await g.post(bot, "stats")
    card = bot.last_card()
    assert teams_findings(card) == []
    text = card_text(card)
    assert "Panel statistics, 2026-Q4" in text
    assert "Riverside Community MARAC · 1 Oct – 31 Dec 2026 (to date)" in text
    assert "Referrals received\n3" in text
    assert "Victim Support\n3" in text  # every demo referral came from Victim Support
    assert "2 · 0 · 0 (of 2 decided)" in text
    assert "0 of 3 (0%)" in text
    assert "median 11, longest 11 (1 case)" in text  # 2 October to the meeting of 13 October
    assert "1 of 2 (50%)" in text  # CM-2026-014 has children
    assert "Riverside Police\n1/1" in text  # the warning served on time
    assert "Adult Social Care\n0/1" in text  # the assessment overdue
    for personal in ("Rosa", "Lindqvist", "Margaret", "Ellison", "1986", "RV2"):
        assert personal not in text
    titles = [a["title"] for a in card["actions"]]
    assert titles == [CSV_BUTTON, PREVIOUS_BUTTON]  # no next quarter yet


async def test_the_chair_looks_at_an_earlier_quarter_and_back(bot: BotUnderTest) -> None:
    await g.post(bot, "stats 2026-Q3", aad=g.TOM)
    card = bot.last_card()
    assert "Panel statistics, 2026-Q3" in card_text(card)
    assert "Referrals received\n0" in card_text(card)
    following = cards.button(card, NEXT_BUTTON)
    body = await g.invoke(bot, following["verb"], following["data"], aad=g.TOM)
    assert "Panel statistics, 2026-Q4" in cards.text(body)


async def test_the_csv_downloads_from_the_cards_link_and_is_audited(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    await g.post(bot, "stats")
    (link,) = cards.actions(bot.last_card(), "Action.OpenUrl")
    url = dp.local_path(link["url"])
    response = await bot.client.get(url)
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(await response.text())))
    values = {(r[2], r[3]): r[4] for r in rows[1:]}
    assert values[("referrals_received", "")] == "3"
    assert values[("referrals_by_agency", "Victim Support")] == "3"
    assert values[("new_cases_with_children", "")] == "1"
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        (downloaded, viewed, *_) = await uow.audit.recent(panel.id)
    assert (downloaded.verb, downloaded.detail, downloaded.where) == (
        AuditVerb.EXPORT,
        "statistics 2026-Q4 (csv)",
        "download",
    )
    assert (viewed.verb, viewed.detail) == (AuditVerb.VIEW, "statistics 2026-Q4")
    assert (await bot.client.get(url.replace("2026-Q4", "2026-Q3"))).status == 404
    clock.advance(NOW + timedelta(days=8))
    assert (await bot.client.get(url)).status == 404


async def test_stats_are_for_coordinators_and_chairs_in_private(bot: BotUnderTest) -> None:
    await g.post(bot, "stats", aad=g.GEMMA)
    assert bot.last_text() == (
        "Only the panel's coordinators and chairs can see the panel's statistics."
    )
    assert (await g.last_refusal(bot.storage, g.GEMMA)).detail == "view_stats: role"
    await bot.post(g.channel_message(bot.service_url, "stats", aad=g.PRIYA, name="Priya"))
    assert bot.last_text() == "`stats` works in our private chat, not here."
    body = await g.invoke(bot, "stats.quarter", {"quarter": "2026-Q3"}, aad=g.GEMMA)
    assert (
        cards.text(body)
        == "Only the panel's coordinators and chairs can see the panel's statistics."
    )
    await g.post(bot, "stats last year")
    assert bot.last_text() == "Write the quarter like 2026-Q3, not last year."
