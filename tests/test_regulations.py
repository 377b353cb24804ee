"""Regulations: drafts from the company standard, editions, signing, the rules they drive, the DOCX."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import messages, reload
from tests.documents_helpers import all_text, duplicate_entries, header_text, read_docx
from tests.regulation_forms import form_data, group_data, new_draft, save_group, sign
from webapp.extensions import db
from webapp.formatting import today
from webapp.models import CadenceState, Client, Regulation, RegulationStandard, RegulationStatus, Role


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_new_regulation_starts_from_the_company_standard(client, manager_with_client, app):
    """Does a first draft carry the standard's SLA and our manager and the client's decision maker?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    page = _html(client.get(f"/regulations/{regulation_id}"))
    assert "Регламент взаимодействия, редакция 1" in page and "Проект" in page
    assert "Критический, Высокий, Обычный, Низкий" in page  # the SLA group's summary
    sla = group_data(client, regulation_id, "sla")
    assert sla["sla-0-priority"] == "Критический" and sla["sla-3-priority"] == "Низкий"
    names = {v for k, v in group_data(client, regulation_id, "parties").items() if k.endswith("-name")}
    assert {"Петров Алексей Николаевич", "Ковалёва Анна Сергеевна"} <= names


def test_admin_edits_the_standard_and_new_drafts_follow_it(client, login_as, make_client, app):
    """If the admin changes the standard's payment terms, does the next new regulation start with them?"""
    admin = login_as(Role.ADMIN)
    page = _html(client.get("/admin/regulation-standard"))
    data = form_data(page)
    data.update({"payment_days": "20", "sla-0-priority": "Авария"})
    assert client.post("/admin/regulation-standard", data=data).status_code == 303
    record = make_client(admin, short_name="Новый")
    regulation = reload(app, Regulation, new_draft(client, record))
    assert regulation.payment_days == 20 and regulation.sla[0]["priority"] == "Авария"


def _standard(app) -> RegulationStandard:
    with app.app_context():
        record = db.session.scalar(sa.select(RegulationStandard))
        db.session.expunge(record)
        return record


def test_stale_standard_save_is_refused(client, login_as, app):
    """If another admin saved the standard meanwhile, is my save from the old page refused (409)
    showing their value and mine, theirs kept?"""
    login_as(Role.ADMIN)
    first = form_data(_html(client.get("/admin/regulation-standard")))
    assert client.post("/admin/regulation-standard", data=dict(first, payment_days="20")).status_code == 303
    opened = form_data(_html(client.get("/admin/regulation-standard")))
    assert client.post("/admin/regulation-standard", data=dict(opened, payment_days="25")).status_code == 303
    response = client.post("/admin/regulation-standard", data=dict(opened, payment_days="30"))
    assert response.status_code == 409
    assert 'value="30"' in _html(response) and ">25<" in _html(response).replace(" ", "")
    assert _standard(app).payment_days == 25


@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "1e999999999"])
def test_garbage_threshold_hours_in_the_standard_is_refused(client, login_as, app, value):
    """Is a «number» like NaN, Infinity or 1e999999999 in the standard refused with a message (422)?"""
    login_as(Role.ADMIN)
    data = form_data(_html(client.get("/admin/regulation-standard")))
    response = client.post("/admin/regulation-standard", data=dict(data, approval_threshold_hours=value))
    assert response.status_code == 422
    assert messages(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RegulationStandard)) == 0


def test_draft_is_edited_and_blank_rows_are_dropped(client, manager_with_client, app):
    """Can I change clauses and add an SLA row, with the empty offered rows left out?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    for group, changes in [("contact", {"contact_cadence_days": "4"}),
                           ("sla", {"sla-4-priority": "Плановый", "sla-4-reaction": "3 рабочих дня",
                                    "sla-4-resolution": "по плану"}),
                           ("intake", {"approval_threshold_amount": "20 000,00"})]:
        response = save_group(client, regulation_id, group, changes)
        assert response.status_code == 200, messages(response)
    stored = reload(app, Regulation, regulation_id)
    assert stored.contact_cadence_days == 4 and len(stored.sla) == 5 and stored.sla[4]["priority"] == "Плановый"
    assert str(stored.approval_threshold_amount) == "20000.00"


def test_stale_draft_save_is_refused(client, manager_with_client, app):
    """If a colleague saved the draft meanwhile, is my save refused (409) without overwriting?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    data = group_data(client, regulation_id, "channels")
    assert save_group(client, regulation_id, "channels", {"working_hours": "с 10 до 19"}, data=data).status_code == 200
    response = save_group(client, regulation_id, "channels", {"working_hours": "круглосуточно"}, data=data)
    assert response.status_code == 409 and "круглосуточно" in _html(response) and "с 10 до 19" in _html(response)
    assert reload(app, Regulation, regulation_id).working_hours == "с 10 до 19"


