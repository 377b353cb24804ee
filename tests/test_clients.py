"""Clients, their people and the contact log, over HTTP as a browser would use them."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.conftest import contact_count, messages, reload
from webapp.extensions import db
from webapp.formatting import today
from webapp.models import AuditEvent, CadenceState, Client, Contact, Role, Touchpoint
from webapp.requisites import make_inn


def _html(response) -> str:
    return response.get_data(as_text=True)


def _names_in_list(response) -> list[str]:
    return re.findall(r'href="/clients/\d+">([^<]+)</a>', _html(response))


# --- creation and the list ----------------------------------------------------------------------


def test_manager_adds_a_client_and_leads_it(client, login_as, app):
    """Does a client added by a manager appear in their list with them as account manager?"""
    manager = login_as(Role.MANAGER, full_name="Петров Алексей Николаевич")
    inn = make_inn("771234560")
    response = client.post("/clients/new", data={
        "short_name": "Ромашка", "status": "active", "contact_cadence_days": "3", "inn": inn,
        "hourly_rate": "3 500,00", "deputy_id": ""})
    assert response.status_code == 303
    card = client.get(response.headers["Location"])
    assert "Ромашка" in _html(card) and "Петров Алексей Николаевич" in _html(card)
    assert "3\u00a0500,00\u00a0₽" in _html(card)
    with app.app_context():
        stored = db.session.scalar(sa.select(Client).where(Client.inn == inn))
        assert stored.manager_id == manager.id
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "clients",
                                                             AuditEvent.action == "create"))
    assert "Ромашка" in _names_in_list(client.get("/clients/?manager=me"))


@pytest.mark.parametrize("field, value, message", [
    ("inn", "7707083894", "ИНН не проходит проверку контрольных цифр."),
    ("short_name", "", "Введите название клиента."),
    ("contact_cadence_days", "0", "От 1 до 30 рабочих дней."),
    ("hourly_rate", "много", "Введите число, например 1 234,50."),
])
def test_bad_client_data_is_refused_with_a_message(client, login_as, field, value, message):
    """Is a client with a wrong ИНН, no name, a zero cadence or a non-numeric rate refused?"""
    login_as(Role.MANAGER)
    data = {"short_name": "Ромашка", "status": "active", "contact_cadence_days": "3", field: value}
    response = client.post("/clients/new", data=data)
    assert response.status_code == 422
    assert message in messages(response)


def test_duplicate_inn_is_refused(client, login_as, make_client):
    """Can the same company be added twice by its ИНН?"""
    manager = login_as(Role.MANAGER)
    inn = make_inn("771234561")
    make_client(manager, short_name="Первый", inn=inn)
    response = client.post("/clients/new", data={"short_name": "Второй", "status": "active",
                                                 "contact_cadence_days": "3", "inn": inn})
    assert response.status_code == 422
    assert any("Клиент с таким ИНН и КПП уже есть: «Первый»" in m for m in messages(response))


@pytest.mark.parametrize("query", ["9123456789", "+7 (912) 345-67-89", "8 912 345 67 89", "345-67-89",
                                   "гусев", "ГУСЕВ ПАВЕЛ", "pavel@vector", "ВЕКТОР", "7707083893"])
def test_search_finds_a_client_by_name_inn_and_contacts(client, login_as, make_client, query):
    """Does the search find a client by a contact's phone in any spelling, name, e-mail or ИНН?"""
    manager = login_as(Role.MANAGER)
    make_client(manager, short_name="Вектор Логистик", inn="7707083893", contacts=[
        {"full_name": "Гусев Павел Олегович", "phone": "+7 (912) 345-67-89", "email": "pavel@vector.ru"}])
    make_client(manager, short_name="Ромашка", contacts=[{"full_name": "Иванова Анна", "phone": "+7 495 111-22-33"}])
    assert _names_in_list(client.get("/clients/", query_string={"q": query})) == ["Вектор Логистик"]


def test_search_as_you_type_returns_only_the_results(client, login_as, make_client):
    """Does an htmx search answer with the results block only, and vary on HX-Request?"""
    manager = login_as(Role.MANAGER)
    make_client(manager, short_name="Ромашка")
    response = client.get("/clients/?q=ром", htmx=True)
    assert "<html" not in _html(response) and 'id="results"' in _html(response)
    assert "Ромашка" in _html(response)
    assert "HX-Request" in response.headers["Vary"]


