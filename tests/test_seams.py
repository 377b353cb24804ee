"""The seams the areas plug into: one status-machine convention, rules in one place, audit labels declared."""

import re
from pathlib import Path

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Regulation, RegulationStatus, Role
from webapp.models.audit import entity
from webapp.models.audit import Audited
from webapp.models.workflow import Move

TEMPLATES = Path(__file__).parent.parent / "webapp" / "templates"


@pytest.fixture
def archive_move():
    """A move a model declares (here on the regulation): nothing else is edited for it."""
    move = Move((RegulationStatus.DRAFT,), RegulationStatus.SUPERSEDED, "В архив", "archive", "перенос в архив",
                done="Проект перенесён в архив.",
                guard=lambda regulation: None if regulation.meeting_place == "Переговорная" else
                "Сначала укажите место планёрки «Переговорная».")
    Regulation.workflow.add(move)
    yield move
    Regulation.workflow.remove(move)


def test_a_declared_move_gets_its_button_guard_and_audit_without_template_or_route(app, client, login_as,
                                                                                 make_client, archive_move):
    """Does a move declared on the model appear as a button, refuse by its guard, and audit by its name?"""
    me = login_as(Role.MANAGER)
    record = make_client(me)
    created = client.post(f"/clients/{record.id}/regulations/")
    regulation_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/regulations/{regulation_id}").get_data(as_text=True)
    assert ">В архив</button>" in page and "Сначала укажите место планёрки" in page
    with app.app_context():
        version = db.session.get(Regulation, regulation_id).version
    refused = client.post(f"/regulations/{regulation_id}/status",
                          data={"target": "superseded", "from": "draft", "version": version})
    assert refused.status_code == 422 and "Сначала укажите место планёрки" in refused.get_data(as_text=True)
    with app.app_context():
        regulation = db.session.get(Regulation, regulation_id)
        regulation.meeting_place = "Переговорная"
        db.session.commit()
        version = regulation.version
    moved = client.post(f"/regulations/{regulation_id}/status",
                        data={"target": "superseded", "from": "draft", "version": version})
    assert moved.status_code == 303
    with app.app_context():
        assert db.session.get(Regulation, regulation_id).status == RegulationStatus.SUPERSEDED
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "archive")).one()
        assert event.entity_id == regulation_id and event.changes["status"] == ["draft", "superseded"]
    assert entity("regulations").actions["archive"] == "перенос в архив"


def test_a_status_change_seen_in_another_state_is_refused_with_what_happened(app, client, login_as, make_client):
    """If a colleague agreed the edition while I looked, is my «Согласовано» a 409 saying so, nothing changed?"""
    me = login_as(Role.MANAGER)
    record = make_client(me)
    regulation_id = int(client.post(f"/clients/{record.id}/regulations/").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        shown = db.session.get(Regulation, regulation_id).version
    assert client.post(f"/regulations/{regulation_id}/status",
                       data={"target": "agreed", "from": "draft", "version": shown}).status_code == 303
    stale = client.post(f"/regulations/{regulation_id}/status",
                        data={"target": "agreed", "from": "draft", "version": shown})
    assert stale.status_code == 409
    assert "Состояние уже изменил другой пользователь: сейчас «Согласован»" in stale.get_data(as_text=True)


def test_agreeing_a_draft_someone_changed_since_it_was_shown_is_asked_again(app, client, login_as, make_client):
    """A colleague saved a clause while I looked at the draft: is my «Согласовано» a 409, the draft still a draft?"""
    me = login_as(Role.MANAGER)
    record = make_client(me)
    regulation_id = int(client.post(f"/clients/{record.id}/regulations/").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        regulation = db.session.get(Regulation, regulation_id)
        shown = regulation.version
        regulation.meeting_place = "Переговорная на 3 этаже"  # the colleague's save
        db.session.commit()
    stale = client.post(f"/regulations/{regulation_id}/status",
                        data={"target": "agreed", "from": "draft", "version": shown})
    assert stale.status_code == 409
    assert "проверьте изменения и подтвердите ещё раз" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Regulation, regulation_id).status == RegulationStatus.DRAFT


def test_every_logged_column_of_every_audited_model_has_a_russian_label():
    """Would a new model's fields show in the audit log as raw column names?"""
    missing = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if not issubclass(model, Audited):
            continue
        kind = entity(model.__tablename__)
        assert kind.name != model.__tablename__, f"{model.__name__} declares no __audit_name__"
        missing += [f"{model.__name__}.{attr.key}" for attr in mapper.column_attrs
                    if attr.key not in model.__audit_exclude__ and kind.label(attr.key) == attr.key]
    assert missing == []


def test_templates_decide_nothing_about_roles_or_states():
    """Do the templates test roles or compare states by name (rules that belong in services)?"""
    offending = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bRole\.|\.role\s*==|status\.value\s*(==|in)|\"(draft|agreed|signed)\"", line):
                offending.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert offending == []


def test_models_import_nothing_from_services_or_the_web_layer():
    """Does a model reach up into a service or a blueprint (even lazily, inside a function)?"""
    models = Path(__file__).resolve().parent.parent / "webapp" / "models"
    offending = [f"{path.name}:{number}" for path in models.glob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"^\s*(from|import)\s+webapp\.(services|blueprints)\b", line)]
    assert offending == []
