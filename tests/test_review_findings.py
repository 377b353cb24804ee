"""Findings of the code review: each test failed before its fix."""

import pytest
import sqlalchemy as sa

from tests.clients_fixtures import make_client, reload  # noqa: F401
from webapp.extensions import db
from webapp.models import Client, Contact, Role


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_contact_save_without_version_is_refused(client, login_as, make_client, app):
    me = login_as(Role.MANAGER)
    mine = make_client(me, contacts=[{"full_name": "Жуков Олег"}])
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.client_id == mine.id))
    response = client.post(f"/clients/{mine.id}/contacts/{contact_id}", data={
        f"contact{contact_id}-full_name": "Другое Имя"}, htmx=True)
    assert response.status_code in (409, 422)
    assert reload(app, Contact, contact_id).full_name == "Жуков Олег"


def test_client_block_save_without_version_is_refused(client, login_as, make_client, app):
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка")
    response = client.post(f"/clients/{mine.id}/edit/requisites", data={"legal_name": "ООО «Другое»"}, htmx=True)
    assert response.status_code in (409, 422)
    assert reload(app, Client, mine.id).legal_name == ""


@pytest.mark.parametrize("field, value", [
    ("next_contact_on", "9999-12-31"),
    ("occurred_at", "0001-01-01T00:00"),
    ("occurred_at", "1900-01-01T00:00"),
])
def test_extreme_dates_in_the_contact_log_are_not_500(client, login_as, make_client, field, value):
    mine = make_client(login_as(Role.MANAGER))
    data = {f"c{mine.id}-channel": "call", f"c{mine.id}-summary": "Созвонились", f"c{mine.id}-{field}": value}
    response = client.post(f"/clients/{mine.id}/touchpoints", data=data, htmx=True)
    assert response.status_code in (200, 422), _html(response)[:300]


@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "1e999999999"])
def test_garbage_threshold_hours_is_not_500(client, login_as, value):
    login_as(Role.ADMIN)
    page = client.get("/admin/regulation-standard")
    assert page.status_code == 200
    response = client.post("/admin/regulation-standard", data={
        "contact_cadence_days": "3", "acceptance_days": "5", "payment_days": "10",
        "approval_threshold_hours": value, "version": ""})
    assert response.status_code == 422, _html(response)[:300]


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\\\\evil.example", "/%09/evil.example"])
def test_login_never_redirects_to_another_host(client, make_user, target):
    user = make_user(Role.MANAGER)
    from tests.conftest import TEST_PASSWORD
    response = client.post("/login?next=" + target.replace("\\", "%5C"),
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil.example" not in location, location


@pytest.mark.parametrize("url", [
    "/clients/99999999999999999999999",
    "/clients/?manager=%C2%B2",
    "/clients/?manager=99999999999999999999999",
    "/admin/audit?actor=%C2%B2",
    "/admin/audit?entity_id=99999999999999999999999",
    "/admin/audit?from=0001-01-01",
    "/admin/audit?to=9999-12-31",
    "/regulations/99999999999999999999999",
])
def test_odd_ids_and_dates_in_urls_are_not_500(client, login_as, url):
    login_as(Role.ADMIN)
    response = client.get(url)
    assert response.status_code in (200, 404), (url, response.status_code)


def test_timeline_cursor_out_of_range_is_not_500(client, login_as, make_client):
    mine = make_client(login_as(Role.MANAGER))
    response = client.get(f"/clients/{mine.id}/timeline?before=99999999999999999999999", htmx=True)
    assert response.status_code in (200, 404)


def test_update_user_service_refuses_a_non_admin(app, make_user):
    """The service itself checks the role (deny by default), not only the admin-only route."""
    from webapp.models import User
    from webapp.saving import Edit
    from webapp.services import PermissionDenied
    from webapp.services import users as user_service
    manager, victim = make_user(Role.MANAGER), make_user(Role.ACCOUNTANT)
    with app.app_context():
        acting, target = db.session.get(User, manager.id), db.session.get(User, victim.id)
        with pytest.raises(PermissionDenied):
            user_service.update_user(target, Edit({"role": Role.ADMIN}, target.version), acting=acting)
        db.session.rollback()
        assert db.session.get(User, victim.id).role == Role.ACCOUNTANT


@pytest.mark.parametrize("url", ["/clients/?page=99999999999999999999", "/admin/users?page=99999999999999999999",
                                 "/admin/audit?page=99999999999999999999", "/clients/?page=-3"])
def test_page_number_out_of_range_is_not_500(client, login_as, url):
    login_as(Role.ADMIN)
    assert client.get(url).status_code == 200
