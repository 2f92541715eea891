"""Issue 11's findings, each replayed as the attack it was, through the real app: Teams
activity JSON in, the invoke response and the fake connector's posts out, on SQLite.

Each test would have passed the attack before the guard (bot.kernel.guard) and the
membership-by-invitation change; now each asserts the refusal, the audit record, and that
nothing personal reached the chat. All people and strings are invented.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.panel import Role
from bot.domain.referral import ReferralStatus
from bot.settings import Settings
from cards.actions import SAVE_UPDATE
from cards.kit import Card, card_text
from cards.membership import PICKER_ID
from cards.verbs import Verb
from tests.conftest import NOW, BotUnderTest
from tests.support import cards
from tests.support import governance as g
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.world import PERSONAL
from tests.test_meeting_run_bot import SECRET

ADMIN = "5a6b7c8d-0000-4000-8000-0000000000a1"  # the deployment's administrator
ATTACKER_TEAM = "19:aardvark-lookalike@thread.tacv2"  # sorts before Riverside by name
OTHER_MEETING_CHAT = "19:meeting_T3RoZXItbWVldGluZw@thread.v2"
OTHER_CHANNEL = "19:riverside-other-channel@thread.tacv2"
AGREEMENT = "Invented demo agreement"  # in the demo panel's agreement text
SETTINGS = Settings(
    public_url="https://bot.example.org",
    ics_signing_secret=SECRET,
    panel_admins=frozenset({ADMIN}),
)


@pytest.fixture
def bot_settings() -> Settings:
    """The meeting features' links signed; ADMIN may set panels up (conftest's `bot`)."""
    return SETTINGS


def everything_said(bot: BotUnderTest, since: int, *bodies: Any) -> str:
    """Every post since `since` and every invoke body, as one JSON text to search."""
    return json.dumps([*bot.connector.sent[since:], *bodies], ensure_ascii=False)


def last_said(bot: BotUnderTest) -> str:
    """The last message the bot posted: its text and its cards' text."""
    return cards.text(bot.connector.sent[-1])


async def refusals(bot: BotUnderTest) -> list[str]:
    """The details of the demo panel's REFUSE audit events, newest first."""
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        trail = await uow.audit.recent(panel.id)
    return [e.detail or "" for e in trail if e.verb is AuditVerb.REFUSE]


def in_meeting_chat(
    bot: BotUnderTest, verb: str, data: dict[str, Any], who: str = "Priya"
) -> dict[str, Any]:
    return group_invoke(bot.service_url, verb, data, who=who)


def elsewhere(activity: dict[str, Any]) -> dict[str, Any]:
    """The same activity in another Teams meeting's chat."""
    activity["conversation"]["id"] = OTHER_MEETING_CHAT
    activity["channelData"]["meeting"] = {"id": "MCMjT3RoZXItbWVldGluZw"}
    return activity


async def start_meeting(bot: BotUnderTest) -> Card:
    """Tom starts the meeting in its chat; the confidentiality card posted there."""
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    card: Card = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    assert card_text(card).startswith("Confidentiality statement")
    return card


# --- 1. meeting chats are shared -----------------------------------------------------------


async def test_1_a_meeting_chat_gets_no_triage_members_or_information_request_card(
    bot: BotUnderTest,
) -> None:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        pending = await uow.referrals.by_reference(panel.id, f"RF-{NOW.year}-0049")
        (request, *_) = await uow.information_requests.for_case(
            panel.id,
            (await uow.cases.by_reference(panel.id, g.CASE)).id,  # type: ignore[union-attr]
        )
    assert pending is not None
    before = len(bot.connector.sent)
    bodies = [
        await bot.invoke(
            in_meeting_chat(bot, Verb.TRIAGE_ACCEPT.value, {"referral_id": pending.id})
        ),
        await bot.invoke(in_meeting_chat(bot, Verb.MEMBERS_LIST.value, {})),
        await bot.invoke(in_meeting_chat(bot, Verb.INFO_OPEN.value, {"request_id": request.id})),
    ]
    said = everything_said(bot, before, *bodies)
    for word in (*PERSONAL, "Daniel Reyes", "Aisha Bello", request.question):
        assert word not in said, word
    assert all(not isinstance(body.get("value"), dict) for body in bodies), bodies
    async with bot.storage.unit_of_work() as uow:
        still = await uow.referrals.get(panel.id, pending.id)
    assert still is not None and still.status is ReferralStatus.SUBMITTED
    assert len(await refusals(bot)) >= 3


