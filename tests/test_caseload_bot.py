"""`cases` and `find` through the real app: Teams activity JSON in through the adapter and
the handler, cards out through the fake Bot Connector. Every person is invented."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cards.caseload import FILTER_KEY, PAGE_KEY
from cards.kit import card_text, teams_findings
from cards.verbs import Verb
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    import pytest

    from tests.conftest import BotUnderTest


async def test_the_coordinator_reads_the_caseload_and_opens_a_case_from_it(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "cases")
    card = bot.last_card()
    assert teams_findings(card) == []
    text = card_text(card)
    assert f"**{g.HEARD_CASE}** · High risk · lead: Riverside Homes (Housing)" in text
    assert f"**{g.CASE}** · Medium risk · lead: not set" in text
    assert "Ellison" not in text and "Lindqvist" not in text
    opened = cards.button(card, f"Open {g.CASE}")
    assert opened["data"]["command"] == f"case {g.CASE}"
    # A More button's click, as Teams sends it (Action.Execute), answers with the page.
    body = await g.invoke(bot, Verb.CASES_PAGE.value, {PAGE_KEY: 1, FILTER_KEY: "high"})
    said = cards.shown(body)
    assert f"**{g.HEARD_CASE}**" in said
    assert f"**{g.CASE}**" not in said


async def test_find_answers_in_private_and_not_in_the_channel(bot: BotUnderTest) -> None:
    await g.post(bot, "find Lindqvist, Rosa")
    text = card_text(bot.last_card())
    assert f"**{g.CASE}** · case, open · victim: **Rosa Lindqvist**" in text
    await bot.post(
        g.channel_message(bot.service_url, "find Rosa Lindqvist", aad=g.PRIYA, name="Priya Raman")
    )
    assert "works in our private chat" in bot.last_text()
    assert all("Rosa" not in card_text(c) for c in bot.connector.cards()[1:])


async def test_what_was_searched_for_is_not_logged(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """The text of a search is personal data: no log line of the turn at the bot's default
    level (LOG_LEVEL, INFO) holds it, in its message or in anything it carries. (A database
    driver's DEBUG lines show every statement's parameters, searches and saves alike.)"""
    caplog.set_level(logging.INFO)
    await g.post(bot, "find Lindqvist, Rosa")
    assert "Rosa Lindqvist" in card_text(bot.last_card())
    assert caplog.records, "the turn logged nothing: this test would see nothing"
    for record in caplog.records:
        assert "lindqvist" not in f"{record.getMessage()} {vars(record)}".lower()
