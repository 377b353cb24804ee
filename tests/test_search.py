"""Search that finds: spellings people type (ё/е, case, quotes, legal forms, КПП, ОГРН, phones), from the
list and from the header, each result saying what matched."""

import re

import pytest

from webapp.models import Role
from webapp.services.clients import search_key


def _results(response) -> list[str]:
    html = response.get_data(as_text=True)
    block = html[html.index('id="results"'):]
    return re.findall(r'href="/clients/\d+">([^<]+)</a>', block)


@pytest.fixture
def clients_to_find(login_as, make_client):
    manager = login_as(Role.MANAGER)
    make_client(manager, short_name="Ромашка", legal_name="ООО «Ромашка»", inn="7707083893", kpp="773601001",
                ogrn="1027700132195", contacts=[
                    {"full_name": "Соловьёва Алёна Артёмовна", "phone": "+7 (912) 345-67-89",
                     "email": "alena@romashka.ru"}])
    make_client(manager, short_name="Вектор", legal_name="АО \"Вектор\"", contacts=[
        {"full_name": "Артём Гусев", "phone": "+7 495 111-22-33"}])
    make_client(manager, short_name="ИП Ёлкин", legal_name="Индивидуальный предприниматель Ёлкин Пётр")
    return manager


SPELLINGS = [
    ("Соловьева", ["Ромашка"], "контакт: Соловьёва Алёна Артёмовна"),
    ("соловьёва", ["Ромашка"], "контакт: Соловьёва Алёна Артёмовна"),
    ("СОЛОВЬЕВА АЛЕНА", ["Ромашка"], "контакт: Соловьёва Алёна Артёмовна"),
    ("Артем", ["Вектор", "Ромашка"], "контакт: Артём Гусев"),  # and «…Артёмовна» of Ромашка
    ("ООО Ромашка", ["Ромашка"], ""),
    ("«Ромашка»", ["Ромашка"], ""),
    ("\"Вектор\"", ["Вектор"], ""),
    ("АО Вектор", ["Вектор"], ""),
    ("елкин", ["ИП Ёлкин"], ""),
    ("ИП Елкин", ["ИП Ёлкин"], ""),
    ("Пётр", ["ИП Ёлкин"], "полное наименование Индивидуальный предприниматель Ёлкин Пётр"),
    ("773601001", ["Ромашка"], "КПП 773601001"),
    ("1027700132195", ["Ромашка"], "ОГРН 1027700132195"),
    ("7707083893", ["Ромашка"], "ИНН 7707083893"),
    ("8 912 345 67 89", ["Ромашка"], "телефон +7 (912) 345-67-89: Соловьёва Алёна Артёмовна"),
    ("+7 (912) 345-67-89", ["Ромашка"], "телефон +7 (912) 345-67-89: Соловьёва Алёна Артёмовна"),
    ("111-22-33", ["Вектор"], "телефон +7 495 111-22-33: Артём Гусев"),
    ("alena@romashka", ["Ромашка"], "e-mail alena@romashka.ru: Соловьёва Алёна Артёмовна"),
    ("Лютик", [], ""),
]


@pytest.mark.parametrize("query, found, note", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_search_finds_a_client_however_its_name_is_spelled(client, clients_to_find, query, found, note):
    """Does each spelling find exactly the clients it should, and say which field or contact matched?"""
    response = client.get("/clients/", query_string={"q": query, "status": ""})
    assert sorted(_results(response)) == found
    html = response.get_data(as_text=True)
    if note:
        assert f"найден по: {note}" in html
    else:  # the name matched: the list shows it anyway
        assert "найден по:" not in html


def test_a_legal_form_alone_filters_nothing_out(client, clients_to_find):
    """Is «ООО» alone ignored like the legal form it is, rather than finding nothing?"""
    assert len(_results(client.get("/clients/", query_string={"q": "ООО", "status": ""}))) == 3


def test_header_search_is_on_every_page_and_searches_all_statuses(client, login_as, make_client):
    """Is there a search box in the header, and does it find a closed client too?"""
    manager = login_as(Role.MANAGER)
    make_client(manager, short_name="Старый клиент", status="closed")
    page = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="header-search[^>]*action="/clients/"[^>]*>.*?</form>', page, re.S).group(0)
    assert 'name="q"' in form and 'name="status" value=""' in form
    assert _results(client.get("/clients/", query_string={"q": "старый", "status": ""})) == ["Старый клиент"]


@pytest.mark.parametrize("text, key", [
    ("ООО «Ромашка»", "ромашка"),
    ("Общество с ограниченной ответственностью «Соловьёв и Ко»", "соловьев и ко"),
    ("ПАО \"Вектор-Плюс\"", "вектор-плюс"),
    ("Публичное акционерное общество Звезда", "звезда"),
    ("Аоника", "аоника"),            # a name starting with «ао» keeps it
    ("Типография", "типография"),    # and one containing «ип»
])
def test_search_key_drops_what_people_leave_out(text, key):
    """Are legal forms, quotes, case and ё normalised away, and only as whole words?"""
    assert search_key(text) == key