async def test_1_chair_typed_in_another_meetings_chat_shows_nothing_of_this_one(
    bot: BotUnderTest,
) -> None:
    await start_meeting(bot)
    before = len(bot.connector.sent)
    await bot.post(elsewhere(group_message(bot.service_url, "chair", who="Tom", meeting=True)))
    posted = bot.connector.to_conversation(OTHER_MEETING_CHAT)
    text = everything_said(bot, before)
    assert "Item 1 of" not in text and "Welcome and confidentiality" not in text
    for word in PERSONAL:
        assert word not in text
    assert str(posted[-1].get("text")).startswith("No panel meeting has been started")
    assert await refusals(bot)


# --- 2. panel hijack -------------------------------------------------------------------------


async def test_2_only_an_administrator_sets_a_panel_up(bot: BotUnderTest) -> None:
    await bot.post(
        g.channel_message(
            bot.service_url, "setup Aardvark", aad=g.STRANGER, name="Sam", team=ATTACKER_TEAM
        )
    )
    assert bot.last_text().startswith("Only the deployment's administrators")
    async with bot.storage.unit_of_work() as uow:
        assert await uow.panels.by_team(ATTACKER_TEAM) is None


async def test_2_an_added_person_is_invited_and_keeps_her_own_panel_until_she_joins(
    bot: BotUnderTest,
) -> None:
    await bot.post(
        g.channel_message(
            bot.service_url, "setup Aardvark Panel", aad=ADMIN, name="Ada Admin", team=ATTACKER_TEAM
        )
    )
    async with bot.storage.unit_of_work() as uow:
        attackers = await uow.panels.by_team(ATTACKER_TEAM)
    assert attackers is not None
    body = await g.invoke(
        bot,
        Verb.MEMBERS_ADD.value,
        {PICKER_ID: g.GEMMA, "new_name": "Gemma Hartley", "new_roles": "coordinator"},
        aad=ADMIN,
    )
    assert "is invited" in cards.text(body), cards.text(body)
    async with bot.storage.unit_of_work() as uow:
        added = await uow.members.by_aad(attackers.id, g.GEMMA)
    assert added is not None and added.invited
    # Gemma's private chat still speaks for Riverside, not the panel that added her.
    await g.post(bot, "whoami", g.GEMMA)
    said = last_said(bot)
    assert "Riverside" in said and "Aardvark" not in said
    await g.post(bot, "panel", g.GEMMA)
    listed = last_said(bot)
    assert "Aardvark Panel" in listed and "Riverside Community MARAC" in listed
    # She accepts: then she acts for it, and can choose Riverside again.
    joined = await g.invoke(bot, Verb.PANEL_JOIN.value, {"panel_id": attackers.id}, g.GEMMA)
    assert "You joined Aardvark Panel" in cards.text(joined)
    riverside = await g.demo_panel(bot.storage)
    chose = await g.invoke(bot, Verb.PANEL_CHOOSE.value, {"panel_id": riverside.id}, g.GEMMA)
    assert "You act for Riverside Community MARAC now." in cards.text(chose)
    await g.post(bot, f"case {g.CASE}", g.GEMMA)
    assert "Rosa Lindqvist" in card_text(bot.last_card()), bot.last_text()


# --- 4. another agency's actions -------------------------------------------------------------


