"""What the chair decides about an unmet action reaches its agency's SPOC, through the real
app: Teams activity JSON in, cards out, on SQLite.

The demo panel. At the meeting of Tue 8 Dec 2026, Tom Okafor (chair) agrees an action for
Riverside Homes (Housing) in the meeting's chat; Gemma Hartley, the housing SPOC, gets its
card in private. It is not done by the next meeting, Tue 12 Jan 2027 (a chat of its own),
where Tom carries it forward, escalates it or cancels it from the unmet actions item. The
meetings feature publishes the change (ActionChanged); the actions feature, which owns the
SPOC's card, updates Gemma's card in place (an outbox row that names the one it replaces)
and sends her a card saying what changed at the meeting.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cards.kit import Card, card_text
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import group_invoke, group_message
from tests.support.world import AAD

if TYPE_CHECKING:
    from bot.domain.action import Action
    from bot.domain.common import FixedClock
    from bot.domain.delivery import OutgoingDelivery
    from tests.conftest import BotUnderTest

DECEMBER = datetime(2026, 12, 8, 10, 5, tzinfo=UTC)
JANUARY = datetime(2027, 1, 12, 10, 5, tzinfo=UTC)
# Each Teams meeting has a chat of its own.
CHATS = {
    DECEMBER: ("19:meeting_ZGVjZW1iZXItcGFuZWw@thread.v2", "MCMjZGVjZW1iZXI"),
    JANUARY: ("19:meeting_amFudWFyeS1wYW5lbA@thread.v2", "MCMjamFudWFyeQ"),
}
GEMMAS_CHAT = f"a:personal-{AAD['Gemma']}"
DESCRIPTION = "Fit a letterbox guard at the flat."
_ids = itertools.count(1)


def in_chat(activity: dict[str, Any], meeting: datetime) -> dict[str, Any]:
    """The activity, sent in that meeting's own chat."""
    chat, teams_meeting = CHATS[meeting]
    activity["conversation"]["id"] = chat
    activity["channelData"]["meeting"] = {"id": teams_meeting}
    return activity


async def say(bot: BotUnderTest, meeting: datetime, text: str) -> None:
    """Tom types in the meeting's chat."""
    await bot.post(in_chat(group_message(bot.service_url, text, who="Tom", meeting=True), meeting))


async def click(
    bot: BotUnderTest, meeting: datetime, card: Card, label: str, *, nth: int = 0, **typed: Any
) -> Card:
    """Tom clicks a button of a card in the meeting's chat; the card it is replaced by."""
    verb, data = cards.press(card, label, nth=nth, **typed)
    activity = group_invoke(bot.service_url, verb, data, who="Tom", activity_id=f"c-{next(_ids)}")
    return cards.card(await bot.invoke(in_chat(activity, meeting)))


async def chair_at(bot: BotUnderTest, meeting: datetime, title: str) -> Card:
    """Tom starts the meeting in its chat and walks the chair card to the item `title`."""
    await say(bot, meeting, "start")
    chat, _ = CHATS[meeting]
    confidentiality = bot.connector.to_conversation(chat)[-1]["attachments"][0]["content"]
    chair = await click(bot, meeting, confidentiality, "Open the chair card")
    while title not in card_text(chair).splitlines()[0]:
        chair = await click(bot, meeting, chair, "Next")
    return chair


async def housing(bot: BotUnderTest) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        gemma = await uow.members.by_aad(panel.id, AAD["Gemma"])
    assert gemma is not None and gemma.agency_id is not None
    return gemma.agency_id


async def agreed(bot: BotUnderTest) -> Action:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        case = await uow.cases.by_reference(panel.id, "CM-2026-014")
        assert case is not None
        (action,) = [a for a in await uow.actions.for_case(panel.id, case.id)]
    return action


async def first_card(bot: BotUnderTest, action: Action) -> OutgoingDelivery:
    """The outbox row that carried the action's first card, to its agency's SPOC."""
    async with bot.storage.unit_of_work() as uow:
        rows = await uow.actions.card_deliveries(action.panel_id, action.id)
    (first,) = [r for r in rows if r.key.startswith(f"action-assigned:{action.id}")]
    return first


async def queued(bot: BotUnderTest) -> list[OutgoingDelivery]:
    """What the outbox holds to send."""
    async with bot.storage.unit_of_work() as uow:
        return await uow.outbox.due(datetime(2030, 1, 1, tzinfo=UTC), 1000)


async def an_action_left_unmet(bot: BotUnderTest, clock: FixedClock) -> tuple[Action, Card]:
    """December's meeting agrees the action and Gemma gets its card; January's meeting
    reaches its unmet actions. The action, and the chair card at that item."""
    # Gemma uses the bot in private: her chat is known.
    gemma = acts.personal_message(
        bot.service_url, "actions", aad=AAD["Gemma"], name="Gemma Hartley"
    )
    assert (await bot.post(gemma)).status in (200, 201)
    clock.advance(DECEMBER)
    chair = await chair_at(bot, DECEMBER, "CM-2026-014")
    saved = await click(
        bot,
        DECEMBER,
        chair,
        "Save action",
        description=DESCRIPTION,
        owner_agency_id=await housing(bot),
    )
    assert "Action added for Riverside Homes (Housing), due Mon 11 Jan 2027" in card_text(saved)
    await say(bot, DECEMBER, "end")
    await bot.deliver()
    to_gemma = bot.connector.to_conversation(GEMMAS_CHAT)
    (first,) = [a for a in to_gemma if DESCRIPTION in card_text(a["attachments"][0]["content"])]
    assert "New action for CM-2026-014" in card_text(first["attachments"][0]["content"])

    clock.advance(JANUARY)
    chair = await chair_at(bot, JANUARY, "Unmet actions from earlier meetings")
    return await agreed(bot), chair


