"""Dates and times as people read them, in the panel's time zone, and the days nobody works."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays as holiday_calendar

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date, datetime

    from bot.domain.panel import Panel


def local(at: datetime, panel: Panel) -> datetime:
    """An instant in the panel's time zone."""
    return at.astimezone(ZoneInfo(panel.timezone))


def local_day(at: datetime, panel: Panel) -> date:
    """The day an instant falls on in the panel's time zone (e.g. today, from the clock)."""
    return local(at, panel).date()


def day_text(at: datetime, panel: Panel) -> str:
    """e.g. 'Mon 30 Nov 2026'."""
    d = local(at, panel)
    return f"{d:%a} {d.day} {d:%b %Y}"


def short_day_text(at: datetime, panel: Panel) -> str:
    """e.g. 'Tue 8 Dec'."""
    d = local(at, panel)
    return f"{d:%a} {d.day} {d:%b}"


def when_text(at: datetime, panel: Panel) -> str:
    """e.g. 'Tue 8 Dec 2026, 10:00'."""
    return f"{day_text(at, panel)}, {local(at, panel):%H:%M}"


def born_text(day: date) -> str:
    """e.g. '30 Nov 1972'."""
    return f"{day.day} {day:%b %Y}"


# --- bank holidays ------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _bank_holidays(years: tuple[int, ...]) -> frozenset[date]:
    return frozenset(holiday_calendar.country_holidays("GB", subdiv="ENG", years=years))


def england_and_wales_holidays(years: Iterable[int]) -> frozenset[date]:
    """Bank holidays of England and Wales (the same days) in these years, observed days
    included, from the maintained `holidays` library."""
    return _bank_holidays(tuple(sorted(set(years))))
