"""An urgent meeting for a repeat referral, each person in their own Playground (issue 15).

Before the scenario the bot's database gets, beside the demo panel, an earlier case on
"John Smith" (born 21 Jun 1979), closed two months ago, and a new referral from Aisha Bello
(Victim Support) on "Smith, Jon", born the same day: the name written the other way round,
with the familiar form of the first name.

Priya Raman (coordinator) opens the new referral's triage card: it flags the earlier case as
a repeat, saying why. She accepts it (Housing asked for information) and calls an urgent
meeting for it and for CM-…-013 (which has open actions) from the urgent meeting's form,
prefilled by what she typed; the schedule shows the meeting as urgent and the team channel
hears only its date and how many cases. Tom Okafor (chair) starts it in the group chat, the
meeting chat's stand-in: its agenda has only those two cases. He hears the new case and
closes CM-…-013, passing its open actions back to their agencies, and ends the meeting.
Priya's next agenda, the monthly meeting's, then lists the new case as a review and no unmet
action of CM-…-013.

Every card is photographed. Every person, place and case in it is invented.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from bot.domain.case import Case, ClosureReason
from bot.domain.referral import (
    Consent,
    Criteria,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
)
from bot.domain.risk import RiskLevel
from bot.kernel.config import load_risk_matrix
from storage import open_storage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import BotServer, Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

DELIVERY = 25.0
STEP = 25.0
LONDON = ZoneInfo("Europe/London")
HOUSING = "Riverside Homes (Housing)"
POLICE = "Riverside Police"
COMMUNITY_SAFETY = "Community Safety (Riverside Council)"
CONCERNS_REDUCED = "Safeguarding concerns reduced"
BORN = date(1979, 6, 21)
REASON = "Threats escalating at the address"


def _label(day: date) -> str:
    """A date as the cards write it: "Tue 8 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


async def _seed_the_earlier_case_and_the_new_referral(bot: BotServer) -> str:
    """An earlier case on John Smith, closed two months ago, and Aisha's new referral on
    "Smith, Jon" (same date of birth), submitted an hour ago. Returns its reference."""
    assert bot.database_url, "the scenario seeds the bot's own database (not E2E_BOT_URL)"
    now = datetime.now(UTC)
    year = now.astimezone(LONDON).year
    matrix = load_risk_matrix()
    answers = {item.id: "some" for item in matrix.items}
    storage = open_storage(bot.database_url)
    try:
        async with storage.unit_of_work() as uow:
            (panel,) = await uow.panels.list_all()
            aisha = next(m for m in await uow.members.all(panel.id) if m.name == "Aisha Bello")

            def referral(reference: str, name: str, sent: datetime) -> Referral:
                return Referral(
                    panel_id=panel.id,
                    reference=reference,
                    referrer_member_id=aisha.id,
                    referring_agency_id=aisha.agency_id,
                    status=ReferralStatus.SUBMITTED,
                    subjects=[
                        Subject(
                            role=SubjectRole.VICTIM,
                            name=name,
                            date_of_birth=BORN,
                            address="7 Orchard Row, Riverside",
                        )
                    ],
                    incidents_last_12_months=3,
                    incidents_rising=True,
                    consent=Consent(aware=True, consented=True),
                    risk_answers=answers,
                    risk_matrix_version=matrix.version,
                    risk_total=matrix.score(answers),
                    risk_threshold=matrix.threshold,
                    criteria=Criteria(potential_escalation=True),
                    created_at=sent,
                    submitted_at=sent,
                )

            number = await uow.counters.next(panel.id, "referral", year)
            earlier = referral(f"RF-{year}-{number:04d}", "John Smith", now - timedelta(days=150))
            case = Case(
                panel_id=panel.id,
                reference=panel.case_reference(
                    year, await uow.counters.next(panel.id, "case", year)
                ),
                referral_id=earlier.id,
                risk_level=RiskLevel.MEDIUM,
                risk_score=earlier.risk_total,
                opened_at=now - timedelta(days=140),
            )
            earlier.accept(case.id, now - timedelta(days=140))
            case.mark_heard(now - timedelta(days=120))
            case.close(ClosureReason.CONCERNS_REDUCED, None, now - timedelta(days=60))
            number = await uow.counters.next(panel.id, "referral", year)
            new = referral(f"RF-{year}-{number:04d}", "Smith, Jon", now - timedelta(hours=1))
            await uow.referrals.save(earlier)
            await uow.cases.save(case)
            await uow.referrals.save(new)
            await uow.commit()
    finally:
        await storage.close()
    return new.reference


