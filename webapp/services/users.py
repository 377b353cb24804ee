"""Accounts: creating staff, roles, activation, passwords, and who may log in."""

import functools
import logging
import secrets

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import Role, User
from webapp.models.audit import log_event, tag_action
from webapp.models.types import utcnow
from webapp import saving
from webapp.saving import Edit
from webapp.services import ServiceError, access

log = logging.getLogger("accountdesk.auth")


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def check_password_rules(password: str) -> None:
    """One rule for every place a password is set."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ServiceError(f"Пароль должен быть не короче {minimum} символов.", field="password")
    if len(password) > 200:
        raise ServiceError("Пароль длиннее 200 символов.", field="password")


DUPLICATE_EMAIL = "Пользователь с таким e-mail уже есть."
# The column's own unique constraint and the index of lower(email): the same rule twice.
for _constraint in ("uq_users_email", "uq_users_lower_email"):
    saving.unique_rule(_constraint, DUPLICATE_EMAIL, field="email")


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def create_user(*, email: str, full_name: str, role: Role, password: str,
                position: str = "", phone: str = "") -> User:
    """A new account; e-mail is the login and is unique regardless of case."""
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise ServiceError(DUPLICATE_EMAIL, field="email")
    check_password_rules(password)
    user = User(email=email, full_name=full_name.strip(), role=Role(role),
                position=position.strip(), phone=phone.strip(), active=True)
    user.set_password(password, _hash_method())
    db.session.add(user)
    db.session.flush()
    return user


USER_FIELDS = ("email", "full_name", "position", "phone", "role", "active")


def update_user(user: User, edit: Edit, *, acting: User) -> list[str]:
    """Change name, position, role or activity. An admin cannot demote or lock themselves out."""
    access.require(access.can_edit_settings(acting), "Учётные записи меняет администратор.")
    data = saving.changes(user, edit, USER_FIELDS)
    if user.id == acting.id and (data.get("role", user.role) != Role.ADMIN or not data.get("active", True)):
        raise ServiceError("Нельзя снять с себя роль администратора или отключить свою учётную запись.",
                           field="role")
    if "email" in data:
        data["email"] = data["email"].strip().lower()
        other = find_by_email(data["email"])
        if other is not None and other.id != user.id:
            raise ServiceError(DUPLICATE_EMAIL, field="email")
    was_active = user.active
    changed = saving.write(user, data)
    if was_active and not user.active:
        user.end_sessions()
        tag_action(user, "deactivate")
    elif not was_active and user.active:
        tag_action(user, "activate")
    return changed


def reset_password(user: User, password: str) -> None:
    """An admin sets a new password: every session of the user ends."""
    check_password_rules(password)
    user.set_password(password, _hash_method())
    user.end_sessions()
    tag_action(user, "password_reset")


class WrongPassword(ServiceError):
    """The current password did not match. The failure is already audited: the caller keeps that
    record (commits) while refusing, and counts it against the limit on guesses."""


def change_own_password(user: User, current: str, new: str, address: str) -> None:
    """The user changes their password: they must know the old one; other sessions end.

    A wrong current password is logged and audited like a failed login: someone at an unlocked
    desk must not be able to guess it unseen.
    """
    if not user.check_password(current):
        log.warning("wrong current password for %r from %s", user.email, address)
        log_event("users", user.id, user.full_name, "password_check_failed", {"address": [None, address]})
        raise WrongPassword("Текущий пароль неверен.", field="current_password")
    if current == new:
        raise ServiceError("Новый пароль совпадает с текущим.", field="password")
    check_password_rules(new)
    user.set_password(new, _hash_method())
    user.end_sessions()
    tag_action(user, "password_change")


def authenticate(email: str, password: str, address: str) -> User | None:
    """The active user with these credentials, or None; a failure is logged and audited.

    Exactly one password hash is checked whatever the account (unknown, deactivated, or without a
    password of its own: then a dummy hash of the configured method), so the time of the answer does
    not tell which accounts exist.
    """
    user = find_by_email(email)
    stored = user.password_hash if user is not None and _checkable(user.password_hash) else None
    matches = check_password_hash(stored or _dummy_hash(_hash_method()), password) and stored is not None
    if matches and user.active:
        user.last_login_at = utcnow()
        log_event("users", user.id, user.full_name, "login", {"address": [None, address]})
        return user
    log.warning("failed login for %r from %s", email[:254], address)
    log_event("users", user.id if user else None, email[:254], "login_failed",
              {"address": [None, address]})
    return None


def logout(user: User) -> None:
    """Logging out ends every session of the user, on every device."""
    user.end_sessions()
    log_event("users", user.id, user.full_name, "logout")


def _checkable(password_hash: str) -> bool:
    """A hash Werkzeug really computes (``method$salt$hash``). For anything else (an account that
    signs in elsewhere, a locked one) it answers at once, and the time would show it."""
    return password_hash.count("$") >= 2


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def user_list_query(*, q: str = "", role: str = "", state: str = "active") -> sa.Select:
    """Staff accounts for the admin's list: active first, by name; search by name or e-mail."""
    query = sa.select(User).order_by(User.active.desc(), User.full_name)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.full_name).like(like), User.email.like(like)))
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if state == "active":
        query = query.where(User.active.is_(True))
    elif state == "inactive":
        query = query.where(User.active.is_(False))
    return query
