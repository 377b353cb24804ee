"""The audit trail: every change of a client, a contact, a touchpoint and a regulation — creation,
each update, a status change and the delete — leaves an event with the old and the new values."""

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Channel, Client, Regulation, RegulationStatus, Role, User
from webapp.saving import Edit
from webapp.services import clients as client_service
from webapp.services import regulations as regulation_service
from webapp.services import workflow


@pytest.fixture
def acting(app, make_user, ctx):
    """The manager who makes the changes, loaded in the test's application context."""
    return db.session.get(User, make_user(Role.MANAGER, full_name="Петров Алексей Николаевич").id)


def last_event(entity_type: str, entity_id: int) -> AuditEvent:
    """The newest event of one record, read from the database after the commit."""
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id.desc()).limit(1)).one()


def test_client_creation_and_edit_are_audited(acting):
    """Does adding a client and renaming it leave «create» and «update» events with old → new?"""
    client = client_service.create_client({"short_name": "Ромашка", "inn": "7707083893"}, acting=acting)
    db.session.commit()
    created = last_event("clients", client.id)
    assert created.action == "create"
    assert created.changes["short_name"] == [None, "Ромашка"] and created.changes["inn"] == [None, "7707083893"]

    client_service.update_client(client, Edit({"short_name": "Ромашка Плюс"}, client.version), acting=acting)
    db.session.commit()
    updated = last_event("clients", client.id)
    assert updated.action == "update"
    assert updated.changes["short_name"] == ["Ромашка", "Ромашка Плюс"] and "inn" not in updated.changes


def test_contact_creation_edit_and_removal_are_audited(acting):
    """Does a contact's addition, phone change and removal each leave an event with old → new?"""
    client = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
    contact = client_service.add_contact(client, {"full_name": "Жуков Олег", "phone": "+7 900 000-00-01"},
                                         acting=acting)
    db.session.commit()
    contact_id = contact.id
    created = last_event("contacts", contact_id)
    assert created.action == "create"
    assert created.changes["full_name"] == [None, "Жуков Олег"]
    assert created.changes["phone"] == [None, "+7 900 000-00-01"]
    assert created.changes["client_id"] == [None, client.id]

    client_service.update_contact(contact, Edit({"full_name": "Жуков Олег", "phone": "+7 900 000-00-02"},
                                                contact.version), acting=acting)
    db.session.commit()
    updated = last_event("contacts", contact_id)
    assert updated.action == "update"
    assert updated.changes["phone"] == ["+7 900 000-00-01", "+7 900 000-00-02"]
    assert "full_name" not in updated.changes

    client_service.remove_contact(contact, contact.version, acting=acting)
    db.session.commit()
    removed = last_event("contacts", contact_id)
    assert removed.action == "delete"
    assert removed.changes["full_name"] == ["Жуков Олег", None]
    assert removed.changes["phone"] == ["+7 900 000-00-02", None]


def test_touchpoint_logging_and_deletion_are_audited(acting):
    """Does logging a call and deleting it as a mistake each leave an event with what was said?"""
    client = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
    touchpoint = client_service.log_touchpoint(client, channel=Channel.VISIT, summary="Обсудили сроки",
                                               next_step="Выслать оценку", acting=acting)
    db.session.commit()
    touchpoint_id = touchpoint.id
    created = last_event("touchpoints", touchpoint_id)
    assert created.action == "create"
    assert created.changes["summary"] == [None, "Обсудили сроки"]
    assert created.changes["channel"] == [None, "visit"]
    assert created.changes["next_step"] == [None, "Выслать оценку"]

    client_service.delete_touchpoint(touchpoint, touchpoint.version, acting=acting)
    db.session.commit()
    removed = last_event("touchpoints", touchpoint_id)
    assert removed.action == "delete"
    assert removed.changes["summary"] == ["Обсудили сроки", None]
    assert removed.changes["client_id"] == [client.id, None]


def test_regulation_draft_edit_status_and_deletion_are_audited(acting):
    """Does a regulation's draft, a clause edit, agreeing, reopening and deleting each leave an event?"""
    client = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
    regulation = regulation_service.create_draft(db.session.get(Client, client.id), acting=acting)
    db.session.commit()
    regulation_id = regulation.id
    created = last_event("regulations", regulation_id)
    assert created.action == "create"
    assert created.changes["number"] == [None, 1] and created.changes["status"] == [None, "draft"]

    before = regulation.working_hours
    regulation_service.update_draft(regulation, Edit({"working_hours": "с 9 до 18"}, regulation.version), acting=acting)
    db.session.commit()
    updated = last_event("regulations", regulation_id)
    assert updated.action == "update" and updated.changes == {"working_hours": [before, "с 9 до 18"]}

    workflow.change_status(regulation, RegulationStatus.AGREED, acting=acting, shown_status="draft",
                           version=regulation.version)
    db.session.commit()
    agreed = last_event("regulations", regulation_id)
    assert agreed.action == "agree" and agreed.changes["status"] == ["draft", "agreed"]

    workflow.change_status(regulation, RegulationStatus.DRAFT, acting=acting, shown_status="agreed",
                           version=regulation.version)
    db.session.commit()
    reopened = last_event("regulations", regulation_id)
    assert reopened.action == "reopen" and reopened.changes["status"] == ["agreed", "draft"]

    regulation_service.delete_draft(regulation, regulation.version, acting=acting)
    db.session.commit()
    removed = last_event("regulations", regulation_id)
    assert removed.action == "delete"
    assert removed.changes["number"] == [1, None] and removed.changes["working_hours"] == ["с 9 до 18", None]
    assert db.session.get(Regulation, regulation_id) is None
