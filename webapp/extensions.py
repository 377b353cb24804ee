"""Flask extensions: created here, bound to the app in ``create_app``."""

from time import monotonic

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

# Constraint names are stable across databases, so migrations can drop and alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite on every connection: WAL for concurrent readers, foreign keys, patience with locks."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so a search for «иванова» missed «Иванова».
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


# SQLite keeps no statistics by itself; without them its planner guesses, and on this data it
# guessed a manager's 200 waiting approvals and 225 act reminders into 5–8 ms instead of 1. The
# SQLite documentation's advice for long-lived connections: «PRAGMA optimize» every few hours,
# which re-analyses (bounded by analysis_limit) only the tables that the connection's own queries
# would have planned better with fresh figures. Bulk loads run a full ANALYZE (``analyze``).
OPTIMIZE_EVERY = 3600.0  # seconds, per pooled connection


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _sqlite_optimize(dbapi_connection, connection_record) -> None:
    """On a connection's return to the pool, once an hour: ``PRAGMA optimize``."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    now = monotonic()
    last = connection_record.info.setdefault("optimized_at", now)
    if now - last >= OPTIMIZE_EVERY:
        connection_record.info["optimized_at"] = now
        dbapi_connection.execute("PRAGMA analysis_limit=400")
        dbapi_connection.execute("PRAGMA optimize")


def analyze() -> None:
    """Fresh planner statistics after a bulk load (the demo, the benchmark data):
    SQLite has none until asked; PostgreSQL's autovacuum would get there, later."""
    with db.engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))


def _lower(value):
    return value.lower() if isinstance(value, str) else value
