"""Each reader's own view of the meeting chat's cards (Universal Actions `refresh`), through
the real app: Teams activity JSON in, invoke responses and connector traffic out, on SQLite.

The demo panel on Fri 20 Nov 2026, the meeting chat of its December meeting. Tom Okafor
(chair) runs the meeting; Priya Raman (coordinator); Gemma Hartley (SPOC of a core agency,
Housing); Farah Quinn (invented here: SPOC of Riverside Fire and Rescue, an invited agency,
invited for CM-2026-014 only); Daniel Reyes (Housing's deputy, who accepted an older
agreement); Aisha Bello (a referrer); Sam Stranger (on no panel). Each one's client sends the
automatic refresh the shared card asks for, and each answer is searched for marker strings
typed into the cases' narratives.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.action import Action
from bot.domain.audit import AuditVerb
from bot.domain.gate import SubjectNames, judge
from bot.domain.panel import IsaAcceptance, Member, Role
from bot.kernel import views
from bot.kernel.channel_gate import shared_post
from bot.settings import Settings
from cards.kit import SHOW_MY_VIEW, Card, card_text
from cards.verbs import MEETING_KEY, VIEW_KEY, Verb
from tests.conftest import NOW
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.world import AAD

if TYPE_CHECKING:
    from bot.kernel.ports import Storage
    from tests.conftest import BotUnderTest

FARAH = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
# Marker strings typed into the narratives: none may reach a reader the policy keeps them from.
ON_14_ACTION = "ZQV-fourteen-action-door-camera"
ON_14_SUMMARY = "ZQV-fourteen-summary-threats"
ON_13_ACTION = "ZQV-thirteen-action-tenancy"
MARKERS = (ON_14_ACTION, ON_14_SUMMARY, ON_13_ACTION)
PEOPLE = {
    "Tom": (AAD["Tom"], "Tom Okafor"),
    "Priya": (AAD["Priya"], "Priya Raman"),
    "Gemma": (AAD["Gemma"], "Gemma Hartley"),
    "Daniel": (AAD["Daniel"], "Daniel Reyes"),
    "Aisha": (AAD["Aisha"], "Aisha Bello"),
    "Farah": (FARAH, "Farah Quinn"),
    "Sam": (AAD["Sam"], "Sam Stranger"),
}
_ids = itertools.count(1)


@pytest.fixture
def bot_settings() -> Settings:
    # Editing the clicked message for everyone, as with an app id in Teams (local mode, the
    # Agents Playground's, leaves it: it shows no user-specific views).
    return Settings(
        public_url="https://bot.example.org",
        ics_signing_secret="shared-views",
        shared_view_edits=True,
    )


async def _add_farah(storage: Storage) -> None:
    """An invited agency's SPOC, who accepted the current agreement."""
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        fire = next(a for a in await uow.agencies.all(panel.id) if "Fire" in a.name)
        member = Member(
            panel_id=panel.id,
            aad_object_id=FARAH,
            name="Farah Quinn",
            agency_id=fire.id,
            roles=frozenset({Role.SPOC}),
        )
        await uow.members.save(member)
        await uow.isa.save(
            IsaAcceptance(
                panel_id=panel.id,
                member_id=member.id,
                version=panel.isa_version,
                accepted_at=NOW - timedelta(days=3),
            )
        )
        await uow.commit()


def as_person(activity: dict[str, Any], who: str) -> dict[str, Any]:
    aad, name = PEOPLE[who]
    activity["from"] = {"id": f"29:{aad}", "aadObjectId": aad, "name": name}
    return activity


def click(verb: str, data: dict[str, Any], who: str, bot: BotUnderTest, **extra: Any) -> Any:
    activity = group_invoke(bot.service_url, verb, data, who="Tom")
    activity.update(extra)
    return bot.invoke(as_person(activity, who))


async def refresh(bot: BotUnderTest, card: Card, who: str) -> dict[str, Any]:
    """What `who`'s Teams client sends for a card's refresh, and the bot's answer."""
    action = card["refresh"]["action"]
    activity = group_invoke(bot.service_url, action["verb"], dict(action["data"]), who="Tom")
    activity["value"]["trigger"] = "automatic"
    activity["replyToId"] = f"msg-{next(_ids)}"
    return await bot.invoke(as_person(activity, who))


