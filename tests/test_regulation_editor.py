"""The regulation editor: sections with a navigator, half-filled rows named, line endings that do not
count as changes, and a comparison that marks the words that changed."""

import re

from tests.conftest import messages, reload
from tests.regulation_forms import form_data, new_draft, sign
from webapp.models import Regulation


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_editor_is_in_sections_with_a_navigator(client, manager_with_client):
    """Does the draft open as folded clause groups, each reachable from the navigator?"""
    _, record = manager_with_client
    page = _html(client.get(f"/regulations/{new_draft(client, record)}"))
    groups = re.findall(r'<details class="card mb-3 clause-group" id="group-([a-z]+)"', page)
    assert groups[:3] == ["parties", "contact", "intake"] and len(groups) == 8
    for key in groups:
        assert f'href="#group-{key}"' in page
    assert "sticky-actions" not in page and 'form="regulation-form"' in page


def test_half_filled_sla_row_is_refused_on_its_cell(client, manager_with_client):
    """Is an SLA row with a priority but no reaction or resolution time refused with a message each?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    data = form_data(_html(client.get(f"/regulations/{regulation_id}")))
    data.update({"sla-4-priority": "Плановый", "sla-4-reaction": "", "sla-4-resolution": ""})
    response = client.post(f"/regulations/{regulation_id}", data=data)
    assert response.status_code == 422
    assert {"Укажите время реакции.", "Укажите время решения."} <= set(messages(response))


def test_line_endings_are_not_changes_and_changed_words_are_marked(client, manager_with_client, app):
    """Saved from a browser («\\r\\n»), do unchanged clauses stay unchanged, and is the edited word marked?"""
    _, record = manager_with_client
    first = new_draft(client, record)
    data = form_data(_html(client.get(f"/regulations/{first}")))
    data["working_hours"] = "пн–пт с 10:00 до 18:00 по Москве"
    data["channels"] = "Telegram-группа\nE-mail поддержки\nТелефон менеджера"
    assert client.post(f"/regulations/{first}", data=data).status_code == 303
    sign(client, first, app)
    second = int(client.post(f"/regulations/{first}/revise").headers["Location"].rsplit("/", 1)[1])
    data = form_data(_html(client.get(f"/regulations/{second}")))
    for name in ("channels", "intake_procedure", "confidentiality", "term_text"):
        data[name] = data[name].replace("\n", "\r\n")
    data["working_hours"] = "пн–пт с 09:00 до 18:00 по Москве"
    response = client.post(f"/regulations/{second}", data=data)
    assert response.status_code == 303, messages(response)
    assert "\r" not in reload(app, Regulation, second).channels
    page = _html(client.get(f"/regulations/{second}/compare?with={first}"))
    changed = [label.strip() for label in re.findall(r'<tr class="changed">\s*<th scope="row">([^<]+)', page)]
    assert "Рабочее время" in changed and f"Изменено пунктов: {len(changed)}." in page
    assert not {"Каналы связи", "Порядок приёма задач", "Конфиденциальность и доступы"} & set(changed)
    assert set(changed) - {"Рабочее время"} <= {"Статус", "Дата подписания", "Вступает в силу", "Редакция"}
    assert '<del class="diff-removed">' in page and '<ins class="diff-added">' in page
    assert '<del class="diff-removed">10:00</del>' in page and '<ins class="diff-added">09:00</ins>' in page
    table = page[page.index('<table'):]
    assert re.findall(r'class="diff-[a-z]+">([^<]*)<', table) == ['10:00', '09:00'], table
