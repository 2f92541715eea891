"""SPOC action cards through the real app: real Teams activity JSON in, the fake connector out.

The demo panel (bot.demo): Gemma Hartley is Housing's SPOC, Daniel Reyes its deputy
(who accepted only version 1 of the agreement), Priya Raman the coordinator, Tom Okafor the
chair and the police SPOC. Housing owns one open action on CM-2026-013; Adult Social Care,
which has no SPOC, one overdue action.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.app import make_deps
from bot.domain.action import Action, ActionStatus
from bot.domain.audit import AuditVerb
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.panel import IsaAcceptance
from bot.features.actions import copies, reminders
from cards.actions import CANT_BUTTON, DONE_BUTTON, MARK_DONE, SAVE_UPDATE, SEND_CANT, UPDATE_BUTTON
from cards.isa import ACCEPT_AND_CONTINUE
from cards.kit import card_text, teams_findings
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.common import FixedClock

HOUSING = "Riverside Homes (Housing)"
HEARD = g.HEARD_CASE  # CM-2026-013: Housing's open action is on it


async def housing_action(bot: BotUnderTest) -> Action:
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        (action,) = await uow.actions.open_for_agency(gemma.panel_id, gemma.agency_id or "")
    return action


async def press(
    bot: BotUnderTest, card: dict[str, Any], title: str, aad: str, **typed: str
) -> dict[str, Any]:
    """Click the Execute button `title` on `card` as `aad`, with what they typed."""
    found = cards.button(card, title)
    return await g.invoke(bot, found["verb"], {**found["data"], **typed}, aad=aad)


async def queued(bot: BotUnderTest) -> list[OutgoingDelivery]:
    async with bot.storage.unit_of_work() as uow:
        return await uow.outbox.due(NOW + timedelta(days=365), 1000)


async def accept_agreement(bot: BotUnderTest, aad: str) -> None:
    member = await g.member_of(bot.storage, aad)
    async with bot.storage.unit_of_work() as uow:
        await uow.isa.save(
            IsaAcceptance(
                panel_id=member.panel_id, member_id=member.id, version="2", accepted_at=NOW
            )
        )
        await uow.commit()


async def test_the_spoc_sees_her_agencys_open_action_with_its_three_buttons(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "actions", g.GEMMA)
    card = bot.last_card()
    text = card_text(card)
    assert teams_findings(card) == []
    assert f"Open actions of {HOUSING}" in text
    assert f"**{HEARD}** · due in 17 days" in text
    assert "Visit Mrs Ellison and fit a door camera" in text
    assert "Camera ordered; fitting booked." in text
    shown = [b["title"] for b in cards.actions(card, "Action.ShowCard")]
    assert shown == [DONE_BUTTON, UPDATE_BUTTON, CANT_BUTTON]
    action = await housing_action(bot)
    async with bot.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(action.panel_id, "action", action.id)
    assert [(e.verb, e.detail) for e in trail] == [(AuditVerb.VIEW, "actions")]


async def test_an_update_then_done_show_in_place_and_actions_reflects_it(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "actions", g.GEMMA)
    listed = bot.last_card()
    body = await press(bot, listed, SAVE_UPDATE, g.GEMMA, **{"update-0": "Camera fitted today."})
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    shown = cards.text(body)
    assert f"{HEARD}: Update saved." in shown
    assert "Latest: Fri 20 Nov 2026 · Gemma Hartley: Camera fitted today." in shown
    done = await press(
        bot, body["value"], MARK_DONE, g.GEMMA, **{"note-0": "Tenant says she feels safer."}
    )
    assert f"{HEARD}: Marked done. Thank you." in cards.text(done)
    assert f"{HOUSING} has no open actions." in cards.text(done)
    assert f"**{HEARD}** · Done on Fri 20 Nov 2026" in cards.text(done)
    assert "Gemma Hartley: Tenant says she feels safer." in cards.text(done)
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        (action,) = [
            a
            for a in await uow.actions.for_case(gemma.panel_id, (await housing_case(bot)))
            if a.owner_agency_id == gemma.agency_id
        ]
    assert action.status is ActionStatus.DONE
    assert [u.note for u in action.updates][-2:] == [
        "Camera fitted today.",
        "Tenant says she feels safer.",
    ]
    await g.post(bot, "actions", g.GEMMA)
    assert f"{HOUSING} has no open actions." in card_text(bot.last_card())
    # The finished work stays to be seen: `actions done`, with what became of each.
    await g.post(bot, "actions done", g.GEMMA)
    finished = card_text(bot.last_card())
    assert f"Finished actions of {HOUSING}" in finished
    assert f"**{HEARD}** · Done on Fri 20 Nov 2026" in finished
    assert not cards.buttons(bot.last_card())  # closed: nothing to click
    async with bot.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(gemma.panel_id, "action", action.id)
    assert any(e.verb is AuditVerb.VIEW and e.detail == "finished actions" for e in trail)


async def housing_case(bot: BotUnderTest) -> str:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, HEARD)
    assert case is not None
    return case.id


async def test_a_click_delivered_twice_or_pressed_twice_saves_once(bot: BotUnderTest) -> None:
    await g.post(bot, "actions", g.GEMMA)
    listed = bot.last_card()
    save = cards.button(listed, SAVE_UPDATE)
    data = {**save["data"], "update-0": "Letter sent."}
    click = acts.card_invoke(
        bot.service_url, save["verb"], data, aad=g.GEMMA, name="Gemma", activity_id="click-1"
    )
    first = await (await bot.post(click)).json()
    again = await (await bot.post(click)).json()  # Teams delivers the same activity again
    assert "Update saved." in cards.text(first)
    assert again["value"] == "I have already dealt with that."
    other = await g.invoke(bot, save["verb"], data, aad=g.GEMMA)  # a second press, same card
    assert "already saved from this card" in cards.text(other)
    action = await housing_action(bot)
    assert [u.note for u in action.updates].count("Letter sent.") == 1


async def test_another_agency_may_not_change_the_action_and_is_refused_on_the_record(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "actions", g.GEMMA)
    listed = bot.last_card()
    body = await press(bot, listed, MARK_DONE, g.TOM, **{"note-0": "Done by the police."})
    assert cards.text(body) == (
        "This action belongs to another agency: only its SPOC or deputy can change it."
    )
    action = await housing_action(bot)
    assert action.status is ActionStatus.OPEN
    async with bot.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(action.panel_id, "action", action.id)
    assert trail[-1].verb is AuditVerb.REFUSE
    assert trail[-1].detail == "update_action: need_to_know"
    tom = await g.member_of(bot.storage, g.TOM)
    assert trail[-1].actor_member_id == tom.id


async def test_cant_do_this_goes_to_the_coordinator_as_a_card(bot: BotUnderTest) -> None:
    await g.post(bot, "help", g.PRIYA)  # the coordinator's chat with the bot
    await g.post(bot, "actions", g.GEMMA)
    listed = bot.last_card()
    body = await press(
        bot, listed, SEND_CANT, g.GEMMA, **{"reason-0": "The tenant moved out last week."}
    )
    assert "Sent to the coordinator" in cards.text(body)
    assert (await housing_action(bot)).status is ActionStatus.OPEN
    before = len(bot.connector.sent)
    await bot.deliver()
    (notice,) = [
        a for a in bot.connector.sent[before:] if a["_conversation"] == f"a:personal-{g.PRIYA}"
    ]
    card = notice["attachments"][0]["content"]
    text = card_text(card)
    assert f"{HOUSING} can't do an action for {HEARD}" in text
    assert "The tenant moved out last week." in text
    assert "Gemma Hartley on Fri 20 Nov 2026" in text
    assert teams_findings(card) == []


async def test_the_deputy_accepts_the_agreement_before_he_sees_the_actions(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "actions", g.DANIEL)
    card = bot.last_card()
    text = card_text(card)
    assert "Information sharing agreement" in text
    assert "Visit Mrs Ellison" not in text
    accept = cards.button(card, ACCEPT_AND_CONTINUE)
    body = await g.invoke(bot, accept["verb"], accept["data"], aad=g.DANIEL)
    shown = cards.text(body)
    assert f"Open actions of {HOUSING}" in shown
    assert "Visit Mrs Ellison" in shown
    # he may act on it: he is Housing's deputy
    saved = await press(bot, body["value"], SAVE_UPDATE, g.DANIEL, **{"update-0": "Called."})
    assert "Update saved." in cards.text(saved)


async def test_away_sends_the_agencys_cards_to_the_deputy_and_back_ends_it(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "away until 2026-12-24", g.GEMMA)
    assert bot.last_text() == (
        "You are away until Thu 24 Dec 2026. Daniel Reyes receives Riverside Homes (Housing)'s "
        "action cards and reminders until then. Type back to end it sooner."
    )
    gemma = await g.member_of(bot.storage, g.GEMMA)
    assert gemma.away_until == date(2026, 12, 24)
    daniel = await g.member_of(bot.storage, g.DANIEL)
    (handover,) = [d for d in await queued(bot) if d.key.startswith("handover:")]
    assert handover.recipient_member_id == daniel.id
    # Daniel has not accepted the current agreement: he is asked to first
    assert "Information sharing agreement" in cards.text(handover)
    assert "Visit Mrs Ellison" not in cards.text(handover)
    # a new action goes to the deputy now
    action = await housing_action(bot)
    panel = await g.demo_panel(bot.storage)
    new = Action(
        panel_id=panel.id,
        case_id=action.case_id,
        owner_agency_id=action.owner_agency_id,
        description="Check the door entry system.",
        due_on=date(2026, 12, 7),
        created_at=NOW,
    )
    async with bot.storage.unit_of_work() as uow:
        await uow.actions.save(new)
        assert await copies.send_new_action_cards(uow, panel, [new], NOW) == 1
        await uow.commit()
    (card,) = [d for d in await queued(bot) if d.key.startswith(f"action-assigned:{new.id}")]
    assert card.recipient_member_id == daniel.id
    await g.post(bot, "back", g.GEMMA)
    assert bot.last_text() == "Welcome back: Gemma Hartley receives the agency's cards again."
    assert (await g.member_of(bot.storage, g.GEMMA)).away_until is None


async def test_the_coordinator_may_say_someone_is_away_and_nobody_else_may(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, "away gemma hartley until 2026-12-01", g.PRIYA)
    assert bot.last_text().startswith("Gemma Hartley is away until Tue 1 Dec 2026.")
    await g.post(bot, "away Gemma Hartley until 2026-12-02", g.DANIEL)
    assert bot.last_text() == "Only the panel's coordinators can say someone else is away."
    await g.post(bot, "away until 2026-11-01", g.GEMMA)
    assert bot.last_text() == "That date has passed: give the last day you are away."
    await g.post(bot, "away next week", g.GEMMA)
    assert "Write it as: away until 2026-12-24" in bot.last_text()
    await g.post(bot, "away until 2026-12-24", g.AISHA)
    assert bot.last_text() == (
        "Only the panel's coordinators, SPOCs and deputies can hand an agency's cards to its "
        "deputy while its SPOC is away."
    )
    assert (await g.last_refusal(bot.storage, g.AISHA)).detail == "set_away: role"


async def test_the_coordinator_names_an_agency_by_a_word_of_its_name(bot: BotUnderTest) -> None:
    await g.post(bot, "actions housing", g.PRIYA)
    card = bot.last_card()
    assert f"Open actions of {HOUSING}" in card_text(card)
    assert cards.actions(card) == []  # read only: no button of any kind
    await g.post(bot, "actions riverside", g.PRIYA)
    assert bot.last_text().startswith("'riverside' could be ")
    assert "Riverside Police" in bot.last_text()
    await g.post(bot, "actions Probation", g.PRIYA)
    assert bot.last_text() == ("No agency of this panel is called 'Probation'. Type agencies.")
    await g.post(bot, "actions Police", g.GEMMA)
    assert bot.last_text().startswith("Only the panel's coordinators and chairs can see")
    await g.post(bot, "actions", g.PRIYA)
    assert "Adult Social Care: 1 open, 1 overdue" in bot.last_text()
    assert f"{HOUSING}: 1 open, 0 overdue" in bot.last_text()


async def test_overdue_lists_every_overdue_action_by_agency(bot: BotUnderTest) -> None:
    await g.post(bot, "overdue", g.PRIYA)
    card = bot.last_card()
    text = card_text(card)
    assert "Overdue actions" in text
    assert "**Adult Social Care** (1)" in text
    assert "Complete a Care Act needs assessment." in text
    assert "overdue by 5 days" in text
    assert "Visit Mrs Ellison" not in text  # Housing's action is not overdue
    await g.post(bot, "overdue", g.GEMMA)
    assert bot.last_text() == (
        "Only the panel's coordinators and chairs can see every agency's actions."
    )
    assert (await g.last_refusal(bot.storage, g.GEMMA)).detail == "oversee_actions: role"


async def test_asked_in_the_channel_the_list_goes_to_the_private_chat(bot: BotUnderTest) -> None:
    await g.post(bot, "help", g.GEMMA)
    response = await bot.post(
        acts.channel_message(bot.service_url, "actions", aad=g.GEMMA, name="Gemma Hartley")
    )
    assert response.status in (200, 201)
    assert bot.last_text() == "I've sent you the details in private."
    await bot.deliver()
    private = bot.connector.to_conversation(f"a:personal-{g.GEMMA}")
    assert f"Open actions of {HOUSING}" in cards.text(private[-1])


async def test_the_card_updates_in_place_and_every_other_copy_is_updated_too(
    bot: BotUnderTest,
) -> None:
    # Gemma and Daniel have talked to the bot; Daniel accepted the current agreement.
    await g.post(bot, "help", g.GEMMA)
    await g.post(bot, "help", g.DANIEL)
    await accept_agreement(bot, g.DANIEL)
    panel = await g.demo_panel(bot.storage)
    demo = await housing_action(bot)
    action = Action(
        panel_id=panel.id,
        case_id=demo.case_id,
        owner_agency_id=demo.owner_agency_id,
        description="Check the door entry system.",
        due_on=date(2026, 12, 7),
        set_by_member_id=(await g.member_of(bot.storage, g.PRIYA)).id,
        created_at=NOW,
    )
    # The chair records the action: its card reaches Gemma.
    async with bot.storage.unit_of_work() as uow:
        await uow.actions.save(action)
        assert await copies.send_new_action_cards(uow, panel, [action], NOW) == 1
        await uow.commit()
    await bot.deliver()
    to_gemma = bot.connector.to_conversation(f"a:personal-{g.GEMMA}")[-1]
    assert f"New action for {HEARD}" in cards.text(to_gemma)
    (first,) = await sent_rows(bot, action)
    assert first.activity_id is not None and first.activity_id.startswith("reply-")
    assert first.conversation_id == f"a:personal-{g.GEMMA}"
    # She goes away; the meeting carries the action forward: her card shows the new date
    # (updated in place) and Daniel, who stands in, gets a card of his own.
    await g.post(bot, "away until 2026-12-24", g.GEMMA)
    action.carry_forward(date(2026, 12, 14), circumstances_changed=True, at=NOW)
    async with bot.storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await copies.action_changed(
            uow, panel, action, NOW, what="carried forward to Mon 14 Dec 2026"
        )
        await uow.commit()
    await bot.deliver()
    (carried,) = bot.connector.updated
    assert carried["conversation"]["id"] == f"a:personal-{g.GEMMA}"
    assert carried["id"] == first.activity_id
    assert "Mon 14 Dec 2026" in cards.text(carried)
    to_daniel = bot.connector.to_conversation(f"a:personal-{g.DANIEL}")[-1]
    daniels_card = to_daniel["attachments"][0]["content"]
    assert "Changed at the panel meeting: carried forward to Mon 14 Dec 2026" in card_text(
        daniels_card
    )
    # Daniel answers on his card: it changes in place, and Gemma's copy is replaced
    # through the connector (a PUT), not sent again.
    body = await press(
        bot, daniels_card, SAVE_UPDATE, g.DANIEL, **{"update-0": "Engineer booked for Monday."}
    )
    assert "Update saved." in cards.text(body)
    assert "Engineer booked for Monday." in cards.text(body)
    sent_before = len(bot.connector.sent)
    await bot.deliver()
    assert len(bot.connector.sent) == sent_before
    put = bot.connector.updated[-1]
    assert (put["conversation"]["id"], put["id"]) == (f"a:personal-{g.GEMMA}", first.activity_id)
    replaced = put["attachments"][0]["content"]
    assert "Engineer booked for Monday." in card_text(replaced)
    assert f"New action for {HEARD}" in card_text(replaced)
    assert teams_findings(replaced) == []
    # Back at work, Gemma marks it done on her (updated) card: Daniel's copy follows.
    await g.post(bot, "back", g.GEMMA)
    done = await press(bot, replaced, MARK_DONE, g.GEMMA, **{"note-0": "Fixed."})
    assert "Marked done. Thank you." in cards.text(done)
    updates_before = len(bot.connector.updated)
    await bot.deliver()
    (followed,) = bot.connector.updated[updates_before:]
    assert followed["conversation"]["id"] == f"a:personal-{g.DANIEL}"
    last = followed["attachments"][0]["content"]
    assert "Done on Fri 20 Nov 2026" in card_text(last)
    assert cards.actions(last, "Action.ShowCard") == []  # done: no buttons any more


async def sent_rows(bot: BotUnderTest, action: Action) -> list[OutgoingDelivery]:
    """The sent outbox rows that carried the action's card (with their activity ids)."""
    async with bot.storage.unit_of_work() as uow:
        rows = await uow.actions.card_deliveries(action.panel_id, action.id)
    return [r for r in rows if r.state is DeliveryState.SENT]


