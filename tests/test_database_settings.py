"""Settings of the database connections. SQLite: planner statistics kept fresh on a live
installation (a pooled connection runs ``PRAGMA optimize`` once an hour, ``webapp.sqlite.OPTIMIZE_EVERY``,
as SQLite advises for long-lived connections). PostgreSQL: no JIT."""

import sqlite3

import pytest
import sqlalchemy as sa

from webapp import sqlite as sqlite_setup
from webapp.extensions import db


def test_a_pooled_connection_optimizes_once_an_hour(app, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
        clock = [1000.0]
        monkeypatch.setattr(sqlite_setup, "monotonic", lambda: clock[0])
        db.engine.dispose()  # a fresh pooled connection, whose trace we can read
        seen: list[str] = []

        def use_once() -> None:
            with db.engine.connect() as connection:
                raw = connection.connection.dbapi_connection
                assert isinstance(raw, sqlite3.Connection)
                raw.set_trace_callback(seen.append)
                connection.execute(sa.text("SELECT count(*) FROM users"))

        use_once()
        clock[0] += 60
        use_once()
        assert not any("optimize" in s for s in seen), "optimized before the hour was up"
        clock[0] += sqlite_setup.OPTIMIZE_EVERY
        use_once()
        assert "PRAGMA optimize" in seen


def test_postgresql_sessions_run_without_jit_or_parallel_workers(app):
    """PostgreSQL's JIT compiled the budgets overview for 41 ms to run it in 36, and a parallel
    worker took 10 ms to start for the ten overdue stages of «Мой день» (3 ms alone): our sessions
    turn both off."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL setting")
        assert db.session.scalar(sa.text("SHOW jit")) == "off"
        assert db.session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "0"
