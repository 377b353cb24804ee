"""Who may open what: each role against every route of the app, as ``tests/route_matrix.py`` says."""

import pytest

from tests.route_matrix import EXPECTED, URL_ARGS, all_routes, expected_status, routes, url_of
from webapp.models import Role


def test_matrix_covers_every_route(routing_app):
    """Does every route of the app have a row in the role matrix, and every row a route?"""
    routes_now = set(all_routes(routing_app))
    missing, stale = routes_now - set(EXPECTED), set(EXPECTED) - routes_now
    assert not missing, f"add rows to EXPECTED for {sorted(missing)}"
    assert not stale, f"EXPECTED names routes that do not exist: {sorted(stale)}"


def test_every_route_with_parts_has_sample_values(routing_app):
    """Can the matrix build a real URL for every route that takes an id?"""
    needing = {rule.endpoint for rule in routing_app.url_map.iter_rules()
               if rule.arguments and rule.endpoint != "static"}
    assert needing <= set(URL_ARGS), f"add URL_ARGS rows for {sorted(needing - set(URL_ARGS))}"


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_gets_exactly_what_the_matrix_says(app, make_user, sample_records, sample_files, role):
    """Does each role get 200 where the matrix allows it, and 403 (404 outside its scope) elsewhere?"""
    user = make_user(role)
    client = app.test_client()
    client.login(user)
    wrong = []
    methods = routes(app)
    # POST-only routes after the pages, and logging out (which ends every session) last.
    for endpoint in sorted(methods, key=lambda e: ("GET" not in methods[e], e == "auth.logout", e)):
        url = url_of(app, endpoint, sample_records)
        expected = expected_status(endpoint, role)
        if "GET" in methods[endpoint]:
            status = client.get(url).status_code
        else:  # a POST-only route gets an empty form: the gate answers before the form is read
            status = client.post(url, data={}).status_code
        if status != expected:
            wrong.append(f"{url} ({endpoint}): {status}, expected {expected}")
        if expected in (403, 404) and "POST" in methods[endpoint] and "GET" in methods[endpoint]:
            if (status := client.post(url, data={}).status_code) != expected:
                wrong.append(f"POST {url} ({endpoint}): {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
