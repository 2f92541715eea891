"""A card answers for the panel it came from (bot.kernel.turns.acting_for), through the real
app: Teams activity JSON in, the fake connector out, on SQLite.

Gemma Hartley is Riverside's Housing SPOC (the demo panel). She is also on a second panel,
Northbank, and acts for it in her private chat. A Riverside card in that chat (a reply, a
reminder queued for her) still answers for Riverside, without her switching panel and
without changing the panel she acts for. A card's panel is the client's to forge: naming a
panel the caller is not an active member of gets a refusal and changes nothing. All people,
panels and strings are invented.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import make_deps
from bot.domain.panel import Agency, AgencyKind, IsaAcceptance, Member, Panel, Role
from bot.features.actions import reminders
from bot.settings import Settings
from cards.actions import SAVE_UPDATE
from cards.kit import CARD_PANEL, card_text
from cards.membership import PICKER_ID
from cards.verbs import Verb
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.action import Action
    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage

ADMIN = "5a6b7c8d-0000-4000-8000-0000000000a1"  # the deployment's administrator
NORTHBANK_TEAM = "19:northbank-panel-team@thread.tacv2"
OTHER_TEAM = "19:eastfield-panel-team@thread.tacv2"
HOUSING = "Riverside Homes (Housing)"


@pytest.fixture
def bot_settings() -> Settings:
    """ADMIN may set panels up (conftest's `bot`)."""
    return Settings(panel_admins=frozenset({ADMIN}))


async def second_panel(
    storage: Storage, name: str, team: str, *, chosen: bool = True, invited: bool = False
) -> Panel:
    """A panel Gemma is also on (chosen: she acts for it now), where she accepted the
    agreement and is her agency's SPOC."""
    async with storage.unit_of_work() as uow:
        panel = Panel(name=name, team_id=team, tenant_id=acts.TENANT, created_at=NOW)
        await uow.panels.save(panel)
        agency = Agency(panel_id=panel.id, name="Northbank Housing", kind=AgencyKind.CORE)
        await uow.agencies.save(agency)
        member = Member(
            panel_id=panel.id,
            aad_object_id=g.GEMMA,
            name="Gemma Hartley",
            agency_id=agency.id,
            roles=frozenset({Role.SPOC}),
            invited=invited,
            chosen_at=NOW + timedelta(minutes=5) if chosen else None,
        )
        await uow.members.save(member)
        await uow.isa.save(
            IsaAcceptance(
                panel_id=panel.id, member_id=member.id, version=panel.isa_version, accepted_at=NOW
            )
        )
        await uow.commit()
    return panel


async def housing_action(bot: BotUnderTest) -> Action:
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        (action,) = await uow.actions.open_for_agency(gemma.panel_id, gemma.agency_id or "")
    return action


async def acting_for(bot: BotUnderTest) -> str:
    """The panel `whoami` says Gemma acts for."""
    await g.post(bot, "whoami", g.GEMMA)
    return cards.text(bot.connector.sent[-1])


async def riverside_actions_card(bot: BotUnderTest) -> dict[str, Any]:
    """Gemma's Riverside actions card: she chooses Riverside and asks for her actions."""
    riverside = await g.demo_panel(bot.storage)
    await g.invoke(bot, Verb.PANEL_CHOOSE.value, {"panel_id": riverside.id}, g.GEMMA)
    await g.post(bot, "actions", g.GEMMA)
    card = bot.last_card()
    assert "Panel: Riverside Community MARAC" in card_text(card)
    assert f"Open actions of {HOUSING}" in card_text(card)
    return card


async def test_a_reply_card_answers_for_its_panel_after_she_switched_to_another(
    bot: BotUnderTest,
) -> None:
    northbank = await second_panel(bot.storage, "Northbank Panel", NORTHBANK_TEAM)
    card = await riverside_actions_card(bot)
    riverside = await g.demo_panel(bot.storage)
    # Every button of the card names Riverside.
    assert {b["data"][CARD_PANEL] for b in cards.buttons(card)} == {riverside.id}
    chose = await g.invoke(bot, Verb.PANEL_CHOOSE.value, {"panel_id": northbank.id}, g.GEMMA)
    # The panels card is about all her panels: it names none as the one it concerns.
    assert "You act for Northbank Panel now." in cards.text(chose)
    assert "Panel: " not in cards.text(chose)
    await g.post(bot, "panel", g.GEMMA)
    assert "Panel: " not in cards.text(bot.connector.sent[-1])
    assert "Northbank" in await acting_for(bot)

    save = cards.button(card, SAVE_UPDATE)
    body = await g.invoke(
        bot, save["verb"], {**save["data"], "update-0": "Door camera fitted."}, g.GEMMA
    )

    shown = cards.text(body)
    assert "Update saved." in shown, shown
    assert "Panel: Riverside Community MARAC" in shown
    action = await housing_action(bot)
    assert action.updates[-1].note == "Door camera fitted."
    # Answering the card did not switch her panel.
    said = await acting_for(bot)
    assert "Northbank" in said and "Riverside" not in said


async def test_a_card_without_the_stamp_acts_for_the_panel_she_chose_as_before(
    bot: BotUnderTest,
) -> None:
    """The stamp decides only when it is there: a card sent before it was carried answers
    for the panel she acts for, where Riverside's action is not found."""
    northbank = await second_panel(bot.storage, "Northbank Panel", NORTHBANK_TEAM)
    card = await riverside_actions_card(bot)
    await g.invoke(bot, Verb.PANEL_CHOOSE.value, {"panel_id": northbank.id}, g.GEMMA)
    save = cards.button(card, SAVE_UPDATE)
    unstamped = {k: v for k, v in save["data"].items() if k != CARD_PANEL}
    body = await g.invoke(bot, save["verb"], {**unstamped, "update-0": "Not saved."}, g.GEMMA)
    assert "Update saved." not in cards.text(body)
    assert all(u.note != "Not saved." for u in (await housing_action(bot)).updates)


async def test_a_reminder_queued_for_her_opens_its_panels_request(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    """A proactive card (the reminder digest) is stamped when queued: its Action.Submit
    answers for Riverside though she acts for Northbank when she clicks."""
    await g.post(bot, "help", g.GEMMA)  # her private chat is known
    await second_panel(bot.storage, "Northbank Panel", NORTHBANK_TEAM)
    clock.advance(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # the requests are due today
    report = await reminders.run_due(make_deps(uow=bot.storage.unit_of_work, clock=clock))
    assert report.cards >= 1
    await bot.deliver()
    digest = bot.connector.to_conversation(f"a:personal-{g.GEMMA}")[-1]["attachments"][0]
    answer = cards.button(digest["content"], f"Answer {g.CASE}")
    riverside = await g.demo_panel(bot.storage)
    assert answer["data"][CARD_PANEL] == riverside.id
    # On two panels, she reads which one it concerns.
    assert card_text(digest["content"]).startswith("Panel: Riverside Community MARAC")
    assert "Northbank" in await acting_for(bot)

    await bot.post(
        acts.personal_message(bot.service_url, "", aad=g.GEMMA, name="Gemma", value=answer["data"])
    )

    assert f"Information request for {g.CASE}" in card_text(bot.last_card()), bot.last_text()


async def test_a_card_queued_for_someone_on_one_panel_names_none(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    """Only someone on several panels reads a panel's name on a queued card (an invitation
    not yet accepted does not count); every queued card's buttons still carry its panel."""
    await g.post(bot, "help", g.GEMMA)
    await second_panel(bot.storage, "Northbank Panel", NORTHBANK_TEAM, invited=True)
    clock.advance(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    await reminders.run_due(make_deps(uow=bot.storage.unit_of_work, clock=clock))
    await bot.deliver()
    digest = bot.connector.to_conversation(f"a:personal-{g.GEMMA}")[-1]["attachments"][0]
    assert "Panel:" not in card_text(digest["content"])
    riverside = await g.demo_panel(bot.storage)
    assert {b["data"][CARD_PANEL] for b in cards.buttons(digest["content"])} == {riverside.id}


async def test_an_invitation_card_from_a_panel_she_is_not_on_yet_is_joined_from_its_button(
    bot: BotUnderTest,
) -> None:
    """The invitation is queued for her as a member of its panel, so it carries that panel,
    which she is not a member of until she joins: Join and Decline act on her own
    memberships alone, whatever panel the card names."""
    await g.post(bot, "help", g.GEMMA)
    await bot.post(
        g.channel_message(
            bot.service_url,
            "setup Northbank Panel",
            aad=ADMIN,
            name="Ada Admin",
            team=NORTHBANK_TEAM,
        )
    )
    northbank = await _panel_by_team(bot.storage, NORTHBANK_TEAM)
    body = await g.invoke(
        bot,
        Verb.MEMBERS_ADD.value,
        {PICKER_ID: g.GEMMA, "new_name": "Gemma Hartley", "new_roles": "referrer"},
        aad=ADMIN,
    )
    assert "is invited" in cards.text(body), cards.text(body)
    async with bot.storage.unit_of_work() as uow:
        queued = await uow.outbox.due(NOW + timedelta(days=1), 100)
    (join,) = [
        button
        for delivery in queued
        if delivery.payload.get("card")
        for button in cards.with_verb(delivery.payload["card"], Verb.PANEL_JOIN.value)
    ]
    assert join["data"][CARD_PANEL] == northbank.id

    joined = await g.invoke(bot, join["verb"], join["data"], g.GEMMA)

    assert "You joined Northbank Panel" in cards.text(joined), cards.text(joined)
    assert "Northbank" in await acting_for(bot)


async def test_a_card_naming_a_panel_she_is_not_on_is_refused_and_changes_nothing(
    bot: BotUnderTest,
) -> None:
    await second_panel(bot.storage, "Northbank Panel", NORTHBANK_TEAM, chosen=False)
    invited = await second_panel(
        bot.storage, "Eastfield Panel", OTHER_TEAM, chosen=False, invited=True
    )
    card = await riverside_actions_card(bot)  # she acts for Riverside
    save = cards.button(card, SAVE_UPDATE)
    before = [u.note for u in (await housing_action(bot)).updates]
    for forged in ("made-up-panel-id", invited.id, "x" * 500, ""):
        data = {**save["data"], CARD_PANEL: forged, "update-0": "Forged."}
        body = await g.invoke(bot, save["verb"], data, g.GEMMA)
        said = cards.text(body)
        assert "Update saved." not in said, forged
        assert "Visit Mrs Ellison" not in said, forged  # nothing of Riverside's case shown
    assert [u.note for u in (await housing_action(bot)).updates] == before
    # Priya, on Riverside alone, naming Northbank gets nothing of either.
    northbank_id = (await _panel_by_team(bot.storage, NORTHBANK_TEAM)).id
    data = {"command": "actions", CARD_PANEL: northbank_id}
    body = await g.invoke(bot, Verb.COMMAND.value, data, g.PRIYA)
    said = cards.text(body)
    assert "Northbank" not in said and "Adult Social Care" not in said, said


async def _panel_by_team(storage: Storage, team: str) -> Panel:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(team)
    assert panel is not None
    return panel
