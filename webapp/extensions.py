"""Flask extensions: created here, bound to the app in ``create_app``."""

import sqlalchemy as sa
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from webapp import sqlite  # noqa: F401 - SQLite's connection set-up, registered on import

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


def analyze() -> None:
    """Fresh planner statistics after a bulk load (the demo, the benchmark data): SQLite has none
    until asked. PostgreSQL's autovacuum would get there later, and also vacuum, which marks the
    loaded pages all-visible so that an index answers alone: just after a load, «Мой день»'s
    count of overdue stages read 4,000 heap rows it did not need (7.4 → 5.0 ms)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))  # not allowed inside a transaction
        return
    with db.engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))