def test_stale_status_change_is_refused(client, manager_with_client, app):
    """If a colleague agreed the draft meanwhile, is my «Согласовать» from the old page refused (409),
    saying what happened?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    opened = {"target": "agreed", "from": "draft", "version": reload(app, Regulation, regulation_id).version}
    assert client.post(f"/regulations/{regulation_id}/status", data=opened).status_code == 303
    response = client.post(f"/regulations/{regulation_id}/status", data=opened)
    assert response.status_code == 409
    assert "изменил другой пользователь" in _html(response)
    assert reload(app, Regulation, regulation_id).status == RegulationStatus.AGREED
    assert reload(app, Regulation, regulation_id).version == opened["version"] + 1


def test_stale_draft_delete_is_refused(client, manager_with_client, app):
    """If a colleague saved the draft meanwhile, is my delete from the old page refused (409), the draft kept?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    opened_at = reload(app, Regulation, regulation_id).version
    assert save_group(client, regulation_id, "channels", {"working_hours": "с 9 до 18"}).status_code == 200
    response = client.post(f"/regulations/{regulation_id}/delete", data={"version": opened_at})
    assert response.status_code == 409
    assert reload(app, Regulation, regulation_id).working_hours == "с 9 до 18"
    current = reload(app, Regulation, regulation_id).version
    assert client.post(f"/regulations/{regulation_id}/delete", data={"version": current}).status_code == 303
    assert reload(app, Regulation, regulation_id) is None


def test_signed_regulation_refuses_edits(client, manager_with_client, app):
    """Is a signed edition read-only, with «Новая редакция» as the way to change it?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    data = group_data(client, regulation_id, "channels")
    sign(client, regulation_id, app)
    page = _html(client.get(f"/regulations/{regulation_id}"))
    assert "Новая редакция" in page and "/groups/" not in page  # no «Изменить» on any group
    data.update(version=str(reload(app, Regulation, regulation_id).version))
    response = save_group(client, regulation_id, "channels", {"working_hours": "круглосуточно"}, data=data)
    assert response.status_code == 422
    assert any("не меняется" in m for m in messages(response))
    reopened = client.get(f"/regulations/{regulation_id}/groups/channels/edit", htmx=True)
    assert reopened.status_code == 422 and any("не меняется" in m for m in messages(reopened))
    assert reload(app, Regulation, regulation_id).working_hours != "круглосуточно"


def test_new_edition_supersedes_the_old_one_when_signed(client, manager_with_client, app):
    """Does signing edition 2 retire edition 1, leaving exactly one in force?"""
    _, record = manager_with_client
    first = new_draft(client, record)
    sign(client, first, app, today() - timedelta(days=30))
    response = client.post(f"/regulations/{first}/revise")
    second = int(response.headers["Location"].rsplit("/", 1)[1])
    assert reload(app, Regulation, second).number == 2
    assert client.post(f"/clients/{record.id}/regulations/").status_code == 422  # one open draft at a time
    sign(client, second, app)
    assert reload(app, Regulation, first).status == RegulationStatus.SUPERSEDED
    listing = _html(client.get(f"/clients/{record.id}/regulations/"))
    assert "Заменён новой редакцией" in listing and "Подписан (действует)" in listing


def test_database_allows_one_signed_edition_per_client(manager_with_client, app):
    """Even bypassing the services, can a client have two signed editions at once?"""
    _, record = manager_with_client
    with app.app_context():
        for number in (1, 2):
            db.session.add(Regulation(client_id=record.id, number=number, status=RegulationStatus.SIGNED))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


def test_signing_a_new_cadence_changes_the_clients_due_state(client, manager_with_client, app, make_client):
    """A client due under «every 3 days»: does signing «every 10 days» put them back on schedule?"""
    manager, _ = manager_with_client
    record = make_client(manager, short_name="Вектор", days_ago=6)
    assert reload(app, Client, record.id).cadence(today()) != CadenceState.OK
    regulation_id = new_draft(client, record)
    assert save_group(client, regulation_id, "contact", {"contact_cadence_days": "10"}).status_code == 200
    assert reload(app, Client, record.id).cadence(today()) != CadenceState.OK  # a draft changes nothing
    sign(client, regulation_id, app)
    assert reload(app, Client, record.id).cadence(today()) == CadenceState.OK
    card = _html(client.get(f"/clients/{record.id}"))
    assert "каждые 10 рабочих дней" in card


def test_compare_marks_changed_clauses(client, manager_with_client, app):
    """Does the comparison show which clauses changed between two editions?"""
    _, record = manager_with_client
    first = new_draft(client, record)
    sign(client, first, app)
    second = int(client.post(f"/regulations/{first}/revise").headers["Location"].rsplit("/", 1)[1])
    assert save_group(client, second, "acceptance", {"payment_days": "30"}).status_code == 200
    page = _html(client.get(f"/regulations/{second}/compare?with={first}"))
    changed = [label.strip() for label in
               re.findall(r'<tr class="changed">\s*<th scope="row">([^<]+)', page)]
    assert "Оплата, рабочих дней" in changed and "Каналы связи" not in changed


@pytest.mark.parametrize("role, can_edit", [(Role.LEAD, False), (Role.ACCOUNTANT, False)])
def test_readers_see_and_print_but_do_not_change(client, login_as, make_client, make_user, app, role, can_edit):
    """Do a production lead and an accountant read and download a regulation without changing it?"""
    manager = make_user(Role.MANAGER)
    record = make_client(manager, short_name="Ромашка")
    with app.app_context():
        from webapp.models import User
        from webapp.services import regulations as service
        regulation = service.create_draft(db.session.get(Client, record.id), acting=db.session.get(User, manager.id))
        db.session.commit()
        regulation_id = regulation.id
    login_as(role)
    assert client.get(f"/regulations/{regulation_id}").status_code == 200
    assert client.get(f"/regulations/{regulation_id}.docx").status_code == 200
    assert client.post(f"/regulations/{regulation_id}/status", data={"target": "agreed", "version": "1"}).status_code == 403
    assert client.post(f"/clients/{record.id}/regulations/").status_code == 403


def test_specialist_cannot_reach_a_regulation(client, login_as, make_client, make_user, app):
    """Is a regulation of a client outside a specialist's items a 404, DOCX included?"""
    manager = make_user(Role.MANAGER)
    record = make_client(manager)
    with app.app_context():
        from webapp.models import User
        from webapp.services import regulations as service
        regulation_id = service.create_draft(db.session.get(Client, record.id),
                                             acting=db.session.get(User, manager.id)).id
        db.session.commit()
    login_as(Role.SPECIALIST)
    assert client.get(f"/regulations/{regulation_id}").status_code == 404
    assert client.get(f"/regulations/{regulation_id}.docx").status_code == 404


