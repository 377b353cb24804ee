"""The AccountDesk benchmark: generated data, a real gunicorn, timed pages, tables of figures.

    python benchmarks/run.py [--clients N] [--requests K] [--seconds S] [--database-url URL]
                             [--workers W] [--before REF]

Everything lives in a temporary directory (the SQLite file, the instance folder, the server log)
that is removed at the end (``--keep`` keeps it). Steps: ``flask db upgrade``, ``flask bench-data
--clients N``, ``gunicorn -w W wsgi:app`` on a free port of 127.0.0.1, log in over HTTP once per role
that ``PAGES`` needs, then per page (and htmx save):

1. sequential: 3 untimed warm-up requests per worker and K timed ones, one after another: p50, p95,
   max, SQL statements per request (``X-Query-Count``) and the table rows the page shows;
2. concurrent: ``wrk`` with 4 connections for S seconds: p50, p99 and requests per second, the way
   users feel it when several of them work at once;
3. in-process (``benchmarks/inprocess.py``, no HTTP, no server): the CPU time of one request through
   the Flask test client, i.e. what the application itself costs.

``--before REF`` first measures the same data served by the code of the commit REF (a temporary
``git worktree``), then the working tree, and prints both side by side. Exits 1 if any request of
any page did not answer 200; the targets are printed next to the figures (and marked), not enforced.

Adding a page is one line in ``PAGES``; a path can be a function of the database (``Ctx``), e.g.
``lambda ctx: f"/clients/{ctx.scalar('SELECT min(id) FROM clients')}"``.
"""

from __future__ import annotations

import argparse
import html.parser
import http.cookiejar
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"

try:
    import sqlalchemy as sa
except ImportError:  # started as `python benchmarks/run.py` outside the virtualenv: use the project's
    if VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])
    sys.exit("Run with the project's virtualenv: make bench, or .venv/bin/python benchmarks/run.py")

sys.path.insert(0, str(REPO))

from webapp.benchdata import BENCH_PASSWORD  # noqa: E402

WARMUP = 3  # untimed requests per page and per gunicorn worker (templates compile per process)
CONNECTIONS = 4  # concurrent connections of the wrk run
# p99 targets at 4 connections on SQLite (ms), by kind of request; and in-process for a 50-row list.
# An export is every row of a table as a file (the CSV of 6,000 acts is 1 MB): its cost follows the
# rows, not a page's, and a person waits for a download, not a page; its target is its own.
TARGET_P99 = {"page": 30.0, "fragment": 30.0, "save": 15.0, "health": 5.0, "export": 250.0}
TARGET_INPROCESS_LIST = 8.0
HTTP_TIMEOUT = 30  # seconds, per request
SERVER_START_TIMEOUT = 30  # seconds until /healthz answers
COMMAND_TIMEOUT = 600  # seconds, per flask command
LOAD_AT_START = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class BenchUser:
    id: int
    email: str


@dataclass
class Ctx:
    """What a page's path function may use: the database and the users the benchmark logged in as."""

    engine: sa.Engine
    users: dict[str, BenchUser]

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            value = conn.execute(sa.text(sql), params).scalar()
        if value is None:
            raise LookupError(f"no row for: {sql} {params or ''}")
        return value


@dataclass(frozen=True)
class Page:
    """A GET page, an htmx fragment (GET with HX-Request), an htmx save (POST) or the health check.

    A save's ``path`` is where it posts; ``form`` is the GET path of the form it submits (the benchmark
    reads its fields, CSRF token and version from there) and ``edit`` turns those fields into the bodies
    the save alternates between (see ``block_bodies``)."""

    name: str
    role: str  # the Role value of the user who requests it: "manager", "admin", …
    path: str | Callable[[Ctx], str]
    kind: str = "page"  # "page", "fragment", "save", "health" or "export"
    form: Callable[[Ctx], str] | None = None
    edit: Callable[[Browser, str, str], tuple[list[dict[str, str]], str]] | None = None
    list_of_50: bool = False  # a 50-row list: its in-process time has a target of its own

    @property
    def htmx(self) -> bool:
        return self.kind in ("fragment", "save")


def my_client(ctx: Ctx, offset: int = 0) -> int:
    """The ``offset``-th client (by id) that the benchmark's manager leads."""
    return ctx.scalar("SELECT id FROM clients WHERE manager_id = :m ORDER BY id LIMIT 1 OFFSET :o",
                      m=ctx.users["manager"].id, o=offset)


def planned_meeting(ctx: Ctx) -> int:
    """The planned meeting (20 agenda points) of the manager's first client."""
    return ctx.scalar("SELECT min(id) FROM meetings WHERE client_id = :c AND status = 'planned'", c=my_client(ctx))


def regulated_client(ctx: Ctx) -> int:
    """The manager's first client with a signed regulation and a new edition in draft."""
    return ctx.scalar("SELECT min(r.client_id) FROM regulations r JOIN clients c ON c.id = r.client_id "
                      "WHERE c.manager_id = :m AND r.status = 'draft'", m=ctx.users["manager"].id)


