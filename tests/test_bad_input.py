"""Hostile input in every field of every form: refused with a message (never a 500), the stored
record untouched; or, where the text is legitimate, saved and shown escaped."""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, database_snapshot, messages, reload
from tests.admin_forms import company_form, new_user_form, user_form
from webapp.extensions import db
from webapp.models import CompanyProfile, Role, User

SCRIPT = "<script>alert(1)</script>"
QUOTES = "«Рога & Копыта»"

HOSTILE = {
    "nul": "Рога\x00Копыта",
    "soh": "Рога\x01Копыта",
    "esc": "\x1b[31mРога",
    "long": "x" * 10_000,  # ASCII: percent-encoding 10,000 «я» costs the test client seconds
    "script": SCRIPT,
    "quotes": QUOTES,
}
ALWAYS_REFUSED = {"nul", "soh", "esc", "long"}
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", QUOTES: "«Рога &amp; Копыта»"}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
NEVER_SHOWN = {"password", "confirm", "current_password", "version"}


@dataclass
class Form:
    """One form under attack: where it posts, its fields, a valid filling, where a saved value shows."""

    role: Role | None  # who fills it (None: nobody logged in)
    url: Callable[..., str]
    fields: tuple[str, ...]
    valid: Callable[..., dict]
    shown_on: Callable[..., list[str]] = lambda app, target: []
    setup: Callable[..., object] = lambda app, client, make_user: None
    ignore: tuple[str, ...] = ()  # tables a refusal may legitimately write to


_emails = (f"new{n}@example.test" for n in itertools.count())


def _user_pages(app, target):
    return [f"/admin/users/{target.id}", "/admin/users?state=all", "/admin/audit"]


def _new_user_pages(app, target):
    with app.app_context():
        newest = db.session.scalar(sa.select(User).order_by(User.id.desc()).limit(1))
        return _user_pages(app, newest)


def _first_company_save(app, client, make_user):
    assert client.post("/admin/company", data=company_form()).status_code == 303


def _company_now(app, target):
    with app.app_context():
        version = db.session.scalar(sa.select(CompanyProfile.version))
    return company_form(version=str(version))


FORMS = {
    "login": Form(
        None, lambda target: "/login", ("email", "password"),
        lambda app, target: {"email": target.email, "password": TEST_PASSWORD},
        setup=lambda app, client, make_user: make_user(Role.MANAGER),
        ignore=("audit_events",)),  # a failed login is audited, as it should be
    "account": Form(
        Role.MANAGER, lambda target: "/account", ("current_password", "password", "confirm"),
        lambda app, target: {"current_password": TEST_PASSWORD, "password": "new-password-123",
                             "confirm": "new-password-123"},
        ignore=("audit_events",)),  # a wrong current password is audited, as it should be
    "new_user": Form(
        Role.ADMIN, lambda target: "/admin/users/new", ("email", "full_name", "position", "phone", "role",
                                                        "password"),
        lambda app, target: new_user_form(email=next(_emails)), shown_on=_new_user_pages),
    "edit_user": Form(
        Role.ADMIN, lambda target: f"/admin/users/{target.id}",
        ("email", "full_name", "position", "phone", "role", "version"),
        lambda app, target: user_form(reload(app, User, target.id)), shown_on=_user_pages,
        setup=lambda app, client, make_user: make_user(Role.MANAGER)),
    "reset_password": Form(
        Role.ADMIN, lambda target: f"/admin/users/{target.id}/password", ("password", "confirm"),
        lambda app, target: {"password": "reset-password-1", "confirm": "reset-password-1"},
        setup=lambda app, client, make_user: make_user(Role.MANAGER)),
    "company": Form(
        Role.ADMIN, lambda target: "/admin/company",
        ("name", "legal_name", "inn", "kpp", "ogrn", "address", "phone", "email", "bank_name", "bik",
         "account", "corr_account", "signatory_name", "signatory_position", "signatory_basis",
         "vat_mode", "vat_rate", "default_hourly_rate", "version"),
        _company_now, shown_on=lambda app, target: ["/admin/company", "/admin/audit"],
        setup=_first_company_save),
}


