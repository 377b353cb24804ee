"""`flask backup` and `flask restore`: what a backup holds, a live database copied consistently, a
restore that refuses every hostile or broken archive with the live data untouched, an older copy
upgraded, and the installation's files readable by their owner only."""

import io
import json
import os
import sqlite3
import stat
import subprocess
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from tests.conftest import app_config, database_snapshot
from webapp import create_app
from webapp.documents import render
from webapp.extensions import db
from webapp.models import AuditEvent, Role, User
from webapp.services import users as user_service

VOICE = b"OggS voice message" * 100


@pytest.fixture
def live(app, sample_records):
    """An installation with one record of each kind, an uploaded file and an overridden template."""
    upload = Path(app.config["UPLOAD_FOLDER"]) / "2026" / "голосовое.ogg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(VOICE)
    template = Path(app.config["DOCUMENT_TEMPLATES"]) / "regulation.docx"
    template.write_bytes((render.TEMPLATE_DIR / "regulation.docx").read_bytes())
    return app


def make_backup(runner, path: Path) -> Path:
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Резервная копия записана: {path}\n"
    return path


def head_revision(app) -> str:
    (head,) = ScriptDirectory(app.extensions["migrate"].directory).get_heads()
    return head


def forge(archive: Path, target: Path, *, manifest: dict | None = None, drop: tuple[str, ...] = (),
          replace: dict[str, bytes] | None = None, extra: tuple[tarfile.TarInfo, ...] = ()) -> Path:
    """A copy of ``archive`` with members dropped, replaced or added, as an attacker would make it."""
    replace = dict(replace or {})
    if manifest is not None:
        replace["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as forged:
        for member in source.getmembers():
            if member.name in drop:
                continue
            if member.name in replace:
                data = replace[member.name]
                member.size = len(data)
                forged.addfile(member, io.BytesIO(data))
            else:
                forged.addfile(member, source.extractfile(member) if member.isfile() else None)
        for member in extra:
            forged.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return target


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def database_member(archive: Path) -> str:
    return read_manifest(archive)["database"]


# -- what a backup holds ----------------------------------------------------------------------


def test_backup_holds_the_database_manifest_uploads_and_templates(live, runner, tmp_path, database_url):
    """Does the archive hold exactly the manifest, the database with the live rows, the uploads and
    the installation's document templates?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    sqlite = database_url.startswith("sqlite")
    dump = "database.sqlite3" if sqlite else "database.pgdump"
    with tarfile.open(archive) as tar:
        members = {member.name: member for member in tar.getmembers()}
        assert sorted(members) == sorted(["manifest.json", dump, "uploads", "uploads/2026",
                                          "uploads/2026/голосовое.ogg", "document_templates",
                                          "document_templates/regulation.docx"])
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest["backend"] == ("sqlite" if sqlite else "postgresql")
        assert manifest["database"] == dump
        assert manifest["revision"] == head_revision(live)
        assert tar.extractfile("uploads/2026/голосовое.ogg").read() == VOICE
        assert tar.extractfile("document_templates/regulation.docx").read() == \
            (render.TEMPLATE_DIR / "regulation.docx").read_bytes()
        tar.extract(dump, tmp_path, filter="data")
    if sqlite:
        with sqlite3.connect(tmp_path / dump) as copy:
            assert copy.execute("SELECT short_name FROM clients").fetchall() == [("Образец",)]
            assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(manifest["revision"],)]
        copy.close()
    else:
        clients = subprocess.run(["pg_restore", "--data-only", "--table=clients", "--file=-", str(tmp_path / dump)],
                                 check=True, capture_output=True, text=True).stdout
        assert "Образец" in clients


def test_backup_archive_is_readable_by_the_owner_only(app, runner, tmp_path):
    """Is the archive (it holds password hashes) created 0600, in a folder created 0700?"""
    archive = make_backup(runner, tmp_path / "backups" / "copy.tar.gz")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    assert not archive.with_name(archive.name + ".part").exists()


def test_a_new_installation_keeps_its_database_uploads_and_templates_to_the_owner(tmp_path):
    """Under a permissive umask, are the SQLite file with its -wal and -shm (and the writers' turn
    lock) 0600 and the uploads and templates folders 0700?"""
    previous = os.umask(0o022)
    try:
        path = tmp_path / "instance" / "accountdesk.sqlite3"
        path.parent.mkdir()
        app = create_app(app_config(f"sqlite:///{path}", tmp_path))
        with app.app_context():
            with db.engine.connect() as connection:
                connection.execute(sa.text("CREATE TABLE probe (id INTEGER)"))
                connection.commit()
                modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
            db.engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"accountdesk.sqlite3": 0o600, "accountdesk.sqlite3-wal": 0o600,
                     "accountdesk.sqlite3-shm": 0o600, "accountdesk.sqlite3-writer.lock": 0o600}
    for folder in (app.config["UPLOAD_FOLDER"], app.config["DOCUMENT_TEMPLATES"]):
        assert stat.S_IMODE(Path(folder).stat().st_mode) == 0o700


# -- a backup of a live database --------------------------------------------------------------


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


def test_backup_of_a_live_database_restores_everything_committed_before_it(app, runner, tmp_path, database_url):
    """Does a backup taken mid-write restore every row committed before it, consistently, uploads too?"""
    upload = Path(app.config["UPLOAD_FOLDER"]) / "2026" / "голосовое.ogg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(VOICE)
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
    assert upload.read_bytes() == VOICE


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


# -- a good restore ---------------------------------------------------------------------------


def test_restore_brings_back_database_uploads_and_templates_and_says_the_counts(live, runner, tmp_path):
    """After changes and deletions, does a restore bring back every row, the uploads and the
    templates exactly as they were backed up, and print how much it restored?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    backed_up = database_snapshot(live)
    upload = Path(live.config["UPLOAD_FOLDER"]) / "2026" / "голосовое.ogg"
    template = Path(live.config["DOCUMENT_TEMPLATES"]) / "regulation.docx"
    upload.unlink()
    template.unlink()
    stray = Path(live.config["UPLOAD_FOLDER"]) / "after-the-backup.txt"
    stray.write_text("новый файл")
    with live.app_context():
        user_service.create_user(email="later@example.test", full_name="Поздний Пользователь",
                                 role=Role.MANAGER, password="later-password")
        db.session.commit()
    assert database_snapshot(live) != backed_up

    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    manifest = read_manifest(archive)
    assert result.output == (
        f"Данные восстановлены из копии от {manifest['created_at']} (ревизия схемы {head_revision(live)}).\n"
        "Восстановлено: пользователи — 1, клиенты — 1, контакты — 1, касания — 1, регламенты — 1, "
        "файлы загрузок — 1, шаблоны документов — 1.\n")
    assert database_snapshot(live) == backed_up
    assert upload.read_bytes() == VOICE
    assert template.read_bytes() == (render.TEMPLATE_DIR / "regulation.docx").read_bytes()
    assert not stray.exists()  # the folder is the backup's, not a merge
    for folder in (upload.parent.parent, template.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert not [p for p in folder.parent.iterdir() if ".restore-" in p.name or ".old-" in p.name]


def at_revision(app, archive: Path, revision: str, tmp_path: Path) -> Path:
    """``archive`` with its database taken down to ``revision`` by the real migrations, as a backup
    made by an older version of AccountDesk would be."""
    work = tmp_path / "older"
    work.mkdir()
    dump = database_member(archive)
    with tarfile.open(archive) as tar:
        tar.extract(dump, work, filter="data")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        _downgrade(f"sqlite:///{work / dump}", revision, tmp_path)
    else:
        scratch = url.set(database=f"{url.database}_older")
        libpq = scratch.set(drivername="postgresql").render_as_string(hide_password=False)
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{scratch.database}"'))
        try:
            subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq}", str(work / dump)],
                           check=True, capture_output=True)
            _downgrade(scratch.render_as_string(hide_password=False), revision, tmp_path)
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={work / dump}", libpq],
                           check=True, capture_output=True)
        finally:
            with engine.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
            engine.dispose()
    manifest = read_manifest(archive) | {"revision": revision}
    return forge(archive, tmp_path / "older.tar.gz", manifest=manifest,
                 replace={dump: (work / dump).read_bytes()})


