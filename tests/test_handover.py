"""Handing a manager's clients to another: a preview, a choice about deputy roles, an honest result
and a way to hand them back."""

import re

from tests.conftest import messages, reload
from webapp.models import Client, Role


def _html(response) -> str:
    return response.get_data(as_text=True)


def _team(client, login_as, make_client, make_user):
    login_as(Role.ADMIN)
    leaving = make_user(Role.MANAGER, full_name="Уходящий Иван")
    staying = make_user(Role.MANAGER, full_name="Остающийся Олег")
    third = make_user(Role.MANAGER, full_name="Третий Тимур")
    led = [make_client(leaving, short_name=f"Ведёт {n}") for n in range(2)]
    backed = [make_client(third, deputy=leaving, short_name=f"Замещает {n}") for n in range(3)]
    return leaving, staying, third, led, backed


def test_handover_preview_lists_led_and_deputy_clients_apart(client, login_as, make_client, make_user):
    """Before anything moves, does the page show the led and the deputy clients with their counts?"""
    leaving, staying, _, led, backed = _team(client, login_as, make_client, make_user)
    page = _html(client.get(f"/clients/handover?from_user={leaving.id}&to_user={staying.id}"))
    assert "Ведёт сам: <strong>2</strong>" in page and "заместитель: <strong>3</strong>" in page
    assert "Замещает 0" in page and "не передаются" in page
    assert "Передать 2 клиентов — Остающийся Олег" in page
    assert reload(client.application, Client, led[0].id).manager_id == leaving.id


def test_handover_keeps_deputy_roles_unless_asked_and_says_so(client, login_as, make_client, make_user, app):
    """Without «роли заместителя», do only led clients move, and does the message count both honestly?"""
    leaving, staying, _, led, backed = _team(client, login_as, make_client, make_user)
    response = client.post("/clients/handover", data={"from_user": str(leaving.id), "to_user": str(staying.id)})
    assert response.status_code == 303
    assert reload(app, Client, led[0].id).manager_id == staying.id
    assert reload(app, Client, backed[0].id).deputy_id == leaving.id
    page = _html(client.get(response.headers["Location"]))
    assert ("Остающийся Олег ведёт 2 клиентов вместо Уходящий Иван; роль заместителя у 3 клиентов осталась "
            "за Уходящий Иван.") in page


def test_handover_can_be_handed_back(client, login_as, make_client, make_user, app):
    """After a handover, does the page offer to hand exactly those clients back, and does it work?"""
    leaving, staying, third, led, backed = _team(client, login_as, make_client, make_user)
    own = make_client(staying, short_name="Свой клиент")
    response = client.post("/clients/handover", data={"from_user": str(leaving.id), "to_user": str(staying.id),
                                                     "as_deputy": "y"})
    assert reload(app, Client, backed[0].id).deputy_id == staying.id
    page = _html(client.get(response.headers["Location"]))
    assert "Вернуть клиентов" in page and "Свой клиент" not in page
    back = re.search(r'<form method="post" action="/clients/handover">(.*?)</form>', page, re.S).group(1)
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', back))
    assert client.post("/clients/handover", data=data).status_code == 303
    assert reload(app, Client, led[0].id).manager_id == leaving.id
    assert reload(app, Client, backed[0].id).deputy_id == leaving.id
    assert reload(app, Client, own.id).manager_id == staying.id


def test_handover_of_nobody_is_refused_with_a_message(client, login_as, make_user):
    """Is a handover from a manager without clients refused with a message, not reported as done?"""
    login_as(Role.ADMIN)
    idle, other = make_user(Role.MANAGER, full_name="Без Клиентов"), make_user(Role.MANAGER)
    response = client.post("/clients/handover", data={"from_user": str(idle.id), "to_user": str(other.id)})
    assert response.status_code == 422 and "У Без Клиентов нет клиентов для передачи." in messages(response)