def said(body: dict[str, Any]) -> str:
    """Everything an invoke's answer shows."""
    if body.get("type") == "application/vnd.microsoft.card.adaptive":
        return card_text(body["value"])
    return str(body.get("value"))


def markers_in(text: str) -> set[str]:
    return {m for m in MARKERS if m in text}


def titles(card: Card) -> set[str]:
    """The buttons a person sees on a card (its refresh is no button)."""
    shown = {k: v for k, v in card.items() if k != "refresh"}
    return {b.get("title", "") for b in cards.buttons(shown)}


def buttons_of(body: dict[str, Any]) -> set[str]:
    return titles(body["value"])


async def open_the_meeting(bot: BotUnderTest) -> Card:
    """Everyone has talked to the bot in private (so Teams named them to it); Priya
    publishes the agenda; Tom starts the meeting in its chat. The statement posted there."""
    await _add_farah(bot.storage)
    for who in PEOPLE:
        aad, name = PEOPLE[who]
        await bot.post(acts.personal_message(bot.service_url, "whoami", aad=aad, name=name))
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    agenda = bot.connector.cards()[-1]
    verb, data = cards.press(agenda, "Publish agenda")
    await bot.invoke(acts.card_invoke(bot.service_url, verb, data))
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    posted = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    assert card_text(posted).startswith("Confidentiality statement")
    return posted


async def walk_to(bot: BotUnderTest, statement: Card, item: str) -> dict[str, Any]:
    """Tom opens the chair card and presses Next until the item's heading shows."""
    body = await click(*cards.press(statement, "Open the chair card"), "Tom", bot, replyToId="s")
    for _ in range(6):
        if card_text(body["value"]).startswith(item):
            return body
        body = await click(*cards.press(body["value"], "Next"), "Tom", bot, replyToId="msg-0")
    raise AssertionError(f"never reached {item}")


async def housing(bot: BotUnderTest) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        member = await uow.members.by_aad(panel.id, AAD["Gemma"])
    assert member is not None and member.agency_id is not None
    return member.agency_id


def last_edit(bot: BotUnderTest) -> Card:
    """The card the last edit put over a message of the meeting chat, for everyone."""
    assert bot.connector.updated, "no message was edited"
    content: Card = bot.connector.updated[-1]["attachments"][0]["content"]
    return content


async def test_each_reader_of_the_chair_card_sees_what_the_policy_allows(
    bot: BotUnderTest,
) -> None:
    statement = await open_the_meeting(bot)
    refresh_of = statement["refresh"]
    assert refresh_of["action"]["verb"] == Verb.VIEW_REFRESH.value
    # Everyone the card concerns, those who run the meeting first; not the referrer, who
    # may see no case, nor the stranger.
    assert refresh_of["userIds"][:2] == [f"29:{AAD['Priya']}", f"29:{AAD['Tom']}"]
    assert set(refresh_of["userIds"]) == {
        f"29:{PEOPLE[who][0]}" for who in ("Priya", "Tom", "Gemma", "Daniel", "Farah")
    }
    assert SHOW_MY_VIEW not in titles(statement)

    chair = await walk_to(bot, statement, "Item 3 of 4: CM-2026-014")
    verb, data = cards.press(
        chair["value"],
        "Save action",
        description=ON_14_ACTION,
        owner_agency_id=await housing(bot),
    )
    chair = await click(verb, data, "Tom", bot, replyToId="msg-0")
    verb, data = cards.press(chair["value"], "Save summary", summary=ON_14_SUMMARY)
    chair = await click(verb, data, "Tom", bot, replyToId="msg-0")
    # The clicker's own answer: the chair's controls, with every narrative.
    assert {"Next", "Back", "Save action"} <= buttons_of(chair)
    assert markers_in(said(chair)) == {ON_14_ACTION, ON_14_SUMMARY}
    # The message is edited for everyone: the base, with nothing of the narratives.
    base = last_edit(bot)
    assert card_text(base).startswith("Item 3 of 4: CM-2026-014 (new case)")
    assert markers_in(card_text(base)) == set()
    assert titles(base) == {"Open the chair card"}

    seen = {who: await refresh(bot, base, who) for who in PEOPLE}
    for who in ("Tom", "Priya"):
        assert markers_in(said(seen[who])) == {ON_14_ACTION, ON_14_SUMMARY}, who
        assert {"Next", "Save action", "Save summary"} <= buttons_of(seen[who]), who
    # A core agency's SPOC, and the invited agency's SPOC on the case it was invited for:
    # the case's narratives, and no control.
    for who in ("Gemma", "Farah"):
        assert markers_in(said(seen[who])) == {ON_14_ACTION, ON_14_SUMMARY}, who
        assert buttons_of(seen[who]) == set(), who
    # The deputy without the current agreement and the referrer: the base.
    for who in ("Daniel", "Aisha"):
        assert said(seen[who]) == card_text(base), who
        assert markers_in(said(seen[who])) == set(), who
        assert buttons_of(seen[who]) == {"Open the chair card"}, who
    # Someone on no panel: nothing more, and the card stays as it is.
    assert seen["Sam"]["type"] == "application/vnd.microsoft.activity.message"
    assert seen["Sam"]["value"] == views.NOTHING_MORE

    # The next case: the invited agency's SPOC sees only the base there.
    chair = await click(*cards.press(seen["Tom"]["value"], "Next"), "Tom", bot, replyToId="m")
    verb, data = cards.press(
        chair["value"], "Save action", description=ON_13_ACTION, owner_agency_id=await housing(bot)
    )
    await click(verb, data, "Tom", bot, replyToId="msg-0")
    base = last_edit(bot)
    assert card_text(base).startswith("Item 4 of 4: CM-2026-013 (review)")
    farah = await refresh(bot, base, "Farah")
    gemma = await refresh(bot, base, "Gemma")
    assert markers_in(said(farah)) == set()
    assert ON_13_ACTION in said(gemma)

    # Every case shown in full to a SPOC is in the audit trail as viewed.
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        events = await uow.audit.recent(panel.id, limit=500)
    viewed = [e for e in events if e.verb is AuditVerb.VIEW and e.detail == "shared view chair"]
    assert {e.actor_aad_object_id for e in viewed} >= {AAD["Gemma"], FARAH}
    assert all(e.entity == "case" for e in viewed)