def test_filters_by_cadence_manager_and_status(client, login_as, make_client, make_user):
    """Do the cadence, manager and status filters narrow the list as their names say?"""
    me = login_as(Role.MANAGER)
    other = make_user(Role.MANAGER)
    make_client(me, short_name="Свежий", days_ago=0)
    make_client(me, short_name="Забытый", days_ago=20)
    make_client(other, short_name="Чужой", days_ago=20)
    make_client(me, short_name="Закрытый", status="closed", days_ago=20)
    assert _names_in_list(client.get("/clients/?cadence=critical")) == ["Забытый", "Чужой"]
    assert _names_in_list(client.get("/clients/?cadence=critical&manager=me")) == ["Забытый"]
    assert _names_in_list(client.get("/clients/?cadence=ok")) == ["Свежий"]
    assert "Закрытый" in _names_in_list(client.get("/clients/?status="))
    assert "Закрытый" not in _names_in_list(client.get("/clients/"))
    page = _html(client.get("/clients/?cadence=critical&manager=me"))
    assert '<option value="critical" selected>' in page and '<option value="me" selected>' in page


def test_sort_by_last_contact_puts_the_most_neglected_first(client, login_as, make_client):
    """Sorted by «давно не связывались», is the never-contacted client first, then the oldest?"""
    me = login_as(Role.MANAGER)
    make_client(me, short_name="Вчера", days_ago=1)
    make_client(me, short_name="Давно", days_ago=9)
    make_client(me, short_name="Никогда")
    assert _names_in_list(client.get("/clients/?sort=last_contact")) == ["Никогда", "Давно", "Вчера"]


@pytest.mark.parametrize("day, state", [
    (date(2026, 12, 31), "due"), (date(2027, 1, 10), "due"), (date(2027, 1, 11), "overdue"),
    (date(2027, 1, 12), "critical"),
])
def test_the_list_follows_the_calendar_over_new_year(client, make_user, make_client, clock, day, state):
    """Called on Friday 25 December: is the client «due» through the holidays, overdue on 11 January
    and critical on the 12th, as the list's filters show on those days?"""
    clock.travel(date(2026, 12, 25))
    make_client(make_user(Role.MANAGER, email="me@example.test"), short_name="Ромашка", days_ago=0)
    clock.travel(day)
    client.login("me@example.test")
    assert _names_in_list(client.get(f"/clients/?cadence={state}")) == ["Ромашка"]


def test_list_paginates(client, login_as, make_client, app):
    """With more clients than a page holds, is the rest on page 2?"""
    app.config["PER_PAGE"] = 5
    me = login_as(Role.MANAGER)
    for n in range(7):
        make_client(me, short_name=f"Клиент {n:02d}")
    first, second = client.get("/clients/"), client.get("/clients/?page=2")
    assert len(_names_in_list(first)) == 5 and len(_names_in_list(second)) == 2
    assert "Всего: 7" in _html(first)


def test_empty_list_says_so(client, login_as):
    """Does an empty client list say what to do instead of showing an empty table?"""
    login_as(Role.MANAGER)
    assert "Клиентов не найдено." in _html(client.get("/clients/"))


# --- scope and rights ----------------------------------------------------------------------------


def test_manager_cannot_edit_another_managers_client(client, login_as, make_client, make_user):
    """Can a manager open, but not change, a colleague's client (403)?"""
    login_as(Role.MANAGER)
    other = make_user(Role.MANAGER)
    theirs = make_client(other, short_name="Чужой")
    assert client.get(f"/clients/{theirs.id}").status_code == 200
    assert "Изменить" not in _html(client.get(f"/clients/{theirs.id}"))
    response = client.post(f"/clients/{theirs.id}/edit/terms", data={
        "short_name": "Мой", "status": "active", "contact_cadence_days": "3", "version": "1"})
    assert response.status_code == 403
    assert client.post(f"/clients/{theirs.id}/touchpoints", data={f"c{theirs.id}-summary": "x",
                                                                  f"c{theirs.id}-channel": "call"}).status_code == 403
    assert client.post(f"/clients/{theirs.id}/contacts", data={"new-contact-full_name": "x"}).status_code == 403


def test_deputy_can_edit_the_client(client, login_as, make_client, make_user, app):
    """Does the deputy manager edit the client while the manager is away?"""
    deputy = login_as(Role.MANAGER)
    lead = make_user(Role.MANAGER)
    shared = make_client(lead, deputy=deputy)
    response = client.post(f"/clients/{shared.id}/touchpoints",
                           data={f"c{shared.id}-summary": "Подменил коллегу", f"c{shared.id}-channel": "call"},
                           htmx=True)
    assert response.status_code == 200
    assert "Контакт записан." in _html(response) and "Подменил коллегу" in _html(response)
    with app.app_context():
        logged = db.session.scalar(sa.select(Touchpoint).where(Touchpoint.client_id == shared.id))
        assert (logged.user_id, logged.summary) == (deputy.id, "Подменил коллегу")
    assert reload(app, Client, shared.id).last_contact_at is not None


