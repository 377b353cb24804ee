"""The contact cadence at its edges: weekends, holidays, transfers, planned dates, no contact yet."""

from datetime import date

import pytest

from webapp.models.clients import CadenceState, cadence_dates, cadence_state, phone_digits


def test_three_working_days_from_monday():
    """Contacted on Monday with a 3-day cadence: due Thursday, overdue Friday, critical after ten days?"""
    dates = cadence_dates(date(2026, 11, 23), 3)
    assert (dates.due_on, dates.overdue_on, dates.critical_on) == (
        date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 3))


def test_weekend_does_not_count():
    """Contacted on Friday: does the weekend push the due day to Wednesday?"""
    dates = cadence_dates(date(2026, 11, 27), 3)
    assert dates.due_on == date(2026, 12, 2)
    assert dates.overdue_on == date(2026, 12, 3)


def test_public_holiday_is_skipped():
    """4 November is a holiday: is a client contacted on 2 November due on the 6th, not the 5th?"""
    assert cadence_dates(date(2026, 11, 2), 3).due_on == date(2026, 11, 6)


def test_new_year_holidays_make_nobody_overdue():
    """Contacted on 29 December: no one is due during the New Year holidays (9 Jan 2026-style
    transfers included)."""
    dates = cadence_dates(date(2026, 12, 29), 3)
    assert dates.due_on == date(2027, 1, 12)
    assert dates.overdue_on == date(2027, 1, 13)
    assert dates.critical_on == date(2027, 1, 14)
    for day in (date(2027, 1, 5), date(2027, 1, 8), date(2027, 1, 11)):
        assert cadence_state(day, dates.due_on, dates.overdue_on, dates.critical_on) == CadenceState.OK


def test_government_transfers_are_known():
    """9 January 2026 is a day off by decree, 1 November 2025 a working Saturday: do we know?"""
    assert cadence_dates(date(2026, 1, 8), 1).due_on == date(2026, 1, 12)
    assert cadence_dates(date(2025, 10, 30), 2).due_on == date(2025, 11, 1)


def test_critical_is_ten_calendar_days_moved_to_a_working_day():
    """Ten days after a Wednesday contact is a Saturday: does critical wait until Monday?"""
    assert cadence_dates(date(2026, 11, 18), 3).critical_on == date(2026, 11, 30)


def test_long_cadence_still_has_critical_after_overdue():
    """With a 7-day cadence, is critical never before overdue?"""
    dates = cadence_dates(date(2026, 11, 23), 7)
    assert dates.due_on == date(2026, 12, 2)
    assert dates.overdue_on < dates.critical_on


def test_planned_date_later_than_cadence_takes_precedence():
    """«Call me on 10 December»: is the client not due before then, and critical only after it?"""
    dates = cadence_dates(date(2026, 11, 23), 3, planned=date(2026, 12, 10))
    assert (dates.due_on, dates.overdue_on, dates.critical_on) == (
        date(2026, 12, 10), date(2026, 12, 11), date(2026, 12, 14))
    assert cadence_state(date(2026, 12, 9), *_t(dates)) == CadenceState.OK


def test_planned_date_earlier_than_cadence_changes_nothing():
    """A planned date sooner than the cadence: does the cadence still decide?"""
    assert cadence_dates(date(2026, 11, 23), 3, planned=date(2026, 11, 24)).due_on == date(2026, 11, 26)


def test_planned_date_on_a_weekend_moves_to_monday():
    """Planned for a Saturday: is the client due on Monday?"""
    assert cadence_dates(date(2026, 11, 23), 3, planned=date(2026, 12, 5)).due_on == date(2026, 12, 7)


@pytest.mark.parametrize("day, state", [
    (date(2026, 11, 25), CadenceState.OK),
    (date(2026, 11, 26), CadenceState.DUE),
    (date(2026, 11, 27), CadenceState.OVERDUE),
    (date(2026, 12, 2), CadenceState.OVERDUE),
    (date(2026, 12, 3), CadenceState.CRITICAL),
])
def test_state_changes_exactly_on_its_day(day, state):
    """Does the badge change on the due, overdue and critical days, not a day early or late?"""
    assert cadence_state(day, *_t(cadence_dates(date(2026, 11, 23), 3))) == state


@pytest.mark.parametrize("raw", ["+7 (912) 345-67-89", "8 912 345 67 89", "9123456789", "+79123456789"])
def test_phone_numbers_are_normalised(raw):
    """Do all the ways people write a Russian mobile number become one?"""
    assert phone_digits(raw) == "79123456789"


def _t(dates):
    return dates.due_on, dates.overdue_on, dates.critical_on
