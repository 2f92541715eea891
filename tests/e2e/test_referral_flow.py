"""A referral from intake to an accepted case, with each person in their own Playground.

Aisha Bello (referrer, Victim Support) fills in the intake card, makes the mistakes people
make, sees each error under its field, corrects them and submits. Priya Raman (coordinator)
gets the triage card and accepts the referral, asking only Housing for information. Gemma
Hartley (Housing SPOC) answers the information request. Priya sees that Housing answered, and
Aisha that her referral was accepted.

The cards for other people are delivered by the bot's outbox dispatcher, to each person who
has opened their chat with the bot. Every person in it is invented.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from bot.kernel.config import load_risk_matrix

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.domain.risk import RiskItem

    from .harness import Chat


def today() -> date:
    """Today in the panel's time zone (the bot under test runs on the real clock)."""
    return datetime.now(ZoneInfo("Europe/London")).date()


pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# How long to wait for a card the dispatcher delivers to someone else's chat.
DELIVERY = 20.0
HOUSING = "Riverside Homes (Housing)"
VICTIM = "Edith Marsh"

# What Aisha answers on the risk step: a little concern on two questions, none elsewhere,
# so the total stays low and the referral rests on potential escalation. The questions, the
# options as the dropdown shows them and the total come from the panel's matrix.
MATRIX = load_risk_matrix()
ANSWERS = {item.id: "none" for item in MATRIX.items} | {
    "repeat_victimisation": "significant",
    "vulnerability": "some",
}
RISK_TOTAL = MATRIX.score(ANSWERS)


def shown(item: RiskItem, value: str) -> str:
    """An answer as the risk step's dropdown offers it: its label and its score."""
    option = item.option(value)
    return f"{option.label} ({option.score})"


# By the question as the card labels it (a required field's label ends in " *").
RISK_ANSWERS = {
    " ".join(f"{item.question} *".split()): shown(item, ANSWERS[item.id]) for item in MATRIX.items
}


