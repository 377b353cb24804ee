"""The doors: CSRF, security headers and cookies, login before anything, declared access on every
view, oversized requests, and GETs that never change data."""

import io
from urllib.parse import urlencode

import sqlalchemy as sa
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.conftest import TEST_PASSWORD, database_snapshot, messages
from tests.route_matrix import all_routes, expected_status, get_routes, url_of
from webapp.extensions import db
from webapp.models import CompanyProfile, Role, User
from webapp.permissions import PUBLIC, view_access

CSRF_MESSAGE = "нет проверочного токена"

# What a forged or anonymous POST would carry to be executed, were it let through.
HOSTILE_FORM = {
    "email": "intruder@example.test", "full_name": "Взломщик", "name": "ООО «Взлом»",
    "role": "admin", "active": "y", "version": "1", "current_password": TEST_PASSWORD,
    "password": "intruder-password-1", "confirm": "intruder-password-1",
    "vat_mode": "on_top", "vat_rate": "22", "default_hourly_rate": "1",
}


def test_logout_without_csrf_token_is_refused(client, login_as):
    """Is a forged logout (no CSRF token) refused with a Russian message, the session kept?"""
    login_as(Role.MANAGER)
    response = client.post("/logout", csrf=False)
    assert response.status_code == 400
    assert any(CSRF_MESSAGE in m for m in messages(response))
    assert client.get("/").status_code == 200


def test_company_save_without_csrf_token_changes_nothing(app, client, login_as):
    """Is a forged company profile save refused, and the profile left as it was?"""
    login_as(Role.ADMIN)
    before = database_snapshot(app)
    response = client.post("/admin/company", data=HOSTILE_FORM, csrf=False)
    assert response.status_code == 400
    assert any(CSRF_MESSAGE in m for m in messages(response))
    assert database_snapshot(app) == before


def test_password_change_without_csrf_token_keeps_the_old_password(app, client, login_as):
    """Can a forged request (no CSRF token) change my password?"""
    user = login_as(Role.ACCOUNTANT)
    before = database_snapshot(app)
    response = client.post("/account", data=HOSTILE_FORM, csrf=False)
    assert response.status_code == 400 and any(CSRF_MESSAGE in m for m in messages(response))
    assert database_snapshot(app) == before
    app.test_client().login(user)  # the old password still works


def test_an_htmx_write_without_csrf_header_is_refused(app, client, login_as):
    """Is an htmx POST without the X-CSRFToken header refused like a plain form?"""
    login_as(Role.ADMIN)
    before = database_snapshot(app)
    response = client.post("/admin/users/new", data=HOSTILE_FORM, csrf=False, htmx=True)
    assert response.status_code == 400
    assert "<html" not in response.get_data(as_text=True)
    assert any(CSRF_MESSAGE in m for m in messages(response))
    assert database_snapshot(app) == before


# The whole policy, directive by directive: a missing one (default-src, form-action, base-uri…) or a
# widened one (style-src *) fails, so a weaker policy never goes unnoticed.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def test_every_change_without_csrf_token_is_refused(app, client, make_user, sample_records, sample_files):
    """Does every route that accepts a POST — the ones that read no form included — refuse a forged
    one (no CSRF token) with 400, changing nothing, even for an admin?"""
    client.login(make_user(Role.ADMIN))
    before = database_snapshot(app)
    wrong = []
    for endpoint, methods in sorted(all_routes(app).items()):
        if "POST" not in methods:
            continue
        url = url_of(app, endpoint, sample_records)
        response = client.post(url, data=HOSTILE_FORM, csrf=False)
        if response.status_code != 400 or not any(CSRF_MESSAGE in m for m in messages(response)):
            wrong.append(f"POST {url} ({endpoint}): {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert database_snapshot(app) == before


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [p.split() for p in csp.split(";") if p.strip()]
    names = [p[0].lower() for p in parts]
    assert len(names) == len(set(names)), f"a directive given twice: {csp}"
    return {p[0].lower(): p[1:] for p in parts}


def test_pages_carry_security_headers(client, login_as):
    """Do pages carry the whole Content-Security-Policy (no inline code, no framing, nothing from
    elsewhere), forbid sniffing, and keep the referrer at home?"""
    anonymous = client.get("/login")
    login_as(Role.MANAGER)
    for response in (anonymous, client.get("/"), client.get("/", htmx=True), client.get("/no-such-page")):
        headers = response.headers
        assert _directives(headers["Content-Security-Policy"]) == POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    """Is the session cookie out of reach of scripts and of cross-site form posts?"""
    response = client.login(make_user())
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("accountdesk_session=")]
    assert cookies, response.headers
    attributes = {a.strip().lower() for a in cookies[-1].split(";")[1:]}
    assert "httponly" in attributes and "samesite=lax" in attributes