def edition(ctx: Ctx, status: str) -> int:
    return ctx.scalar("SELECT id FROM regulations WHERE client_id = :c AND status = :s",
                      c=regulated_client(ctx), s=status)


def log_bodies(browser: Browser, form_path: str, post_path: str) -> tuple[list[dict[str, str]], str]:
    """A contact logged from «Мой день»: the quick-log form filled in, one body."""
    fields = browser.form_fields(form_path)
    prefix = next(name for name in fields if name.endswith("-summary")).removesuffix("-summary")
    fields.update({f"{prefix}-summary": "Созвон: обсудили задачи и оплату", f"{prefix}-channel": "call",
                   "origin": "dashboard"})
    return [fields], ""


BLOCK_FIELD, BLOCK_VALUES = "address", ("г. Москва, ул. Тверская, д. 1", "г. Москва, ул. Тверская, д. 2")


def block_bodies(browser: Browser, form_path: str, post_path: str) -> tuple[list[dict[str, str]], str]:
    """A block of the card saved: two bodies that each change the address from what its form
    showed to the other value, so alternating them writes a real change each time and never
    conflicts (field-level saving, ``webapp/saving.py``). Code older than field-level saving
    refuses a form drawn at an older version (409): there the block is saved unchanged, at the
    current version, again and again, and the figures say so."""
    bodies = []
    for value in (*BLOCK_VALUES, BLOCK_VALUES[0]):
        fields = browser.form_fields(form_path)  # armed with the stored address
        if fields.get(BLOCK_FIELD) != value:
            bodies.append({**fields, BLOCK_FIELD: value})
            answer = browser.request(post_path, bodies[-1], htmx=True)
            if answer.status != 200:
                raise RuntimeError(f"POST {post_path} answered {answer.status}")
    if browser.request(post_path, bodies[-2], htmx=True).status == 409:
        return [browser.form_fields(form_path)], "saved unchanged: this code refuses a form of an older version"
    return bodies[-2:], ""


def first_point(ctx: Ctx) -> int:
    """The first agenda point of ``planned_meeting``."""
    return ctx.scalar("SELECT min(id) FROM agenda_points WHERE meeting_id = :m", m=planned_meeting(ctx))


AUTOSAVE_VALUES = ("Обсудили сроки отчёта по складу", "Обсудили сроки отчёта по складу и закрытие месяца")


def _autosave_state(body: str, point: str) -> dict[str, str]:
    """The version and the shown fingerprint of a point's notes, from the page or a save's answer."""
    found = re.search(rf'id="state-agenda_points-{point}-notes">\s*<input type="hidden" name="version" value="(\d+)">'
                      r'\s*<input type="hidden" name="version_shown" value="([^"]*)">', body)
    if not found:
        raise RuntimeError(f"no autosave state of point {point}'s notes in the answer")
    return {"version": found.group(1), "version_shown": found.group(2)}


def autosave_bodies(browser: Browser, form_path: str, post_path: str) -> tuple[list[dict[str, str]], str]:
    """A point's notes saved as they are typed at a live meeting: two bodies, each changing the text
    from what it showed to the other, so alternating them writes each time and never conflicts
    (as ``block_bodies``); each save's answer is the field's state, which arms the next body."""
    point = post_path.rsplit("/", 1)[1]
    state = _autosave_state(browser.request(form_path).body, point)
    bodies = []
    for value in (*AUTOSAVE_VALUES, AUTOSAVE_VALUES[0]):
        bodies.append({"field": "notes", "value": value, **state})
        answer = browser.request(post_path, bodies[-1], htmx=True)
        if answer.status != 200:
            raise RuntimeError(f"POST {post_path} answered {answer.status}")
        state = _autosave_state(answer.body, point)
    return bodies[-2:], ""


def held_meeting(ctx: Ctx) -> int:
    """A held meeting (with its minutes) of the manager's first client."""
    return ctx.scalar("SELECT min(id) FROM meetings WHERE client_id = :c AND status = 'held'", c=my_client(ctx))


def first_contact(ctx: Ctx) -> int:
    """The first contact of the manager's first client."""
    return ctx.scalar("SELECT min(id) FROM contacts WHERE client_id = :c", c=my_client(ctx))


def first_action(ctx: Ctx) -> int:
    """An action item of ``held_meeting``."""
    return ctx.scalar("SELECT min(id) FROM action_items WHERE meeting_id = :m", m=held_meeting(ctx))


def client_block(ctx: Ctx) -> int:
    """A block of the manager's first client's budget of this year."""
    return ctx.scalar("SELECT min(b.id) FROM budget_blocks b JOIN budgets g ON g.id = b.budget_id "
                      "WHERE g.client_id = :c AND g.year = :y", c=my_client(ctx), y=date.today().year)


def first_stage(ctx: Ctx) -> int:
    """The first stage of ``open_item``."""
    return ctx.scalar("SELECT min(id) FROM stages WHERE item_id = :i", i=open_item(ctx))