def _without(snapshot: dict, tables: tuple[str, ...]) -> dict:
    return {name: rows for name, rows in snapshot.items() if name not in tables}


@pytest.mark.parametrize("form_name", FORMS)
def test_hostile_values_are_refused_or_shown_escaped(app, client, make_user, form_name):
    """Is hostile text refused with a Russian message, or saved and shown escaped, never a 500?"""
    form = FORMS[form_name]
    me = make_user(form.role) if form.role else None
    if me:
        client.login(me)
    target = form.setup(app, client, make_user) or me
    problems = []
    before = _without(database_snapshot(app), form.ignore)
    for (kind, value), name in itertools.product(HOSTILE.items(), form.fields):
        response = client.post(form.url(target), data={**form.valid(app, target), name: value})
        status, body = response.status_code, response.get_data(as_text=True)
        after = _without(database_snapshot(app), form.ignore)
        where = f"{name}={kind}: {status}"
        if SCRIPT in body:
            problems.append(f"{where} echoes the markup unescaped")
        if 400 <= status < 500 and (status != 401 or form_name == "login"):  # 401: a failed login
            shown = messages(response)
            if not shown or not all(CYRILLIC.search(m) for m in shown):
                problems.append(f"{where} without a message in Russian: {shown}")
            if after != before:
                problems.append(f"{where} changed stored data")
        elif status == 303 and kind not in ALWAYS_REFUSED:
            if name not in NEVER_SHOWN:
                pages = [client.get(url).get_data(as_text=True) for url in form.shown_on(app, target)]
                if not any(ESCAPED[value] in page for page in pages) or any(value in page for page in pages):
                    problems.append(f"{where} saved but not shown escaped")
        else:
            problems.append(f"{where} is neither a refusal with a message nor a legitimate save")
        before = after
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("url", ["/admin/users", "/admin/audit"])
def test_hostile_search_and_filter_values_never_break_a_list(client, login_as, url):
    """Do hostile search and filter values get a page or a 400 with a message, never a 500?"""
    login_as(Role.ADMIN)
    for kind, value in HOSTILE.items():
        for params in ({"q": value}, {"role": value, "state": value, "page": value},
                       {"entity_type": value, "entity_id": value, "actor": value, "action": value,
                        "from": value, "to": value}):
            response = client.get(url, query_string=params)
            assert SCRIPT not in response.get_data(as_text=True)
            if kind == "nul":  # a NUL byte in a URL is refused before any view reads it
                assert response.status_code == 400, (params, response.status_code)
                assert messages(response) == ["Адрес содержит недопустимые символы."]
            else:
                assert response.status_code == 200, (kind, params, response.status_code)


@pytest.mark.parametrize("url, status", [
    ("/clients/99999999999999999999999", 404),
    ("/regulations/99999999999999999999999", 404),
    ("/clients/?manager=%C2%B2", 200),
    ("/clients/?manager=99999999999999999999999", 200),
    ("/admin/audit?actor=%C2%B2", 200),
    ("/admin/audit?entity_id=99999999999999999999999", 200),
    ("/admin/audit?from=0001-01-01", 200),
    ("/admin/audit?to=9999-12-31", 200),
    ("/clients/?page=99999999999999999999", 200),
    ("/admin/users?page=99999999999999999999", 200),
    ("/admin/audit?page=99999999999999999999", 200),
    ("/clients/?page=-3", 200),
])
def test_odd_ids_dates_and_pages_in_urls(client, login_as, url, status):
    """Is an id beyond any integer «not found», and an odd filter, date or page number a page, never a 500?"""
    login_as(Role.ADMIN)
    assert client.get(url).status_code == status
