"""The version walk's machinery: find every form of the app that posts a record's version, and name
the record it edits (``tests/test_promise_versions.py`` drives them).

Nothing here lists routes. The walk logs in as an admin, opens every page of the role matrix
(``tests/route_matrix.py``) on the sample records, and every fragment those pages fetch (``hx-get``:
inline forms, rows opened for editing), and reads each ``<form>`` and ``hx-post`` control that sends a
``version`` (or ``<prefix>-version``). A new editable record is found the day its page draws its form.

Which record a form edits: before the walk every stored versioned row gets a version of its own
(1000, 2000, …: opaque counters, as the app treats them), so the version a form carries names one
row of one model. A form whose version names no row edits a record not stored yet (a singleton
saved on first use: the company profile, the regulation standard); the walk saves it once as drawn.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from bs4 import BeautifulSoup
from werkzeug.exceptions import HTTPException

from tests.route_matrix import get_routes, url_of
from webapp.extensions import db
from webapp.models.base import Versioned
from webapp.saving import decode_shown

STEP = 1000  # versions handed out before the walk; a save adds 1, never reaching the next row's
TEXT_INPUTS = {"text", "email", "tel", "search", "url", ""}
VIEW_TOUCHES_VERSIONS = re.compile(r"saving\.\w+|change_status\(|[\"']version[\"']|\.version\.data")


@dataclass
class Submission:
    """A form (or an htmx button) as a page draws it: where it posts and what it would send."""

    source: str             # the page or fragment that draws it
    partial: bool           # that source is a fragment (fetched as htmx does)
    action: str             # the URL it posts to
    endpoint: str
    view_args: dict[str, Any]
    htmx: bool              # posted by htmx (hx-post) or by the browser (a plain form)
    fields: dict[str, str | list[str]]
    inputs: dict[str, str]  # field name → its input's kind: text, textarea, select, date, checkbox, hidden…
    disabled: bool          # a status button drawn disabled (its guard refuses)
    prefix: str             # «contact5-» for a row form, «» otherwise
    record: tuple[type, int] | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Finds the same form when its page is drawn again (status moves share their URL)."""
        return self.action, str(self.fields.get("target", ""))

    @property
    def version(self) -> str:
        return str(self.fields.get(f"{self.prefix}version", ""))

    @property
    def shown(self) -> dict[str, str] | None:
        value = self.fields.get(f"{self.prefix}version_shown")
        return decode_shown(value) if isinstance(value, str) else None

    @property
    def kind(self) -> str:
        """«status» (a workflow move), «edit» (a form of fields) or «action» (the version alone:
        a delete, «выполнен»)."""
        if "target" in self.fields and "from" in self.fields:
            return "status"
        own = {f"{self.prefix}version", f"{self.prefix}version_shown", "csrf_token"}
        if any(kind != "hidden" and name not in own for name, kind in self.inputs.items()):
            return "edit"
        return "action"

    @property
    def group(self) -> tuple:
        """Forms that prove the same thing: one route, one kind, one model, one block (ids aside)."""
        named = tuple(sorted((k, v) for k, v in self.view_args.items() if not isinstance(v, int)))
        return self.endpoint, self.kind, self.record[0].__name__ if self.record else "?", named

    def input_name(self, key: str) -> str:
        return f"{self.prefix}{key}"


def _textarea_value(element) -> str:
    text = element.get_text()
    # A browser drops the newline that follows <textarea> (WTForms writes one).
    return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text


