"""Clients, the people on their side, and every contact we had with them.

The «every 3–4 days» promise lives here as data: each client stores the dates on which it becomes
due, overdue and critical, recomputed whenever a contact is logged or the cadence changes, so a list
of thousands of clients filters and sorts by cadence with plain indexed comparisons.
"""

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.company import SignatoryAuthority
from webapp.models.types import Money, UTCDateTime, enum_type, utcnow
from webapp.models.users import User
from webapp.workcalendar import add_working_days, on_or_after


class ClientStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"prospect": "Потенциальный", "active": "Активный", "paused": "Приостановлен",
                "closed": "Закрыт"}[self.value]

    @property
    def badge(self) -> str:
        return {"prospect": "info", "active": "success", "paused": "warning", "closed": "secondary"}[self.value]


class CadenceState(enum.StrEnum):
    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return {"ok": "в графике", "due": "пора связаться", "overdue": "просрочен",
                "critical": "критично"}[self.value]

    @property
    def badge(self) -> str:
        return {"ok": "success", "due": "warning", "overdue": "danger", "critical": "dark"}[self.value]


class Channel(enum.StrEnum):
    CALL = "call"
    VISIT = "visit"
    MESSAGE = "message"
    EMAIL = "email"
    MEETING = "meeting"

    @property
    def label(self) -> str:
        return {"call": "Звонок", "visit": "Визит", "message": "Мессенджер", "email": "Письмо",
                "meeting": "Встреча"}[self.value]


CRITICAL_AFTER_DAYS = 10  # calendar days without contact: «a client left alone for ten days»
DEFAULT_CADENCE_DAYS = 3


@dataclass(frozen=True)
class CadenceDates:
    due_on: date
    overdue_on: date
    critical_on: date


def cadence_dates(base: date, interval: int, planned: date | None = None) -> CadenceDates:
    """When a client becomes due, overdue and critical.

    ``base`` is the day of the last contact (or the day the client was added). Due: ``interval``
    working days later; a planned next contact, if later, takes precedence. Overdue: one working
    day after due. Critical: ten calendar days after the last contact, moved to a working day, and
    never before the working day after overdue (a planned date pushes it too). Working days follow
    the Russian production calendar, so holidays on which nobody calls make nobody overdue.
    """
    due = add_working_days(base, max(interval, 1))
    if planned is not None and planned > due:
        due = on_or_after(planned)
    overdue = add_working_days(due, 1)
    critical = max(on_or_after(base + timedelta(days=CRITICAL_AFTER_DAYS)), add_working_days(overdue, 1))
    return CadenceDates(due, overdue, critical)


# The states beyond «в графике», most severe first, each with the stored date from which it holds:
# the one definition behind a client's badge, the list's filters and the admin's counts.
CADENCE_BOUNDARIES = ((CadenceState.CRITICAL, "critical_on"), (CadenceState.OVERDUE, "overdue_on"),
                      (CadenceState.DUE, "due_on"))


def cadence_state(today: date, due_on: date | None, overdue_on: date | None,
                  critical_on: date | None) -> CadenceState:
    dates = {"due_on": due_on, "overdue_on": overdue_on, "critical_on": critical_on}
    for state, column in CADENCE_BOUNDARIES:
        if dates[column] is not None and today >= dates[column]:
            return state
    return CadenceState.OK


def phone_digits(phone: str) -> str:
    """«+7 (912) 345-67-89» and «8 912 345 67 89» → «79123456789»: one form for search."""
    digits = re.sub(r"\D", "", phone or "", flags=re.ASCII)  # «٣» is no digit of a tel: link
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if len(digits) == 10:
        digits = "7" + digits
    return digits


