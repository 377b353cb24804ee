"""Input that looks harmless and is not: dates from another millennium, digits of other scripts,
invisible bidi controls, e-mails nobody checked."""

import re
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from tests.admin_forms import company_form, new_user_form
from tests.conftest import TEST_PASSWORD, messages, reload
from tests.regulation_forms import form_data, group_data, new_draft, save_group
from webapp.extensions import db
from webapp.models import Client, CompanyProfile, Contact, Regulation, RegulationStatus, Role, User
from webapp.models.regulations import RegulationStandard

DATE_MESSAGE = "Укажите дату между 01.01.1900 и 31.12.2100."
RLO = "\u202e"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
        "\u200e", "\u200f", "\u061c"]


def _html(response) -> str:
    return response.get_data(as_text=True)


def _new_client(client, **fields):
    return client.post("/clients/new", data={"short_name": "Ромашка", "status": "active",
                                             "contact_cadence_days": "3", **fields})


def _stored_client(app, short_name: str = "Ромашка") -> Client:
    with app.app_context():
        record = db.session.scalar(sa.select(Client).where(Client.short_name == short_name))
        db.session.expunge_all()
        return record


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_contract_date_outside_1900_2100_is_refused(client, login_as, app, value):
    """Is a contract dated 9999-12-31 or 0001-01-01 refused with a message instead of stored?"""
    login_as(Role.MANAGER)
    response = _new_client(client, contract_date=value)
    assert response.status_code == 422
    assert DATE_MESSAGE in messages(response)
    assert _stored_client(app) is None


@pytest.mark.parametrize("value", ["1900-01-01", "2100-12-31"])
def test_contract_dates_at_the_edges_of_the_range_are_kept(client, login_as, app, value):
    """Are the first and the last day of the range accepted?"""
    login_as(Role.MANAGER)
    assert _new_client(client, contract_date=value).status_code == 303
    assert _stored_client(app).contract_date.isoformat() == value


@pytest.mark.parametrize("field, value", [
    ("next_contact_on", "9999-12-31"),
    ("next_contact_on", "0001-01-01"),
    ("occurred_at", "0001-01-01T00:00"),
    ("occurred_at", "2101-01-01T10:00"),
])
def test_contact_log_dates_outside_the_range_are_refused(client, login_as, make_client, app, field, value):
    """Is a contact logged in year 1 or with a next contact in 9999 refused, the cadence untouched?"""
    mine = make_client(login_as(Role.MANAGER))
    data = {f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Созвонились", f"c{mine.id}-{field}": value}
    response = client.post(f"/clients/{mine.id}/touchpoints", data=data, htmx=True)
    assert response.status_code == 422
    assert DATE_MESSAGE in messages(response)
    assert reload(app, Client, mine.id).last_contact_at is None


def test_regulation_effective_date_outside_the_range_is_refused(client, manager_with_client, app):
    """Is a regulation «in force from 0001-01-01» refused with a message?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    response = save_group(client, regulation_id, "parties", {"effective_date": "0001-01-01"})
    assert response.status_code == 422
    assert DATE_MESSAGE in messages(response)
    assert reload(app, Regulation, regulation_id).effective_date is None


def test_signing_date_outside_the_range_does_not_sign(client, manager_with_client, app):
    """Is «signed on 9999-12-31» refused with the message, the edition left unsigned?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    version = reload(app, Regulation, regulation_id).version
    client.post(f"/regulations/{regulation_id}/status", data={"target": "agreed", "version": version})
    response = client.post(f"/regulations/{regulation_id}/status", data={
        "target": "signed", "version": version + 1, "signed_on": "9999-12-31"})
    assert reload(app, Regulation, regulation_id).status == RegulationStatus.AGREED
    assert response.status_code == 422
    assert "Дата подписания: укажите дату между 01.01.1900 и 31.12.2100." in _html(response)


def test_date_inputs_offer_the_range_to_the_browser(client, manager_with_client, app):
    """Do the date pickers themselves stop at 1900 and 2100?"""
    _, record = manager_with_client
    new_client = _html(client.get("/clients/new"))
    dates = re.findall(r'<input[^>]*type="date"[^>]*>', new_client)
    assert dates and all('min="1900-01-01"' in t and 'max="2100-12-31"' in t for t in dates)
    log_form = _html(client.get(f"/clients/{record.id}/touchpoints/new", htmx=True))
    stamps = re.findall(r'<input[^>]*type="datetime-local"[^>]*>', log_form)
    assert stamps and all('min="1900-01-01T00:00"' in t and 'max="2100-12-31T23:59"' in t for t in stamps)
    regulation = _html(client.get(f"/regulations/{new_draft(client, record)}/groups/parties/edit", htmx=True))
    dates = re.findall(r'<input[^>]*type="date"[^>]*>', regulation)
    assert dates and all('min="1900-01-01"' in t and 'max="2100-12-31"' in t for t in dates)


# --- digits -------------------------------------------------------------------------------------


def test_arabic_indic_phone_is_stored_and_linked_in_ascii_digits(client, login_as, make_client, app):
    """Does a phone typed as «+٧ (٩١٢) ٣٤٥-٦٧-٨٩» become «+7 (912) 345-67-89», and its link too?"""
    mine = make_client(login_as(Role.MANAGER))
    response = client.post(f"/clients/{mine.id}/contacts", data={
        "new-contact-full_name": "Ковалёва Анна", "new-contact-phone": "+٧ (٩١٢) ٣٤٥-٦٧-٨٩"}, htmx=True)
    assert response.status_code == 200
    assert 'href="tel:+79123456789"' in _html(response)
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).where(Contact.client_id == mine.id))
        assert contact.phone == "+7 (912) 345-67-89" and contact.phone_digits == "79123456789"