def _read_form(element) -> tuple[dict[str, Any], dict[str, str]]:
    """What a browser would submit from ``element`` as drawn, and each field's input kind."""
    fields: dict[str, Any] = {}
    inputs: dict[str, str] = {}
    if element.name != "form":
        return fields, inputs
    for control in element.find_all(["input", "textarea", "select"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "textarea":
            fields[name], inputs[name] = _textarea_value(control), "textarea"
        elif control.name == "select":
            options = control.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            values = [o.get("value", o.get_text()) for o in chosen]
            fields[name] = values if control.has_attr("multiple") else (values[0] if values else "")
            inputs[name] = "select"
        else:
            kind = control.get("type", "").lower()
            if kind in ("submit", "button", "file", "reset", "image"):
                continue
            if kind in ("checkbox", "radio"):
                if control.has_attr("checked"):
                    value = control.get("value", "on")
                    if kind == "checkbox" and name in fields:
                        fields[name] = [*([fields[name]] if isinstance(fields[name], str) else fields[name]), value]
                    else:
                        fields[name] = value
                inputs.setdefault(name, kind)
                continue
            fields[name], inputs[name] = control.get("value", ""), kind if kind not in ("", "text") else "text"
    return fields, inputs


def read_submissions(app, html: str, source: str, partial: bool) -> list[Submission]:
    """Every form and hx-post control of ``html`` that sends a version."""
    adapter = app.url_map.bind("localhost")
    found = []
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.select("form, [hx-post]"):
        fields, inputs = _read_form(element)
        for carrier in [element, *element.select("button[hx-vals], [type=submit][hx-vals]")]:
            if carrier.get("hx-vals"):
                fields.update(json.loads(carrier["hx-vals"]))
        version = next((name for name in fields if name == "version" or name.endswith("-version")), None)
        if version is None:
            continue
        action = element.get("hx-post") or element.get("action") or source
        try:
            endpoint, view_args = adapter.match(urlsplit(action).path, method="POST")
        except HTTPException:
            continue  # posts somewhere that takes no POST: the HTML checks' business
        submit_button = element.select_one("[type=submit]") if element.name == "form" else element
        found.append(Submission(
            source=source, partial=partial, action=action, endpoint=endpoint, view_args=view_args,
            htmx=element.has_attr("hx-post"), fields=fields, inputs=inputs,
            disabled=bool(submit_button is not None and submit_button.has_attr("disabled")),
            prefix=version[: -len("version")]))
    return found


def _fetch_key(app, url: str) -> tuple | None:
    """One fetch per route and named part: ``/backlog/1/stages/1?edit=1`` stands for every stage."""
    parts = urlsplit(url)
    try:
        endpoint, view_args = app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:
        return None
    named = tuple(sorted((k, v) for k, v in view_args.items() if not isinstance(v, int)))
    return endpoint, named, parts.query


@dataclass
class Walk:
    submissions: list[Submission] = field(default_factory=list)
    pages: int = 0


def crawl(app, client, records) -> Walk:
    """Open every page of the matrix and every fragment they fetch; collect the versioned forms."""
    queue = [(url_of(app, endpoint, records), False) for endpoint in get_routes(app)]
    fetched: set = set()
    walk = Walk()
    while queue:
        url, partial = queue.pop(0)
        key = _fetch_key(app, url)
        if key is None or key in fetched:
            continue
        fetched.add(key)
        response = client.get(url, htmx=partial)
        if response.status_code != 200 or not (response.content_type or "").startswith("text/html"):
            continue
        walk.pages += 1
        html = response.get_data(as_text=True)
        walk.submissions += read_submissions(app, html, url, partial)
        for element in BeautifulSoup(html, "html.parser").select("[hx-get]"):
            if element["hx-get"].startswith("/"):
                queue.append((element["hx-get"], True))
    return walk


def versioned_models() -> list[type]:
    return sorted((m.class_ for m in db.Model.registry.mappers
                   if issubclass(m.class_, Versioned) and m.class_.__table__ is not None),
                  key=lambda model: model.__tablename__)


def number_versions(app) -> dict[int, tuple[type, int]]:
    """Give every stored versioned row a version of its own; the version → (model, id) map."""
    names = {}
    with app.app_context():
        step = STEP
        for model in versioned_models():
            table = model.__table__
            (pk,) = table.primary_key.columns
            for (ident,) in db.session.execute(sa.select(pk).order_by(pk)):
                db.session.execute(sa.update(table).where(pk == ident).values(version=step))
                names[step] = (model, ident)
                step += STEP
        db.session.commit()
    return names


def find_again(app, client, submission: Submission) -> Submission | None:
    """The same form as its page draws it now (fresh version and values)."""
    response = client.get(submission.source, htmx=submission.partial)
    if response.status_code != 200:
        return None
    for fresh in read_submissions(app, response.get_data(as_text=True), submission.source, submission.partial):
        if fresh.key == submission.key:
            fresh.record = submission.record
            return fresh
    return None
