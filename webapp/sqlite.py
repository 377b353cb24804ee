"""SQLite, the embedded default: what every connection is set up with, and how writers take turns.

PostgreSQL needs none of this; every hook here returns at once for a connection that is not SQLite.
"""

import fcntl
import os
import sqlite3
import threading
import time
from time import monotonic

import sqlalchemy as sa


@sa.event.listens_for(sa.engine.Engine, "connect")
def _pragmas(dbapi_connection, connection_record) -> None:
    """Every connection: WAL for concurrent readers, foreign keys, patience with locks."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # checkpoints: see below
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    cursor.close()
    # SQLite's own lower() folds ASCII only, so a search for «иванова» missed «Иванова».
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    if path:  # a file, not a database in memory
        connection_record.info["writer_lock"] = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        connection_record.info["database"] = path


def _lower(value):
    return value.lower() if isinstance(value, str) else value


# --- writers take turns -----------------------------------------------------------------------------------------
#
# SQLite lets one transaction write at a time; the others wait in its busy handler, which sleeps 1, 2, 5, 10,
# 15, 20, 25, 25, 25, 50, 50, 100 ms between tries. Under steady saves from two workers, the second writer woke
# after the first had long finished, only to find the first's next save holding the lock again: a 5 ms save
# showed a p99 of 66 ms. Our writers queue instead on an flock of a file beside the database, taken before a
# transaction's first write and given back when its connection returns to the pool (right after the commit or
# rollback), and a waiting writer looks every half millisecond. A writer that is not ours (the sqlite3 shell, a
# backup) still meets SQLite's own lock and busy handler, as before.

WRITER_POLL = 0.0005  # seconds between looks at the writers' lock
WRITER_PATIENCE = 10.0  # then leave it to SQLite's busy handler (busy_timeout)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _take_turn(connection, cursor, statement, parameters, context, executemany) -> None:
    info = connection.info
    if "writer_lock" not in info or info.get("writing") or statement.lstrip()[:6].upper() not in _WRITES:
        return
    deadline = monotonic() + WRITER_PATIENCE
    while True:
        try:
            fcntl.flock(info["writer_lock"], fcntl.LOCK_EX | fcntl.LOCK_NB)
            info["writing"] = True
            return
        except BlockingIOError:
            if monotonic() > deadline:
                return
            time.sleep(WRITER_POLL)


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _give_turn(dbapi_connection, connection_record) -> None:
    if connection_record is not None and connection_record.info.pop("writing", False):
        fcntl.flock(connection_record.info["writer_lock"], fcntl.LOCK_UN)
        checkpoints.written(connection_record.info["database"])


@sa.event.listens_for(sa.pool.Pool, "close")
def _close_lock(dbapi_connection, connection_record) -> None:
    if (fd := connection_record.info.pop("writer_lock", None)) is not None:
        connection_record.info.pop("writing", None)
        os.close(fd)  # closing the descriptor also gives back a turn still held


# --- checkpoints off the request ----------------------------------------------------------------------------
#
# In WAL mode a commit appends its pages to the -wal file, and SQLite copies them back into the database (a
# checkpoint, with an fsync of both files) from inside whichever commit takes the WAL past 1000 pages. That
# commit waited for it: with saves from two workers, one save in a hundred took 10–90 ms instead of 6, which
# was the p99 of every save. SQLite's advice for such applications is to checkpoint from a thread of their own:
# each process that writes keeps one (started at its first write, so after gunicorn's fork), woken by every
# writing transaction's end; it waits CHECKPOINT_EVERY for more commits to gather, then runs a PASSIVE
# checkpoint on a connection of its own, which waits for no reader nor writer and lets go of the GIL during its
# I/O. Our connections still checkpoint by themselves past BACKSTOP_PAGES (40 MB of WAL), should the thread ever
# fall behind; other programs on the file (the sqlite3 shell, a backup) keep SQLite's default.

CHECKPOINT_EVERY = 0.5  # seconds between a thread's checkpoints while commits keep coming
BACKSTOP_PAGES = 10_000  # wal_autocheckpoint of our connections


class Checkpoints:
    """The checkpointing thread of this process and the databases written since its last pass."""

    def __init__(self) -> None:
        self._written: set[str] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def written(self, path: str) -> None:
        """A transaction that wrote to ``path`` has ended: checkpoint it soon."""
        with self._wake:
            self._written.add(path)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()  # a forked process inherits the object, never the thread
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._written:
                    self._wake.wait()
            time.sleep(CHECKPOINT_EVERY)  # let the commits of a burst gather into one pass
            with self._wake:
                paths, self._written = self._written, set()
            for path in paths:
                checkpoint(path)


def checkpoint(path: str) -> None:
    """One PASSIVE checkpoint of ``path``'s WAL: as much as no reader still needs, nothing waited for."""
    try:  # mode=rw: a database deleted meanwhile (a test's) is not created again
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        pass  # another process's checkpoint is running, or the file is gone: the next pass will do
    finally:
        connection.close()


checkpoints = Checkpoints()


# --- planner statistics ---------------------------------------------------------------------------------------
#
# SQLite keeps no statistics by itself; without them its planner guesses, and on this data it guessed a
# manager's 200 waiting approvals and 225 act reminders into 5–8 ms instead of 1. The SQLite documentation's
# advice for long-lived connections: «PRAGMA optimize» every few hours, which re-analyses (bounded by
# analysis_limit) only the tables that the connection's own queries would have planned better with fresh
# figures. Bulk loads run a full ANALYZE (``extensions.analyze``).

OPTIMIZE_EVERY = 3600.0  # seconds, per pooled connection


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _optimize(dbapi_connection, connection_record) -> None:
    """On a connection's return to the pool, once an hour: ``PRAGMA optimize``."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    now = monotonic()
    last = connection_record.info.setdefault("optimized_at", now)
    if now - last >= OPTIMIZE_EVERY:
        connection_record.info["optimized_at"] = now
        dbapi_connection.execute("PRAGMA analysis_limit=400")
        dbapi_connection.execute("PRAGMA optimize")
