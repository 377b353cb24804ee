"""Backups of an installation and their restore, and the owner-only files they protect.

A backup is one .tar.gz: ``manifest.json`` (backend, database file, migration revision, time), the
database (``database.sqlite3`` or a ``pg_dump`` custom-format ``database.pgdump``), ``uploads/`` and
``document_templates/``.

A restore checks the whole archive before it touches anything — member paths, the manifest, the
database file, the migration revision, every document template — then builds the new database
and folders next to the live ones and only then puts them in place. A refused or failed restore
leaves the live data as it was.
"""

import gzip
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from webapp.extensions import db
from webapp.models import Client, Contact, Regulation, Touchpoint, User
from webapp.services import ServiceError
from webapp.services.templates import check_template_file

MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FOLDERS = {"uploads": "UPLOAD_FOLDER", "document_templates": "DOCUMENT_TEMPLATES"}


class BackupError(Exception):
    """A backup or restore refused or failed; the message is Russian and meant for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Restored:
    """What a restore put in place, for the admin to compare with what they expected."""

    created_at: str
    revision: str
    upgraded_from: str | None
    counts: dict[str, int]

    def summary(self) -> str:
        lines = [f"Данные восстановлены из копии от {self.created_at} (ревизия схемы {self.revision})."]
        if self.upgraded_from:
            lines.append(f"Копия сделана на ревизии {self.upgraded_from} и обновлена до текущей.")
        lines.append("Восстановлено: " + ", ".join(f"{name} — {n}" for name, n in self.counts.items()) + ".")
        return "\n".join(lines)


# -- owner-only files -------------------------------------------------------------------------


def create_owner_only_storage(app: Flask) -> None:
    """Create the SQLite file and the uploads and templates folders readable by the owner only:
    they hold password hashes and clients' documents. SQLite gives its -wal and -shm files the
    database file's mode. Existing files keep theirs."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        try:
            os.close(os.open(url.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except (FileExistsError, FileNotFoundError):  # there already, or no folder: SQLite will say
            pass
    for key in FOLDERS.values():
        Path(app.config[key]).mkdir(mode=0o700, parents=True, exist_ok=True)


def _make_owner_only(root: Path) -> None:
    root.chmod(0o700)
    for folder, subfolders, files in os.walk(root):
        for name in subfolders:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o600)


# -- backup -----------------------------------------------------------------------------------


def make_backup(path: Path) -> None:
    """Write a consistent copy of the live database, the uploads and the installation's document
    templates to ``path`` (.tar.gz, mode 600), through a ``.part`` file so a half-written archive
    never carries the final name."""
    url = _database_url()
    backend = url.get_backend_name()
    revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    db.session.remove()
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / DATABASE_FILES[backend]
        if backend == "sqlite":
            _copy_sqlite(Path(url.database), dump)
        else:
            _run([current_app.config["PG_DUMP"], "--format=custom", "--no-owner", f"--file={dump}",
                  _libpq_url(url)])
        manifest = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "backend": backend, "database": dump.name, "revision": revision}
        partial = path.with_name(path.name + ".part")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _owner_only_file(partial) as handle, tarfile.open(fileobj=handle, mode="w:gz") as archive:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
                archive.addfile(info, io.BytesIO(data))
                archive.add(dump, dump.name)
                for arcname, folder in _live_folders().items():
                    if folder.is_dir():  # a missing folder comes back empty
                        archive.add(folder, arcname, filter=_files_and_folders_only)
            partial.replace(path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"Не удалось записать копию в {path}: {error.strerror or error}.") from error


@contextmanager
def _owner_only_file(path: Path) -> Iterator:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an old .part may be there with other bits
        yield handle