def open_item(ctx: Ctx, offset: int = 0) -> int:
    """The ``offset``-th open item (by rank) of the manager's first client."""
    return ctx.scalar("SELECT id FROM backlog_items WHERE client_id = :c AND status NOT IN "
                      "('accepted', 'rejected', 'cancelled') ORDER BY rank, id LIMIT 1 OFFSET :o",
                      c=my_client(ctx), o=offset)


def rank_bodies(browser: Browser, form_path: str, post_path: str) -> tuple[list[dict[str, str]], str]:
    """A reorder: the item moved just before its neighbour, then just after it, and so on — each
    move changes the one row, as a drag and drop does."""
    neighbour = form_path  # the neighbour's id (``Page.form`` names it)
    return [{"before": neighbour}, {"after": neighbour}], ""


# One line per page. The manager is the first generated manager (see pick_user); the admin likewise.
PAGES = [
    Page("Мой день", "manager", "/"),
    Page("Мой день (все менеджеры)", "admin", "/"),
    Page("Мой день: раздел (htmx)", "manager", "/?section=due", kind="fragment"),
    Page("Мой день: раздел целиком (htmx)", "manager", "/?section=due&all=1", kind="fragment"),
    Page("Клиенты", "manager", "/clients/", list_of_50=True),
    Page("Клиенты (htmx, стр. 2)", "manager", "/clients/?page=2", kind="fragment", list_of_50=True),
    Page("Клиенты: поиск", "manager", "/clients/?q=%D1%80%D0%BE%D0%BC", list_of_50=True),
    Page("Клиенты: по телефону", "manager", "/clients/?q=912", list_of_50=True),
    Page("Клиенты: требуют внимания", "manager", "/clients/?cadence=attention&sort=last_contact",
         list_of_50=True),
    Page("Новый клиент", "manager", "/clients/new"),
    Page("Передача клиентов", "admin", "/clients/handover"),
    Page("Карточка клиента", "manager", lambda ctx: f"/clients/{my_client(ctx)}"),
    Page("Карточка: регламент", "manager", lambda ctx: f"/clients/{regulated_client(ctx)}"),
    Page("Карточка: история", "manager", lambda ctx: f"/clients/{my_client(ctx)}/timeline", kind="fragment"),
    Page("Карточка: форма блока", "manager", lambda ctx: f"/clients/{my_client(ctx)}/edit/requisites",
         kind="fragment"),
    Page("Регламенты клиента", "manager", lambda ctx: f"/clients/{regulated_client(ctx)}/regulations/"),
    Page("Регламент: проект", "manager", lambda ctx: f"/regulations/{edition(ctx, 'draft')}"),
    Page("Регламент: подписан", "manager", lambda ctx: f"/regulations/{edition(ctx, 'signed')}"),
    Page("Регламент: сравнение", "manager",
         lambda ctx: f"/regulations/{edition(ctx, 'draft')}/compare?with={edition(ctx, 'signed')}"),
    Page("Акты", "admin", "/acts/", list_of_50=True),
    Page("Акты: просроченные", "admin", "/acts/?paid=overdue", list_of_50=True),
    Page("Акт", "admin", lambda ctx: f"/acts/{big_act(ctx)}"),
    Page("Акт: DOCX, 60 строк", "admin", lambda ctx: f"/acts/{big_act(ctx)}.docx"),
    Page("Счёт: DOCX с QR-кодом", "admin", lambda ctx: f"/acts/{big_act(ctx)}/invoice.docx"),
    Page("Стандарт регламента", "admin", "/admin/regulation-standard"),
    Page("Пользователи", "admin", "/admin/users", list_of_50=True),
    Page("Пользователь", "admin", lambda ctx: f"/admin/users/{ctx.users['manager'].id}"),
    Page("Журнал аудита", "admin", "/admin/audit", list_of_50=True),
    Page("Профиль компании", "admin", "/admin/company"),
    Page("Шаблоны документов", "admin", "/admin/templates"),
    Page("Бюджет клиента", "manager", lambda ctx: f"/clients/{my_client(ctx)}/budgets/{date.today().year}"),
    Page("Бюджеты: обзор", "admin", f"/budgets/{date.today().year}"),
    Page("Встречи недели", "manager", "/meetings/"),
    Page("Встречи недели (все)", "admin", "/meetings/?all=1"),
    Page("Встреча: 20 вопросов", "manager", lambda ctx: f"/meetings/{planned_meeting(ctx)}"),
    Page("Учётная запись", "manager", "/account"),
    Page("Проверка (healthz)", "manager", "/healthz", kind="health"),
    Page("Бэклог клиента", "manager", lambda ctx: f"/clients/{my_client(ctx)}/backlog/"),
    Page("Бэклог всех клиентов", "manager", "/backlog/", list_of_50=True),
    Page("Бэклог всех клиентов (руководитель)", "lead", "/backlog/?waiting=us", list_of_50=True),
    Page("Задача бэклога", "manager", lambda ctx: f"/backlog/{open_item(ctx)}"),
    Page("Задача бэклога: блок (htmx)", "manager", lambda ctx: f"/backlog/{open_item(ctx)}/show/summary",
         kind="fragment"),
    # The rest of the route map: a client's lists, forms and rows as htmx draws them, downloads.
    Page("Клиент: акты", "manager", lambda ctx: f"/clients/{my_client(ctx)}/acts/"),
    Page("Клиент: встречи", "manager", lambda ctx: f"/clients/{my_client(ctx)}/meetings/"),
    Page("Клиент: форма контакта (htmx)", "manager",
         lambda ctx: f"/clients/{my_client(ctx)}/touchpoints/new?origin=dashboard", kind="fragment"),
    Page("Клиент: бэклог к печати", "manager", lambda ctx: f"/clients/{my_client(ctx)}/backlog/print"),
    Page("Клиент: бэклог, XLSX", "manager", lambda ctx: f"/clients/{my_client(ctx)}/backlog.xlsx"),
    Page("Клиент: бюджет, XLSX", "manager",
         lambda ctx: f"/clients/{my_client(ctx)}/budgets/{date.today().year}.xlsx"),
    Page("Бюджет: строка блока (htmx)", "manager", lambda ctx: f"/budgets/blocks/{client_block(ctx)}",
         kind="fragment"),
    Page("Новая заявка: выбор клиента", "manager", "/backlog/new"),
    Page("Новая заявка", "manager", lambda ctx: f"/clients/{my_client(ctx)}/backlog/new"),
    Page("Задача: этап (htmx)", "manager", lambda ctx: f"/backlog/{open_item(ctx)}/stages/{first_stage(ctx)}",
         kind="fragment"),
    Page("Задача: ТЗ, DOCX", "manager", lambda ctx: f"/backlog/{open_item(ctx)}/spec.docx"),
    Page("Встречи: календарь", "manager", "/meetings/calendar"),
    Page("Встреча проведена", "manager", lambda ctx: f"/meetings/{held_meeting(ctx)}"),
    Page("Встреча: протокол, DOCX", "manager", lambda ctx: f"/meetings/{held_meeting(ctx)}/minutes.docx"),
    Page("Встреча: история поручения (htmx)", "manager",
         lambda ctx: f"/meetings/{held_meeting(ctx)}/actions/{first_action(ctx)}/history", kind="fragment"),
    Page("Регламент: DOCX", "manager", lambda ctx: f"/regulations/{edition(ctx, 'signed')}.docx"),
    Page("Акты: выгрузка CSV", "admin", "/acts/export.csv", kind="export"),
    Page("Новый пользователь", "admin", "/admin/users/new"),
    Page("Вход через каталог (LDAP)", "admin", "/admin/directory"),
    Page("Встреча: в календарь (ICS)", "manager", lambda ctx: f"/meetings/{held_meeting(ctx)}.ics"),
    Page("Контакт: форма (htmx)", "manager",
         lambda ctx: f"/clients/{my_client(ctx)}/contacts/{first_contact(ctx)}?edit=1", kind="fragment"),
    # Saves last: they add rows (a contact logged) that the pages above would otherwise show.
    Page("Сохранить: контакт записан", "manager", lambda ctx: f"/clients/{my_client(ctx, 1)}/touchpoints",
         kind="save", form=lambda ctx: f"/clients/{my_client(ctx, 1)}/touchpoints/new?origin=dashboard",
         edit=log_bodies),
    Page("Сохранить: блок карточки", "manager", lambda ctx: f"/clients/{my_client(ctx, 2)}/edit/requisites",
         kind="save", form=lambda ctx: f"/clients/{my_client(ctx, 2)}/edit/requisites", edit=block_bodies),
    Page("Сохранить: порядок задач", "manager", lambda ctx: f"/backlog/{open_item(ctx, 1)}/rank",
         kind="save", form=lambda ctx: str(open_item(ctx, 3)), edit=rank_bodies),
    Page("Сохранить: поле встречи", "manager",
         lambda ctx: f"/meetings/{planned_meeting(ctx)}/points/{first_point(ctx)}",
         kind="save", form=lambda ctx: f"/meetings/{planned_meeting(ctx)}", edit=autosave_bodies),
]


