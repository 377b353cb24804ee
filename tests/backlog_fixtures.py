"""Factories for backlog items (through the services) and a helper to read one back."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import BacklogItem, Client, Contact, User
from webapp.services import backlog as backlog_service

DECISION_MAKER = {"full_name": "Ковалёва Анна Сергеевна", "is_decision_maker": True, "decides_cost": True,
                  "decides_scope": True}
SCOPE_ONLY = {"full_name": "Никитин Роман Сергеевич", "is_decision_maker": True, "decides_scope": True}


@pytest.fixture
def make_item(app):
    """``make_item(client, manager, title=..., hours=Decimal(...), **fields)``: an intake, and an
    estimate when ``hours`` is given."""

    def make(client: Client, manager: User, *, hours: Decimal | None = None, **data) -> BacklogItem:
        with app.app_context():
            acting = db.session.get(User, manager.id)
            stored = db.session.get(Client, client.id)
            item = backlog_service.create_item(stored, {"title": "Отчёт по продажам", **data}, acting=acting)
            if hours is not None:
                backlog_service.estimate_item(item, hours=hours, acting=acting)
            db.session.commit()
            item_id = item.id
        return reload_item(app, item_id)

    return make


def reload_item(app, item_id: int) -> BacklogItem:
    with app.app_context():
        item = db.session.scalar(sa.select(BacklogItem).where(BacklogItem.id == item_id)
                                 .options(sa.orm.selectinload(BacklogItem.stages),
                                          sa.orm.selectinload(BacklogItem.approvals),
                                          sa.orm.selectinload(BacklogItem.estimates)))
        db.session.expunge_all()
        return item


def contact_named(app, client: Client, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Contact.id).where(Contact.client_id == client.id,
                                                             Contact.full_name == name))