class Client(Versioned, Audited, db.Model):
    __tablename__ = "clients"
    __audit_name__ = "Клиент"
    __audit_link__ = ("clients.detail", "client_id")
    __audit_actions__ = {"handover": "передача клиентов"}
    __audit_labels__ = {
        "short_name": "Название", "legal_name": "Полное наименование", "inn": "ИНН", "kpp": "КПП", "ogrn": "ОГРН",
        "address": "Юридический адрес", "bank_name": "Банк", "bik": "БИК", "account": "Расчётный счёт",
        "corr_account": "Корр. счёт", "contract_number": "Номер договора", "contract_date": "Дата договора",
        "manager_id": "Аккаунт-менеджер", "deputy_id": "Заместитель", "status": "Статус",
        "code": "Код для номеров задач", "hourly_rate": "Ставка часа", "contact_cadence_days": "Связываться каждые, рабочих дней", "notes": "Заметки",
        "from": "От кого", "to": "Кому", "phone": "Телефон", "email": "E-mail",
        "regulation_appendix": "Номер приложения (регламент)", "signatory_contact_id": "Подписант",
        "signatory_position_genitive": "Должность подписанта (кого)", "signatory_authority": "Подписант действует на основании",
        "signatory_attorney_number": "Номер доверенности", "signatory_attorney_date": "Дата доверенности",
        "registered_on": "Дата записи в ЕГРЮЛ/ЕГРИП",}
    __table_args__ = (
        # One client per ИНН + КПП (a branch shares the ИНН with a КПП of its own); many without an ИНН.
        sa.Index("uq_clients_inn_kpp", "inn", "kpp", unique=True,
                 sqlite_where=sa.text("inn <> ''"), postgresql_where=sa.text("inn <> ''")),
        # The clients due a call, with what the admin's «Мой день» counts of them per manager and
        # cadence state (status, manager, the overdue and critical days): read from the index alone,
        # not from 1,500 rows of the table on the benchmark data (1.9 → 1.0 ms of SQLite).
        sa.Index("ix_clients_due_cadence", "due_on", "status", "manager_id", "overdue_on", "critical_on"),
    )
    # Bookkeeping recomputed by services: never makes a user's open form stale.
    __unversioned__ = frozenset({"last_contact_at", "next_contact_on", "due_on", "overdue_on",
                                 "critical_on", "search_text"})
    __audit_exclude__ = frozenset({"version", "search_text", "last_contact_at", "next_contact_on",
                                   "due_on", "overdue_on", "critical_on"})

    id: Mapped[int] = mapped_column(primary_key=True)
    short_name: Mapped[str] = mapped_column(sa.String(200), index=True)  # the list's default order
    # The prefix of its backlog items' keys (ROMASHKA-42): from the name when added, unique.
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    legal_name: Mapped[str] = mapped_column(sa.String(500), default="")
    inn: Mapped[str] = mapped_column(sa.String(12), default="", index=True)
    kpp: Mapped[str] = mapped_column(sa.String(9), default="")
    ogrn: Mapped[str] = mapped_column(sa.String(15), default="")
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    bank_name: Mapped[str] = mapped_column(sa.String(300), default="")
    bik: Mapped[str] = mapped_column(sa.String(9), default="")
    account: Mapped[str] = mapped_column(sa.String(20), default="")
    corr_account: Mapped[str] = mapped_column(sa.String(20), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    registered_on: Mapped[date | None] = mapped_column(sa.Date)  # the ЕГРЮЛ / ЕГРИП record
    contract_number: Mapped[str] = mapped_column(sa.String(60), default="")
    contract_date: Mapped[date | None] = mapped_column(sa.Date)
    regulation_appendix: Mapped[str] = mapped_column(sa.String(20), default="")  # «Приложение № 2»
    # Who signs documents for the client, chosen from its contacts, and on what authority.
    # use_alter: clients and contacts point at each other; the cycle is broken for table ordering.
    signatory_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL", use_alter=True))
    signatory_position_genitive: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_authority: Mapped[SignatoryAuthority] = mapped_column(
        enum_type(SignatoryAuthority, "signatory_authority"), default=SignatoryAuthority.CHARTER)
    signatory_attorney_number: Mapped[str] = mapped_column(sa.String(60), default="")
    signatory_attorney_date: Mapped[date | None] = mapped_column(sa.Date)
    manager_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[ClientStatus] = mapped_column(enum_type(ClientStatus, "client_status"),
                                                 default=ClientStatus.ACTIVE, index=True)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    contact_cadence_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_CADENCE_DAYS)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Kept by services.clients in the same transaction as the change that moves them.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    next_contact_on: Mapped[date | None] = mapped_column(sa.Date)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    overdue_on: Mapped[date | None] = mapped_column(sa.Date)
    critical_on: Mapped[date | None] = mapped_column(sa.Date)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    manager: Mapped[User] = relationship(foreign_keys=[manager_id], lazy="joined", innerjoin=True)
    deputy: Mapped[User | None] = relationship(foreign_keys=[deputy_id], lazy="joined")
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="client", order_by="(Contact.is_decision_maker.desc(), Contact.full_name)",
        foreign_keys="Contact.client_id",
        cascade="all, delete-orphan", lazy="select")

    def __str__(self) -> str:
        return self.short_name

    def cadence(self, today: date) -> CadenceState:
        return cadence_state(today, self.due_on, self.overdue_on, self.critical_on)

    @classmethod
    def cadence_condition(cls, state: str, today: date) -> list:
        """SQL for «clients in this cadence state today» (``attention``: due or worse), on the
        stored dates, following ``CADENCE_BOUNDARIES``."""
        if state == "attention":
            return [getattr(cls, CADENCE_BOUNDARIES[-1][1]) <= today]
        if state == CadenceState.OK:
            return [getattr(cls, CADENCE_BOUNDARIES[-1][1]) > today]
        for rank, (boundary, column) in enumerate(CADENCE_BOUNDARIES):
            if state == boundary:
                condition = [getattr(cls, column) <= today]
                if rank:  # and not yet the more severe state
                    condition.append(getattr(cls, CADENCE_BOUNDARIES[rank - 1][1]) > today)
                return condition
        return []

    @classmethod
    def cadence_case(cls, today: date):
        """SQL for the cadence state's value, for counting clients by state."""
        return sa.case(*[(getattr(cls, column) <= today, state.value) for state, column in CADENCE_BOUNDARIES],
                       else_=CadenceState.OK.value)

    def days_since_contact(self, today: date) -> int | None:
        if self.last_contact_at is None:
            return None
        from webapp.formatting import local
        return (today - local(self.last_contact_at).date()).days

    def is_on_team(self, user: User) -> bool:
        return user.id in (self.manager_id, self.deputy_id)

    @property
    def signatory(self) -> "Contact | None":
        """The contact chosen to sign documents for the client, if one is."""
        return next((c for c in self.contacts if c.id == self.signatory_contact_id), None)


