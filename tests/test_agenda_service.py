"""The agenda use cases on the in-memory storage, with the invented demo panel and a fixed
clock (Fri 20 Nov 2026): the next meeting is Tue 8 Dec 2026, with case CM-2026-014 (new,
children, invited Fire and Rescue), CM-2026-013 (heard last month, due for review) and two
actions of CM-2026-013 still open and due by then.

`World` and the card helpers here are shared by the meeting and minutes tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import build_router, make_deps
from bot.demo import DEMO_TEAM, seed_demo
from bot.domain.case import Case
from bot.domain.common import FixedClock
from bot.domain.delivery import ConversationKind, ConversationRef, OutgoingDelivery
from bot.domain.errors import NotAllowed
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus, Meeting, MeetingStatus
from bot.domain.panel import Member, Panel, Role
from bot.features.meetings import agenda, meeting_run, minutes
from bot.kernel.dispatch import run_command, run_verb
from bot.kernel.router import Caller, Deps, Reply, Request, Router, Where
from cards.kit import Card, card_text
from storage import MemoryStorage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PEOPLE = {
    "Priya": "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d01",  # coordinator
    "Tom": "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d02",  # chair, police SPOC
    "Gemma": "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03",  # housing SPOC
    "Daniel": "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d04",  # housing deputy, agreement v1 only
    "Aisha": "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d05",  # referrer
    "Sam": "9e8d7c6b-0000-4000-8000-00000000abcd",  # on no panel
}
# Personal data of the demo panel that must never reach the channel.
PERSONAL = ("Margaret", "Ellison", "Kyle", "Dawson", "Rosa", "Lindqvist", "Samuel", "Achebe")


@dataclass
class World:
    storage: MemoryStorage
    clock: FixedClock
    router: Router
    panel: Panel

    @property
    def deps(self) -> Deps:
        return make_deps(uow=self.storage.unit_of_work, clock=self.clock)

    async def member(self, name: str) -> Member:
        async with self.storage.unit_of_work() as uow:
            found = await uow.members.by_aad(self.panel.id, PEOPLE[name])
        assert found is not None
        return found

    async def request(
        self, name: str, kind: ConversationKind = ConversationKind.PERSONAL
    ) -> Request:
        async with self.storage.unit_of_work() as uow:
            panel = await uow.panels.get(self.panel.id)
            member = await uow.members.by_aad(self.panel.id, PEOPLE[name])
        return Request(
            caller=Caller(f"29:{name}", PEOPLE[name], name),
            where=Where(kind, f"conversation-{kind.value}"),
            panel=panel if member is not None or kind is ConversationKind.CHANNEL else None,
            member=member,
        )

    async def command(
        self, name: str, text: str, kind: ConversationKind = ConversationKind.PERSONAL
    ) -> Reply:
        head, _, args = text.partition(" ")
        return await run_command(self.router, await self.request(name, kind), head, args, self.deps)

    async def click(
        self,
        name: str,
        verb: str,
        data: dict[str, Any],
        kind: ConversationKind = ConversationKind.PERSONAL,
    ) -> Reply:
        return await run_verb(self.router, await self.request(name, kind), verb, data, self.deps)

    async def queued(self) -> list[OutgoingDelivery]:
        async with self.storage.unit_of_work() as uow:
            return await uow.outbox.due(NOW + timedelta(days=3650), 1000)

    async def meetings(self) -> list[Meeting]:
        async with self.storage.unit_of_work() as uow:
            return await uow.meetings.upcoming(self.panel.id, NOW - timedelta(days=60), 20)

    async def next_meeting(self) -> Meeting:
        return next(m for m in await self.meetings() if m.starts_at > NOW)

    async def meeting(self, meeting_id: str) -> Meeting:
        async with self.storage.unit_of_work() as uow:
            found = await uow.meetings.get(self.panel.id, meeting_id)
        assert found is not None
        return found

    async def agenda(self, meeting: Meeting | None = None) -> list[AgendaItem]:
        meeting = meeting or await self.next_meeting()
        async with self.storage.unit_of_work() as uow:
            return await uow.meetings.agenda(self.panel.id, meeting.id)

    async def case(self, reference: str) -> Case:
        async with self.storage.unit_of_work() as uow:
            found = await uow.cases.by_reference(self.panel.id, reference)
        assert found is not None
        return found

    async def save(self, *records: Any) -> None:
        async with self.storage.unit_of_work() as uow:
            for record in records:
                if isinstance(record, Case):
                    await uow.cases.save(record)
                elif isinstance(record, Member):
                    await uow.members.save(record)
                elif isinstance(record, AgendaItem):
                    await uow.meetings.save_agenda_item(record)
                elif isinstance(record, Meeting):
                    await uow.meetings.save(record)
                else:
                    raise TypeError(record)
            await uow.commit()

    async def add_channel(self) -> None:
        """The bot was added to the team: the panel knows its channel."""
        async with self.storage.unit_of_work() as uow:
            panel = await uow.panels.get(self.panel.id)
            assert panel is not None
            panel.channel_id = DEMO_TEAM
            await uow.panels.save(panel)
            await uow.conversations.save(
                ConversationRef(
                    panel_id=panel.id,
                    kind=ConversationKind.CHANNEL,
                    conversation_id=DEMO_TEAM,
                    service_url="https://smba.example/",
                    reference={"conversation": {"id": DEMO_TEAM}},
                    updated_at=NOW,
                )
            )
            await uow.commit()
            self.panel = panel


def with_meeting_features(
    router: Router, minutes_config: minutes.MinutesConfig | None = None
) -> Router:
    """The router with the agenda, meeting and minutes features, registered here unless
    bot/app.py's build_router registers them already."""
    names = {spec.name for spec in router.commands()}
    if "agenda" not in names:
        agenda.register(router)
    if "start" not in names:
        meeting_run.register(router)
    if "minutes" not in names:
        minutes.register(router, minutes_config)
    return router


