"""The AccountDesk benchmark: generated data, a real gunicorn, timed pages, one table of figures.

    python benchmarks/run.py [--clients N] [--requests K] [--database-url URL] [--workers W]

Everything lives in a temporary directory (the SQLite file, the instance folder, the server log)
that is removed at the end (``--keep`` keeps it). Steps: ``flask db upgrade``, ``flask bench-data
--clients N``, ``gunicorn -w W`` on a free port of 127.0.0.1, log in over HTTP once per role that
``PAGES`` needs, then per page 3 untimed warm-up requests per worker and K timed ones, one after
another. Prints the machine, the data volume and per page: p50, p95, max latency, SQL statements per
request (from the ``X-Query-Count`` header) and the table rows the page shows. Exits 1 if any
request of any page did not answer 200.

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
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
    name: str
    role: str  # the Role value of the user who requests it: "manager", "admin", …
    path: str | Callable[[Ctx], str]


# One line per page. The manager is the first generated manager (see pick_user); the admin likewise.
PAGES = [
    Page("Мой день", "manager", "/"),
    Page("Мой день (все менеджеры)", "admin", "/"),
    Page("Клиенты", "manager", "/clients/"),
    Page("Клиенты: поиск", "manager", "/clients/?q=%D1%80%D0%BE%D0%BC"),
    Page("Клиенты: по телефону", "manager", "/clients/?q=912"),
    Page("Клиенты: требуют внимания", "manager", "/clients/?cadence=attention&sort=last_contact"),
    Page("Карточка клиента", "manager",
         lambda ctx: f"/clients/{ctx.scalar('SELECT min(id) FROM clients WHERE manager_id = :m', m=ctx.users['manager'].id)}"),
    Page("Пользователи", "admin", "/admin/users"),
    Page("Журнал аудита", "admin", "/admin/audit"),
    Page("Профиль компании", "admin", "/admin/company"),
    Page("Учётная запись", "manager", "/account"),
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


class _CsrfField(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token":
            self.token = values.get("value")


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
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: dict[str, str] | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            status, headers, content = error.code, error.headers, error.read()
        seconds = time.perf_counter() - started
        return Answer(status, dict(headers.items()), content.decode("utf-8", "replace"), seconds)

    def login(self, email: str, password: str) -> None:
        page = self.request("/login")
        parser = _CsrfField()
        parser.feed(page.body)
        if page.status != 200 or not parser.token:
            raise RuntimeError(f"GET /login answered {page.status} without a csrf_token field")
        answer = self.request("/login", {"csrf_token": parser.token, "email": email, "password": password})
        if answer.status not in (302, 303):
            raise RuntimeError(f"login as {email} failed: POST /login answered {answer.status}")
        check = self.request("/account")
        if check.status != 200:
            raise RuntimeError(f"after logging in as {email}, /account answered {check.status}")


# --- measuring -------------------------------------------------------------------------------------

@dataclass
class Result:
    page: Page
    path: str = ""
    latencies: list[float] = field(default_factory=list)  # seconds
    queries: list[int] = field(default_factory=list)
    rows: int | None = None
    error: str | None = None


_TBODY = re.compile(r"<tbody\b.*?</tbody>", re.S | re.I)
_TR = re.compile(r"<tr\b", re.I)


def table_rows(body: str) -> int:
    """Rows the page shows: the <tr> inside every <tbody>."""
    return sum(len(_TR.findall(tbody)) for tbody in _TBODY.findall(body))


def measure(page: Page, path: str, browser: Browser, requests: int, warmup: int) -> Result:
    result = Result(page, path)
    for i in range(warmup + requests):
        answer = browser.request(path)
        if answer.status != 200:
            result.error = f"request {i + 1} answered {answer.status}"
            break
        count = answer.headers.get("X-Query-Count")
        if count is None:
            result.error = "no X-Query-Count header (QUERY_COUNT_HEADER is off?)"
            break
        if i >= warmup:
            result.latencies.append(answer.seconds)
            result.queries.append(int(count))
            result.rows = table_rows(answer.body)
    return result


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


# --- main ------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000, help="clients to generate (default 2000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--database-url", help="an empty database to fill and measure "
                                               "(default: a SQLite file in the temporary directory)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or args.workers < 1:
        parser.error("--clients, --requests and --workers must be positive")
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
    server: subprocess.Popen | None = None
    log = tmp / "gunicorn.log"
    try:
        print(f"AccountDesk benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
              f"(temporary directory {tmp})", flush=True)
        _, seconds = run_flask(env, "db", "upgrade")
        print(f"  flask db upgrade                {seconds:6.1f} s", flush=True)
        output, seconds = run_flask(env, "bench-data", "--clients", str(args.clients))
        print(f"  flask bench-data --clients {args.clients:<5}{seconds:6.1f} s   {output}", flush=True)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with log.open("w") as log_file:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                 "webapp:create_app()"], cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        seconds = wait_for_health(base, server, log)
        print(f"  gunicorn -w {args.workers} on {base:<22}{seconds:4.1f} s until /healthz answered", flush=True)

        roles = sorted({page.role for page in PAGES})
        users = {role: pick_user(engine, role) for role in roles}
        browsers = {}
        for role in roles:
            browsers[role] = Browser(base)
            browsers[role].login(users[role].email, BENCH_PASSWORD)
        print("  logged in as " + ", ".join(f"{role} {user.email}" for role, user in users.items()), flush=True)
        ctx = Ctx(engine, users)

        results = []
        for page in PAGES:
            try:
                path = page.path(ctx) if callable(page.path) else page.path
            except Exception as error:  # a path function that finds no row is a failed page
                results.append(Result(page, "?", error=f"no path: {error}"))
                continue
            results.append(measure(page, path, browsers[page.role], args.requests, WARMUP * args.workers))

        figures = report(args, machine(engine), table_counts(engine), results)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
        failed = [r for r in results if r.error]
        if failed:
            print(f"\nFAILED: {len(failed)} of {len(results)} pages did not answer 200 to every request.")
            print(f"Server log (last lines):\n{tail(log)}")
            return 1
        print(f"\nOK: every request of {len(results)} pages answered 200.")
        return 0
    except (RuntimeError, LookupError, OSError, subprocess.TimeoutExpired) as error:
        print(f"\nFAILED: {error}")
        if server is not None and "gunicorn" not in str(error):
            print(f"Server log (last lines):\n{tail(log)}")
        return 1
    finally:
        if server is not None:
            stop(server)
        engine.dispose()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, host: dict[str, str], counts: dict[str, int],
           results: list[Result]) -> dict:
    print("\nMachine")
    for key, value in host.items():
        print(f"  {key:<9} {value}")
    print(f"  server    gunicorn -w {args.workers} (sync), requests one after another, "
          f"{WARMUP * args.workers} warm-up + {args.requests} timed per page")

    print("\nData volume (rows per table)")
    for name, count in counts.items():
        print(f"  {name:<24} {count:>9,}".replace(",", " "))

    print()
    header = f"{'page':<20} {'path':<24} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'queries':>8} {'rows':>5}"
    print(header)
    print("-" * len(header))
    pages = []
    for r in results:
        if r.error:
            print(f"{r.page.name:<20} {r.path:<24} FAILED: {r.error}")
            pages.append({"page": r.page.name, "role": r.page.role, "path": r.path, "error": r.error})
            continue
        ms = [s * 1000 for s in r.latencies]
        p50, p95, top = percentile(ms, 50), percentile(ms, 95), max(ms)
        low, high = min(r.queries), max(r.queries)
        queries = str(low) if low == high else f"{low}–{high}"
        print(f"{r.page.name:<20} {r.path:<24} {p50:>7.1f} {p95:>7.1f} {top:>7.1f} {queries:>8} {r.rows:>5}")
        pages.append({"page": r.page.name, "role": r.page.role, "path": r.path, "p50_ms": round(p50, 2),
                      "p95_ms": round(p95, 2), "max_ms": round(top, 2), "queries_min": low,
                      "queries_max": high, "rows": r.rows})
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "clients": args.clients,
            "requests": args.requests, "workers": args.workers, "machine": host, "tables": counts,
            "pages": pages}


if __name__ == "__main__":
    sys.exit(main())
