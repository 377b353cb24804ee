"""«Мой день» shows the first rows of each list section, says how many there are, and opens the
rest in place or on the area's own list — so the page costs the same with ten rows behind a
section or thousands (issue 9), and nothing is dropped without a word (the old sections stopped at
20 or 30 rows and counted only those)."""

import re

import pytest

from tests.html_checks import assert_valid
from webapp.models import Role
from webapp.services import dashboard


def due_names(page: str) -> list[str]:
    return re.findall(r'<tr id="due-\d+" class="due-row">\s*<td><a href="/clients/\d+">([^<]+)</a>', page)


@pytest.fixture
def twelve_due(login_as, make_client):
    """A manager with twelve clients due for a call, «Клиент 01» the most neglected."""
    me = login_as(Role.MANAGER)
    for n in range(1, 13):
        make_client(me, short_name=f"Клиент {n:02d}", days_ago=40 - n)
    return me


def test_a_long_section_shows_its_first_rows_and_the_count_of_all(client, twelve_due):
    response = client.get("/")
    assert_valid(response)
    page = response.get_data(as_text=True)
    assert due_names(page) == [f"Клиент {n:02d}" for n in range(1, dashboard.PREVIEW + 1)]
    assert 'id="due-count">12<' in page
    assert "Показаны 10 из 12." in page
    assert "Показать все 12" in page
    assert 'href="/clients/?manager=me&amp;status=working&amp;cadence=attention&amp;sort=due"' in page


def test_show_all_draws_the_rest_in_place_and_keeps_it_on_refresh(client, twelve_due):
    section = client.get("/?section=due&all=1", htmx=True).get_data(as_text=True)
    assert section.startswith('<section id="due-section"')
    assert len(due_names(section)) == 12 and "Показаны" not in section
    # a contact logged elsewhere on the page refreshes the section as it is drawn: in full
    assert 'hx-get="/?section=due&amp;all=1"' in section


def test_show_all_without_javascript_is_the_whole_page_with_the_section_open(client, twelve_due):
    page = client.get("/?section=due&all=1").get_data(as_text=True)
    assert "<title>" in page and 'id="due-section"' in page
    assert len(due_names(page)) == 12


def test_the_badges_of_every_section_are_counted_in_one_statement(client, twelve_due, count_queries):
    """A manager's page has six list sections; their badges cost one round trip, not six."""
    with count_queries() as queries:
        page = client.get("/").get_data(as_text=True)
    assert 'id="due-count">12<' in page
    sections = re.findall(r"<section id=\"([\w-]+)-section\"", page)
    assert len(sections) >= 5, sections
    assert len([q for q in queries if "count(*)" in q.lower()]) == 1, queries


def test_the_badges_follow_the_data_and_the_day_while_their_statement_is_kept(client, clock, twelve_due,
                                                                               make_client):
    """The statement that counts the badges is built once per user and day (issue 9: building it cost
    more than SQLite's counting), yet a client who falls due counts at once, and the next day counts
    those due then."""
    dashboard._badge_statement.cache_clear()
    assert 'id="due-count">12<' in client.get("/").get_data(as_text=True)
    make_client(twelve_due, short_name="Клиент 13", days_ago=30)
    make_client(twelve_due, short_name="Клиент 14", days_ago=0)
    kept = dashboard._badge_statement.cache_info()
    assert 'id="due-count">13<' in client.get("/").get_data(as_text=True)
    assert (dashboard._badge_statement.cache_info().hits, dashboard._badge_statement.cache_info().misses) == \
        (kept.hits + 1, kept.misses)
    clock.shift(days=10)
    client.login(twelve_due)  # ten days on, the session has timed out
    assert 'id="due-count">14<' in client.get("/").get_data(as_text=True)
    assert dashboard._badge_statement.cache_info().misses == kept.misses + 1


def test_a_section_with_nothing_counted_loads_nothing(client, twelve_due, count_queries):
    """The manager has due clients and nothing else: the sections of items, stages, acts and budget
    alerts say they are empty from the one count, without a query of their own."""
    with count_queries() as queries:
        page = client.get("/").get_data(as_text=True)
    assert 'id="due-count">12<' in page
    own = [q for q in queries if "count(*)" not in q.lower()
           and re.search(r"\bFROM (backlog_items|stages|acts|budget_alerts)\b", q)]
    assert own == []
    assert len(due_names(page)) == dashboard.PREVIEW
    assert "Ни одна оценка не ждёт согласования 2 дня и дольше." in page


def test_a_section_the_user_has_not_answers_404(client, twelve_due):
    assert client.get("/?section=managers", htmx=True).status_code == 404
    assert client.get("/?section=nonsense&all=1").status_code == 404


def test_past_the_in_place_limit_the_section_points_to_its_list(app, client, twelve_due, monkeypatch):
    """More rows than «Показать все» draws: the badge says «N+», the count stops there (it is a
    capped query, not a scan) and only the area's own list — which pages — is offered."""
    monkeypatch.setattr(dashboard, "PREVIEW", 3)
    monkeypatch.setattr(dashboard, "FULL", 5)
    page = client.get("/").get_data(as_text=True)
    assert 'id="due-count">5+<' in page
    assert len(due_names(page)) == 3 and "Показаны 3 из более чем 5." in page
    assert "Показать все" not in page
    assert "Открыть весь список" in page
    with app.test_request_context():  # the count stops there: it reads six of the twelve rows
        from webapp.extensions import db
        from webapp.formatting import today
        from webapp.models import User
        from webapp.services import clients as client_service
        assert dashboard.counts([client_service.due_query(db.session.get(User, twelve_due.id), today())]) == [6]
