"""Someone on two panels answers a card of one while she acts for the other, in the Playground.

Gemma Hartley is Housing's SPOC on the demo panel (Riverside) and, here, on a second panel,
Northbank, too. She acts for Riverside and asks for her actions: the card names Riverside.
She then acts for Northbank, goes back to the Riverside card and saves an update on it: the
card answers for Riverside (it names it, and the update is saved), and her private chat
still acts for Northbank. Every person and panel in it is invented.

The scenario changes the demo's Housing action and Gemma's panels: like every e2e module it
has a bot of its own on a fresh demo panel (conftest's `bot_server`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from bot.demo import DEMO_TENANT, PEOPLE
from bot.domain.panel import Agency, IsaAcceptance, Member, Panel, Role
from storage import open_storage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import BotServer, Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

RIVERSIDE = "Riverside Community MARAC"
NORTHBANK = "Northbank Community MARAC"
HOUSING = "Riverside Homes (Housing)"
LIST_TITLE = f"Open actions of {HOUSING}"
ACTION = "Visit Mrs Ellison and fit a door camera"
UPDATE = "Door camera fitted; the tenant has the app on her phone."
GEMMA = next(p for p in PEOPLE if p.name == "Gemma Hartley")


async def _northbank_too(database_url: str) -> None:
    """Gemma is also Northbank's housing SPOC (joined, agreement accepted)."""
    storage = open_storage(database_url)
    now = datetime.now(UTC)
    try:
        async with storage.unit_of_work() as uow:
            panel = Panel(
                name=NORTHBANK,
                team_id="19:northbank-cmarac@thread.tacv2",
                tenant_id=DEMO_TENANT,
                created_at=now,
            )
            await uow.panels.save(panel)
            agency = Agency(panel_id=panel.id, name="Northbank Housing Trust")
            await uow.agencies.save(agency)
            member = Member(
                panel_id=panel.id,
                aad_object_id=GEMMA.aad_object_id,
                name=GEMMA.name,
                agency_id=agency.id,
                roles=frozenset({Role.SPOC}),
            )
            await uow.members.save(member)
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version=panel.isa_version,
                    accepted_at=now,
                )
            )
            await uow.commit()
    finally:
        await storage.close()


async def test_a_card_of_one_panel_answers_for_it_while_she_acts_for_the_other(
    bot_server: BotServer, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    assert bot_server.database_url, "the harness started its own bot"
    await _northbank_too(bot_server.database_url)

    # 1. Gemma lists her panels and acts for Riverside.
    gemma = await chat_as("Gemma Hartley")
    await gemma.open()
    await gemma.open_personal_chat()
    await gemma.send("panel")
    panels = await gemma.wait_for_card("Your panels")
    await expect(panels).to_contain_text(NORTHBANK)
    await gemma.shot("two-panels", panels)
    if "(you act for this one)" not in (await panels.inner_text()).split(RIVERSIDE, 1)[1][:40]:
        await gemma.click_card_button(f"Act for {RIVERSIDE}", panels)
        await gemma.wait_for_text(f"You act for {RIVERSIDE} now.", card=panels)

    # 2. Her Housing actions on Riverside: the card names its panel.
    await gemma.send("actions")
    card = await gemma.wait_for_card(LIST_TITLE)
    await expect(card).to_contain_text(f"Panel: {RIVERSIDE}")
    await expect(card).to_contain_text(ACTION)
    reference = re.search(r"CM-\d{4}-013", await card.inner_text())
    assert reference is not None, "the demo's Housing action is on CM-…-013"
    await gemma.shot("riverside-actions", card)

    # 3. She acts for Northbank now.
    await gemma.send("panel")
    again = await gemma.wait_for_card("Your panels")
    await gemma.click_card_button(f"Act for {NORTHBANK}", again)
    await gemma.wait_for_text(f"You act for {NORTHBANK} now.", card=again)
    await expect(again).not_to_contain_text("Panel: ")  # it is about both: it names neither
    await gemma.shot("acting-for-northbank", again)

    # 4. Back on the Riverside card, she saves an update: it is Riverside's, saved in place.
    await gemma.click_card_button("Add an update", card)
    await gemma.fill(card, "Update", UPDATE)
    await gemma.click_card_button("Save update", card)
    await gemma.wait_for_text(f"{reference.group(0)}: Update saved.", card=card)
    await expect(card).to_contain_text(f"Panel: {RIVERSIDE}")
    await expect(card).to_contain_text(f"Gemma Hartley: {UPDATE}")
    await gemma.shot("riverside-update-saved-while-acting-for-northbank", card)

    # 5. Her private chat still acts for Northbank.
    await gemma.send("whoami")
    membership = await gemma.wait_for_card("Your membership")
    await expect(membership).to_contain_text(NORTHBANK)
    await expect(membership).not_to_contain_text(HOUSING)
    await gemma.shot("still-northbank", membership)