def named_client(path, *columns) -> tuple:
    """Loader options for rows that show their client's name or code (``path``: ``Act.client``,
    ``BacklogItem.client``) but not its team: the client's id and ``columns`` only (not its 37
    columns, dates and sums among them), and not the manager and deputy that ``Client`` joins by
    default, two users more per row and, on PostgreSQL, most of the planning of a ten-row query.
    What a row asks for besides is loaded lazily; the query-count tests would show it."""
    client = sa.orm.defaultload(path)
    return (client.lazyload(Client.manager), client.lazyload(Client.deputy),
            client.load_only(Client.id, *columns))


_CODE_LETTERS = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                         ["A", "B", "V", "G", "D", "E", "E", "ZH", "Z", "I", "I", "K", "L", "M", "N", "O", "P",
                          "R", "S", "T", "U", "F", "KH", "TS", "CH", "SH", "SHCH", "", "Y", "", "E", "IU", "IA"]))
CODE_LENGTH = 12


def code_base(name: str) -> str:
    """«Ромашка» → «ROMASHKA», «ТД Альфа-Трейд» → «TDALFATREID»: Latin capitals and digits only."""
    latin = "".join(_CODE_LETTERS.get(ch, ch.upper() if ch.isascii() and ch.isalnum() else "")
                    for ch in (name or "").lower())
    return latin[:CODE_LENGTH] or "CLIENT"


def unique_code(connection: sa.Connection, name: str) -> str:
    """``code_base(name)``, with a number added if another client has it already."""
    base = code_base(name)
    taken = set(connection.scalars(sa.select(Client.__table__.c.code).where(
        Client.__table__.c.code.like(base + "%"))))
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, len(taken) + 3) if f"{base}{n}" not in taken)


@sa.event.listens_for(Client, "before_insert")
def _give_code(mapper, connection, client: Client) -> None:
    if not client.code:
        client.code = unique_code(connection, client.short_name)


class Contact(Versioned, Audited, db.Model):
    """A person on the client's side; a decision maker (ЛПР) says what they decide."""

    __tablename__ = "contacts"
    __audit_name__ = "Контакт клиента"
    __audit_labels__ = {
        "full_name": "ФИО", "position": "Должность", "phone": "Телефон", "email": "E-mail", "messenger": "Мессенджер",
        "is_decision_maker": "ЛПР", "decides_scope": "Решает: объём работ", "decides_cost": "Решает: стоимость",
        "decides_payment": "Решает: оплату", "decides_acceptance": "Решает: приёмку", "notes": "Заметки"}
    __audit_exclude__ = frozenset({"version", "phone_digits"})

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    phone_digits: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    messenger: Mapped[str] = mapped_column(sa.String(100), default="")
    is_decision_maker: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    decides_scope: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    decides_cost: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    decides_payment: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    decides_acceptance: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="")

    client: Mapped[Client] = relationship(back_populates="contacts", foreign_keys=[client_id])

    def __str__(self) -> str:
        return self.full_name

    @property
    def audit_label(self) -> str:
        return f"{self.full_name} (клиент #{self.client_id})"

    @property
    def decides(self) -> list[str]:
        """What this decision maker decides, in words."""
        labels = [("decides_scope", "объём работ"), ("decides_cost", "стоимость"),
                  ("decides_payment", "оплату"), ("decides_acceptance", "приёмку")]
        return [label for key, label in labels if getattr(self, key)]


touchpoint_contacts = sa.Table(
    "touchpoint_contacts",
    db.metadata,
    sa.Column("touchpoint_id", sa.ForeignKey("touchpoints.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Touchpoint(Versioned, Audited, db.Model):
    """One contact with a client: when, who, how, with whom, what was agreed and what's next."""

    __tablename__ = "touchpoints"
    __audit_name__ = "Запись о контакте"
    __audit_labels__ = {"occurred_at": "Когда", "channel": "Канал", "summary": "О чём поговорили",
                        "next_step": "Следующий шаг", "next_contact_on": "Следующий контакт"}
    __table_args__ = (sa.Index("ix_touchpoints_client_occurred", "client_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"), default=Channel.CALL)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    next_step: Mapped[str] = mapped_column(sa.Text, default="")
    next_contact_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()
    user: Mapped[User | None] = relationship(lazy="joined")
    contacts: Mapped[list[Contact]] = relationship(secondary=touchpoint_contacts, lazy="selectin",
                                                   order_by=Contact.full_name)

    @property
    def audit_label(self) -> str:
        return f"Контакт с клиентом #{self.client_id}"
