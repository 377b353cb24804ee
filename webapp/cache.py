"""Values that many requests read and that change rarely (the account managers, the company
profile, the regulation standard, the open backlog items by assignee), kept in each worker process
between requests.

Every gunicorn worker keeps its own copy, so a change must reach all of them at once, not after a
delay: each cached value has a token in the table ``cache_tokens``. A save that changes what a value
is made of (``watch``: new, deleted or changed rows of a model) stores a new random token in the same
transaction, and a worker reads the tokens once per request (a handful of rows) before it trusts a
copy (the tokens are written last in the transaction, at commit). We chose this over a short TTL
because a TTL lets another worker show a deactivated manager or old requisites for its whole
lifetime, and because one tiny read replaces the query the copy saves anyway. The tokens are random rather than counters so that a restored backup, which brings
its own tokens, never matches a copy made of other data; a database without a token row (freshly
emptied) is simply never cached. Outside a request (CLI, tests calling services) nothing is cached.

Copies are plain values (tuples, frozen dataclasses, dictionaries of columns), never ORM objects
bound to a session, so no request can lazy-load through or modify another request's objects.
"""

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy.orm import Session

from webapp.models.cache import CacheToken

T = TypeVar("T")


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A value kept per process, loaded by ``load`` when its token changed."""

    name: str
    load: Callable[[], T]

    def get(self) -> T:
        if not has_request_context():
            return self.load()
        token = _tokens().get(self.name)
        if token is None:
            return self.load()
        copies = current_app.extensions.setdefault("cache", {})
        copy = copies.get(self.name)
        if copy is not None and copy[0] == token:
            return copy[1]
        value = self.load()
        copies[self.name] = (token, value)
        return value


def _tokens() -> dict[str, str]:
    """The tokens, read once per request."""
    if "cache_tokens" not in g:
        from webapp.extensions import db
        g.cache_tokens = dict(db.session.execute(sa.select(CacheToken.name, CacheToken.token)).all())
    return g.cache_tokens


def invalidate(session: Session, names: Iterable[str]) -> None:
    """New tokens for ``names``, in the session's transaction: every worker reloads its copy once the
    transaction commits (and this one at once)."""
    table, connection = CacheToken.__table__, session.connection()  # Core: no autoflush inside a flush
    for name in names:
        token = secrets.token_hex(16)
        updated = connection.execute(sa.update(table).where(table.c.name == name).values(token=token))
        if updated.rowcount == 0:
            connection.execute(sa.insert(table).values(name=name, token=token))
        if has_app_context():
            current_app.extensions.get("cache", {}).pop(name, None)
        if has_request_context() and "cache_tokens" in g:
            g.cache_tokens[name] = token


# --- what each value is made of -----------------------------------------------------------------

_WATCHED: dict[type, list[tuple[str, frozenset[str] | None]]] = {}


def watch(model: type, name: str, fields: Iterable[str] | None = None) -> None:
    """A row of ``model`` added or deleted, or one of its ``fields`` changed (any field if None),
    invalidates the value ``name``."""
    _WATCHED.setdefault(model, []).append((name, frozenset(fields) if fields is not None else None))


def _names_changed(session: Session) -> set[str]:
    names = set()
    for obj in chain(session.new, session.deleted):
        names.update(name for name, _ in _WATCHED.get(type(obj), ()))
    for obj in session.dirty:
        for name, fields in _WATCHED.get(type(obj), ()):
            state = sa.inspect(obj)
            if any(state.attrs[f].history.has_changes() for f in (fields or state.mapper.column_attrs.keys())):
                names.add(name)
    return names


@sa.event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context, instances) -> None:
    if _WATCHED and (names := _names_changed(session)):
        session.info.setdefault("cache_invalidate", set()).update(names)


# The tokens are written once, at commit, after everything else: a token row is shared by every
# transaction that changes what it covers (each new or re-assigned backlog item), and written
# straight after each flush it would be locked in the middle of a transaction that goes on to
# lock other rows — two such transactions could wait for each other. Last, it is only waited for.
@sa.event.listens_for(Session, "before_commit")
def _store_tokens(session: Session) -> None:
    session.flush()  # commit's own flush comes after this hook: note its changes now
    if names := session.info.pop("cache_invalidate", None):
        invalidate(session, sorted(names))


@sa.event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop("cache_invalidate", None)