def pick_user(engine: sa.Engine, role: str) -> BenchUser:
    """The generated (bench-data) active user of ``role`` with the lowest id."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT id, email FROM users WHERE role = :role AND active AND email LIKE '%@bench.local' "
            "ORDER BY id LIMIT 1"), {"role": role}).first()
    if row is None:
        raise LookupError(f"bench-data made no active user with the role {role!r}")
    return BenchUser(row.id, row.email)


# --- HTTP ------------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to measure (and, for a page, a failure), not something to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _FormFields(html.parser.HTMLParser):
    """What a browser would submit from a page's first form: inputs (checked boxes only), selects
    (the selected option), textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        name = values.get("name")
        if tag == "input" and name and values.get("type") not in ("submit", "button", "file"):
            if values.get("type") in ("checkbox", "radio") and "checked" not in values:
                return
            self.fields.setdefault(name, values.get("value") or "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in values or self._select not in self.fields:
                self.fields[self._select] = values.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


class Browser:
    """One logged-in session: a cookie jar over urllib, no redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.csrf_token = ""

    def request(self, path: str, data: dict[str, str] | None = None, *, htmx: bool = False) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=self.headers(htmx))
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            status, headers, content = error.code, error.headers, error.read()
        seconds = time.perf_counter() - started
        return Answer(status, dict(headers.items()), content.decode("utf-8", "replace"), seconds)

    def headers(self, htmx: bool) -> dict[str, str]:
        """What htmx adds to its requests: HX-Request and the CSRF token of the page."""
        return {"HX-Request": "true", "X-CSRFToken": self.csrf_token} if htmx else {}

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def form_fields(self, path: str) -> dict[str, str]:
        answer = self.request(path, htmx=True)
        if answer.status != 200:
            raise RuntimeError(f"GET {path} answered {answer.status}")
        parser = _FormFields()
        parser.feed(answer.body)
        return parser.fields

    def login(self, email: str, password: str) -> None:
        page = self.request("/login")
        token = _FormFields()
        token.feed(page.body)
        if page.status != 200 or not token.fields.get("csrf_token"):
            raise RuntimeError(f"GET /login answered {page.status} without a csrf_token field")
        self.csrf_token = token.fields["csrf_token"]
        answer = self.request("/login", {"csrf_token": self.csrf_token, "email": email, "password": password})
        if answer.status not in (302, 303):
            raise RuntimeError(f"login as {email} failed: POST /login answered {answer.status}")
        check = self.request("/account")
        if check.status != 200:
            raise RuntimeError(f"after logging in as {email}, /account answered {check.status}")
        found = re.search(r'"X-CSRFToken": "([^"]+)"', check.body)  # the token htmx sends (base.html)
        if found:
            self.csrf_token = found.group(1)


# --- measuring -------------------------------------------------------------------------------------

@dataclass
class Result:
    page: Page
    path: str = ""
    latencies: list[float] = field(default_factory=list)  # seconds, sequential
    queries: list[int] = field(default_factory=list)
    rows: int | None = None
    concurrent: dict[str, float] | None = None  # p50_ms, p99_ms, rps (wrk)
    inprocess_ms: float | None = None  # CPU time of one request in-process
    error: str | None = None
    note: str = ""  # how this code version was measured differently


_TBODY = re.compile(r"<tbody\b.*?</tbody>", re.S | re.I)
_TR = re.compile(r"<tr\b", re.I)


def big_act(ctx: Ctx) -> int:
    """The act with the most lines (bench-data gives the first one 60)."""
    return ctx.scalar("SELECT act_id FROM act_lines GROUP BY act_id ORDER BY count(*) DESC, act_id LIMIT 1")


def table_rows(body: str) -> int:
    """Rows the page shows: the <tr> inside every <tbody>."""
    return sum(len(_TR.findall(tbody)) for tbody in _TBODY.findall(body))


def measure(result: Result, browser: Browser, bodies: list[dict[str, str]] | None, requests: int,
            warmup: int) -> None:
    """Sequential: warm-up requests, then ``requests`` timed ones (a save alternates its bodies)."""
    for i in range(warmup + requests):
        body = bodies[i % len(bodies)] if bodies else None
        answer = browser.request(result.path, body, htmx=result.page.htmx)
        if answer.status != 200:
            result.error = f"request {i + 1} answered {answer.status}"
            return
        count = answer.headers.get("X-Query-Count")
        if count is None:
            result.error = "no X-Query-Count header (QUERY_COUNT_HEADER is off?)"
            return
        if i >= warmup:
            result.latencies.append(answer.seconds)
            result.queries.append(int(count))
            result.rows = table_rows(answer.body)


# wrk's Lua: every request carries the session cookie (and for htmx the headers htmx sends); a save
# alternates its bodies; any answer other than 200 is counted, and the figures are printed as one line.
WRK_SCRIPT = """
local bodies = {%(bodies)s}
local method, path, headers = "%(method)s", "%(path)s", {%(headers)s}
local i = 0
bad = 0
request = function()
  i = i + 1
  return wrk.format(method, path, headers, bodies[(i %% #bodies) + 1])
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format("WRK p50_us=%%d p99_us=%%d requests=%%d duration_us=%%d bad=%%d errors=%%d\\n",
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid Lua string literal here


def concurrent(result: Result, browser: Browser, bodies: list[dict[str, str]] | None, seconds: int,
               tmp: Path) -> None:
    """``wrk`` with CONNECTIONS connections for ``seconds``: p50, p99 and requests per second."""
    headers = {"Cookie": browser.cookie_header(), **browser.headers(result.page.htmx)}
    if bodies:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    script = tmp / "wrk.lua"
    script.write_text(WRK_SCRIPT % {
        "bodies": ", ".join(lua(urllib.parse.urlencode(b)) for b in bodies) if bodies else "nil",
        "method": "POST" if bodies else "GET", "path": result.path.replace('"', '\\"'),
        "headers": ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items())})
    done = subprocess.run(["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s",
                           "-s", str(script), browser.base], capture_output=True, text=True,
                          timeout=seconds + 60)
    found = re.search(r"WRK p50_us=(\d+) p99_us=(\d+) requests=(\d+) duration_us=(\d+) bad=(\d+) errors=(\d+)",
                      done.stdout)
    if done.returncode != 0 or not found:
        result.error = f"wrk failed: {done.stdout}{done.stderr}".strip()
        return
    p50, p99, count, duration, bad, errors = map(int, found.groups())
    if bad or errors:
        result.error = f"concurrent: {bad} answers other than 200, {errors} socket errors"
        return
    result.concurrent = {"p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "rps": count / (duration / 1e6)}


def inprocess(app_dir: Path, env: dict[str, str], pages: list[tuple[Result, BenchUser]], requests: int) -> None:
    """``benchmarks/inprocess.py`` in the code of ``app_dir``: CPU ms per GET request, no HTTP."""
    todo = [{"path": r.path, "user_id": user.id, "htmx": r.page.htmx} for r, user in pages]
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("inprocess.py")), str(requests)],
                          input=json.dumps(todo), cwd=app_dir, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT, env={**env, "PYTHONPATH": str(app_dir)})
    if done.returncode != 0:
        raise RuntimeError(f"in-process run failed:\n{done.stdout}{done.stderr}")
    for (result, _), ms in zip(pages, json.loads(done.stdout.strip().splitlines()[-1])):
        result.inprocess_ms = ms


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value that at least p % of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


# --- setup -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_flask(env: dict[str, str], *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "webapp", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout.strip(), time.perf_counter() - started


def wait_for_health(base: str, server: subprocess.Popen, log: Path) -> float:
    started = time.perf_counter()
    deadline = started + SERVER_START_TIMEOUT
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"/healthz did not answer within {SERVER_START_TIMEOUT} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # SIGTERM: gunicorn's graceful shutdown of the master and its workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def engine_for(url: str) -> sa.Engine:
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # as create_app does
    return sa.create_engine(url)


def table_counts(engine: sa.Engine) -> dict[str, int]:
    names = sorted(n for n in sa.inspect(engine).get_table_names() if n != "alembic_version")
    with engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
                for name in names}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        version = ".".join(map(str, engine.dialect.server_version_info or ()))
        conn.execute(sa.text("SELECT 1"))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": f"{os.cpu_count()} logical CPUs ({usable} usable), {cpu_model()}",
        "load": "load average {:.2f} {:.2f} {:.2f} at the start (other work on the machine skews p95)".format(
            *LOAD_AT_START),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "database": f"{engine.dialect.name} {version}".strip(),
    }


