"""Our ``html_params`` (installed in place of WTForms' own, for speed) draws every attribute to the
byte as WTForms does."""

import pytest
import wtforms
import wtforms.fields.choices
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


def _references_to_original() -> list[str]:
    """Every place of WTForms that still holds its own ``html_params``."""
    found = []
    for module in (wtforms.widgets, wtforms.widgets.core, wtforms.fields.core):
        for name, value in vars(module).items():
            if value is forms.ORIGINAL_HTML_PARAMS:
                found.append(f"{module.__name__}.{name}")
            if isinstance(value, type):
                found += [f"{module.__name__}.{name}.{attr}" for attr, member in vars(value).items()
                          if getattr(member, "__func__", member) is forms.ORIGINAL_HTML_PARAMS]
    return found


def test_no_widget_draws_with_the_slow_original():
    assert _references_to_original() == []


def test_whole_fields_are_drawn_as_wtforms_draws_them(monkeypatch):
    """A select with a chosen option, a text input with quotes, a checkbox, a text area and their
    labels, drawn with ours and with WTForms' own."""

    class Form(wtforms.Form):
        who = wtforms.SelectField("Кто", choices=forms.choices([("1", "Иванов & сын"), ("2", "\"Петров\"")]))
        summary = wtforms.StringField("Итог")
        done = wtforms.BooleanField("Готово")
        notes = wtforms.TextAreaField("Заметки")

    def draw():
        form = Form(data={"who": "2", "summary": 'a "b" <c>', "done": True, "notes": "<p>"})
        return [str(f(class_="form-control", aria_invalid="true")) + str(f.label(class_="form-label"))
                for f in form]

    ours = draw()
    monkeypatch.setattr(wtforms.widgets.core, "html_params", forms.ORIGINAL_HTML_PARAMS)
    monkeypatch.setattr(wtforms.widgets, "html_params", forms.ORIGINAL_HTML_PARAMS)
    for widget in (wtforms.widgets.Input, wtforms.widgets.Button):
        monkeypatch.setattr(widget, "html_params", staticmethod(forms.ORIGINAL_HTML_PARAMS))
    monkeypatch.setattr(wtforms.widgets.core.Select, "render_option", forms.ORIGINAL_RENDER_OPTION)
    assert _references_to_original()  # really drawn with the originals now
    assert draw() == ours
    assert 'selected value="2"' in ours[0] and "&#34;Петров&#34;" in ours[0]


@pytest.mark.parametrize("choice", [
    ("1", "Иванов & сын", False, None), ("1", "Иванов & сын", True, None), (1, "Один", True, None),
    (True, "Да", False, None), (1, "Да", False, None), ("", "— выберите —", True, {}),
    ("c:<5>", Markup("уже &amp; размечено"), False, None), ("x", "", False, None), (None, None, False, None),
    ("2", '"Петров"', False, {"disabled": True}), (["не ключ"], "Список", False, None),
])
def test_an_option_is_drawn_as_wtforms_draws_it(choice):
    """Each ``<option>`` (kept per process for its value, label and state) is WTForms' own to the
    byte, the first time and from the kept copy; ``True`` and ``1`` are not taken for each other."""
    option = wtforms.fields.choices.Choice(*choice)
    expected = forms.ORIGINAL_RENDER_OPTION(option)
    assert wtforms.widgets.core.Select.render_option is forms.render_option
    assert forms.render_option(option) == expected
    assert forms.render_option(option) == expected
    assert forms.render_option(option, class_="x") == forms.ORIGINAL_RENDER_OPTION(option, class_="x")
    assert forms.render_option(wtforms.fields.choices.Choice(1, "Да", False, None)) == '<option value="1">Да</option>'


@pytest.mark.parametrize("chosen", ["u:2", "", None, 7, "7", "нет такого"])
def test_option_tags_draw_what_a_loop_of_options_draws(chosen):
    """A select's options from ``option_tags`` (tags kept per list of options) are the loop's
    markup to the byte, whichever option is chosen, with text and values escaped."""
    from jinja2 import Environment

    options = [("", "— не назначен —"), ("u:2", 'ООО «Ромашка» & "Ко" <script>'), (7, "Семь"),
               ("c:<1>", Markup("уже &amp; размечено"))]
    loop = Environment(autoescape=True).from_string(
        '{% set chosen = value | string %}{% for option_value, option_text in options %}<option value="'
        '{{ option_value }}"{% if option_value | string == chosen %} selected{% endif %}>{{ option_text }}'
        '</option>{% endfor %}')
    drawn = forms.option_tags(options, chosen)
    assert isinstance(drawn, Markup)
    assert drawn == loop.render(options=options, value=chosen)
    assert drawn.count(" selected") == (1 if str(chosen) in {"u:2", "", "7"} else 0)
