"""Someone added to a panel is invited, and joins from the invitation in the Playground.

The coordinator invites Sam Whitfield (in the tenant, on no panel) to the demo panel as the
housing agency's deputy. The Playground has no people picker, so the invitation is stored as
`members` add stores it: an invited membership. Sam opens his private chat: the bot shows
him the invitation and nothing of the panel until he joins; then it speaks for the panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from bot.demo import DEMO_TEAM
from bot.domain.panel import Member, Role
from storage import open_storage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import BotServer, Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

SAM_AAD = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d06"
PANEL = "Riverside Community MARAC"
HOUSING = "Riverside Homes (Housing)"


async def _invite_sam(database_url: str) -> None:
    storage = open_storage(database_url)
    try:
        async with storage.unit_of_work() as uow:
            panel = await uow.panels.by_team(DEMO_TEAM)
            assert panel is not None, "the demo panel is seeded"
            housing = await uow.agencies.by_name(panel.id, HOUSING)
            assert housing is not None
            await uow.members.save(
                Member(
                    panel_id=panel.id,
                    aad_object_id=SAM_AAD,
                    name="Sam Whitfield",
                    agency_id=housing.id,
                    roles=frozenset({Role.DEPUTY}),
                    invited=True,
                )
            )
            await uow.commit()
    finally:
        await storage.close()


async def test_an_invited_person_sees_nothing_of_the_panel_until_he_joins(
    bot_server: BotServer, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    assert bot_server.database_url, "the harness started its own bot"
    await _invite_sam(bot_server.database_url)

    # Sam opens his private chat and asks what he can do: the invitation comes first.
    sam = await chat_as("Sam Whitfield")
    await sam.open()
    await sam.open_personal_chat()
    await sam.send("agenda")
    card = await sam.wait_for_card("Your panels")
    await expect(card).to_contain_text(f"Invitation: {PANEL} as deputy")
    await expect(card).not_to_contain_text("CM-2026")
    await sam.shot("invitation", card)

    # He joins: from now on his private chat speaks for the panel.
    await sam.click_card_button(f"Join {PANEL}", card)
    await sam.wait_for_text(f"You joined {PANEL}", card=card)
    await expect(card).to_contain_text(f"{PANEL} (you act for this one): deputy")
    await expect(card).not_to_contain_text("Invitation:")
    await sam.shot("joined", card)

    await sam.send("whoami")
    membership = await sam.wait_for_card("Your membership")
    await expect(membership).to_contain_text(HOUSING)
    await sam.shot("membership-after-joining", membership)
