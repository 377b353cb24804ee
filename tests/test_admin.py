"""Administration: staff accounts, the company profile and the audit log."""

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.admin_forms import ACCOUNT, BIK, CORR_ACCOUNT, company_form, new_user_form, user_form
from tests.conftest import TEST_PASSWORD, database_snapshot, messages, reload
from webapp.extensions import db
from webapp.models import AuditEvent, CompanyProfile, Role, User, VatMode

def audit_events(app, **where) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
        events = db.session.scalars(query).all()
        db.session.expunge_all()
        return events


# --- users -----------------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_log_in(app, client, login_as):
    """Does a new user appear in the list and get in with the password the admin set?"""
    login_as(Role.ADMIN)
    response = client.post("/admin/users/new", data=new_user_form())
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Новикова Елена Павловна" in page and "novikova@example.test" in page
    assert "Пользователь «Новикова Елена Павловна» создан." in page
    app.test_client().login("novikova@example.test", "first-password-1")
    event = audit_events(app, entity_type="users", action="create")[-1]
    assert event.entity_label == "Новикова Елена Павловна"
    assert event.changes["password_hash"] == [None, "***"]  # the hash itself never reaches the log


@pytest.mark.parametrize("email", ["Taken@Example.test", "taken@example.test", " TAKEN@EXAMPLE.TEST "])
def test_duplicate_email_in_any_case_is_refused(app, client, login_as, make_user, email):
    """Is a second account with the same e-mail, in any letter case, refused with a message?"""
    make_user(email="taken@example.test")
    login_as(Role.ADMIN)
    before = database_snapshot(app)
    response = client.post("/admin/users/new", data=new_user_form(email=email))
    assert response.status_code == 422
    assert "Пользователь с таким e-mail уже есть." in messages(response)
    assert database_snapshot(app) == before


def test_admin_changes_a_users_role(app, client, login_as, make_user):
    """Can an admin make a manager a lead, with the change in the audit log?"""
    login_as(Role.ADMIN)
    user = make_user(Role.MANAGER)
    response = client.post(f"/admin/users/{user.id}", data=user_form(user, role="lead"))
    assert response.status_code == 303
    assert reload(app, User, user.id).role == Role.LEAD
    [event] = audit_events(app, entity_type="users", entity_id=user.id, action="update")
    assert event.changes == {"role": ["manager", "lead"]}


def test_deactivated_user_cannot_log_in(app, client, login_as, make_user):
    """Does deactivating an account refuse its next login?"""
    login_as(Role.ADMIN)
    user = make_user(Role.MANAGER)
    response = client.post(f"/admin/users/{user.id}", data=user_form(user, active=False))
    assert response.status_code == 303
    assert reload(app, User, user.id).active is False
    assert app.test_client().post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 401
    assert audit_events(app, entity_type="users", entity_id=user.id, action="deactivate")


def test_password_reset_ends_the_old_password_and_sessions(app, client, login_as, make_user):
    """After an admin resets a password, does the old one fail and the open session end?"""
    login_as(Role.ADMIN)
    user = make_user(Role.MANAGER)
    their_laptop = app.test_client()
    their_laptop.login(user)
    response = client.post(f"/admin/users/{user.id}/password",
                           data={"password": "reset-password-1", "confirm": "reset-password-1"})
    assert response.status_code == 303
    assert their_laptop.get("/").status_code == 302
    assert app.test_client().post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 401
    app.test_client().login(user, "reset-password-1")
    assert audit_events(app, entity_type="users", entity_id=user.id, action="password_reset")


def test_password_reset_needs_matching_long_passwords(app, client, login_as, make_user):
    """Is a mismatched or short reset password refused with a message, the old one kept?"""
    login_as(Role.ADMIN)
    user = make_user(Role.MANAGER)
    before = database_snapshot(app)
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "reset-password-1",
                                                                      "confirm": "reset-password-2"})
    assert response.status_code == 422 and "Пароли не совпадают." in messages(response)
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "Пароль должен быть не короче 10 символов." in messages(response)
    assert database_snapshot(app) == before


@pytest.mark.parametrize("changes", [{"role": "manager"}, {"active": False}], ids=["demote", "deactivate"])
def test_admin_cannot_lock_themselves_out(app, client, login_as, changes):
    """Is an admin stopped from removing their own admin role or deactivating themselves?"""
    admin = login_as(Role.ADMIN)
    before = database_snapshot(app)
    response = client.post(f"/admin/users/{admin.id}", data=user_form(admin, **changes))
    assert response.status_code == 422
    assert "Нельзя снять с себя роль администратора или отключить свою учётную запись." in messages(response)
    assert database_snapshot(app) == before
    assert client.get("/admin/users").status_code == 200