async def test_4_a_spoc_gets_no_other_agencys_actions_by_changing_the_list_button(
    bot: BotUnderTest,
) -> None:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        adults = await uow.agencies.by_name(panel.id, "Adult Social Care")
    assert adults is not None
    await g.post(bot, "actions", g.GEMMA)
    save = cards.button(bot.last_card(), SAVE_UPDATE)
    assert save["data"].get("view") == "list"
    data = {**save["data"], "agency_id": adults.id, "update-0": "Letter sent."}
    body = await g.invoke(bot, save["verb"], data, aad=g.GEMMA)
    said = json.dumps(body, ensure_ascii=False)
    assert "Care Act needs assessment" not in said and "Adult Social Care" not in said
    assert not isinstance(body.get("value"), dict)
    assert any(d.startswith("update_action") for d in await refusals(bot)), await refusals(bot)


# --- 5. the agreement before anything ------------------------------------------------------


async def test_5_a_chair_who_has_not_accepted_the_agreement_gets_it_and_nothing_else(
    bot: BotUnderTest,
) -> None:
    # Daniel accepted version 1 only (2 is current); here he is made chair and coordinator too.
    daniel = await g.member_of(bot.storage, g.DANIEL)
    daniel.roles = daniel.roles | {Role.CHAIR, Role.COORDINATOR}
    async with bot.storage.unit_of_work() as uow:
        await uow.members.save(daniel)
        await uow.commit()
    confidentiality = await start_meeting(bot)
    verb, data = cards.press(confidentiality, "Open the chair card")
    chair = cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")))
    for _ in range(2):
        verb, data = cards.press(chair, "Next")
        chair = cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")))
    assert card_text(chair).startswith(f"Item 3 of 4: {g.CASE}")
    await g.post(bot, "chair", g.DANIEL)
    assert AGREEMENT in last_said(bot) and "Item 3 of" not in last_said(bot)
    capture, fields = cards.press(chair, "Save action", description="Marker: fit a window alarm.")
    body = await g.invoke(bot, capture, fields, aad=g.DANIEL)
    assert AGREEMENT in cards.text(body)
    await g.post(bot, "minutes", g.DANIEL)
    assert AGREEMENT in last_said(bot)
    async with bot.storage.unit_of_work() as uow:
        heard = await uow.cases.by_reference(daniel.panel_id, g.HEARD_CASE)
        new = await uow.cases.by_reference(daniel.panel_id, g.CASE)
        assert heard is not None and new is not None
        actions = [
            *await uow.actions.for_case(daniel.panel_id, heard.id),
            *await uow.actions.for_case(daniel.panel_id, new.id),
        ]
    assert all("window alarm" not in a.description for a in actions)
    assert sum("agreement" in d for d in await refusals(bot)) >= 3, await refusals(bot)


# --- 6. attendance only in the meeting's chat ----------------------------------------------


async def test_6_acknowledging_from_a_private_chat_is_refused(bot: BotUnderTest) -> None:
    confidentiality = await start_meeting(bot)
    verb, data = cards.press(confidentiality, "I acknowledge")
    body = await g.invoke(bot, verb, data, aad=g.GEMMA)
    assert "recorded as attending" not in cards.text(body)
    assert await refusals(bot)
    # In the meeting's own chat it is recorded.
    ok = await bot.invoke(group_invoke(bot.service_url, verb, data, who="Gemma"))
    assert "recorded as attending" in cards.text(ok)


# --- 7. narrative never on a shared chair card ----------------------------------------------


