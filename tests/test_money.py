"""Amounts as a Russian document prints them: digits, words, and the VAT line."""

from decimal import Decimal

import pytest

from webapp.documents.money import VatBreakdown, amount_in_words, format_amount, vat
from webapp.models.company import VatMode

NBSP = "\u00a0"

AMOUNTS_IN_WORDS = [
    ("0", "Ноль рублей 00 копеек"),
    ("1", "Один рубль 00 копеек"),
    ("2", "Два рубля 00 копеек"),
    ("5", "Пять рублей 00 копеек"),
    ("11", "Одиннадцать рублей 00 копеек"),
    ("21", "Двадцать один рубль 00 копеек"),
    ("101", "Сто один рубль 00 копеек"),
    ("1000", "Одна тысяча рублей 00 копеек"),
    ("1001", "Одна тысяча один рубль 00 копеек"),
    ("2000", "Две тысячи рублей 00 копеек"),
    ("5000", "Пять тысяч рублей 00 копеек"),
    ("21000", "Двадцать одна тысяча рублей 00 копеек"),
    ("1000000", "Один миллион рублей 00 копеек"),
    ("2000000", "Два миллиона рублей 00 копеек"),
    ("1234567.89", "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей "
                   "89 копеек"),
    ("0.01", "Ноль рублей 01 копейка"),
    ("101.01", "Сто один рубль 01 копейка"),
    ("2.02", "Два рубля 02 копейки"),
    ("3.11", "Три рубля 11 копеек"),
    ("14.21", "Четырнадцать рублей 21 копейка"),
    ("122.5", "Сто двадцать два рубля 50 копеек"),
    ("36600.00", "Тридцать шесть тысяч шестьсот рублей 00 копеек"),
]


@pytest.mark.parametrize("amount, words", AMOUNTS_IN_WORDS)
def test_amount_in_words_reads_like_a_russian_act(amount, words):
    """Does the amount in words agree in number and gender, with kopecks as two digits?"""
    assert amount_in_words(Decimal(amount)) == words


def test_amount_in_words_counts_whole_rubles_not_kopecks():
    """Is a thousand rubles passed as an int still a thousand rubles, not ten?"""
    assert amount_in_words(1000) == "Одна тысяча рублей 00 копеек"


def test_amount_in_words_rounds_half_a_kopeck_up():
    """Does 12,345 ₽ in words say 35 kopecks, as the printed figure does?"""
    assert amount_in_words(Decimal("12.345")) == "Двенадцать рублей 35 копеек"
    assert format_amount(Decimal("12.345")) == f"12,35{NBSP}₽"


def test_negative_amount_has_no_wording():
    """Is a negative amount refused instead of printed as words?"""
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1"))


@pytest.mark.parametrize("amount, printed", [
    ("0", "0,00 ₽"),
    ("5", "5,00 ₽"),
    ("999.99", "999,99 ₽"),
    ("1000", "1 000,00 ₽"),
    ("1234.5", "1 234,50 ₽"),
    ("1234567.89", "1 234 567,89 ₽"),
])
def test_amounts_print_with_non_breaking_thousands(amount, printed):
    """Are thousands and the ruble sign separated by non-breaking spaces, kopecks always shown?"""
    assert format_amount(Decimal(amount)) == printed.replace(" ", NBSP)


@pytest.mark.parametrize("function", [format_amount, amount_in_words])
def test_float_amounts_are_refused(function):
    """Does a float amount fail loudly instead of printing a rounded guess?"""
    with pytest.raises(TypeError):
        function(1234.5)


def test_vat_on_top_is_added_to_the_net():
    """With VAT on top, is 22 % of 100 000 ₽ added to make 122 000 ₽?"""
    result = vat(Decimal("100000.00"), VatMode.ON_TOP, Decimal("22"))
    assert (result.net, result.vat, result.total) == (
        Decimal("100000.00"), Decimal("22000.00"), Decimal("122000.00"))
    assert result.label == f"НДС 22{NBSP}%"
    assert result.vat_text == f"22{NBSP}000,00{NBSP}₽"


