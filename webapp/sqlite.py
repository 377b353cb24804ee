"""SQLite, the embedded default: what every connection is set up with, and how writers take turns.

PostgreSQL needs none of this; every hook here returns at once for a connection that is not SQLite.
"""

import fcntl
import os
import sqlite3
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
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    cursor.close()
    # SQLite's own lower() folds ASCII only, so a search for «иванова» missed «Иванова».
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    if path:  # a file, not a database in memory
        connection_record.info["writer_lock"] = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)


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


@sa.event.listens_for(sa.pool.Pool, "close")
def _close_lock(dbapi_connection, connection_record) -> None:
    if (fd := connection_record.info.pop("writer_lock", None)) is not None:
        connection_record.info.pop("writing", None)
        os.close(fd)  # closing the descriptor also gives back a turn still held


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
