"""The Russian production calendar: which days people work.

python-holidays knows the government's transfers (9 January 2026 off, 1 November 2025 a working
Saturday), which workalendar 17 does not; cadence and deadlines count working days with it.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def is_working_day(day: date) -> bool:
    return _calendar().is_working_day(day)


def on_or_after(day: date) -> date:
    """``day`` if people work then, else the next working day."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself not counted)."""
    current = day
    for _ in range(count):
        current = on_or_after(current + timedelta(days=1))
    return current