# --- the DOCX --------------------------------------------------------------------------------------


def test_regulation_docx_holds_requisites_sla_and_signatures(client, manager_with_client, app):
    """Does the printed regulation carry both parties' requisites, every SLA row, the approval sheet and
    both signature blocks? (That the file opens in LibreOffice is test_documents' question, asked once.)"""
    _, record = manager_with_client
    with app.app_context():
        from webapp.models import CompanyProfile
        from webapp.saving import Edit
        from webapp.services import company as company_service
        profile = CompanyProfile.get()
        company_service.update_company(profile, Edit({
            "name": "ООО «ИнфоСофт»", "legal_name": "Общество с ограниченной ответственностью «ИнфоСофт»",
            "inn": "7707083893", "signatory_name": "Соколов Андрей Петрович",
            "signatory_position": "Генеральный директор"}, profile.version))
        db.session.commit()
    regulation_id = new_draft(client, record)
    response = client.get(f"/regulations/{regulation_id}.docx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment;" in response.headers["Content-Disposition"]
    assert not duplicate_entries(response.data)
    document = read_docx(response.data)
    text = all_text(document)
    for expected in ("7707083893", record.inn, "771201001", record.account, "044525225", "ООО «Ромашка»",
                     "Критический", "Высокий", "Обычный", "Низкий", "Ковалёва Анна Сергеевна",
                     "А.П.\u00a0Соколов", "15/26"):
        assert expected in text, expected
    assert "А.С.\u00a0Ковалёва" not in text  # the client's signatory is chosen on the card, never guessed
    assert "ПРОЕКТ" in header_text(document)
    sign(client, regulation_id, app)
    signed = read_docx(client.get(f"/regulations/{regulation_id}.docx").data)
    assert "ПРОЕКТ" not in header_text(signed)


def test_regulation_docx_prints_this_editions_clauses_each_in_its_place(client, login_as, make_client, app):
    """With the client's own cadence, the edition's cadence, acceptance and payment days all different,
    does the DOCX print the edition's values, each in its own clause?"""
    manager = login_as(Role.MANAGER)
    record = make_client(manager, short_name="Вектор", contact_cadence_days=3)
    regulation_id = new_draft(client, record)
    assert save_group(client, regulation_id, "contact", {"contact_cadence_days": "6"}).status_code == 200
    assert save_group(client, regulation_id, "acceptance", {"acceptance_days": "7", "payment_days": "12"}).status_code == 200
    text = all_text(read_docx(client.get(f"/regulations/{regulation_id}.docx").data))
    assert re.findall(r"не реже одного раза в (\d+)", text) == ["6"]
    assert re.findall(r"Срок рассмотрения акта — (\d+)", text) == ["7"]
    assert re.findall(r"срок оплаты не устанавливает — (\d+)", text) == ["12"]


def test_hostile_text_prints_intact(client, manager_with_client, app):
    """Do «ёлочки», ampersands, angle brackets and a 10,000-character section print as typed?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    hostile = "ООО «Рога & Копыта» <script>alert(1)</script> {{ 7*7 }} {% if %}"
    long_text = "Длинный раздел. " * 625
    for group, changes in [("channels", {"working_hours": hostile}), ("sla", {"sla-0-description": hostile}),
                           ("sections", {"sections-0-title": "Особые условия", "sections-0-body": long_text.strip()}),
                           ("contact", {"meeting_place": "кабинет «Б» & переговорная"})]:
        assert save_group(client, regulation_id, group, changes).status_code == 200
    text = all_text(read_docx(client.get(f"/regulations/{regulation_id}.docx").data))
    assert hostile in text and "Особые условия" in text and long_text.strip() in text
    assert "кабинет «Б» & переговорная" in text
    page = _html(client.get(f"/regulations/{regulation_id}"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_control_characters_in_the_form_are_refused(client, manager_with_client, app):
    """Is a NUL byte in a clause refused with a message (422), and the draft unchanged?"""
    _, record = manager_with_client
    regulation_id = new_draft(client, record)
    response = save_group(client, regulation_id, "sla", {"sla-0-description": "текст\x00с нулём"})
    assert response.status_code == 422
    assert any("управляющие символы" in m for m in messages(response))


# --- template overrides ----------------------------------------------------------------------------


def _edited_template(extra_paragraph: str) -> bytes:
    import io

    import docx

    from webapp.documents.render import template_path
    document = docx.Document(str(template_path("regulation.docx")))
    document.add_paragraph(extra_paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, filename: str = "regulation.docx"):
    import io
    return client.post("/admin/templates", data={"name": "regulation.docx", "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_admin_uploads_an_edited_template_and_documents_use_it(client, login_as, make_client, app, tmp_path):
    """Does an edited template, once checked, print the next regulation — and can it be reset?"""
    app.config["DOCUMENT_TEMPLATES"] = tmp_path / "document_templates"
    admin = login_as(Role.ADMIN)
    assert client.get("/admin/templates/regulation.docx").data.startswith(b"PK")
    response = _upload(client, _edited_template("Особая отметка нашей компании"))
    assert response.status_code == 303, messages(response)
    record = make_client(admin, short_name="Ромашка")
    regulation_id = new_draft(client, record)
    assert "Особая отметка нашей компании" in all_text(read_docx(client.get(f"/regulations/{regulation_id}.docx").data))
    assert "свой, загружен" in _html(client.get("/admin/templates"))
    assert client.post("/admin/templates/regulation.docx/reset").status_code == 303
    assert "Особая отметка" not in all_text(read_docx(client.get(f"/regulations/{regulation_id}.docx").data))


@pytest.mark.parametrize("payload, filename, message", [
    ("broken", "regulation.docx", "{%"),
    ("text", "regulation.docx", "не является документом Word"),
    ("text", "regulation.txt", "Нужен файл Word в формате .docx."),
])
def test_a_broken_template_is_refused(client, login_as, app, tmp_path, payload, filename, message):
    """Is a template with a broken tag, or not a Word file at all, refused with a message (422)?"""
    app.config["DOCUMENT_TEMPLATES"] = tmp_path / "document_templates"
    login_as(Role.ADMIN)
    data = _edited_template("{% if client.inn %} без конца") if payload == "broken" else b"just text"
    response = _upload(client, data, filename)
    assert response.status_code == 422
    assert any(message in m for m in messages(response)) or message in _html(response)
    assert not (tmp_path / "document_templates" / "regulation.docx").exists()


def test_only_an_admin_manages_templates(client, login_as):
    """Can a manager reach the template page? (403)"""
    login_as(Role.MANAGER)
    assert client.get("/admin/templates").status_code == 403
    assert _upload(client, b"PK").status_code == 403
