"""What every form shares: refusal of control characters, Russian-format numbers and money,
validators for requisites, and the version field that guards against lost updates (the saving
itself is ``webapp.saving``)."""

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (Field, HiddenField, PasswordField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from webapp import requisites

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
    """The version of the record the form was drawn from, and (``shown``) the fingerprints of the
    values it showed: ``saving.arm`` sets both, ``saving.edit_of`` reads them back."""

    def __init__(self, **kwargs):
        super().__init__("Версия", **kwargs)
        self.shown = ""

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            self.shown = formdata.get(self.shown_name, "")

    def process_formdata(self, valuelist):
        # A submitted form that lacks its version must not inherit the record's own (``obj=``):
        # that would skip the stale check; None makes the save refuse.
        self.data = valuelist[0] if valuelist else None

    @property
    def shown_name(self) -> str:
        return f"{self.name}_shown"

    def __call__(self, **kwargs):
        # No id: a page holds several inline forms at once, each with its version.
        kwargs.setdefault("id", False)
        shown = Markup('<input type="hidden" name="{}" value="{}">').format(self.shown_name, self.shown)
        return super().__call__(**kwargs) + (shown if self.shown else "")


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


_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")


class EmailAddress:
    """An e-mail address, intranet domains included (``@company.local``: WTForms' Email refuses
    reserved names like .local, which many companies' internal mail uses)."""

    def __call__(self, form, field: Field):
        field.data = (field.data or "").strip()
        if field.data and not _EMAIL.match(field.data):
            raise ValidationError("Неверный адрес e-mail.")
