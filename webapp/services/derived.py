"""Derived figures: stored numbers recomputed from their source rows under the owner's lock.

A client stores its last contact, cadence dates and search text; a backlog, a budget and an act will
store their totals. Each such figure belongs to an *owner* row and is computed from the owner's
*source* rows (touchpoints, contacts, items). Two writers who each change a source row and recompute
from what they can see lose each other's change: the last to commit writes a figure that misses the
other's row (PostgreSQL's READ COMMITTED hides the other's uncommitted row; Python's sqlite3 reads
outside any transaction until the first write, so a collection loaded before it may be stale).

The pattern, **owner-locked recompute**, in three steps of one transaction:

1. ``lock_owner(owner)`` before reading or changing anything the figure depends on. It takes the
   owner's row lock — ``SELECT … FOR NO KEY UPDATE`` on PostgreSQL (writers of one owner queue up,
   while rows that merely refer to it are still inserted freely); on SQLite the database's single
   write lock, taken by a no-op UPDATE of the row — and reloads the owner, so this transaction sees every
   committed change and the next writer of the same owner waits until this one commits;
2. change the source rows;
3. recompute the figure with a query of the source rows (the session flushes this transaction's own
   changes first), never from a collection loaded before the lock, and store it on the owner.

Every writer of an owner's source rows follows the three steps, so the last to commit has seen every
row. Lock the owner first, before writing any source row, so all writers take locks in one order
and never deadlock.
"""

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from webapp.extensions import db

Owner = TypeVar("Owner")


def lock_owner(owner: Owner) -> Owner:
    """Lock ``owner``'s row for the rest of the transaction and reload it (see the module's docstring).

    A record not yet in the database needs no lock: nobody else can see it. Changes this transaction
    has made and not yet flushed are flushed first: the reload would otherwise drop them (on SQLite
    the locking UPDATE flushed them; on PostgreSQL a second service locking the same owner in one
    transaction lost the first one's change). Lock before changing the owner all the same.
    """
    state = sa.inspect(owner)
    if not state.has_identity:
        return owner
    session = object_session(owner) or db.session
    session.flush()
    table = state.mapper.local_table
    if session.get_bind(state.mapper).dialect.name == "sqlite":
        # SQLite locks the whole database for a writer; the first write of a transaction takes it.
        # An owner is a ``Versioned`` record: rewriting its version as it is changes nothing (and,
        # unlike its key, makes SQLite check no foreign keys).
        key = zip(state.mapper.primary_key, state.identity, strict=True)
        session.execute(sa.update(table).where(*[column == value for column, value in key])
                        .values(version=table.c.version))
    session.refresh(owner, with_for_update={"of": table, "key_share": True})
    return owner