def test_health_check_answers_without_login(client):
    """Can monitoring ask /healthz without logging in, and get JSON?"""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json and response.get_json() == {"status": "ok", "database": "ok"}


def _answers_get(urls, url: str) -> bool:
    try:
        urls.match(url, method="GET")
    except (MethodNotAllowed, NotFound):
        return False
    return True


def test_anonymous_visitor_meets_the_login_page_everywhere(app, client):
    """Is every URL rule but the public ones closed to a visitor who has not logged in, GET and POST?"""
    with app.app_context():
        public = {rule.endpoint for rule in app.url_map.iter_rules() if view_access(rule.endpoint) == PUBLIC}
    assert public == {"static", "auth.login", "health.check", "links.page", "links.feed"}
    before = database_snapshot(app)
    urls = app.url_map.bind("localhost")
    wrong = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        # any id will do: the gate answers before anything is looked up
        url = urls.build(rule.endpoint, {name: 1 for name in rule.arguments})
        expected_get = 302 if _answers_get(urls, url) else 405  # a POST rule may share its URL with a page
        response = client.get(url)
        if response.status_code != expected_get or (
                expected_get == 302 and not response.headers["Location"].startswith("/login")):
            wrong.append(f"GET {url}: {response.status_code} {response.headers.get('Location')}")
        if "POST" in rule.methods:
            response = client.post(url, data=HOSTILE_FORM)
            if response.status_code not in (302, 303) or not response.headers["Location"].startswith("/login"):
                wrong.append(f"POST {url}: {response.status_code} {response.headers.get('Location')}")
    assert not wrong, "\n".join(wrong)
    assert database_snapshot(app) == before


def test_anonymous_htmx_request_is_sent_to_login_by_hx_redirect(client):
    """Does an htmx request after the session ended navigate the whole page to the login?"""
    response = client.get("/admin/users", htmx=True)
    assert response.status_code == 200
    assert (response.headers.get("HX-Location") or response.headers.get("HX-Redirect", "")).startswith("/login")


def test_every_view_declares_who_may_call_it(routing_app):
    """Does every endpoint carry @public or @allow, so none is open by omission?"""
    with routing_app.app_context():
        undeclared = [e for e in all_routes(routing_app) if view_access(e) is None]
    assert not undeclared


def test_a_view_without_declared_access_is_refused_even_to_an_admin(app, make_user):
    """Does the gate fail closed for a view somebody forgot to decorate?"""
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = app.test_client()
    client.login(make_user(Role.ADMIN))
    response = client.get("/forgotten")
    assert response.status_code == 403 and "secret" not in response.get_data(as_text=True)


def test_oversized_request_is_413_not_500(app, client, login_as):
    """Is a request body above MAX_CONTENT_LENGTH refused with 413 and a message?"""
    login_as(Role.ADMIN)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = database_snapshot(app)
    response = client.post("/admin/company", data={**HOSTILE_FORM, "address": "д" * 5000})
    assert response.status_code == 413
    assert messages(response) == ["Размер запроса превышает допустимый."]
    upload = client.post("/admin/company", data={**HOSTILE_FORM, "file": (io.BytesIO(b"x" * 10_000), "scan.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 413
    assert database_snapshot(app) == before


def test_oversized_form_field_is_413_not_500(app, client, login_as):
    """Is a text field above MAX_FORM_MEMORY_SIZE refused with 413 even under the body limit?"""
    login_as(Role.ADMIN)
    before = database_snapshot(app)
    big = "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)
    response = client.post("/admin/company", data={**HOSTILE_FORM, "address": big},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert database_snapshot(app) == before


def test_no_get_changes_data(app, client, make_user, sample_records, sample_files):
    """Does opening every page (plain, filtered, as htmx) leave every table as it was?"""
    admin = make_user(Role.ADMIN)
    client.login(admin)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompanyProfile)) == 0
    before = database_snapshot(app)
    for endpoint in get_routes(app):
        url = url_of(app, endpoint, sample_records)
        filtered = url + ("&" if "?" in url else "?") + urlencode({"q": "Образцов", "page": "2", "state": "all"})
        expected = expected_status(endpoint, Role.ADMIN)
        for response in (client.get(url), client.get(url, htmx=True), client.get(filtered)):
            assert response.status_code == expected, (url, response.status_code)
    client.get("/admin/audit", query_string={"entity_type": "users", "action": "login", "from": "2026-01-01"})
    app.test_client().get("/login")
    after = database_snapshot(app)
    assert after == before
    assert after["company_profile"] == []  # opening the empty company profile does not create it
    with app.app_context():
        assert db.session.get(User, admin.id).version == admin.version
