"""SQLite writers of our processes take turns on an flock beside the database file (``webapp.sqlite``)
instead of polling in SQLite's busy handler with growing sleeps: the turn is taken at a transaction's first
write, never by a reader, and given back with the connection after commit or rollback. What they wrote is
checkpointed by a thread of the process, not inside a commit."""

import fcntl
import functools
import os
import struct
import threading
import time

import pytest
import sqlalchemy as sa

from tests.conftest import run_in_threads
from webapp import sqlite
from webapp.extensions import db
from webapp.models import Role, User


@pytest.fixture
def lock_path(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL lets transactions write side by side")
        return db.engine.url.database + "-writer.lock"


def turn_is_free(path: str) -> bool:
    """Could another writer take the turn now?"""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_writing_transaction_holds_the_turn_until_it_commits(app, lock_path, make_user):
    user = make_user(Role.MANAGER)
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.id == user.id))  # a read takes no turn
        assert turn_is_free(lock_path)
        db.session.execute(sa.update(User).where(User.id == user.id).values(position="Старший менеджер"))
        assert not turn_is_free(lock_path)
        db.session.commit()
        assert turn_is_free(lock_path)
        db.session.execute(sa.update(User).where(User.id == user.id).values(position="Менеджер"))
        assert not turn_is_free(lock_path)
        db.session.rollback()
        assert turn_is_free(lock_path)
        assert db.session.get(User, user.id).position == "Старший менеджер"


def test_writers_in_threads_wait_for_their_turn_and_all_commit(app, lock_path, make_user):
    """Twenty threads add to one user's position at once: every update lands, none is refused as
    «database is locked»."""
    user = make_user(Role.MANAGER, position="")
    start = threading.Barrier(20)

    def write(n: int) -> None:
        start.wait(timeout=30)
        with app.app_context():
            db.session.execute(sa.update(User).where(User.id == user.id)
                               .values(position=User.position + str(n % 10)))
            db.session.commit()
            db.session.remove()

    run_in_threads(*(functools.partial(write, n) for n in range(20)))
    with app.app_context():
        written = [c for c in db.session.get(User, user.id).position if c.isdigit()]
        assert sorted(written) == sorted("01234567890123456789")
    assert turn_is_free(lock_path)


def wal_frames(database: str) -> tuple[int, int]:
    """(frames in the WAL, frames of them already copied into the database), as SQLite's WAL index (the -shm
    file) says: mxFrame at byte 16 of its header, nBackfill at byte 96 (https://sqlite.org/walformat.html)."""
    with open(database + "-shm", "rb") as index:
        header = index.read(100)
    return struct.unpack_from("=I", header, 16)[0], struct.unpack_from("=I", header, 96)[0]


def test_what_a_commit_wrote_is_checkpointed_by_the_thread_not_by_the_commit(app, lock_path, make_user):
    """A commit leaves its pages in the WAL (our connections checkpoint only past the backstop), and the
    process's checkpointing thread copies them into the database shortly after. Without the thread
    nothing would copy a few pages: SQLite checkpoints past 1000 of them."""
    user = make_user(Role.MANAGER, position="")
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == sqlite.BACKSTOP_PAGES
        for n in range(5):
            db.session.execute(sa.update(User).where(User.id == user.id).values(position=f"Менеджер {n}"))
            db.session.commit()
        database = db.engine.url.database
        deadline = time.monotonic() + 10
        while (frames := wal_frames(database))[1] < frames[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        frames, copied = wal_frames(database)
        assert frames > 0 and copied == frames
        assert db.session.get(User, user.id).position == "Менеджер 4"
