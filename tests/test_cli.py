"""The flask commands: create-user, seed-demo, backup and restore of a live database, bench-data."""

import io
import json
import re
import tarfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import database_snapshot
from webapp import requisites
from webapp.extensions import db
from webapp.models import AuditEvent, CompanyProfile, Role, User
from webapp.services import users as user_service


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


class Writer(threading.Thread):
    """Keeps creating users through the service, one committed transaction each."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.committed, self.stop, self.error = app, [], threading.Event(), None

    def run(self):
        with self.app.app_context():
            try:
                n = 0
                while not self.stop.is_set():
                    user = user_service.create_user(email=f"writer{n}@example.test", full_name=f"Писатель {n}",
                                                    role=Role.SPECIALIST, password="writer-password")
                    db.session.commit()
                    self.committed.append(user.id)
                    n += 1
            except Exception as error:  # reported by the test, not lost in the thread
                self.error = error
            finally:
                db.session.remove()

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.committed) < n and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)


def test_backup_of_a_live_database_restores_everything_committed_before_it(app, runner, tmp_path):
    """Does a backup taken mid-write restore every row committed before it, consistently, uploads too?"""
    upload = Path(app.config["UPLOAD_FOLDER"]) / "2026" / "голосовое.ogg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"OggS voice message" * 100)
    archive = tmp_path / "backups" / "accountdesk.tar.gz"

    writer = Writer(app)
    writer.start()
    writer.wait_for(5)
    before_backup = list(writer.committed)
    result = runner.invoke(args=["backup", str(archive)])
    writer.wait_for(len(before_backup) + 3)  # still writing after the backup finished
    writer.stop.set()
    writer.join()
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert archive.exists() and not archive.with_name(archive.name + ".part").exists()

    upload.unlink()
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        users = set(db.session.scalars(sa.select(User.id)))
        created = set(db.session.scalars(sa.select(AuditEvent.entity_id).where(
            AuditEvent.entity_type == "users", AuditEvent.action == "create")))
        assert set(before_backup) <= users
        assert users == created  # no user without its audit row, nor the reverse: one consistent moment
        assert integrity_problems() == []
        db.session.remove()
    assert upload.read_bytes() == b"OggS voice message" * 100


def integrity_problems() -> list:
    """What the restored database itself finds wrong. SQLite: damaged pages and dangling references;
    PostgreSQL (which refuses dangling references while its keys exist): a foreign key of the models
    that the restore did not bring back, or brought back unchecked."""
    if db.engine.dialect.name == "sqlite":
        damaged = [line for line in db.session.scalars(sa.text("PRAGMA integrity_check")) if line != "ok"]
        return damaged + [tuple(row) for row in db.session.execute(sa.text("PRAGMA foreign_key_check"))]
    declared = {str(key.name) for table in db.metadata.sorted_tables for key in table.foreign_key_constraints}
    validated = set(db.session.scalars(sa.text(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND convalidated "
        "AND connamespace = 'public'::regnamespace")))
    return sorted(declared - validated)


def test_backup_holds_the_database_the_uploads_and_the_document_templates(app, runner, tmp_path, database_url):
    """Does the archive hold, member by member, the manifest, the database, every upload and the
    installation's own document templates — and does restore bring the templates back?"""
    upload = Path(app.config["UPLOAD_FOLDER"]) / "2026" / "акт.pdf"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"%PDF-1.7 scanned act")
    template = Path(app.config["DOCUMENT_TEMPLATES"]) / "regulation.docx"
    template.parent.mkdir(parents=True)
    template.write_bytes(b"PK our own regulation template")
    archive = tmp_path / "copy.tar.gz"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    database = "database.sqlite3" if database_url.startswith("sqlite") else "database.pgdump"
    with tarfile.open(archive) as tar:
        assert sorted(member.name for member in tar.getmembers() if member.isfile()) == sorted([
            "manifest.json", database, "uploads/2026/акт.pdf", "document_templates/regulation.docx"])
        assert json.load(tar.extractfile("manifest.json"))["database"] == database
        assert tar.extractfile("document_templates/regulation.docx").read() == b"PK our own regulation template"
    template.unlink()
    upload.unlink()
    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert template.read_bytes() == b"PK our own regulation template"
    assert upload.read_bytes() == b"%PDF-1.7 scanned act"


def test_restore_refuses_a_backup_of_the_other_database_kind(app, runner, tmp_path, database_url):
    """Is a SQLite backup refused by a PostgreSQL installation (and the reverse), data untouched?"""
    archive = tmp_path / "copy.tar.gz"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["backend"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    manifest["backend"] = "postgresql" if manifest["backend"] == "sqlite" else "sqlite"
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(forged, "w:gz") as target:
        for member in source.getmembers():
            if member.name == "manifest.json":
                data = json.dumps(manifest).encode()
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    before = database_snapshot(app)
    result = runner.invoke(args=["restore", str(forged), "--yes"])
    assert result.exit_code == 1 and "Копия сделана для" in result.output
    assert database_snapshot(app) == before


def test_bench_data_generates_and_prints_counts(app, runner):
    """Does `flask bench-data --clients 40` fill the database and say how much it made?"""
    result = runner.invoke(args=["bench-data", "--clients", "40"])
    assert result.exit_code == 0, result.output
    figures = dict(re.findall(r"(\w+): (\d+)", result.output))
    assert int(figures["users"]) > 0 and int(figures["audit_events"]) > 0
    assert count(app, User) == int(figures["users"])
