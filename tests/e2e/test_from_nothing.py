"""A council starting from an empty database (issue 15): no demo seed, as a new deployment.

Priya Raman, whom the deployment names as one of its administrators (PANEL_ADMINS), types
`setup` in the team's General channel: the team becomes the panel, its next meetings are
planned at once, and her private chat asks which agency she works for (a new one, typed). She
adds Victim Support, and Aisha Bello through the members card's people picker (her name is
not typed: the bot asks the team's roster), and accepts the information sharing agreement.
Aisha joins, accepts it too and refers a neighbour dispute that is escalating, explaining why.
Priya's triage card shows that explanation, the vulnerabilities and what was tried; she
accepts it onto the first planned meeting and publishes its agenda. The channel has the
referral notice and the agenda announcement as posts of their own.

Every card is photographed. Every person in it is invented.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from bot.kernel.config import load_risk_matrix

from . import harness

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from .harness import BotServer, Chat


pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

STEP = 25.0
DELIVERY = 25.0
PRIYA = harness.person("Priya Raman")
OWN_AGENCY = "Community Safety (Riverside Council)"
VICTIM_SUPPORT = "Victim Support"
VICTIM = "Edith Marsh"
TRIED = "Two warning letters from the landlord; a police visit after the last incident."
VULNERABLE = "Lives alone; hard of hearing"
WHY = "The threats moved from the stairwell to her front door in the last fortnight."
MATRIX = load_risk_matrix()
ANSWERS = {item.id: "none" for item in MATRIX.items} | {
    "repeat_victimisation": "significant",
    "vulnerability": "some",
}


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    """This module's bot on an empty database: migrated, never seeded; Priya may set a
    team up as a panel."""
    try:
        bot = harness.start_bot(
            tmp_path_factory.mktemp("bot"),
            seed_demo=False,
            settings={"PANEL_ADMINS": PRIYA["aadObjectId"]},
        )
    except harness.HarnessError as exc:
        pytest.fail(f"could not start the bot: {exc}", pytrace=False)
    yield bot
    bot.stop()


def _risk_answers() -> dict[str, str]:
    """By the question as the card labels it (a required field's label ends in " *")."""
    found = {}
    for item in MATRIX.items:
        option = item.option(ANSWERS[item.id])
        found[" ".join(f"{item.question} *".split())] = f"{option.label} ({option.score})"
    return found


async def test_a_council_from_nothing_to_a_published_agenda(
    chat: Chat, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    priya = chat
    await priya.open()
    await priya.open_personal_chat()

    # 1. Setup in the team's General channel: the panel, its next meetings planned at once.
    await priya.open_channel("General")
    await priya.send("setup Riverside Community MARAC")
    setup = await priya.wait_for_card("Panel set up", timeout=STEP)
    await expect(setup).to_contain_text("Next meeting")
    await expect(setup).to_contain_text("(6 planned)")
    await priya.shot("setup-in-the-channel", setup)

    # 2. Her agency: a new one, typed. Setup queued the card for her private chat, which
    # Teams opens by her Entra object id; the Playground knows no chat opened that way, so
    # she asks for the card there herself.
    await priya.open_personal_chat()
    await priya.send("agency")
    mine = await priya.wait_for_card("Your agency", timeout=STEP)
    await priya.shot("your-agency-asked", mine)
    await priya.fill(mine, "A new agency's name", OWN_AGENCY)
    await priya.click_card_button("Save my agency", mine)
    await priya.wait_for_text(f"Your agency is {OWN_AGENCY}.", card=mine)
    await priya.shot("your-agency-saved", mine)

    # 3. The panel's agencies: Victim Support, core.
    await priya.send("agencies")
    agencies = await priya.wait_for_card("Agencies", timeout=STEP)
    await priya.click_card_button("Add an agency", agencies)
    await priya.fill(agencies, "Agency name", VICTIM_SUPPORT)
    await priya.click_card_button("Add the agency", agencies)
    await priya.wait_for_text(f"{VICTIM_SUPPORT} was added as a core agency.", card=agencies)
    await expect(agencies).to_contain_text(OWN_AGENCY)
    await priya.shot("agencies", agencies)

    # 4. Aisha Bello through the people picker: her name is not typed.
    await priya.send("members")
    members = await priya.wait_for_card("Panel members", timeout=STEP)
    await priya.shot("members", members)
    await priya.click_card_button("Add a member", members)
    picker = members.get_by_role("combobox", name="People Picker")
    await picker.click()
    await picker.press_sequentially("Aisha")
    suggestion = priya.page.locator(".ms-Suggestions-item").filter(has_text="Aisha Bello")
    await suggestion.first.click()
    await expect(members.locator(".ms-PickerPersona-container")).to_contain_text("Aisha Bello")
    await expect(priya.field(members, "Name (if Teams does not show it)")).to_have_value("")
    await priya.choose(members, "Agency", VICTIM_SUPPORT)
    await priya.set_toggle(members, "Referrer")
    await priya.shot("picker-chosen", members)
    await priya.click_card_button("Add to the panel", members)
    await priya.wait_for_text(
        "Aisha Bello is invited: they join the panel when they accept the card I sent them.",
        card=members,
    )
    await expect(members).to_contain_text("Aisha Bello · Victim Support · referrer")
    await priya.shot("member-added-by-the-picker", members)

    # 5. Priya accepts the panel's information sharing agreement (she triages).
    await priya.send("isa")
    isa = await priya.wait_for_card("Information sharing agreement", timeout=STEP)
    await priya.click_card_button("I accept the agreement", isa)
    await priya.wait_for_text("Agreement accepted", card=isa)

    # 6. Aisha joins from her private chat, accepts the agreement and refers.
    aisha = await chat_as("Aisha Bello")
    await aisha.open()
    await aisha.open_personal_chat()
    await aisha.send("panel")
    invitation = await aisha.wait_for_card("Your panels", timeout=STEP)
    await expect(invitation).to_contain_text("Invitation: Riverside Community MARAC as referrer")
    await aisha.shot("invitation", invitation)
    await aisha.click_card_button("Join Riverside Community MARAC", invitation)
    await aisha.wait_for_text("You joined Riverside Community MARAC", card=invitation)
    await aisha.send("refer")
    first = await aisha.wait_for_card(
        re.compile(
            r"^\s*(Accept the information sharing agreement first|Referral RF-\d{4}-\d+)\s*$"
        ),
        timeout=STEP,
    )
    if "agreement" in await first.inner_text():
        await aisha.click_card_button("Accept and continue", first)
    intake = await aisha.wait_for_card(re.compile(r"^\s*Referral RF-\d{4}-\d+\s*$"), timeout=STEP)
    reference = re.search(r"RF-\d{4}-\d+", await intake.inner_text())
    assert reference is not None
    ref = reference.group(0)
    await aisha.choose(intake, "Kind of referral *", "ASB with a vulnerable victim or perpetrator")
    await aisha.fill(intake, "Discussed in your agency with *", "Victim Support team leader")
    await aisha.fill(intake, "What has been tried already *", TRIED)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 2 of 6 · Subjects", card=intake)
    await aisha.fill(intake, "Full name *", VICTIM)
    await aisha.fill_date(intake, "Date of birth", "1951-04-02")
    await aisha.fill(intake, "Address", "7 Ferry Road, Riverside")
    await aisha.fill(intake, "Postcode", "RV1 4QT")
    await aisha.fill(intake, "Vulnerabilities", VULNERABLE)
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 3 of 6 · Household and history", card=intake)
    await aisha.fill(intake, "Incidents in the last 12 months *", "4")
    await aisha.set_toggle(intake, "Incidents are rising in frequency or severity")
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 4 of 6 · Consent", card=intake)
    await aisha.set_toggle(intake, "The subject knows about this referral")
    await aisha.set_toggle(intake, "The subject consented to sharing their information")
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 5 of 6 · Risk assessment", card=intake)
    answers = _risk_answers()
    questions = [
        " ".join(q.split())
        for q in await intake.locator("label.ac-richTextBlock").all_inner_texts()
    ]
    for question in questions:
        await aisha.choose(intake, question, answers[question])
    await aisha.click_card_button("Next", intake)
    await aisha.wait_for_text("Step 6 of 6 · Criteria and review", card=intake)
    # Not professional judgement: potential escalation, and why, in the justification.
    await aisha.fill(intake, "Justification (at least 20 characters if judgement)", WHY)
    await aisha.shot("intake-review-with-the-explanation", intake)
    await aisha.click_card_button("Submit referral", intake)
    await aisha.wait_for_text(f"Referral {ref} submitted", card=intake)
    await aisha.shot("intake-submitted", intake)

    # 7. Priya's triage card: why it escalates, the vulnerabilities, what was tried.
    await priya.open_personal_chat()
    triage = await priya.wait_for_card(f"Triage referral {ref}", timeout=DELIVERY)
    await expect(triage).to_contain_text(WHY)
    await expect(triage).to_contain_text(TRIED)
    await expect(triage).to_contain_text(f"vulnerabilities: {VULNERABLE}")
    await priya.shot("triage-with-the-explanation", triage)
    await priya.click_card_button("Accept", triage)
    meeting_box = priya.field(triage, "Meeting")
    await expect(meeting_box).not_to_have_value(re.compile(r"^\s*$"))  # planned at setup
    # The next meeting, whatever its referral deadline: its agenda is the one `agenda` shows.
    await meeting_box.click()
    first = priya.page.get_by_role("option").first
    chosen = " ".join((await first.inner_text()).split())
    await first.click()
    await expect(meeting_box).to_have_value(chosen)
    await priya.shot("triage-accept", triage)
    await priya.click_card_button("Accept and send requests", triage)
    await priya.wait_for_text("Accepted as CM-", card=triage)
    case = re.search(r"CM-\d{4}-\d+", await triage.inner_text())
    assert case is not None
    await priya.shot("triage-accepted", triage)

    # 8. The agenda of the first planned meeting, published.
    await priya.send("agenda")
    agenda = await priya.wait_for_card(re.compile(r"^\s*Agenda for .+$"), timeout=STEP)
    await expect(agenda).to_contain_text(f"{case.group(0)} · new case")
    await priya.click_card_button("Publish agenda", agenda)
    await priya.wait_for_text(
        "Published: the team channel has the announcement.", card=agenda, timeout=STEP
    )
    await priya.shot("agenda-published", agenda)

    # 9. The channel heard both, each as a post of its own: no names, no details.
    await priya.open_channel("General")
    notice = await priya.wait_for_card(f"New referral {ref}", timeout=DELIVERY)
    await expect(notice).not_to_contain_text(VICTIM)
    await priya.shot("referral-notice-in-the-channel", notice)
    announced = await priya.wait_for_card(
        re.compile(r"^\s*Agenda published: .+$"), timeout=DELIVERY
    )
    await expect(announced).to_contain_text(f"{case.group(0)} · new case")
    await expect(announced).not_to_contain_text(VICTIM)
    await priya.shot("agenda-announcement-in-the-channel", announced)
