"""Running the meeting on the in-memory storage with the demo panel: Tom Okafor (chair,
police SPOC) starts the Tue 8 Dec 2026 meeting in its meeting chat on Fri 20 Nov 2026 (a
group chat or a channel would do). Every shared chat, the meeting's own included, is read by
everyone in it and shows no narrative; the chair card in a private chat shows it all. Its
agenda: 1 the confidentiality statement, 2 two unmet actions of CM-2026-013,
3 CM-2026-014 (new), 4 CM-2026-013 (review)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from bot.domain.action import ActionStatus, UpdateKind
from bot.domain.case import CaseStatus, ClosureReason
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidTransition, NotAllowed
from bot.domain.meeting import AgendaItemStatus, MeetingStatus
from bot.domain.risk import RiskLevel
from bot.features.meetings import meeting_run, views
from bot.kernel.router import Reply
from bot.kernel.views import SharedReply
from cards.kit import Card, card_text
from tests.support import cards
from tests.support.world import AAD, NOW, PERSONAL, World, conversation_of

GROUP = ConversationKind.MEETING  # the meeting's chat


async def started(world: World, kind: ConversationKind = GROUP) -> Card:
    """Tom starts the meeting in its chat (or another shared chat); the confidentiality
    card."""
    reply = await world.command("Tom", "start", kind)
    assert reply.card is not None
    return reply.card


async def chair_at(world: World, number: int, kind: ConversationKind = GROUP) -> Card:
    """Start (in this chat when it is a shared one, else in the meeting's chat), open the
    chair card here and press Next until item `number`: the chair's own card."""
    reply = await chair_reply_at(world, number, kind)
    assert reply.card is not None
    return reply.card


async def chair_reply_at(world: World, number: int, kind: ConversationKind = GROUP) -> Reply:
    card = await started(world, GROUP if kind is ConversationKind.PERSONAL else kind)
    reply = await world.click("Tom", *cards.press(card, "Open the chair card"), kind)
    for _ in range(number - 1):
        reply = await world.click("Tom", *cards.press(reply.card, "Next"), kind)
    assert reply.card is not None
    assert card_text(reply.card).startswith(f"Item {number} of ")
    return reply


def chat_sees(reply: Reply) -> Reply:
    """What everyone in a shared chat reads of a reply: a shared view's base (the chair's own
    view is shown to him alone, bot.kernel.views)."""
    if isinstance(reply, SharedReply):
        return Reply(text=reply.text, card=reply.shared)
    return reply


async def actions_of(world: World, reference: str) -> list[Any]:
    case = await world.case(reference)
    async with world.storage.unit_of_work() as uow:
        return await uow.actions.for_case(world.panel.id, case.id)


async def test_the_chair_starts_the_next_meeting_in_its_chat(world: World) -> None:
    card = await started(world)
    text = card_text(card)
    assert text.startswith("Confidentiality statement")
    assert "information sharing agreement (version 2)" in text
    assert "Started on another day than planned (Tue 8 Dec 2026)." in text
    assert "**Acknowledged by:** nobody yet" in text
    meeting = await world.next_meeting()
    items = await world.agenda(meeting)
    assert meeting.status is MeetingStatus.IN_PROGRESS
    assert (meeting.current_item_id, meeting.step) == (items[0].id, 0)
    assert meeting.started_at == NOW
    assert meeting.chat_conversation_id == conversation_of(GROUP, AAD["Tom"])
    assert len(items) == 4


async def test_starting_again_shows_the_card_and_restarts_nothing(world: World) -> None:
    await chair_at(world, 2)
    again = await world.command("Priya", "start", GROUP)
    assert "The meeting is under way already." in cards.text(again)
    meeting = await world.next_meeting()
    assert meeting.step == 1


async def test_start_is_for_the_chair_or_coordinator_in_a_meeting_chat(world: World) -> None:
    with pytest.raises(
        NotAllowed, match=r"^Only the panel's coordinators and chairs can start the panel meeting"
    ):
        await world.command("Gemma", "start", GROUP)
    assert (await world.next_meeting()).status is MeetingStatus.SCHEDULED
    with pytest.raises(NotAllowed, match="works in"):
        await world.command("Tom", "start", ConversationKind.PERSONAL)
    group = await world.command("Tom", "start", ConversationKind.GROUP_CHAT)
    assert "Confidentiality statement" in cards.text(group)


async def test_acknowledging_records_attendance_by_agency_once(world: World) -> None:
    card = await started(world)
    reply = await world.click("Gemma", *cards.press(card, "I acknowledge"), GROUP)
    text = cards.text(reply)
    assert "Thank you, Gemma Hartley: you are recorded as attending for Riverside Homes" in text
    assert "**Acknowledged by:** Riverside Homes (Housing) (1)" in text
    assert "I acknowledge" not in text
    world.clock.advance(NOW + timedelta(minutes=1))
    await world.click("Gemma", *cards.press(card, "I acknowledge"), GROUP)
    await world.click("Tom", *cards.press(card, "I acknowledge"), GROUP)
    meeting = await world.next_meeting()
    async with world.storage.unit_of_work() as uow:
        present = await uow.meetings.attendance(world.panel.id, meeting.id)
    gemma, tom = await world.member("Gemma"), await world.member("Tom")
    assert [(a.member_id, a.agency_id) for a in present] == [
        (gemma.id, gemma.agency_id),
        (tom.id, tom.agency_id),
    ]


async def test_a_member_on_an_old_agreement_accepts_it_before_attending(world: World) -> None:
    card = await started(world)
    prompt = await world.click("Daniel", *cards.press(card, "I acknowledge"), GROUP)
    assert cards.text(prompt).startswith("Accept the information sharing agreement first")
    assert "you accepted version 1; the panel now shares information under version 2" in (
        cards.text(prompt)
    )
    meeting = await world.next_meeting()
    async with world.storage.unit_of_work() as uow:
        assert await uow.meetings.attendance(world.panel.id, meeting.id) == []
    reply = await world.click("Daniel", *cards.press(prompt.card, "Accept the agreement"), GROUP)
    assert "you accepted version 2 of the agreement" in cards.text(reply)
    daniel = await world.member("Daniel")
    async with world.storage.unit_of_work() as uow:
        latest = await uow.isa.latest(world.panel.id, daniel.id)
        present = await uow.meetings.attendance(world.panel.id, meeting.id)
    assert latest is not None and latest.version == "2"
    assert [a.member_id for a in present] == [daniel.id]


async def test_someone_on_no_panel_cannot_acknowledge(world: World) -> None:
    card = await started(world)
    with pytest.raises(NotAllowed, match=r"^This is for members of the panel"):
        await world.click("Sam", *cards.press(card, "I acknowledge"), GROUP)
    meeting = await world.next_meeting()
    async with world.storage.unit_of_work() as uow:
        assert await uow.meetings.attendance(world.panel.id, meeting.id) == []


async def test_next_and_back_walk_the_agenda_and_the_chair_card_resumes_there(
    world: World,
) -> None:
    card = await chair_at(world, 3)
    assert card_text(card).startswith("Item 3 of 4: CM-2026-014 (new case)")
    back = await world.click("Tom", *cards.press(card, "Back"), GROUP)
    assert cards.text(back).startswith("Item 2 of 4: Unmet actions from earlier meetings")
    resumed = await world.command("Priya", "chair", GROUP)
    assert cards.text(resumed).startswith("Item 2 of 4")
    items = await world.agenda()
    # items left with Next count as discussed; Back leaves the item it left pending
    assert [i.status for i in items] == [
        AgendaItemStatus.DISCUSSED,
        AgendaItemStatus.DISCUSSED,
        AgendaItemStatus.PENDING,
        AgendaItemStatus.PENDING,
    ]


async def test_a_repeated_or_simultaneous_next_never_skips_an_item(world: World) -> None:
    card = await chair_at(world, 2)
    verb, data = cards.press(card, "Next")
    first = await world.click("Tom", verb, data, GROUP)
    repeat = await world.click("Tom", verb, data, GROUP)
    assert cards.text(first).startswith("Item 3 of 4")
    assert cards.text(repeat).startswith("Item 3 of 4")
    assert "The meeting had moved on from that card" in cards.text(repeat)

    verb, data = cards.press(first.card, "Next")
    both = await asyncio.gather(
        world.click("Tom", verb, data, GROUP), world.click("Priya", verb, data, GROUP)
    )
    assert sorted(cards.text(r)[:11] for r in both) == ["Item 4 of 4", "Item 4 of 4"]
    assert sum("moved on" in cards.text(r) for r in both) == 1
    assert (await world.next_meeting()).step == 3


async def test_capturing_an_action_hands_it_to_the_owner_once(world: World) -> None:
    card = await chair_at(world, 3)
    housing = await world.member("Gemma")
    verb, data = cards.press(
        card,
        "Save action",
        description="Fit a door camera and a letterbox guard.",
        owner_agency_id=housing.agency_id,
    )
    assert data["due_on"] == "2027-01-11"  # the day before the January meeting
    reply = await world.click("Tom", verb, data, GROUP)
    assert "Action added for Riverside Homes (Housing), due Mon 11 Jan 2027" in cards.text(reply)
    # The meeting's chat is shared: the agency and date, not what was agreed; the chair's own
    # view (his alone) shows it.
    assert f"Riverside Homes (Housing): {views.PRIVATE_ONLY} — due" in cards.text(chat_sees(reply))
    assert "door camera" not in cards.text(chat_sees(reply))
    assert "Fit a door camera and a letterbox guard. — due" in cards.text(reply)
    again = await world.click("Tom", verb, data, GROUP)
    assert "already saved from this card" in cards.text(again)
    (action,) = await actions_of(world, "CM-2026-014")
    meeting = await world.next_meeting()
    assert (action.owner_agency_id, action.due_on, action.meeting_id, action.description) == (
        housing.agency_id,
        date(2027, 1, 11),
        meeting.id,
        "Fit a door camera and a letterbox guard.",
    )
    in_private = await world.command("Tom", "chair")
    assert "Riverside Homes (Housing): Fit a door camera and a letterbox guard. — due" in (
        cards.text(in_private)
    )
    assert (await world.case("CM-2026-014")).status is CaseStatus.HEARD
    (card_for_owner,) = [d for d in await world.queued() if d.key.startswith("action-assigned:")]
    assert card_for_owner.recipient_member_id == housing.id
    assert "New action for CM-2026-014" in card_text(card_for_owner.payload["card"])


async def test_two_people_saving_the_same_form_at_once_add_one_action(world: World) -> None:
    card = await chair_at(world, 3)
    police = (await world.member("Tom")).agency_id
    verb, data = cards.press(
        card, "Save action", description="Visit the household.", owner_agency_id=police
    )
    replies = await asyncio.gather(
        world.click("Tom", verb, data, GROUP), world.click("Priya", verb, data, GROUP)
    )
    assert len(await actions_of(world, "CM-2026-014")) == 1
    assert sum("already saved" in cards.text(r) for r in replies) == 1
    fresh = next(r for r in replies if "Action added" in cards.text(r))
    verb, data = cards.press(
        fresh.card, "Save action", description="Check on the children.", owner_agency_id=police
    )
    await world.click("Tom", verb, data, GROUP)
    assert len(await actions_of(world, "CM-2026-014")) == 2


async def test_the_deputy_gets_the_action_while_the_spoc_is_away(world: World) -> None:
    gemma = await world.member("Gemma")
    gemma.away_until = date(2026, 12, 1)
    await world.save(gemma)
    card = await chair_at(world, 3)
    verb, data = cards.press(
        card, "Save action", description="Visit.", owner_agency_id=gemma.agency_id
    )
    await world.click("Tom", verb, data, GROUP)
    (delivery,) = [d for d in await world.queued() if d.key.startswith("action-assigned:")]
    assert delivery.recipient_member_id == (await world.member("Daniel")).id


async def test_a_refused_action_keeps_what_was_typed(world: World) -> None:
    card = await chair_at(world, 3, ConversationKind.PERSONAL)
    verb, data = cards.press(
        card, "Save action", description="Refer to Early Help.", owner_agency_id="nonsense"
    )
    shared = await world.click("Tom", verb, data, GROUP)
    assert "Choose an agency from the list." in cards.text(shared)
    # free text: never in what the shared chat reads, only in the chair's own view
    assert "Refer to Early Help." not in cards.text(chat_sees(shared))
    assert "Refer to Early Help." in cards.text(shared)
    reply = await world.click("Tom", verb, data)
    assert "Choose an agency from the list." in cards.text(reply)
    assert "Refer to Early Help." in cards.text(reply)
    assert await actions_of(world, "CM-2026-014") == []
    verb, data = cards.press(
        reply.card,
        "Save action",
        description="Refer to Early Help.",
        owner_agency_id=(await world.member("Gemma")).agency_id,
        due_on="2026-12-01",
    )
    assert "The due date is before the meeting." in cards.text(await world.click("Tom", verb, data))


async def test_the_chair_nominates_the_lead_sets_the_risk_and_a_review_meeting(
    world: World,
) -> None:
    card = await chair_at(world, 3)
    housing = (await world.member("Gemma")).agency_id
    reply = await world.click(
        "Tom",
        *cards.press(
            card, "Save lead agency", lead_agency_id=housing, lead_officer="Gemma Hartley"
        ),
        GROUP,
    )
    assert "Lead agency for CM-2026-014: Riverside Homes (Housing)." in cards.text(reply)
    reply = await world.click("Tom", *cards.press(reply.card, "Save risk level", risk_level="high"))
    assert "Risk level of CM-2026-014: High." in cards.text(reply)
    january = [m for m in await world.meetings() if m.starts_at > NOW][1]
    reply = await world.click(
        "Tom", *cards.press(reply.card, "Set the review meeting", review_meeting_id=january.id)
    )
    assert "CM-2026-014 is reviewed at the meeting on Tue 12 Jan 2027." in cards.text(reply)
    assert "Review at the meeting on Tue 12 Jan 2027" in cards.text(reply)
    case = await world.case("CM-2026-014")
    assert (case.lead_agency_id, case.lead_officer, case.risk_level) == (
        housing,
        "Gemma Hartley",
        RiskLevel.HIGH,
    )
    assert case.review_meeting_id == january.id
    past = next(m for m in await world.meetings() if m.starts_at < NOW)
    refused = await world.click(
        "Tom", *cards.press(reply.card, "Set the review meeting", review_meeting_id=past.id)
    )
    assert "Choose one of the later meetings." in cards.text(refused)


async def test_closing_a_case_needs_a_reason_and_other_needs_a_note(world: World) -> None:
    card = await chair_at(world, 4)
    reply = await world.click("Tom", *cards.press(card, "Close the case"), GROUP)
    assert "Choose the reason for closing." in cards.text(reply)
    reply = await world.click(
        "Tom", *cards.press(reply.card, "Close the case", closure_reason="other"), GROUP
    )
    assert "Say why the case is closed." in cards.text(reply)
    reply = await world.click(
        "Tom",
        *cards.press(
            reply.card,
            "Close the case",
            closure_reason=ClosureReason.CONCERNS_REDUCED.value,
            closure_note="No incident since October.",
        ),
        GROUP,
    )
    assert "CM-2026-013 is closed: Safeguarding concerns reduced." in cards.text(reply)
    case = await world.case("CM-2026-013")
    assert (case.status, case.closure_reason, case.closed_at) == (
        CaseStatus.CLOSED,
        ClosureReason.CONCERNS_REDUCED,
        NOW,
    )


async def test_unmet_actions_are_carried_forward_escalated_or_cancelled_saying_why(
    world: World,
) -> None:
    card = await chair_at(world, 2, ConversationKind.PERSONAL)
    text = card_text(card)
    assert "Complete a Care Act needs assessment." in text
    assert "Visit Mrs Ellison and fit a door camera" in text
    refused = await world.click("Tom", *cards.press(card, "Carry forward", nth=0))
    assert "Say whether circumstances changed or the agency did not act." in cards.text(refused)
    reply = await world.click(
        "Tom",
        *cards.press(
            refused.card,
            "Carry forward",
            nth=0,
            **{"new_due_on-0": "2027-01-11", "why-0": "did_not_act"},
        ),
    )
    assert "Carried forward to Mon 11 Jan 2027." in cards.text(reply)
    assert "Carried forward to Mon 11 Jan 2027. The agency did not act." in cards.text(reply)
    # the first action is dealt with: the second's forms are now the only ones
    reply = await world.click(
        "Tom",
        *cards.press(
            reply.card,
            "Escalate",
            nth=0,
            **{"escalation-1": "to the housing manager", "escalate_why-1": "changed"},
        ),
    )
    assert "Escalated." in cards.text(reply)
    actions = await actions_of(world, "CM-2026-013")
    by_owner = {a.description[:8]: a for a in actions}
    carried, escalated = by_owner["Complete"], by_owner["Visit Mr"]
    assert carried.due_on == date(2027, 1, 11)
    assert carried.updates[-1].kind is UpdateKind.CARRIED_FORWARD
    assert carried.updates[-1].circumstances_changed is False
    assert escalated.escalated and escalated.updates[-1].circumstances_changed is True


async def test_an_unmet_action_is_cancelled_with_a_reason(world: World) -> None:
    card = await chair_at(world, 2)
    reply = await world.click(
        "Tom",
        *cards.press(
            card, "Cancel the action", nth=0, **{"cancel_reason-0": "Assessment not needed"}
        ),
        GROUP,
    )
    assert "Action cancelled." in cards.text(reply)
    cancelled = [a for a in await actions_of(world, "CM-2026-013") if a.cancel_reason]
    assert [(a.status, a.cancel_reason) for a in cancelled] == [
        (ActionStatus.CANCELLED, "Assessment not needed")
    ]


@pytest.mark.parametrize(
    "kind", [ConversationKind.MEETING, ConversationKind.CHANNEL, ConversationKind.GROUP_CHAT]
)
async def test_in_a_shared_chat_the_chair_card_shows_no_personal_data(
    world: World, kind: ConversationKind
) -> None:
    reply = await chair_reply_at(world, 2, kind)
    text = cards.text(chat_sees(reply))
    for name in PERSONAL:
        assert name not in text
    assert "Complete a Care Act needs assessment." not in text
    assert views.PRIVATE_ONLY in text
    reply = await world.click("Tom", *cards.press(reply.card, "Next"), kind)
    reply = await world.click("Tom", *cards.press(reply.card, "Next"), kind)
    for name in PERSONAL:
        assert name not in cards.text(chat_sees(reply))
    seen = cards.text(chat_sees(reply))
    assert "Riverside Police: Serve a Community Protection Warning" not in seen
    assert f"Riverside Police: {views.PRIVATE_ONLY} — due" in seen


async def test_the_meeting_chat_is_not_told_what_is_withheld_is_shown_there(
    world: World,
) -> None:
    reply = await chair_reply_at(world, 2)  # what the meeting's chat reads: withheld
    assert "Complete a Care Act needs assessment." not in cards.text(chat_sees(reply))
    assert "shown in the meeting chat" not in cards.text(chat_sees(reply))


async def test_a_spoc_cannot_use_the_chair_card(world: World) -> None:
    card = await chair_at(world, 3)
    with pytest.raises(
        NotAllowed, match=r"^Only the panel's coordinators and chairs can run the panel meeting"
    ):
        await world.click("Gemma", *cards.press(card, "Next"), GROUP)
    with pytest.raises(
        NotAllowed, match=r"^Only the panel's coordinators and chairs can record actions"
    ):
        await world.click("Gemma", *cards.press(card, "Save action", description="x"), GROUP)
    assert (await world.next_meeting()).step == 2
    assert await actions_of(world, "CM-2026-014") == []


async def test_ending_drafts_the_minutes_for_the_coordinator_and_tells_the_chat_counts_only(
    world: World,
) -> None:
    card = await started(world)
    await world.click("Gemma", *cards.press(card, "I acknowledge"), GROUP)
    chair = await chair_at_current(world)
    chair = await world.click("Tom", *cards.press(chair, "Next"), GROUP)
    chair = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    police = (await world.member("Tom")).agency_id
    chair = await world.click(
        "Tom", *cards.press(chair.card, "Save action", description="Visit.", owner_agency_id=police)
    )
    ended = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    ended = await world.click("Tom", *cards.press(ended.card, "End the meeting"), GROUP)
    text = cards.text(chat_sees(ended))
    assert text.startswith("Meeting ended")
    assert "4 of 4" in text and "CM-2026" not in text
    # The chair's own view adds the actions agreed on the cases he may see.
    assert "CM-2026-014 · Riverside Police: Visit." in cards.text(ended)
    meeting = await world.meeting((await world.agenda())[0].meeting_id)
    assert (meeting.status, meeting.ended_at) == (MeetingStatus.ENDED, NOW)
    async with world.storage.unit_of_work() as uow:
        minutes = await uow.meetings.minutes(world.panel.id, meeting.id)
    assert minutes is not None
    assert [a.agency for a in minutes.attendance] == ["Riverside Homes (Housing)"]
    assert [(ref, a.description) for ref, a in minutes.actions] == [("CM-2026-014", "Visit.")]
    (draft,) = [d for d in await world.queued() if d.key.startswith("minutes-draft:")]
    assert draft.recipient_member_id == (await world.member("Priya")).id
    # held on the demo's day, before its planned one: the minutes are dated when it was held
    held = "Fri 20 Nov 2026, 10:00 (planned for Tue 8 Dec 2026)"
    assert f"Draft minutes: {held}" in card_text(draft.payload["card"])
    with pytest.raises(InvalidTransition, match="has ended"):
        await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)