def test_update_user_service_refuses_a_non_admin(app, make_user):
    """Does the service itself refuse a manager who would make someone an admin (deny by default),
    not only the admin-only route?"""
    from webapp.saving import Edit
    from webapp.services import PermissionDenied
    from webapp.services import users as user_service
    manager, victim = make_user(Role.MANAGER), make_user(Role.ACCOUNTANT)
    with app.app_context():
        acting, target = db.session.get(User, manager.id), db.session.get(User, victim.id)
        with pytest.raises(PermissionDenied):
            user_service.update_user(target, Edit({"role": Role.ADMIN}, target.version), acting=acting)
        db.session.rollback()
    assert reload(app, User, victim.id).role == Role.ACCOUNTANT


def test_stale_user_edit_is_a_conflict(app, client, login_as, make_user):
    """Does saving a user someone changed meanwhile answer 409 instead of overwriting?"""
    login_as(Role.ADMIN)
    user = make_user(Role.MANAGER, position="Аккаунт-менеджер")
    assert client.post(f"/admin/users/{user.id}", data=user_form(user, position="Ведущий менеджер")).status_code == 303
    response = client.post(f"/admin/users/{user.id}", data=user_form(user, position="Старший менеджер"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Ведущий менеджер" in page and "Старший менеджер" in page
    assert reload(app, User, user.id).position == "Ведущий менеджер"


@pytest.fixture
def staff(make_user):
    return {
        "ivanova": make_user(Role.MANAGER, full_name="Иванова Анна Сергеевна", email="anna@example.test"),
        "petrov": make_user(Role.LEAD, full_name="Петров Олег Ильич", email="oleg@example.test"),
        "sidorov": make_user(Role.LEAD, full_name="Сидоров Иван Петрович", email="ivan.s@example.test",
                             active=False),
    }


def _names(response) -> set[str]:
    return set(re.findall(r'href="/admin/users/\d+">([^<]+)</a>', response.get_data(as_text=True)))


LIST_FILTERS = [
    ({}, {"Иванова Анна Сергеевна", "Петров Олег Ильич"}),  # the active ones
    ({"q": "иванова"}, {"Иванова Анна Сергеевна"}),
    ({"q": "ИВАН", "state": "all"}, {"Иванова Анна Сергеевна", "Сидоров Иван Петрович"}),
    ({"q": "oleg@"}, {"Петров Олег Ильич"}),
    ({"role": "lead"}, {"Петров Олег Ильич"}),
    ({"role": "lead", "state": "inactive"}, {"Сидоров Иван Петрович"}),
    ({"role": "lead", "state": "all"}, {"Петров Олег Ильич", "Сидоров Иван Петрович"}),
    ({"role": "accountant", "state": "all"}, set()),
]


def test_user_list_searches_and_filters(client, login_as, staff):
    """Does the user list find people by name or e-mail (in any letter case), role and state?"""
    admin = login_as(Role.ADMIN, full_name="Админов Админ Админович")
    for query, expected in LIST_FILTERS:
        assert _names(client.get("/admin/users", query_string=query)) - {admin.full_name} == expected, query


def test_user_list_htmx_request_gets_only_the_results(client, login_as, staff):
    """Does the live search get just the results block, marked as varying by HX-Request?"""
    login_as(Role.ADMIN)
    response = client.get("/admin/users", query_string={"q": "Петров"}, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<nav" not in body.split('id="results"')[0]
    assert body.lstrip().startswith('<div id="results">')
    assert "Петров Олег Ильич" in body and "Иванова" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert "HX-Request" in client.get("/admin/users").headers["Vary"]


# --- company profile -------------------------------------------------------------------------


def profile(app) -> CompanyProfile | None:
    with app.app_context():
        record = db.session.scalar(sa.select(CompanyProfile))
        if record is not None:
            db.session.expunge(record)
        return record


def test_company_profile_saves_valid_requisites(app, client, login_as):
    """Are valid requisites saved, with spaces pasted into them removed?"""
    login_as(Role.ADMIN)
    response = client.post("/admin/company", data=company_form(inn="7707 083 893", account=" " + ACCOUNT))
    assert response.status_code == 303, messages(response)
    saved = profile(app)
    assert (saved.inn, saved.ogrn, saved.bik, saved.account, saved.corr_account) == (
        "7707083893", "1027700132195", BIK, ACCOUNT, CORR_ACCOUNT)
    assert saved.name == "ООО «Ромашка Софт»"
    page = client.get("/admin/company").get_data(as_text=True)
    assert "Профиль компании сохранён." in page and 'value="7707083893"' in page


INVALID_REQUISITES = [
    ("inn", "7707083894", "ИНН не проходит проверку контрольных цифр."),
    ("inn", "77070838", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),
    ("ogrn", "1027700132194", "ОГРН не проходит проверку контрольной цифры."),
    ("bik", "144525225", "БИК состоит из 9 цифр и начинается с 04."),
    ("account", ACCOUNT[:-1] + str((int(ACCOUNT[-1]) + 1) % 10),
     "Счёт не соответствует БИК (не сходится контрольная цифра)."),
    ("corr_account", "30101810400000000226", "Корр. счёт не соответствует БИК (не сходится контрольная цифра)."),
    ("kpp", "77070100", "КПП состоит из 9 символов: 4 цифры, 2 цифры или латинские буквы, 3 цифры."),
    ("vat_rate", "сто", "Введите число, например 1 234,50."),
    ("vat_rate", "150", "Ставка от 0 до 99 %."),
    ("default_hourly_rate", "-1", "Ставка от 0 до 10 000 000 ₽."),
]


def test_company_profile_refuses_invalid_requisites(app, client, login_as):
    """Is each wrong requisite refused with 422 and the right Russian message, nothing saved?"""
    login_as(Role.ADMIN)
    client.post("/admin/company", data=company_form())
    before = database_snapshot(app)
    for field, value, message in INVALID_REQUISITES:
        response = client.post("/admin/company", data=company_form(**{field: value, "version": "1",
                                                                      "name": "Другое имя"}))
        assert response.status_code == 422, field
        assert any(message in m for m in messages(response)), (field, messages(response))
        assert f'value="{value}"' in response.get_data(as_text=True)  # the input is kept for correcting
    assert database_snapshot(app) == before


def test_money_fields_accept_russian_format(app, client, login_as):
    """Does «3 500,50» become Decimal('3500.50'), shown back as «3 500,5»?"""
    login_as(Role.ADMIN)
    client.post("/admin/company", data=company_form(default_hourly_rate="3 500,50", vat_rate="10,0"))
    saved = profile(app)
    assert saved.default_hourly_rate == Decimal("3500.50") and isinstance(saved.default_hourly_rate, Decimal)
    assert saved.vat_rate == Decimal("10.00")
    assert 'value="3 500,5"' in client.get("/admin/company").get_data(as_text=True)
    client.post("/admin/company", data=company_form(default_hourly_rate="4\u00a0000 ₽", version="1"))
    assert profile(app).default_hourly_rate == Decimal("4000.00")


def _version_in(response) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"|type="hidden" value="(\d+)"[^>]*name="version"',
                     response.get_data(as_text=True)).group(1)


def test_stale_company_save_shows_both_values_and_overwrites_on_second_save(app, client, login_as, make_user):
    """Does a stale save show theirs and mine (409), change nothing, and a second save overwrite?"""
    login_as(Role.ADMIN)
    client.post("/admin/company", data=company_form(name="ООО «Первое»"))
    colleague = app.test_client()
    colleague.login(make_user(Role.ADMIN))
    assert colleague.post("/admin/company", data=company_form(name="ООО «Коллега»", vat_mode="none",
                                                              version="1")).status_code == 303
    before = database_snapshot(app)

    response = client.post("/admin/company", data=company_form(name="ООО «Моё»", version="1"))
    assert response.status_code == 409
    conflict = response.get_data(as_text=True).split('class="alert alert-warning conflict"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", conflict)
    assert rows == [("Краткое наименование", "ООО «Коллега»", "ООО «Моё»"),  # field, theirs, yours
                    ("НДС", "Без НДС (УСН)", "НДС сверху")]
    assert database_snapshot(app) == before
    assert _version_in(response) == "2"

    response = client.post("/admin/company", data=company_form(name="ООО «Моё»", version=_version_in(response)))
    assert response.status_code == 303
    saved = profile(app)
    assert (saved.name, saved.vat_mode, saved.version) == ("ООО «Моё»", VatMode.ON_TOP, 3)


def test_each_company_save_is_audited_field_by_field(app, client, login_as):
    """Does every save leave an audit row with each changed field's old and new value?"""
    admin = login_as(Role.ADMIN)
    client.post("/admin/company", data=company_form())
    client.post("/admin/company", data=company_form(version="1", name="ООО «Ландыш»", default_hourly_rate="4000"))
    created, updated = audit_events(app, entity_type="company_profile")
    assert created.action == "create" and created.changes["inn"] == [None, "7707083893"]
    assert updated.action == "update" and updated.actor_id == admin.id
    assert updated.changes == {"name": ["ООО «Ромашка Софт»", "ООО «Ландыш»"],
                               "default_hourly_rate": ["3500.50", "4000.00"]}
    page = client.get("/admin/audit", query_string={"entity_type": "company_profile"}).get_data(as_text=True)
    assert "Ставка часа по умолчанию: 3500.50 → 4000.00" in page
    assert "Краткое наименование: ООО «Ромашка Софт» → ООО «Ландыш»" in page


# --- audit log -------------------------------------------------------------------------------


@pytest.fixture
def events(app, make_user):
    """Audit rows by two people on three days (the last one late in the evening, UTC)."""
    alice, bob = make_user(Role.ADMIN, full_name="Алисова Алиса"), make_user(Role.MANAGER, full_name="Бобров Борис")
    rows = [
        ("e-users-create", alice, "users", "create", datetime(2026, 3, 1, 9, 0)),
        ("e-users-update", alice, "users", "update", datetime(2026, 3, 2, 9, 0)),
        ("e-company-update", alice, "company_profile", "update", datetime(2026, 3, 2, 10, 0)),
        ("e-bob-login", bob, "users", "login", datetime(2026, 3, 2, 11, 0)),
        ("e-bob-update", bob, "users", "update", datetime(2026, 3, 10, 22, 30)),  # 11 March in Moscow
    ]
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent))
        for label, actor, entity_type, action, when in rows:
            db.session.add(AuditEvent(created_at=when.replace(tzinfo=timezone.utc), actor_id=actor.id,
                                      actor_name=actor.full_name, entity_type=entity_type, entity_id=1,
                                      entity_label=label, action=action, changes={}))
        db.session.commit()
    return {"alice": alice, "bob": bob}


def _labels(response) -> set[str]:
    return set(re.findall(r"(e-[a-z-]+)</(?:span|a)>", response.get_data(as_text=True)))


def test_audit_log_filters_by_type_actor_action_and_date(client, app, login_as, events):
    """Does the audit log narrow down by record type, person, action and (Moscow) date?"""
    login_as(Role.ADMIN)  # its login adds a «login» row of its own, today
    cases = [
        ({"entity_type": "company_profile"}, {"e-company-update"}),
        ({"actor": events["bob"].id}, {"e-bob-update"}),  # sign-ins only when asked
        ({"actor": events["bob"].id, "signins": "1"}, {"e-bob-login", "e-bob-update"}),
        ({"action": "update", "entity_type": "users"}, {"e-users-update", "e-bob-update"}),
        ({"from": "2026-03-02", "to": "2026-03-02", "signins": "1"},
         {"e-users-update", "e-company-update", "e-bob-login"}),
        ({"from": "2026-03-11", "to": "2026-03-11"}, {"e-bob-update"}),
        ({"to": "2026-03-01"}, {"e-users-create"}),
        ({"actor": events["alice"].id, "action": "login"}, set()),
        ({"from": "not-a-date", "entity_type": "company_profile"}, {"e-company-update"}),
    ]
    for query, expected in cases:
        response = client.get("/admin/audit", query_string=query)
        assert response.status_code == 200
        assert _labels(response) == expected, query


def test_audit_log_paginates_keeping_the_filters(client, app, login_as, events):
    """Does a long log come in pages whose links keep the filter?"""
    login_as(Role.ADMIN)
    app.config["PER_PAGE"] = 2
    march = {"entity_type": "users", "from": "2026-03-01", "to": "2026-03-31", "signins": "1"}
    first = client.get("/admin/audit", query_string=march)
    assert _labels(first) == {"e-bob-update", "e-bob-login"}  # newest first
    page = first.get_data(as_text=True)
    assert "Всего: 4" in page
    link = re.search(r'href="(/admin/audit\?[^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert all(f"{key}={value}" in link for key, value in march.items())
    second = client.get(link)
    assert _labels(second) == {"e-users-update", "e-users-create"}
    beyond = client.get("/admin/audit", query_string={**march, "page": 9})
    assert beyond.status_code == 200 and _labels(beyond) == set()
