"""Saving: the one write path of every form, with field-level optimistic concurrency.

The promise (DESIGN.md «Saving»): no save ever loses someone else's change, and edits of different
fields never conflict. A form carries the version of the record it was drawn from and a fingerprint
of each value it showed (``arm``). On save (``apply_edit``):

- the user's changes are the fields whose submitted value differs from what the form showed;
- someone else's changes are the fields whose stored value differs from what the form showed;
- only the user's changes are written; where both changed one field to different values, nothing is
  written and the form comes back (409) showing both values, re-armed at the stored state with the
  untouched fields refreshed, so a deliberate second save wins and still writes only the user's own
  fields.

Deletes and status changes check the version the same way (``check_delete``, ``services.workflow``).
``submit`` runs a form through validation, the service and the commit, and says what became of it.
A unique index that refuses a row (two saves raced past the service's own check) answers with the
service's words: ``unique_rule`` names them, ``unique_refusal`` finds them.
"""

import base64
import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import FieldList, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.csrf.core import CSRFTokenField

from webapp.extensions import db
from webapp.services import PermissionDenied, ServiceError, StaleVersion

# --- fingerprints of shown values ---------------------------------------------------------------


def canonical(value: Any) -> str:
    """One text per meaning: «» and None alike, 1500 and 1500.00 alike, CR LF and LF alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=canonical)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def fingerprint(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:16]


# ``json.dumps`` with any option builds a new encoder per call; a form draws one of these per field.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def encode_shown(values: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(_COMPACT.encode(values).encode()).decode()


def decode_shown(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


# --- the edit and the merge ---------------------------------------------------------------------


@dataclass
class Edit:
    """What a form submitted: its values, the fingerprints of what it showed, its version."""

    values: dict[str, Any]
    version: Any
    shown: dict[str, str] | None = None


class FieldConflict(StaleVersion):
    """Someone else changed, since the form was drawn, a field this user changed too."""

    def __init__(self, record: Any, fields: list[str]):
        super().__init__(record)
        self.fields = fields


def _version(edit: Edit) -> int:
    try:
        return int(edit.version)
    except (TypeError, ValueError):
        raise ServiceError("Форма устарела: обновите страницу.", field="version") from None


def merge(stored: dict[str, Any], values: dict[str, Any], shown: dict[str, str] | None, *,
          stale: bool) -> dict[str, Any]:
    """The fields of ``values`` to write over ``stored``; raises ``MergeConflict`` with the fields
    that both sides changed differently.

    Pure, so the property tests drive it directly. A field without a fingerprint (an old form, a
    script) counts as having shown the stored value at the form's version: when the form is
    ``stale`` (older than the record), such a field conflicts wherever it would change the value.
    """
    mine, conflicts = {}, []
    for key, value in values.items():
        theirs = stored[key]
        if shown is None or key not in shown:
            changed_by_me, changed_since = canonical(value) != canonical(theirs), stale
        else:
            changed_by_me, changed_since = fingerprint(value) != shown[key], fingerprint(theirs) != shown[key]
        if not changed_by_me:
            continue
        if changed_since and canonical(theirs) != canonical(value):
            conflicts.append(key)
        mine[key] = value
    if conflicts:
        raise MergeConflict(conflicts)
    return mine


class MergeConflict(Exception):
    def __init__(self, fields: list[str]):
        super().__init__(fields)
        self.fields = fields


def changes(record: Any, edit: Edit, allowed: Iterable[str]) -> dict[str, Any]:
    """The fields of ``edit`` (among ``allowed``) that this user changed, to be written onto
    ``record``; refuses (409, ``FieldConflict``) where someone else changed one of them differently.
    A service checks these values, then ``write``s them."""
    submitted = _version(edit)
    allowed = set(allowed)
    values = {k: v for k, v in edit.values.items() if k in allowed}
    stored = {k: getattr(record, k) for k in values}
    try:
        return merge(stored, values, edit.shown, stale=submitted != record.version)
    except MergeConflict as conflicts:
        raise FieldConflict(record, conflicts.fields) from None


def write(record: Any, values: dict[str, Any]) -> list[str]:
    """Set ``values`` on ``record``; the names of the fields that really changed (for the audit
    and the derived figures)."""
    changed = []
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed.append(key)
    return changed


def apply_edit(record: Any, edit: Edit, allowed: Iterable[str]) -> list[str]:
    """``changes`` then ``write``, for a service with nothing to check in between."""
    return write(record, changes(record, edit, allowed))


class DeleteConflict(StaleVersion):
    """The record changed since it was shown: deleting it is asked again."""

    def __init__(self, record: Any):
        super().__init__(record)
        self.message = "Запись изменили, пока вы на неё смотрели: проверьте и подтвердите удаление ещё раз."


def check_delete(record: Any, version: Any) -> None:
    """A delete (or any whole-record action) made against an older version is asked again."""
    if _version(Edit({}, version)) != record.version:
        raise DeleteConflict(record)


# --- unique rules -------------------------------------------------------------------------------

_UNIQUE_RULES: dict[str, tuple[str, str | None]] = {}


def unique_rule(constraint: str, message: str, *, field: str | None = None) -> None:
    """The refusal (``message`` on ``field``) that the unique index or constraint named ``constraint``
    answers with: the service's own check, made again by the database when two saves race."""
    _UNIQUE_RULES[constraint] = (message, field)


