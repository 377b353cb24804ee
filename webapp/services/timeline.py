"""A client's history: every area contributes its own entries, newest first.

An area registers a source (``register("touchpoint", query=..., build=...)``) next to its
operations; the client card asks ``entries`` and draws what comes back without knowing the areas.
Pages continue from a cursor (time, kind, id), so «Показать ещё» neither repeats nor skips entries
of equal time.

A source's statement names the client and the cursor by bound parameters (``CLIENT``, and
``older_than``'s), so it is the same for every client a user opens: it is built once per user
(``access.Viewer``), cursor kind and page size and kept (building five statements and their cache
keys was a fifth of a card), and run with the client's id and the cursor's values.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Client, User
from webapp.models.types import UTCDateTime
from webapp.services.access import Viewer

PAGE = 30


@dataclass(frozen=True)
class Action:
    """A button on an entry (e.g. «Удалить запись»), posted with the record's version."""

    label: str
    endpoint: str
    args: dict[str, Any]
    version: int
    confirm: str = ""
    style: str = "link text-danger"


@dataclass
class Entry:
    kind: str                      # the source's name: the entry's CSS class and its cursor part
    at: datetime
    key: int                       # the record's id
    title: str
    body: str = ""
    user: User | None = None
    meta: str = ""                 # after the title line («с кем: …»)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, text) under the body
    actions: list[Action] = field(default_factory=list)

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.kind}|{self.key}"


@dataclass(frozen=True)
class Cursor:
    at: datetime
    kind: str
    key: int


# The client, and the cursor's time and id: bound when a statement runs, not when it is built.
CLIENT = sa.bindparam("timeline_client", type_=sa.Integer)
_BEFORE_AT = sa.bindparam("timeline_before_at", type_=UTCDateTime)
_BEFORE_KEY = sa.bindparam("timeline_before_key", type_=sa.Integer)


Query = Callable[[Viewer, str | None, int], sa.Select | None]  # (viewer, the cursor's kind, page size)
Build = Callable[[Client, User, Iterable[Any]], list[Entry]]   # (client, user, the records loaded)


@dataclass(frozen=True)
class Source:
    query: Query
    build: Build


_SOURCES: dict[str, Source] = {}


def register(kind: str, *, query: Query, build: Build) -> None:
    """An area's entries. ``query(viewer, before_kind, limit)`` is the statement of the newest
    ``limit`` records of the client ``CLIENT`` that the user may see (``None`` if none), older than
    the cursor (``older_than(kind, ..., before_kind)``); it depends on nothing else, as it is kept.
    ``build(client, user, records)`` turns what it loaded into entries."""
    _SOURCES[kind] = Source(query, build)
    _statement.cache_clear()


def parse_cursor(text: str | None) -> Cursor | None:
    try:
        at, kind, key = (text or "").split("|")
        cursor = Cursor(datetime.fromisoformat(at), kind, int(key))
    except ValueError:
        return None
    return cursor if cursor.at.tzinfo is not None else None  # every time shown was written with its zone


def older_than(kind: str, at_column: Any, id_column: Any, before_kind: str | None) -> list:
    """SQL for «this source's rows after the cursor» (whose kind is ``before_kind``; its time and id
    are bound when the statement runs) in the merged order (time, kind, id) descending."""
    if before_kind is None:
        return []
    if kind == before_kind:
        return [sa.tuple_(at_column, id_column) < sa.tuple_(_BEFORE_AT, _BEFORE_KEY)]
    same_time_first = kind < before_kind  # at the cursor's own time, kinds after it came earlier
    return [at_column <= _BEFORE_AT] if same_time_first else [at_column < _BEFORE_AT]


@functools.lru_cache(maxsize=512)
def _statement(kind: str, viewer: Viewer, before_kind: str | None, limit: int) -> sa.Select | None:
    return _SOURCES[kind].query(viewer, before_kind, limit)


def entries(client: Client, user: User, *, before: str | None = None, limit: int = PAGE) -> list[Entry]:
    """The newest ``limit`` entries of the client's history (older than ``before``)."""
    cursor = parse_cursor(before)
    viewer = Viewer.of(user)
    params: dict[str, Any] = {CLIENT.key: client.id}
    if cursor is not None:
        params.update({_BEFORE_AT.key: cursor.at, _BEFORE_KEY.key: cursor.key})
    found = []
    for kind, source in _SOURCES.items():
        statement = _statement(kind, viewer, cursor and cursor.kind, limit)
        if statement is not None:
            found.extend(source.build(client, user, db.session.scalars(statement, params)))
    found.sort(key=lambda e: (e.at, e.kind, e.key), reverse=True)
    return found[:limit]
