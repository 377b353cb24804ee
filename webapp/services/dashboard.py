"""«Мой день»: sections that each area contributes (the meeting agenda has its own seam, `services.agenda`).

An area registers its sections next to its operations; the dashboard draws whichever apply to the
user, in order, each with its title, count and macro, without knowing the areas. A section refreshes
itself when one of its ``refresh_on`` events is triggered by a save elsewhere on the page.

Two kinds of section. A *summary* (a table per manager, today's meetings) is small by nature:
``load(user, day)`` returns what the macro draws and ``count(data)`` its badge. A *list* (whom to
call, overdue stages, unpaid acts) may be long: the page shows its first ``PREVIEW`` rows —
``load(user, day, limit)`` — and ``counted(viewer, day)`` gives the query (or queries, summed) of its rows,
which the page counts for the badge up to ``FULL`` + 1 («200+»): the page costs the same with 10 rows
behind a section or 28,000, and the counts of all its sections are one statement. That statement
is the same all day for a user — ``counted`` is given the user's id and role (a ``Viewer``) and the
day, nothing else — so it is built once per process, user and day: building seven queries and the
key SQLAlchemy caches their SQL under cost more than SQLite's counting. «Показать все» draws
up to ``FULL`` rows in place, and the section links to its area's own list (``more``), which pages.
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import User
from webapp.services.access import Viewer

PREVIEW = 10   # rows of a list section on the page
FULL = 200     # rows of a list section shown in place by «Показать все»


@dataclass(frozen=True)
class Link:
    """An area's page, for the template's ``url_for`` (services build no URLs)."""

    endpoint: str
    args: dict[str, str]
    label: str = "Открыть весь список"


@dataclass(frozen=True)
class Section:
    key: str                                   # its id in the page and in ``?section=``
    title: str
    order: int
    applies: Callable[[User], bool]
    load: Callable[..., Any]                   # a summary: (user, day); a list: (user, day, limit)
    macro: str                                 # «area.macro_name» in templates/_macros/
    count: Callable[[Any], int] = len          # a summary's badge, from its data
    counted: Callable[[Viewer, date], sa.Select | Sequence[sa.Select]] | None = None  # a list: the query of its rows
    more: Link | None = None                   # a list: the area's page that shows (and pages) them all
    refresh_on: str = ""                       # client events that reload the section
    empty: str = ""                            # shown when the count is 0


@dataclass
class Filled:
    """A section with its data, for one user and one day."""

    section: Section
    data: Any
    count: int           # the badge: the rows the section has, up to FULL + 1
    shown: int           # rows drawn (less than ``count`` for a list not shown in full)
    expanded: bool = False
    macro: Any = None    # the section's macro, resolved by the page

    @property
    def not_shown(self) -> int:
        return self.count - self.shown

    @property
    def beyond_full(self) -> bool:
        """More rows than «Показать все» draws («200+»): the area's own page has them."""
        return self.count > FULL

    @property
    def can_expand(self) -> bool:
        return self.not_shown > 0 and not self.beyond_full


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    _SECTIONS[section.key] = section
    _badge_statement.cache_clear()


def counts(queries: Sequence[sa.Select]) -> list[int]:
    """The rows of each of ``queries``, each counted up to ``FULL`` + 1 (28,000 overdue stages cost
    what 201 do), in one statement: a page's badges are one round trip, not one per section."""
    if not queries:
        return []
    return list(db.session.execute(_capped_counts(queries, FULL)).one())


def _capped_counts(queries: Sequence[sa.Select], full: int) -> sa.Select:
    return sa.select(*(sa.select(sa.func.count()).select_from(
        query.order_by(None).with_only_columns(sa.literal_column("1"), maintain_column_froms=True)  # as pagination
        .limit(full + 1).subquery()).scalar_subquery() for query in queries))


def sections_for(user: User, today: date, only: str | None = None, *, expanded: str | None = None) -> list[Filled]:
    """The sections ``user`` sees today (or just the one named ``only``), loaded, in order; list
    sections to ``PREVIEW`` rows, the one named ``expanded`` to ``FULL``."""
    chosen = sorted((s for s in _SECTIONS.values() if s.applies(user) and only in (None, s.key)),
                    key=lambda s: s.order)
    badges = _badges([s for s in chosen if s.counted is not None], user, today)
    filled = []
    for section in chosen:
        if section.counted is None:
            data = section.load(user, today)
            count = section.count(data)
            filled.append(Filled(section, data, count, count))
            continue
        full = section.key == expanded
        limit = FULL if full else PREVIEW
        data = section.load(user, today, limit) if badges[section.key] else []  # nothing counted, nothing to load
        filled.append(Filled(section, data, max(badges[section.key], len(data)), len(data), full))
    return filled


def _badges(sections: list[Section], user: User, today: date) -> dict[str, int]:
    """Each list section's rows (its queries' counts summed), all counted by one statement."""
    badges = dict.fromkeys((s.key for s in sections), 0)
    if not sections:
        return badges
    owners, statement = _badge_statement(Viewer.of(user), today, tuple(badges), FULL)
    for key, number in zip(owners, db.session.execute(statement).one()):
        badges[key] += number
    return badges


@functools.lru_cache(maxsize=512)
def _badge_statement(viewer: Viewer, today: date, keys: tuple[str, ...],
                     full: int) -> tuple[tuple[str, ...], sa.Select]:
    """The sections' count statement and, per column, the section it counts: built once per user,
    day and set of sections (SQLAlchemy then finds its SQL by a key it computes once too)."""
    owners, queries = [], []
    for key in keys:
        counted = _SECTIONS[key].counted(viewer, today)
        for query in (counted,) if isinstance(counted, sa.Select) else counted:
            owners.append(key)
            queries.append(query)
    return tuple(owners), _capped_counts(queries, full)