async def chair_at_current(world: World) -> Card:
    reply = await world.command("Tom", "chair", GROUP)
    assert reply.card is not None
    return reply.card


async def test_the_meeting_events_start_and_end_only_the_day_s_meeting(world: World) -> None:
    request = await world.request("Tom", kind=ConversationKind.MEETING)
    assert await meeting_run.meeting_started(request, world.deps) == Reply()
    meeting = await world.next_meeting()
    world.clock.advance(meeting.starts_at - timedelta(minutes=2))
    reply = await meeting_run.meeting_started(request, world.deps)
    assert "Confidentiality statement" in cards.text(reply)
    assert (await world.next_meeting()).status is MeetingStatus.IN_PROGRESS
    assert await meeting_run.meeting_started(request, world.deps) == Reply()
    ended = await meeting_run.meeting_ended(request, world.deps)
    assert cards.text(ended).startswith("Meeting ended")
    assert (await world.meeting(meeting.id)).status is MeetingStatus.ENDED


# --- closing a case settles its actions (issue 15) -----------------------------------------


async def close_013(world: World, **settle: Any) -> Reply:
    """Tom closes CM-2026-013 (item 4) in the meeting chat, with these settlements typed over
    the form's defaults (every open action passed back)."""
    card = await chair_at(world, 4)
    return await world.click(
        "Tom",
        *cards.press(
            card,
            "Close the case",
            closure_reason=ClosureReason.CONCERNS_REDUCED.value,
            **settle,
        ),
        GROUP,
    )