def _files_and_folders_only(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """A restore refuses links and devices, so a backup never carries them."""
    return member if member.isfile() or member.isdir() else None


# -- restore ----------------------------------------------------------------------------------


def restore_backup(path: Path) -> Restored:
    """Replace the live database, uploads and document templates with the copy in ``path``.

    Refused with ``BackupError`` — and nothing touched — unless every part of the archive checks
    out; a copy made at an older migration revision is upgraded before it replaces anything.
    """
    url = _database_url()
    backend = url.get_backend_name()
    with tempfile.TemporaryDirectory(prefix="accountdesk-restore-") as tmp:
        staging = Path(tmp)
        _extract(path, staging)
        manifest = _read_manifest(staging, backend)
        dump = staging / manifest["database"]
        revision = manifest["revision"]
        scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
        known = {script.revision for script in scripts.walk_revisions()}
        if revision not in known:
            raise BackupError(f"Копия сделана на ревизии схемы «{_shown(revision)}», которую эта версия "
                              "AccountDesk не знает (копия более новой версии?). Обновите приложение "
                              "и повторите восстановление.")
        upgrade = revision not in scripts.get_heads()
        if backend == "sqlite":
            _check_sqlite_copy(dump, revision)
        else:
            _check_pg_dump(dump)
        _check_templates(staging / "document_templates")

        folders = _stage_folders(staging)
        try:
            if backend == "sqlite":
                _restore_sqlite(dump, Path(url.database), upgrade)
            else:
                _restore_postgresql(dump, url, upgrade, staging)
            for live, staged in folders:
                try:
                    _swap_folder(live, staged)
                except OSError as error:
                    raise BackupError(f"База восстановлена, но папку {live} заменить не удалось: "
                                      f"{error.strerror or error}. Исправьте причину и повторите восстановление.") from error
        finally:
            for _, staged in folders:
                shutil.rmtree(staged, ignore_errors=True)
    return Restored(created_at=_shown(manifest["created_at"]),
                    revision=db.session.scalar(sa.text("SELECT version_num FROM alembic_version")),
                    upgraded_from=revision if upgrade else None, counts=_counts())


def _extract(path: Path, staging: Path) -> None:
    """Unpack the archive into ``staging`` after checking every member's name and kind."""
    try:
        with gzip.open(path) as stream:  # tarfile stops at the end of the tar, before gzip's checksum
            while stream.read(1 << 20):
                pass
        with tarfile.open(path, "r:gz") as archive:
            members = archive.getmembers()
            _check_members(members)
            archive.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BackupError(f"Файл {path.name} не читается как резервная копия: архив повреждён, "
                          "обрезан или это не .tar.gz.") from error
    except OSError as error:
        raise BackupError(f"Архив {path.name} не удалось распаковать: {error.strerror or error}.") from error


def _check_members(members: list[tarfile.TarInfo]) -> None:
    allowed = {MANIFEST, *DATABASE_FILES.values(), *FOLDERS}
    seen = set()
    for member in members:
        name, shown = member.name, _shown(member.name)
        parts = PurePosixPath(name).parts
        if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or ".." in parts or not parts:
            raise BackupError(f"В архиве путь «{shown}» ведёт за пределы папки восстановления: "
                              "такой архив не сделан командой backup.")
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"В архиве «{shown}» — ссылка или специальный файл: копия, сделанная "
                              "командой backup, их не содержит.")
        if parts[0] not in allowed or (parts[0] not in FOLDERS and (len(parts) > 1 or not member.isfile())):
            raise BackupError(f"В архиве лишний файл «{shown}»: такой архив не сделан командой backup.")
        if name in seen:
            raise BackupError(f"В архиве дважды записан «{shown}».")
        seen.add(name)