def unique_refusal(error: IntegrityError) -> ServiceError | None:
    """The ``ServiceError`` a violated unique rule stands for, or None (another integrity error is a
    bug, and stays one)."""
    rule = _UNIQUE_RULES.get(_violated_constraint(error) or "")
    return ServiceError(rule[0], field=rule[1]) if rule else None


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '(?P<index>[^']+)'|(?P<columns>.+))")


def _violated_constraint(error: IntegrityError) -> str | None:
    """The name of the violated constraint: PostgreSQL says it; SQLite names an index on
    expressions, and otherwise the columns, which the metadata turns back into the name."""
    if diag := getattr(error.orig, "diag", None):
        return diag.constraint_name
    found = _SQLITE_UNIQUE.match(str(error.orig))
    if found is None:
        return None
    if found["index"]:
        return found["index"]
    qualified = [name.strip().split(".", 1) for name in found["columns"].split(",")]
    table = db.metadata.tables.get(qualified[0][0])
    if table is None:
        return None
    columns = [column for _, column in qualified]
    rules = [*table.indexes, *(c for c in table.constraints if isinstance(c, sa.UniqueConstraint))]
    for rule in rules:
        if getattr(rule, "unique", True) and [c.name for c in rule.columns] == columns:
            return rule.name
    return None


# --- forms --------------------------------------------------------------------------------------

_NOT_DATA = (HiddenField, SubmitField, PasswordField, CSRFTokenField)


def arm(form: Any, record: Any) -> None:
    """Make ``form`` (drawn from ``record``) carry the record's version and what it shows."""
    form.version.data = record.version
    form.version.shown = encode_shown({key: fingerprint(getattr(record, key))
                                       for key in form.values() if hasattr(record, key)})


def edit_of(form: Any) -> Edit:
    """The ``Edit`` a submitted form makes: for a service's ``apply_edit``."""
    return Edit(form.values(), form.version.data, decode_shown(form.version.shown))


def row_edit(form: Any, record: Any, save: Callable[[Edit], Any], *, saved: Callable[[], Any],
             drawn: Callable[["Outcome"], Any]) -> Any:
    """One row's inline form (a contact, a stage), the same way on every list: opened, it is armed
    from ``record``; submitted, ``save(edit)`` (the service) runs through ``submit``. ``saved()``
    draws the row after a save; ``drawn(outcome)`` draws the form again — opened (200), refused
    (422) or conflicting (409, both values shown, re-armed)."""
    if not form.is_submitted():
        arm(form, record)
    outcome = submit(form, lambda: save(edit_of(form)))
    return saved() if outcome.saved else drawn(outcome)


@dataclass
class ConflictRow:
    label: str
    theirs: str
    yours: str


