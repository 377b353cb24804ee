"""The pages and fragments this work added are valid HTML5 with labelled fields: the card after a
namesake warning, the quick log and its «С кем», the handover preview, the search with matches,
the regulation editor in sections and the word-level comparison."""

from tests.html_checks import problems_of
from tests.regulation_forms import group_data, group_url, new_draft, save_group, sign
from webapp.models import Role


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_visit_pages_and_fragments_are_valid(client, login_as, make_client, make_user):
    """Are the card, the quick log, its contact list, search results and «Мой день» valid HTML?"""
    manager = login_as(Role.MANAGER)
    mine = make_client(manager, short_name="Ромашка", days_ago=20, contacts=[
        {"full_name": "Соловьёва Алёна", "phone": "+7 912 345-67-89", "is_decision_maker": True}])
    make_client(manager, short_name="ООО Ромашка")
    pages = {
        "card": client.get(f"/clients/{mine.id}?check=namesakes"),
        "my day": client.get("/"),
        "search": client.get("/clients/?q=соловьева&status="),
        "quick log": client.get(f"/clients/{mine.id}/touchpoints/new?origin=dashboard", htmx=True),
        "«С кем»": client.get(f"/clients/{mine.id}/touchpoints/new?part=contacts", htmx=True),
        "regulation block": client.get(f"/clients/{mine.id}/show/regulation", htmx=True),
    }
    assert "Похоже, этот клиент уже есть" in _html(pages["card"])
    assert {name: problems_of(_html(r)) for name, r in pages.items()} == {name: [] for name in pages}


def test_handover_preview_is_valid(client, login_as, make_client, make_user):
    """Is the handover page with its preview valid HTML?"""
    login_as(Role.ADMIN)
    leaving, staying = make_user(Role.MANAGER), make_user(Role.MANAGER)
    make_client(leaving, short_name="Ведёт", deputy=staying)
    page = _html(client.get(f"/clients/handover?from_user={leaving.id}&to_user={staying.id}"))
    assert "Ведёт сам" in page and problems_of(page) == []


def test_regulation_editor_and_comparison_are_valid(client, manager_with_client, app):
    """Are the sectioned editor and the word-level comparison valid HTML?"""
    _, record = manager_with_client
    first = new_draft(client, record)
    save_group(client, first, "channels", {"working_hours": "пн–пт с 10:00 до 18:00"})
    sign(client, first, app)
    second = int(client.post(f"/regulations/{first}/revise").headers["Location"].rsplit("/", 1)[1])
    opened = group_data(client, second, "channels")
    saved = save_group(client, second, "channels", {"working_hours": "пн–пт с 09:00 до 18:00"}, data=opened)
    assert saved.status_code == 200 and problems_of(_html(saved)) == []
    assert problems_of(_html(client.get(group_url(second, "parties"), htmx=True))) == []
    conflict = save_group(client, second, "channels", {"working_hours": "круглосуточно"}, data=opened)
    assert conflict.status_code == 409 and problems_of(_html(conflict)) == []
    assert problems_of(_html(client.get(f"/regulations/{second}"))) == []
    assert problems_of(_html(client.get(f"/regulations/{second}/compare?with={first}"))) == []


def test_specialists_empty_list_does_not_invite_adding_clients(client, login_as):
    """Does a specialist with no clients read what the list is for, not «Добавьте первого клиента»?"""
    login_as(Role.SPECIALIST)
    page = _html(client.get("/clients/"))
    assert "Добавьте первого клиента" not in page and "Здесь появятся клиенты" in page
