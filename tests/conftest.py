"""Fixtures: a clock the tests control, a migrated real database (SQLite, and PostgreSQL where
TEST_DATABASE_URL names one), an app per test, a test client that sends CSRF tokens like a browser,
and factories for data. Every test module finds them here; no test module imports another."""

import contextlib
import hashlib
import os
import re
import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from webapp import create_app, requisites
from webapp.extensions import db
from webapp.models import Channel, Client as ClientRecord, Contact, Role, User
from webapp.models.types import utcnow

TEST_PASSWORD = "correct-horse-battery"
FAST_HASH = "pbkdf2:sha256:1000"  # the real default (scrypt, 64 MiB) is checked in test_auth

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
NO_POSTGRESQL = "PostgreSQL: not configured (TEST_DATABASE_URL unset) — ran on SQLite only"

# The fixtures of the real servers some tests talk to: the directory (slapd) and mail (aiosmtpd).
pytest_plugins = ["tests.ldap_server", "tests.smtp_server", "tests.backlog_fixtures", "tests.budget_fixtures",
                  "tests.acts_fixtures", "tests.meetings_fixtures"]

MOSCOW = ZoneInfo("Europe/Moscow")
# A Wednesday in an ordinary working week: no holiday within the cadence of any default test.
DEFAULT_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)


# --- what the run covered ---------------------------------------------------------------------------


def pytest_report_header(config) -> str:
    if "postgresql" in DATABASES:
        return "databases: SQLite and PostgreSQL (TEST_DATABASE_URL)"
    return NO_POSTGRESQL


def pytest_terminal_summary(terminalreporter) -> None:
    """Say at the end, where it is read, that half of the database runs did not happen."""
    if "postgresql" not in DATABASES:
        terminalreporter.write_sep("-", NO_POSTGRESQL, yellow=True, bold=True)