# --- one code version against the data -----------------------------------------------------------

@dataclass
class Version:
    """One code version being measured: its checkout, its database, its running gunicorn."""

    label: str
    app_dir: Path
    env: dict[str, str]
    engine: sa.Engine
    log: Path
    server: subprocess.Popen | None = None
    base: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    users: dict[str, BenchUser] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)

    def start(self, workers: int) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        target = "wsgi:app" if (self.app_dir / "wsgi.py").exists() else "webapp:create_app()"
        with self.log.open("w") as log_file:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", target],
                cwd=self.app_dir, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        seconds = wait_for_health(self.base, self.server, self.log)
        print(f"  [{self.label}] gunicorn -w {workers} {target} on {self.base}: {seconds:.1f} s until "
              f"/healthz answered", flush=True)
        roles = sorted({page.role for page in PAGES})
        self.users = {role: pick_user(self.engine, role) for role in roles}
        for role in roles:
            self.browsers[role] = Browser(self.base)
            self.browsers[role].login(self.users[role].email, BENCH_PASSWORD)

    def measure(self, page: Page, args: argparse.Namespace, tmp: Path) -> None:
        result = Result(page)
        self.results.append(result)
        browser = self.browsers[page.role]
        try:
            result.path = page.path(Ctx(self.engine, self.users)) if callable(page.path) else page.path
            bodies, result.note = (page.edit(browser, page.form(Ctx(self.engine, self.users)), result.path)
                                   if page.edit else (None, ""))
        except Exception as error:  # a path function that finds no row is a failed page
            result.error = f"no path or form: {error}"
        else:
            measure(result, browser, bodies, args.requests, WARMUP * args.workers)
            if not result.error and not args.no_concurrent:
                concurrent(result, browser, bodies, args.seconds, tmp)
        print(f"  [{self.label}] {page.name}: {'FAILED ' + result.error if result.error else 'measured'}",
              flush=True)

    def stop(self) -> None:
        if self.server is not None:
            if any(r.error for r in self.results):
                print(f"[{self.label}] server log (last lines):\n{tail(self.log)}")
            stop(self.server)
            self.server = None

    def measure_inprocess(self, args: argparse.Namespace) -> None:
        """In-process CPU time; a second call keeps the lower figure of the two."""
        gets = [r for r in self.results if not r.error and r.page.kind != "save"]
        previous = {id(r): r.inprocess_ms for r in gets}
        inprocess(self.app_dir, self.env, [(r, self.users[r.page.role]) for r in gets], args.inprocess_requests)
        for r in gets:
            if previous[id(r)] is not None:
                r.inprocess_ms = min(r.inprocess_ms, previous[id(r)])


