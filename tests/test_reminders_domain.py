"""The reminder rules (bot.domain.reminders): the schedule, quiet hours, digests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.reminders import (
    Digest,
    QuietHours,
    Reminder,
    ReminderKind,
    ReminderSchedule,
    action_occasion,
    digests,
    due_phrase,
    escalation_due,
    info_occasion,
    next_allowed,
    parse_quiet_hours,
    reminder_key,
    status_occasion,
)
from bot.kernel.localtime import england_and_wales_holidays

LONDON = ZoneInfo("Europe/London")
QUIET = QuietHours()
DEFAULT = ReminderSchedule()
HOLIDAYS = england_and_wales_holidays([2026, 2027])
DUE = date(2026, 12, 7)  # a Monday


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# --- the schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("horizon", "expected"),
    [
        (date(2026, 12, 3), None),  # four days before: nothing yet
        (date(2026, 12, 4), (ReminderKind.BEFORE, date(2026, 12, 4))),
        (date(2026, 12, 6), (ReminderKind.BEFORE, date(2026, 12, 4))),  # the same one
        (DUE, (ReminderKind.DUE, DUE)),
        (date(2026, 12, 9), (ReminderKind.DUE, DUE)),  # overdue, not yet three days
        (date(2026, 12, 10), (ReminderKind.OVERDUE, date(2026, 12, 10))),
        (date(2026, 12, 12), (ReminderKind.OVERDUE, date(2026, 12, 10))),
        (date(2026, 12, 13), (ReminderKind.OVERDUE, date(2026, 12, 13))),
    ],
)
def test_an_action_is_reminded_before_on_and_every_few_days_after_its_due_date(
    horizon: date, expected: tuple[ReminderKind, date] | None
) -> None:
    assert action_occasion(DUE, horizon, DEFAULT) == expected


def test_only_the_latest_occasion_counts_and_an_old_one_is_not_sent_late() -> None:
    # Two days after the due date, the "3 days before" reminder would be stale: the due
    # date's is the one to send.
    assert action_occasion(DUE, DUE + timedelta(days=2), DEFAULT) == (ReminderKind.DUE, DUE)
    quiet_for_long = ReminderSchedule(overdue_every_days=None, lookback_days=7)
    assert action_occasion(DUE, DUE + timedelta(days=8), quiet_for_long) is None


def test_each_reminder_can_be_turned_off_or_moved() -> None:
    none = ReminderSchedule(days_before_due=None, on_due_date=False, overdue_every_days=None)
    assert action_occasion(DUE, DUE + timedelta(days=5), none) is None
    weekly = ReminderSchedule(days_before_due=7, overdue_every_days=7)
    assert action_occasion(DUE, date(2026, 11, 30), weekly) == (
        ReminderKind.BEFORE,
        date(2026, 11, 30),
    )
    assert action_occasion(DUE, date(2026, 12, 14), weekly) == (
        ReminderKind.OVERDUE,
        date(2026, 12, 14),
    )
    with pytest.raises(InvalidInput):
        ReminderSchedule(days_before_due=0)


def test_an_information_request_is_reminded_two_days_before_and_on_its_due_date() -> None:
    due = date(2026, 11, 30)
    assert info_occasion(due, date(2026, 11, 27), DEFAULT) is None
    assert info_occasion(due, date(2026, 11, 28), DEFAULT) == (
        ReminderKind.INFO_BEFORE,
        date(2026, 11, 28),
    )
    assert info_occasion(due, due, DEFAULT) == (ReminderKind.INFO_DUE, due)


def test_the_status_request_comes_five_days_before_the_meeting_until_it_starts() -> None:
    meeting = date(2026, 12, 8)
    assert status_occasion(meeting, date(2026, 12, 2), DEFAULT) is None
    assert status_occasion(meeting, date(2026, 12, 3), DEFAULT) == date(2026, 12, 3)
    assert status_occasion(meeting, date(2026, 12, 7), DEFAULT) == date(2026, 12, 3)
    assert status_occasion(meeting, meeting, DEFAULT) is None


def test_an_action_overdue_more_than_the_limit_is_escalated() -> None:
    assert not escalation_due(DUE, DUE + timedelta(days=14), DEFAULT)
    assert escalation_due(DUE, DUE + timedelta(days=15), DEFAULT)
    assert not escalation_due(
        DUE, DUE + timedelta(days=99), ReminderSchedule(escalate_after_days=None)
    )


def test_a_reminders_key_names_its_subject_kind_and_day() -> None:
    assert reminder_key("a1", ReminderKind.OVERDUE, date(2026, 12, 10)) == (
        "remind:a1:overdue:2026-12-10"
    )


@pytest.mark.parametrize(
    ("day", "phrase"),
    [
        (date(2026, 12, 4), "due in 3 days"),
        (date(2026, 12, 6), "due tomorrow"),
        (DUE, "due today"),
        (date(2026, 12, 8), "overdue by 1 day"),
        (date(2026, 12, 10), "overdue by 3 days"),
    ],
)
def test_the_due_date_reads_relative_to_the_day_the_card_goes(day: date, phrase: str) -> None:
    assert due_phrase(DUE, day) == phrase


# --- quiet hours -----------------------------------------------------------------------------


def test_in_working_hours_a_message_goes_at_once() -> None:
    at = london(2026, 11, 20, 10, 30)  # Friday morning
    assert next_allowed(at, LONDON, QUIET, HOLIDAYS) == at


def test_at_night_a_message_waits_for_the_morning() -> None:
    assert next_allowed(london(2026, 11, 19, 3, 0), LONDON, QUIET, HOLIDAYS) == london(
        2026, 11, 19, 8, 0
    )
    assert next_allowed(london(2026, 11, 19, 18, 0), LONDON, QUIET, HOLIDAYS) == london(
        2026, 11, 20, 8, 0
    )


def test_at_the_weekend_a_message_waits_for_monday() -> None:
    expected = london(2026, 11, 23, 8, 0)
    for at in (london(2026, 11, 20, 18, 30), london(2026, 11, 21, 12), london(2026, 11, 22, 23)):
        assert next_allowed(at, LONDON, QUIET, HOLIDAYS) == expected


def test_bank_holidays_are_quiet_too() -> None:
    # Christmas Day is a Friday and Boxing Day a Saturday, so Monday 28 is its substitute.
    assert date(2026, 12, 28) in HOLIDAYS
    got = next_allowed(london(2026, 12, 24, 18, 5), LONDON, QUIET, HOLIDAYS)
    assert got == london(2026, 12, 29, 8, 0)


def test_the_morning_is_eight_oclock_local_whatever_the_clocks_did() -> None:
    # Clocks go back on Sunday 25 October 2026: Friday evening is BST, Monday is GMT.
    autumn = next_allowed(datetime(2026, 10, 23, 17, 30, tzinfo=UTC), LONDON, QUIET, HOLIDAYS)
    assert autumn.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    # Clocks go forward on Sunday 29 March 2026: Monday 08:00 BST is 07:00 UTC.
    spring = next_allowed(datetime(2026, 3, 27, 18, 30, tzinfo=UTC), LONDON, QUIET, HOLIDAYS)
    assert spring.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # 17:30 UTC on a summer Friday is 18:30 BST: already quiet.
    assert next_allowed(datetime(2026, 7, 3, 17, 30, tzinfo=UTC), LONDON, QUIET, HOLIDAYS) == (
        london(2026, 7, 6, 8, 0)
    )


def test_quiet_hours_can_be_configured() -> None:
    long_days = QuietHours(start=time(7, 0), end=time(20, 0), workdays=frozenset(range(6)))
    assert next_allowed(london(2026, 11, 21, 19, 0), LONDON, long_days, HOLIDAYS) == london(
        2026, 11, 21, 19, 0
    )
    with pytest.raises(InvalidInput):
        QuietHours(start=time(18, 0), end=time(8, 0))


# --- digests ---------------------------------------------------------------------------------


def reminder(
    key: str, person: str, send_at: datetime, kind: ReminderKind = ReminderKind.DUE
) -> Reminder:
    return Reminder(
        key=key,
        kind=kind,
        recipient_id=person,
        agency_id="housing",
        subject_id=key,
        day=DUE,
        send_at=send_at,
    )


def test_reminders_to_one_person_at_one_time_form_one_digest() -> None:
    monday = london(2026, 12, 7, 8, 0)
    later = london(2026, 12, 7, 10, 0)
    found = digests(
        [
            reminder("remind:a:due:2026-12-07", "gemma", monday),
            reminder("remind:b:before:2026-12-07", "gemma", monday),
            reminder("remind:m:status:2026-12-03", "gemma", monday, ReminderKind.STATUS),
            reminder("remind:a:due:2026-12-07", "daniel", monday),
            reminder("remind:c:due:2026-12-07", "gemma", later),
            reminder("remind:a:due:2026-12-07", "gemma", monday),  # the same reminder twice
        ]
    )
    assert [(d.recipient_id, d.send_at, len(d.reminders)) for d in found] == [
        ("daniel", monday, 1),
        ("gemma", monday, 3),
        ("gemma", later, 1),
    ]
    assert found[1].has_status_request and not found[0].has_status_request


def test_a_digests_key_depends_on_its_reminders_only() -> None:
    monday = london(2026, 12, 7, 8, 0)
    one = reminder("remind:a:due:2026-12-07", "gemma", monday)
    two = reminder("remind:b:due:2026-12-07", "gemma", monday)
    assert Digest("gemma", monday, (one, two)).key == Digest("gemma", monday, (two, one)).key
    assert Digest("gemma", monday, (one,)).key != Digest("gemma", monday, (one, two)).key


def test_quiet_hours_are_read_from_configuration() -> None:
    assert parse_quiet_hours("08:00-18:00", "Mon-Fri") == QuietHours()
    assert parse_quiet_hours("7:30 - 19:00", "Mon-Wed, Fri") == QuietHours(
        start=time(7, 30), end=time(19, 0), workdays=frozenset({0, 1, 2, 4})
    )
    for hours, days in [("8-x", "Mon"), ("08:00-18:00", "Fri-Mon"), ("08:00-18:00", "Funday")]:
        with pytest.raises(InvalidInput, match="Quiet hours"):
            parse_quiet_hours(hours, days)
