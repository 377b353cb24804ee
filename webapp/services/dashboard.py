"""«Мой день»: sections that each area contributes (the meeting agenda has its own seam, `services.agenda`).

An area registers its sections next to its operations; the dashboard draws whichever apply to the
user, in order, each with its title, count and macro, without knowing the areas. A section refreshes
itself when one of its ``refresh_on`` events is triggered by a save elsewhere on the page.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from webapp.models import User


@dataclass(frozen=True)
class Section:
    key: str                                   # its id in the page and in ``?section=``
    title: str
    order: int
    applies: Callable[[User], bool]
    load: Callable[[User, date], Any]          # the data the macro draws
    count: Callable[[Any], int]
    macro: str                                 # «area.macro_name» in templates/_macros/
    refresh_on: str = ""                       # client events that reload the section
    empty: str = ""                            # shown when the count is 0


@dataclass
class Filled:
    """A section with its data, for one user and one day."""

    section: Section
    data: Any
    count: int
    macro: Any = None  # the section's macro, resolved by the page


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    _SECTIONS[section.key] = section


def sections_for(user: User, today: date, only: str | None = None) -> list[Filled]:
    """The sections ``user`` sees today (or just the one named ``only``), loaded, in order."""
    chosen = sorted((s for s in _SECTIONS.values() if s.applies(user) and only in (None, s.key)),
                    key=lambda s: s.order)
    filled = []
    for section in chosen:
        data = section.load(user, today)
        filled.append(Filled(section, data, section.count(data)))
    return filled
