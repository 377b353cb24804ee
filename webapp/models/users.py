"""Staff accounts and their roles."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.types import UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    LEAD = "lead"
    SPECIALIST = "specialist"
    ACCOUNTANT = "accountant"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Администратор",
    Role.MANAGER: "Аккаунт-менеджер",
    Role.LEAD: "Руководитель производства",
    Role.SPECIALIST: "Специалист",
    Role.ACCOUNTANT: "Бухгалтер",
}


class AccountSource(enum.StrEnum):
    """Where an account's identity lives: AccountDesk's own password, or the company directory."""

    LOCAL = "local"
    DIRECTORY = "directory"

    @property
    def label(self) -> str:
        return {AccountSource.LOCAL: "локальная", AccountSource.DIRECTORY: "из каталога"}[self]


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Versioned, Audited, UserMixin, db.Model):
    __audit_name__ = "Пользователь"
    __audit_link__ = ("admin.edit_user", "user_id")
    __audit_labels__ = {"email": "E-mail", "full_name": "ФИО", "position": "Должность", "phone": "Телефон",
                        "role": "Роль", "active": "Активна", "password_hash": "Пароль", "address": "Адрес",
                        "source": "Учётная запись", "directory_id": "Идентификатор в каталоге",
                        "directory": "Из каталога", "reason": "Причина"}
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"version", "session_token", "last_login_at"})
    __audit_secret__ = frozenset({"password_hash"})
    __unversioned__ = frozenset({"session_token", "last_login_at"})
    # The e-mail is the login: unique regardless of case, whatever writes it.
    __table_args__ = (sa.Index("uq_users_lower_email", sa.func.lower(sa.text("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    role: Mapped[Role] = mapped_column(
        enum_type(Role, "role")
    )
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    # Part of the login cookie: rotating it ends every session of the user at once.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A directory account signs in against the directory only and is found by the directory's
    # stable identifier (AD objectGUID, OpenLDAP entryUUID), which survives renames and moves.
    source: Mapped[AccountSource] = mapped_column(enum_type(AccountSource, "account_source"),
                                                  default=AccountSource.LOCAL,
                                                  server_default=AccountSource.LOCAL.value)
    directory_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str, method: str) -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        self.session_token = new_session_token()

    @property
    def short_name(self) -> str:
        """«Иванова Мария Сергеевна» → «М.С. Иванова», as signature blocks print it."""
        parts = self.full_name.split()
        if len(parts) < 2:
            return self.full_name
        initials = "".join(f"{p[0]}." for p in parts[1:3])
        return f"{initials} {parts[0]}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles
