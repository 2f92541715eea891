"""The agenda use cases on the in-memory storage, with the invented demo panel and a fixed
clock (Fri 20 Nov 2026): the next meeting is Tue 8 Dec 2026, with case CM-2026-014 (new,
children, invited Fire and Rescue), CM-2026-013 (heard last month, due for review) and two
actions of CM-2026-013 still open and due by then.

The world is tests/support/world.py's (the conftest `world` fixture); cards are read with
tests/support/cards.py.
"""

from __future__ import annotations

import pytest

from bot.domain.case import Case
from bot.domain.delivery import ConversationKind
from bot.domain.errors import NotAllowed
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus, MeetingStatus
from bot.domain.panel import Member, Role
from bot.kernel.views import SharedReply
from cards.kit import card_text
from tests.support import cards
from tests.support.world import NOW, PERSONAL, World


def case_line_of(items: list[AgendaItem], case: Case) -> AgendaItem:
    return next(i for i in items if i.case_id == case.id)


# --- the tests ---------------------------------------------------------------------------------


async def test_the_coordinator_sees_the_next_agenda_built_from_cases_and_unmet_actions(
    world: World,
) -> None:
    reply = await world.command("Priya", "agenda")
    text = cards.text(reply)
    assert "Agenda for Tue 8 Dec 2026" in text
    assert "Not published yet" in text
    assert "**2.** Unmet actions from earlier meetings (2)" in text
    assert (
        "**3.** CM-2026-014 · new case · medium risk · invited: Riverside Fire and Rescue" in text
    )
    assert "**4.** CM-2026-013 · review · high risk" in text
    assert "40 of 120 minutes planned" in text
    items = await world.agenda()
    assert [i.kind for i in items] == [
        AgendaItemKind.CONFIDENTIALITY,
        AgendaItemKind.UNMET_ACTIONS,
        AgendaItemKind.NEW_CASE,
        AgendaItemKind.REVIEW_CASE,
    ]
    assert [i.position for i in items] == [1, 2, 3, 4]


async def test_a_member_sees_the_agenda_without_controls_and_it_is_not_saved(
    world: World,
) -> None:
    reply = await world.command("Gemma", "agenda", ConversationKind.GROUP_CHAT)
    text = cards.text(reply)
    assert "CM-2026-014 · new case" in text
    assert "Move up" not in text and "Publish agenda" not in text
    assert await world.agenda() == []


async def test_in_a_channel_even_the_coordinator_gets_the_agenda_without_controls(
    world: World,
) -> None:
    reply = await world.command("Priya", "agenda", ConversationKind.CHANNEL)
    assert "Publish agenda" not in cards.text(reply)
    # What the channel reads is the members' card (her own view, hers alone, adds the cases'
    # lead agencies and open actions: bot.kernel.views).
    assert isinstance(reply, SharedReply) and reply.shared is not None
    for name in PERSONAL:
        assert name not in card_text(reply.shared)


async def test_someone_on_no_panel_is_refused(world: World) -> None:
    with pytest.raises(NotAllowed, match="is for panel members"):
        await world.command("Sam", "agenda")


async def test_a_case_accepted_in_triage_takes_its_place_by_the_rule(world: World) -> None:
    meeting = await world.next_meeting()
    urgent = Case(
        panel_id=world.panel.id,
        reference="CM-2026-015",
        risk_score=40,
        has_children=True,
        opened_at=NOW,
    )
    listed = AgendaItem(  # as triage lists it: at the end
        panel_id=world.panel.id,
        meeting_id=meeting.id,
        kind=AgendaItemKind.NEW_CASE,
        position=1,
        title=urgent.reference,
        case_id=urgent.id,
        minutes_estimate=15,
    )
    await world.save(urgent, listed)
    await world.command("Priya", "agenda")
    items = await world.agenda()
    new_cases = [i.title for i in items if i.kind is AgendaItemKind.NEW_CASE]
    assert new_cases == ["CM-2026-015", "CM-2026-014"]
    assert [i.position for i in items] == [1, 2, 3, 4, 5]


async def test_moving_a_case_is_kept_when_the_agenda_is_built_again(world: World) -> None:
    other = Case(panel_id=world.panel.id, reference="CM-2026-016", risk_score=5, opened_at=NOW)
    await world.save(other)
    card = (await world.command("Priya", "agenda")).card
    # CM-2026-014 (children) leads the new cases; the coordinator moves CM-2026-016 up
    verb, data = cards.press(card, "Move up", nth=1)
    reply = await world.click("Priya", verb, data)
    assert "Moved “CM-2026-016” up." in cards.text(reply)
    again = await world.command("Priya", "agenda")
    assert cards.text(again).index("CM-2026-016") < cards.text(again).index("CM-2026-014")
    verb, data = cards.press(reply.card, "Move up", nth=0)
    refused = await world.click("Priya", verb, data)
    assert "is already first among new cases" in cards.text(refused)


