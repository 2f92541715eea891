"""Urgent meetings through the real app on SQLite: Teams activity JSON in, cards out to the
fake Bot Connector (conftest's `bot`: the demo panel, the clock at Fri 20 Nov 2026 10:00 UTC).
Every name here is invented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cards.kit import card_text
from cards.schedule import (
    URGENT_CASES_INPUT,
    URGENT_DATE_INPUT,
    URGENT_REASON_INPUT,
    URGENT_TIME_INPUT,
)
from cards.verbs import Verb
from tests.conftest import NOW
from tests.support import activities as acts
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.meeting import Meeting
    from tests.conftest import BotUnderTest

CASE = f"CM-{NOW.year}-014"
REASON = "Threats escalating at the address"


async def urgent(bot: BotUnderTest) -> list[Meeting]:
    async with bot.storage.unit_of_work() as uow:
        panel = (await uow.members.memberships(acts.PRIYA))[0].panel_id
        return [m for m in await uow.meetings.upcoming(panel, NOW, limit=50) if m.urgent]


async def test_priya_calls_an_urgent_meeting_by_typing_and_it_is_stored_urgent(
    bot: BotUnderTest,
) -> None:
    await bot.post(
        acts.personal_message(bot.service_url, f"schedule urgent 2 Dec 14:00 {REASON} for {CASE}")
    )
    text = card_text(bot.last_card())
    assert "Urgent meeting called" in text and "Wed 2 Dec 2026, 14:00–15:00" in text
    (meeting,) = await urgent(bot)  # read back from SQLite: the flag is stored
    assert meeting.length_minutes == 60
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    agenda = card_text(bot.last_card())
    assert "Urgent meeting, Wed 2 Dec 2026" in agenda
    assert f"{CASE} · new case" in agenda
    assert f"CM-{NOW.year}-013" not in agenda  # only the case named


async def test_the_form_as_teams_sends_it(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule urgent"))
    form = bot.last_card()
    assert "Call an urgent meeting" in card_text(form)
    async with bot.storage.unit_of_work() as uow:
        panel = (await uow.members.memberships(acts.PRIYA))[0].panel_id
        case = await uow.cases.by_reference(panel, CASE)
    assert case is not None
    reply = await bot.invoke(
        acts.card_invoke(
            bot.service_url,
            Verb.SCHEDULE_URGENT.value,
            {
                URGENT_DATE_INPUT: "2026-12-02",
                URGENT_TIME_INPUT: "14:00",
                URGENT_REASON_INPUT: REASON,
                URGENT_CASES_INPUT: case.id,
            },
        )
    )
    assert "Urgent meeting called" in card_text(reply["value"])
    assert len(await urgent(bot)) == 1


async def test_gemma_may_not_call_one(bot: BotUnderTest) -> None:
    await bot.post(
        acts.personal_message(
            bot.service_url,
            f"schedule urgent 2 Dec 14:00 {REASON} for {CASE}",
            aad=acts.GEMMA,
            name="Gemma Hartley",
        )
    )
    assert "coordinators and chairs" in bot.connector.texts()[-1]
    assert (await g.last_refusal(bot.storage, acts.GEMMA)).detail == "run_meeting: role"
    assert await urgent(bot) == []
