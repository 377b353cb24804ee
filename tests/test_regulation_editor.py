"""The regulation editor: clause groups shown read-only with a navigator, each edited in place and saved
alone; two people on different groups both keep their work, the same field is a 409 with both values;
half-filled rows named; line endings that do not count as changes; a comparison that marks words."""

import re

from tests.conftest import messages, reload
from tests.regulation_forms import form_data, group_data, group_url, new_draft, save_group, sign
from webapp.blueprints.regulations.forms import EDITION_GROUPS
from webapp.models import Regulation, Role

GROUP_KEYS = [group.key for group in EDITION_GROUPS]


def _html(response) -> str:
    return response.get_data(as_text=True)


def _colleague(app, make_user, role: Role = Role.ADMIN):
    """A second person at another computer: by default the head of department, who may edit every client."""
    browser = app.test_client()
    browser.login(make_user(role))
    return browser


def test_editor_is_in_sections_with_a_navigator(client, manager_with_client):
    """Does the draft open as folded, read-only clause groups, each reachable from the navigator and
    each with its own «Изменить»?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    page = _html(client.get(f"/regulations/{regulation_id}"))
    groups = re.findall(r'<section id="group-([a-z]+)" class="card mb-3 clause-group"', page)
    assert groups == GROUP_KEYS and len(groups) == 9
    nav = page[page.index('<nav class="clause-nav"'):page.index("</nav>", page.index('<nav class="clause-nav"'))]
    assert re.findall(r'href="#group-([a-z]+)" data-open-group', nav) == GROUP_KEYS
    for key in groups:
        assert f'hx-get="{group_url(regulation_id, key)}"' in page
    assert "<details class=\"card-body\">" in page and "<details class=\"card-body\" open>" not in page
    assert 'name="working_hours"' not in page and "<textarea" not in page  # nothing to lose on the page itself
    assert "связь каждые 3 рабочих дня" in page  # a folded group still says what it holds


def test_each_group_saves_alone_and_shows_its_new_value(client, manager_with_client, app):
    """Does saving «Связь и планёрки» write only its clauses and answer with the group shown again (open,
    with the new value) and the status buttons carrying the new version?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    before = reload(app, Regulation, regulation_id)
    data = group_data(client, regulation_id, "contact")
    assert set(data) == {"contact_cadence_days", "meeting_weekday", "meeting_time", "meeting_place",
                         "version", "version_shown"}
    response = save_group(client, regulation_id, "contact", {"meeting_place": "Переговорная «Б»"}, data=data)
    assert response.status_code == 200, messages(response)
    html = _html(response)
    assert html.lstrip().startswith('<section id="group-contact"') and "<details class=\"card-body\" open>" in html
    assert "Переговорная «Б»" in html
    stored = reload(app, Regulation, regulation_id)
    assert stored.meeting_place == "Переговорная «Б»" and stored.version == before.version + 1
    assert (stored.channels, stored.sla, stored.parties) == (before.channels, before.sla, before.parties)
    actions = html[html.index('id="regulation-actions"'):]
    assert 'hx-swap-oob="true"' in actions and f'name="version" value="{stored.version}"' in actions
    cancel = client.get(f"/regulations/{regulation_id}/groups/contact", htmx=True)
    assert _html(cancel).lstrip().startswith('<section id="group-contact"') and "Переговорная" in _html(cancel)
    assert client.get(group_url(regulation_id, "nonsense"), htmx=True).status_code == 404


def test_two_people_editing_different_groups_both_keep_their_changes(client, manager_with_client, app, make_user):
    """The manager edits the SLA while a colleague edits the meeting place, both forms opened at one
    version: do both saves go through, each keeping the other's change?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    colleague = _colleague(app, make_user)
    mine = group_data(client, regulation_id, "sla")
    theirs = group_data(colleague, regulation_id, "contact")
    saved = save_group(colleague, regulation_id, "contact", {"meeting_place": "Офис клиента"}, data=theirs)
    assert saved.status_code == 200
    response = save_group(client, regulation_id, "sla", {"sla-0-reaction": "15 минут"}, data=mine)
    assert response.status_code == 200, messages(response)
    stored = reload(app, Regulation, regulation_id)
    assert stored.meeting_place == "Офис клиента" and stored.sla[0]["reaction"] == "15 минут"


def test_same_field_from_two_people_is_a_conflict_with_both_values(client, manager_with_client, app, make_user):
    """Both open «Каналы связи и рабочее время»; the colleague saves first. Is my save of the same field
    a 409 showing their value and mine, theirs kept — and does my deliberate second save win?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    colleague = _colleague(app, make_user)
    mine = group_data(client, regulation_id, "channels")
    theirs = group_data(colleague, regulation_id, "channels")
    saved = save_group(colleague, regulation_id, "channels", {"working_hours": "с 10 до 19"}, data=theirs)
    assert saved.status_code == 200
    response = save_group(client, regulation_id, "channels", {"working_hours": "круглосуточно"}, data=mine)
    assert response.status_code == 409
    conflict = _html(response)
    assert conflict.lstrip().startswith('<section id="group-channels"')
    assert re.search(r"<td>Рабочее время</td><td>с 10 до 19</td><td>круглосуточно</td>", conflict)
    assert reload(app, Regulation, regulation_id).working_hours == "с 10 до 19"
    again = save_group(client, regulation_id, "channels", data=form_data(conflict))
    assert again.status_code == 200, messages(again)
    assert reload(app, Regulation, regulation_id).working_hours == "круглосуточно"


def test_half_filled_sla_row_is_refused_on_its_cell(client, manager_with_client):
    """Is an SLA row with a priority but no reaction or resolution time refused with a message each?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    response = save_group(client, regulation_id, "sla", {"sla-4-priority": "Плановый", "sla-4-reaction": "",
                                                          "sla-4-resolution": ""})
    assert response.status_code == 422
    assert _html(response).lstrip().startswith('<section id="group-sla"')
    assert {"Укажите время реакции.", "Укажите время решения."} <= set(messages(response))


def test_line_endings_are_not_changes_and_changed_words_are_marked(client, manager_with_client, app):
    """Saved from a browser («\\r\\n»), do unchanged clauses stay unchanged, and is the edited word marked?"""
    _, record = manager_with_client
    first = new_draft(client, record)
    assert save_group(client, first, "channels", {
        "working_hours": "пн–пт с 10:00 до 18:00 по Москве",
        "channels": "Telegram-группа\nE-mail поддержки\nТелефон менеджера"}).status_code == 200
    sign(client, first, app)
    second = int(client.post(f"/regulations/{first}/revise").headers["Location"].rsplit("/", 1)[1])
    for group in ("channels", "intake", "confidentiality"):
        data = group_data(client, second, group)
        crlf = {name: data[name].replace("\n", "\r\n")
                for name in ("channels", "intake_procedure", "confidentiality", "term_text") if name in data}
        if group == "channels":
            crlf["working_hours"] = "пн–пт с 09:00 до 18:00 по Москве"
        response = save_group(client, second, group, crlf, data=data)
        assert response.status_code == 200, messages(response)
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


def test_readers_get_no_group_forms(client, manager_with_client, app, make_user):
    """Does an accountant read the draft's groups without «Изменить», and is the group form refused (403)?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    client = _colleague(app, make_user, Role.ACCOUNTANT)
    page = _html(client.get(f"/regulations/{regulation_id}"))
    assert 'id="group-sla"' in page and "/groups/" not in page
    assert client.get(group_url(regulation_id, "sla"), htmx=True).status_code == 403
    assert client.post(group_url(regulation_id, "sla"), data={"version": "1"}, htmx=True).status_code == 403