def attention_lines(card: Card) -> list[str]:
    """The text blocks of a card drawn in the attention colour (Teams' red)."""
    return [
        node.get("text", "")
        for node in cards.walk(card)
        if node.get("type") == "TextBlock" and str(node.get("color")).lower() == "attention"
    ]


async def test_the_statement_tells_every_reader_the_meeting_moved_and_a_spoc_their_cases(
    bot: BotUnderTest,
) -> None:
    """The meeting started on another day than planned (Fri 20 Nov for Tue 8 Dec): what the
    meeting is, every reader is told, in their own view as on the base; a SPOC's own view
    adds the cases they will see in full, as information, not as a warning."""
    statement = await open_the_meeting(bot)
    moved = "Started on another day than planned (Tue 8 Dec 2026)."
    assert moved in card_text(statement)
    gemma = await refresh(bot, statement, "Gemma")
    aisha = await refresh(bot, statement, "Aisha")
    assert moved in said(gemma)
    assert moved in said(aisha)
    assert "Cases on the agenda you will see in full here: " in said(gemma)
    assert "you will see in full" not in said(aisha)
    assert "you will see in full" not in card_text(statement)
    assert attention_lines(gemma["value"]) == []


async def test_made_up_and_other_meetings_and_unknown_kinds_get_nothing_more(
    bot: BotUnderTest,
) -> None:
    statement = await open_the_meeting(bot)
    data = statement["refresh"]["action"]["data"]
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        later = [
            m
            for m in await uow.meetings.upcoming(panel.id, NOW, limit=6)
            if m.id != data[MEETING_KEY]
        ]
    asked = [
        {**data, MEETING_KEY: "4d0c1e2f-made-up"},
        {**data, MEETING_KEY: later[-1].id},  # a meeting of the panel, not started here
        {**data, VIEW_KEY: "no-such-view"},
        {VIEW_KEY: "chair"},
        {**data, MEETING_KEY: ["not", "an", "id"]},
    ]
    for sent in asked:
        for who in ("Tom", "Gemma"):
            body = await click(Verb.VIEW_REFRESH.value, sent, who, bot)
            assert body["value"] == views.NOTHING_MORE, (who, sent)


