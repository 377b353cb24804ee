"""The meeting agenda that builds itself: sections that each area contributes.

A planning meeting opens with what happened since the last one — new requests, estimates waiting for
the client, overdue stages, unpaid acts, budget alerts. Each area registers an ``AgendaSection`` next
to its operations (as it registers its «Мой день» section in ``services.dashboard``); the meetings
area asks ``proposals`` for the points and never imports the areas. A point may link a backlog item.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from webapp.models import Client


@dataclass(frozen=True)
class Proposal:
    """One agenda point an area proposes; ``key`` is stable, so a point already on the agenda is not
    proposed twice («backlog-new:42»)."""

    key: str
    title: str
    detail: str = ""
    backlog_item_id: int | None = None


@dataclass(frozen=True)
class AgendaSection:
    key: str
    title: str  # the heading the point is grouped under: «Новые заявки»
    order: int
    # (client, the previous meeting's start or None, the meeting's day) → the points to propose
    load: Callable[[Client, datetime | None, date], list[Proposal]]


@dataclass
class Proposed:
    section: AgendaSection
    points: list[Proposal]


_SECTIONS: dict[str, AgendaSection] = {}


def register(section: AgendaSection) -> None:
    _SECTIONS[section.key] = section


def proposals(client: Client, since: datetime | None, day: date) -> list[Proposed]:
    """Every registered section's points for ``client``'s meeting on ``day``, in order; empty sections
    are left out (no empty heading is ever printed)."""
    filled = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        points = section.load(client, since, day)
        if points:
            filled.append(Proposed(section, points))
    return filled
