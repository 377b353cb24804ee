"""Factories for clients, contacts and touchpoints, and a SQL statement counter."""

import contextlib
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Channel, Client, Contact, User
from webapp.models.types import utcnow
from webapp.services import clients as client_service


@pytest.fixture
def make_client(app):
    """``make_client(manager, short_name=..., contacts=[...], days_ago=N)`` through the services."""
    counter = iter(range(1, 100_000))

    def make(manager: User, *, short_name: str | None = None, deputy: User | None = None,
             contacts: list[dict] | None = None, days_ago: int | None = None, **fields) -> Client:
        n = next(counter)
        with app.app_context():
            acting = db.session.get(User, manager.id)
            client = client_service.create_client({
                "short_name": short_name or f"Клиент {n}", "manager_id": manager.id,
                "deputy_id": deputy.id if deputy else None, **fields}, acting=acting)
            for data in contacts or []:
                client_service.add_contact(client, data, acting=acting)
            if days_ago is not None:
                client_service.log_touchpoint(client, channel=Channel.CALL, summary="Созвонились",
                                              acting=acting, occurred_at=utcnow() - timedelta(days=days_ago))
            db.session.commit()
            client_id = client.id
        with app.app_context():
            client = db.session.get(Client, client_id)
            db.session.expunge(client)
        return client

    return make


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries:`` … ``len(queries)`` statements ran."""

    @contextlib.contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting


def reload(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        db.session.expunge(obj)
        return obj


def contact_count(app, client_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.client_id == client_id))
