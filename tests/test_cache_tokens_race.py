"""The per-process copies' tokens (``webapp.cache``) are written at commit, last: a token row is
shared by every transaction that changes what it covers, and taken mid-transaction it made two
ordinary transactions wait for each other. Proven with real threads on PostgreSQL (SQLite's single
writer lets only one of them write at all)."""

import threading

import pytest
import sqlalchemy as sa

from tests.conftest import run_in_threads
from webapp.extensions import db
from webapp.models import BacklogItem, CacheToken, ItemStatus, Role, User


def test_two_transactions_changing_watched_rows_in_turn_both_commit(app, make_item, make_user, make_client):
    manager = make_user(Role.MANAGER)
    romashka = make_client(manager, short_name="Ромашка")
    first, second = make_item(romashka, manager, title="Первая"), make_item(romashka, manager, title="Вторая")
    specialist = make_user(Role.SPECIALIST)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite lets one transaction write at a time")
        token_before = db.session.get(CacheToken, "backlog_open_by_assignee")
        token_before = token_before.token if token_before else None
    a_changed_first, b_changed_second = threading.Event(), threading.Event()

    def a() -> None:  # changes the first item, then (after b) the second
        with app.app_context():
            db.session.get(BacklogItem, first.id).status = ItemStatus.SPEC
            db.session.flush()
            a_changed_first.set()
            assert b_changed_second.wait(timeout=20), "b could not change the second item"
            # locks the row as the services do (waits for b's commit), then changes it
            db.session.scalars(sa.select(BacklogItem).where(BacklogItem.id == second.id)
                               .with_for_update(of=BacklogItem)).one().assignee_id = specialist.id
            db.session.flush()
            db.session.commit()
            db.session.remove()

    def b() -> None:  # changes the second item while a holds the first, and commits
        assert a_changed_first.wait(timeout=20)
        with app.app_context():
            db.session.get(BacklogItem, second.id).status = ItemStatus.SPEC
            db.session.flush()
            b_changed_second.set()
            db.session.commit()
            db.session.remove()

    run_in_threads(a, b, timeout=60)
    with app.app_context():
        rows = {i.id: (i.status, i.assignee_id) for i in db.session.scalars(
            sa.select(BacklogItem).where(BacklogItem.id.in_([first.id, second.id])))}
        assert rows == {first.id: (ItemStatus.SPEC, None), second.id: (ItemStatus.SPEC, specialist.id)}
        assert db.session.get(CacheToken, "backlog_open_by_assignee").token != token_before
