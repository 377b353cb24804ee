"""Numbers, money, dates and plurals the Russian way (Babel), as pages and documents print them."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webapp import formatting
from webapp.formatting import date_time, day_start, long_date, money, number, plural, short_date

NBSP = "\u00a0"
UTC = timezone.utc


@pytest.fixture
def zone():
    """Switch the installation's time zone for one test, and back to Moscow after it."""
    yield formatting.set_timezone
    formatting.set_timezone("Europe/Moscow")


@pytest.mark.parametrize("amount, text", [
    (Decimal("1234.50"), f"1{NBSP}234,50{NBSP}₽"),
    (Decimal("1234.5"), f"1{NBSP}234,50{NBSP}₽"),
    (Decimal("1234567.89"), f"1{NBSP}234{NBSP}567,89{NBSP}₽"),
    (Decimal("999.999"), f"1{NBSP}000,00{NBSP}₽"),
    (Decimal("2.675"), f"2,68{NBSP}₽"),  # half up on the Decimal (a float 2.675 would give 2,67)
    (Decimal("0.005"), f"0,01{NBSP}₽"),
    (0, f"0,00{NBSP}₽"),
    (1000, f"1{NBSP}000,00{NBSP}₽"),  # an int is roubles, not kopecks
    (None, "—"),
])
def test_money_is_printed_with_no_break_spaces_and_kopecks(amount, text):
    """Is money «1 234,50 ₽», thousands and the sign joined by non-breaking spaces?"""
    assert money(amount) == text


def test_money_without_currency_sign():
    """Can a table column print the amount without «₽»?"""
    assert money(Decimal("1234.5"), currency=False) == f"1{NBSP}234,50"


@pytest.mark.parametrize("value, digits, text", [
    (Decimal("1234.50"), 2, f"1{NBSP}234,5"),
    (Decimal("7.25"), 2, "7,25"),
    (Decimal("8.00"), 2, "8"),
    (12, 0, "12"),
    (None, 2, "—"),
])
def test_numbers_drop_trailing_zeros(value, digits, text):
    """Are hours and quantities printed as «1 234,5» and «8», not «8,00»?"""
    assert number(value, digits) == text


def _spaced(text: str) -> str:
    """The text with no-break spaces made plain (CLDR puts U+00A0 or U+202F before «г.»)."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


@pytest.mark.parametrize("day, text", [
    (date(2026, 11, 26), "26 ноября 2026 г."),
    (date(2026, 1, 1), "1 января 2026 г."),
    (date(2026, 3, 8), "8 марта 2026 г."),
    (date(2026, 5, 9), "9 мая 2026 г."),
    (date(2027, 8, 31), "31 августа 2027 г."),
])
def test_long_date_in_the_genitive(day, text):
    """Are long dates «26 ноября 2026 г.», the year and «г.» never split across lines?"""
    printed = long_date(day)
    assert _spaced(printed) == text
    assert printed[-3] in (NBSP, "\u202f")


def test_long_date_of_a_moment_is_the_moscow_day():
    """Is 22:30 UTC on 25 November already 26 November in Moscow?"""
    assert _spaced(long_date(datetime(2026, 11, 25, 22, 30, tzinfo=UTC))) == "26 ноября 2026 г."
    assert short_date(datetime(2026, 11, 25, 22, 30, tzinfo=UTC)) == "26.11.2026"
    assert short_date(date(2026, 1, 5)) == "05.01.2026"
    assert long_date(None) == short_date(None) == "—"


@pytest.mark.parametrize("moment, text", [
    (datetime(2026, 11, 26, 11, 5, tzinfo=UTC), "26.11.2026 14:05"),
    (datetime(2026, 11, 26, 21, 30, tzinfo=UTC), "27.11.2026 00:30"),
    (datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "01.07.2026 12:00"),  # no summer time in Russia
    (datetime(2026, 11, 26, 14, 5, tzinfo=timezone(timedelta(hours=3))), "26.11.2026 14:05"),
    (None, "—"),
])
def test_date_time_is_shown_in_moscow_time(moment, text):
    """Is a stored UTC time shown on Moscow's clock?"""
    assert date_time(moment) == text


def test_another_installation_time_zone(zone):
    """Does an installation in Yekaterinburg see the same moment on its own clock?"""
    zone("Asia/Yekaterinburg")
    assert date_time(datetime(2026, 11, 26, 11, 5, tzinfo=UTC)) == "26.11.2026 16:05"
    start = day_start(date(2026, 11, 26))
    assert start.astimezone(UTC) == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


def test_day_start_is_midnight_in_moscow():
    """Does «from 26 November» mean from 21:00 UTC on the 25th?"""
    assert day_start(date(2026, 11, 26)).astimezone(UTC) == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("n, word", [
    (0, "дней"), (1, "день"), (2, "дня"), (4, "дня"), (5, "дней"), (11, "дней"), (12, "дней"),
    (14, "дней"), (21, "день"), (22, "дня"), (25, "дней"), (101, "день"), (111, "дней"),
    (112, "дней"), (122, "дня"), (1001, "день"), (-1, "день"), (-3, "дня"),
])
def test_plural(n, word):
    """Is it 1 день, 2 дня, 5 дней, 11 дней, 21 день, 111 дней?"""
    assert plural(n, "день", "дня", "дней") == word