def test_specialist_sees_no_client_outside_their_items(client, login_as, make_client, make_user):
    """Does a specialist get 404 for a client they have no backlog item of, and an empty list?"""
    login_as(Role.SPECIALIST)
    someone = make_client(make_user(Role.MANAGER), short_name="Ромашка")
    assert client.get(f"/clients/{someone.id}").status_code == 404
    assert client.get(f"/clients/{someone.id}/timeline").status_code == 404
    assert "Ромашка" not in _html(client.get("/clients/"))


@pytest.mark.parametrize("role", [Role.LEAD, Role.ACCOUNTANT])
def test_readers_see_the_card_but_cannot_change_it(client, login_as, make_client, make_user, role):
    """Do production leads and accountants read clients without changing them?"""
    login_as(role)
    someone = make_client(make_user(Role.MANAGER), short_name="Ромашка")
    assert client.get(f"/clients/{someone.id}").status_code == 200
    assert client.get(f"/clients/{someone.id}/edit/terms").status_code == 403
    assert client.post(f"/clients/{someone.id}/touchpoints", data={}).status_code == 403


# --- inline editing and versions ---------------------------------------------------------------


def _terms(client_id, version, **changes):
    data = {"short_name": "Ромашка", "status": "active", "contact_cadence_days": "3", "deputy_id": "",
            "version": str(version)}
    data.update(changes)
    return data


def _armed(client, url: str) -> dict[str, str]:
    """Open an inline form as the page does: its version and the fingerprints of what it shows."""
    html = _html(client.get(url, htmx=True))
    hidden = dict(re.findall(r'name="(version|version_shown)"[^>]*value="([^"]*)"', html))
    assert "version" in hidden and "version_shown" in hidden, html[:500]
    return hidden


def test_inline_edit_returns_the_block_with_the_new_value(client, login_as, make_client, app):
    """After an inline save, does the block show the new value, and the next form the next version?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка")
    armed = _armed(client, f"/clients/{mine.id}/edit/terms")
    response = client.post(f"/clients/{mine.id}/edit/terms", htmx=True,
                           data={**_terms(mine.id, mine.version, short_name="Ромашка Плюс"), **armed})
    assert response.status_code == 200
    assert "Ромашка Плюс" in _html(response)
    assert _armed(client, f"/clients/{mine.id}/edit/terms")["version"] == str(mine.version + 1)


def test_own_consecutive_inline_saves_never_conflict(client, login_as, make_client, app):
    """With the terms and the requisites opened at once, do both saves go through, one after the other?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me)
    terms = _armed(client, f"/clients/{mine.id}/edit/terms")
    requisites = _armed(client, f"/clients/{mine.id}/edit/requisites")
    assert client.post(f"/clients/{mine.id}/edit/terms", htmx=True,
                       data={**_terms(mine.id, mine.version, notes="заметка"), **terms}).status_code == 200
    assert client.post(f"/clients/{mine.id}/edit/requisites", htmx=True,
                       data={"legal_name": "ООО «Ромашка»", **requisites}).status_code == 200
    stored = reload(app, Client, mine.id)
    assert (stored.notes, stored.legal_name) == ("заметка", "ООО «Ромашка»")


def test_a_block_save_recomputes_search_and_contact_dates_only_when_their_fields_change(
        client, login_as, make_client, app, count_queries):
    """The address saved: neither the search text (the contacts) nor the contact dates (the
    regulation in force) are read again (issue 9: a save's statements); a new name is found by the
    search at once, and a longer cadence moves the day the client is due."""
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка", days_ago=1)
    requisites = _armed(client, f"/clients/{mine.id}/edit/requisites")
    with count_queries() as statements:
        assert client.post(f"/clients/{mine.id}/edit/requisites", htmx=True,
                           data={"address": "Москва, Тверская, 1", **requisites}).status_code == 200
    assert reload(app, Client, mine.id).address == "Москва, Тверская, 1"
    assert [s for s in statements if "FROM regulations" in s or s.startswith("SELECT contacts.full_name")] == []
    due_before = reload(app, Client, mine.id).due_on
    terms = _armed(client, f"/clients/{mine.id}/edit/terms")
    assert client.post(f"/clients/{mine.id}/edit/terms", htmx=True, data={
        **_terms(mine.id, mine.version, short_name="Ромашка Плюс", contact_cadence_days="10"), **terms}).status_code == 200
    assert "Ромашка Плюс" in _html(client.get("/clients/?q=плюс"))
    assert reload(app, Client, mine.id).due_on > due_before


