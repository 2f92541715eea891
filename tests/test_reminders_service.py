"""The reminder job (bot.features.actions.reminders) on the in-memory storage with a fixed clock.

The demo panel: Housing (SPOC Gemma Hartley, deputy Daniel Reyes, who accepted only the old
agreement) owns an action on CM-2026-013 due Mon 7 Dec 2026, the day before the meeting of
Tue 8 Dec; Adult Social Care, which has no SPOC or deputy, has an action that was due on
Sun 15 Nov. Housing, the police (Tom Okafor) and Children's Services (nobody) were asked
for information on CM-2026-014 by Mon 30 Nov 2026, 10:00.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.app import make_deps
from bot.domain.action import Action
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.panel import IsaAcceptance
from bot.domain.reminders import QuietHours, ReminderSchedule
from bot.features.actions import reminders
from bot.features.actions.reminders import ReminderConfig, RunReport
from cards.kit import teams_findings
from tests.support import cards
from tests.support.world import HOUSING, NOW, World, demo_world


async def run(world: World, at: datetime, config: ReminderConfig | None = None) -> RunReport:
    """The reminder job at `at` (the clock moved there); nothing may fail."""
    world.clock.advance(at)
    report = await reminders.run_due(world.deps, config=config)
    assert report.failed == 0
    return report


async def housing_action(world: World) -> Action:
    """Housing's one open action (on CM-2026-013)."""
    housing = await world.agency(HOUSING)
    async with world.storage.unit_of_work() as uow:
        (action,) = await uow.actions.open_for_agency(world.panel.id, housing.id)
    return action