def worktree(ref: str, tmp: Path) -> Path:
    path = tmp / f"code-{re.sub(r'[^A-Za-z0-9]', '_', ref)}"
    done = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), ref],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git worktree add {ref} failed:\n{done.stderr}")
    return path


def copy_database(url: str, label: str) -> str:
    """A SQLite database copied for one code version, so both measure the same rows; another
    database is measured as it is (the saves of the first run add a few rows)."""
    if not url.startswith("sqlite:///"):
        return url
    source = Path(url.removeprefix("sqlite:///"))
    copy = source.with_name(f"{source.stem}-{label}{source.suffix}")
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, copy)
    return f"sqlite:///{copy}"


# --- main ------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000, help="clients to generate (default 2000)")
    parser.add_argument("--requests", type=int, default=50, help="timed sequential requests per page (default 50)")
    parser.add_argument("--seconds", type=int, default=4, help="seconds of the concurrent run per page (default 4)")
    parser.add_argument("--inprocess-requests", type=int, default=30,
                        help="timed in-process requests per page (default 30)")
    parser.add_argument("--no-concurrent", action="store_true", help="skip the concurrent (wrk) run")
    parser.add_argument("--before", metavar="REF", help="also measure the code of this commit, on the same data")
    parser.add_argument("--database-url", help="an empty database to fill and measure "
                                               "(default: a SQLite file in the temporary directory)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="measure only the pages whose name or path holds TEXT (repeatable; case ignored)")
    args = parser.parse_args(argv)
    if min(args.clients, args.requests, args.workers, args.inprocess_requests) < 1 or args.seconds <= 0:
        parser.error("--clients, --requests, --inprocess-requests, --workers and --seconds must be positive")
    if not args.no_concurrent and shutil.which("wrk") is None:
        parser.error("the concurrent run needs wrk: apt-get install wrk (Debian), or pass --no-concurrent")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="accountdesk-bench-"))
    instance = tmp / "instance"
    instance.mkdir()
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "ACCOUNTDESK_DATABASE_URL": url,
        "ACCOUNTDESK_SECRET_KEY": secrets.token_hex(32),
        "ACCOUNTDESK_QUERY_COUNT_HEADER": "true",
        "ACCOUNTDESK_INSTANCE_PATH": str(instance),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("FLASK_APP", None)
    env.pop("FLASK_DEBUG", None)
    engine = engine_for(url)
    before_dir: Path | None = None
    running: list[Version] = []
    try:
        print(f"AccountDesk benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
              f"(temporary directory {tmp})", flush=True)
        _, seconds = run_flask(env, "db", "upgrade")
        print(f"  flask db upgrade                {seconds:6.1f} s", flush=True)
        output, seconds = run_flask(env, "bench-data", "--clients", str(args.clients))
        print(f"  flask bench-data --clients {args.clients:<5}{seconds:6.1f} s   {output}", flush=True)
        host, counts = machine(engine), table_counts(engine)
        versions = []
        if args.before:
            before_dir = worktree(args.before, tmp)
            versions.append((f"before {args.before}", before_dir))
        versions.append(("after" if args.before else "now", REPO))
        # Every version runs at once and the pages are measured in turns (before, after, next page…),
        # so that whatever else the machine does falls on both alike.
        for label, app_dir in versions:
            version_url = copy_database(url, label.split()[0]) if args.before else url
            running.append(Version(label, app_dir, {**env, "ACCOUNTDESK_DATABASE_URL": version_url,
                                                    "PYTHONPATH": str(app_dir)},
                                   engine_for(version_url), tmp / f"gunicorn-{label.split()[0]}.log"))
            running[-1].start(args.workers)
        chosen = [page for page in PAGES if not args.only or any(
            text.lower() in f"{page.name} {page.path if isinstance(page.path, str) else ''}".lower() for text in args.only)]
        if not chosen:
            raise LookupError(f"no page matches --only {args.only}")
        for page in chosen:
            for version in running:
                version.measure(page, args, tmp)
        for version in running:
            version.stop()
        for version in [*running, *reversed(running)]:  # twice, in ABBA order: the lower CPU time counts
            version.measure_inprocess(args)
        runs = {version.label: version.results for version in running}

        figures = report(args, host, counts, runs)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
        failed = [(label, r) for label, results in runs.items() for r in results if r.error]
        for label, r in failed:
            print(f"  [{label}] {r.page.name}: {r.error}")
        if any(not label.startswith("before") for label, _ in failed):  # old code may lack a page
            print("\nFAILED: pages of the code measured did not answer 200 to every request.")
            return 1
        print(f"\nOK: every request of {len(chosen)} pages answered 200.")
        return 0
    except (RuntimeError, LookupError, OSError, subprocess.TimeoutExpired) as error:
        print(f"\nFAILED: {error}")
        return 1
    finally:
        for version in running:
            version.stop()
            version.engine.dispose()
        engine.dispose()
        if before_dir is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before_dir)],
                           capture_output=True)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def target_of(page: Page) -> float:
    return TARGET_P99[page.kind]


