"""What a login or a password check gives away: the time of the answer, unthrottled guesses of the
current password, a CSRF token that outlives the session it was made for."""

import re
import time

import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, messages
from webapp.extensions import db
from webapp.models import AuditEvent, Role, User

# Slow enough (about 0.25 s a check here) that one hash check dwarfs everything else a login does.
SLOW_HASH = "pbkdf2:sha256:1000000"


def _with_slow_hash(app, user) -> None:
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.set_password(TEST_PASSWORD, SLOW_HASH)
        db.session.commit()


def _refused_login_time(client, email: str, password: str) -> float:
    start = time.perf_counter()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 401
    return time.perf_counter() - start


def test_login_takes_as_long_for_unknown_and_deactivated_accounts(app, client, make_user):
    """Does a refused login for an unknown or deactivated account take as long as a wrong password?"""
    app.config["PASSWORD_HASH_METHOD"] = SLOW_HASH
    active, inactive = make_user(), make_user(active=False)
    _with_slow_hash(app, active)
    _with_slow_hash(app, inactive)
    attempts = {"wrong password": (active.email, "wrong-password"),
                "unknown account": ("nobody@example.test", "wrong-password"),
                "deactivated, wrong password": (inactive.email, "wrong-password"),
                "deactivated, right password": (inactive.email, TEST_PASSWORD)}
    # Interleaved rounds, the fastest of each: the least disturbed by other work on the machine.
    fastest = dict.fromkeys(attempts, float("inf"))
    for _ in range(3):
        for kind, (email, password) in attempts.items():
            fastest[kind] = min(fastest[kind], _refused_login_time(client, email, password))
    reference = fastest.pop("wrong password")
    assert reference > 0.1  # the hash check is what is measured
    for kind, seconds in fastest.items():
        assert seconds > reference / 2, (kind, seconds, reference)


def test_deactivated_account_with_the_right_password_gets_the_same_refusal(client, make_user):
    """Does a deactivated account with its right password read exactly like a wrong password?"""
    inactive = make_user(active=False)
    active = make_user()
    refused = client.post("/login", data={"email": inactive.email, "password": TEST_PASSWORD})
    wrong = client.post("/login", data={"email": active.email, "password": "wrong-password"})
    assert refused.status_code == wrong.status_code == 401
    assert messages(refused) == messages(wrong)


def _change_password(client, current: str):
    return client.post("/account", data={"current_password": current, "password": "a-brand-new-password",
                                         "confirm": "a-brand-new-password"})


def test_guessing_the_current_password_is_stopped_after_20_failures(app, client, make_user):
    """Is the 21st wrong current password on «Моя учётная запись» within a minute a 429, even the right one?"""
    user = make_user()
    client.login(user)
    for attempt in range(20):
        response = _change_password(client, f"guess-number-{attempt}")
        assert response.status_code == 422
        assert "Текущий пароль неверен." in messages(response)
    response = _change_password(client, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Слишком много попыток" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).check_password(TEST_PASSWORD)


def test_a_wrong_current_password_is_audited(app, client, make_user):
    """Does every wrong current password leave a row in the audit log, with the address?"""
    user = make_user()
    client.login(user)
    for _ in range(3):
        _change_password(client, "not-my-password")
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "password_check_failed")).all()
        assert len(events) == 3
        assert all(e.entity_id == user.id and e.actor_id == user.id for e in events)
        assert events[0].changes["address"][1] == "127.0.0.1"
    admin = make_user(Role.ADMIN)
    reader = app.test_client()
    reader.login(admin)
    page = reader.get("/admin/audit?action=password_check_failed").get_data(as_text=True)
    assert "неверный текущий пароль" in page


def test_other_refusals_on_the_account_page_do_not_count_as_guesses(client, make_user):
    """Can a user who knows their password retry a too-short new one more than 20 times?"""
    client.login(make_user())
    for _ in range(21):
        response = client.post("/account", data={"current_password": TEST_PASSWORD, "password": "short",
                                                  "confirm": "short"})
        assert response.status_code == 422


def test_password_guesses_on_one_account_do_not_lock_another(app, make_user):
    """Does one user's guessing leave another user's password change alone?"""
    guesser, other = app.test_client(), app.test_client()
    guesser.login(make_user())
    other.login(make_user())
    for attempt in range(21):
        _change_password(guesser, f"guess-number-{attempt}")
    assert _change_password(other, TEST_PASSWORD).status_code == 303


def test_csrf_token_from_before_login_is_refused_after_it(client, make_user):
    """Is a CSRF token handed out on the login page useless once the user has logged in?"""
    before = client.csrf_token()
    client.login(make_user())
    assert client.get("/account").status_code == 200  # the page hands out the new token
    response = client.post("/logout", headers={"X-CSRFToken": before})
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still logged in
    assert client.post("/logout").status_code == 303  # the new token works


def test_csrf_token_from_a_session_is_refused_after_logout(client, make_user):
    """Is a CSRF token of a logged-in session useless after logout, on the login form too?"""
    user = make_user()
    client.login(user)
    during = client.csrf_token()
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD},
                           headers={"X-CSRFToken": during})
    assert response.status_code == 400
    client.login(user)


def test_login_still_works_from_the_login_page(client, make_user):
    """Does a plain login through the page's own hidden token still log in?"""
    user = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                           "csrf_token": token}, csrf=False)
    assert response.status_code == 303
    assert client.get("/").status_code == 200