async def test_a_typed_chair_posts_only_the_base_and_the_base_passes_the_gate(
    bot: BotUnderTest,
) -> None:
    statement = await open_the_meeting(bot)
    chair = await walk_to(bot, statement, "Item 3 of 4: CM-2026-014")
    verb, data = cards.press(
        chair["value"], "Save action", description=ON_14_ACTION, owner_agency_id=await housing(bot)
    )
    await click(verb, data, "Tom", bot, replyToId="msg-0")
    await bot.deliver()
    await bot.post(group_message(bot.service_url, "chair", who="Tom", meeting=True))
    posted = [
        a["attachments"][0]["content"]
        for a in bot.connector.to_conversation(MEETING_CHAT)
        if a.get("attachments")
    ]
    everything = posted + [u["attachments"][0]["content"] for u in bot.connector.updated]
    names = await subject_names(bot.storage)
    for card in everything:
        assert markers_in(card_text(card)) == set()
        verdict = judge(shared_post(card, None), names, NOW.date())
        assert verdict.allowed, (card.get("fallbackText"), verdict.describe())
        assert card["refresh"]["action"]["verb"] == Verb.VIEW_REFRESH.value
    titles = [c["fallbackText"] for c in posted]
    assert "Action agreed for CM-2026-014" in titles
    assert titles[-1].startswith("Item 3 of 4: CM-2026-014")
    # The action agreed, as each reader's own view shows it.
    captured = next(c for c in posted if c["fallbackText"] == "Action agreed for CM-2026-014")
    assert ON_14_ACTION in said(await refresh(bot, captured, "Gemma"))
    assert ON_14_ACTION in said(await refresh(bot, captured, "Farah"))
    assert markers_in(said(await refresh(bot, captured, "Aisha"))) == set()


async def subject_names(storage: Storage) -> SubjectNames:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        return SubjectNames(await uow.referrals.subject_names(panel.id))


async def test_the_meeting_ended_card_shows_each_reader_the_actions_of_their_cases(
    bot: BotUnderTest,
) -> None:
    statement = await open_the_meeting(bot)
    chair = await walk_to(bot, statement, "Item 3 of 4: CM-2026-014")
    verb, data = cards.press(
        chair["value"], "Save action", description=ON_14_ACTION, owner_agency_id=await housing(bot)
    )
    chair = await click(verb, data, "Tom", bot, replyToId="msg-0")
    chair = await click(*cards.press(chair["value"], "Next"), "Tom", bot, replyToId="msg-0")
    ended = await click(*cards.press(chair["value"], "End the meeting"), "Tom", bot, replyToId="m")
    assert card_text(ended["value"]).startswith("Meeting ended")
    base = last_edit(bot)
    assert base["fallbackText"] == "Meeting ended"
    assert markers_in(card_text(base)) == set()
    assert ON_14_ACTION in said(await refresh(bot, base, "Gemma"))
    assert ON_14_ACTION in said(await refresh(bot, base, "Farah"))
    assert markers_in(said(await refresh(bot, base, "Daniel"))) == set()


ON_14_PLANTED = "ZQV-fourteen-open-action-before-the-meeting"
ON_13_DEMO = "Complete a Care Act needs assessment."