def full_router() -> Router:
    """The app's router with the meeting features registered, as bot/app.py will."""
    return with_meeting_features(build_router())


async def make_world() -> World:
    storage = MemoryStorage()
    clock = FixedClock(NOW)
    await seed_demo(storage.unit_of_work, clock)
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(DEMO_TEAM)
    assert panel is not None
    return World(storage, clock, full_router(), panel)


@pytest.fixture
async def world() -> World:
    return await make_world()


# --- card helpers ----------------------------------------------------------------------------


def actions_in(node: Any) -> list[dict[str, Any]]:
    """Every action anywhere in a card (show cards included)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for value in node.values():
            found += actions_in(value)
    elif isinstance(node, list):
        for value in node:
            found += actions_in(value)
    return found


def button(card: Card | None, title: str, *, nth: int = 0) -> dict[str, Any]:
    """The nth button with this title."""
    assert card is not None
    matches = [a for a in actions_in(card) if a.get("title") == title]
    assert len(matches) > nth, (title, [a.get("title") for a in actions_in(card)])
    return matches[nth]


def inputs_in(node: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input.") and "id" in node:
            found[node["id"]] = node
        for value in node.values():
            found.update(inputs_in(value))
    elif isinstance(node, list):
        for value in node:
            found.update(inputs_in(value))
    return found


def press(
    card: Card | None, label: str, /, *, nth: int = 0, **typed: Any
) -> tuple[str, dict[str, Any]]:
    """What Teams sends when the button is clicked: its verb, its data with every input's
    value and what was typed."""
    action = button(card, label, nth=nth)
    values = {k: i["value"] for k, i in inputs_in(card).items() if "value" in i}
    return str(action["verb"]), {**values, **action["data"], **typed}


def text_of(reply: Reply) -> str:
    return reply.text if reply.card is None else card_text(reply.card)


def case_line_of(items: list[AgendaItem], case: Case) -> AgendaItem:
    return next(i for i in items if i.case_id == case.id)


# --- the tests ---------------------------------------------------------------------------------


async def test_the_coordinator_sees_the_next_agenda_built_from_cases_and_unmet_actions(
    world: World,
) -> None:
    reply = await world.command("Priya", "agenda")
    text = text_of(reply)
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
    text = text_of(reply)
    assert "CM-2026-014 · new case" in text
    assert "Move up" not in text and "Publish agenda" not in text
    assert await world.agenda() == []


async def test_in_a_channel_even_the_coordinator_gets_the_agenda_without_controls(
    world: World,
) -> None:
    reply = await world.command("Priya", "agenda", ConversationKind.CHANNEL)
    assert "Publish agenda" not in text_of(reply)
    for name in PERSONAL:
        assert name not in text_of(reply)


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
    verb, data = press(card, "Move up", nth=1)
    reply = await world.click("Priya", verb, data)
    assert "Moved “CM-2026-016” up." in text_of(reply)
    again = await world.command("Priya", "agenda")
    assert text_of(again).index("CM-2026-016") < text_of(again).index("CM-2026-014")
    verb, data = press(reply.card, "Move up", nth=0)
    refused = await world.click("Priya", verb, data)
    assert "is already first among new cases" in text_of(refused)


async def test_removing_needs_a_reason_and_a_removed_case_stays_off(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    item = case_line_of(await world.agenda(), await world.case("CM-2026-014"))
    verb, data = press(card, "Remove from the agenda", nth=0, **{f"reason-{item.id}": " "})
    refused = await world.click("Priya", verb, data)
    assert "Give a reason." in text_of(refused)
    verb, data = press(card, "Remove from the agenda", nth=0, **{f"reason-{item.id}": "Withdrawn"})
    reply = await world.click("Priya", verb, data)
    assert "~~CM-2026-014 · new case" in text_of(reply)
    assert "removed: Withdrawn" in text_of(reply)
    await world.command("Priya", "agenda")
    removed = case_line_of(await world.agenda(), await world.case("CM-2026-014"))
    assert (removed.status, removed.note) == (AgendaItemStatus.REMOVED, "Withdrawn")


async def test_a_deferred_case_goes_to_the_next_meeting_with_its_reason(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    case = await world.case("CM-2026-013")
    item = case_line_of(await world.agenda(), case)
    verb, data = press(
        card, "Defer to the next meeting", nth=1, **{f"defer_reason-{item.id}": "Police in court"}
    )
    reply = await world.click("Priya", verb, data)
    assert "Deferred “CM-2026-013” to the meeting on Tue 12 Jan 2027." in text_of(reply)
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
    verb, data = press(card, "Add the item", title="Quarterly figures", minutes="10")
    reply = await world.click("Priya", verb, data)
    assert "Added “Quarterly figures” to any other business." in text_of(reply)
    verb, data = press(reply.card, "Add the case", reference="cm-2026-020")
    reply = await world.click("Priya", verb, data)
    assert "Added CM-2026-020 to the agenda." in text_of(reply)
    items = await world.agenda()
    assert [i.kind for i in items][-1] is AgendaItemKind.OTHER_BUSINESS
    assert items[-1].minutes_estimate == 10
    assert any(i.case_id == extra.id for i in items)
    (moved,) = await world.agenda(january)
    assert moved.status is AgendaItemStatus.REMOVED
    verb, data = press(reply.card, "Add the case", reference="CM-2026-020")
    assert "is on this agenda already" in text_of(await world.click("Priya", verb, data))


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
    assert "Published: the team channel has the announcement." in text_of(reply)
    assert "Invited agencies told: Riverside Fire and Rescue (Olu Adeyemi)." in text_of(reply)
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

    again = await world.click("Priya", *press(reply.card, "Publish the changes"))
    assert "nothing in it changed" in text_of(again)
    assert len(await world.queued()) == len(queued)


async def test_only_the_coordinator_changes_or_publishes_the_agenda(world: World) -> None:
    meeting = await world.next_meeting()
    with pytest.raises(NotAllowed, match="Only the panel's coordinator"):
        await world.click("Gemma", "agenda.publish", {"meeting_id": meeting.id})
    assert (await world.next_meeting()).status is MeetingStatus.SCHEDULED


async def test_the_agenda_of_a_meeting_under_way_no_longer_changes(world: World) -> None:
    card = (await world.command("Priya", "agenda")).card
    await world.command("Tom", "start", ConversationKind.GROUP_CHAT)
    verb, data = press(card, "Move up", nth=1)
    with pytest.raises(Exception, match="in progress: its agenda no longer changes"):
        await world.click("Priya", verb, data)
    shown = await world.command("Priya", "agenda")
    assert "In progress" in text_of(shown) and "Move up" not in text_of(shown)
