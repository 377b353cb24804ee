"""Sign-in with the company directory, against a real OpenLDAP (tests/ldap_server.py): accounts
created and refreshed from it, groups as roles, leavers locked out, and every way it can go wrong
answered with a message instead of a 500 or a weaker check."""

import logging
import socket
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, database_snapshot, messages
from tests.ldap_server import ACCOUNTANTS, ADMINS, MANAGERS, PASSWORD, SERVICE_PASSWORD, free_port, person_dn
from tests.html_checks import problems_of
from webapp.extensions import db
from webapp.models import AuditEvent, Role, User
from webapp.models.users import AccountSource
from webapp.services import directory as directory_service


def sign_in(client, login: str, password: str = PASSWORD):
    return client.post("/login", data={"email": login, "password": password})


def account(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def users_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events


# --- first sign-in, refresh, roles ----------------------------------------------------------------


def test_first_directory_sign_in_creates_the_user_with_the_role_of_their_group(ldap_app, client, directory):
    """Does a first sign-in with the directory password create the account from the directory,
    with the Cyrillic name, position, e-mail, phone and the role of the mapped group?"""
    response = sign_in(client, "ivanova")
    assert response.status_code == 303, messages(response)
    user = account(ldap_app, "ivanova@corp.example")
    assert (user.full_name, user.position, user.phone) == ("Иванова Мария Сергеевна", "Аккаунт-менеджер",
                                                           "+7 495 100-00-01")
    assert user.role == Role.MANAGER and user.active and user.source == AccountSource.DIRECTORY
    assert uuid.UUID(user.directory_id)  # the entryUUID, which survives renames
    assert client.get("/").status_code == 200
    created = audit(ldap_app, "create")[-1]
    assert created.changes["directory"] == [None, person_dn("ivanova")]
    assert created.changes["source"] == [None, "directory"]
    login = audit(ldap_app, "login")[-1]
    assert login.changes["source"] == [None, f"каталог: {person_dn('ivanova')}"]


@pytest.mark.parametrize("login", ["CORP\\ivanova", "ivanova@corp.example", "  ivanova "])
def test_domain_login_and_email_sign_in_to_the_same_account(ldap_app, client, login):
    """Do «ДОМЕН\\логин» and the e-mail reach the same person, with one account for both?"""
    assert sign_in(client, "ivanova").status_code == 303
    first = account(ldap_app, "ivanova@corp.example")
    other = ldap_app.test_client()
    assert sign_in(other, login).status_code == 303
    assert account(ldap_app, "ivanova@corp.example").id == first.id
    assert users_count(ldap_app) == 1


def test_a_person_in_two_mapped_groups_gets_the_strongest_role(ldap_app, client):
    """Does a manager who is also in the admins' group sign in as an admin?"""
    assert sign_in(client, "petrov").status_code == 303
    assert account(ldap_app, "petrov@corp.example").role == Role.ADMIN
    assert client.get("/admin/users").status_code == 200


def test_refreshed_name_and_changed_group_take_effect_at_next_sign_in(ldap_app, client, directory):
    """After the directory renames a person and moves her to the accountants, does her next
    sign-in show the new name and give the new role, on the same account?"""
    assert sign_in(client, "ivanova").status_code == 303
    before = account(ldap_app, "ivanova@corp.example")
    directory.set_attribute("ivanova", "displayName", "Петрова Мария Сергеевна")
    directory.set_attribute("ivanova", "title", "Бухгалтер")
    directory.set_groups("ivanova", ACCOUNTANTS)
    other = ldap_app.test_client()
    assert sign_in(other, "ivanova").status_code == 303
    after = account(ldap_app, "ivanova@corp.example")
    assert after.id == before.id
    assert (after.full_name, after.position, after.role) == ("Петрова Мария Сергеевна", "Бухгалтер", Role.ACCOUNTANT)
    update = audit(ldap_app, "update")[-1]
    assert update.changes["full_name"] == ["Иванова Мария Сергеевна", "Петрова Мария Сергеевна"]
    assert update.changes["role"] == ["manager", "accountant"]
    assert update.changes["directory"] == [None, person_dn("ivanova")]
    # the session that was open keeps going, with the role the directory gives now
    assert client.get("/clients/new").status_code == 403


def test_directory_account_pages_say_the_password_lives_in_the_directory(ldap_app, client):
    """Do «Моя учётная запись» and the admin's user page say the directory owns the password,
    instead of offering a local password that could never be used?"""
    assert sign_in(client, "petrov").status_code == 303
    html = client.get("/account").get_data(as_text=True)
    assert "пароль меняется там" in html and "Сменить пароль" not in html
    user = account(ldap_app, "petrov@corp.example")
    html = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Учётная запись из каталога компании" in html and "Сбросить пароль" not in html


# --- refused --------------------------------------------------------------------------------------


def test_disabled_directory_account_cannot_sign_in(ldap_app, client):
    """Is a person whose directory account is locked refused, though the password is right?"""
    response = sign_in(client, "kozlova")
    assert response.status_code == 401
    assert "Неверный e-mail или пароль, либо учётная запись отключена." in messages(response)
    assert users_count(ldap_app) == 0
    assert audit(ldap_app, "login_failed")[-1].changes["reason"] == [None, "отключена в каталоге"]


def test_person_outside_every_mapped_group_is_told_why(ldap_app, client):
    """Is a person in no AccountDesk group refused with a message that says so, and no account made?"""
    response = sign_in(client, "sidorov")
    assert response.status_code == 403
    assert directory_service.NO_GROUP in messages(response)
    assert users_count(ldap_app) == 0


def test_wrong_password_is_refused_like_a_local_one(ldap_app, client):
    """Does a wrong directory password get the same message as a wrong local one, and no account?"""
    response = sign_in(client, "ivanova", "not-her-password")
    assert response.status_code == 401
    assert "Неверный e-mail или пароль, либо учётная запись отключена." in messages(response)
    assert users_count(ldap_app) == 0


def test_empty_password_is_refused_before_any_bind(ldap_app, client):
    """Is an empty password refused by the form, and by the service without asking the directory
    (which, being down here, would otherwise have answered «unavailable»)?"""
    response = sign_in(client, "ivanova", "")
    assert response.status_code == 422
    assert "Введите пароль." in messages(response)
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    with ldap_app.test_request_context():
        assert directory_service.authenticate("ivanova", "", "127.0.0.1") is None
        db.session.rollback()


@pytest.mark.parametrize("login", ["*)(uid=*", "*", "ivano*", "ivanova)(uid=petrov", "\\2a"])
def test_filter_injection_in_the_login_signs_nobody_in(ldap_app, client, login):
    """Does a login with filter syntax match nobody (escaped), even with a real person's password?"""
    response = sign_in(client, login)
    assert response.status_code == 401
    assert users_count(ldap_app) == 0


def test_directory_down_refuses_with_a_russian_message(ldap_app, client, caplog):
    """With no directory server answering, is the sign-in refused with a message and a log line?"""
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    with caplog.at_level(logging.WARNING, logger="accountdesk"):
        response = sign_in(client, "ivanova")
    assert response.status_code == 503
    assert directory_service.UNAVAILABLE in messages(response)
    assert "directory sign-in of 'ivanova'" in caplog.text


def test_directory_down_never_falls_back_to_a_local_password(ldap_app, client, make_user):
    """When the directory is down, is a directory account refused even with a local password it
    happens to have, while a local account still signs in with its own?"""
    assert sign_in(client, "ivanova").status_code == 303
    with ldap_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ivanova@corp.example"))
        user.set_password(TEST_PASSWORD, ldap_app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
    local = make_user(Role.MANAGER)
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    for login in ("ivanova@corp.example", "ivanova"):
        response = sign_in(ldap_app.test_client(), login, TEST_PASSWORD)
        assert response.status_code == 503, login
    assert sign_in(ldap_app.test_client(), local.email, TEST_PASSWORD).status_code == 303


def test_servers_are_tried_in_order(ldap_app, client, directory):
    """With the first server down, does the next one in LDAP_URLS sign the person in?"""
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}", directory.url]
    assert sign_in(client, "ivanova").status_code == 303


def test_a_directory_that_never_answers_times_out_with_a_message(ldap_app, client):
    """Does a server that takes the connection but never answers give up within the time-out?"""
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        ldap_app.config.update(LDAP_URLS=[f"ldap://127.0.0.1:{silent.getsockname()[1]}"], LDAP_TIMEOUT=1)
        started = time.monotonic()
        response = sign_in(client, "ivanova")
    assert response.status_code == 503
    assert directory_service.UNAVAILABLE in messages(response)
    assert time.monotonic() - started < 8


def test_login_throttling_counts_directory_failures(ldap_app, client):
    """Are wrong directory passwords throttled like local ones?"""
    ldap_app.config["LOGIN_FAILURE_LIMIT"] = "3 per minute"
    statuses = [sign_in(client, "smirnova", f"wrong-{n}").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


# --- TLS ------------------------------------------------------------------------------------------


def test_start_tls_with_the_test_ca_signs_in(ldap_app, client, directory):
    """With StartTLS and the CA that signed the server's certificate, does sign-in work?"""
    ldap_app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=str(directory.certs.ca_file))
    assert sign_in(client, "ivanova").status_code == 303


def test_ldaps_with_the_test_ca_signs_in(ldap_app, client, directory):
    """Does an ldaps:// server with a trusted certificate sign the person in?"""
    ldap_app.config.update(LDAP_URLS=[directory.ldaps_url], LDAP_CA_FILE=str(directory.certs.ca_file))
    assert sign_in(client, "petrov").status_code == 303


@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_untrusted_certificate_is_refused(ldap_app, client, directory, caplog, transport):
    """Is a server whose certificate no trusted CA signed refused before any password is sent?"""
    ldap_app.config.update(LDAP_CA_FILE=str(directory.certs.other_ca_file), LDAP_START_TLS=True,
                           LDAP_URLS=[directory.ldaps_url if transport == "ldaps" else directory.url])
    with caplog.at_level(logging.WARNING, logger="accountdesk"):
        response = sign_in(client, "ivanova")
    assert response.status_code == 503
    assert directory_service.UNAVAILABLE in messages(response)
    assert "сертификат сервера не прошёл проверку" in caplog.text
    assert users_count(ldap_app) == 0


# --- modes and local accounts ---------------------------------------------------------------------


def test_directory_mode_keeps_the_local_admin_login_only(ldap_app, make_user):
    """In «directory» mode, does a local admin still sign in with the local password (break-glass),
    and a local manager not in the directory not?"""
    ldap_app.config["LDAP_MODE"] = "directory"
    admin, manager = make_user(Role.ADMIN), make_user(Role.MANAGER)
    assert sign_in(ldap_app.test_client(), admin.email, TEST_PASSWORD).status_code == 303
    assert sign_in(ldap_app.test_client(), manager.email, TEST_PASSWORD).status_code == 401


def test_local_account_with_the_directory_email_becomes_a_directory_account(ldap_app, make_user):
    """In «directory» mode, does a local manager whose e-mail the directory knows keep their
    account (and clients) when signing in with the directory, and lose the local password?"""
    ldap_app.config["LDAP_MODE"] = "directory"
    local = make_user(Role.SPECIALIST, email="ivanova@corp.example", full_name="Иванова М.")
    assert sign_in(ldap_app.test_client(), "ivanova@corp.example").status_code == 303
    linked = account(ldap_app, "ivanova@corp.example")
    assert (linked.id, linked.source, linked.role) == (local.id, AccountSource.DIRECTORY, Role.MANAGER)
    ldap_app.config["LDAP_MODE"] = "local"
    assert sign_in(ldap_app.test_client(), "ivanova@corp.example", TEST_PASSWORD).status_code == 401


def test_directory_person_with_a_local_admins_email_is_refused(ldap_app, client, make_user):
    """Can a directory sign-in take over a local admin's break-glass account? (It must not.)"""
    admin = make_user(Role.ADMIN, email="petrov@corp.example")
    response = sign_in(client, "petrov")
    assert response.status_code == 403
    assert directory_service.LOCAL_ADMIN in messages(response)
    assert account(ldap_app, "petrov@corp.example").source == AccountSource.LOCAL
    assert sign_in(ldap_app.test_client(), admin.email, TEST_PASSWORD).status_code == 303


def test_local_mode_never_asks_the_directory(ldap_app, client, make_user):
    """In «local» mode, does a directory person stay out and a local user sign in, directory down?"""
    ldap_app.config.update(LDAP_MODE="local", LDAP_URLS=[f"ldap://127.0.0.1:{free_port()}"])
    assert sign_in(client, "ivanova").status_code == 401
    assert sign_in(ldap_app.test_client(), make_user().email, TEST_PASSWORD).status_code == 303


def test_misconfigured_directory_refuses_but_the_local_admin_gets_in(ldap_app, client, make_user):
    """With «directory» mode and no server set, is a sign-in refused with a message, while the
    local admin still gets in?"""
    ldap_app.config.update(LDAP_MODE="directory", LDAP_URLS=[])
    response = sign_in(client, "ivanova")
    assert response.status_code == 503
    assert directory_service.MISCONFIGURED in messages(response)
    assert sign_in(ldap_app.test_client(), make_user(Role.ADMIN).email, TEST_PASSWORD).status_code == 303


def test_account_switched_off_in_accountdesk_stays_off(ldap_app, client):
    """Does an account an admin deactivated stay out, though the directory still lets it in?"""
    assert sign_in(client, "ivanova").status_code == 303
    with ldap_app.app_context():
        db.session.scalar(sa.select(User).where(User.email == "ivanova@corp.example")).active = False
        db.session.commit()
    assert sign_in(ldap_app.test_client(), "ivanova").status_code == 401


# --- ldap-sync ------------------------------------------------------------------------------------


def test_ldap_sync_deactivates_leavers_and_ends_their_sessions(ldap_app, directory, make_user):
    """Does `flask ldap-sync` deactivate the locked, the deleted and the group-less, end their open
    sessions, refresh the rest, and show the leavers on the handover page?"""
    sessions = {}
    for uid in ("ivanova", "petrov", "smirnova"):
        sessions[uid] = ldap_app.test_client()
        assert sign_in(sessions[uid], uid).status_code == 303
    directory.lock("ivanova")
    directory.set_groups("smirnova")  # out of every mapped group
    directory.set_attribute("petrov", "title", "Директор")
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 0, result.output
    assert "отключён ivanova@corp.example: отключена в каталоге" in result.output
    assert "отключён smirnova@corp.example: не входит в группы AccountDesk" in result.output
    assert not account(ldap_app, "ivanova@corp.example").active
    assert not account(ldap_app, "smirnova@corp.example").active
    assert account(ldap_app, "petrov@corp.example").position == "Директор"
    assert sessions["ivanova"].get("/").status_code == 302  # back to the login page
    assert sessions["smirnova"].get("/").status_code == 302
    assert sessions["petrov"].get("/").status_code == 200
    deactivated = audit(ldap_app, "deactivate")
    assert {e.changes["reason"][1] for e in deactivated} == {"каталог: отключена в каталоге",
                                                            "каталог: не входит в группы AccountDesk"}
    handover = sessions["petrov"].get("/clients/handover").get_data(as_text=True)
    assert "Иванова Мария Сергеевна" in handover and "отключён" in handover


def test_ldap_sync_deactivates_a_person_deleted_from_the_directory(ldap_app, directory):
    """Is an account whose directory entry is gone deactivated by the sync?"""
    assert sign_in(ldap_app.test_client(), "ivanova").status_code == 303
    with directory.admin() as conn:
        conn.modify(MANAGERS, {"member": [("MODIFY_DELETE", [person_dn("ivanova")])]})
        conn.delete(person_dn("ivanova"))
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert "отключён ivanova@corp.example: нет в каталоге" in result.output
    assert not account(ldap_app, "ivanova@corp.example").active


def test_ldap_sync_changes_role_when_the_group_changes(ldap_app, directory):
    """Does a person moved to the admins' group become an admin at the next sync?"""
    assert sign_in(ldap_app.test_client(), "ivanova").status_code == 303
    directory.set_groups("ivanova", ADMINS)
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert "обновлён ivanova@corp.example: role" in result.output
    assert account(ldap_app, "ivanova@corp.example").role == Role.ADMIN


def test_ldap_sync_with_the_directory_down_changes_nothing(ldap_app, directory):
    """When the directory does not answer, or its base DN is wrong, does the sync stop with an
    error instead of deactivating everyone?"""
    assert sign_in(ldap_app.test_client(), "ivanova").status_code == 303
    before = database_snapshot(ldap_app)
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 1 and "Каталог недоступен, ничего не изменено" in result.output
    ldap_app.config.update(LDAP_URLS=[directory.url], LDAP_BASE_DN="dc=typo,dc=example")
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 1 and "dc=typo,dc=example не найден в каталоге" in result.output
    renamed = "cn=AccountDesk-Sales,ou=groups,dc=corp,dc=example"
    ldap_app.config.update(LDAP_BASE_DN="dc=corp,dc=example", LDAP_GROUP_ROLES={renamed: "manager"})
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 1 and f"{renamed} не найден в каталоге" in result.output
    assert database_snapshot(ldap_app) == before


def test_ldap_sync_that_finds_nobody_by_identifier_stops(ldap_app):
    """When no account is found by its identifier (a wrong LDAP_ID_ATTRIBUTE), does the sync stop
    instead of deactivating everyone?"""
    for uid in ("ivanova", "petrov"):
        assert sign_in(ldap_app.test_client(), uid).status_code == 303
    ldap_app.config["LDAP_ID_ATTRIBUTE"] = "employeeNumber"
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
    assert result.exit_code == 1 and "ни одна учётная запись не найдена по employeeNumber" in result.output
    assert account(ldap_app, "ivanova@corp.example").active and account(ldap_app, "petrov@corp.example").active


def test_ldap_sync_dry_run_saves_nothing(ldap_app, directory):
    """Does `ldap-sync --dry-run` say what it would do and leave the accounts as they are?"""
    assert sign_in(ldap_app.test_client(), "ivanova").status_code == 303
    directory.lock("ivanova")
    result = ldap_app.test_cli_runner().invoke(args=["ldap-sync", "--dry-run"])
    assert "отключён ivanova@corp.example" in result.output and "ничего не сохранено" in result.output
    assert account(ldap_app, "ivanova@corp.example").active


def test_ldap_check_prints_what_the_directory_says(ldap_app):
    """Does `flask ldap-check LOGIN` show the person, their groups and the role they would get?"""
    result = ldap_app.test_cli_runner().invoke(args=["ldap-check", "CORP\\petrov"])
    assert result.exit_code == 0, result.output
    assert "ФИО: Петров Олег Игоревич" in result.output
    assert "Роль: Администратор" in result.output
    assert MANAGERS in result.output and ADMINS in result.output
    assert "будет создана при первом входе" in result.output
    result = ldap_app.test_cli_runner().invoke(args=["ldap-check", "kozlova"])
    assert "В каталоге: отключена" in result.output and "Роль: вход не разрешён" in result.output
    result = ldap_app.test_cli_runner().invoke(args=["ldap-check", "nobody"])
    assert result.exit_code == 1 and "нет записи" in result.output


# --- secrets --------------------------------------------------------------------------------------


def test_no_directory_password_in_logs_or_database(ldap_app, client, directory, login_as, caplog):
    """After sign-ins, refusals, a sync and the admin page, is no directory password anywhere
    in the log or the database?"""
    with caplog.at_level(logging.DEBUG):
        sign_in(client, "ivanova")
        sign_in(ldap_app.test_client(), "ivanova", "Wrong-Pass-99")
        sign_in(ldap_app.test_client(), "kozlova")
        ldap_app.test_cli_runner().invoke(args=["ldap-sync"])
        admin = ldap_app.test_client()
        assert sign_in(admin, "petrov").status_code == 303
        page = admin.get("/admin/directory").get_data(as_text=True)
        page += admin.post("/admin/directory/test").get_data(as_text=True)
        ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
        sign_in(ldap_app.test_client(), "smirnova")
    stored = repr(database_snapshot(ldap_app))
    for secret in (PASSWORD, "Wrong-Pass-99", SERVICE_PASSWORD):
        assert secret not in caplog.text
        assert secret not in stored
        assert secret not in page
    assert "задан (скрыт)" in page


# --- the admin page -------------------------------------------------------------------------------


def test_directory_page_shows_the_settings_in_force_without_secrets(ldap_app, client, login_as):
    """Does «Каталог» show the servers, base DN, filters and group → role map, hide the service
    account's password, and warn that plain ldap:// sends passwords unencrypted?"""
    login_as(Role.ADMIN)
    html = client.get("/admin/directory").get_data(as_text=True)
    assert ldap_app.config["LDAP_URLS"][0] in html
    assert "dc=corp,dc=example" in html and "(objectClass=inetOrgPerson)" in html
    assert MANAGERS in html and "Аккаунт-менеджер" in html
    assert SERVICE_PASSWORD not in html and "задан (скрыт)" in html
    assert "без шифрования" in html
    assert 'aria-current="page"' in html and ">Каталог</a>" in html


def test_connection_test_reports_each_step(ldap_app, client, login_as, directory):
    """Does «Проверить соединение» confirm the server, the service account, the base DN and each
    mapped group, and name what is missing or down?"""
    login_as(Role.ADMIN)
    html = client.post("/admin/directory/test").get_data(as_text=True)
    assert "Сервисная учётная запись принята" in html
    assert "Базовый DN найден(а): dc=corp,dc=example" in html
    assert f"Группа (Бухгалтер) найден(а): {ACCOUNTANTS}" in html
    missing = "cn=AccountDesk-Leads,ou=groups,dc=corp,dc=example"
    ldap_app.config["LDAP_GROUP_ROLES"] = {**ldap_app.config["LDAP_GROUP_ROLES"], missing: "lead"}
    html = client.post("/admin/directory/test", htmx=True).get_data(as_text=True)
    assert f"не найден(а) в каталоге: {missing}" in html and "<html" not in html
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    response = client.post("/admin/directory/test")
    assert response.status_code == 200 and "Каталог недоступен" in response.get_data(as_text=True)


def test_user_check_shows_the_role_a_login_would_get(ldap_app, client, login_as):
    """Does «Проверить пользователя» show what the directory says and which role a login gets?"""
    login_as(Role.ADMIN)
    html = client.post("/admin/directory/check", data={"login": "petrov"}).get_data(as_text=True)
    assert person_dn("petrov") in html and "Петров Олег Игоревич" in html
    assert "Администратор" in html and ADMINS in html
    html = client.post("/admin/directory/check", data={"login": "kozlova"}, htmx=True).get_data(as_text=True)
    assert "отключена" in html and "вход не разрешён" in html and "<html" not in html
    html = client.post("/admin/directory/check", data={"login": "sidorov"}).get_data(as_text=True)
    assert "ни одной" in html and "вход не разрешён" in html
    html = client.post("/admin/directory/check", data={"login": "*)(uid=*"}).get_data(as_text=True)
    assert "нет записи" in html
    page = client.post("/admin/directory/check", data={"login": "petrov"}).get_data(as_text=True)
    assert problems_of(page) == []
    response = client.post("/admin/directory/check", data={"login": ""})
    assert response.status_code == 422 and "Введите логин или e-mail." in messages(response)
    ldap_app.config["LDAP_URLS"] = [f"ldap://127.0.0.1:{free_port()}"]
    response = client.post("/admin/directory/check", data={"login": "petrov"})
    assert response.status_code == 503 and "Каталог недоступен" in response.get_data(as_text=True)


def test_directory_checks_need_the_csrf_token(ldap_app, client, login_as):
    """Are the connection test and the user check refused without the CSRF token?"""
    login_as(Role.ADMIN)
    assert client.post("/admin/directory/test", csrf=False).status_code == 400
    assert client.post("/admin/directory/check", data={"login": "petrov"}, csrf=False).status_code == 400


def test_active_directory_guid_is_searched_as_the_bytes_it_was_read_from():
    """Is an AD objectGUID stored as the UUID AD shows, and searched with its own bytes?"""
    raw = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0").bytes_le
    s = directory_service.Settings.from_config({"LDAP_SCHEMA": "ad"})
    stored = directory_service._identifier({"objectGUID": [raw]}, s.id_attribute)
    assert stored == "12345678-9abc-def0-1234-56789abcdef0"
    assert directory_service._id_filter(s, stored) == "(objectGUID=" + "".join(f"\\{b:02x}" for b in raw) + ")"
