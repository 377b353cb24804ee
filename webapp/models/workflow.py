"""The status-machine convention: a stateful model declares its states, moves and guards once.

``Regulation.workflow = Workflow(RegulationStatus, [Move(...), ...])``: each move names the states it
leaves, the state it reaches, its button, its audit action and, optionally, a guard (a pure check of
the record that answers why not) and the fields the user gives with it (a signing date). The service
``services.workflow`` offers the allowed moves to a user and performs one; the macro
``workflow.buttons`` draws them; nothing about a model's states is written in a template or a route.
"""

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class MoveField:
    """A value the user gives with a move (e.g. the signing date)."""

    name: str
    label: str
    kind: str = "date"
    required: bool = False
    default: Callable[[Any], Any] | None = None  # record → the value offered
    choices: tuple[tuple[str, str], ...] = ()  # kind "select": (value, label) pairs


@dataclass(frozen=True)
class Move:
    sources: tuple[enum.Enum, ...]
    target: enum.Enum
    label: str                       # the button
    action: str                      # the audit action
    action_label: str                # the audit action in Russian
    done: str = ""                   # what the user is told afterwards
    style: str = "outline-primary"
    confirm: str | None = None
    guard: Callable[[Any], str | None] | None = None  # record → why not (None: allowed)
    fields: tuple[MoveField, ...] = field(default_factory=tuple)

    def refusal(self, record: Any) -> str | None:
        return self.guard(record) if self.guard else None


class Workflow:
    """The states of one model and the moves between them."""

    def __init__(self, states: type[enum.Enum], moves: Iterable[Move], *, open_states: Iterable[enum.Enum] = (),
                 checks_version: bool = False):
        self.states = states
        self.moves = list(moves)
        self.open_states = tuple(open_states)  # «not finished yet» (e.g. a draft or an agreed edition)
        # A move of a record whose content someone changed since it was shown must be confirmed
        # again (signing a text you have not seen); otherwise only a changed status conflicts.
        self.checks_version = checks_version

    def moves_from(self, state: enum.Enum) -> list[Move]:
        return [move for move in self.moves if state in move.sources]

    def find(self, state: enum.Enum, target: enum.Enum) -> Move | None:
        return next((m for m in self.moves_from(state) if m.target == target), None)

    def add(self, move: Move) -> None:
        """Declare one more move (an area's extension, or a test's)."""
        self.moves.append(move)

    def remove(self, move: Move) -> None:
        self.moves.remove(move)

    def action_labels(self) -> dict[str, str]:
        return {move.action: move.action_label for move in self.moves}


def today_default(record: Any) -> date:
    from webapp.formatting import today
    return today()
