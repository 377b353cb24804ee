"""Jinja set-up: the Russian formatting filters, a few globals, and the macros of templates/_macros/.

Each file of ``templates/_macros/`` is a namespace named after it (``clients.status_badge``,
``forms.field``): a block rendered alone for an htmx request (jinja2-fragments) does not run its
template's top-level imports, but globals are always there, so page and fragment share the macros.
"""

from flask import Flask, current_app

from webapp import formatting, urls
from webapp.escaping import Template
from webapp.forms import DATE_MAX, DATE_MIN, csrf_field, option_tags

MACRO_FOLDER = "_macros/"

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