def _downgrade(url: str, revision: str, tmp_path: Path) -> None:
    older = create_app(app_config(url, tmp_path / "older-app"))
    with older.app_context():
        downgrade(revision=revision)
        db.engine.dispose()


def _tables_at(revision: str, tmp_path: Path) -> set[str]:
    """The tables an empty database has at ``revision``: an older copy holds rows of these only."""
    older = create_app(app_config(f"sqlite:///{tmp_path / 'at-revision.sqlite3'}", tmp_path / "at-revision-app"))
    with older.app_context():
        upgrade(revision=revision)
        names = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    return names


def test_restore_of_a_copy_from_an_older_version_upgrades_it(live, runner, tmp_path):
    """Is a copy made at the previous migration revision restored with all its rows and then
    brought up to this version's schema?"""
    head = head_revision(live)
    previous = ScriptDirectory(live.extensions["migrate"].directory).get_revision(head).down_revision
    archive = at_revision(live, make_backup(runner, tmp_path / "copy.tar.gz"), previous, tmp_path)
    backed_up = database_snapshot(live)
    with live.app_context():
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()

    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"(ревизия схемы {head})" in result.output
    assert f"Копия сделана на ревизии {previous} и обновлена до текущей." in result.output
    older_tables = _tables_at(previous, tmp_path)  # a table the newest revision adds comes back empty
    assert database_snapshot(live) == {t: rows if t in older_tables else [] for t, rows in backed_up.items()}
    with live.app_context():
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        assert "ix_clients_short_name" in {index["name"] for index in sa.inspect(db.engine).get_indexes("clients")}
        db.session.remove()