def nth_form_of(chair: Card, label: str, action: Action) -> int:
    """Which of the chair card's `label` buttons is the action's own."""
    buttons = [a for a in cards.actions(chair) if a.get("title") == label]
    return next(n for n, b in enumerate(buttons) if b["data"].get("action_id") == action.id)


async def the_change_reaches_gemma(bot: BotUnderTest, action: Action, notice: str) -> Card:
    """Gemma's first card of the action is replaced in place by one showing its new state,
    and she is told what changed at the meeting. Her updated card."""
    first = await first_card(bot, action)
    assert first.activity_id is not None and first.conversation_id == GEMMAS_CHAT
    (update,) = [r for r in await queued(bot) if r.update_of == first.id]
    assert update.recipient_member_id == first.recipient_member_id
    await bot.deliver()
    put = next(u for u in bot.connector.updated if u["id"] == first.activity_id)
    assert put["conversation"]["id"] == GEMMAS_CHAT
    updated = put["attachments"][0]["content"]
    assert "New action for CM-2026-014" in card_text(updated)
    told = card_text(bot.connector.to_conversation(GEMMAS_CHAT)[-1]["attachments"][0]["content"])
    assert f"Changed at the panel meeting: {notice}" in told
    assert DESCRIPTION in told
    return updated


async def test_an_action_carried_forward_at_the_next_meeting_shows_its_new_date_to_the_spoc(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    action, chair = await an_action_left_unmet(bot, clock)
    # The form offers the day before February's meeting.
    nth = nth_form_of(chair, "Carry forward", action)
    done = await click(
        bot, JANUARY, chair, "Carry forward", nth=nth, **{f"why-{nth}": "did_not_act"}
    )
    assert "Carried forward to Mon 8 Feb 2027." in card_text(done)
    updated = await the_change_reaches_gemma(bot, action, "Carried forward to Mon 8 Feb 2027")
    assert "Mon 8 Feb 2027" in card_text(updated)
    assert "Mon 11 Jan 2027" not in card_text(updated)


async def test_an_action_escalated_at_the_next_meeting_shows_as_escalated_to_the_spoc(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    action, chair = await an_action_left_unmet(bot, clock)
    nth = nth_form_of(chair, "Escalate", action)
    done = await click(
        bot,
        JANUARY,
        chair,
        "Escalate",
        nth=nth,
        **{f"escalation-{nth}": "To the housing manager", f"escalate_why-{nth}": "changed"},
    )
    assert "Escalated." in card_text(done)
    updated = await the_change_reaches_gemma(bot, action, "Escalated")
    assert "Open, escalated" in card_text(updated)


async def test_an_action_cancelled_at_the_next_meeting_shows_as_cancelled_to_the_spoc(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    action, chair = await an_action_left_unmet(bot, clock)
    nth = nth_form_of(chair, "Cancel the action", action)
    done = await click(
        bot,
        JANUARY,
        chair,
        "Cancel the action",
        nth=nth,
        **{f"cancel_reason-{nth}": "The tenant has moved away"},
    )
    assert "Action cancelled." in card_text(done)
    updated = await the_change_reaches_gemma(bot, action, "Cancelled")
    assert "Cancelled: The tenant has moved away" in card_text(updated)


async def test_a_refused_decision_tells_the_spoc_nothing(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    """Carried forward without saying why it was not met: the chair is asked again, and
    nothing reaches the SPOC (the change is told only once it is saved)."""
    action, chair = await an_action_left_unmet(bot, clock)
    nth = nth_form_of(chair, "Carry forward", action)
    refused = await click(bot, JANUARY, chair, "Carry forward", nth=nth)
    assert "Say whether circumstances changed or the agency did not act." in card_text(refused)
    assert await queued(bot) == []
    sent_before, updated_before = len(bot.connector.sent), len(bot.connector.updated)
    await bot.deliver()
    assert (len(bot.connector.sent), len(bot.connector.updated)) == (sent_before, updated_before)


async def test_the_risk_or_lead_set_after_an_action_was_agreed_reaches_the_spoc_s_card(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    """Gemma's card was sent when the action was agreed; the chair then sets the case's lead
    agency and risk level. Her card is updated in place with them (CaseChanged): no new
    card, nothing asked of her."""
    gemma = acts.personal_message(
        bot.service_url, "actions", aad=AAD["Gemma"], name="Gemma Hartley"
    )
    assert (await bot.post(gemma)).status in (200, 201)
    clock.advance(DECEMBER)
    chair = await chair_at(bot, DECEMBER, "CM-2026-014")
    chair = await click(
        bot,
        DECEMBER,
        chair,
        "Save action",
        description=DESCRIPTION,
        owner_agency_id=await housing(bot),
    )
    await bot.deliver()
    action = await agreed(bot)
    first = await first_card(bot, action)
    shown = card_text(bot.connector.to_conversation(GEMMAS_CHAT)[-1]["attachments"][0]["content"])
    assert "High" not in shown
    sent_before = len(bot.connector.to_conversation(GEMMAS_CHAT))

    chair = await click(bot, DECEMBER, chair, "Save risk level", risk_level="high")
    chair = await click(bot, DECEMBER, chair, "Save lead agency", lead_agency_id=await housing(bot))
    await bot.deliver()
    puts = [u for u in bot.connector.updated if u["id"] == first.activity_id]
    assert puts, "Gemma's card was not updated"
    latest = card_text(puts[-1]["attachments"][0]["content"])
    assert "High" in latest
    assert "Riverside Homes (Housing)" in latest
    assert len(bot.connector.to_conversation(GEMMAS_CHAT)) == sent_before  # no new card