def test_stale_inline_edit_shows_conflict_and_changes_nothing(client, login_as, make_client, app):
    """If someone saved the same field meanwhile, is my save refused with 409 showing their value and mine?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка")
    theirs, ours = _armed(client, f"/clients/{mine.id}/edit/terms"), _armed(client, f"/clients/{mine.id}/edit/terms")
    assert client.post(f"/clients/{mine.id}/edit/terms",
                       data={**_terms(mine.id, 0, short_name="Их название"), **theirs}).status_code == 200
    response = client.post(f"/clients/{mine.id}/edit/terms", htmx=True,
                           data={**_terms(mine.id, 0, short_name="Моё название"), **ours})
    assert response.status_code == 409
    page = _html(response)
    assert "Их название" in page and "Моё название" in page and "изменил другой пользователь" in page
    assert reload(app, Client, mine.id).short_name == "Их название"
    # The conflict re-arms the form at the stored state: saving again is a deliberate overwrite.
    rearmed = dict(re.findall(r'name="(version|version_shown)" value="([^"]*)"', page))
    again = client.post(f"/clients/{mine.id}/edit/terms",
                        data={**_terms(mine.id, 0, short_name="Моё название"), **rearmed})
    assert again.status_code == 200
    assert reload(app, Client, mine.id).short_name == "Моё название"


def test_only_an_admin_reassigns_the_account_manager(client, login_as, make_client, make_user, app):
    """Does the terms form let a manager pick a deputy but not give the client away, even by a
    hand-made request (403), with the service refusing too?"""
    me = login_as(Role.MANAGER)
    colleague = make_user(Role.MANAGER)
    mine = make_client(me)
    form = _html(client.get(f"/clients/{mine.id}/edit/terms", htmx=True))
    assert 'name="manager_id"' not in form and 'name="deputy_id"' in form
    response = client.post(f"/clients/{mine.id}/edit/terms",
                           data=_terms(mine.id, mine.version, deputy_id=str(colleague.id)), htmx=True)
    assert response.status_code == 200 and colleague.full_name in _html(response)
    saved = reload(app, Client, mine.id)
    forged = client.post(f"/clients/{mine.id}/edit/terms", htmx=True, data=_terms(
        mine.id, saved.version, manager_id=str(colleague.id)))
    assert forged.status_code == 403
    assert reload(app, Client, mine.id).manager_id == me.id

    from webapp.models import User
    from webapp.saving import Edit
    from webapp.services import PermissionDenied
    from webapp.services import clients as client_service
    with app.app_context():
        record, acting = db.session.get(Client, mine.id), db.session.get(User, me.id)
        with pytest.raises(PermissionDenied):
            client_service.update_client(record, Edit({"manager_id": colleague.id}, record.version), acting=acting)
        db.session.rollback()
    assert reload(app, Client, mine.id).manager_id == me.id


# --- contacts -----------------------------------------------------------------------------------


def test_contacts_are_added_edited_and_removed_in_place(client, login_as, make_client, app):
    """Can I add a decision maker, change their phone and remove them, all inline?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me)
    response = client.post(f"/clients/{mine.id}/contacts", data={
        "new-contact-full_name": "Ковалёва Анна Сергеевна", "new-contact-position": "Генеральный директор",
        "new-contact-phone": "8 (912) 345-67-89", "new-contact-is_decision_maker": "y",
        "new-contact-decides_cost": "y", "new-contact-decides_payment": "y"}, htmx=True)
    assert response.status_code == 200
    assert "Ковалёва Анна Сергеевна" in _html(response) and "решает: стоимость, оплату" in _html(response)
    assert 'href="tel:+79123456789"' in _html(response)
    contact_id = int(re.search(r'id="contact-(\d+)"', _html(response)).group(1))
    edit = client.post(f"/clients/{mine.id}/contacts/{contact_id}", data={
        f"contact{contact_id}-full_name": "Ковалёва Анна Сергеевна", f"contact{contact_id}-phone": "+7 999 000-00-01",
        f"contact{contact_id}-version": "1"}, htmx=True)
    assert edit.status_code == 200 and "+7 999 000-00-01" in _html(edit)
    assert "ЛПР" not in _html(edit)  # unticked: no longer a decision maker, decides nothing
    stale = client.post(f"/clients/{mine.id}/contacts/{contact_id}/delete", data={"version": "1"}, htmx=True)
    assert stale.status_code == 409 and contact_count(app, mine.id) == 1
    removed = client.post(f"/clients/{mine.id}/contacts/{contact_id}/delete", data={"version": "2"}, htmx=True)
    assert removed.status_code == 200 and "Контактов пока нет" in _html(removed)
    assert contact_count(app, mine.id) == 0