@pytest.mark.parametrize("phone", ["+7 912 345-67-8²", "①②③④⑤⑥", "+7 ９１２ 345 67 89 五"])
def test_phone_with_other_number_signs_is_refused(client, login_as, make_client, app, phone):
    """Is a phone holding «²», «①» or «五» refused with a message rather than half-read?"""
    mine = make_client(login_as(Role.MANAGER))
    response = client.post(f"/clients/{mine.id}/contacts", data={
        "new-contact-full_name": "Ковалёва Анна", "new-contact-phone": phone}, htmx=True)
    assert response.status_code == 422
    assert "Телефон: только цифры 0–9, например +7 (912) 345-67-89." in messages(response)


def test_a_phone_stored_with_foreign_digits_never_reaches_a_tel_link(client, login_as, make_client, app):
    """Does a phone saved with «٣» before the forms checked it keep those digits out of its link?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, contacts=[{"full_name": "Старый Контакт", "phone": "+7 912 ٣٤٥ 67 89 "}])
    page = _html(client.get(f"/clients/{mine.id}"))
    links = re.findall(r'href="tel:([^"]*)"', page)
    assert links and all(link.isascii() for link in links)


@pytest.mark.parametrize("url, data, model", [
    ("/admin/users/new", new_user_form(), User),
    ("/admin/company", company_form(), CompanyProfile),
])
def test_staff_and_company_phones_are_read_in_ascii_digits(client, login_as, app, url, data, model):
    """Are the phones of a user and of the company stored in ASCII digits, whatever was typed?"""
    login_as(Role.ADMIN)
    response = client.post(url, data={**data, "phone": "+٧ ٤٩٥ ١٢٣-٤٥-٦٧"})
    assert response.status_code == 303, messages(response)
    with app.app_context():
        phones = db.session.scalars(sa.select(model.phone)).all()
    assert "+7 495 123-45-67" in phones


def test_whole_numbers_in_other_digits_are_read_as_ascii(client, login_as, app):
    """Is a cadence typed as «٥» stored as 5, and a rate of «١٥٠٠» as 1500?"""
    login_as(Role.MANAGER)
    assert _new_client(client, contact_cadence_days="٥", hourly_rate="١٥٠٠").status_code == 303
    stored = _stored_client(app)
    assert stored.contact_cadence_days == 5 and str(stored.hourly_rate) == "1500.00"


@pytest.mark.parametrize("value, message", [
    ("1_0", "Введите целое число, например 5."),
    ("²", "Введите целое число, например 5."),
    ("3.5", "Введите целое число, например 5."),
    ("9" * 5000, "Слишком большое число."),
])
def test_whole_numbers_python_would_take_are_refused(client, login_as, app, value, message):
    """Is «1_0», «²» or a 5,000-digit number refused with one message, not read or a 500?"""
    login_as(Role.MANAGER)
    response = _new_client(client, contact_cadence_days=value)
    assert response.status_code == 422
    assert message in messages(response)
    assert "От 1 до 30 рабочих дней." not in messages(response)  # no range message on top


@pytest.mark.parametrize("value", ["1e3", "1_000", "NaN", "Infinity"])
def test_money_python_would_take_is_refused(client, login_as, value):
    """Is a rate of «1e3», «1_000» or «NaN» refused with the number message?"""
    login_as(Role.MANAGER)
    response = _new_client(client, hourly_rate=value)
    assert response.status_code == 422
    assert "Введите число, например 1 234,50." in messages(response)


def test_requisites_in_full_width_digits_are_stored_in_ascii(client, login_as, app):
    """Is an ИНН pasted in full-width digits («７７０７０８３８９３») checked and stored as 7707083893?"""
    login_as(Role.MANAGER)
    response = _new_client(client, inn="７７０７０８３８９３", kpp="７７３６０１００１")
    assert response.status_code == 303, messages(response)
    stored = _stored_client(app)
    assert stored.inn == "7707083893" and stored.kpp == "773601001"


def test_hours_threshold_reads_a_russian_comma_and_foreign_digits(client, login_as, app):
    """Does the standard's approval threshold take «٤,٥» hours as 4.5?"""
    login_as(Role.ADMIN)
    data = form_data(_html(client.get("/admin/regulation-standard")))
    assert client.post("/admin/regulation-standard",
                       data={**data, "approval_threshold_hours": "٤,٥"}).status_code == 303
    with app.app_context():
        stored = db.session.scalar(sa.select(RegulationStandard.approval_threshold_hours))
    assert str(stored) == "4.50"


