"""What every form shares: refusal of control characters, Russian-format numbers and money,
validators for requisites, and the version field that guards against lost updates (the saving
itself is ``webapp.saving``)."""

import functools
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import wtforms
import wtforms.fields.choices
import wtforms.widgets.core
from flask import g
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError


# C0 controls and DEL, except tab/newline/carriage return; NUL breaks PostgreSQL and documents.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
# Bidirectional controls: one «\u202e» in a client's name reverses what follows it on every page,
# in documents and in file names («Договор\u202excod.exe» reads «Договорexe.docx»).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params`` to the byte, without its ``Markup.format`` per attribute: every input
    and every ``<option>`` of every form goes through it, and formatting through ``string.Formatter``
    cost about 8 µs an attribute (a card drew 190 of them, a meeting with its selects of colleagues
    several hundred). Installed in place of the original (``_install_on_wtforms``); a test compares the two."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(wtforms.widgets.core.clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value is not escaped again
            params.append(f'{key}="{text}"')
    return Markup(" ".join(params))


ORIGINAL_HTML_PARAMS = wtforms.widgets.core.html_params
ORIGINAL_RENDER_OPTION = wtforms.widgets.core.Select.render_option


def _install_on_wtforms() -> None:
    """Our ``html_params`` and ``render_option`` in place of WTForms' own. WTForms reaches
    ``html_params`` three ways: a global of ``wtforms.widgets.core`` (select, option, textarea), the
    package's name (labels) and a static method of ``Input`` and ``Button`` (every input). A test
    fails if a fourth appears."""
    core = wtforms.widgets.core
    core.html_params = wtforms.widgets.html_params = html_params
    for widget in vars(core).values():
        if isinstance(widget, type) and "html_params" in vars(widget):
            widget.html_params = staticmethod(html_params)
    core.Select.render_option = staticmethod(render_option)


def render_option(choice, **kwargs) -> Markup:
    """WTForms' ``<option>`` to the byte, made once per process for each value, label and state: a
    meeting draws the same sixty colleagues in two selects and a card its managers, each option
    a dictionary, a sort of its attributes and an escape (~4 µs). Options with attributes of their
    own, or values that cannot be a key, are drawn each time. Installed on WTForms' ``Select``
    (``_install_on_wtforms``); a test compares it with the original."""
    value, label = choice.value, choice.label
    if kwargs or choice.render_kw:
        return ORIGINAL_RENDER_OPTION(choice, **kwargs)
    try:  # the types in the key: ``True`` and ``1`` are equal keys, but print as «True» and «1»
        return _option(type(value), value, type(label), label, bool(choice.selected))
    except TypeError:  # unhashable
        return ORIGINAL_RENDER_OPTION(choice)


@functools.lru_cache(maxsize=4096)
def _option(_value_type, value, _label_type, label, selected: bool) -> Markup:
    return ORIGINAL_RENDER_OPTION(wtforms.fields.choices.Choice(value, label, selected, None))


_install_on_wtforms()


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
DATE_RANGE_MESSAGE = "Укажите дату между 01.01.1900 и 31.12.2100."


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
            raise ValidationError(DATE_RANGE_MESSAGE)


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


_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+$")


class EmailAddress:
    """An e-mail address, intranet domains included (``@company.local``: WTForms' Email refuses
    reserved names like .local, which many companies' internal mail uses)."""

    def __call__(self, form, field: Field):
        field.data = (field.data or "").strip()
        if field.data and not _EMAIL.match(field.data):
            raise ValidationError("Неверный адрес e-mail.")


def option_tags(options, chosen) -> Markup:
    """The ``<option>``s of a select of (value, text) pairs with ``chosen`` (compared as text)
    selected: what a Jinja loop over them writes, from tags made once per process for each list of
    options. A meeting draws the same sixty colleagues and contacts in the select of every action
    item; the loop cost some 4 µs an option."""
    chosen = str(chosen)
    return Markup("".join(selected if value == chosen else plain
                          for value, plain, selected in _option_tags(tuple(options))))


@functools.lru_cache(maxsize=256)
def _option_tags(options: tuple) -> tuple[tuple[str, str, str], ...]:
    tags = []
    for value, text in options:
        value = str(value)
        start, end = f'<option value="{escape(value)}"', f">{escape(text)}</option>"
        tags.append((value, start + end, start + " selected" + end))
    return tuple(tags)


def csrf_field() -> Markup:
    """The hidden CSRF input of a plain form (templates: ``{{ csrf_field() }}``), made once per
    request: a meeting of 20 agenda points draws some 60 small forms, and each macro call and
    Flask-WTF lookup of the token cost about 0.1 ms."""
    if "csrf_field" not in g:
        g.csrf_field = Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())
    return g.csrf_field
