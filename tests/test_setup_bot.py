"""A council from nothing, through the real app (issue 15, item 9): `setup` in a new team
plans the panel's meetings at once and asks the coordinator's agency in her private chat; a person
chosen in the members card's people picker is named from the team's roster, not typed.

The roster is a fake Bot Connector of its own on 127.0.0.1 (tests/support/roster.py), the
click's serviceUrl; everything else goes to the usual fake connector.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.panel import AgencyKind, Role
from bot.features.governance.membership import MY_AGENCY_KEY
from bot.settings import Settings
from cards.membership import (
    ADD_MEMBER_CONFIRM,
    AGENCY_KIND_ID,
    AGENCY_NAME_ID,
    MY_AGENCY_TITLE,
    PICKER_ID,
    SETUP_AGENCY_BUTTON,
    SETUP_AGENCY_ID,
)
from cards.verbs import Verb
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g
from tests.support.roster import serving_roster

NEW_TEAM = "19:eastborough-cmarac@thread.tacv2"
NEWCOMER = "5a6b7c8d-0000-4000-8000-0000000000e1"  # one of the deployment's administrators
NIA = "Nia Clarke"
CHOSEN = "5a6b7c8d-0000-4000-8000-0000000000f3"  # Kwame Asante, chosen in the picker
KWAME = "Kwame Asante"


@pytest.fixture
def bot_settings() -> Settings:
    """NEWCOMER is an administrator the council authorised to make a team a panel."""
    return Settings(panel_admins=frozenset({NEWCOMER}))


def channel_click(
    bot: BotUnderTest, verb: str, data: dict[str, Any], *, aad: str = NEWCOMER, name: str = NIA
) -> dict[str, Any]:
    """An Action.Execute click on a card in the new team's General channel."""
    activity = g.channel_message(bot.service_url, "", aad=aad, name=name, team=NEW_TEAM)
    for key in ("text", "entities"):
        activity.pop(key, None)
    activity.update(
        {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
    )
    return activity


async def set_up(bot: BotUnderTest) -> dict[str, Any]:
    await bot.post(
        g.channel_message(
            bot.service_url, "setup Eastborough CMARAC", aad=NEWCOMER, name=NIA, team=NEW_TEAM
        )
    )
    return bot.last_card()


async def test_setup_plans_the_panels_meetings_at_once_and_keeps_its_channel(
    bot: BotUnderTest,
) -> None:
    card = await set_up(bot)
    text = cards.text(card)
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        meetings = await uow.meetings.upcoming(panel.id, NOW, 50)
        (channel,) = await uow.conversations.of_kind(panel.id, ConversationKind.CHANNEL)
    # The next six by the default rule (the second Tuesday at 10:00), with no schedule typed.
    assert len(meetings) == 6
    assert all(m.starts_at > NOW and m.starts_at.weekday() == 1 for m in meetings)
    assert "Next meeting" in text and "(6 planned)" in text
    assert "Tue 8 Dec 2026, 10:00" in text
    # Its referral notices and agenda announcements have somewhere to go.
    assert channel.conversation_id.startswith(NEW_TEAM)


async def agency_card(bot: BotUnderTest) -> dict[str, Any]:
    """The card setup queued for the coordinator's private chat."""
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        coordinator = await uow.members.by_aad(panel.id, NEWCOMER)
        queued = await uow.outbox.due(NOW + timedelta(days=1), 100)
    assert coordinator is not None
    (card,) = [d for d in queued if d.key == f"{MY_AGENCY_KEY}{coordinator.id}"]
    assert card.recipient_member_id == coordinator.id
    return dict(card.payload["card"])


async def test_setup_asks_the_coordinators_agency_in_private_and_adds_a_new_one(
    bot: BotUnderTest,
) -> None:
    await set_up(bot)
    card = await agency_card(bot)
    assert MY_AGENCY_TITLE in cards.text(card)
    save = cards.button(card, SETUP_AGENCY_BUTTON)
    assert save["verb"] == Verb.SETUP_AGENCY.value
    assert SETUP_AGENCY_ID not in cards.inputs(card)  # no agency to choose from yet

    refused = await g.invoke(bot, save["verb"], {AGENCY_NAME_ID: ""}, aad=NEWCOMER)
    assert "Choose your agency, or name a new one." in cards.text(refused)

    body = await g.invoke(
        bot,
        save["verb"],
        {AGENCY_NAME_ID: "  Eastborough   Community Safety ", AGENCY_KIND_ID: "core"},
        aad=NEWCOMER,
    )
    text = cards.text(body)
    assert "Your agency is Eastborough Community Safety." in text
    assert SETUP_AGENCY_BUTTON not in text  # asked once: given now
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        (agency,) = await uow.agencies.all(panel.id)
        coordinator = await uow.members.by_aad(panel.id, NEWCOMER)
        trail = await uow.audit.recent(panel.id)
    assert (agency.name, agency.kind) == ("Eastborough Community Safety", AgencyKind.CORE)
    assert coordinator is not None and coordinator.agency_id == agency.id
    assert coordinator.roles == frozenset({Role.COORDINATOR})
    assert [(e.verb, e.entity, e.detail) for e in trail[:2]] == [
        (AuditVerb.UPDATE, "member", "roles: coordinator; agency: Eastborough Community Safety"),
        (AuditVerb.CREATE, "agency", "core"),
    ]


async def test_the_coordinator_chooses_an_agency_the_panel_has_and_only_in_private(
    bot: BotUnderTest,
) -> None:
    await set_up(bot)
    save = cards.button(await agency_card(bot), SETUP_AGENCY_BUTTON)
    await g.post(bot, "agencies", aad=NEWCOMER)
    add = cards.button(bot.last_card(), "Add the agency")
    await g.invoke(
        bot,
        add["verb"],
        {AGENCY_NAME_ID: "Eastborough Police", AGENCY_KIND_ID: "core"},
        aad=NEWCOMER,
    )
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        (police,) = await uow.agencies.all(panel.id)

    # Pressed in the team's channel: refused, nothing changes.
    there = await bot.invoke(channel_click(bot, save["verb"], {SETUP_AGENCY_ID: police.id}))
    assert "works in our private chat" in cards.text(there)

    body = await g.invoke(bot, save["verb"], {SETUP_AGENCY_ID: police.id}, aad=NEWCOMER)
    assert "Your agency is Eastborough Police." in cards.text(body)
    async with bot.storage.unit_of_work() as uow:
        coordinator = await uow.members.by_aad(panel.id, NEWCOMER)
        assert len(await uow.agencies.all(panel.id)) == 1
    assert coordinator is not None and coordinator.agency_id == police.id


# ---- the people picker --------------------------------------------------------------------


def picker_click(service_url: str, data: dict[str, Any]) -> dict[str, Any]:
    """The coordinator (Priya) presses Add on the members card in her private chat."""
    return acts.card_invoke(service_url, Verb.MEMBERS_ADD.value, data)


async def test_a_person_chosen_in_the_picker_is_named_from_the_teams_roster(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "members")
    add = cards.button(bot.last_card(), ADD_MEMBER_CONFIRM)
    assert add["verb"] == Verb.MEMBERS_ADD.value
    async with serving_roster({acts.TEAM: {CHOSEN: KWAME}}) as roster:
        body = await bot.invoke(
            picker_click(roster.url, {PICKER_ID: CHOSEN, "new_roles": "referrer"})
        )
    assert f"{KWAME} is invited" in cards.text(body)
    assert "type it" not in cards.text(body)
    # The panel's team was asked, not the coordinator's private chat.
    assert roster.asked == [f"/v3/conversations/{acts.TEAM}/members/{CHOSEN}"]
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        added = await uow.members.by_aad(panel.id, CHOSEN)
    assert added is not None and added.name == KWAME and added.invited


async def test_a_person_the_roster_does_not_know_is_named_by_the_coordinator(
    bot: BotUnderTest,
) -> None:
    async with serving_roster({acts.TEAM: {}}) as roster:
        refused = await bot.invoke(
            picker_click(roster.url, {PICKER_ID: CHOSEN, "new_roles": "referrer"})
        )
        assert "Teams did not send this person's name: type it." in cards.text(refused)
        stranger = await bot.invoke(
            picker_click(roster.url, {PICKER_ID: f"29:{CHOSEN}", "new_roles": "referrer"})
        )
        assert "Teams did not say who this is: choose the person again." in cards.text(stranger)
        typed = await bot.invoke(
            picker_click(
                roster.url, {PICKER_ID: CHOSEN, "new_name": KWAME, "new_roles": "referrer"}
            )
        )
    assert f"{KWAME} is invited" in cards.text(typed)
    # A typed name is taken as typed: the roster is asked only when none was (or for whom
    # a Teams user id stands).
    assert roster.asked == [
        f"/v3/conversations/{acts.TEAM}/members/{CHOSEN}",
        f"/v3/conversations/{acts.TEAM}/members/29:{CHOSEN}",
    ]


async def test_a_picker_that_sends_a_teams_user_id_adds_the_person_it_stands_for(
    bot: BotUnderTest,
) -> None:
    """The Agents Playground's picker sends its own user id, not the Entra object id: the
    roster says whose it is, and the member is stored by their object id."""
    async with serving_roster({acts.TEAM: {CHOSEN: KWAME}}) as roster:
        body = await bot.invoke(
            picker_click(roster.url, {PICKER_ID: f"29:{CHOSEN}", "new_roles": "referrer"})
        )
    assert f"{KWAME} is invited" in cards.text(body)
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        added = await uow.members.by_aad(panel.id, CHOSEN)
        by_user_id = await uow.members.by_aad(panel.id, f"29:{CHOSEN}")
    assert added is not None and added.name == KWAME and by_user_id is None
