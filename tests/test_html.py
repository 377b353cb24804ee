"""Every page is valid HTML5 in Russian, with labelled fields, unique ids, and nothing inline that
the Content-Security-Policy would block."""

import pytest

from tests.admin_forms import company_form
from tests.html_checks import assert_valid, is_document, problems_of
from tests.route_matrix import expected_status, get_routes, url_of
from webapp.models import Role

def test_the_checker_catches_what_it_should():
    """Does the page checker itself notice broken markup, inline code and unlabelled fields?"""
    good = ('<!doctype html><html lang="ru"><head><title>Т</title></head><body>'
            '<label for="a">А</label><input id="a"></body></html>')
    assert problems_of(good) == []
    assert problems_of(good.replace("<title>Т</title>", "<title>Т</title><p>"))[0].startswith("not valid")
    assert problems_of(good.replace('lang="ru"', 'lang="en"'))
    assert problems_of(good.replace('for="a"', 'for="b"')) == ["<input name=None> has no label"]
    assert problems_of(good.replace("</body>", '<p style="color:red" id="a">x</p></body>')) == [
        'id="a" used 2 times', "a style= attribute on <p>"]
    assert problems_of(good.replace("</body>", "<script>alert(1)</script></body>")) == ["an inline <script>"]
    assert problems_of(good.replace("<input", '<input onclick="x()"')) == ["onclick= on <input>"]


def test_every_page_an_admin_opens_is_valid(app, client, make_user, sample_records, sample_files):
    """Is every page and htmx fragment valid HTML5, labelled, with unique ids and no inline code?"""
    client.login(make_user(Role.ADMIN))
    client.post("/admin/company", data=company_form())  # a saved profile, and rows in the audit log
    pages, fragments = [], []
    for endpoint in get_routes(app):
        url = url_of(app, endpoint, sample_records)
        for response in (client.get(url), client.get(url, htmx=True)):
            if response.status_code == 302 or response.mimetype != "text/html" \
                    or expected_status(endpoint, Role.ADMIN) == 404:
                continue  # the login page for someone logged in; JSON, documents and calendars;
                # a made-up link (tests/test_links.py checks the real link pages)
            assert response.status_code == 200, endpoint
            assert_valid(response)
            (pages if is_document(response.get_data(as_text=True)) else fragments).append(endpoint)
    assert {"dashboard.index", "admin.users", "admin.company", "admin.audit"} <= set(pages)
    assert {"admin.users", "admin.audit"} <= set(fragments)  # the htmx results blocks
    assert_valid(app.test_client().get("/login"))


def test_pages_with_messages_are_valid(app, client, make_user, sample_records):
    """Are the pages that show validation messages, a conflict or a flash message still valid?"""
    client.login(make_user(Role.ADMIN))
    refused = client.post("/admin/company", data=company_form(inn="7707083894", bik="1", email="@"))
    assert refused.status_code == 422
    assert_valid(refused)
    client.post("/admin/company", data=company_form())
    client.post("/admin/company", data=company_form(version="1", name="ООО «Новое»"))
    conflict = client.post("/admin/company", data=company_form(version="1", name="ООО «Старое»"))
    assert conflict.status_code == 409
    assert_valid(conflict)
    duplicate = client.post("/admin/users/new", data={"email": sample_records.user.email, "full_name": "Дубль",
                                                      "role": "manager", "password": "x"})
    assert duplicate.status_code == 422
    assert_valid(duplicate)
    assert_valid(client.get("/admin/company"))  # with the «сохранён» flash
    login_failed = app.test_client().post("/login", data={"email": "nobody@example.test", "password": "x"})
    assert login_failed.status_code == 401
    assert_valid(login_failed)


@pytest.mark.parametrize("role, url, status", [
    (Role.ADMIN, "/no-such-page", 404),
    (Role.ADMIN, "/admin/users/999999", 404),
    (Role.MANAGER, "/admin/users", 403),
    (Role.MANAGER, "/logout", 405),
    (None, "/no-such-page", 404),
], ids=["404", "404-record", "403", "405", "404-anonymous"])
def test_error_pages_are_valid(client, login_as, role, url, status):
    """Are the error pages (not found, forbidden, wrong method) valid pages in Russian?"""
    if role:
        login_as(role)
    response = client.get(url)
    assert response.status_code == status
    assert_valid(response)


def test_csrf_refusal_page_is_valid(client, login_as):
    """Is the page for a form without its token a valid page?"""
    login_as(Role.MANAGER)
    response = client.post("/account", data={}, csrf=False)
    assert response.status_code == 400
    assert_valid(response)
