"""Our ``html_params`` (installed in place of WTForms' own, for speed) draws every attribute to the
byte as WTForms does."""

import pytest
import wtforms
import wtforms.widgets.core
from markupsafe import Markup

from webapp import forms

CASES = [
    {},
    {"class_": "form-control is-invalid", "id": "summary", "name": "summary", "type": "text"},
    {"value": 'ООО «Ромашка» & "Ко" <script>', "required": True, "readonly": False},
    {"value": Markup('уже &amp; "размечено"'), "data_confirm": "Удалить?", "aria_describedby": "a-help b-error"},
    {"value": 12, "selected": True, "disabled": False},
    {"value": None, "for_": "x", "hx_post": "/clients/1", "data_return_focus": "#x"},
    {"placeholder": "'одинарные' кавычки", "maxlength": 200, "autocomplete": "off"},
]


@pytest.mark.parametrize("kwargs", CASES)
def test_html_params_draws_what_wtforms_draws(kwargs):
    ours = forms.html_params(**kwargs)
    assert isinstance(ours, Markup)
    assert ours == forms.ORIGINAL_HTML_PARAMS(**kwargs)


def test_widgets_use_ours_and_whole_fields_are_unchanged(monkeypatch):
    """A select with a chosen option, a text input with quotes and a checkbox, drawn both ways."""
    assert wtforms.widgets.core.html_params is forms.html_params

    class Form(wtforms.Form):
        who = wtforms.SelectField("Кто", choices=[("1", "Иванов & сын"), ("2", '"Петров"')])
        summary = wtforms.StringField("Итог")
        done = wtforms.BooleanField("Готово")

    form = Form(data={"who": "2", "summary": 'a "b" <c>', "done": True})
    drawn = [str(f(class_="form-control", aria_invalid="true")) for f in form]
    monkeypatch.setattr(wtforms.widgets.core, "html_params", forms.ORIGINAL_HTML_PARAMS)
    assert drawn == [str(f(class_="form-control", aria_invalid="true")) for f in form]
    assert 'selected value="2"' in drawn[0] and "&#34;Петров&#34;" in drawn[0]