def test_vat_included_is_extracted_from_the_total():
    """With VAT included, is the VAT total × 22/122 and the net the rest?"""
    result = vat(Decimal("122000.00"), VatMode.INCLUDED, Decimal("22.00"))
    assert (result.net, result.vat, result.total) == (
        Decimal("100000.00"), Decimal("22000.00"), Decimal("122000.00"))
    assert result.label == f"В том числе НДС 22{NBSP}%"


def test_no_vat_prints_without_tax():
    """Under УСН, is the VAT zero and the line «Без налога (НДС)»?"""
    result = vat(Decimal("50000.00"), VatMode.NONE, Decimal("22"))
    assert result == VatBreakdown(net=Decimal("50000.00"), vat=Decimal("0.00"),
                                  total=Decimal("50000.00"), mode=VatMode.NONE,
                                  rate=Decimal("22"))
    assert result.label == result.vat_text == "Без налога (НДС)"


@pytest.mark.parametrize("amount, mode, rate, net, tax, total", [
    # 0,75 × 22 % = 0,165: half up gives 0,17 (banker's rounding would give 0,16)
    ("0.75", VatMode.ON_TOP, "22", "0.75", "0.17", "0.92"),
    # 0,25 × 22 % = 0,055 → 0,06
    ("0.25", VatMode.ON_TOP, "22", "0.25", "0.06", "0.31"),
    # 0,02 × 22 % = 0,0044 → 0,00
    ("0.02", VatMode.ON_TOP, "22", "0.02", "0.00", "0.02"),
    # 0,03 × 20/120 = 0,005 exactly → 0,01
    ("0.03", VatMode.INCLUDED, "20", "0.02", "0.01", "0.03"),
    # 0,09 × 20/120 = 0,015 → 0,02
    ("0.09", VatMode.INCLUDED, "20", "0.07", "0.02", "0.09"),
    # 1 000 × 22/122 = 180,327… → 180,33
    ("1000.00", VatMode.INCLUDED, "22", "819.67", "180.33", "1000.00"),
    # 333,33 × 10 % = 33,333 → 33,33
    ("333.33", VatMode.ON_TOP, "10", "333.33", "33.33", "366.66"),
    # 12 345,67 × 5/105 = 587,889… → 587,89
    ("12345.67", VatMode.INCLUDED, "5", "11757.78", "587.89", "12345.67"),
    # 10 × 7 % = 0,70
    ("10", VatMode.ON_TOP, "7", "10.00", "0.70", "10.70"),
])
def test_vat_rounds_half_up_to_kopecks_on_the_total(amount, mode, rate, net, tax, total):
    """Is VAT rounded once, half up, to kopecks, so that net + VAT = total exactly?"""
    result = vat(Decimal(amount), mode, Decimal(rate))
    assert (result.net, result.vat, result.total) == (Decimal(net), Decimal(tax), Decimal(total))
    assert result.net + result.vat == result.total
    assert result.vat.as_tuple().exponent == -2


def test_vat_amount_with_fractions_of_a_kopeck_is_rounded_first():
    """Is a total carrying half a kopeck rounded up before VAT is taken from it?"""
    result = vat(Decimal("122.005"), VatMode.INCLUDED, 22)
    assert result.total == Decimal("122.01")
    assert result.vat == Decimal("22.00")


def test_vat_accepts_mode_as_stored_string():
    """Does a mode stored as its string value work like the enum?"""
    assert vat(Decimal("100"), "on_top", 22).total == Decimal("122.00")


@pytest.mark.parametrize("amount, rate", [(100.0, Decimal(22)), (Decimal(100), 22.0)])
def test_vat_refuses_floats(amount, rate):
    """Does a float amount or rate fail with TypeError?"""
    with pytest.raises(TypeError):
        vat(amount, VatMode.ON_TOP, rate)
