"""Russian requisites: ИНН, КПП, ОГРН, БИК and bank accounts against known real and broken values."""

import pytest

from webapp.requisites import (check_account, check_bik, check_corr_account, check_inn, check_kpp,
                               check_ogrn, make_inn, make_ogrn, with_account_key)

SBER_BIK, SBER_CORR = "044525225", "30101810400000000225"


@pytest.mark.parametrize("inn", [
    "7707083893",  # ПАО Сбербанк
    "7736050003",  # ПАО «Газпром»
    "7702070139",  # Банк ВТБ (ПАО)
    "7728168971",  # АО «Альфа-Банк»
    "500100732259",  # a person's (ИП) 12-digit ИНН
    "",  # not filled in: optional fields decide elsewhere whether it is required
])
def test_valid_inn_passes(inn):
    """Are real ИНН of organisations and of a person accepted?"""
    assert check_inn(inn) is None


@pytest.mark.parametrize("inn, message", [
    ("7707083894", "ИНН не проходит проверку контрольных цифр."),
    ("500100732258", "ИНН не проходит проверку контрольных цифр."),
    ("500100732249", "ИНН не проходит проверку контрольных цифр."),  # first of the two keys wrong
    ("770708389", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),
    ("77070838931", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),
    ("77070838 3", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),
    ("７７０７０８３８９３", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),  # full-width digits
])
def test_invalid_inn_is_refused_with_the_reason(inn, message):
    """Is a wrong ИНН refused, saying whether its length or its check digits are wrong?"""
    assert check_inn(inn) == message


@pytest.mark.parametrize("kpp, ok", [
    ("773601001", True), ("770701001", True), ("7736AB001", True),
    ("77360100", False), ("7736010011", False), ("7736ab001", False), ("77A601001", False),
])
def test_kpp_format(kpp, ok):
    """Is a КПП 4 digits, 2 digits or capital Latin letters, and 3 digits?"""
    assert (check_kpp(kpp) is None) == ok


@pytest.mark.parametrize("ogrn, ok", [
    ("1027700132195", True),  # ПАО Сбербанк
    ("1027700070518", True),  # ПАО «Газпром»
    ("304500116000157", True),  # ОГРНИП, 15 digits
    ("1027700132194", False),
    ("304500116000158", False),
    ("102770013219", False),
    ("0027700132195", False),
    ("", True),
])
def test_ogrn_check_digit(ogrn, ok):
    """Is the ОГРН (13 digits) or ОГРНИП (15) accepted only with its right check digit?"""
    assert (check_ogrn(ogrn) is None) == ok


def test_generated_requisites_are_valid():
    """Do the demo-data helpers make ИНН and ОГРН that pass the checks?"""
    assert make_inn("770708389") == "7707083893"
    assert make_ogrn("102770013219") == "1027700132195"
    for twelve in ("117774612345", "102770007051", "116772013299", "100000000000"):
        assert check_ogrn(make_ogrn(twelve)) is None, twelve
    for nine in ("771234567", "500100732", "000000001"):
        assert check_inn(make_inn(nine)) is None, nine


@pytest.mark.parametrize("bik, ok", [
    ("044525225", True), ("044030653", True), ("144525225", False), ("04452522", False), ("0445252255", False),
])
def test_bik_format(bik, ok):
    """Is a БИК 9 digits starting with 04?"""
    assert (check_bik(bik) is None) == ok


@pytest.mark.parametrize("bik, corr", [
    ("044525225", "30101810400000000225"),  # ПАО Сбербанк, Москва
    ("044030653", "30101810500000000653"),  # Северо-Западный банк ПАО Сбербанк
    ("044525187", "30101810700000000187"),  # Банк ВТБ
    ("044525593", "30101810200000000593"),  # АО «Альфа-Банк»
])
def test_real_correspondent_accounts_match_their_bik(bik, corr):
    """Do real banks' correspondent accounts pass the key check against their БИК?"""
    assert check_corr_account(corr, bik) is None


def test_correspondent_account_of_a_bank_in_another_region_is_refused():
    """Is a Moscow к/с refused next to a St Petersburg БИК, and a р/с typed as a к/с?"""
    assert check_corr_account(SBER_CORR, "044030653") == \
        "Корр. счёт не соответствует БИК (не сходится контрольная цифра)."
    assert check_corr_account("40702810400000000225", SBER_BIK) == \
        "Корреспондентский счёт состоит из 20 цифр и начинается с 301."
    assert check_corr_account(SBER_CORR, "") == "Укажите верный БИК банка: по нему проверяется счёт."


def test_settlement_account_is_keyed_to_the_bik():
    """Does a р/с pass with its own bank's БИК, and fail with a changed digit or another БИК?"""
    account = with_account_key(SBER_BIK, "4070281000000001234")
    assert len(account) == 20 and account.startswith("40702810")
    assert check_account(account, SBER_BIK) is None
    changed = account[:-1] + str((int(account[-1]) + 1) % 10)
    assert check_account(changed, SBER_BIK) == "Счёт не соответствует БИК (не сходится контрольная цифра)."
    assert check_account(account, "044525187") is not None
    assert check_account(account, "") == "Укажите верный БИК банка: по нему проверяется счёт."
    assert check_account(account[:-1], SBER_BIK) == "Расчётный счёт состоит из 20 цифр."


def _weighted(digits: str) -> int:
    return sum(int(d) * (7, 1, 3)[i % 3] for i, d in enumerate(digits))


def test_the_account_key_uses_weights_7_1_3():
    """Is the key the Bank of Russia's: weights 7-1-3 over БИК digits and account, sum ending in 0?"""
    # worked out here without the code under test
    assert _weighted("0" + SBER_BIK[4:6] + SBER_CORR) % 10 == 0  # к/с: «0» and the БИК's 5th–6th digits
    account = with_account_key(SBER_BIK, "4070281000000001234")
    assert account[:8] + account[9:] == "4070281000000001234"  # the key is the 9th digit
    assert _weighted(SBER_BIK[-3:] + account) % 10 == 0  # р/с: the БИК's last three digits