async def test_removing_needs_a_reason_and_a_removed_case_stays_off(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    item = case_line_of(await world.agenda(), await world.case("CM-2026-014"))
    verb, data = cards.press(card, "Remove from the agenda", nth=0, **{f"reason-{item.id}": " "})
    refused = await world.click("Priya", verb, data)
    assert "Give a reason." in cards.text(refused)
    verb, data = cards.press(
        card, "Remove from the agenda", nth=0, **{f"reason-{item.id}": "Withdrawn"}
    )
    reply = await world.click("Priya", verb, data)
    assert "~~CM-2026-014 · new case" in cards.text(reply)
    assert "removed: Withdrawn" in cards.text(reply)
    await world.command("Priya", "agenda")
    removed = case_line_of(await world.agenda(), await world.case("CM-2026-014"))
    assert (removed.status, removed.note) == (AgendaItemStatus.REMOVED, "Withdrawn")


async def test_a_deferred_case_goes_to_the_next_meeting_with_its_reason(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    case = await world.case("CM-2026-013")
    item = case_line_of(await world.agenda(), case)
    verb, data = cards.press(
        card, "Defer to the next meeting", nth=1, **{f"defer_reason-{item.id}": "Police in court"}
    )
    reply = await world.click("Priya", verb, data)
    assert "Deferred “CM-2026-013” to the meeting on Tue 12 Jan 2027." in cards.text(reply)
    january = [m for m in await world.meetings() if m.starts_at > NOW][1]
    (listed,) = [i for i in await world.agenda(january) if i.case_id == case.id]
    assert listed.kind is AgendaItemKind.REVIEW_CASE
    assert listed.note == "Deferred from Tue 8 Dec 2026: Police in court"


async def test_any_other_business_and_a_case_by_reference_are_added(world: World) -> None:
    extra = Case(panel_id=world.panel.id, reference="CM-2026-020", opened_at=NOW)
    january = [m for m in await world.meetings() if m.starts_at > NOW][1]
    waiting = AgendaItem(
        panel_id=world.panel.id,
        meeting_id=january.id,
        kind=AgendaItemKind.NEW_CASE,
        position=1,
        title=extra.reference,
        case_id=extra.id,
    )
    await world.save(extra, waiting)
    card = (await world.command("Priya", "agenda")).card
    assert "CM-2026-020" not in card_text(card)  # listed for January
    verb, data = cards.press(card, "Add the item", title="Quarterly figures", minutes="10")
    reply = await world.click("Priya", verb, data)
    assert "Added “Quarterly figures” to any other business." in cards.text(reply)
    verb, data = cards.press(reply.card, "Add the case", reference="cm-2026-020")
    reply = await world.click("Priya", verb, data)
    assert "Added CM-2026-020 to the agenda." in cards.text(reply)
    items = await world.agenda()
    assert [i.kind for i in items][-1] is AgendaItemKind.OTHER_BUSINESS
    assert items[-1].minutes_estimate == 10
    assert any(i.case_id == extra.id for i in items)
    (moved,) = await world.agenda(january)
    assert moved.status is AgendaItemStatus.REMOVED
    verb, data = cards.press(reply.card, "Add the case", reference="CM-2026-020")
    assert "is on this agenda already" in cards.text(await world.click("Priya", verb, data))


async def test_publishing_announces_references_in_the_channel_and_invites_agencies(
    world: World,
) -> None:
    await world.add_channel()
    fire = Member(
        panel_id=world.panel.id,
        aad_object_id="aad-fire",
        name="Olu Adeyemi",
        agency_id=next(iter((await world.case("CM-2026-014")).invited_agency_ids)),
        roles=frozenset({Role.SPOC}),
    )
    await world.save(fire)
    reply = await world.command("Priya", "agenda publish")
    assert "Published: the team channel has the announcement." in cards.text(reply)
    assert "Invited agencies told: Riverside Fire and Rescue (Olu Adeyemi)." in cards.text(reply)
    assert (await world.next_meeting()).status is MeetingStatus.AGENDA_PUBLISHED
    queued = await world.queued()
    (channel,) = [d for d in queued if d.key.startswith("agenda-channel:")]
    assert channel.recipient_member_id is None and channel.conversation_ref_id is not None
    announced = card_text(channel.payload["card"])
    assert "Agenda published: Tue 8 Dec 2026, 10:00–12:00" in announced
    assert (
        "**CM-2026-014** · new case · Medium risk · invited: Riverside Fire and Rescue" in announced
    )
    assert "**CM-2026-013** · review · High risk" in announced
    for name in PERSONAL:
        assert name not in announced
    (invitation,) = [d for d in queued if d.key.startswith("agenda-invite:")]
    assert invitation.recipient_member_id == fire.id
    invited = card_text(invitation.payload["card"])
    assert "CM-2026-014" in invited and "CM-2026-013" not in invited

    again = await world.click("Priya", *cards.press(reply.card, "Publish the changes"))
    assert "nothing in it changed" in cards.text(again)
    assert len(await world.queued()) == len(queued)


async def test_only_the_coordinator_changes_or_publishes_the_agenda(world: World) -> None:
    meeting = await world.next_meeting()
    with pytest.raises(NotAllowed, match="Only the panel's coordinator"):
        await world.click("Gemma", "agenda.publish", {"meeting_id": meeting.id})
    assert (await world.next_meeting()).status is MeetingStatus.SCHEDULED


async def test_the_agenda_of_a_meeting_under_way_no_longer_changes(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    await world.command("Tom", "start", ConversationKind.GROUP_CHAT)
    verb, data = cards.press(card, "Move up", nth=1)
    with pytest.raises(Exception, match="in progress: its agenda no longer changes"):
        await world.click("Priya", verb, data)
    shown = await world.command("Priya", "agenda")
    assert "In progress" in cards.text(shown) and "Move up" not in cards.text(shown)