def test_contact_without_a_name_is_refused_and_the_form_stays_open(client, login_as, make_client):
    """Does a contact without a name come back as the open form with a message (422)?"""
    mine = make_client(login_as(Role.MANAGER))
    response = client.post(f"/clients/{mine.id}/contacts", data={"new-contact-phone": "123"}, htmx=True)
    assert response.status_code == 422
    assert "Введите ФИО." in messages(response)
    assert "<details class=\"mt-2 no-print\" open>" in _html(response)


def test_contact_save_without_version_is_refused(client, login_as, make_client, app):
    """Is a contact edit that carries no version refused as an outdated form (422), the contact kept?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, contacts=[{"full_name": "Жуков Олег"}])
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.client_id == mine.id))
    response = client.post(f"/clients/{mine.id}/contacts/{contact_id}", data={
        f"contact{contact_id}-full_name": "Другое Имя"}, htmx=True)
    assert response.status_code == 422
    assert reload(app, Contact, contact_id).full_name == "Жуков Олег"


def test_stale_contact_edit_is_a_conflict(client, login_as, make_client, app):
    """If a colleague changed the contact meanwhile, is my edit refused (409) showing both values?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, contacts=[{"full_name": "Жуков Олег", "phone": "+7 900 000-00-01"}])
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.client_id == mine.id))
    prefix = f"contact{contact_id}-"
    theirs = client.post(f"/clients/{mine.id}/contacts/{contact_id}", data={
        prefix + "full_name": "Жуков Олег", prefix + "phone": "+7 900 000-00-02", prefix + "version": "1"},
        htmx=True)
    assert theirs.status_code == 200
    mine_now = client.post(f"/clients/{mine.id}/contacts/{contact_id}", data={
        prefix + "full_name": "Жуков Олег", prefix + "phone": "+7 900 000-00-03", prefix + "version": "1"},
        htmx=True)
    assert mine_now.status_code == 409
    assert "+7 900 000-00-02" in _html(mine_now) and "+7 900 000-00-03" in _html(mine_now)
    assert reload(app, Contact, contact_id).phone == "+7 900 000-00-02"


