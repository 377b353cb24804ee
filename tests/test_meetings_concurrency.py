"""Twenty managers finishing twenty meetings at once: the minutes numbers stay gapless and unique
(real threads, each with its own connection, released together, on SQLite and PostgreSQL)."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.conftest import serving_app
from tests.meetings_fixtures import load_meeting
from webapp.extensions import db
from webapp.models import Meeting, User
from webapp.services import meetings as meeting_service

UTC = timezone.utc
WRITERS = 20


@pytest.fixture
def app(database_url, tmp_path):
    """A connection for every writer (the default pool of fifteen would hold five back)."""
    engine = {"pool_pre_ping": True, "pool_size": WRITERS + 2, "max_overflow": 0}
    if database_url.startswith("sqlite"):
        engine["connect_args"] = {"timeout": 30}
    with serving_app(database_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS=engine) as app:
        yield app


def _acting(user) -> User:
    return db.session.get(User, user.id)


def test_twenty_finishes_at_once_get_distinct_consecutive_numbers(app, team, plan):
    """Twenty managers finishing twenty meetings at the same moment: numbers 1…20, none twice, no gap."""
    ids = [plan(team, starts_at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC) + timedelta(hours=n)) for n in range(WRITERS)]
    barrier = threading.Barrier(len(ids), timeout=60)
    errors: list = []

    def finish(meeting_id: int) -> None:
        try:
            with app.app_context():
                meeting = load_meeting(meeting_id)
                acting = _acting(team.manager)
                barrier.wait()
                meeting_service.finish(meeting, acting=acting)
                db.session.commit()
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            with app.app_context():
                db.session.remove()

    threads = [threading.Thread(target=finish, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        numbers = sorted(db.session.scalars(sa.select(Meeting.minutes_number).where(Meeting.id.in_(ids))))
    assert numbers == list(range(1, WRITERS + 1))