# --- bidi controls ------------------------------------------------------------------------------


def test_bidi_controls_are_dropped_from_names(client, login_as, make_client, app):
    """Does a right-to-left override typed into a client's or a contact's name vanish on save?"""
    me = login_as(Role.MANAGER)
    assert _new_client(client, short_name=f"Ромашка{RLO}xcod.exe").status_code == 303
    assert _stored_client(app, "Ромашкаxcod.exe") is not None
    mine = make_client(me)
    name = "Ковалёва" + "".join(BIDI) + " Анна"
    client.post(f"/clients/{mine.id}/contacts", data={"new-contact-full_name": name}, htmx=True)
    with app.app_context():
        stored = db.session.scalar(sa.select(Contact.full_name).where(Contact.client_id == mine.id))
    assert stored == "Ковалёва Анна"


def test_bidi_controls_stay_in_a_password(app, client, make_user):
    """Is a password with a right-to-left mark kept exactly as typed (nothing stripped from secrets)?"""
    user = make_user()
    client.login(user)
    secret = "пароль\u200fс-меткой"
    response = client.post("/account", data={"current_password": TEST_PASSWORD, "password": secret,
                                             "confirm": secret})
    assert response.status_code == 303
    app.test_client().login(user, secret)


def test_a_right_to_left_override_never_reaches_the_download_name(client, manager_with_client, app):
    """Does a client named with a right-to-left override (saved before forms stripped it) download under a clean name?"""
    _, record = manager_with_client
    with app.app_context():
        stored = db.session.get(Client, record.id)
        stored.short_name = f"Ромашка{RLO}xcod.exe"
        db.session.commit()
    regulation_id = new_draft(client, record)
    response = client.get(f"/regulations/{regulation_id}.docx")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    assert RLO not in header and RLO not in unquote(header)
    assert "Ромашкаxcod.exe" in unquote(header)


# --- e-mails ------------------------------------------------------------------------------------


def test_invalid_email_of_a_responsible_person_is_refused(client, manager_with_client, app):
    """Is «нет почты» as a responsible person's e-mail refused with a message, the draft untouched?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    data = group_data(client, regulation_id, "parties")
    assert data["parties-0-name"]
    before = reload(app, Regulation, regulation_id).parties
    response = save_group(client, regulation_id, "parties", {"parties-0-email": "нет почты"}, data=data)
    assert response.status_code == 422
    assert "Неверный адрес e-mail." in messages(response)
    assert reload(app, Regulation, regulation_id).parties == before


def test_valid_email_of_a_responsible_person_is_kept(client, manager_with_client, app):
    """Is an intranet address like «anna@romashka.local» accepted in the people table?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    response = save_group(client, regulation_id, "parties", {"parties-0-email": " anna@romashka.local "})
    assert response.status_code == 200, messages(response)
    assert reload(app, Regulation, regulation_id).parties[0]["email"] == "anna@romashka.local"