# -- a restore that cannot destroy ------------------------------------------------------------


def _member(name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0, target: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.size, member.linkname, member.mode = kind, size, target, 0o600
    return member


def _malformed_template() -> bytes:
    """The shipped regulation template with a document.xml that does not parse (a DTD, broken tags)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(render.TEMPLATE_DIR / "regulation.docx") as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><w:document><w:body>&e;'
            target.writestr(info, data)
    return buffer.getvalue()


def _hostile(name: str, archive: Path, tmp_path: Path, live_database: str) -> Path:
    target = tmp_path / "hostile.tar.gz"
    manifest = read_manifest(archive)
    dump = manifest["database"]
    match name:
        case "manifest without a database file":
            return forge(archive, target, drop=(dump,))
        case "manifest naming an absolute path":
            return forge(archive, target, manifest=manifest | {"database": live_database})
        case "a ../ member":
            return forge(archive, target, extra=(_member("uploads/../../escaped.txt", size=1),))
        case "an absolute member":
            return forge(archive, target, extra=(_member(str(tmp_path / "escaped.txt"), size=1),))
        case "a symlink member":
            return forge(archive, target, extra=(_member("uploads/passwd", tarfile.SYMTYPE, target="/etc/passwd"),))
        case "a hardlink member":
            return forge(archive, target, extra=(_member("uploads/db", tarfile.LNKTYPE, target=dump),))
        case "a device member":
            return forge(archive, target, extra=(_member("uploads/null", tarfile.CHRTYPE),))
        case "a member the backup never writes":
            return forge(archive, target, extra=(_member("config.py", size=1),))
        case "a template whose document.xml is malformed":
            return forge(archive, target, replace={"document_templates/regulation.docx": _malformed_template()})
        case "a template the installation does not use":
            return forge(archive, target, extra=(_member("document_templates/contract.docx", size=1),))
        case "a migration revision newer than known":
            return forge(archive, target, manifest=manifest | {"revision": "ffffffffffff"})
        case "a manifest that is not JSON":
            return forge(archive, target, replace={"manifest.json": b"{not json"})
        case "no manifest":
            return forge(archive, target, drop=("manifest.json",))
        case "a truncated archive":
            target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
        case "a corrupt archive":
            data = bytearray(archive.read_bytes())
            data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
            target.write_bytes(bytes(data))
        case "not a tar at all":
            target.write_text("Это не архив, а текст.")
    return target


HOSTILE = {
    "manifest without a database file": "В архиве нет файла базы данных «database.",
    "manifest naming an absolute path": "manifest.json называет файлом базы «/",
    "a ../ member": "В архиве путь «uploads/../../escaped.txt» ведёт за пределы папки восстановления",
    "an absolute member": "ведёт за пределы папки восстановления",
    "a symlink member": "В архиве «uploads/passwd» — ссылка или специальный файл",
    "a hardlink member": "В архиве «uploads/db» — ссылка или специальный файл",
    "a device member": "В архиве «uploads/null» — ссылка или специальный файл",
    "a member the backup never writes": "В архиве лишний файл «config.py»",
    "a template whose document.xml is malformed": "Шаблон «regulation.docx» из копии не прошёл проверку: "
                                                  "Шаблон повреждён: в части word/document.xml есть "
                                                  "объявление DTD или сущностей",
    "a template the installation does not use": "Шаблон «contract.docx» из копии не прошёл проверку: "
                                                "Такой шаблон не используется.",
    "a migration revision newer than known": "Копия сделана на ревизии схемы «ffffffffffff», которую эта версия "
                                             "AccountDesk не знает",
    "a manifest that is not JSON": "manifest.json в архиве повреждён",
    "no manifest": "В архиве нет manifest.json: это не резервная копия AccountDesk.",
    "a truncated archive": "не читается как резервная копия: архив повреждён, обрезан или это не .tar.gz.",
    "a corrupt archive": "не читается как резервная копия: архив повреждён, обрезан или это не .tar.gz.",
    "not a tar at all": "не читается как резервная копия: архив повреждён, обрезан или это не .tar.gz.",
}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_restore_refuses_a_hostile_or_broken_archive_and_changes_nothing(live, runner, tmp_path, hostile):
    """Is each hostile or broken archive refused with a clear message and a non-zero exit, no
    traceback, and the live database, uploads and templates exactly as they were?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    live_database = str(make_url(live.config["SQLALCHEMY_DATABASE_URI"]).database
                        if live.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else "/etc/passwd")
    forged = _hostile(hostile, archive, tmp_path, live_database)
    with live.app_context():  # a change after the backup, which a wrongly accepted restore would lose
        user_service.create_user(email="later@example.test", full_name="Поздний Пользователь",
                                 role=Role.MANAGER, password="later-password")
        db.session.commit()
    before = database_snapshot(live)
    files = {path: path.read_bytes() for key in ("UPLOAD_FOLDER", "DOCUMENT_TEMPLATES")
             for path in Path(live.config[key]).rglob("*") if path.is_file()}

    result = runner.invoke(args=["restore", str(forged), "--yes"])

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert HOSTILE[hostile] in result.output
    assert database_snapshot(live) == before
    assert {path: path.read_bytes() for key in ("UPLOAD_FOLDER", "DOCUMENT_TEMPLATES")
            for path in Path(live.config[key]).rglob("*") if path.is_file()} == files
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    for key in ("UPLOAD_FOLDER", "DOCUMENT_TEMPLATES"):
        siblings = Path(live.config[key]).parent.iterdir()
        assert not [p for p in siblings if ".restore-" in p.name or ".old-" in p.name]


def test_restore_refuses_a_database_file_that_is_not_a_database(live, runner, tmp_path, database_url):
    """Does a database member holding junk get the message of its database kind?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    forged = forge(archive, tmp_path / "junk.tar.gz", replace={database_member(archive): b"junk" * 500})
    before = database_snapshot(live)
    result = runner.invoke(args=["restore", str(forged), "--yes"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    if database_url.startswith("sqlite"):
        assert "Файл базы в архиве не открывается как база SQLite (file is not a database)." in result.output
    else:
        assert "Дамп базы в архиве не читается. pg_restore завершился с ошибкой:" in result.output
    assert database_snapshot(live) == before


def test_restore_refuses_a_backup_of_the_other_database_kind(app, runner, tmp_path, database_url):
    """Is a SQLite backup refused by a PostgreSQL installation (and the reverse), data untouched?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    manifest = read_manifest(archive)
    assert manifest["backend"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    other = "postgresql" if manifest["backend"] == "sqlite" else "sqlite"
    forged = forge(archive, tmp_path / "forged.tar.gz", manifest=manifest | {"backend": other})
    before = database_snapshot(app)
    result = runner.invoke(args=["restore", str(forged), "--yes"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"Копия сделана для {other}, а приложение настроено на {manifest['backend']}." in result.output
    assert database_snapshot(app) == before


def test_restore_asks_before_replacing_the_data(live, runner, tmp_path):
    """Without --yes, does answering «no» leave everything as it was?"""
    archive = make_backup(runner, tmp_path / "copy.tar.gz")
    with live.app_context():
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()
    before = database_snapshot(live)
    result = runner.invoke(args=["restore", str(archive)], input="n\n")
    assert result.exit_code == 1 and "Текущие данные будут заменены копией. Продолжить?" in result.output
    assert database_snapshot(live) == before
