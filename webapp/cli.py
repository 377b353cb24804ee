"""Flask commands: create-user, seed-demo, backup, restore, bench-data."""

import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from webapp import cli_directory
from webapp.backup import BackupError, make_backup, restore_backup
from webapp.extensions import analyze, db
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
        analyze()
        click.echo("Демо-данные загружены.")
    click.echo(demo.login_hint(os.environ.get("FLASK_RUN_HOST"), os.environ.get("FLASK_RUN_PORT")))


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a consistent copy of the live database, the uploads and the installation's document
    templates to PATH (.tar.gz, readable by the owner only)."""
    try:
        make_backup(path)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Резервная копия записана: {path}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(path: Path, yes: bool) -> None:
    """Replace the database, the uploads and the document templates with the copy in PATH (made by
    `flask backup`); the whole archive is checked first, and a refused one changes nothing."""
    if not yes:
        click.confirm("Текущие данные будут заменены копией. Продолжить?", abort=True)
    try:
        restored = restore_backup(path)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(restored.summary())


@click.command("bench-data")
@click.option("--clients", default=2000, show_default=True, help="How many clients to generate.")
@click.option("--seed", "random_seed", default=1, show_default=True)
@with_appcontext
def bench_data(clients: int, random_seed: int) -> None:
    """Fill the database with generated data for benchmarks (large and reproducible)."""
    from webapp import benchdata

    figures = benchdata.generate(clients=clients, random_seed=random_seed)
    db.session.commit()
    analyze()
    click.echo(", ".join(f"{name}: {count}" for name, count in figures.items()))