def london(day: date, hour: int, minute: int = 0) -> datetime:
    """A time on `day` in London, as UTC (November and December: GMT, the same)."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


async def test_three_days_before_its_due_date_the_spoc_gets_the_actions_card(
    world: World,
) -> None:
    report = await run(world, london(date(2026, 12, 4), 10))  # Friday 4 Dec
    (card,) = [d for d in await world.queued_to("Gemma") if d.key.startswith("digest:")]
    # The status request (Thu 3 Dec, five days before the meeting) is due too: one card.
    text = cards.text(card)
    assert "Status request before the meeting on Tue 8 Dec 2026" in text
    assert "Visit Mrs Ellison" in text
    assert "due in 3 days" in text
    assert teams_findings(card.payload["card"]) == []
    assert report.cards >= 1


async def test_one_reminder_alone_is_the_actions_own_card_and_a_copy_to_update(
    world: World,
) -> None:
    actions_only = ReminderConfig(
        schedule=ReminderSchedule(
            status_days_before_meeting=None, info_days_before_due=None, info_on_due_date=False
        )
    )
    await run(world, london(date(2026, 12, 4), 10), actions_only)
    (card,) = await world.queued_to("Gemma")
    assert "Action for CM-2026-013" in cards.text(card)
    assert "Reminder: this action is due in 3 days." in cards.text(card)
    assert card.not_before == london(date(2026, 12, 4), 10)
    action = await housing_action(world)
    async with world.storage.unit_of_work() as uow:
        copies = await uow.actions.card_deliveries(world.panel.id, action.id)
    assert [c.id for c in copies] == [card.id]


async def test_running_again_queues_nothing_twice(world: World) -> None:
    first = await run(world, london(date(2026, 11, 30), 10))
    queued = await world.queued()
    assert first.reminders > 0 and first.cards > 0
    again = await run(world, london(date(2026, 11, 30), 10, 5))
    assert (again.reminders, again.cards) == (0, 0)
    later_that_day = await run(world, london(date(2026, 11, 30), 16))
    assert (later_that_day.reminders, later_that_day.cards) == (0, 0)
    assert [d.id for d in await world.queued()] == [d.id for d in queued]


async def test_two_runs_at_once_queue_each_reminder_once(world: World) -> None:
    alone = await demo_world()
    one_run = await run(alone, london(date(2026, 11, 30), 10))
    world.clock.advance(london(date(2026, 11, 30), 10))
    runs = await asyncio.gather(*(reminders.run_due(world.deps) for _ in range(3)))
    assert sum(r.failed for r in runs) == 0
    assert sum(r.reminders for r in runs) == one_run.reminders
    assert sum(r.cards for r in runs) == one_run.cards == len(await world.queued())
    keys = [d.key for d in await world.queued()]
    assert len(keys) == len(set(keys))


async def test_on_the_due_date_of_the_information_requests_each_agency_is_reminded(
    world: World,
) -> None:
    await run(world, london(date(2026, 11, 30), 9))
    (gemma,) = await world.queued_to("Gemma")
    (tom,) = await world.queued_to("Tom")
    for card in (gemma, tom):
        assert "CM-2026-014 · answer by Mon 30 Nov 2026 (due today)" in cards.text(card)
        assert teams_findings(card.payload["card"]) == []
    assert "Reminders for Riverside Homes (Housing)" in cards.text(gemma)
    assert "Reminders for Riverside Police" in cards.text(tom)


async def test_at_the_weekend_reminders_wait_for_monday_morning_and_come_together(
    world: World,
) -> None:
    # A second Housing action is due on Thursday 3 December: its "3 days before" reminder
    # falls on Monday 30 November, the information requests' due date.
    action = await housing_action(world)
    second = Action(
        panel_id=world.panel.id,
        case_id=action.case_id,
        owner_agency_id=action.owner_agency_id,
        description="Write to the landlord about the broken entry door.",
        due_on=date(2026, 12, 3),
        created_at=NOW,
    )
    await world.save(second)
    saturday = await run(world, london(date(2026, 11, 28), 11))
    monday_morning = london(date(2026, 11, 30), 8)
    (digest,) = await world.queued_to("Gemma")
    assert digest.not_before == monday_morning
    text = cards.text(digest)
    assert "Write to the landlord" in text and "due in 3 days" in text
    assert "CM-2026-014 · answer by Mon 30 Nov 2026 (due today)" in text
    assert saturday.cards >= 1
    # Sunday's and Monday's runs find them queued already.
    assert (await run(world, london(date(2026, 11, 29), 11))).reminders == 0
    await run(world, london(date(2026, 11, 30), 9))
    assert len(await world.queued_to("Gemma")) == 1


async def test_at_night_and_on_a_bank_holiday_reminders_wait_for_the_next_working_morning(
    world: World,
) -> None:
    await run(world, london(date(2026, 11, 30), 3))  # Monday, 03:00
    (card,) = await world.queued_to("Gemma")
    assert card.not_before == london(date(2026, 11, 30), 8)
    # Christmas Eve evening: the next working morning is Tuesday 29 December.
    action = await housing_action(world)
    late = Action(
        panel_id=world.panel.id,
        case_id=action.case_id,
        owner_agency_id=action.owner_agency_id,
        description="Check the new lock.",
        due_on=date(2026, 12, 29),
        created_at=NOW,
    )
    await world.save(late)
    await run(world, london(date(2026, 12, 24), 19))
    holiday = [d for d in await world.queued_to("Gemma") if "Check the new lock." in cards.text(d)]
    (card,) = holiday
    assert card.not_before == london(date(2026, 12, 29), 8)
    assert "due today" in cards.text(card)  # as it reads on the day it arrives


async def test_before_the_meeting_each_agency_gets_one_status_request(world: World) -> None:
    action = await housing_action(world)
    other = Action(
        panel_id=world.panel.id,
        case_id=action.case_id,
        owner_agency_id=action.owner_agency_id,
        description="Repair the communal lighting.",
        due_on=date(2027, 1, 11),
        created_at=NOW,
    )
    await world.save(other)
    await run(world, london(date(2026, 11, 30), 10))  # the information requests' due date
    before = {d.id for d in await world.queued()}
    await run(world, london(date(2026, 12, 3), 10))
    (request,) = [d for d in await world.queued_to("Gemma") if d.id not in before]
    text = cards.text(request)
    assert "Status request before the meeting on Tue 8 Dec 2026" in text
    assert "Visit Mrs Ellison" in text and "Repair the communal lighting." in text
    assert text.index("Visit Mrs Ellison") < text.index("Repair the communal lighting.")
    assert [d for d in await world.queued_to("Tom") if d.id not in before] == []  # no open action
    assert (await run(world, london(date(2026, 12, 4), 9))).cards == 1  # the 3-day reminder
    assert (
        len([d for d in await world.queued_to("Gemma") if "Status request" in cards.text(d)]) == 1
    )


async def test_while_the_spoc_is_away_the_deputy_is_reminded(world: World) -> None:
    gemma = await world.member("Gemma")
    gemma.away_until = date(2026, 12, 24)
    await world.save(gemma)
    await run(world, london(date(2026, 11, 30), 10))
    assert await world.queued_to("Gemma") == []
    (card,) = await world.queued_to("Daniel")
    assert "CM-2026-014 · answer by Mon 30 Nov 2026" in cards.text(card)
    # The deputy who has not accepted the current agreement sees no case detail.
    daniel = await world.member("Daniel")
    await run(world, london(date(2026, 12, 4), 10))
    (status,) = [d for d in await world.queued_to("Daniel") if d.id != card.id]
    assert "Information sharing agreement" in cards.text(status)
    assert "Visit Mrs Ellison" not in cards.text(status)
    await world.save(
        IsaAcceptance(panel_id=world.panel.id, member_id=daniel.id, version="2", accepted_at=NOW)
    )
    # Once he accepts it, the next reminder shows him the action, with its buttons.
    seen = {d.id for d in await world.queued_to("Daniel")}
    await run(world, london(date(2026, 12, 7), 10))
    (due,) = [d for d in await world.queued_to("Daniel") if d.id not in seen]
    assert "Action for CM-2026-013" in cards.text(due)
    assert "Reminder: this action is due today." in cards.text(due)
    assert "Mark done" in cards.text(due)


async def test_a_spoc_the_bot_cannot_reach_has_her_deputy_reminded_too(world: World) -> None:
    gemma = await world.member("Gemma")
    blocked = OutgoingDelivery(
        panel_id=world.panel.id,
        key="earlier-card",
        recipient_member_id=gemma.id,
        payload={"card": {}, "text": None},
        state=DeliveryState.UNREACHABLE,
        last_status=403,
        not_before=NOW,
        created_at=NOW,
    )
    await world.save(blocked)
    await run(world, london(date(2026, 11, 30), 10))
    assert len([d for d in await world.queued_to("Daniel")]) == 1
    assert len([d for d in await world.queued_to("Gemma") if d.key != "earlier-card"]) == 1


async def test_actions_overdue_past_the_limit_reach_the_coordinator_once_by_agency(
    world: World,
) -> None:
    await run(world, london(date(2026, 11, 27), 10))  # Adult Social Care: 12 days overdue
    assert await world.queued_to("Priya") == []
    report = await run(world, london(date(2026, 11, 30), 10))  # 15 days overdue
    assert report.escalations == 1
    (card,) = await world.queued_to("Priya")
    text = cards.text(card)
    assert "Actions overdue more than 14 days" in text
    assert "**Adult Social Care** (1)" in text
    assert "Complete a Care Act needs assessment." in text
    assert "overdue by 15 days" in text
    assert "Contact: nobody: the agency has no SPOC or deputy" in text
    assert teams_findings(card.payload["card"]) == []
    await run(world, london(date(2026, 12, 3), 10))
    assert len(await world.queued_to("Priya")) == 1


async def test_a_run_reads_as_much_with_thirty_actions_as_with_one(world: World) -> None:
    """Cheap: the queries of a run do not grow with the number of actions."""
    first = await counted_run(world, london(date(2026, 12, 4), 10))
    action = await housing_action(world)
    world2 = await demo_world()
    panel = world2.panel
    async with world2.storage.unit_of_work() as uow:
        housing = await uow.agencies.by_name(panel.id, HOUSING)
        assert housing is not None and action.owner_agency_id != housing.id
        (demo,) = await uow.actions.open_for_agency(panel.id, housing.id)
        for n in range(29):
            await uow.actions.save(
                Action(
                    panel_id=panel.id,
                    case_id=demo.case_id,
                    owner_agency_id=demo.owner_agency_id,
                    description=f"Action {n}",
                    due_on=date(2026, 12, 7) - timedelta(days=n % 20),
                    created_at=NOW,
                )
            )
        await uow.commit()
    many = await counted_run(world2, london(date(2026, 12, 4), 10))
    assert many == first


async def counted_run(world: World, at: datetime) -> dict[str, int]:
    """The repository calls one run makes, by repository (writes left out)."""
    calls: dict[str, int] = {}
    reads = {
        "all",
        "get",
        "list_all",
        "open_due_by",
        "upcoming",
        "known",
        "by_ids",
        "unreachable",
        "latest",
        "for_case",
        "by_team",
        "open_for_agency",
    }

    class Counting:
        def __init__(self, inner: Any, name: str) -> None:
            self._inner, self._name = inner, name

        def __getattr__(self, attr: str) -> Any:
            found = getattr(self._inner, attr)
            if attr in reads:
                calls[f"{self._name}.{attr}"] = calls.get(f"{self._name}.{attr}", 0) + 1
            return found

    def unit_of_work() -> Any:
        uow = world.storage.unit_of_work()
        for name in (
            "panels",
            "agencies",
            "members",
            "isa",
            "cases",
            "meetings",
            "actions",
            "information_requests",
            "outbox",
            "reminders",
            "referrals",
        ):
            setattr(uow, name, Counting(getattr(uow, name), name))
        return uow

    world.clock.advance(at)
    report = await reminders.run_due(make_deps(uow=unit_of_work, clock=world.clock))
    assert report.failed == 0 and report.cards > 0
    return calls


async def test_the_schedule_is_described_to_the_coordinator() -> None:
    text = reminders.describe(
        ReminderSchedule(quiet=QuietHours(start=time(9, 0), end=time(17, 30))), "Europe/London"
    )
    assert "3 days before it is due; on its due date; every 3 days while it is overdue" in text
    assert "Before each meeting (5 days before): one status request per agency" in text
    assert "between 09:00 and 17:30, Monday to Friday, never on bank holidays" in text