async def _plant_action_on_14(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        case = await uow.cases.by_reference(panel.id, "CM-2026-014")
        police = next(a for a in await uow.agencies.all(panel.id) if a.name == "Riverside Police")
        assert case is not None
        await uow.actions.save(
            Action(
                panel_id=panel.id,
                case_id=case.id,
                owner_agency_id=police.id,
                description=ON_14_PLANTED,
                due_on=NOW.date() + timedelta(days=10),
                created_at=NOW,
            )
        )
        await uow.commit()


def channel_refresh(bot: BotUnderTest, card: Card, who: str) -> Any:
    """`who`'s client refreshing a card posted in the team's channel."""
    aad, name = PEOPLE[who]
    message = acts.channel_message(bot.service_url, "", aad=aad, name=name)
    action = card["refresh"]["action"]
    message.pop("entities")
    message.pop("text")
    message.update(
        {
            "id": f"channel-invoke-{next(_ids)}",
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {
                "action": {
                    "type": "Action.Execute",
                    "verb": action["verb"],
                    "data": action["data"],
                },
                "trigger": "automatic",
            },
        }
    )
    return bot.invoke(message)


async def test_the_channels_agenda_announcement_shows_each_member_the_cases_they_may_see(
    bot: BotUnderTest,
) -> None:
    await _plant_action_on_14(bot.storage)
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    await _add_farah(bot.storage)
    for who in PEOPLE:
        aad, name = PEOPLE[who]
        await bot.post(acts.personal_message(bot.service_url, "whoami", aad=aad, name=name))
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    verb, data = cards.press(bot.connector.cards()[-1], "Publish agenda")
    await bot.invoke(acts.card_invoke(bot.service_url, verb, data))
    await bot.deliver()
    (posted,) = [
        a["attachments"][0]["content"]
        for a in bot.connector.to_conversation(acts.TEAM)
        if a.get("attachments")
        and a["attachments"][0]["content"]["fallbackText"].startswith("Agenda published")
    ]
    assert markers_in(card_text(posted)) == set() and ON_14_PLANTED not in card_text(posted)
    assert ON_13_DEMO not in card_text(posted)
    assert f"29:{FARAH}" in posted["refresh"]["userIds"]
    assert f"29:{AAD['Aisha']}" not in posted["refresh"]["userIds"]

    seen = {who: said(await channel_refresh(bot, posted, who)) for who in PEOPLE}
    for who in ("Priya", "Tom", "Gemma"):
        assert ON_14_PLANTED in seen[who] and ON_13_DEMO in seen[who], who
    # The invited agency: its own case only.
    assert ON_14_PLANTED in seen["Farah"] and ON_13_DEMO not in seen["Farah"]
    # The deputy without the current agreement, the referrer, someone on no panel: the base.
    for who in ("Daniel", "Aisha", "Sam"):
        assert ON_14_PLANTED not in seen[who] and ON_13_DEMO not in seen[who], who
        assert seen[who] == card_text(posted), who


async def test_a_member_is_named_in_the_refresh_once_they_have_talked_to_the_bot_anywhere(
    bot: BotUnderTest,
) -> None:
    """Nobody has written to the bot in private: Tom is named once he types start in the
    meeting's chat, Gemma once she acknowledges the statement there."""
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    verb, data = cards.press(bot.connector.cards()[-1], "Publish agenda")
    await bot.invoke(acts.card_invoke(bot.service_url, verb, data))
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    statement = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    named = statement["refresh"]["userIds"]
    assert f"29:{AAD['Tom']}" in named and f"29:{AAD['Gemma']}" not in named
    await click(*cards.press(statement, "I acknowledge"), "Gemma", bot)
    # The first item is the statement, no case: the chair card concerns those who run it.
    chair = await walk_to(bot, statement, "Item 1 of 4")
    assert f"29:{AAD['Gemma']}" not in last_edit(bot)["refresh"]["userIds"]
    for _ in range(2):
        chair = await click(*cards.press(chair["value"], "Next"), "Tom", bot, replyToId="s")
    assert last_edit(bot)["fallbackText"].startswith("Item 3 of 4: CM-2026-014")
    assert f"29:{AAD['Gemma']}" in last_edit(bot)["refresh"]["userIds"]
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        gemma = await uow.members.by_aad(panel.id, AAD["Gemma"])
    assert gemma is not None and gemma.teams_user_id == f"29:{AAD['Gemma']}"


async def test_the_agenda_typed_in_the_channel_shows_each_reader_their_own_cases(
    bot: BotUnderTest,
) -> None:
    await _plant_action_on_14(bot.storage)
    await _add_farah(bot.storage)
    for who in PEOPLE:
        aad, name = PEOPLE[who]
        await bot.post(acts.personal_message(bot.service_url, "whoami", aad=aad, name=name))
    await bot.post(acts.channel_message(bot.service_url, "agenda", aad=AAD["Gemma"], name="Gemma"))
    (posted,) = [
        a["attachments"][0]["content"]
        for a in bot.connector.sent
        if a["_conversation"].startswith(acts.TEAM) and a.get("attachments")
    ]
    assert posted["fallbackText"].startswith("Agenda for ")
    assert ON_14_PLANTED not in card_text(posted) and ON_13_DEMO not in card_text(posted)
    seen = {who: said(await channel_refresh(bot, posted, who)) for who in PEOPLE}
    assert ON_14_PLANTED in seen["Gemma"] and ON_13_DEMO in seen["Gemma"]
    assert ON_14_PLANTED in seen["Farah"] and ON_13_DEMO not in seen["Farah"]
    for who in ("Daniel", "Aisha", "Sam"):
        assert seen[who] == card_text(posted), who