async def test_a_referrer_corrects_her_mistakes_the_coordinator_accepts_and_housing_answers(
    chat: Chat, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    # 1. Each of them opens their personal chat with the bot, so that it can reach them.
    priya = chat
    await priya.open()
    await priya.open_personal_chat()
    gemma = await chat_as("Gemma Hartley")
    await gemma.open()
    await gemma.open_personal_chat()
    aisha = await chat_as("Aisha Bello")
    await aisha.open()
    await aisha.open_personal_chat()

    # 2. Aisha types "refer": the intake card starts at step 1.
    await aisha.send("refer")
    intake = await aisha.wait_for_card(re.compile(r"^\s*Referral RF-\d{4}-\d+\s*$"))
    await expect(intake).to_contain_text("Step 1 of 6 · About the referral")
    reference = re.search(r"RF-\d{4}-\d+", await intake.inner_text())
    assert reference is not None
    ref = reference.group(0)
    await aisha.shot("intake-step-1", intake)

    # She clicks Next with nothing filled in, and sees what is missing under each field.
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Check the 3 fields marked in red below.", card=intake)
    await expect(intake).to_contain_text("Step 1 of 6")
    await aisha.expect_field_error(intake, "Kind of referral *", "Choose the kind of referral.")
    await aisha.expect_field_error(
        intake,
        "Discussed in your agency with *",
        "Say who in your agency you discussed this with.",
    )
    await aisha.expect_field_error(
        intake, "What has been tried already *", "Say what has been tried already."
    )
    await aisha.shot("intake-step-1-errors", intake)

    await aisha.choose(intake, "Kind of referral *", "ASB with a vulnerable victim or perpetrator")
    await aisha.fill(intake, "Discussed in your agency with *", "Victim Support team leader")
    await aisha.fill(
        intake,
        "What has been tried already *",
        "Two warning letters from the landlord; a police visit after the last incident.",
    )
    await aisha.set_toggle(intake, "A multi-professional meeting was held")
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 2 of 6 · Subjects", card=intake)

    # Subjects: a victim born in the future, at a postcode that is not one.
    await expect(aisha.field(intake, "Role *")).to_have_value("Victim")
    await aisha.fill(intake, "Full name *", VICTIM)
    await aisha.fill_date(intake, "Date of birth", f"{today().year + 1}-04-02")
    await aisha.fill(intake, "Address", "7 Ferry Road, Riverside")
    await aisha.fill(intake, "Postcode", "RV1 4Q")
    await aisha.fill(intake, "Vulnerabilities", "Lives alone; hard of hearing")
    await aisha.shot("intake-step-2", intake)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Check the 2 fields marked in red below.", card=intake)
    await expect(intake).to_contain_text("Step 2 of 6")
    await aisha.expect_field_error(
        intake, "Date of birth", "A date of birth cannot be in the future."
    )
    await aisha.expect_field_error(
        intake, "Postcode", "Not a UK postcode: write both of its parts, as in AA9 9AA."
    )
    # What she typed is still there.
    await expect(aisha.field(intake, "Full name *")).to_have_value(VICTIM)
    await aisha.shot("intake-step-2-errors", intake)

    await aisha.fill_date(intake, "Date of birth", "1951-04-02")
    await aisha.fill(intake, "Postcode", "RV1 4QT")
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 3 of 6 · Household and history", card=intake)

    # Household: four incidents this year, and rising.
    await aisha.fill(intake, "Relationship between the parties", "Neighbours on the same landing")
    await aisha.fill(intake, "Incidents in the last 12 months *", "4")
    await aisha.set_toggle(intake, "Incidents are rising in frequency or severity")
    await aisha.shot("intake-step-3", intake)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 4 of 6 · Consent", card=intake)

    await aisha.set_toggle(intake, "The subject knows about this referral")
    await aisha.set_toggle(intake, "The subject consented to sharing their information")
    await aisha.shot("intake-step-4", intake)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 5 of 6 · Risk assessment", card=intake)

    # The risk matrix: every question is a dropdown.
    questions = [
        " ".join(q.split())
        for q in await intake.locator("label.ac-richTextBlock").all_inner_texts()
    ]
    assert len(questions) >= 10, questions
    for question in questions:
        await aisha.choose(intake, question, RISK_ANSWERS[question])
    await aisha.shot("intake-step-5", intake)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 6 of 6 · Criteria and review", card=intake)

    # Review: the bot worked the total out, and ticks potential escalation for her.
    assert not MATRIX.is_high(RISK_TOTAL)
    await expect(intake).to_contain_text(f"Risk total: {RISK_TOTAL}: not high risk")
    await expect(
        aisha.field(intake, "Potential escalation: incidents rising in frequency or severity")
    ).to_be_checked()
    await expect(intake).to_contain_text(VICTIM)
    await aisha.shot("intake-step-6-review", intake)
    await aisha.click_card_button("Submit referral", intake)
    await aisha.wait_for_text(f"Referral {ref} submitted", card=intake)
    await expect(intake).to_contain_text("potential escalation")
    await aisha.shot("intake-submitted", intake)
    received = await aisha.wait_for_card(f"Referral {ref} received", timeout=DELIVERY)
    await aisha.shot("received", received)

    # 3. Priya gets the triage card from the dispatcher.
    triage = await priya.wait_for_card(f"Triage referral {ref}", timeout=DELIVERY)
    await expect(triage).to_contain_text(VICTIM)
    await expect(triage).to_contain_text("potential escalation")
    await priya.shot("triage", triage)

    await priya.click_card_button("Accept", triage)
    meeting_box = priya.field(triage, "Meeting")
    await expect(meeting_box).not_to_have_value(re.compile(r"^\s*$"))  # the next meeting
    meeting = (await meeting_box.input_value()).split(" (")[0]  # "Tue 8 Dec 2026, 10:00"
    asked = triage.get_by_role("checkbox")
    for agency in await asked.all():
        name = await agency.get_attribute("aria-label") or ""
        await agency.set_checked(name == HOUSING)
    await expect(priya.field(triage, HOUSING)).to_be_checked()
    await priya.shot("triage-accept", triage)
    await priya.click_card_button("Accept and send requests", triage)
    await priya.wait_for_text("Accepted as CM-", card=triage)
    case = re.search(r"CM-\d{4}-\d+", await triage.inner_text())
    assert case is not None
    case_ref = case.group(0)
    await expect(triage).to_contain_text(HOUSING)
    await priya.shot("triage-accepted", triage)

    # 4. Gemma, Housing's SPOC, gets the information request and answers it.
    request = await gemma.wait_for_card(f"Information request for {case_ref}", timeout=DELIVERY)
    await expect(request).to_contain_text(VICTIM)
    await gemma.shot("information-request", request)
    await gemma.fill(
        request,
        "What your agency knows",
        "Tenant since 2012. Two noise complaints against the flat opposite; "
        "a tenancy warning was issued in October.",
    )
    await gemma.click_card_button("Send to the panel", request)
    await gemma.wait_for_text("Thank you — returned to the panel", card=request)
    await gemma.shot("information-returned", request)

    # 5. Priya sees that Housing answered.
    answered = await priya.wait_for_card(
        f"{HOUSING} answered the request for {case_ref} (1 of 1 agencies answered)",
        timeout=DELIVERY,
    )
    await priya.shot("housing-answered", answered)

    # 6. Aisha hears that her referral was accepted, with the case and the meeting.
    accepted = await aisha.wait_for_card(f"Referral {ref} accepted", timeout=DELIVERY)
    await expect(accepted).to_contain_text(case_ref)
    await expect(accepted).to_contain_text(meeting)
    await aisha.shot("referral-accepted", accepted)
