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


# The hard dates of the calendar: each row was counted by hand on the production calendar, not by
# the code under test. (base, cadence in working days) → (due, overdue, critical).
HARD_DATES = [
    pytest.param(date(2026, 12, 30), 1, date(2027, 1, 11), date(2027, 1, 12), date(2027, 1, 13),
                 id="30 Dec: 31 Dec 2026 is off by decree, then the New Year holidays"),
    pytest.param(date(2026, 12, 31), 3, date(2027, 1, 13), date(2027, 1, 14), date(2027, 1, 15),
                 id="a contact logged on 31 Dec, a day off"),
    pytest.param(date(2026, 12, 25), 3, date(2026, 12, 30), date(2027, 1, 11), date(2027, 1, 12),
                 id="due before the holidays, overdue only after them"),
    pytest.param(date(2027, 1, 5), 3, date(2027, 1, 13), date(2027, 1, 14), date(2027, 1, 15),
                 id="a contact during the holidays counts from 11 January"),
    pytest.param(date(2027, 1, 11), 3, date(2027, 1, 14), date(2027, 1, 15), date(2027, 1, 21),
                 id="the first working day of 2027"),
    pytest.param(date(2026, 1, 8), 1, date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 19),
                 id="9 Jan 2026 is off by decree"),
    pytest.param(date(2025, 10, 30), 2, date(2025, 11, 1), date(2025, 11, 5), date(2025, 11, 10),
                 id="1 Nov 2025 is a working Saturday, 3 and 4 Nov are off"),
    pytest.param(date(2028, 2, 25), 3, date(2028, 3, 1), date(2028, 3, 2), date(2028, 3, 6),
                 id="across the leap day 29 Feb 2028"),
    pytest.param(date(2028, 2, 28), 1, date(2028, 2, 29), date(2028, 3, 1), date(2028, 3, 9),
                 id="due on the leap day"),
    pytest.param(date(2026, 9, 30), 3, date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 12),
                 id="a month end before a weekend"),
    pytest.param(date(2027, 2, 26), 3, date(2027, 3, 3), date(2027, 3, 4), date(2027, 3, 9),
                 id="end of February, critical moved past 8 March"),
]


@pytest.mark.parametrize("base, interval, due, overdue, critical", HARD_DATES)
def test_cadence_on_the_hard_dates_of_the_calendar(base, interval, due, overdue, critical):
    """Around New Year, decree transfers, a leap day and a month end: are due, overdue and critical
    on the days the production calendar gives?"""
    dates = cadence_dates(base, interval)
    assert (dates.due_on, dates.overdue_on, dates.critical_on) == (due, overdue, critical)


@pytest.mark.parametrize("day, state", [
    (date(2026, 12, 30), CadenceState.DUE),
    (date(2026, 12, 31), CadenceState.DUE),
    (date(2027, 1, 1), CadenceState.DUE),
    (date(2027, 1, 8), CadenceState.DUE),
    (date(2027, 1, 10), CadenceState.DUE),
    (date(2027, 1, 11), CadenceState.OVERDUE),
    (date(2027, 1, 12), CadenceState.CRITICAL),
])
def test_nobody_turns_overdue_over_the_new_year_holidays(day, state):
    """Due on 30 December: does the client stay «due» through the holidays, overdue only on 11 January?"""
    assert cadence_state(day, *_t(cadence_dates(date(2026, 12, 25), 3))) == state


@pytest.mark.parametrize("raw", ["+7 (912) 345-67-89", "8 912 345 67 89", "9123456789", "+79123456789"])
def test_phone_numbers_are_normalised(raw):
    """Do all the ways people write a Russian mobile number become one?"""
    assert phone_digits(raw) == "79123456789"


def _t(dates):
    return dates.due_on, dates.overdue_on, dates.critical_on
