"""What every form shares: refusal of control characters, Russian-format numbers and money,
validators for requisites, the version field that guards against stale saves, and ``submit``,
the one way a route saves a form."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (Field, HiddenField, PasswordField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation, ValidationError

from webapp import requisites
from webapp.extensions import db
from webapp.services import PermissionDenied, ServiceError, StaleVersion

# C0 controls and DEL, except tab/newline/carriage return; NUL breaks PostgreSQL and documents.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def strip_value(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form: strips text, refuses control characters, keeps its CSRF token."""

    class Meta:
        locales = ["ru_RU", "ru"]

        def get_translations(self, form):
            # WTForms' own Russian messages («Значение не должно содержать более 200 символов»):
            # Flask-WTF would look for Flask-Babel, which we do not use, and fall back to English.
            return DefaultMeta.get_translations(self, form)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field, (StringField, TextAreaField)) and isinstance(field.data, str):
                pattern = _CONTROL if isinstance(field, TextAreaField) else _CONTROL_SINGLE_LINE
                if pattern.search(field.data):
                    field.errors = [*field.errors, "Текст содержит недопустимые управляющие символы."]
                    ok = False
        return ok

    def first_error(self) -> str | None:
        for field in self:
            if field.errors:
                return f"{field.label.text}: {field.errors[0]}"
        return None


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class VersionField(HiddenField):
    """The version of the record the form was drawn from."""

    def __init__(self, **kwargs):
        super().__init__("Версия", **kwargs)

    def process_formdata(self, valuelist):
        # A submitted form that lacks its version must not inherit the record's own (``obj=``):
        # that would skip the stale check; None makes ``check_version`` refuse the save.
        self.data = valuelist[0] if valuelist else None


class MoneyField(StringField):
    """Accepts «1 234,50», «1234.5», «1 234,50 ₽»; yields a Decimal with two places."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0]
        self.raw = raw
        text = re.sub(r"[\s\u00a0\u202f₽]|руб\.?", "", raw or "").replace(",", ".")
        if text == "":
            self.data = None
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError("Введите число, например 1 234,50.") from None
        if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
            self.data = None
            raise ValueError("Слишком большое число.")
        self.data = value.quantize(Decimal(1).scaleb(-self.places))

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # «not a number» says it all; no range message on top

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        from webapp.formatting import number
        return number(self.data, self.places).replace("\u00a0", " ")


class Requisite:
    """WTForms validator around a ``requisites.check_*`` function; strips spaces first."""

    def __init__(self, check, other: str | None = None):
        self.check = check
        self.other = other  # a field the check needs (БИК for accounts)

    def __call__(self, form, field: Field):
        field.data = _compact(field.data)
        args = (field.data, _compact(getattr(form, self.other).data)) if self.other else (field.data,)
        if message := self.check(*args):
            raise ValidationError(message)


def _compact(value: str | None) -> str:
    """«7707 083 893» → «7707083893»: people paste requisites with spaces and dashes."""
    return re.sub(r"[\s\u00a0-]", "", value or "").upper()


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
    result: Any = None  # what ``save`` returned (the created record)


_NOT_DATA = (HiddenField, SubmitField, PasswordField, CSRFTokenField)


def submit(form: BaseForm, save: Callable[[], Any]) -> Outcome:
    """Validate ``form``, run ``save`` (a service call) and commit; or explain why not.

    422 keeps the user's input with messages; 409 shows what someone else saved next to what the
    user typed, with the form re-armed at the current version so a second save overwrites.
    """
    if not form.is_submitted():
        return Outcome(False)
    if not form.validate():
        return Outcome(False, 422)
    try:
        result = save()
        db.session.commit()
    except StaleVersion as error:
        db.session.rollback()
        rows = conflict_rows(form, error.record)
        form.version.data = error.record.version
        return Outcome(False, 409, rows)
    except PermissionDenied:
        db.session.rollback()
        raise
    except ServiceError as error:
        db.session.rollback()
        target = getattr(form, error.field, None) if error.field else None
        if target is not None and not isinstance(target, HiddenField):
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return Outcome(False, error.status)
    return Outcome(True, result=result)


def conflict_rows(form: BaseForm, record: Any) -> list[ConflictRow]:
    """The fields where the stored record and the user's input differ."""
    rows = []
    for fld in form:
        # short_name: a prefixed form (one contact's row) names its fields «contact7-phone»
        if isinstance(fld, _NOT_DATA) or not hasattr(record, fld.short_name):
            continue
        theirs, yours = getattr(record, fld.short_name), fld.data
        if isinstance(fld, SelectField):
            # The record holds an enum (or an id), the form the option's value: compare the values,
            # show the options' labels (else every select differed, as «НДС сверху» vs «on_top»).
            labels = {str(choice.value): choice.label for choice in fld.iter_choices()}
            stored = "" if theirs is None else str(getattr(theirs, "value", theirs))
            typed = "" if yours is None else str(yours)
            if stored != typed:
                rows.append(ConflictRow(str(fld.label.text), labels.get(stored, _display(theirs)),
                                        labels.get(typed, _display(yours))))
        elif _display(theirs) != _display(yours):
            rows.append(ConflictRow(str(fld.label.text), _display(theirs), _display(yours)))
    return rows


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, Decimal):
        from webapp.formatting import number
        return number(value)
    if hasattr(value, "label"):
        return value.label
    return str(value)


_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")


class EmailAddress:
    """An e-mail address, intranet domains included (``@company.local``: WTForms' Email refuses
    reserved names like .local, which many companies' internal mail uses)."""

    def __call__(self, form, field: Field):
        field.data = (field.data or "").strip()
        if field.data and not _EMAIL.match(field.data):
            raise ValidationError("Неверный адрес e-mail.")