def test_client_block_save_without_version_is_refused(client, login_as, make_client, app):
    """Is a block save that carries no version refused as an outdated form (422), the card kept?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка")
    response = client.post(f"/clients/{mine.id}/edit/requisites", data={"legal_name": "ООО «Другое»"}, htmx=True)
    assert response.status_code == 422
    assert reload(app, Client, mine.id).legal_name == ""


# --- the contact log ------------------------------------------------------------------------------


def test_logging_a_contact_puts_the_client_back_on_schedule(client, login_as, make_client, app, count_queries):
    """After «Связался», is an overdue client on schedule and the summary on its timeline? The client's
    new last contact and cadence dates are written in one UPDATE (issue 9: the terms' query in between
    flushed them in two)."""
    me = login_as(Role.MANAGER)
    mine = make_client(me, days_ago=15, contacts=[{"full_name": "Жуков Олег Петрович"}])
    assert reload(app, Client, mine.id).cadence(today()) == CadenceState.CRITICAL
    with app.app_context():
        contact_id = db.session.scalar(sa.text("SELECT id FROM contacts WHERE client_id = :c"), {"c": mine.id})
    with count_queries() as statements:
        response = client.post(f"/clients/{mine.id}/touchpoints", data={
            f"c{mine.id}-channel": "visit", f"c{mine.id}-summary": "Обсудили приоритеты задач",
            f"c{mine.id}-next_step": "Выслать оценку", f"c{mine.id}-contact_ids": str(contact_id)}, htmx=True)
    assert response.status_code == 200
    [written] = [s for s in statements if s.startswith("UPDATE clients SET") and "SET version=" not in s]
    assert "last_contact_at" in written and "due_on" in written and "critical_on" in written
    page = _html(response)
    assert "Контакт записан." in page and "Обсудили приоритеты задач" in page and "Жуков Олег Петрович" in page
    assert 'id="timeline" hx-swap-oob="true"' in page and "в графике" in page
    assert reload(app, Client, mine.id).cadence(today()) == CadenceState.OK


@pytest.mark.parametrize("field, value, message", [
    ("summary", "", "Коротко запишите, о чём поговорили."),
    ("occurred_at", "2099-01-01T10:00", "Контакт не может быть в будущем"),
    ("next_contact_on", "2001-01-01", "Следующий контакт не может быть раньше этого."),
])
def test_bad_contact_log_is_refused(client, login_as, make_client, field, value, message, app):
    """Is a contact without a summary, in the future or planning the past refused with a message?"""
    mine = make_client(login_as(Role.MANAGER))
    data = {f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Созвонились", f"c{mine.id}-{field}": value}
    response = client.post(f"/clients/{mine.id}/touchpoints", data=data, htmx=True)
    assert response.status_code == 422
    assert any(message in m for m in messages(response))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 0


@pytest.mark.parametrize("field, value, message", [
    ("next_contact_on", "9999-12-31", "Укажите дату между 01.01.1900 и 31.12.2100."),
    ("occurred_at", "0001-01-01T00:00", "Укажите дату между 01.01.1900 и 31.12.2100."),
    ("occurred_at", "1900-01-01T00:00", "Дата контакта не может быть раньше 2000 года."),
])
def test_extreme_dates_in_the_contact_log_are_refused(client, login_as, make_client, app, field, value, message):
    """Is a contact dated in year 1 or 1900, or planned for 9999, refused with a message (422)?"""
    mine = make_client(login_as(Role.MANAGER))
    data = {f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Созвонились", f"c{mine.id}-{field}": value}
    response = client.post(f"/clients/{mine.id}/touchpoints", data=data, htmx=True)
    assert response.status_code == 422
    assert message in messages(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 0


def test_planned_next_contact_keeps_the_client_off_the_due_list(client, login_as, make_client, app):
    """«Созвонимся через две недели»: is the client on schedule until then?"""
    mine = make_client(login_as(Role.MANAGER))
    planned = today() + timedelta(days=14)  # Wednesday 9 December, a working day
    response = client.post(f"/clients/{mine.id}/touchpoints", data={
        f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Клиент в отпуске",
        f"c{mine.id}-next_contact_on": planned.isoformat()}, htmx=True)
    assert response.status_code == 200
    stored = reload(app, Client, mine.id)
    assert stored.due_on == planned and stored.cadence(planned - timedelta(days=1)) == CadenceState.OK
    assert stored.cadence(planned) == CadenceState.DUE


def test_deleting_a_mistaken_contact_restores_the_previous_one(client, login_as, make_client, app):
    """If I delete a contact logged by mistake, does the last contact go back to the previous one
    (and is a delete from an outdated page refused with 409)?"""
    mine = make_client(login_as(Role.MANAGER), days_ago=15)
    logged = client.post(f"/clients/{mine.id}/touchpoints", data={f"c{mine.id}-channel": "call",
                                                                  f"c{mine.id}-summary": "Ошибся клиентом"}, htmx=True)
    assert logged.status_code == 200 and reload(app, Client, mine.id).cadence(today()) == CadenceState.OK
    with app.app_context():
        newest = db.session.scalar(sa.select(Touchpoint).order_by(Touchpoint.id.desc()))
        newest_id, version = newest.id, newest.version
    stale = client.post(f"/clients/{mine.id}/touchpoints/{newest_id}/delete", data={"version": version + 1},
                        htmx=True)
    assert stale.status_code == 409 and reload(app, Touchpoint, newest_id) is not None
    response = client.post(f"/clients/{mine.id}/touchpoints/{newest_id}/delete", data={"version": version}, htmx=True)
    assert response.status_code == 200 and "Ошибся клиентом" not in _html(response)
    assert reload(app, Touchpoint, newest_id) is None
    assert reload(app, Client, mine.id).cadence(today()) == CadenceState.CRITICAL


def test_timeline_shows_older_entries_on_demand(client, login_as, make_client, app):
    """With a long history, does «Показать ещё» bring the older contacts?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me)
    from webapp.models import Channel, User
    from webapp.models.types import utcnow
    from webapp.services import clients as client_service
    with app.app_context():
        stored, acting = db.session.get(Client, mine.id), db.session.get(User, me.id)
        for n in range(35):
            client_service.log_touchpoint(stored, channel=Channel.CALL, summary=f"Запись {n:02d}", acting=acting,
                                          occurred_at=utcnow() - timedelta(days=40 - n))
        db.session.commit()
    page = _html(client.get(f"/clients/{mine.id}"))
    assert "Запись 34" in page and "Запись 00" not in page
    more = re.search(r'hx-get="(/clients/\d+/timeline\?before=[^"]+)"', page).group(1)
    older = _html(client.get(more.replace("&amp;", "&"), htmx=True))
    assert "Запись 00" in older and "Запись 34" not in older