async def test_a_reminder_opens_the_information_request_it_names(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    await g.post(bot, "help", g.GEMMA)
    clock.advance(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # the requests are due today
    report = await reminders.run_due(make_deps(uow=bot.storage.unit_of_work, clock=clock))
    assert report.cards >= 1
    await bot.deliver()
    digest = bot.connector.to_conversation(f"a:personal-{g.GEMMA}")[-1]["attachments"][0]
    card = digest["content"]
    assert "Reminders for Riverside Homes (Housing)" in card_text(card)
    assert f"{g.CASE} · answer by Mon 30 Nov 2026 (due today)" in card_text(card)
    answer = cards.button(card, f"Answer {g.CASE}")
    await bot.post(
        acts.personal_message(bot.service_url, "", aad=g.GEMMA, name="Gemma", value=answer["data"])
    )
    assert f"Information request for {g.CASE}" in card_text(bot.last_card())


async def test_the_coordinator_reads_the_reminder_schedule(bot: BotUnderTest) -> None:
    await g.post(bot, "reminders", g.PRIYA)
    assert "one status request per agency" in bot.last_text()
    assert "between 08:00 and 18:00, Monday to Friday, never on bank holidays" in bot.last_text()
    await g.post(bot, "reminders", g.GEMMA)
    assert bot.last_text() == "Only the panel's coordinators can see and set the reminders."
    assert (await g.last_refusal(bot.storage, g.GEMMA)).detail == "manage_reminders: role"
