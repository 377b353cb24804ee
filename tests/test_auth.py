"""Logging in and out, sessions that end, and the brake on password guessing."""

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, messages
from webapp.extensions import db
from webapp.models import AuditEvent, Role, User


def test_login_shows_dashboard_and_logout_returns_to_login(client, make_user):
    """Can a user log in, see «Мой день» and log out?"""
    user = make_user(Role.MANAGER, full_name="Петров Алексей Николаевич")
    assert client.get("/").headers["Location"].startswith("/login")
    response = client.post("/login", data={"email": user.email.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Мой день" in page and "Петров Алексей Николаевич" in page
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, make_user):
    """Does a wrong password get a 401 and a message, not a login?"""
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert any("Неверный e-mail или пароль" in m for m in messages(response))
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, make_user):
    """Is a deactivated account refused at the login form?"""
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 401


def test_login_goes_to_next_but_never_to_another_site(client, make_user):
    """Does login return to the page asked for, and refuse an open redirect?"""
    user = make_user(Role.ADMIN)
    response = client.post("/login?next=/admin/users", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/admin/users"
    client.post("/logout")
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\\\\evil.example", "/%09/evil.example"])
def test_login_never_redirects_to_another_host(client, make_user, target):
    """Do «/\\host» and «/<tab>/host» (which browsers read as «//host») land on «Мой день» instead?"""
    user = make_user(Role.MANAGER)
    response = client.post("/login?next=" + target.replace("\\", "%5C"),
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def _session_cookie(client) -> str:
    return client.get_cookie("accountdesk_session").value


def test_cookie_replayed_after_logout_is_refused(app, make_user):
    """Is a session cookie captured before logout useless afterwards?"""
    user = make_user()
    client = app.test_client()
    client.login(user)
    stolen = _session_cookie(client)
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("accountdesk_session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_sessions_on_other_devices(app, make_user):
    """Does logging out on one device end the session on another?"""
    user = make_user()
    laptop, tablet = app.test_client(), app.test_client()
    laptop.login(user)
    tablet.login(user)
    assert tablet.get("/").status_code == 200
    laptop.post("/logout")
    assert tablet.get("/").status_code == 302


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_user):
    """After changing my password, do I stay in while an old cookie is refused?"""
    user = make_user()
    mine, other = app.test_client(), app.test_client()
    mine.login(user)
    other.login(user)
    response = mine.post("/account", data={"current_password": TEST_PASSWORD,
                                           "password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert response.status_code == 303
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302
    fresh = app.test_client()
    fresh.login(user, "a-brand-new-password")


def test_password_change_needs_the_current_password(client, make_user):
    """Is a password change refused when the current password is wrong?"""
    user = make_user()
    client.login(user)
    response = client.post("/account", data={"current_password": "nope-nope-nope",
                                              "password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert response.status_code == 422
    assert "Текущий пароль неверен." in messages(response)


def test_deactivated_user_is_thrown_out(app, make_user):
    """Does deactivating a user end their open session at once?"""
    admin, user = make_user(Role.ADMIN), make_user()
    victim = app.test_client()
    victim.login(user)
    admin_client = app.test_client()
    admin_client.login(admin)
    response = admin_client.post(f"/admin/users/{user.id}", data={
        "email": user.email, "full_name": user.full_name, "position": "", "phone": "",
        "role": "manager", "version": "1"})  # "active" unchecked
    assert response.status_code == 303
    assert victim.get("/").status_code == 302


def test_21st_failed_login_in_a_minute_is_429(client, make_user):
    """Is password guessing from one address stopped after 20 failures a minute?"""
    make_user(email="target@example.test")
    for attempt in range(20):
        response = client.post("/login", data={"email": f"user{attempt}@example.test", "password": "guess"})
        assert response.status_code == 401
    response = client.post("/login", data={"email": "target@example.test", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Слишком много попыток" in response.get_data(as_text=True)


def test_failed_logins_are_forgiven_a_minute_later(client, make_user, clock):
    """After 20 failures in a minute the address is refused; is it let in again once the minute is over
    (a lock-out of a minute, not of a day)?"""
    user = make_user()
    for attempt in range(20):
        assert client.post("/login", data={"email": f"user{attempt}@example.test", "password": "guess"}).status_code == 401
    clock.shift(seconds=50)
    assert client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 429
    clock.shift(seconds=15)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_failed_logins_are_limited_per_account_across_addresses(app, make_user):
    """Is one account protected even when guesses come from many addresses?"""
    user = make_user()
    client = app.test_client()
    for attempt in range(20):
        response = client.post("/login", data={"email": user.email, "password": "guess"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"})
        assert response.status_code == 401
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429


def test_successful_logins_do_not_count_against_the_limit(client, make_user):
    """Can a user log in and out 25 times a minute without being blocked?"""
    user = make_user()
    for _ in range(25):
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_failed_login_is_logged_and_audited(client, make_user, app, caplog):
    """Does a failed login leave a trace for the admin?"""
    user = make_user()
    with caplog.at_level("WARNING", logger="accountdesk.auth"):
        client.post("/login", data={"email": user.email, "password": "guess"},
                    environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert any("failed login" in r.getMessage() and "192.0.2.7" in r.getMessage() for r in caplog.records)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert event.entity_id == user.id and event.changes["address"][1] == "192.0.2.7"


def test_default_password_hash_is_strong():
    """Do real installations hash passwords with memory-hard scrypt?"""
    from webapp import config

    method, n, r, p = config.PASSWORD_HASH_METHOD.split(":")
    assert method == "scrypt" and int(n) >= 2**15 and int(r) >= 8
    user = User(password_hash="")
    user.set_password("x" * 12, config.PASSWORD_HASH_METHOD)
    assert user.password_hash.startswith("scrypt:65536:8:1$")
    assert user.check_password("x" * 12) and not user.check_password("y" * 12)


@pytest.mark.parametrize("password", ["short", ""])
def test_account_refuses_weak_passwords(client, make_user, password):
    """Is a too-short new password refused with a message?"""
    client.login(make_user())
    response = client.post("/account", data={"current_password": TEST_PASSWORD, "password": password,
                                              "confirm": password})
    assert response.status_code == 422
    assert messages(response)