def pytest_sessionfinish(session) -> None:
    """End the one-shot timers the apps of the run left behind (the rate limiter's in-memory storage
    starts one per app to expire its counters). They are not daemon threads: where a timed wait does
    not return in time — under ``faketime``, which moves the clock the wait is measured on — the
    process would wait for them at exit instead of ending."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


# --- the clock ----------------------------------------------------------------------------------------


class Clock:
    """The clock the application reads (``datetime.now``, ``time.time``: in every thread)."""

    def __init__(self, traveller: time_machine.Traveller):
        self._traveller = traveller

    def travel(self, moment: datetime | date) -> None:
        """Go to ``moment``; a date means 10:00 that day, a naive time is read in Moscow."""
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(10, 0))
        self._traveller.move_to(moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW))

    def shift(self, delta: timedelta | None = None, **parts: float) -> None:
        """Move on (or back) by ``delta``, or by ``days=…, minutes=…``."""
        self._traveller.shift(delta if delta is not None else timedelta(**parts))


@pytest.fixture(autouse=True)
def clock():
    """Every test starts at DEFAULT_NOW with the clock ticking, never on the real today; a test
    that needs another moment asks for ``clock`` and calls ``clock.travel(...)``."""
    with time_machine.travel(DEFAULT_NOW, tick=True) as traveller:
        yield Clock(traveller)


# --- the database and the app ----------------------------------------------------------------------


def app_config(url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "DOCUMENT_TEMPLATES": str(tmp / "document_templates"),  # never the real instance's overrides
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def _migrated(url: str, tmp_path_factory) -> str:
    """Bring the database at ``url`` from empty to the newest revision by the real migrations."""
    app = create_app(app_config(url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.engine.dispose()
    return url


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (``test_gw0``, …),
    created on first use: workers would otherwise drop each other's schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> str:
    """A SQLite file migrated from empty, once per run (per worker)."""
    return _migrated(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}", tmp_path_factory)


@pytest.fixture(scope="session")
def postgresql_database(tmp_path_factory) -> str:
    """The PostgreSQL database of TEST_DATABASE_URL, its schema dropped and migrated from empty."""
    url = _worker_database(os.environ["TEST_DATABASE_URL"])
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return _migrated(url, tmp_path_factory)


@pytest.fixture(params=DATABASES)
def database_url(request) -> str:
    """Each database test runs on SQLite and on PostgreSQL; both stay migrated for the whole run,
    so tests of either may come in any order (as pytest-xdist hands them out)."""
    return request.getfixturevalue(f"{request.param}_database")


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class Client(FlaskClient):
    """Sends the CSRF token with every change, as our pages do; ``csrf=False`` leaves it out.

    ``htmx=True`` adds the headers htmx 4 sends for a partial request.
    """

    def open(self, *args, csrf: bool = True, htmx: bool = False, **kwargs):
        method = kwargs.get("method", "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers.setdefault("X-CSRFToken", self.csrf_token())
        if htmx:
            headers.update({"HX-Request": "true", "HX-Request-Type": "partial"})
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def login(self, user_or_email, password: str = TEST_PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        response = self.post("/login", data={"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response


@contextlib.contextmanager
def serving_app(database_url: str, tmp_path: Path, **config):
    """An app on the test database (``config`` over the test settings), its tables emptied before
    the test, its connections closed after. Every test empties the tables it starts from, so none
    empties them again when it ends: on PostgreSQL that TRUNCATE of every table costs ~0.1 s, twice
    per test was a minute and a half of a CI run."""
    app = create_app({**app_config(database_url, tmp_path), **config})
    app.test_client_class = Client
    with app.app_context():
        _empty_all_tables()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    with serving_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture(scope="session")
def routing_app(tmp_path_factory):
    """An app for questions that no database answers (routes, views, headers, password hashing):
    such tests run once, not once per database."""
    return create_app(app_config("sqlite://", tmp_path_factory.mktemp("routing")))


@pytest.fixture
def ctx(app):
    """An application context for tests that call services and models directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Factory: ``make_user(Role.MANAGER)`` creates an active user with TEST_PASSWORD."""
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.MANAGER, *, email: str | None = None, full_name: str | None = None,
             active: bool = True, position: str = "") -> User:
        n = next(counter)
        with app.app_context():
            user = User(email=email or f"{role.value}{n}@example.test",
                        full_name=full_name or f"Тестов{n} Тест Тестович", role=role, active=active,
                        position=position or role.label)
            user.set_password(TEST_PASSWORD, FAST_HASH)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return make


@pytest.fixture
def make_client(app):
    """``make_client(manager, short_name=..., contacts=[...], days_ago=N)`` through the services;
    ``days_ago`` logs a call that many days before the test's clock."""
    counter = iter(range(1, 100_000))

    def make(manager: User, *, short_name: str | None = None, deputy: User | None = None,
             contacts: list[dict] | None = None, days_ago: int | None = None, **fields) -> ClientRecord:
        from webapp.services import clients as client_service

        n = next(counter)
        with app.app_context():
            acting = db.session.get(User, manager.id)
            client = client_service.create_client({
                "short_name": short_name or f"Клиент {n}", "manager_id": manager.id,
                "deputy_id": deputy.id if deputy else None, **fields}, acting=acting)
            for data in contacts or []:
                client_service.add_contact(client, data, acting=acting)
            if days_ago is not None:
                client_service.log_touchpoint(client, channel=Channel.CALL, summary="Созвонились",
                                              acting=acting, occurred_at=utcnow() - timedelta(days=days_ago))
            db.session.commit()
            client_id = client.id
        return reload(app, ClientRecord, client_id)

    return make


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries:`` … ``len(queries)`` statements ran."""

    @contextlib.contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def login_as(client, make_user):
    """``login_as(Role.ADMIN)`` makes a user of that role and logs the test client in."""

    def login(role: Role = Role.MANAGER, **kwargs) -> User:
        user = make_user(role, **kwargs)
        client.login(user)
        return user

    return login


@pytest.fixture
def manager_with_client(client, login_as, make_client):
    """A manager, logged in, with a client that has full requisites and one decision maker."""
    manager = login_as(Role.MANAGER, full_name="Петров Алексей Николаевич", position="Аккаунт-менеджер")
    bik = "044525225"
    record = make_client(manager, short_name="Ромашка", legal_name="ООО «Ромашка»", inn=requisites.make_inn("771234567"),
                         kpp="771201001", bik=bik, bank_name="ПАО Сбербанк", corr_account="30101810400000000225",
                         account=requisites.with_account_key(bik, "4070281038000012345"), contract_number="15/26",
                         contacts=[{"full_name": "Ковалёва Анна Сергеевна", "position": "Генеральный директор",
                                    "is_decision_maker": True, "decides_cost": True, "decides_acceptance": True}])
    return manager, record


def messages(response) -> list[str]:
    """The validation and alert messages a user would read on the page."""
    html = response.get_data(as_text=True)
    found = re.findall(r'class="invalid-feedback[^"]*">([^<]+)<', html)
    found += re.findall(r'role="alert"[^>]*>\s*([^<]+?)\s*<', html)
    return [m.strip() for m in found]


@pytest.fixture
def sample_records(app, make_user):
    """One real record of each kind, for the routes with ``<int:…>`` ids (the permission matrix,
    the HTML checks); areas add theirs here. Everything belongs to a manager of its own, so a
    test user of any role sees them as somebody else's."""
    from types import SimpleNamespace

    from webapp.models import Channel
    from webapp.services import clients as client_service
    from webapp.services import regulations as regulation_service

    owner = make_user(Role.MANAGER, full_name="Образцов Пётр Ильич")
    with app.app_context():
        acting = db.session.get(User, owner.id)
        client = client_service.create_client({"short_name": "Образец"}, acting=acting)
        contact = client_service.add_contact(client, {"full_name": "Контактов Иван"}, acting=acting)
        touchpoint = client_service.log_touchpoint(client, channel=Channel.CALL, summary="Созвонились",
                                                   contact_ids=[contact.id], acting=acting)
        regulation = regulation_service.create_draft(client, acting=acting)
        from webapp.services import backlog as backlog_service
        item = backlog_service.create_item(client, {"title": "Образцовая задача", "request_text": "Сделайте отчёт",
                                                    "requester_id": contact.id}, acting=acting)
        from webapp.services import acts as act_service
        from webapp.services import budgets as budget_service
        budget = budget_service.create_budget(client, 2026, acting=acting)
        block = budget_service.add_block(budget, name="Операционный блок", planned_amount=Decimal("120000"),
                                         acting=acting)
        item.budget_block_id = block.id
        act = act_service.create_draft(client, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                       item_ids=[], acting=acting)
        act_line = act_service.add_line(act, {"name": "Образцовая работа", "quantity": Decimal("2"),
                                              "price": Decimal("3000")}, acting=acting)
        from webapp.services import meetings as meeting_service
        meeting = meeting_service.plan_meeting(client, acting=acting)
        point = meeting_service.add_point(meeting, title="Образцовый вопрос", acting=acting)
        action = meeting_service.add_action(meeting, what="Образцовое поручение", contact_id=contact.id,
                                            acting=acting)
        db.session.commit()
        records = SimpleNamespace(user=owner, client=SimpleNamespace(id=client.id),
                                  budget=SimpleNamespace(id=budget.id), block=SimpleNamespace(id=block.id),
                                  act=SimpleNamespace(id=act.id), act_line=SimpleNamespace(id=act_line.id),
                                  contact=SimpleNamespace(id=contact.id),
                                  touchpoint=SimpleNamespace(id=touchpoint.id),
                                  regulation=SimpleNamespace(id=regulation.id),
                                  item=SimpleNamespace(id=item.id), stage=SimpleNamespace(id=item.stages[0].id),
                                  meeting=SimpleNamespace(id=meeting.id), point=SimpleNamespace(id=point.id),
                                  action=SimpleNamespace(id=action.id),
                                  attendee=SimpleNamespace(id=meeting.attendees[0].id))
        db.session.remove()
    return records