def test_timeline_cursor_out_of_range_shows_the_newest_entries(client, login_as, make_client):
    """Does a «Показать ещё» cursor beyond any id answer with the newest entries, not an error?"""
    mine = make_client(login_as(Role.MANAGER), days_ago=2)
    response = client.get(f"/clients/{mine.id}/timeline?before=99999999999999999999999", htmx=True)
    assert response.status_code == 200
    assert "Созвонились" in _html(response)


def test_timeline_pages_through_every_kind_at_equal_times_without_repeats(app, login_as, make_client):
    """Contacts and letters logged at the same moments, read two and three at a time: each page continues
    where the last stopped, and together they are the whole history in its order."""
    from webapp.models import Channel, MailStatus, OutboundMail, User
    from webapp.services import clients as client_service, timeline
    me = login_as(Role.MANAGER)
    mine = make_client(me)
    moments = [datetime(2026, 11, day, 9, 0, tzinfo=timezone.utc) for day in (10, 10, 11, 12, 12)]
    with app.app_context():
        stored, acting = db.session.get(Client, mine.id), db.session.get(User, me.id)
        for n, moment in enumerate(moments):
            client_service.log_touchpoint(stored, channel=Channel.CALL, summary=f"Звонок {n}", acting=acting,
                                          occurred_at=moment)
            db.session.add(OutboundMail(recipients="a@romashka.test", sender="we@demo.local", subject=f"Письмо {n}",
                                        text="", sent_at=moment, status=MailStatus.SENT, client_id=mine.id))
        db.session.commit()
        whole = [(e.kind, e.key) for e in timeline.entries(stored, acting, limit=100)]
        for size in (2, 3):  # pages ending on a contact with letters of its time still to come, and the reverse
            read, cursor = [], None
            while True:
                page = timeline.entries(stored, acting, before=cursor, limit=size)
                read += [(e.kind, e.key) for e in page]
                if len(page) < size:
                    break
                cursor = page[-1].cursor
            assert read == whole, size
    assert len(whole) == 10 and {kind for kind, _ in whole} == {"touchpoint", "mail"}


def test_timeline_statements_are_kept_per_user_not_per_client(client, login_as, make_client):
    """The history's statements name the client by a bound parameter: built for the first card a
    user opens, they serve the next client's card, which shows that client's history only."""
    from webapp.services import timeline
    me = login_as(Role.MANAGER)
    first, second = make_client(me, short_name="Ромашка", days_ago=2), make_client(me, short_name="Лютик")
    timeline._statement.cache_clear()
    assert "Созвонились" in _html(client.get(f"/clients/{first.id}/timeline", htmx=True))
    built = timeline._statement.cache_info().misses
    assert "Созвонились" not in _html(client.get(f"/clients/{second.id}/timeline", htmx=True))
    assert timeline._statement.cache_info().misses == built


def test_timeline_cursor_without_a_zone_shows_the_newest_entries(client, login_as, make_client):
    """A hand-made «Показать ещё» cursor whose time has no zone answers with the newest entries,
    not an error (it used to reach the database and fail there)."""
    mine = make_client(login_as(Role.MANAGER), days_ago=2)
    response = client.get(f"/clients/{mine.id}/timeline?before=2026-11-20T10:00:00|touchpoint|1", htmx=True)
    assert response.status_code == 200
    assert "Созвонились" in _html(response)


# --- «Мой день» ---------------------------------------------------------------------------------------


def test_my_day_lists_my_due_clients_most_neglected_first(client, login_as, make_client, make_user):
    """Does «Мой день» show my due, overdue and critical clients, not colleagues' or paused ones?"""
    me = login_as(Role.MANAGER)
    other = make_user(Role.MANAGER)
    make_client(me, short_name="Свежий", days_ago=0)
    make_client(me, short_name="Забытый", days_ago=20)
    make_client(me, short_name="Приостановленный", status="paused", days_ago=20)
    make_client(other, short_name="Чужой", days_ago=20)
    make_client(other, short_name="Замещаемый", deputy=me, days_ago=20)
    page = _html(client.get("/"))
    due = re.findall(r'<tr id="due-\d+" class="due-row">\s*<td><a href="/clients/\d+">([^<]+)</a>', page)
    assert sorted(due) == ["Забытый", "Замещаемый"]
    assert "критично" in page


