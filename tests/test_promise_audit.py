"""The audit promise, proven from the models' own declarations: for every model with the ``Audited``
mixin, an insert, an update of each kind of labelled column and a delete each leave an ``AuditEvent``
with the right old → new values.

The models come from the SQLAlchemy registry, so a model of a new area (meetings, budgets, acts) is
covered the day it is declared. Its rows are built from its columns by a small factory (a required
column gets a value of its type; a reference gets a row of the table it points to — the sample
records', or one built the same way). A model the factory cannot build fails with what to add to
``BUILD``.
"""

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.models.audit import Audited, _jsonable, entity

# Models the factory cannot build from their columns alone: model name → the values to build it
# with (given the app context, with the sample records stored), laid over the factory's own.
def _month_of_a_block_without_months() -> dict[str, Any]:
    """A block's months are made with it (all twelve): the walk's month needs a block that has none."""
    from webapp.models import Budget, BudgetBlock

    block = BudgetBlock(budget_id=db.session.scalar(sa.select(Budget.id).limit(1)), name="Блок проверки аудита")
    db.session.add(block)
    db.session.flush()
    return {"block_id": block.id, "month": 1}


BUILD: dict[str, Callable[[], dict[str, Any]]] = {
    "BudgetMonth": _month_of_a_block_without_months,
    "Attendee": lambda: {"user_id": None},  # a contact or a colleague, never both
}

# Columns a database check keeps in a range the factory's values leave: «Model.column» → the new
# value given the old.
UPDATE: dict[str, Callable[[Any], Any]] = {"BudgetMonth.month": lambda old: old % 12 + 1}

# Models that are not audited, and why: logs written once, never edited.
NOT_AUDITED = {
    "AuditEvent": "the audit log itself",
    "OutboundMail": "the log of mail sent: written once, shown in the client's timeline",
    "CacheToken": "not data: a new token only tells the workers to reload their copies",
    "BudgetAlert": "derived: raised and cleared by the block's figures, whose every change is audited",
    "ActCounter": "the year's last act number: moved only by issuing an act, which is audited",
    "MinutesCounter": "the year's last minutes number: moved only by finishing a meeting, which is audited",
    "ItemWord": "derived: the words of an item's title, request and spec, recomputed with each audited edit",
}

AUDITED = sorted((m.class_ for m in db.Model.registry.mappers
                  if issubclass(m.class_, Audited) and "__tablename__" in m.class_.__dict__),
                 key=lambda model: model.__name__)
MOMENT = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)


def _model_of(table: sa.Table) -> type | None:
    return next((m.class_ for m in db.Model.registry.mappers if m.local_table is table), None)


def _labels(model: type) -> dict[str, str]:
    """The Russian names the audit log gives the model's fields (its own and the common ones)."""
    return entity(model.__tablename__).labels


def _kind(column: sa.Column) -> str:
    """The kinds of value a column holds, for «an update of each kind»."""
    if column.foreign_keys:
        return "reference"
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl if isinstance(kind.impl, sa.types.TypeEngine) else kind.impl()
    for name, types in (("enum", sa.Enum), ("text", sa.String), ("boolean", sa.Boolean), ("json", sa.JSON),
                        ("datetime", sa.DateTime), ("date", sa.Date), ("time", sa.Time), ("decimal", sa.Numeric),
                        ("integer", sa.Integer)):
        if isinstance(kind, types):
            return name
    return type(kind).__name__


class Factory:
    """Rows of any model, built from its columns."""

    def __init__(self):
        self.numbers = count(1)

    def value(self, column: sa.Column, *, other_than: Any = None) -> Any:
        """A value of the column's type (different from ``other_than``)."""
        n = next(self.numbers)
        kind = _kind(column)
        if kind == "reference":
            (key,) = column.foreign_keys
            target = _model_of(key.column.table)
            existing = db.session.scalars(sa.select(key.column).where(key.column != other_than)
                                          .order_by(key.column)).first() if other_than is None else None
            return existing if existing is not None else sa.inspect(self.make(target)).identity[0]
        if kind == "enum":
            members = [m for m in column.type.enum_class if m != other_than]
            return members[n % len(members)]
        if kind == "text":
            text = f"Проверка {n}"
            return text[-column.type.length:] if column.type.length else text
        if kind == "boolean":
            return not other_than if other_than is not None else True
        if kind == "json":
            return [{"проверка": n}]
        if kind == "datetime":
            return (other_than or MOMENT) + timedelta(hours=n)
        if kind == "date":
            return (other_than or MOMENT.date()) + timedelta(days=n)
        if kind == "time":
            return time(9 + n % 10, n % 60) if other_than != time(9 + n % 10, n % 60) else time(8, 0)
        if kind == "decimal":
            return (other_than or Decimal("12.50")) + n
        if kind == "integer":
            return (other_than or 0) + n
        raise TypeError(f"no value for a column of type {column.type!r}")

    def columns(self, model: type) -> list[sa.Column]:
        """The columns a row is built with: the required ones without a default, and every labelled one."""
        chosen = []
        for column in model.__table__.columns:
            if column.primary_key or column.key == "version":
                continue
            required = not column.nullable and column.default is None and column.server_default is None
            if required or column.key in _labels(model):
                chosen.append(column)
        return chosen

    def make(self, model: type, given: dict[str, Any] | None = None) -> Any:
        """A new stored row (flushed); ``given`` receives the values it was built with."""
        values = {column.key: self.value(column) for column in self.columns(model)}
        values.update(BUILD.get(model.__name__, dict)())
        record = model(**values)
        db.session.add(record)
        db.session.flush()
        if given is not None:
            given.update(values)
        return record