def figures_of(r: Result) -> dict:
    if r.error:
        return {"page": r.page.name, "role": r.page.role, "path": r.path, "error": r.error}
    if r.note:
        figures_note = {"note": r.note}
    else:
        figures_note = {}
    ms = [s * 1000 for s in r.latencies]
    figures = {"page": r.page.name, "kind": r.page.kind, "role": r.page.role, "path": r.path,
               "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
               "max_ms": round(max(ms), 2), "queries_min": min(r.queries), "queries_max": max(r.queries),
               "rows": r.rows, "target_p99_ms": target_of(r.page), **figures_note}
    if r.concurrent:
        figures.update({f"c4_{k}": round(v, 2) for k, v in r.concurrent.items()})
    if r.inprocess_ms is not None:
        figures["inprocess_ms"] = round(r.inprocess_ms, 2)
    return figures


def mark(value: float | None, target: float | None) -> str:
    """A figure, with «!» where it misses its target."""
    if value is None:
        return "–"
    return f"{value:.1f}" + ("!" if target is not None and value > target else "")


def report(args: argparse.Namespace, host: dict[str, str], counts: dict[str, int],
           runs: dict[str, list[Result]]) -> dict:
    print("\nMachine")
    for key, value in host.items():
        print(f"  {key:<9} {value}")
    print(f"  server    gunicorn -w {args.workers} (sync); sequential: {WARMUP * args.workers} warm-up + "
          f"{args.requests} timed per page; concurrent: wrk, {CONNECTIONS} connections, {args.seconds:g} s per page; "
          f"in-process: CPU time of one request, the lower of 2 rounds of {args.inprocess_requests}")
    print("\nData volume (rows per table)")
    for name, count in counts.items():
        print(f"  {name:<24} {count:>9,}".replace(",", " "))

    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "clients": args.clients,
           "requests": args.requests, "seconds": args.seconds, "workers": args.workers, "machine": host,
           "tables": counts, "runs": {}}
    for label, results in runs.items():
        print(f"\n{label}: p99 targets at {CONNECTIONS} connections: page/fragment {TARGET_P99['page']:g} ms, "
              f"save {TARGET_P99['save']:g} ms, /healthz {TARGET_P99['health']:g} ms, export "
              f"{TARGET_P99['export']:g} ms; in-process 50-row list "
              f"{TARGET_INPROCESS_LIST:g} ms («!» = missed)")
        header = (f"{'page':<28} {'path':<30} {'p50':>6} {'p95':>6} {'q':>5} {'rows':>4} │ "
                  f"{'c4 p50':>7} {'c4 p99':>7} {'req/s':>6} │ {'in-proc':>7}")
        print(header)
        print("-" * len(header))
        for r in results:
            if r.error:
                print(f"{r.page.name:<28} {r.path[:30]:<30} FAILED: {r.error}")
                continue
            f = figures_of(r)
            queries = str(f["queries_min"]) if f["queries_min"] == f["queries_max"] else \
                f"{f['queries_min']}–{f['queries_max']}"
            c = r.concurrent or {}
            print(f"{r.page.name[:28]:<28} {r.path[:30]:<30} {f['p50_ms']:>6.1f} {f['p95_ms']:>6.1f} {queries:>5} "
                  f"{r.rows:>4} │ {mark(c.get('p50_ms'), None):>7} {mark(c.get('p99_ms'), target_of(r.page)):>7} "
                  f"{c.get('rps', 0):>6.0f} │ "
                  f"{mark(r.inprocess_ms, TARGET_INPROCESS_LIST if r.page.list_of_50 else None):>7}"
                  + (f"  ({r.note})" if r.note else ""))
        out["runs"][label] = [figures_of(r) for r in results]
    if len(runs) == 2:
        (before_label, before), (after_label, after) = runs.items()
        print(f"\nBefore → after (p99 at {CONNECTIONS} connections, req/s, in-process ms)")
        for b, a in zip(before, after):
            if b.error or a.error or not (b.concurrent and a.concurrent):
                continue
            print(f"  {a.page.name[:28]:<28} p99 {b.concurrent['p99_ms']:6.1f} → {a.concurrent['p99_ms']:6.1f}   "
                  f"req/s {b.concurrent['rps']:5.0f} → {a.concurrent['rps']:5.0f}   "
                  f"in-process {mark(b.inprocess_ms, None):>5} → {mark(a.inprocess_ms, None):>5}"
                  + (f"   (before: {b.note})" if b.note else ""))
    return out


if __name__ == "__main__":
    sys.exit(main())
