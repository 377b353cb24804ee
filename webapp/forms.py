"""What every form shares: refusal of control characters, Russian-format numbers and money,
validators for requisites, the version field that guards against stale saves, and ``submit``,
the one way a route saves a form."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import wtforms
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
# Bidirectional controls: one «\u202e» in a client's name reverses what follows it on every page,
# in documents and in file names («Договор\u202excod.exe» reads «Договорexe.docx»).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_value(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form: strips text, refuses control characters, drops bidi controls from one-line text,
    keeps its CSRF token."""

    class Meta:
        locales = ["ru_RU", "ru"]

        def get_translations(self, form):
            # WTForms' own Russian messages («Значение не должно содержать более 200 символов»):
            # Flask-WTF would look for Flask-Babel, which we do not use, and fall back to English.
            return DefaultMeta.get_translations(self, form)

    def validate(self, extra_validators=None) -> bool:
        for fld in self:
            if _single_line(fld) and isinstance(fld.data, str):
                fld.data = _BIDI.sub("", fld.data)
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


def _single_line(fld: Field) -> bool:
    """A one-line text a person types: a name, a position, a phone (not a password or a token)."""
    return isinstance(fld, StringField) and not isinstance(fld, (TextAreaField, PasswordField, HiddenField))


def ascii_digits(text: str) -> str:
    """«٣», «७» or «７» → «3», «7», «7»: a decimal digit of any script as its ASCII digit, so that
    numbers, phones and requisites are stored, linked (``tel:``) and searched in one form."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch
                   for ch in text)


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


# A plain decimal once spaces, «₽» and the comma are dealt with: no exponents, «NaN» or «1_000».
_DECIMAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)", re.ASCII)


class MoneyField(StringField):
    """A Russian-format decimal (money, hours): accepts «1 234,50», «1234.5», «1 234,50 ₽»; yields
    a Decimal with ``places`` places. Digits of other scripts are read as ASCII ones."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = re.sub(r"[\s\u00a0\u202f₽]|руб\.?", "", ascii_digits(valuelist[0] or "")).replace(",", ".")
        if text == "":
            self.data = None
            return
        if not _DECIMAL.fullmatch(text):
            self.data = None
            raise ValueError("Введите число, например 1 234,50.")
        value = Decimal(text)
        if abs(value) >= Decimal(10) ** 12:
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


class IntegerField(wtforms.IntegerField):
    """A whole number in digits 0–9 (those of other scripts are read as such). WTForms' own field
    hands the text to ``int()``, which also takes «٣» and «1_000» and keeps them as typed."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = ascii_digits(valuelist[0] or "").strip()
        self.data = None
        if text == "":
            return  # Optional / InputRequired say what an empty field means
        if not re.fullmatch(r"[-+]?[0-9]+", text):
            raise ValueError("Введите целое число, например 5.")
        if len(text) > 15:
            raise ValueError("Слишком большое число.")
        self.data = int(text)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # no range message under «not a number»


class PhoneField(StringField):
    """A phone as people write it («+7 (912) 345-67-89 доб. 12»): 5 to 15 digits 0–9. Digits of
    other scripts become ASCII; other number signs («²», «①») are refused, since the number goes
    into a ``tel:`` link and the search by digits."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = ascii_digits(self.data)

    def post_validate(self, form, validation_stopped):
        if validation_stopped or not self.data:
            return
        if any(ch.isnumeric() and not ch.isascii() for ch in self.data):
            raise ValidationError("Телефон: только цифры 0–9, например +7 (912) 345-67-89.")
        if not 5 <= sum(ch.isdigit() for ch in self.data) <= 15:
            raise ValidationError("Телефон: от 5 до 15 цифр, например +7 (912) 345-67-89.")


DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2100, 12, 31)


class _SaneDate:
    """A date a person could mean, 1900–2100, also offered as the input's ``min`` / ``max``:
    «9999-12-31» or «0001-01-01» (a typo or a probe) would be stored, break date arithmetic and be
    printed in documents."""

    bounds: tuple[str, str]

    def __init__(self, label=None, validators=None, **kwargs):
        low, high = self.bounds
        kwargs["render_kw"] = {"min": low, "max": high, **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata([ascii_digits(value or "") for value in valuelist])

    def post_validate(self, form, validation_stopped):
        day = self.data.date() if isinstance(self.data, datetime) else self.data
        if not validation_stopped and day is not None and not DATE_MIN <= day <= DATE_MAX:
            raise ValidationError("Укажите дату между 01.01.1900 и 31.12.2100.")


class DateField(_SaneDate, wtforms.DateField):
    bounds = (DATE_MIN.isoformat(), DATE_MAX.isoformat())


class DateTimeLocalField(_SaneDate, wtforms.DateTimeLocalField):
    bounds = (DATE_MIN.isoformat() + "T00:00", DATE_MAX.isoformat() + "T23:59")


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
    """«7707 083 893» → «7707083893»: people paste requisites with spaces and dashes (and, from
    some PDFs, with full-width digits)."""
    return re.sub(r"[\s\u00a0-]", "", ascii_digits(value or "")).upper()


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
        if isinstance(fld, _NOT_DATA) or not hasattr(record, fld.name):
            continue
        theirs, yours = getattr(record, fld.name), fld.data
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
