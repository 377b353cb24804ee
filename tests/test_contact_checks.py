"""Nothing dropped silently on the client card: what a contact decides without being a decision maker,
a Russian phone a digit short, a client that is probably already there."""

import re

import pytest

from tests.conftest import messages
from webapp.models import Role


def _add(client, client_id, **fields):
    data = {f"new-contact-{k}": v for k, v in {"full_name": "Жуков Олег", **fields}.items()}
    return client.post(f"/clients/{client_id}/contacts", data=data)


def test_decides_without_being_a_decision_maker_is_refused_with_a_message(client, login_as, make_client):
    """Is «решает: стоимость» without «ЛПР» refused on the field, not silently dropped?"""
    mine = make_client(login_as(Role.MANAGER))
    response = _add(client, mine.id, decides_cost="y")
    assert response.status_code == 422
    assert any("не отмечено «ЛПР»" in m for m in messages(response))


@pytest.mark.parametrize("phone, ok", [
    ("+7 (912) 345-67-8", False), ("8 912 345 67 899", False), ("+7 912 345-67-89", True),
    ("8 (912) 345-67-89", True), ("+7 495 111-22-33 доб. 12", True), ("812 123-45-67", True),
    ("+49 30 1234567", True), ("345-67-89", True)])
def test_a_russian_phone_a_digit_off_is_refused(client, login_as, make_client, phone, ok):
    """Is a +7 / 8 (…) number with other than 11 digits refused, and every other spelling accepted?"""
    mine = make_client(login_as(Role.MANAGER))
    response = _add(client, mine.id, phone=phone)
    assert (response.status_code == 200) is ok
    if not ok:
        assert any(m.startswith("В российском номере 11 цифр") for m in messages(response))


def test_a_likely_duplicate_client_is_warned_with_a_link(client, login_as, make_client):
    """Adding «ООО Ромашка» next to «Ромашка»: is it saved, with a warning linking to the other?"""
    manager = login_as(Role.MANAGER)
    first = make_client(manager, short_name="Ромашка", legal_name="ООО «Ромашка»")
    make_client(manager, short_name="Ромашка Плюс")
    response = client.post("/clients/new", data={"short_name": "ООО «Ромашка»", "status": "active",
                                                 "contact_cadence_days": "3"})
    assert response.status_code == 303
    card = client.get(response.headers["Location"]).get_data(as_text=True)
    warning = re.search(r'<div class="alert alert-warning" role="alert">Похоже, этот клиент уже есть:(.*?)</div>',
                        card, re.S)
    assert warning and f'href="/clients/{first.id}"' in warning.group(1) and "Ромашка Плюс" not in warning.group(1)


def test_a_new_client_without_namesakes_gets_no_warning(client, login_as, make_client):
    """Is a client with a name of its own added without the duplicate warning?"""
    login_as(Role.MANAGER)
    response = client.post("/clients/new", data={"short_name": "Лютик", "status": "active",
                                                 "contact_cadence_days": "3"})
    assert "Похоже, этот клиент уже есть" not in client.get(response.headers["Location"]).get_data(as_text=True)
