"""Flask commands for the company directory: ldap-sync (for cron) and ldap-check LOGIN."""

import click
from flask import Flask
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.services import directory


def register(app: Flask) -> None:
    app.cli.add_command(ldap_sync)
    app.cli.add_command(ldap_check)


@click.command("ldap-sync")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@with_appcontext
def ldap_sync(dry_run: bool) -> None:
    """Bring directory accounts in step with the directory: refresh names and roles; deactivate
    (and end the sessions of) accounts disabled, deleted or out of every mapped group."""
    try:
        report = directory.sync_accounts()
    except directory.DirectoryError as error:
        db.session.rollback()
        raise click.ClickException(f"Каталог недоступен, ничего не изменено: {error.detail}") from None
    for email, fields in report.updated:
        click.echo(f"обновлён {email}: {', '.join(fields)}")
    for email, reason in report.deactivated:
        click.echo(f"отключён {email}: {reason}")
    for email, reason in report.skipped:
        click.echo(f"пропущен {email}: {reason}")
    if dry_run:
        db.session.rollback()
        click.echo("Пробный запуск: ничего не сохранено.")
    else:
        db.session.commit()
    click.echo(f"Проверено учётных записей каталога: {report.checked}; обновлено: {len(report.updated)}; "
               f"отключено: {len(report.deactivated)}.")


@click.command("ldap-check")
@click.argument("login")
@with_appcontext
def ldap_check(login: str) -> None:
    """Show what the directory says about LOGIN and which role it would get (no password asked)."""
    try:
        lookup = directory.look_up(login)
    except directory.DirectoryError as error:
        raise click.ClickException(f"Каталог недоступен: {error.detail}") from None
    person = lookup.person
    if person is None:
        raise click.ClickException(f"В каталоге нет записи для «{login}» (или их несколько).")
    state = "отключена" if person.disabled else "активна"
    role = "вход не разрешён" if person.disabled or person.role is None else person.role.label
    account = (f"{lookup.account.email} ({'активна' if lookup.account.active else 'отключена'})"
               if lookup.account else "будет создана при первом входе")
    for label, value in [("DN", person.dn), ("Идентификатор", person.directory_id),
                         ("ФИО", person.full_name), ("Должность", person.position),
                         ("E-mail", person.email), ("Телефон", person.phone), ("В каталоге", state),
                         ("Группы AccountDesk", "; ".join(person.groups) or "ни одной"), ("Роль", role),
                         ("Учётная запись AccountDesk", account)]:
        click.echo(f"{label}: {value or '—'}")