def _events(model: type, ident: int, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == model.__tablename__, AuditEvent.entity_id == ident,
        AuditEvent.action == action).order_by(AuditEvent.id)))


def _pair(model: type, key: str, old: Any, new: Any, *, created: bool = False) -> list:
    """What the event says of one field: old → new in their JSON form; a secret only that it changed."""
    if key in model.__audit_secret__:
        return [None if created else "***", "***"]
    return [_jsonable(old), _jsonable(new)]


def _logged_columns(model: type) -> list[sa.Column]:
    return [c for c in model.__table__.columns if c.key not in model.__audit_exclude__]


@pytest.mark.parametrize("model", AUDITED, ids=lambda model: model.__name__)
def test_every_change_of_an_audited_model_leaves_its_event(app, sample_records, ctx, model):
    """Do an insert, an update of each kind of labelled column and a delete of this model each
    leave an event naming the record, with exactly the changed fields, old → new?"""
    factory = Factory()
    given: dict[str, Any] = {}
    try:
        record = factory.make(model, given)
        db.session.commit()
    except Exception as error:  # the message says what to do, the error why
        pytest.fail(f"the audit walk could not build a {model.__name__} from its columns ({error!r}); add "
                    f"BUILD[{model.__name__!r}] = lambda: {{column: value, …}} in tests/test_promise_audit.py")
    ident = sa.inspect(record).identity[0]
    logged = {c.key for c in _logged_columns(model)}

    (created,) = _events(model, ident, "create")
    assert created.changes == {key: _pair(model, key, None, value, created=True)
                               for key, value in given.items() if value is not None and key in logged}
    assert created.entity_label  # the record's own words (its relationships may not be loaded at a bare insert)

    labelled = [c for c in _logged_columns(model) if c.key in _labels(model) and not c.primary_key]
    kinds = {}
    for column in labelled:
        kinds.setdefault(_kind(column), column)
    assert kinds, f"{model.__name__} labels no column it logs"
    for kind, column in kinds.items():
        record = db.session.get(model, ident)
        old = getattr(record, column.key)
        override = UPDATE.get(f"{model.__name__}.{column.key}")
        new = override(old) if override else factory.value(column, other_than=old)
        setattr(record, column.key, new)
        db.session.commit()
        updated = _events(model, ident, "update")
        assert updated, f"changing {model.__name__}.{column.key} ({kind}) left no «update» event"
        assert updated[-1].changes == {column.key: _pair(model, column.key, old, new)}, \
            f"{model.__name__}.{column.key} ({kind})"

    record = db.session.get(model, ident)
    last = {c.key: getattr(record, c.key) for c in _logged_columns(model)}
    db.session.delete(record)
    db.session.commit()
    (deleted,) = _events(model, ident, "delete")
    assert deleted.changes == {key: [_jsonable(value), None] if key not in model.__audit_secret__
                               else ["***", "***"] for key, value in last.items() if value is not None}


def test_every_model_is_audited_or_a_log():
    """Is every model audited (so the walk above proves it), save the logs that are records of
    their own? A model that forgot the mixin would otherwise escape the walk unnoticed."""
    unaudited = sorted(m.class_.__name__ for m in db.Model.registry.mappers
                       if not issubclass(m.class_, Audited) and m.class_.__name__ not in NOT_AUDITED)
    assert not unaudited, (f"{unaudited}: give each the Audited mixin (webapp/models/audit.py) with "
                           f"__audit_name__ and __audit_labels__ — or, for a log that is never edited, a "
                           f"line in NOT_AUDITED of tests/test_promise_audit.py with the reason")
    assert NOT_AUDITED.keys() <= {m.class_.__name__ for m in db.Model.registry.mappers}