async def test_7_the_chair_card_in_a_shared_chat_shows_no_notes_or_reasons(
    bot: BotUnderTest,
) -> None:
    confidentiality = await start_meeting(bot)
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        heard = await uow.cases.by_reference(panel.id, g.HEARD_CASE)
        assert heard is not None
        actions = [a for a in await uow.actions.for_case(panel.id, heard.id)]
        open_ = [a for a in actions if a.status.value == "open"]
        later = NOW + timedelta(minutes=5)
        open_[0].escalate("ZQ-ESCALATION-NOTE", circumstances_changed=False, at=later)
        open_[1].cancel("ZQ-CANCEL-REASON", at=later)
        for action in open_[:2]:
            await uow.actions.save(action)
        await uow.commit()
    verb, data = cards.press(confidentiality, "Open the chair card")
    card = cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")))
    shown = [card]
    for _ in range(3):
        verb, data = cards.press(card, "Next")
        card = cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")))
        shown.append(card)
    assert card_text(card).startswith(f"Item 4 of 4: {g.HEARD_CASE}")
    # What the chat reads (posted there, or put over a message for everyone) shows neither;
    # Tom's own view of the card, which Teams shows to him alone, may (bot.kernel.views).
    said = json.dumps(bot.connector.to_conversation(MEETING_CHAT), ensure_ascii=False)
    said += json.dumps(bot.connector.updated, ensure_ascii=False)
    assert "ZQ-ESCALATION-NOTE" not in said and "ZQ-CANCEL-REASON" not in said
    assert "ZQ-CANCEL-REASON" in json.dumps(shown, ensure_ascii=False)
    # The same card in Tom's private chat does show them: the markers were planted.
    await g.post(bot, "chair", g.TOM)
    private = json.dumps(bot.connector.to_conversation(f"a:personal-{g.TOM}"))
    assert "ZQ-CANCEL-REASON" in private


# --- 11. channel pinning ---------------------------------------------------------------------


async def test_11_speaking_first_in_another_channel_does_not_pick_the_panels_channel(
    bot: BotUnderTest,
) -> None:
    activity = g.channel_message(bot.service_url, "help", aad=g.STRANGER, name="Sam")
    activity["conversation"]["id"] = f"{OTHER_CHANNEL};messageid=1700000000009"
    activity["channelData"]["channel"] = {"id": OTHER_CHANNEL, "name": "Off topic"}
    await bot.post(activity)
    panel = await g.demo_panel(bot.storage)
    assert panel.channel_id != OTHER_CHANNEL


async def test_11_setup_keeps_the_channels_reference_at_once(bot: BotUnderTest) -> None:
    await bot.post(
        g.channel_message(
            bot.service_url, "setup Eastborough", aad=ADMIN, name="Ada", team="19:e@thread.tacv2"
        )
    )
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team("19:e@thread.tacv2")
        assert panel is not None
        ref = await uow.conversations.by_conversation(panel.id, "19:e@thread.tacv2")
    assert panel.channel_id == "19:e@thread.tacv2"
    assert ref is not None and ref.kind is ConversationKind.CHANNEL
    assert ref.reference["conversation"]["id"] == "19:e@thread.tacv2"


def test_7_a_closure_note_is_shown_in_private_only() -> None:
    """The chair card's decision line: a closed case's note is narrative (kept from shared
    chats); the reason's label is not."""
    from zoneinfo import ZoneInfo

    from bot.domain.case import Case, CaseStatus, ClosureReason
    from bot.domain.meeting import Meeting
    from bot.features.meetings.views import decision_line as _decision

    note = "ZQX-CLOSURE-NOTE moved to her sister's in Leeds"
    case = Case(
        panel_id="p",
        reference="CM-2026-090",
        status=CaseStatus.CLOSED,
        closure_reason=ClosureReason.CONCERNS_REDUCED,
        closure_note=note,
        opened_at=NOW,
        closed_at=NOW,
    )
    meeting = Meeting(
        panel_id="p",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=2),
        referral_deadline=NOW - timedelta(days=8),
    )
    zone = ZoneInfo("Europe/London")
    shared = _decision(case, meeting, {}, zone, private=False)
    assert shared.startswith("Closed: ") and "ZQX-CLOSURE-NOTE" not in shared
    assert "ZQX-CLOSURE-NOTE" in _decision(case, meeting, {}, zone, private=True)
