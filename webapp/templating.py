"""Jinja set-up: the Russian formatting filters, a few globals, and the macros of templates/_macros/.

Each file of ``templates/_macros/`` is a namespace named after it (``clients.status_badge``,
``forms.field``): a block rendered alone for an htmx request (jinja2-fragments) does not run its
template's top-level imports, but globals are always there, so page and fragment share the macros.
"""

import jinja2
import markupsafe
from flask import Flask, current_app
from markupsafe import Markup

from webapp import formatting, urls
from webapp.forms import DATE_MAX, DATE_MIN, csrf_field, option_tags

MACRO_FOLDER = "_macros/"

_new_markup = str.__new__  # Markup's own ``__new__`` is Python: it asks every value for ``__html__``
_escape_inner = getattr(markupsafe, "_escape_inner", None)  # the C core of markupsafe.escape (3.x)


def escape(value) -> Markup:
    """``markupsafe.escape``, the same result, at a third of the cost for what pages print most.

    Every ``{{ … }}`` of an autoescaped template goes through it: a meeting page prints some 2,400
    values, a list of 50 rows 1,000–1,600. MarkupSafe 3 wraps its C escaping in Python (a type
    test, ``Markup.__new__``, a ``hasattr``): ~0.8 µs a value, ~2 ms of a meeting page. Text is
    escaped by the same C function, a ``Markup`` (a macro's output) is already safe, and a whole
    number is digits; anything else, or a MarkupSafe without the C function, goes to MarkupSafe.
    """
    kind = type(value)
    if kind is str and _escape_inner is not None:
        return _new_markup(Markup, _escape_inner(value))
    if kind is Markup:
        return value
    if kind is int:
        return _new_markup(Markup, str(value))
    return markupsafe.escape(value)


class Template(jinja2.Template):
    """Jinja's template, whose compiled code prints through ``escape`` above.

    A template's render functions find ``escape`` among the globals of the code Jinja compiled for
    it (``from jinja2.runtime import escape``); they are replaced once, when the template is made.
    """

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = escape
        return template


class MacroNamespace:
    """The macros of one ``_macros/<area>.html``. ``clients.status_badge`` is the Jinja macro itself,
    called directly (no per-call wrapper); the module is loaded once and each macro looked up once
    (then it is a plain attribute), or on every lookup while templates auto-reload in development."""

    def __init__(self, environment, template: str):
        self._environment, self._template, self._module = environment, template, None

    def __getattr__(self, name: str):
        module = self._module
        if module is None:
            module = self._environment.get_template(self._template).module
            if not self._environment.auto_reload:
                self._module = module
        try:
            found = getattr(module, name)
        except AttributeError:
            raise AttributeError(f"{self._template} has no macro {name}") from None
        if self._module is not None:  # later lookups find the macro itself, without calling us
            self.__dict__[name] = found
        return found


def register(app: Flask) -> None:
    environment = app.jinja_env
    environment.template_class = Template
    environment.filters.update(formatting.FILTERS)
    # No roles or states here: templates get ``can_*`` flags and the models' labels, and decide nothing.
    environment.globals.update(plural=formatting.plural, today=formatting.today, csrf_field=csrf_field,
                               option_tags=option_tags,
                               date_min=DATE_MIN.isoformat(), date_max=DATE_MAX.isoformat(),
                               url_for=urls.url_for)
    environment.trim_blocks = True
    environment.lstrip_blocks = True
    for name in environment.list_templates(filter_func=lambda n: n.startswith(MACRO_FOLDER)):
        area = name.removeprefix(MACRO_FOLDER).removesuffix(".html")
        if area in environment.globals:
            raise RuntimeError(f"macro namespace {area} ({name}) clashes with a Jinja global")
        environment.globals[area] = MacroNamespace(environment, name)


def macro(path: str):
    """«clients.due_list» → that macro, for a seam that names its macro as text."""
    area, name = path.split(".", 1)
    return getattr(current_app.jinja_env.globals[area], name)
