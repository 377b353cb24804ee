"""The templates' ``url_for`` keeps the links it built (``webapp/urls.py``): the same links as Flask's,
per script root, never one value's link for another's."""

import flask
import pytest
from werkzeug.routing.converters import NumberConverter

from webapp import create_app, urls
from tests.conftest import app_config


@pytest.fixture
def app(tmp_path):
    return create_app(app_config("sqlite://", tmp_path))


def _rules(app):
    """Every GET endpoint with its arguments filled with whole numbers and text."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            yield rule.endpoint, {name: 7 if isinstance(rule._converters[name], NumberConverter) else "x"
                                  for name in rule.arguments}


def test_every_link_is_flasks_own_under_any_script_root(app):
    for script_root in ("", "/desk"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint, values in _rules(app):
                for _ in range(2):  # built, then kept
                    assert urls.url_for(endpoint, **values) == flask.url_for(endpoint, **values)
            assert urls.url_for("clients.detail", client_id=51) == f"{script_root}/clients/51"
            assert (urls.url_for("clients.index", manager=7, status="working")
                    == f"{script_root}/clients/?manager=7&status=working")


def test_values_that_print_differently_never_share_a_link(app):
    with app.test_request_context("/"):
        assert urls.url_for("clients.index", page=1) == "/clients/?page=1"
        assert urls.url_for("clients.index", page=True) == "/clients/?page=True"
        assert urls.url_for("clients.index", page=1) == "/clients/?page=1"
        assert urls.url_for("clients.index", status=["a", "b"]) == "/clients/?status=a&status=b"


def test_absolute_links_and_anchors_follow_the_request(app):
    for host in ("desk.local", "crm.example"):
        with app.test_request_context("/", base_url=f"https://{host}"):
            assert urls.url_for("clients.detail", client_id=5, _external=True) == f"https://{host}/clients/5"
            assert urls.url_for("clients.detail", client_id=5, _anchor="contacts") == "/clients/5#contacts"


def test_pages_draw_their_links_through_it(app):
    """The templates' ``url_for`` is this one, and a page drawn twice finds its links kept."""
    assert app.jinja_env.globals["url_for"] is urls.url_for
    with app.test_request_context("/"):
        before = urls._built.cache_info().hits
        template = app.jinja_env.from_string("{{ url_for('clients.detail', client_id=c) }}")
        assert [template.render(c=n) for n in (3, 4, 3)] == ["/clients/3", "/clients/4", "/clients/3"]
        assert urls._built.cache_info().hits > before


def test_with_url_defaults_nothing_is_kept(app):
    """A URL default (a language, say) would make a link depend on more than its values."""
    app.url_default_functions.setdefault(None, []).append(lambda endpoint, values: None)
    with app.test_request_context("/"):
        misses = urls._built.cache_info().misses
        assert urls.url_for("clients.detail", client_id=99) == "/clients/99"
        assert urls._built.cache_info().misses == misses
