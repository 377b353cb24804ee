"""Flask commands: create-user, seed-demo, backup, restore, bench-data."""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from webapp import cli_directory
from webapp.extensions import db
from webapp.models import Role, User
from webapp.services import ServiceError


def register(app: Flask) -> None:
    # ``with_appcontext`` on each command: ``flask`` itself pushes a context, but a command run any
    # other way (the test runner, a script) would meet no app.
    for command in (create_user, seed_demo, backup, restore, bench_data):
        app.cli.add_command(command)
    cli_directory.register(app)  # ldap-sync, ldap-check


@click.command("create-user")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="ФИО")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MANAGER.value,
              show_default=True)
@click.option("--position", default="", help="Должность (печатается в подписях)")
@click.password_option("--password", prompt="Пароль", confirmation_prompt="Повторите пароль")
@with_appcontext
def create_user(email: str, full_name: str, role: str, position: str, password: str) -> None:
    """Create a user; the password is asked twice."""
    from webapp.services.users import create_user as create

    try:
        user = create(email=email, full_name=full_name, role=Role(role), password=password,
                      position=position)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Создан пользователь {user.email} ({user.role.label}).")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Load even if the database already holds users.")
@with_appcontext
def seed_demo(force: bool) -> None:
    """Load the demo data into an empty database and print how to log in."""
    from webapp import demo

    if not force and db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("В базе уже есть пользователи: демо-данные не загружены (--force, чтобы загрузить).")
    else:
        demo.seed()
        db.session.commit()
        click.echo("Демо-данные загружены.")
    click.echo(demo.LOGIN_HINT)


def _database_url() -> sa.URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url: sa.URL) -> str:
    """pg_dump speaks libpq, which knows no «+psycopg» driver suffix."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a consistent copy of the live database, the uploads and the installation's document
    templates to PATH (.tar.gz)."""
    url = _database_url()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if url.get_backend_name() == "sqlite":
            dump_name = "database.sqlite3"
            source = sqlite3.connect(url.database, timeout=30)
            target = sqlite3.connect(tmpdir / dump_name)
            with target:
                source.backup(target)  # the SQLite backup API: consistent while others write
            target.close()
            source.close()
        else:
            dump_name = "database.pgdump"
            _run([current_app.config["PG_DUMP"], "--format=custom", "--no-owner",
                  f"--file={tmpdir / dump_name}", _libpq_url(url)])
        manifest = {
            "created_at": datetime.now(timezone.utc).isoformat(),
            "backend": url.get_backend_name(),
            "database": dump_name,
            "revision": db.session.scalar(sa.text("SELECT version_num FROM alembic_version")),
        }
        (tmpdir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(tmpdir / "manifest.json", "manifest.json")
            archive.add(tmpdir / dump_name, dump_name)
            for folder, arcname in _file_folders():
                if folder.is_dir():
                    archive.add(folder, arcname)
        partial.replace(path)
    click.echo(f"Резервная копия записана: {path}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(path: Path, yes: bool) -> None:
    """Replace the database and the uploads with the copy in PATH (made by `flask backup`)."""
    if not yes:
        click.confirm("Текущие данные будут заменены копией. Продолжить?", abort=True)
    url = _database_url()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(tmpdir, filter="data")
        manifest = json.loads((tmpdir / "manifest.json").read_text())
        if manifest["backend"] != url.get_backend_name():
            raise click.ClickException(
                f"Копия сделана для {manifest['backend']}, а приложение настроено на {url.get_backend_name()}.")
        db.session.remove()
        db.engine.dispose()
        if manifest["backend"] == "sqlite":
            source = sqlite3.connect(tmpdir / manifest["database"])
            target = sqlite3.connect(url.database, timeout=30)
            with target:
                source.backup(target)
            target.close()
            source.close()
        else:
            _run([current_app.config["PG_RESTORE"], "--clean", "--if-exists", "--no-owner",
                  "--single-transaction", f"--dbname={_libpq_url(url)}", str(tmpdir / manifest["database"])])
        for folder, arcname in _file_folders():
            if folder.exists():
                shutil.rmtree(folder)
            if (tmpdir / arcname).is_dir():
                shutil.copytree(tmpdir / arcname, folder)
    click.echo(f"Данные восстановлены из {path} (копия от {manifest['created_at']}).")


def _file_folders() -> list[tuple[Path, str]]:
    """The folders a backup carries besides the database, with their names in the archive."""
    return [(Path(current_app.config["UPLOAD_FOLDER"]), "uploads"),
            (Path(current_app.config["DOCUMENT_TEMPLATES"]), "document_templates")]


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ.copy())
    except FileNotFoundError:
        raise click.ClickException(f"Не найдена программа {command[0]} (установите postgresql-client).") from None
    except subprocess.CalledProcessError as error:
        raise click.ClickException(f"{command[0]} завершился с ошибкой: {error.stderr.strip()}") from None


@click.command("bench-data")
@click.option("--clients", default=2000, show_default=True, help="How many clients to generate.")
@click.option("--seed", "random_seed", default=1, show_default=True)
@with_appcontext
def bench_data(clients: int, random_seed: int) -> None:
    """Fill the database with generated data for benchmarks (large and reproducible)."""
    from webapp import benchdata

    figures = benchdata.generate(clients=clients, random_seed=random_seed)
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in figures.items()))
