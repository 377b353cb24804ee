"""A party to a document: short name from the requisites, the preamble with signatory and authority."""

from datetime import date

import pytest

from webapp.documents.parties import Party, genitive_position, short_name
from webapp.documents.typography import NBSP
from webapp.models.company import SignatoryAuthority


def test_short_name_comes_from_the_legal_form_not_the_crm_label():
    """Is «ООО «Ромашка»» printed from the legal name, and an ИП as «ИП Петров П. П.»?"""
    assert short_name("Общество с ограниченной ответственностью «Ромашка»", "Ромашка") == "ООО «Ромашка»"
    assert short_name("Акционерное общество «СтройИнвест»") == "АО «СтройИнвест»"
    assert short_name("Индивидуальный предприниматель Петров Пётр Петрович") == f"ИП Петров{NBSP}П.{NBSP}П."
    assert short_name("", "Ромашка") == "Ромашка"


def test_preamble_names_a_director_acting_on_the_charter():
    """Does the preamble say «в лице Генерального директора Иванова Ивана Ивановича, действующего
    на основании Устава»?"""
    party = Party(name="", legal_name="ООО «Ромашка»", signatory_name="Иванов Иван Иванович",
                  signatory_position="Генеральный директор")
    assert party.preamble("Заказчик") == ("ООО «Ромашка», именуемое в дальнейшем «Заказчик», в лице Генерального "
                                          "директора Иванова Ивана Ивановича, действующего на основании Устава")


def test_preamble_names_a_power_of_attorney_with_number_and_date():
    """Does a representative act «на основании доверенности № 12 от 1 февраля 2026 г.», in her gender?"""
    party = Party(name="", legal_name="ООО «Ромашка»", signatory_name="Петрова Мария Ивановна",
                  signatory_position="Директор по развитию", signatory_position_genitive="Директора по развитию",
                  authority=SignatoryAuthority.ATTORNEY, attorney_number="№ 12", attorney_date=date(2026, 2, 1))
    assert party.preamble("Заказчик").endswith(
        f"в лице Директора по развитию Петровой Марии Ивановны, действующей на основании доверенности "
        f"№{NBSP}12 от 1 февраля 2026{NBSP}г.")


def test_sole_trader_acts_on_his_own_behalf_with_his_ogrnip():
    """Does an ИП act «от своего имени» with his ОГРНИП and the record date, never «Устава»?"""
    party = Party(name="", legal_name="Индивидуальный предприниматель Петров Пётр Петрович", inn="500100732259",
                  ogrn="304500116000157", registered_on=date(2004, 3, 1))
    text = party.preamble("Заказчик")
    assert text.startswith("Индивидуальный предприниматель Петров Пётр Петрович, действующий от своего имени")
    assert "ОГРНИП 304500116000157" in text and "Устава" not in text and "именуемый" in text
    assert party.position == "Индивидуальный предприниматель"
    assert "ОГРНИП 304500116000157" in party.requisite_lines()


def test_missing_requisites_leave_no_empty_label():
    """With only a name and ИНН, are there no «Адрес: », «Р/с », «КПП» lines?"""
    lines = Party(name="ООО «Пусто»", legal_name="ООО «Пусто»", inn="7707083893").requisite_lines()
    assert lines == ["ИНН 7707083893"]


@pytest.mark.parametrize("position, genitive", [
    ("Генеральный директор", "Генерального директора"),
    ("Первый заместитель генерального директора", "Первого заместителя генерального директора"),
    ("Главный бухгалтер", "Главного бухгалтера"),
    ("Управляющий", "Управляющего"),
])
def test_position_without_a_stored_genitive_gets_one_by_rule(position, genitive):
    """Is a position without its stored genitive declined by the rule of its first words?"""
    assert genitive_position(position) == genitive
