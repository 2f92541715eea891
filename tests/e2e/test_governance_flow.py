"""Need to know, the audit trail and the panel's figures, each person in their own Playground.

Daniel Reyes (Housing's deputy SPOC) accepted only version 1 of the information sharing
agreement; version 2 is current. He asks for case CM-…-014 and is shown the agreement
instead of the case; he accepts it and the case opens. Priya Raman (coordinator) moves Aisha
Bello, a referrer, into an agency not involved in that case (Riverside Recovery, invited to
no case) and makes her its SPOC; Aisha asks for the case and is refused. Priya then reads the
case's audit trail, with both refusals and Daniel's view in it, and the quarter's figures,
whose CSV she downloads from the card's link.

Every card is photographed. Every person and case in it is invented. The scenario needs the
demo panel as seeded, and a bot serving `stats` (bot/features/records/stats.py).
"""

from __future__ import annotations

import csv
import io
import urllib.request
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import Chat


def today() -> date:
    """Today in the panel's time zone (the bot under test runs on the real clock)."""
    return datetime.now(ZoneInfo("Europe/London")).date()


pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

STEP = 25.0
CASE = f"CM-{today().year}-014"
RECOVERY = "Riverside Recovery (drug and alcohol)"
SPOC = "SPOC (single point of contact)"
NOT_INVOLVED = (
    "Your agency is not involved in this case, so I can't show it to you. If it should be, "
    "ask the panel's coordinator."
)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _download_csv(url: str) -> list[list[str]]:
    """What the card's CSV link serves (the bot, on 127.0.0.1), as a browser would fetch it."""
    with urllib.request.urlopen(url, timeout=STEP) as response:
        assert response.status == 200, f"{url} answered {response.status}"
        assert response.headers.get_content_type() == "text/csv", response.headers
        return list(csv.reader(io.StringIO(response.read().decode("utf-8"))))


async def test_need_to_know_refuses_then_opens_and_the_coordinator_reads_trail_and_figures(
    chat: Chat, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    priya = chat
    await priya.open()
    await priya.open_personal_chat()

    # 1. Daniel, whose agreement is out of date, is shown the agreement, not the case.
    daniel = await chat_as("Daniel Reyes")
    await daniel.open()
    await daniel.open_personal_chat()
    await daniel.send(f"case {CASE}")
    agreement = await daniel.wait_for_card("Accept the information sharing agreement first")
    await expect(agreement).to_contain_text("You accepted version 1")
    await expect(agreement).not_to_contain_text("Rosa")
    await daniel.shot("agreement-first", agreement)

    # He accepts it, and the case opens in its place.
    await daniel.click_card_button("Accept and continue", agreement)
    await daniel.wait_for_text(f"Case {CASE}", card=agreement, timeout=STEP)
    await expect(agreement).to_contain_text("Rosa Lindqvist")
    await daniel.shot("case-after-accepting", agreement)

    # 2. Priya moves Aisha into an agency that is not involved in the case, as its SPOC.
    await priya.send("members")
    members = await priya.wait_for_card("Panel members")
    await priya.shot("members", members)
    await priya.click_card_button("Change Aisha Bello", members)
    await priya.wait_for_text("Member: Aisha Bello", card=members, timeout=STEP)
    await priya.choose(members, "Agency", RECOVERY)
    await priya.set_toggle(members, SPOC)
    await priya.shot("aisha-changed", members)
    await priya.click_card_button("Save changes", members)
    await priya.wait_for_text("Saved.", card=members, timeout=STEP)
    await expect(priya.field(members, SPOC)).to_be_checked()
    await priya.shot("aisha-saved", members)

    # Aisha asks for the case and is refused, plainly.
    aisha = await chat_as("Aisha Bello")
    await aisha.open()
    await aisha.open_personal_chat()
    await aisha.send(f"case {CASE}")
    refusal = await aisha.wait_for_text(NOT_INVOLVED)
    await expect(refusal).not_to_contain_text("Rosa")
    await aisha.shot("not-involved", refusal)

    # 3. Priya reads the case's audit trail: Daniel's refusal and view, Aisha's refusal.
    await priya.send(f"audit {CASE}")
    trail = await priya.wait_for_card(f"Audit trail for {CASE}")
    await expect(trail).to_contain_text(f"Aisha Bello was refused case {CASE}")
    await expect(trail).to_contain_text("view_case_detail: need_to_know")
    await expect(trail).to_contain_text(f"Daniel Reyes viewed case {CASE}")
    await expect(trail).to_contain_text(f"Daniel Reyes was refused case {CASE}")
    await expect(trail).to_contain_text("view_case_detail: agreement")
    await priya.shot("audit-trail", trail)

    # 4. And the quarter's figures: bars, and the CSV behind the card's link.
    quarter = _quarter(today())
    await priya.send("stats")
    figures = await priya.wait_for_card(f"Panel statistics, {quarter}")
    await expect(figures).to_contain_text("Referrals received")
    await expect(figures).to_contain_text("Referrals received, by agency")
    await expect(figures).to_contain_text("Actions due this quarter, by agency")
    await expect(figures).not_to_contain_text("Rosa")
    await priya.shot("statistics", figures)
    rows = _download_csv(await priya.link_of("Download CSV", figures))
    assert rows[0] == ["panel", "quarter", "measure", "group", "value"]
    assert {r[1] for r in rows[1:]} == {quarter}
    assert any(r[2] == "referrals_received" for r in rows[1:])

    # The figures of the quarter before, from the card's button.
    await priya.click_card_button("Previous quarter", figures)
    earlier = today().replace(day=1)
    previous = (
        f"{earlier.year - 1}-Q4"
        if quarter.endswith("Q1")
        else f"{earlier.year}-Q{int(quarter[-1]) - 1}"
    )
    await priya.wait_for_text(f"Panel statistics, {previous}", card=figures, timeout=STEP)
    await priya.shot("statistics-previous-quarter", figures)
