"""The panel's schedule: monthly rules, bank holidays, deadlines, month ends, leap years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.schedule import (
    MeetingSchedule,
    MonthlyRule,
    ScheduleError,
    next_meetings,
    parse_rule,
    plan_on,
    schedule_from_data,
    working_day_on_or_before,
)
from bot.kernel.localtime import england_and_wales_holidays

LONDON = ZoneInfo("Europe/London")
HOLIDAYS = england_and_wales_holidays(range(2025, 2030))
TUESDAY, THURSDAY, MONDAY = 1, 3, 0


def days(schedule: MeetingSchedule, after: datetime, count: int = 6) -> list[date]:
    return [m.on for m in next_meetings(schedule, after, count, HOLIDAYS)]


def test_the_second_tuesday_across_a_year() -> None:
    schedule = schedule_from_data({"rule": "second Tuesday"})
    planned = days(schedule, datetime(2026, 1, 1, tzinfo=UTC), count=12)
    assert planned == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
        date(2026, 6, 9),
        date(2026, 7, 14),
        date(2026, 8, 11),
        date(2026, 9, 8),
        date(2026, 10, 13),
        date(2026, 11, 10),
        date(2026, 12, 8),
    ]
    assert all(d.weekday() == TUESDAY and 8 <= d.day <= 14 for d in planned)


def test_meetings_start_at_the_configured_local_time_for_the_configured_length() -> None:
    schedule = schedule_from_data(
        {"rule": "last Thursday", "start": "14:00", "length_minutes": 120}
    )
    summer, winter = next_meetings(schedule, datetime(2026, 6, 1, tzinfo=UTC), 6)[0:6:5]
    assert summer.starts_at.astimezone(LONDON).time() == time(14, 0)
    assert summer.starts_at.astimezone(UTC).hour == 13  # British Summer Time
    assert winter.starts_at.astimezone(LONDON).time() == time(14, 0)
    assert winter.starts_at.astimezone(UTC).hour == 14  # Greenwich Mean Time
    assert summer.ends_at - summer.starts_at == timedelta(hours=2)


def test_a_first_monday_on_easter_monday_moves_to_the_tuesday() -> None:
    schedule = MeetingSchedule(rule=MonthlyRule(weekday=MONDAY, nth=1))
    april = next_meetings(schedule, datetime(2026, 3, 15, tzinfo=UTC), 1, HOLIDAYS)[0]
    assert april.on == date(2026, 4, 7)
    assert april.shifted_from == date(2026, 4, 6)


def test_the_early_may_bank_holiday_moves_a_first_monday_to_the_tuesday() -> None:
    schedule = MeetingSchedule(rule=MonthlyRule(weekday=MONDAY, nth=1))
    assert days(schedule, datetime(2026, 4, 20, tzinfo=UTC), 2) == [
        date(2026, 5, 5),
        date(2026, 6, 1),
    ]


def test_christmas_and_boxing_day_push_a_last_thursday_past_the_weekend() -> None:
    schedule = schedule_from_data({"rule": "last Thursday", "start": "14:00"})
    december = next_meetings(schedule, datetime(2025, 12, 1, tzinfo=UTC), 1, HOLIDAYS)[0]
    # 25 Dec 2025 is a Thursday and 26 Dec a Friday: the next working day is Monday 29th.
    assert december.shifted_from == date(2025, 12, 25)
    assert december.on == date(2025, 12, 29)


def test_a_substitute_boxing_day_is_skipped_too() -> None:
    schedule = schedule_from_data({"rule": "last Monday"})
    # 26 Dec 2026 is a Saturday, so Monday 28th is the bank holiday in its place.
    assert days(schedule, datetime(2026, 12, 1, tzinfo=UTC), 1) == [date(2026, 12, 29)]


def test_without_holidays_nothing_moves() -> None:
    schedule = MeetingSchedule(rule=MonthlyRule(weekday=MONDAY, nth=1))
    planned = next_meetings(schedule, datetime(2026, 4, 1, tzinfo=UTC), 1)
    assert planned[0].on == date(2026, 4, 6)
    assert planned[0].shifted_from is None


def test_the_last_weekday_of_the_month_knows_every_month_length() -> None:
    schedule = schedule_from_data({"rule": "last Thursday"})
    planned = days(schedule, datetime(2026, 1, 1, tzinfo=UTC), count=12)
    assert planned[1] == date(2026, 2, 26)  # February of 28 days
    assert planned[3] == date(2026, 4, 30)  # a 30-day month ending on a Thursday
    assert planned[11] == date(2026, 12, 31)  # a 31-day month ending on a Thursday
    for day in planned:
        assert day.weekday() == THURSDAY
        assert (day + timedelta(days=7)).month != day.month


def test_the_fourth_weekday_is_never_past_the_28th() -> None:
    schedule = schedule_from_data({"rule": "fourth Friday"})
    planned = next_meetings(schedule, datetime(2026, 1, 1, tzinfo=UTC), 12)  # no holidays
    assert all(22 <= m.on.day <= 28 for m in planned)


def test_a_leap_day_can_be_a_meeting_and_deadlines_count_it() -> None:
    last_tuesday = schedule_from_data({"rule": "last Tuesday"})
    assert days(last_tuesday, datetime(2028, 2, 1, tzinfo=UTC), 1) == [date(2028, 2, 29)]
    first_tuesday = schedule_from_data({"rule": "first Tuesday", "referral_deadline_days": 8})
    leap = next_meetings(first_tuesday, datetime(2028, 3, 1, tzinfo=UTC), 1)[0]
    plain = next_meetings(first_tuesday, datetime(2027, 3, 1, tzinfo=UTC), 1)[0]
    assert leap.on == date(2028, 3, 7)
    assert leap.referral_deadline.date() == date(2028, 2, 28)
    assert plain.on == date(2027, 3, 2)
    assert plain.referral_deadline.date() == date(2027, 2, 22)


def test_the_deadline_keeps_the_local_start_time_across_the_spring_clock_change() -> None:
    schedule = schedule_from_data({"rule": "second Tuesday", "referral_deadline_days": 18})
    april = next_meetings(schedule, datetime(2026, 4, 1, tzinfo=UTC), 1)[0]
    assert april.on == date(2026, 4, 14)
    deadline = april.referral_deadline.astimezone(LONDON)
    assert deadline.date() == date(2026, 3, 27)  # before the clocks went forward on 29 March
    assert deadline.time() == time(10, 0)
    assert april.starts_at.astimezone(LONDON).time() == time(10, 0)
    # 18 calendar days, yet one hour less in elapsed time.
    elapsed = april.starts_at.astimezone(UTC) - april.referral_deadline.astimezone(UTC)
    assert elapsed == timedelta(days=18, hours=-1)


def test_the_deadline_keeps_the_local_start_time_across_the_autumn_clock_change() -> None:
    schedule = schedule_from_data({"rule": "second Tuesday", "referral_deadline_days": 20})
    november = next_meetings(schedule, datetime(2026, 11, 1, tzinfo=UTC), 1)[0]
    deadline = november.referral_deadline.astimezone(LONDON)
    assert (deadline.date(), deadline.time()) == (date(2026, 10, 21), time(10, 0))
    assert deadline.utcoffset() == timedelta(hours=1)
    assert november.starts_at.utcoffset() == timedelta(0)


def test_a_start_time_the_clocks_skip_moves_forward_instead_of_failing() -> None:
    schedule = MeetingSchedule(dates=(date(2026, 3, 30),), start=time(10, 0))
    planned = plan_on(schedule, date(2026, 3, 29), time(1, 30))  # 01:30 does not exist
    assert planned.starts_at.astimezone(LONDON).time() == time(2, 30)


def test_a_meeting_already_started_is_not_planned_again() -> None:
    schedule = schedule_from_data({"rule": "second Tuesday"})
    during = datetime(2026, 12, 8, 10, 30, tzinfo=UTC)
    assert days(schedule, during, 1) == [date(2027, 1, 12)]
    just_before = datetime(2026, 12, 8, 9, 59, tzinfo=UTC)
    assert days(schedule, just_before, 1) == [date(2026, 12, 8)]


def test_explicit_dates_are_sorted_and_moved_off_bank_holidays() -> None:
    schedule = schedule_from_data(
        {
            "dates": ["2027-01-14", "2026-12-25", "2027-03-29", "2026-11-12"],
            "start": "14:00",
            "length_minutes": 120,
            "referral_deadline_days": 8,
        }
    )
    planned = next_meetings(schedule, datetime(2026, 11, 20, tzinfo=UTC), 6, HOLIDAYS)
    # Christmas Day 2026 is a Friday and Boxing Day is observed on Monday 28th.
    assert [m.on for m in planned] == [date(2026, 12, 29), date(2027, 1, 14), date(2027, 3, 30)]
    assert planned[1].starts_at.astimezone(LONDON).time() == time(14, 0)


def test_two_dates_that_land_on_one_day_make_one_meeting() -> None:
    schedule = schedule_from_data({"dates": ["2026-12-25", "2026-12-29"]})
    assert days(schedule, datetime(2026, 12, 1, tzinfo=UTC)) == [date(2026, 12, 29)]


def test_a_rule_can_be_written_in_several_ways() -> None:
    expected = MonthlyRule(weekday=TUESDAY, nth=2)
    assert parse_rule("second Tuesday") == expected
    assert parse_rule("2nd tuesday of the month") == expected
    assert parse_rule("  Second  TUESDAYS ") == expected
    data = {"rule": {"nth": 2, "weekday": "tuesday"}}
    assert schedule_from_data(data).rule == expected
    assert parse_rule("last Thursday") == MonthlyRule(weekday=THURSDAY, nth=-1)


def test_the_schedule_describes_itself() -> None:
    schedule = schedule_from_data({"rule": "last Thursday", "start": "14:00"})
    assert schedule.describe() == "last Thursday of the month, 14:00 for 120 minutes"


def test_a_schedule_defaults_to_london_and_may_name_another_zone() -> None:
    assert schedule_from_data({"rule": "second Tuesday"}).timezone == "Europe/London"
    dublin = schedule_from_data({"rule": "second Tuesday", "timezone": "Europe/Dublin"})
    assert dublin.zone == ZoneInfo("Europe/Dublin")


def test_next_meetings_needs_an_aware_time() -> None:
    schedule = schedule_from_data({"rule": "second Tuesday"})
    with pytest.raises(ValueError, match="aware"):
        next_meetings(schedule, datetime(2026, 1, 1))  # noqa: DTZ001 (naive on purpose: it must be refused)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({}, "either a monthly rule or a list of dates"),
        ({"rule": "second Tuesday", "dates": ["2027-01-14"]}, "not both"),
        ({"rule": "fifth Monday"}, "not a monthly rule"),
        ({"rule": "second Funday"}, "not a monthly rule"),
        ({"rule": "second Saturday"}, "Monday to Friday"),
        ({"rule": {"nth": 7, "weekday": 1}}, "first to fourth, or the last"),
        ({"rule": 2}, "rule is words"),
        ({"rule": "second Tuesday", "start": "25:00"}, "start is a 24-hour time"),
        ({"rule": "second Tuesday", "start": 10}, "start is a 24-hour time"),
        ({"rule": "second Tuesday", "length_minutes": 0}, "15 minutes to 12 hours"),
        ({"rule": "second Tuesday", "length_minutes": "two hours"}, "whole number"),
        ({"rule": "second Tuesday", "referral_deadline_days": -1}, "0 to 60 days"),
        ({"rule": "second Tuesday", "timezone": "Mars/Olympus"}, "not a known time zone"),
        ({"rule": "second Tuesday", "lenght_minutes": 90}, "Unknown schedule setting"),
        ({"dates": ["2026-13-01"]}, "not a date"),
        ({"dates": []}, "list of dates"),
        ({"dates": "2027-01-14"}, "list of dates"),
        ({"dates": ["2027-01-16"]}, "weekend"),
        ({"dates": ["2027-01-14", "2027-01-14"]}, "listed twice"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(
    data: dict[str, object], says: str
) -> None:
    with pytest.raises(ScheduleError) as refused:
        schedule_from_data(data)
    assert says in refused.value.message
    assert isinstance(refused.value, InvalidInput)


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (date(2026, 12, 9), date(2026, 12, 9)),  # a Wednesday stays
        (date(2026, 12, 6), date(2026, 12, 4)),  # Sunday: the Friday before
        (date(2026, 12, 5), date(2026, 12, 4)),  # Saturday: the Friday before
        (date(2026, 12, 28), date(2026, 12, 24)),  # Boxing Day's substitute, Sunday, Saturday,
        # Christmas Day: back to Thursday 24 December
        (date(2027, 3, 29), date(2027, 3, 25)),  # Easter Monday, the weekend, Good Friday
    ],
)
def test_a_due_date_on_a_weekend_or_bank_holiday_moves_to_the_working_day_before(
    day: date, due: date
) -> None:
    assert working_day_on_or_before(day, england_and_wales_holidays({2026, 2027})) == due
