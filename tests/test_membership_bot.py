"""Setting a panel up and keeping its members and agencies, through the real app."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.delivery import INVITATION_KEY
from bot.domain.panel import AgencyKind, Role
from bot.features.governance.membership import LAST_COORDINATOR, NEEDS_AGENCY
from bot.settings import Settings
from cards.kit import card_text, teams_findings
from cards.membership import (
    ADD_AGENCY_CONFIRM,
    ADD_MEMBER_CONFIRM,
    CONFIRM_REMOVE_BUTTON,
    PEOPLE_PICKER,
    PICKER_ID,
    REMOVE_MEMBER_BUTTON,
    RESTORE_MEMBER_BUTTON,
    SAVE_MEMBER_BUTTON,
    change_button_title,
    kind_button_title,
)
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g

NEW_TEAM = "19:eastborough-cmarac@thread.tacv2"
NEWCOMER = "5a6b7c8d-0000-4000-8000-0000000000e1"  # one of the deployment's administrators
OUTSIDER = "5a6b7c8d-0000-4000-8000-0000000000e2"  # on no panel, and no administrator


@pytest.fixture
def bot_settings() -> Settings:
    """NEWCOMER is an administrator the council authorised to make a team a panel."""
    return Settings(panel_admins=frozenset({NEWCOMER}))


async def agency_id(bot: BotUnderTest, name: str) -> str:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        agency = await uow.agencies.by_name(panel.id, name)
    assert agency is not None
    return agency.id


# ---- setup ------------------------------------------------------------------------------


async def test_setup_in_a_teams_channel_makes_it_a_panel_with_the_caller_as_coordinator(
    bot: BotUnderTest,
) -> None:
    refused = g.channel_message(
        bot.service_url, "setup Eastborough CMARAC", aad=OUTSIDER, name="Omar Ng", team=NEW_TEAM
    )
    await bot.post(refused)
    assert bot.last_text().startswith("Only the deployment's administrators can make a team")
    async with bot.storage.unit_of_work() as uow:
        assert await uow.panels.by_team(NEW_TEAM) is None
    activity = g.channel_message(
        bot.service_url, "setup Eastborough CMARAC", aad=NEWCOMER, name="Nia Clarke", team=NEW_TEAM
    )
    await bot.post(activity)
    posted = bot.connector.sent[-1]
    assert posted["_conversation"].startswith(NEW_TEAM)  # the card passed the channel gate
    text = card_text(bot.last_card())
    assert "Panel set up" in text and "Nia Clarke" in text
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        (coordinator,) = await uow.members.all(panel.id)
        trail = await uow.audit.recent(panel.id)
    assert (panel.name, panel.tenant_id, panel.channel_id) == (
        "Eastborough CMARAC",
        acts.TENANT,
        NEW_TEAM,
    )
    assert (coordinator.aad_object_id, coordinator.roles) == (
        NEWCOMER,
        frozenset({Role.COORDINATOR}),
    )
    assert [(e.verb, e.entity) for e in reversed(trail)] == [
        (AuditVerb.CREATE, "panel"),
        (AuditVerb.CREATE, "member"),
    ]
    # the new coordinator now manages it from the private chat
    await g.post(bot, "members", aad=NEWCOMER)
    assert "Nia Clarke" in card_text(bot.last_card())


async def test_setup_refuses_a_team_that_is_a_panel_already(bot: BotUnderTest) -> None:
    await bot.post(g.channel_message(bot.service_url, "setup", aad=NEWCOMER, name="Nia"))
    assert bot.last_text().startswith("This team is already the panel Riverside Community MARAC.")
    await g.post(bot, "setup")
    assert bot.last_text() == "`setup` works in a team channel, not here."


# ---- members ----------------------------------------------------------------------------


async def test_the_members_card_lists_everyone_with_the_people_picker(bot: BotUnderTest) -> None:
    await g.post(bot, "members")
    card = bot.last_card()
    text = card_text(card)
    assert "Panel members" in text
    assert "**Daniel Reyes** · Riverside Homes (Housing) · deputy · agreement v1 only" in text
    assert "**Aisha Bello** · Victim Support · referrer · agreement not accepted" in text
    assert cards.button(card, change_button_title("Gemma Hartley"))["verb"] == "members.edit"
    picker = cards.inputs(card)[PICKER_ID]
    assert picker["choices.data"] == PEOPLE_PICKER
    # what is sent differs from a valid 1.5 card by the picker's Teams extension only
    del picker["choices.data"]
    assert teams_findings(card) == []


async def test_the_coordinator_adds_a_member_from_the_people_picker(bot: BotUnderTest) -> None:
    recovery = await agency_id(bot, "Riverside Recovery (drug and alcohol)")
    await g.post(bot, "members")
    add = cards.button(bot.last_card(), ADD_MEMBER_CONFIRM)
    body = await g.invoke(
        bot,
        add["verb"],
        {
            PICKER_ID: NEWCOMER,
            "new_name": "Nia Clarke",
            "new_agency": recovery,
            "new_roles": "spoc",
        },
    )
    # Nobody is placed on a panel without accepting: Nia is invited until she joins.
    assert (
        "Nia Clarke is invited: they join the panel when they accept the card I sent them."
        in cards.text(body)
    )
    assert "**Nia Clarke** · Riverside Recovery (drug and alcohol) · spoc" in cards.text(body)
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        added = await uow.members.by_aad(panel.id, NEWCOMER)
        (event, *_) = await uow.audit.recent(panel.id)
        queued = await uow.outbox.due(NOW + timedelta(days=1), 100)
    assert added is not None and added.roles == frozenset({Role.SPOC}) and added.invited
    assert (event.verb, event.entity, event.entity_id) == (AuditVerb.CREATE, "member", added.id)
    assert event.detail == "invited; roles: spoc; agency: Riverside Recovery (drug and alcohol)"
    (invitation,) = [d for d in queued if d.key.startswith(INVITATION_KEY)]
    assert invitation.recipient_member_id == added.id
    join = cards.button(invitation.payload["card"], "Join the panel")
    await g.invoke(bot, join["verb"], join["data"], aad=NEWCOMER)
    async with bot.storage.unit_of_work() as uow:
        joined = await uow.members.by_aad(panel.id, NEWCOMER)
    assert joined is not None and joined.active and not joined.invited


async def test_adding_shows_each_mistake_next_to_its_field(bot: BotUnderTest) -> None:
    body = await g.invoke(bot, "members.add", {PICKER_ID: "not-a-person", "new_roles": "spoc"})
    text = cards.text(body)
    assert "Choose the person in the picker." in text
    assert NEEDS_AGENCY in text
    assert cards.inputs(body["value"])["new_roles"]["value"] == "spoc"  # kept as chosen
    body = await g.invoke(bot, "members.add", {PICKER_ID: g.GEMMA, "new_roles": "referrer"})
    assert "Gemma Hartley is a member already: use Change instead." in cards.text(body)
    body = await g.invoke(bot, "members.add", {PICKER_ID: NEWCOMER, "new_roles": "referrer"})
    assert "Teams did not send this person's name: type it." in cards.text(body)


async def test_the_coordinator_changes_a_members_agency_and_roles(bot: BotUnderTest) -> None:
    daniel = await g.member_of(bot.storage, g.DANIEL)
    opened = await g.invoke(bot, "members.edit", {"member_id": daniel.id})
    card = opened["value"]
    assert "Member: Daniel Reyes" in card_text(card)
    save = cards.button(card, SAVE_MEMBER_BUTTON)
    police = await agency_id(bot, "Riverside Police")
    body = await g.invoke(
        bot, save["verb"], {**save["data"], "agency_id": police, "roles": "deputy,chair"}
    )
    assert "Saved." in cards.text(body)
    changed = await g.member_of(bot.storage, g.DANIEL)
    assert (changed.agency_id, changed.roles) == (police, frozenset({Role.DEPUTY, Role.CHAIR}))


async def test_nobody_removes_or_demotes_the_last_coordinator(bot: BotUnderTest) -> None:
    priya = await g.member_of(bot.storage, g.PRIYA)
    body = await g.invoke(bot, "members.save", {"member_id": priya.id, "roles": "referrer"})
    assert LAST_COORDINATOR in cards.text(body)
    body = await g.invoke(bot, "members.remove", {"member_id": priya.id, "confirm": True})
    assert LAST_COORDINATOR in cards.text(body)
    assert (await g.member_of(bot.storage, g.PRIYA)).has(Role.COORDINATOR)


async def test_a_removed_member_sees_nothing_and_can_be_added_back(bot: BotUnderTest) -> None:
    gemma = await g.member_of(bot.storage, g.GEMMA)
    card = (await g.invoke(bot, "members.edit", {"member_id": gemma.id}))["value"]
    remove = cards.button(card, REMOVE_MEMBER_BUTTON)
    question = (await g.invoke(bot, remove["verb"], remove["data"]))["value"]
    assert "Remove Gemma Hartley from the panel?" in card_text(question)
    assert (await g.member_of(bot.storage, g.GEMMA)).active  # nothing yet
    confirm = cards.button(question, CONFIRM_REMOVE_BUTTON)
    listing = await g.invoke(bot, confirm["verb"], confirm["data"])
    assert "Gemma Hartley was removed from the panel." in cards.text(listing)
    assert not (await g.member_of(bot.storage, g.GEMMA)).active
    await g.post(bot, f"case {g.CASE}", aad=g.GEMMA)
    assert bot.last_text() == "`case` is for panel members. Ask your panel coordinator to add you."
    card = (await g.invoke(bot, "members.edit", {"member_id": gemma.id}))["value"]
    restore = cards.button(card, RESTORE_MEMBER_BUTTON)
    body = await g.invoke(bot, restore["verb"], restore["data"])
    assert "Gemma Hartley is a member again." in cards.text(body)
    await g.post(bot, f"case {g.CASE}", aad=g.GEMMA)
    assert "Rosa Lindqvist" in card_text(bot.last_card())


async def test_only_the_coordinator_manages_members(bot: BotUnderTest) -> None:
    await g.post(bot, "members", aad=g.TOM)
    assert bot.last_text() == (
        "Only the panel's coordinators can manage the panel's members, agencies and agreement."
    )
    assert (await g.last_refusal(bot.storage, g.TOM)).detail == "manage_members: role"
    gemma = await g.member_of(bot.storage, g.GEMMA)
    body = await g.invoke(bot, "members.remove", {"member_id": gemma.id, "confirm": True}, g.TOM)
    assert cards.text(body) == (
        "Only the panel's coordinators can manage the panel's members, agencies and agreement."
    )
    assert (await g.member_of(bot.storage, g.GEMMA)).active


# ---- agencies ---------------------------------------------------------------------------


async def test_the_coordinator_adds_an_agency_and_marks_agencies_core_or_invited(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "agencies")
    card = bot.last_card()
    assert "**Riverside Fire and Rescue** · invited · 0 members" in card_text(card)
    add = cards.button(card, ADD_AGENCY_CONFIRM)
    body = await g.invoke(
        bot, add["verb"], {"agency_name": "Youth Justice Service", "agency_kind": "invited"}
    )
    assert "Youth Justice Service was added as an invited agency." in cards.text(body)
    body = await g.invoke(bot, add["verb"], {"agency_name": "riverside police"})
    assert "The panel has an agency of this name already." in cards.text(body)
    make_core = cards.button(body["value"], kind_button_title("Riverside Fire and Rescue", True))
    body = await g.invoke(bot, make_core["verb"], make_core["data"])
    assert "Riverside Fire and Rescue is now core." in cards.text(body)
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        fire = await uow.agencies.by_name(panel.id, "Riverside Fire and Rescue")
        youth = await uow.agencies.by_name(panel.id, "youth justice service")
    assert fire is not None and fire.kind is AgencyKind.CORE
    assert youth is not None and youth.kind is AgencyKind.INVITED
