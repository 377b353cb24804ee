"""Similar past items while estimating: finished items of this and other clients that share the rare
words of the request and the spec, with their estimated and spent hours, within the user's scope."""

from datetime import date
from decimal import Decimal

import pytest

from tests.html_checks import assert_valid
from webapp.extensions import db
from webapp.models import BacklogItem, ItemStatus, Role, User
from webapp.services import backlog as backlog_service


@pytest.fixture
def finish(app):
    """``finish(item, manager, spent)``: an item done, with ``spent`` hours logged."""

    def run(item, manager, spent: str) -> None:
        with app.app_context():
            stored = db.session.get(BacklogItem, item.id)
            backlog_service.log_time(stored, spent_on=date(2026, 11, 20), hours=Decimal(spent),
                                     acting=db.session.get(User, manager.id))
            stored.status = ItemStatus.ACCEPTED
            db.session.commit()

    return run


@pytest.fixture
def two_clients(make_user, make_client):
    manager = make_user(Role.MANAGER)
    return manager, make_client(manager, short_name="Ромашка"), make_client(manager, short_name="Вектор")


def test_similar_finished_items_of_other_clients_show_estimated_and_spent_hours(client, two_clients, make_item,
                                                                                 finish):
    """Does the estimate section list a finished item of another client with the same words, with its
    estimated and actual hours, and leave unrelated or unfinished items out?"""
    manager, romashka, vektor = two_clients
    past = make_item(vektor, manager, title="Выгрузка остатков на сайт", hours=Decimal("10"),
                     request_text="Остатки склада в интернет-магазин каждый час")
    finish(past, manager, "12.5")
    unrelated = make_item(vektor, manager, title="Печатная форма счёта", hours=Decimal("3"))
    finish(unrelated, manager, "3")
    make_item(romashka, manager, title="Выгрузить остатки склада на сайт", hours=Decimal("4"))  # not finished
    item = make_item(romashka, manager, title="Выгружать остатки на сайт каждый час",
                     request_text="Нужна выгрузка остатков склада")
    client.login(manager)
    response = client.get(f"/backlog/{item.id}")
    assert_valid(response)
    page = response.get_data(as_text=True)
    assert "Похожие выполненные задачи" in page
    section = page[page.index("Похожие выполненные задачи"):]
    section = section[:section.index("</table>")]
    assert past.key in section and "Вектор" in section and "10</td>" in section and "12,5</td>" in section
    assert unrelated.key not in section and "ROMASHKA-1" not in section


def test_similar_items_stay_in_the_users_scope(app, make_user, two_clients, make_item, finish):
    """Does a specialist see only the similar items assigned to them, never another client's?"""
    manager, romashka, vektor = two_clients
    specialist = make_user(Role.SPECIALIST)
    theirs = make_item(romashka, manager, title="Выгрузка остатков на сайт", hours=Decimal("8"),
                       assignee_id=specialist.id)
    others = make_item(vektor, manager, title="Выгрузка остатков на сайт", hours=Decimal("9"))
    for done in (theirs, others):
        finish(done, manager, "7")
    item = make_item(romashka, manager, title="Выгрузка остатков в маркетплейс", assignee_id=specialist.id)
    with app.app_context():
        stored = db.session.get(BacklogItem, item.id)
        seen_by = {role: {s.item.id for s in backlog_service.similar_items(db.session.get(User, who.id), stored)}
                   for role, who in (("specialist", specialist), ("manager", manager))}
    assert seen_by == {"specialist": {theirs.id}, "manager": {theirs.id, others.id}}


def test_words_follow_an_edit_of_the_spec(app, two_clients, make_item, finish):
    """Once the spec names the work, does an item find peers it did not share a word with before?"""
    from webapp.saving import Edit

    manager, romashka, vektor = two_clients
    past = make_item(vektor, manager, title="Интеграция с маркетплейсом Ozon", hours=Decimal("40"))
    finish(past, manager, "14")
    item = make_item(romashka, manager, title="Доработка по письму")
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        assert backlog_service.similar_items(acting, stored) == []
        backlog_service.update_item(stored, Edit({"goal": "Заказы с маркетплейса Ozon приходят сами"},
                                                 stored.version), acting=acting)
        assert [s.item.id for s in backlog_service.similar_items(acting, stored)] == [past.id]


def test_similar_items_cost_the_same_queries_for_one_and_many(app, client, two_clients, make_item, finish,
                                                               count_queries):
    """Is the item page served by the same number of queries with one similar past item and with many?"""
    manager, romashka, vektor = two_clients
    first = make_item(vektor, manager, title="Выгрузка остатков на сайт", hours=Decimal("5"))
    finish(first, manager, "5")
    item = make_item(romashka, manager, title="Выгрузка остатков на сайт")
    client.login(manager)

    def measure() -> int:
        with count_queries() as queries:
            page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
        return len(queries), page.count("similar-items")

    small, shown = measure()
    assert shown == 1
    for n in range(6):
        finish(make_item(romashka if n % 2 else vektor, manager, title=f"Выгрузка остатков на сайт {n}",
                         hours=Decimal("5")), manager, "6")
    assert measure() == (small, 1)



def test_word_counts_are_kept_until_an_item_brings_the_word_again(app, client, two_clients, make_item, finish,
                                                                    count_queries):
    """The words of an item are counted on its first view only (the next view is one statement
    less); a past item whose spec is edited to share a rare word, or a new one with it, shows on the
    next view: the word counts were renewed, not kept from before."""
    from webapp.saving import Edit

    manager, romashka, vektor = two_clients
    item = make_item(romashka, manager, title="Интеграция с маркетплейсом")
    client.login(manager)

    def view() -> tuple[int, str]:
        with count_queries() as queries:
            page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
        return len(queries), page

    first, page = view()
    again, page = view()
    assert again == first - 1 and "Похожие выполненные задачи" not in page  # «маркетплейс»: this item only
    past = make_item(vektor, manager, title="Выгрузка заказов", hours=Decimal("16"))
    finish(past, manager, "15")
    assert "Похожие выполненные задачи" not in view()[1]
    with app.app_context():
        stored = db.session.get(BacklogItem, past.id)
        backlog_service.update_item(stored, Edit({"goal": "Заказы с маркетплейса приходят сами"}, stored.version),
                                    acting=db.session.get(User, manager.id))
        db.session.commit()
    page = view()[1]
    assert "Похожие выполненные задачи" in page and past.key in page
    newer = make_item(vektor, manager, title="Маркетплейсом остатки", hours=Decimal("6"))
    finish(newer, manager, "5")
    page = view()[1]
    assert past.key in page and newer.key in page