@dataclass
class Outcome:
    """What became of a submitted form: saved, or the status and conflict to show."""

    saved: bool
    status: int = 200
    conflict: list[ConflictRow] = field(default_factory=list)
    result: Any = None  # what the service returned (the created record)
    message: str | None = None


def submit(form: Any, save: Callable[[], Any], *, retries: int = 2) -> Outcome:
    """Validate ``form``, run ``save`` (a service call) and commit; or explain why not.

    422 keeps the user's input with messages; 409 shows what someone else saved next to what the
    user typed, with the form re-armed (see the module's docstring). Two saves of one record that
    race between reading and writing meet SQLAlchemy's version check: the loser's transaction is
    rolled back and its save run again on the fresh record, where the field-level merge decides.
    """
    if not form.is_submitted():
        return Outcome(False)
    if not form.validate():
        return Outcome(False, 422)
    for attempt in range(retries + 1):
        try:
            result = save()
            db.session.commit()
            return Outcome(True, result=result)
        except StaleDataError:
            db.session.rollback()
            if attempt == retries:
                form.form_errors.append(StaleVersion(None).message + " Сохраните ещё раз.")
                return Outcome(False, 409)
        except FieldConflict as error:
            db.session.rollback()
            return Outcome(False, 409, _rearm_after_conflict(form, error.record, error.fields),
                           message=error.message)
        except StaleVersion as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            return Outcome(False, 409, message=error.message)
        except PermissionDenied:
            db.session.rollback()
            raise
        except ServiceError as error:
            db.session.rollback()
            return _refused(form, error)
        except IntegrityError as error:
            db.session.rollback()
            if (refusal := unique_refusal(error)) is None:
                raise
            return _refused(form, refusal)
    raise AssertionError("unreachable")


def _refused(form: Any, error: ServiceError) -> Outcome:
    """The service's refusal, on its field or above the form."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and not isinstance(target, HiddenField):
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)
    return Outcome(False, error.status, message=error.message)


def _fields_by_key(form: Any) -> dict[str, Any]:
    return {f.short_name: f for f in form if not isinstance(f, _NOT_DATA)}


def _rearm_after_conflict(form: Any, record: Any, conflicts: list[str]) -> list[ConflictRow]:
    """The conflicting fields, theirs and yours; the form moved on to the stored state, with the
    fields the user did not touch showing the stored values (so a second save keeps them)."""
    shown = decode_shown(form.version.shown)
    values = form.values()
    fields = _fields_by_key(form)
    rows = [ConflictRow(str(fields[key].label.text) if key in fields else key,
                        display(getattr(record, key), fields.get(key)), display(values[key], fields.get(key)))
            for key in conflicts]
    for key, value in values.items():
        touched = shown is None or key not in shown or fingerprint(value) != shown[key]
        if not touched and key in fields and hasattr(record, key):
            _show_value(fields[key], getattr(record, key))
    arm(form, record)
    return rows


def _show_value(fld: Any, value: Any) -> None:
    """Put a stored value into a field as if the form had been drawn from it."""
    if isinstance(fld, FieldList):
        while len(fld.entries):
            fld.pop_entry()
        for row in value or []:
            fld.append_entry(row)
        return
    if isinstance(value, enum.Enum):
        value = value.value
    fld.process(None, data=value)
    fld.raw_data = None


def display(value: Any, fld: Any = None) -> str:
    """A value as the conflict table shows it (a select's label, «да», «1 234,50»)."""
    if isinstance(fld, SelectField):
        labels = {str(choice.value): choice.label for choice in fld.iter_choices()}
        key = "" if value is None else str(getattr(value, "value", value))
        if key in labels:
            return labels[key]
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, Decimal):
        from webapp.formatting import number
        return number(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        from webapp.formatting import long_date
        return long_date(value)
    if hasattr(value, "label"):
        return value.label
    if isinstance(value, list):
        return "; ".join(" · ".join(str(v) for v in row.values() if v) if isinstance(row, dict) else str(row)
                         for row in value)
    return str(value)
