"""Amounts on documents: «1 234 567,89 ₽», the amount in words, and VAT in its three modes.

Everything here is ``Decimal`` (an ``int`` is accepted as whole rubles); a ``float`` is refused
with ``TypeError``, because a float amount has already lost kopecks somewhere.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from num2words import num2words

from webapp.formatting import CENT, money, plural
from webapp.models.company import VatMode

NO_VAT_TEXT = "Без налога (НДС)"


def _decimal(value: Decimal | int, what: str = "amount") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what} must be Decimal or int, not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    return value


def kopecks(value: Decimal | int) -> Decimal:
    """The amount rounded to kopecks, half up (0,005 → 0,01)."""
    return _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal | int) -> str:
    """«1 234 567,89 ₽»: non-breaking spaces between thousands and before the sign."""
    return money(kopecks(value))


def amount_in_words(value: Decimal | int) -> str:
    """«Одна тысяча рублей 00 копеек», «Сто один рубль 01 копейка».

    Rubles in words (capitalised), kopecks as two digits; both nouns agree with their number.
    """
    amount = kopecks(value)
    if amount < 0:
        raise ValueError("a negative amount has no wording on a document")
    rubles = int(amount)
    cents = int((amount - rubles) * 100)
    words = number_in_words(rubles)
    ruble_noun = plural(rubles, "рубль", "рубля", "рублей")
    kopeck_noun = plural(cents, "копейка", "копейки", "копеек")
    text = f"{words} {ruble_noun} {cents:02d} {kopeck_noun}"
    return text[0].upper() + text[1:]


def amount_with_words(value: Decimal | int) -> str:
    """«150 000 (сто пятьдесят тысяч) рублей 00 копеек»: figures, then the rubles in words."""
    amount = kopecks(value)
    if amount < 0:
        raise ValueError("a negative amount has no wording on a document")
    rubles = int(amount)
    cents = int((amount - rubles) * 100)
    figures = money(Decimal(rubles), currency=False).split(",")[0]
    ruble_noun = plural(rubles, "рубль", "рубля", "рублей")
    kopeck_noun = plural(cents, "копейка", "копейки", "копеек")
    return f"{figures} ({number_in_words(rubles)}) {ruble_noun} {cents:02d} {kopeck_noun}"


@lru_cache(maxsize=4096)
def number_in_words(number: int) -> str:
    """«сто один»: num2words spells a number in 0.7 ms, and a document's amounts and terms recur.
    (num2words(int, to="currency") would read the int as kopecks: rubles are spelled as a number.)"""
    return num2words(number, lang="ru")


def vat_statement(mode: VatMode | str) -> str:
    """How an amount on a document stands to VAT: «включая НДС», «без учёта НДС», «НДС не облагается»."""
    return {VatMode.INCLUDED: "включая НДС", VatMode.ON_TOP: "без учёта НДС",
            VatMode.NONE: "НДС не облагается"}[VatMode(mode)]


@dataclass(frozen=True)
class VatBreakdown:
    """A document's total split into net and VAT; ``label`` and ``vat_text`` are what it prints."""

    net: Decimal
    vat: Decimal
    total: Decimal
    mode: VatMode
    rate: Decimal

    @property
    def label(self) -> str:
        """The caption of the VAT line: «В том числе НДС 22 %», «НДС 22 %», «Без налога (НДС)»."""
        rate = f"{self.rate.normalize():f}".replace(".", ",")
        if self.mode is VatMode.INCLUDED:
            return f"В том числе НДС {rate}\u00a0%"
        if self.mode is VatMode.ON_TOP:
            return f"НДС {rate}\u00a0%"
        return NO_VAT_TEXT

    @property
    def vat_text(self) -> str:
        """The VAT amount as printed: «2 200,00 ₽», or «Без налога (НДС)» when there is none."""
        return NO_VAT_TEXT if self.mode is VatMode.NONE else format_amount(self.vat)


def vat(amount: Decimal | int, mode: VatMode | str, rate: Decimal | int) -> VatBreakdown:
    """Split a document total by VAT mode, rounding once, half up, to kopecks.

    ON_TOP: ``amount`` is the net, VAT = net × r / 100 is added on top.
    INCLUDED: ``amount`` is the total, VAT = total × r / (100 + r) is inside it.
    NONE: no VAT; net and total are the amount (the document says «Без налога (НДС)»).
    """
    mode = VatMode(mode)
    amount = kopecks(amount)
    rate = _decimal(rate, "rate")
    if rate < 0:
        raise ValueError("a VAT rate cannot be negative")
    if mode is VatMode.ON_TOP:
        tax = (amount * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return VatBreakdown(net=amount, vat=tax, total=amount + tax, mode=mode, rate=rate)
    if mode is VatMode.INCLUDED:
        tax = (amount * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return VatBreakdown(net=amount - tax, vat=tax, total=amount, mode=mode, rate=rate)
    return VatBreakdown(net=amount, vat=Decimal("0.00"), total=amount, mode=mode, rate=rate)