def test_admin_sees_everyones_due_clients_by_manager(client, login_as, make_client, make_user):
    """Does the admin's «Мой день» group every manager's due clients under their name?"""
    login_as(Role.ADMIN)
    anna = make_user(Role.MANAGER, full_name="Аннова Анна")
    boris = make_user(Role.MANAGER, full_name="Борисов Борис")
    make_client(anna, short_name="Клиент Анны", days_ago=20)
    make_client(boris, short_name="Клиент Бориса", days_ago=20)
    page = _html(client.get("/"))
    assert page.index("Аннова Анна") < page.index("Клиент Анны") < page.index("Борисов Борис") < page.index("Клиент Бориса")


def test_logging_from_my_day_confirms_and_asks_the_list_to_refresh(client, login_as, make_client):
    """Does «Связался» on «Мой день» answer with a confirmation and the event that refreshes the list?"""
    mine = make_client(login_as(Role.MANAGER), short_name="Ромашка", days_ago=20)
    form = _html(client.get(f"/clients/{mine.id}/touchpoints/new?origin=dashboard", htmx=True))
    assert 'name="origin" value="dashboard"' in form
    response = client.post(f"/clients/{mine.id}/touchpoints", data={
        "origin": "dashboard", f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Созвонились"}, htmx=True)
    assert response.status_code == 200 and "Контакт с «Ромашка» записан." in _html(response)
    assert "contact-logged" in response.headers["HX-Trigger"]
    assert "Ромашка" not in _html(client.get("/", htmx=True))


def test_my_day_says_when_everyone_is_on_schedule(client, login_as, make_client):
    """With every client on schedule, does «Мой день» say so?"""
    make_client(login_as(Role.MANAGER), days_ago=0)
    assert "Все клиенты в графике" in _html(client.get("/"))


# --- handover -------------------------------------------------------------------------------------


def test_admin_hands_a_managers_clients_to_another(client, login_as, make_client, make_user, app):
    """Does a handover move the clients (lead and deputy) and leave an audit trail?"""
    login_as(Role.ADMIN)
    leaving, staying, third = make_user(Role.MANAGER), make_user(Role.MANAGER), make_user(Role.MANAGER)
    led = make_client(leaving, short_name="Ведёт")
    backed = make_client(third, deputy=leaving, short_name="Замещает")
    response = client.post("/clients/handover", data={"from_user": str(leaving.id), "to_user": str(staying.id),
                                                     "as_deputy": "y"})
    assert response.status_code == 303
    assert reload(app, Client, led.id).manager_id == staying.id
    assert reload(app, Client, backed.id).deputy_id == staying.id
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "handover")).all()
        assert len(events) == 2 and events[0].changes["to"][1] == staying.full_name


def test_handover_to_the_same_manager_is_refused(client, login_as, make_user):
    """Is handing clients to the same manager refused with a message?"""
    login_as(Role.ADMIN)
    someone = make_user(Role.MANAGER)
    response = client.post("/clients/handover", data={"from_user": str(someone.id), "to_user": str(someone.id)})
    assert response.status_code == 422 and "Выберите другого менеджера." in messages(response)


# --- queries per page -----------------------------------------------------------------------------


def test_client_list_and_my_day_queries_do_not_grow_with_rows(client, login_as, make_client, make_user, count_queries):
    """Are the list, «Мой день» and the card served by the same number of queries for 3 and 25 rows?"""
    me = login_as(Role.MANAGER)
    deputy = make_user(Role.MANAGER)
    contacts = [{"full_name": f"Контакт {n}", "phone": f"+7 900 000-00-{n:02d}"} for n in range(3)]
    first = make_client(me, deputy=deputy, contacts=contacts, days_ago=20)
    for _ in range(2):
        make_client(me, deputy=deputy, contacts=contacts, days_ago=20)

    def measure():
        counts = []
        for url in ("/clients/", "/", f"/clients/{first.id}"):
            with count_queries() as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    measure()  # warm: the per-process copies (webapp.cache) are loaded by the first request
    small = measure()
    for _ in range(22):
        make_client(me, deputy=deputy, contacts=contacts, days_ago=20)
    more = [{"full_name": f"Ещё {n}"} for n in range(8)]
    from webapp.models import Channel, User
    from webapp.services import clients as client_service
    with client.application.app_context():
        stored, acting = db.session.get(Client, first.id), db.session.get(User, me.id)
        for data in more:
            client_service.add_contact(stored, data, acting=acting)
        for n in range(10):
            client_service.log_touchpoint(stored, channel=Channel.CALL, summary=f"{n}", acting=acting,
                                          contact_ids=[c.id for c in stored.contacts[:3]])
        db.session.commit()
    assert measure() == small
