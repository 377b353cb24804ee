"""A client's history: every area contributes its own entries, newest first.

An area registers a source (``register("touchpoint", source)``) next to its operations; the client
card asks ``entries`` and draws what comes back without knowing the areas. Pages continue from a
cursor (time, kind, id), so «Показать ещё» neither repeats nor skips entries of equal time.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webapp.models import Client, User

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


Source = Callable[[Client, User, Cursor | None, int], list[Entry]]
_SOURCES: dict[str, Source] = {}


def register(kind: str, source: Source) -> None:
    """An area's entries: ``source(client, user, before, limit)`` returns at most ``limit`` of them,
    newest first, all older than the cursor ``before`` (see ``older_than``)."""
    _SOURCES[kind] = source


def parse_cursor(text: str | None) -> Cursor | None:
    try:
        at, kind, key = (text or "").split("|")
        return Cursor(datetime.fromisoformat(at), kind, int(key))
    except ValueError:
        return None


def older_than(kind: str, at_column: Any, id_column: Any, cursor: Cursor | None) -> list:
    """SQL for «this source's rows after ``cursor``» in the merged order (time, kind, id) descending."""
    if cursor is None:
        return []
    if kind == cursor.kind:
        return [sa.tuple_(at_column, id_column) < sa.tuple_(cursor.at, cursor.key)]
    same_time_first = kind < cursor.kind  # at the cursor's own time, kinds after it came earlier
    return [at_column <= cursor.at] if same_time_first else [at_column < cursor.at]


def entries(client: Client, user: User, *, before: str | None = None, limit: int = PAGE) -> list[Entry]:
    """The newest ``limit`` entries of the client's history (older than ``before``)."""
    cursor = parse_cursor(before)
    found = [entry for source in _SOURCES.values() for entry in source(client, user, cursor, limit)]
    found.sort(key=lambda e: (e.at, e.kind, e.key), reverse=True)
    return found[:limit]
