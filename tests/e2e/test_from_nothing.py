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

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from bot.kernel.config import load_risk_matrix

from . import harness

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from .harness import BotServer, Chat


def today() -> date:
    """Today in the panel's time zone (the bot under test runs on the real clock)."""
    return datetime.now(ZoneInfo("Europe/London")).date()


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