async def test_closing_a_case_settles_each_open_action_as_the_chair_chooses(
    world: World,
) -> None:
    before = {a.description[:8]: a for a in await actions_of(world, "CM-2026-013")}
    assessment, camera = before["Complete"], before["Visit Mr"]
    assert assessment.status is camera.status is ActionStatus.OPEN
    reply = await close_013(world, **{f"settle.{assessment.id}": "cancel"})
    assert (
        "CM-2026-013 is closed: Safeguarding concerns reduced. Open actions: 1 passed back to "
        "their agencies, 1 cancelled." in cards.text(reply)
    )
    after = {a.id: a for a in await actions_of(world, "CM-2026-013")}
    assert after[assessment.id].status is ActionStatus.CANCELLED
    assert after[assessment.id].cancel_reason == "the panel closed CM-2026-013"
    assert after[camera.id].status is ActionStatus.PASSED_BACK
    assert after[camera.id].updates[-1].kind is UpdateKind.PASSED_BACK
    # The housing SPOC, who owns the camera, is told what became of it (adult social care,
    # which owned the assessment, has no contact in the demo panel).
    notes = [cards.text(d.payload["card"]) for d in await world.queued_to("Gemma")]
    assert any(
        "Changed at the panel meeting: Passed back to your agency: the panel closed CM-2026-013"
        in n
        for n in notes
    )
    # None of them comes back as unmet, at any later date.
    async with world.storage.unit_of_work() as uow:
        unmet = await uow.actions.open_ids_due_by(world.panel.id, date(2099, 1, 1))
    assert not {assessment.id, camera.id} & set(unmet)


