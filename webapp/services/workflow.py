"""Status changes of every stateful record: which moves a user may make, and making one.

Each area registers, next to its other operations, who may move its records and what a move does
besides changing the status (signing supersedes the edition in force, …). The moves themselves —
states, labels, guards, audit actions — are declared on the model (``models.workflow``).
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webapp.extensions import db
from webapp.models import User
from webapp.models.audit import tag_action
from webapp.models.workflow import Move
from webapp.services import ServiceError, StaleVersion
from webapp.services.access import require

Effect = Callable[[Any, User, dict[str, Any]], None]
Guard = Callable[[Any], str | None]


@dataclass
class Rules:
    can_change: Callable[[User, Any], bool]
    denied: str
    before: dict[enum.Enum, Effect] = field(default_factory=dict)  # run before the status changes
    after: dict[enum.Enum, Effect] = field(default_factory=dict)   # run after (the status is new)
    guards: dict[enum.Enum, Guard] = field(default_factory=dict)   # record → why not reach this state


_RULES: dict[type, Rules] = {}


def register(model: type, *, can_change: Callable[[User, Any], bool], denied: str,
             before: dict[enum.Enum, Effect] | None = None, after: dict[enum.Enum, Effect] | None = None,
             guards: dict[enum.Enum, Guard] | None = None) -> None:
    """An area says who may move its records, what each move does besides the status, and which
    states need a check that reads more than the record (the terms in force, …): a guard of the
    service's, added to the model's own pure guard — shown on the button and enforced on the move."""
    _RULES[model] = Rules(can_change, denied, before or {}, after or {}, guards or {})


def _rules(record: Any) -> Rules:
    return _RULES[type(record)]


def refusal(record: Any, move: Move) -> str | None:
    """Why ``move`` is not possible now: the model's guard first, then the area's."""
    if reason := move.refusal(record):
        return reason
    guard = _rules(record).guards.get(move.target)
    return guard(record) if guard else None


@dataclass(frozen=True)
class MoveOption:
    """A move as offered to a user: allowed, or shown disabled with the reason."""

    move: Move
    refusal: str | None


def allowed_moves(record: Any, user: User) -> list[MoveOption]:
    """The buttons ``user`` sees on ``record`` (none if they may not change it)."""
    if not _rules(record).can_change(user, record):
        return []
    return [MoveOption(move, refusal(record, move)) for move in record.workflow.moves_from(record.status)]


class StatusConflict(StaleVersion):
    """Someone moved or changed the record since the user saw it: they decide again."""

    def __init__(self, record: Any, message: str):
        super().__init__(record)
        self.message = message


def change_status(record: Any, target: Any, *, acting: User, shown_status: str | None, version: Any = None,
                  values: dict[str, Any] | None = None) -> Move:
    """Move ``record`` to ``target``: checks the right, the state the user saw (and, where the
    workflow asks, the version), the move's guard and fields; runs the area's effects; audits.
    Returns the move made (its message says what happened)."""
    rules, workflow = _rules(record), record.workflow
    require(rules.can_change(acting, record), rules.denied)
    try:
        target = workflow.states(target)
    except ValueError:
        raise ServiceError("Неизвестное состояние.") from None
    current = record.status
    if shown_status is not None and shown_status != current.value:
        raise StatusConflict(record, f"Состояние уже изменил другой пользователь: сейчас «{current.label}».")
    if workflow.checks_version or shown_status is None:  # without the state seen, the version decides
        if version in (None, ""):
            raise ServiceError("Форма устарела: обновите страницу.", field="version")
        if str(version) != str(record.version):
            raise StatusConflict(record, "Запись изменили, пока вы её смотрели: проверьте изменения и "
                                         "подтвердите ещё раз.")
    move = workflow.find(current, target)
    if move is None:
        raise ServiceError(f"Из состояния «{current.label}» нельзя перейти в «{target.label}».")
    if reason := refusal(record, move):
        raise ServiceError(reason)
    values = values or {}
    for spec in move.fields:
        if spec.required and values.get(spec.name) in (None, ""):
            raise ServiceError(f"Укажите: {spec.label.lower()}.", field=spec.name)
    if effect := rules.before.get(target):
        effect(record, acting, values)
    record.status = target
    tag_action(record, move.action)
    db.session.flush()
    if effect := rules.after.get(target):
        effect(record, acting, values)
    return move