async def _next(chair: Chat, card: Any, heading: str) -> None:
    await chair.click_card_button("Next", card)
    await chair.wait_for_text(heading, card=card, timeout=STEP)


async def test_the_coordinator_calls_an_urgent_meeting_for_a_repeat_referral(
    chat: Chat, chat_as: Callable[[str], Awaitable[Chat]], bot_server: BotServer
) -> None:
    reference = await _seed_the_earlier_case_and_the_new_referral(bot_server)
    year = reference.split("-")[1]
    review_case = f"CM-{year}-013"

    # 1. Priya opens the General channel (the bot joins the team) and her personal chat; Tom
    # opens his.
    priya = chat
    await priya.open()
    await priya.open_channel("General")
    await priya.wait_for_card("Community MARAC", timeout=STEP)
    await priya.open_personal_chat()
    tom = await chat_as("Tom Okafor")
    await tom.open()
    await tom.open_personal_chat()

    # 2. The triage card flags the earlier case as a repeat, and says why.
    await priya.send("referrals")
    pending = await priya.wait_for_card("Referrals waiting for a decision", timeout=STEP)
    await priya.click_card_button(f"Open {reference}", pending)
    triage = await priya.wait_for_card(f"Triage referral {reference}", timeout=STEP)
    await expect(triage).to_contain_text("Repeat")
    await expect(triage).to_contain_text(re.compile(r"Smith, Jon — case CM-\d{4}-\d+, closed"))
    await expect(triage).to_contain_text("same date of birth")
    await priya.shot("triage-repeat-flagged", triage)

    # She accepts it for the next monthly meeting (the first choice, whatever its referral
    # deadline), asking Housing for information.
    await priya.click_card_button("Accept", triage)
    meeting_box = priya.field(triage, "Meeting")
    await meeting_box.click()
    first = priya.page.get_by_role("option").first
    first_label = (await first.inner_text()).strip()
    await first.click()
    await expect(meeting_box).to_have_value(first_label)
    for agency in await triage.get_by_role("checkbox").all():
        await agency.set_checked((await agency.get_attribute("aria-label")) == HOUSING)
    await priya.click_card_button("Accept and send requests", triage)
    await priya.wait_for_text("Accepted as CM-", card=triage, timeout=STEP)
    accepted = re.search(r"Accepted as (CM-\d{4}-\d+)", await triage.inner_text())
    assert accepted is not None
    new_case = accepted.group(1)
    await priya.shot("triage-accepted", triage)

    # 3. The urgent meeting: tomorrow at 08:00, before any monthly meeting that day. What
    # she typed fills the form; she ticks the two cases.
    day = datetime.now(LONDON).date() + timedelta(days=1)
    await priya.send(f"schedule urgent {day.isoformat()} 08:00 {REASON}")
    form = await priya.wait_for_card("Call an urgent meeting", timeout=STEP)
    await expect(priya.field(form, "Why is it urgent?")).to_have_value(REASON)
    wanted = {f"{new_case} · Medium risk", f"{review_case} · High risk"}
    for box in await form.get_by_role("checkbox").all():
        await box.set_checked((await box.get_attribute("aria-label")) in wanted)
    await priya.shot("urgent-form", form)
    await priya.click_card_button("Call the urgent meeting", form)
    called = await priya.wait_for_card("Urgent meeting called", timeout=STEP)
    await expect(called).to_contain_text(f"{_label(day)}, 08:00–09:00")
    await expect(called).to_contain_text(f"{review_case}, {new_case}")  # as the form lists them
    await expect(called).to_contain_text(REASON)
    await priya.shot("urgent-called", called)

    # The schedule marks it urgent.
    await priya.send("schedule")
    schedule = await priya.wait_for_card("Panel meetings", timeout=STEP)
    await expect(schedule).to_contain_text(f"Urgent: {_label(day)}, 08:00–09:00")
    await priya.shot("schedule-with-the-urgent-meeting", schedule)

    # The channel hears the date and how many cases; no reference, reason or name.
    await priya.open_channel("General")
    when = f"{day:%a} {day.day} {day:%b}, 08:00"
    posted = await priya.wait_for_card(
        f"Urgent panel meeting called for {when}: 2 cases", timeout=DELIVERY
    )
    await expect(posted).not_to_contain_text(new_case)
    await expect(posted).not_to_contain_text("Smith")
    await priya.shot("urgent-announcement-in-the-channel", posted)

    # 4. Tom starts it in the group chat and acknowledges the statement.
    await tom.open_group_chat()
    await tom.send("start")
    statement = await tom.wait_for_card("Confidentiality statement", timeout=STEP)
    await tom.click_card_button("I acknowledge", statement)
    await tom.wait_for_text(
        f"Thank you, Tom Okafor: you are recorded as attending for {POLICE}.",
        card=statement,
        timeout=STEP,
    )
    chair = statement
    await tom.click_card_button("Open the chair card", chair)
    await tom.wait_for_text(
        "Item 1 of 3: Welcome and confidentiality statement", card=chair, timeout=STEP
    )
    await expect(chair).to_contain_text("Urgent meeting")
    await tom.shot("urgent-chair-1-confidentiality", chair)

    # Its agenda is the two cases only: no unmet actions, no other case.
    await _next(tom, chair, f"Item 2 of 3: {new_case} (new case)")
    await tom.shot("urgent-chair-2-new-case", chair)
    await tom.click_card_button("Lead agency…", chair)
    await tom.choose(chair, "Lead agency", HOUSING)
    await tom.click_card_button("Save lead agency", chair)
    await tom.wait_for_text(f"Lead agency for {new_case}: {HOUSING}.", card=chair, timeout=STEP)

    # CM-…-013 is closed; its open actions go back to their agencies (the form's default).
    await _next(tom, chair, f"Item 3 of 3: {review_case} (review)")
    await tom.click_card_button("Close case…", chair)
    await chair.get_by_role("radio", name=CONCERNS_REDUCED, exact=True).check()
    await tom.shot("urgent-chair-3-close-passing-actions-back", chair)
    await tom.click_card_button("Close the case", chair)
    await tom.wait_for_text(
        f"{review_case} is closed: {CONCERNS_REDUCED}.", card=chair, timeout=STEP
    )
    await tom.shot("urgent-chair-3-closed", chair)
    await tom.click_card_button("End the meeting", chair)
    await tom.wait_for_text("Meeting ended", card=chair, timeout=STEP)
    await tom.shot("urgent-meeting-ended", chair)

    # 5. The next agenda is the monthly meeting's: the new case as a review (heard at the
    # urgent meeting), and no unmet action of the closed case.
    await priya.open_personal_chat()
    await priya.send("agenda")
    agenda = await priya.wait_for_card(re.compile(r"^\s*Agenda for .+$"), timeout=STEP)
    await expect(agenda).not_to_contain_text("Urgent meeting")
    await expect(agenda).to_contain_text(f"{new_case} · review")
    await expect(agenda).not_to_contain_text("Unmet actions from earlier meetings")
    await expect(agenda).not_to_contain_text(review_case)
    await priya.shot("monthly-agenda-after-the-urgent-meeting", agenda)
