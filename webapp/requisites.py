"""Russian requisites and their check digits: ИНН, КПП, ОГРН, БИК, bank accounts.

Each ``check_*`` returns None when the value is valid (or empty) and a Russian message otherwise,
so forms, services and the demo data all use the same rules.
"""

import re

from stdnum.exceptions import ValidationError
from stdnum.ru import inn as _inn, ogrn as _ogrn

# re.ASCII throughout: «\d» would also take Arabic-Indic or full-width digits («７７０７…»),
# which pass the check sums and then print as such in documents.
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$", re.ASCII)
_WEIGHTS = (7, 1, 3)


def digits_only(value: str) -> str:
    return re.sub(r"\D", "", value or "", flags=re.ASCII)


def check_inn(value: str) -> str | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{10}|\d{12}", value, re.ASCII):
        return "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."
    try:
        _inn.validate(value)
    except ValidationError:
        return "ИНН не проходит проверку контрольных цифр."
    return None


def check_kpp(value: str) -> str | None:
    if not value:
        return None
    if not _KPP.match(value):
        return "КПП состоит из 9 символов: 4 цифры, 2 цифры или латинские буквы, 3 цифры."
    return None


def check_ogrn(value: str) -> str | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{13}|\d{15}", value, re.ASCII):
        return "ОГРН состоит из 13 цифр (ОГРНИП — из 15)."
    try:
        _ogrn.validate(value)
    except ValidationError:
        return "ОГРН не проходит проверку контрольной цифры."
    return None


def check_bik(value: str) -> str | None:
    if not value:
        return None
    if not re.fullmatch(r"04\d{7}", value, re.ASCII):
        return "БИК состоит из 9 цифр и начинается с 04."
    return None


def _account_key_ok(prefix3: str, account: str) -> bool:
    digits = prefix3 + account
    return sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(digits)) % 10 == 0


def check_account(value: str, bik: str) -> str | None:
    """Расчётный счёт: 20 digits, keyed with the last three digits of the bank's БИК."""
    if not value:
        return None
    if not re.fullmatch(r"\d{20}", value, re.ASCII):
        return "Расчётный счёт состоит из 20 цифр."
    if check_bik(bik) is not None or not bik:
        return "Укажите верный БИК банка: по нему проверяется счёт."
    if not _account_key_ok(bik[-3:], value):
        return "Счёт не соответствует БИК (не сходится контрольная цифра)."
    return None


def check_corr_account(value: str, bik: str) -> str | None:
    """Корреспондентский счёт: 20 digits starting 301, keyed with «0» and digits 5–6 of the БИК."""
    if not value:
        return None
    if not re.fullmatch(r"301\d{17}", value, re.ASCII):
        return "Корреспондентский счёт состоит из 20 цифр и начинается с 301."
    if check_bik(bik) is not None or not bik:
        return "Укажите верный БИК банка: по нему проверяется счёт."
    if not _account_key_ok("0" + bik[4:6], value):
        return "Корр. счёт не соответствует БИК (не сходится контрольная цифра)."
    return None


def with_account_key(bik: str, account19: str, corr: bool = False) -> str:
    """Complete a 20-digit account by computing its key digit (position 9); for demo data."""
    prefix = ("0" + bik[4:6]) if corr else bik[-3:]
    for key in "0123456789":
        candidate = account19[:8] + key + account19[8:]
        if _account_key_ok(prefix, candidate):
            return candidate
    raise ValueError("no key digit")


def make_inn(nine_digits: str) -> str:
    """A valid 10-digit ИНН from its first nine digits (demo and generated data)."""
    return nine_digits + _inn.calc_company_check_digit(nine_digits)


def make_ogrn(twelve_digits: str) -> str:
    """A valid 13-digit ОГРН from its first twelve digits.

    (stdnum's ``calc_check_digit`` wants the whole number, check digit included, and reads the
    length from it: handed twelve digits it applies the 15-digit ОГРНИП rule.)
    """
    return twelve_digits + str(int(twelve_digits) % 11 % 10)