async def test_a_closed_cases_chair_card_offers_reopen_and_nothing_else(world: World) -> None:
    reply = await close_013(world)
    assert reply.card is not None
    titles = cards.titles(reply.card)
    assert "Reopen the case" in titles
    for gone in ("Close case…", "Add action…", "Lead agency…", "Risk level…", "Review later…"):
        assert gone not in titles
    reopened = await world.click("Tom", *cards.press(reply.card, "Reopen the case"), GROUP)
    assert "CM-2026-013 is open again." in cards.text(reopened)
    assert (await world.case("CM-2026-013")).status is CaseStatus.OPEN
    # Its settled actions stay settled: reopening does not make them unmet again.
    statuses = {a.status for a in await actions_of(world, "CM-2026-013")}
    assert ActionStatus.OPEN not in statuses


async def test_a_close_form_that_does_not_settle_the_case_s_open_actions_changes_nothing(
    world: World,
) -> None:
    before = {a.id: a.status for a in await actions_of(world, "CM-2026-013")}
    card = await chair_at(world, 4)
    sent, data = cards.press(
        card, "Close the case", closure_reason=ClosureReason.CONCERNS_REDUCED.value
    )
    settled = [k for k in data if k.startswith("settle.")]
    assert len(settled) == 2
    other = (await actions_of(world, "CM-2026-014") or [None])[0]
    tampered = [
        {k: v for k, v in data.items() if k != settled[0]},  # one left out
        {**data, settled[0]: "delete"},  # not a choice the card offers
        {**data, "settle.not-an-action-of-this-case": "cancel"},
    ]
    if other is not None:
        tampered.append({**data, f"settle.{other.id}": "cancel"})
    for payload in tampered:
        reply = await world.click("Tom", sent, payload, GROUP)
        assert "is closed" not in cards.text(reply)
        assert (await world.case("CM-2026-013")).status is not CaseStatus.CLOSED
        assert {a.id: a.status for a in await actions_of(world, "CM-2026-013")} == before
