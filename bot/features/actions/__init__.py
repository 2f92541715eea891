"""Actions: the SPOC's action cards and answers, the lists, deputies (away and back) and
the reminders that chase what is due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.events import ActionAgreed, ActionChanged, CaseChanged
from bot.domain.reminders import ReminderSchedule, parse_quiet_hours
from bot.features.actions import copies, gallery, reminders, usecases
from bot.kernel.feature import Feature, Job, Setup

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Deps, Router
    from cards.kit import Card


def reminders_config(setup: Setup) -> reminders.ReminderConfig:
    """The reminder schedule and quiet hours from the settings (0 turns a reminder off)."""
    settings = setup.settings
    if settings is None:
        return reminders.ReminderConfig()

    def days(n: int) -> int | None:
        return n or None

    return reminders.ReminderConfig(
        schedule=ReminderSchedule(
            days_before_due=days(settings.reminder_days_before_due),
            on_due_date=settings.reminder_on_due_date,
            overdue_every_days=days(settings.reminder_overdue_every_days),
            status_days_before_meeting=days(settings.reminder_status_days_before_meeting),
            info_days_before_due=days(settings.reminder_info_days_before_due),
            info_on_due_date=settings.reminder_info_on_due_date,
            escalate_after_days=days(settings.reminder_escalate_after_days),
            quiet=parse_quiet_hours(settings.quiet_hours, settings.working_days),
        ),
        every=timedelta(seconds=settings.reminders_every_seconds),
    )


def register(router: Router, setup: Setup) -> None:
    """`actions`, `overdue`, `away`, `back`, `reminders` and the action cards' buttons."""
    usecases.register(router)
    reminders.register(router, reminders_config(setup) if setup.settings else None)


def demo_cards(_router: Router) -> Mapping[str, Card]:
    """The SPOC's and the coordinator's action and reminder cards, with invented data
    (bot.features.actions.gallery)."""
    return gallery.gallery_cards()


async def on_action_agreed(
    uow: UnitOfWork, panel: Panel, event: ActionAgreed, now: datetime
) -> None:
    """The meeting agreed an action: its owner agency's contact gets its card."""
    await copies.send_new_action_cards(uow, panel, [event.action], now)


async def on_action_changed(
    uow: UnitOfWork, panel: Panel, event: ActionChanged, now: datetime
) -> None:
    """The meeting changed an action: every copy of its card shows the new state."""
    await copies.action_changed(uow, panel, event.action, now, what=event.what)


async def on_case_changed(uow: UnitOfWork, panel: Panel, event: CaseChanged, now: datetime) -> None:
    """The chair set the case's lead agency or risk level: every card already sent for its
    actions shows the case as it is now (no new card: nothing is asked of the agency)."""
    await copies.case_changed(uow, panel, event.case, now)


def jobs(setup: Setup, deps: Deps, kick: Callable[[], None]) -> Sequence[Job]:
    """The reminders, every REMINDERS_EVERY_SECONDS, once across instances (bot.kernel.jobs;
    each reminder is recorded once, by key, all the same); a run that queued cards wakes
    their delivery."""
    config = reminders_config(setup)

    async def run() -> None:
        report = await reminders.run_due(deps, config=config)
        if report.cards:
            kick()

    return (Job("reminders", config.every, run),)


FEATURE = Feature(
    "actions",
    register,
    demo_cards,
    subscribers={
        ActionAgreed: on_action_agreed,
        ActionChanged: on_action_changed,
        CaseChanged: on_case_changed,
    },
    jobs=jobs,
)