def _read_manifest(staging: Path, backend: str) -> dict[str, str]:
    try:
        manifest = json.loads((staging / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise BackupError("В архиве нет manifest.json: это не резервная копия AccountDesk.") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError("manifest.json в архиве повреждён (не читается как JSON).") from None
    fields = ("created_at", "backend", "database", "revision")
    if not isinstance(manifest, dict) or not all(isinstance(manifest.get(key), str) for key in fields):
        raise BackupError("В manifest.json не хватает сведений о копии (" + ", ".join(fields) + ").")
    if manifest["backend"] != backend:
        raise BackupError(f"Копия сделана для {_shown(manifest['backend'])}, "
                          f"а приложение настроено на {backend}.")
    expected = DATABASE_FILES[backend]
    if manifest["database"] != expected:
        raise BackupError(f"manifest.json называет файлом базы «{_shown(manifest['database'])}», "
                          f"а копия хранит базу в «{expected}»: архив не сделан командой backup.")
    if not (staging / expected).is_file():
        raise BackupError(f"В архиве нет файла базы данных «{expected}»: восстанавливать нечего.")
    return manifest


def _check_sqlite_copy(path: Path, revision: str) -> None:
    """The copy opens, passes SQLite's own check and is at the manifest's revision."""
    try:
        with _sqlite(path) as copy:
            if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("Файл базы в архиве повреждён (проверка SQLite не пройдена).")
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables:
                raise BackupError("В файле базы из архива нет таблиц AccountDesk (нет alembic_version).")
            found = [row[0] for row in copy.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.Error as error:
        raise BackupError(f"Файл базы в архиве не открывается как база SQLite ({error}).") from None
    if found != [revision]:
        raise BackupError(f"Ревизия схемы в файле базы ({', '.join(found) or 'нет'}) не совпадает "
                          f"с manifest.json ({_shown(revision)}).")


def _check_pg_dump(path: Path) -> None:
    """pg_restore reads the dump through to the end and finds the migration table in it."""
    try:
        listing = _run([current_app.config["PG_RESTORE"], "--list", str(path)])
        _run([current_app.config["PG_RESTORE"], f"--file={os.devnull}", str(path)])
    except BackupError as error:
        raise BackupError(f"Дамп базы в архиве не читается. {error.message}") from None
    if "TABLE DATA public alembic_version" not in listing:
        raise BackupError("В дампе базы из архива нет таблиц AccountDesk (нет alembic_version).")


def _check_templates(folder: Path) -> None:
    """Every restored template passes the check of an admin's upload."""
    if not folder.is_dir():
        return
    for item in sorted(folder.iterdir()):
        if not item.is_file():
            raise BackupError(f"В папке шаблонов копии лишняя папка «{_shown(item.name)}».")
        try:
            check_template_file(item.name, item)
        except ServiceError as error:
            raise BackupError(f"Шаблон «{_shown(item.name)}» из копии не прошёл проверку: "
                              f"{error.message}") from None


def _stage_folders(staging: Path) -> list[tuple[Path, Path]]:
    """Move each unpacked folder next to the live one it replaces (same disk: the swap is a rename)."""
    token = secrets.token_hex(4)
    staged_folders = []
    try:
        for arcname, live in _live_folders().items():
            unpacked = staging / arcname
            unpacked.mkdir(exist_ok=True)
            _make_owner_only(unpacked)
            live.parent.mkdir(parents=True, exist_ok=True)
            staged = live.parent / f".{live.name}.restore-{token}"
            staged_folders.append((live, staged))  # listed first: a half-finished move is removed too
            shutil.move(unpacked, staged)
    except OSError as error:
        for _, staged in staged_folders:
            shutil.rmtree(staged, ignore_errors=True)
        raise BackupError(f"Не удалось подготовить папки к восстановлению: {error.strerror or error}.") from error
    return staged_folders


def _swap_folder(live: Path, staged: Path) -> None:
    old = live.with_name(staged.name.replace(".restore-", ".old-"))
    if live.exists():
        live.rename(old)
    staged.rename(live)
    shutil.rmtree(old, ignore_errors=True)


def _restore_sqlite(dump: Path, live: Path, upgrade: bool) -> None:
    """Build the new database in a file next to the live one (upgraded if the copy is older), then
    copy it into the live file with SQLite's backup API: one write transaction, so other
    connections — gunicorn workers — see the old data or the new, and a failure changes nothing.
    (Replacing the file instead would leave open connections writing to the old inode.)"""
    fd, name = tempfile.mkstemp(dir=live.parent, prefix=f".{live.name}.restore-")
    os.close(fd)
    staged = Path(name)
    try:
        _copy_sqlite(dump, staged)
        if upgrade:
            _upgrade(f"sqlite:///{staged}")
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(staged, live)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{staged}{suffix}").unlink(missing_ok=True)


def _restore_postgresql(dump: Path, url: sa.URL, upgrade: bool, staging: Path) -> None:
    """pg_restore in a single transaction: all or nothing. An older copy is first restored into a
    scratch database, upgraded there and dumped again."""
    if upgrade:
        dump = _upgraded_pg_dump(dump, url, staging)
    db.session.remove()
    db.engine.dispose()
    _run([current_app.config["PG_RESTORE"], "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--dbname={_libpq_url(url)}", str(dump)])


def _upgraded_pg_dump(dump: Path, url: sa.URL, staging: Path) -> Path:
    scratch = url.set(database=f"{url.database}_restore_{secrets.token_hex(4)}")
    quoted = '"' + scratch.database.replace('"', '""') + '"'
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
        except sa.exc.DBAPIError as error:
            raise BackupError("Копия сделана на старой ревизии схемы; чтобы обновить её до восстановления, "
                              "нужна временная база, а создать её не удалось (нужно право CREATEDB): "
                              f"{error.orig}") from None
    try:
        _run([current_app.config["PG_RESTORE"], "--no-owner", "--exit-on-error",
              f"--dbname={_libpq_url(scratch)}", str(dump)])
        _upgrade(scratch.render_as_string(hide_password=False))
        upgraded = staging / "upgraded.pgdump"
        _run([current_app.config["PG_DUMP"], "--format=custom", "--no-owner", f"--file={upgraded}",
              _libpq_url(scratch)])
        return upgraded
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


def _upgrade(url: str) -> None:
    """Run this version's migrations on the database at ``url`` (not the live one), through an app
    of its own: the migrations' env.py works on the current app's engine."""
    from webapp import create_app  # here: the factory imports this module

    config = {key: current_app.config[key] for key in ("SECRET_KEY", *FOLDERS.values())}
    scratch = create_app({**config, "DATABASE_URL": url})
    with scratch.app_context():
        try:
            command.upgrade(scratch.extensions["migrate"].migrate.get_config(), "heads")
        except Exception as error:  # noqa: BLE001 -- any failure refuses the restore, live data untouched
            raise BackupError(f"Копию не удалось обновить до схемы этой версии: {error}") from error
        finally:
            db.session.remove()
            db.engine.dispose()


def _counts() -> dict[str, int]:
    counts = {label: db.session.scalar(sa.select(sa.func.count()).select_from(model))
              for label, model in (("пользователи", User), ("клиенты", Client), ("контакты", Contact),
                                   ("касания", Touchpoint), ("регламенты", Regulation))}
    db.session.remove()
    folders = _live_folders()
    counts["файлы загрузок"] = sum(1 for item in folders["uploads"].rglob("*") if item.is_file())
    counts["шаблоны документов"] = sum(1 for item in folders["document_templates"].iterdir() if item.is_file())
    return counts


# -- shared -----------------------------------------------------------------------------------


def _database_url() -> sa.URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _live_folders() -> dict[str, Path]:
    """The folders a backup carries besides the database, by their names in the archive."""
    return {arcname: Path(current_app.config[key]) for arcname, key in FOLDERS.items()}


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's backup API: a consistent copy while others write, in one transaction on ``target``."""
    try:
        with _sqlite(source) as reader, _sqlite(target) as writer:
            reader.backup(writer)
    except sqlite3.Error as error:
        raise BackupError(f"Не удалось скопировать базу SQLite {source.name}: {error}.") from None


def _libpq_url(url: sa.URL) -> str:
    """pg_dump speaks libpq, which knows no «+psycopg» driver suffix."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command_line: list[str]) -> str:
    try:
        return subprocess.run(command_line, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise BackupError(f"Не найдена программа {command_line[0]} (установите postgresql-client).") from None
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{Path(command_line[0]).name} завершился с ошибкой: {error.stderr.strip()}") from None


def _shown(text: str) -> str:
    """``text`` safe to print in a terminal: no control characters, not too long."""
    return "".join(char if char.isprintable() else "?" for char in text)[:200]