@pytest.fixture
def sample_files(app, sample_records):
    """A voice message attached to the sample client (``sample_records.attachment``), for the walks
    over every route. Files belong to records of the areas that register as their owners; the
    client stands in here under the clients' own scope rule. Apart from ``sample_records`` so that
    the backup tests, which count rows and files, see no file of their own."""
    from types import SimpleNamespace

    from webapp.models import Client
    from webapp.services import access, attachments

    attachments.register_owner("sample_client", load=access.get_client, can_change=access.can_edit_client)
    with app.app_context():
        client = db.session.get(Client, sample_records.client.id)
        with open(Path(__file__).parent / "fixtures" / "voice.wav", "rb") as voice:
            attachment = attachments.add_attachment("sample_client", client, voice, "голосовое.wav",
                                                    acting=client.manager)
        db.session.commit()
        sample_records.attachment = SimpleNamespace(id=attachment.id)
        db.session.remove()
    yield sample_records
    attachments.OWNERS.pop("sample_client", None)


def reload(app, model, ident):
    """The record as the database holds it now (None if it is gone), detached from the session."""
    with app.app_context():
        record = db.session.get(model, ident)
        if record is not None:
            db.session.expunge(record)
        return record


def contact_count(app, client_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.client_id == client_id))


def run_in_threads(*targets, timeout: float = 120) -> None:
    """Run each callable in a real thread of its own, all at once, wait for them, and fail with
    the errors any of them raised (a race proven, not assumed: SQLite's single writer or
    PostgreSQL's row locks decide who waits)."""
    errors: list[BaseException] = []

    def guarded(target) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"


def database_snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing changed."""
    with app.app_context():
        snapshot = {}
        for table in db.metadata.sorted_tables:
            if table.name == "cache_tokens":  # not data: new tokens only tell workers to reload (webapp.cache)
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            snapshot[table.name] = [tuple(row) for row in db.session.execute(sa.select(table).order_by(*order))]
        db.session.rollback()
    return snapshot
