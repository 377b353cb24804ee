"""The flask commands: create-user, seed-demo, bench-data (backup and restore: test_backup.py)."""

import re

import sqlalchemy as sa

from tests.conftest import database_snapshot
from webapp import requisites
from webapp.extensions import db
from webapp.models import AuditEvent, CompanyProfile, Role, User


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_user_asks_the_password_twice(app, runner):
    """Does `flask create-user` make a user who can log in with the password typed twice?"""
    result = runner.invoke(args=["create-user", "Volkov@Example.test", "--name", "Волков Дмитрий Андреевич",
                                 "--role", "lead", "--position", "Руководитель отдела"],
                           input="long-password-1\nlong-password-1\n")
    assert result.exit_code == 0, result.output
    assert "Создан пользователь volkov@example.test (Руководитель производства)." in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.email, user.role, user.position) == ("volkov@example.test", Role.LEAD, "Руководитель отдела")
        assert user.check_password("long-password-1")
    app.test_client().login("volkov@example.test", "long-password-1")


def test_create_user_refuses_mismatched_or_short_passwords(app, runner, make_user):
    """Are a mistyped second password, a short one and a taken e-mail refused, creating nobody?"""
    make_user(email="taken@example.test")
    args = ["create-user", "new@example.test", "--name", "Новиков Иван"]
    mismatch = runner.invoke(args=args, input="long-password-1\nlong-password-2\n")
    assert mismatch.exit_code != 0
    short = runner.invoke(args=args, input="short\nshort\n")
    assert short.exit_code == 1 and "Пароль должен быть не короче 10 символов." in short.output
    taken = runner.invoke(args=["create-user", "TAKEN@example.test", "--name", "Дубль"],
                          input="long-password-1\nlong-password-1\n")
    assert taken.exit_code == 1 and "Пользователь с таким e-mail уже есть." in taken.output
    assert count(app, User) == 1


def test_seed_demo_loads_once(app, runner):
    """Does `flask seed-demo` load a company and a user of every role, and refuse to load twice?"""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Демо-данные загружены." in result.output and "demo-password" in result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(User.role))) == set(Role)
        company = db.session.scalar(sa.select(CompanyProfile))
        assert company.name and company.signatory_name
        # the demo requisites pass the same checks as the admin's form
        assert requisites.check_inn(company.inn) is None
        assert requisites.check_kpp(company.kpp) is None
        assert requisites.check_ogrn(company.ogrn) is None
        assert requisites.check_bik(company.bik) is None
        assert requisites.check_account(company.account, company.bik) is None
        assert requisites.check_corr_account(company.corr_account, company.bik) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0
    loaded = database_snapshot(app)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "демо-данные не загружены" in again.output
    assert database_snapshot(app) == loaded


def test_seed_demo_names_the_port_flask_run_serves(app, runner, monkeypatch):
    """Does the login hint name the port `make run` serves (FLASK_RUN_PORT), and, not knowing it,
    say where to look instead of printing a guessed 5000? (A database with a user already: the
    hint is printed whether or not the demo loads, and loading it is the other test's.)"""
    runner.invoke(args=["create-user", "admin@example.com", "--name", "Админ", "--role", "admin"],
                  input="long-enough-password\nlong-enough-password\n")
    assert count(app, User) == 1
    monkeypatch.setenv("FLASK_RUN_HOST", "127.0.0.1")
    monkeypatch.setenv("FLASK_RUN_PORT", "8123")
    told = runner.invoke(args=["seed-demo"]).output
    assert "http://127.0.0.1:8123/login" in told and ":5000" not in told
    monkeypatch.delenv("FLASK_RUN_HOST")
    monkeypatch.delenv("FLASK_RUN_PORT")
    unknown = runner.invoke(args=["seed-demo"]).output
    assert "по адресу, который покажет flask run" in unknown and "5000" not in unknown


def test_bench_data_generates_and_prints_counts(app, runner):
    """Does `flask bench-data --clients 40` fill the database and say how much it made?"""
    result = runner.invoke(args=["bench-data", "--clients", "40"])
    assert result.exit_code == 0, result.output
    figures = dict(re.findall(r"(\w+): (\d+)", result.output))
    assert int(figures["users"]) > 0 and int(figures["audit_events"]) > 0
    assert count(app, User) == int(figures["users"])


def analysed_tables(app) -> set[str]:
    """Tables the database's planner holds statistics for."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            query = "SELECT DISTINCT tbl FROM sqlite_stat1"
        else:
            query = "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        return set(db.session.scalars(sa.text(query)))


def test_bench_data_invoices_carry_the_payment_qr_code(app, runner):
    """The benchmark's «Счёт: DOCX с QR-кодом» page: does the generated company have the bank details
    that put the payment QR code on an invoice?"""
    import io

    from docx import Document

    from webapp.documents.act import render_invoice
    from webapp.models import Act
    from webapp.services import acts as act_service

    assert runner.invoke(args=["bench-data", "--clients", "2"]).exit_code == 0
    with app.test_request_context():
        act = db.session.scalars(sa.select(Act).order_by(Act.id)).first()
        invoice = Document(io.BytesIO(render_invoice(act_service.act_doc(act))))
        assert invoice.inline_shapes, "no QR code on the benchmark's invoice"


def test_bulk_loads_leave_planner_statistics(app, runner):
    """After `flask bench-data` (and the demo), does the planner know the tables' sizes? Without
    statistics SQLite guessed the dashboard's counts into several times their cost. PostgreSQL's
    tables are vacuumed too, so that an index-only scan reads no heap rows just after the load."""
    assert runner.invoke(args=["bench-data", "--clients", "20"]).exit_code == 0
    assert {"clients", "touchpoints", "backlog_items", "acts"} <= analysed_tables(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            vacuumed = set(db.session.scalars(sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL")))
            assert {"stages", "backlog_items", "clients"} <= vacuumed
