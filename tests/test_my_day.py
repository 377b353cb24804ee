"""«Мой день» as a working list, and the admin's figures agreeing with the lists they link to."""

import re
from datetime import timedelta

from webapp.extensions import db
from webapp.models import Channel, Client, Role, User
from webapp.models.types import utcnow
from webapp.services import clients as client_service


def _html(response) -> str:
    return response.get_data(as_text=True)


def _names(html: str) -> list[str]:
    block = html[html.index('id="results"'):]
    return sorted(re.findall(r'href="/clients/\d+">([^<]+)</a>', block))


def test_my_day_row_says_whom_to_call_and_what_was_agreed(client, login_as, make_client, app):
    """Does a due row show the decision maker's tel: link, the newest contact's summary (not the one
    logged last) and the agreed next step?"""
    me = login_as(Role.MANAGER)
    mine = make_client(me, short_name="Ромашка", contacts=[
        {"full_name": "Секретарь Ольга", "phone": "+7 495 000-00-01"},
        {"full_name": "Ковалёва Анна", "position": "Финансовый директор", "phone": "+7 (912) 345-67-89",
         "is_decision_maker": True}])
    with app.app_context():
        client_service.log_touchpoint(db.session.get(Client, mine.id), channel=Channel.VISIT,
                                      acting=db.session.get(User, me.id), summary="Показали прототип отчёта", next_step="Прислать смету на доработку",
                                      occurred_at=utcnow() - timedelta(days=20))
        client_service.log_touchpoint(db.session.get(Client, mine.id), channel=Channel.CALL,
                                      acting=db.session.get(User, me.id), summary="Первый звонок",
                                      occurred_at=utcnow() - timedelta(days=40))  # logged later, happened earlier
        db.session.commit()
    row = re.search(r'<tr id="due-\d+" class="due-row">.*?</tr>', _html(client.get("/")), re.S).group(0)
    assert 'href="tel:+79123456789"' in row and "Ковалёва Анна" in row and "Финансовый директор" in row
    assert "Секретарь Ольга" not in row
    assert "Показали прототип отчёта" in row and "визит" in row and "Первый звонок" not in row
    assert "Прислать смету на доработку" in row


def test_my_day_lists_a_client_on_the_day_the_call_falls_due(client, clock, login_as, make_client):
    """Called today, a client is not on the list; days later, when the call is due, it is (the list's
    statement is kept per user and day: a new day is a new list)."""
    me = login_as(Role.MANAGER)
    make_client(me, short_name="Ромашка", days_ago=0)
    assert "Ромашка" not in _html(client.get("/"))
    clock.shift(days=10)
    client.login(me)  # the session has timed out meanwhile
    assert re.search(r'<tr id="due-\d+" class="due-row">\s*<td><a href="/clients/\d+">Ромашка<', _html(client.get("/")))


def test_my_day_without_a_phone_says_to_add_a_decision_maker(client, login_as, make_client):
    """With nobody to call, does the row say so instead of an empty cell?"""
    me = login_as(Role.MANAGER)
    make_client(me, short_name="Ромашка", days_ago=20)
    assert "нет телефона" in _html(client.get("/"))


def test_my_day_queries_do_not_grow_with_rows(client, login_as, make_client, count_queries):
    """Does «Мой день» cost the same number of queries for 2 due clients as for 8?"""
    me = login_as(Role.MANAGER)
    for n in range(2):
        make_client(me, days_ago=20, contacts=[{"full_name": f"ЛПР {n}", "phone": "+7 900 000-00-0%d" % n,
                                                "is_decision_maker": True}])
    with count_queries() as few:
        client.get("/")
    for n in range(6):
        make_client(me, days_ago=20, contacts=[{"full_name": f"ЛПР {n}", "phone": "+7 900 000-00-1%d" % n,
                                                "is_decision_maker": True}])
    with count_queries() as many:
        client.get("/")
    assert len(many) == len(few)


def test_admin_counts_agree_with_the_lists_they_link_to(client, login_as, make_client, make_user):
    """With a paused critical client, do the admin's «Критично» figure and its link list the same clients?"""
    login_as(Role.ADMIN)
    petrov = make_user(Role.MANAGER, full_name="Петров Пётр")
    make_client(petrov, short_name="Первый", days_ago=20)
    make_client(petrov, short_name="Второй", days_ago=20)
    make_client(petrov, short_name="На паузе", status="paused", days_ago=20)
    page = _html(client.get("/"))
    link, figure = re.search(r'<a href="(/clients/\?[^"]*cadence=critical[^"]*)">(\d+)</a>', page).groups()
    listed = _names(_html(client.get(link.replace("&amp;", "&"))))
    assert int(figure) == len(listed) == 2 and "На паузе" not in listed


def test_admin_table_names_the_clients_due_on_each_day(client, clock, login_as, make_client, make_user):
    """The admin's table of managers follows the day (its statements are kept per user and day):
    a client called today is not among a manager's neglected ones, and is ten days later."""
    admin = login_as(Role.ADMIN)
    petrov = make_user(Role.MANAGER, full_name="Петров Пётр")
    make_client(petrov, short_name="Давний", days_ago=30)
    make_client(petrov, short_name="Свежий", days_ago=0)
    row = re.search(r'<tr>\s*<th scope="row"><a [^>]*>Петров Пётр</a>[\s\S]*?</tr>', _html(client.get("/"))).group(0)
    assert "Давний" in row and "Свежий" not in row
    clock.shift(days=10)
    client.login(admin)  # the session has timed out meanwhile
    row = re.search(r'<tr>\s*<th scope="row"><a [^>]*>Петров Пётр</a>[\s\S]*?</tr>', _html(client.get("/"))).group(0)
    assert "Давний" in row and "Свежий" in row


def test_admin_table_names_each_managers_three_most_neglected(client, login_as, make_client, make_user,
                                                               count_queries):
    """Per manager, the three clients longest without a contact, the most neglected first, and only
    that manager's; the same statements for two managers as for four (issue 9: a walk of each
    manager's clients instead of a window over every client due a call)."""
    login_as(Role.ADMIN)
    petrov, ivanova = make_user(Role.MANAGER, full_name="Петров Пётр"), make_user(Role.MANAGER, full_name="Иванова Анна")
    for days in (12, 40, 25, 60, 18):
        make_client(petrov, short_name=f"Петров {days}", days_ago=days)
    make_client(petrov, short_name="Петров свежий", days_ago=0)
    make_client(ivanova, short_name="Иванова 15", days_ago=15)

    def row_of(page: str, name: str) -> list[str]:
        row = re.search(r'<tr>\s*<th scope="row"><a [^>]*>%s</a>[\s\S]*?</tr>' % name, page).group(0)
        return re.findall(r'<a href="/clients/\d+">([^<]+)</a>', row)

    with count_queries() as few:
        page = _html(client.get("/"))
    assert row_of(page, "Петров Пётр") == ["Петров 60", "Петров 40", "Петров 25"]
    assert row_of(page, "Иванова Анна") == ["Иванова 15"]
    for n in range(2):
        make_client(make_user(Role.MANAGER, full_name=f"Менеджер {n}"), short_name=f"Клиент {n}", days_ago=30)
    with count_queries() as more:
        page = _html(client.get("/"))
    assert row_of(page, "Менеджер 1") == ["Клиент 1"] and len(more) == len(few)
