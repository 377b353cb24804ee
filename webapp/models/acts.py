"""Acts of completed work (акт сдачи-приёмки оказанных услуг), their lines and the payments that follow.

A draft has no number: deleting one leaves no gap. Issuing gives it the next number of the year's
gapless sequence (``ActCounter``, one row per year, incremented under its row lock; the unique index
on (year, seq) is the backstop) and freezes what the document prints: the lines, both parties'
requisites and signatories, the contract, the VAT mode and rate, the totals and the payment due
date. An issued act is never edited: it is cancelled with a reason (its number stays used) and a new
one issued. ``paid_amount`` is the sum of the payments, kept by ``services.acts`` under the act's lock.
"""

import enum
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.clients import Client
from webapp.models.company import VAT_MODE_LABELS, VatMode
from webapp.models.types import Money, Rate, UTCDateTime, enum_type, utcnow
from webapp.models.users import User
from webapp.models.workflow import Move, MoveField, Workflow, today_default

QUANTITY = sa.Numeric(12, 2, asdecimal=True)
DUE_SOON_DAYS = 3  # «Мой день» shows a payment this many days before it is due


class ActStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    SIGNED = "signed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"draft": "Черновик", "issued": "Выставлен", "signed": "Подписан", "cancelled": "Аннулирован"}[self.value]

    @property
    def badge(self) -> str:
        return {"draft": "secondary", "issued": "primary", "signed": "success", "cancelled": "dark"}[self.value]


class SignedHow(enum.StrEnum):
    ORIGINAL = "original"
    EDO = "edo"

    @property
    def label(self) -> str:
        return {"original": "Получен подписанный оригинал", "edo": "Подписан в ЭДО"}[self.value]


class PaidState(enum.StrEnum):
    UNPAID = "unpaid"
    PARTLY = "partly"
    PAID = "paid"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"unpaid": "Не оплачен", "partly": "Оплачен частично", "paid": "Оплачен",
                "overdue": "Просрочена оплата"}[self.value]

    @property
    def badge(self) -> str:
        return {"unpaid": "light", "partly": "warning", "paid": "success", "overdue": "danger"}[self.value]


# Acts that count towards what the client owes.
BILLED = (ActStatus.ISSUED, ActStatus.SIGNED)


def _has_lines(act: "Act") -> str | None:
    if not act.lines:
        return "В акте нет строк: добавьте работы."
    if act.total_amount is None or act.total_amount <= 0:
        return "Сумма акта должна быть больше нуля."
    return None


def _no_payments(act: "Act") -> str | None:
    return "По акту есть оплаты: аннулировать его нельзя." if act.paid_amount else None


ACT_WORKFLOW = Workflow(ActStatus, [
    Move((ActStatus.DRAFT,), ActStatus.ISSUED, "Выставить акт", "issue", "выставление",
         done="Акт выставлен: номер присвоен, содержание зафиксировано.", style="primary", guard=_has_lines,
         confirm="Выставить акт? После этого его нельзя будет изменить, только аннулировать."),
    Move((ActStatus.ISSUED,), ActStatus.SIGNED, "Отметить подписание", "sign", "подписание клиентом",
         done="Акт подписан клиентом: задачи приняты.", style="success",
         fields=(MoveField("signed_on", "Дата подписания", required=True, default=today_default),
                 MoveField("signed_by", "Кто подписал", kind="text", required=True),
                 MoveField("signed_how", "Как получен", kind="select", required=True,
                           choices=tuple((h.value, h.label) for h in SignedHow)))),
    Move((ActStatus.ISSUED,), ActStatus.CANCELLED, "Аннулировать", "cancel", "аннулирование",
         done="Акт аннулирован; его номер остаётся занятым.", style="outline-danger", guard=_no_payments,
         fields=(MoveField("cancel_reason", "Причина", kind="text", required=True),),
         confirm="Аннулировать акт? Номер останется занятым, для исправления выставите новый."),
], checks_version=True)


def balance(total: Decimal, paid: Decimal) -> Decimal:
    """What remains to be paid of ``total`` (``Act.balance``; the export reads columns)."""
    return max(Decimal("0.00"), total - paid)


def paid_state(status: ActStatus, total: Decimal, paid: Decimal, due_on: date | None,
               today: date) -> PaidState | None:
    """An act's payment state from its columns (``Act.paid_state``; the export reads columns, not
    acts)."""
    if status not in BILLED:
        return None
    if paid >= total:
        return PaidState.PAID
    if due_on is not None and due_on < today:
        return PaidState.OVERDUE
    return PaidState.PARTLY if paid > 0 else PaidState.UNPAID


class Act(Versioned, Audited, db.Model):
    __tablename__ = "acts"
    __audit_name__ = "Акт"
    __audit_link__ = ("acts.detail", "act_id")
    __audit_labels__ = {
        "client_id": "Клиент", "status": "Состояние", "number": "Номер", "year": "Год", "seq": "Порядковый номер",
        "act_date": "Дата акта", "period_from": "Период с", "period_to": "Период по", "vat_mode": "НДС",
        "vat_rate": "Ставка НДС", "parties": "Реквизиты сторон", "hours_detail": "Детализация часов", "net_amount": "Сумма без НДС",
        "vat_amount": "НДС", "total_amount": "Итого", "due_on": "Оплатить до", "accept_by": "Принять до",
        "signed_on": "Дата подписания", "signed_by": "Подписал", "signed_how": "Как подписан",
        "cancel_reason": "Причина аннулирования", "comment": "Комментарий", "issued_at": "Выставлен"}
    __unversioned__ = frozenset({"paid_amount", "net_amount", "vat_amount", "total_amount", "reminded_at"})
    __audit_exclude__ = frozenset({"version", "paid_amount", "reminded_at", "created_at", "created_by_id",
                                   "issued_by_id"})
    __table_args__ = (
        sa.UniqueConstraint("year", "seq"),
        sa.Index("ix_acts_client_date", "client_id", "act_date"),
        sa.Index("ix_acts_status_due", "status", "due_on"),
        sa.Index("ix_acts_status_accept", "status", "accept_by", "id"),  # unsigned past acceptance, oldest first
        sa.Index("ix_acts_date_id", "act_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="RESTRICT"))
    status: Mapped[ActStatus] = mapped_column(enum_type(ActStatus, "act_status"), default=ActStatus.DRAFT)
    # Given at issue: the printed number by the company's format, and the year's sequence behind it.
    number: Mapped[str | None] = mapped_column(sa.String(60))
    year: Mapped[int | None] = mapped_column(sa.Integer)
    seq: Mapped[int | None] = mapped_column(sa.Integer)
    act_date: Mapped[date | None] = mapped_column(sa.Date)
    period_from: Mapped[date] = mapped_column(sa.Date)
    period_to: Mapped[date] = mapped_column(sa.Date)
    # Frozen at issue (a draft follows the company profile of the day).
    vat_mode: Mapped[VatMode | None] = mapped_column(enum_type(VatMode, "act_vat_mode"))
    vat_rate: Mapped[Decimal | None] = mapped_column(Rate)
    # {"contractor": {...Party fields}, "client": {...}, "contract": {"number", "date"}}
    parties: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The appendix detailing the hours behind the lines, frozen at issue: [{"item", "date", "who", "hours", "comment"}]
    hours_detail: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    net_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    vat_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    total_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    accept_by: Mapped[date | None] = mapped_column(sa.Date)
    signed_on: Mapped[date | None] = mapped_column(sa.Date)
    signed_by: Mapped[str] = mapped_column(sa.String(200), default="")
    signed_how: Mapped[SignedHow | None] = mapped_column(enum_type(SignedHow, "act_signed_how"))
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    lines: Mapped[list["ActLine"]] = relationship(back_populates="act", order_by="(ActLine.position, ActLine.id)",
                                                  cascade="all, delete-orphan")
    payments: Mapped[list["Payment"]] = relationship(back_populates="act", order_by="(Payment.paid_on, Payment.id)",
                                                     cascade="all, delete-orphan")

    workflow = ACT_WORKFLOW

    def __str__(self) -> str:
        return f"Акт № {self.number}" if self.number else f"Черновик акта #{self.id}"

    @property
    def audit_label(self) -> str:
        return str(self)

    @property
    def is_draft(self) -> bool:
        return self.status == ActStatus.DRAFT

    @property
    def is_billed(self) -> bool:
        return self.status in BILLED

    @property
    def vat_label(self) -> str:
        return VAT_MODE_LABELS[self.vat_mode] if self.vat_mode else ""

    @property
    def balance(self) -> Decimal:
        """What remains to be paid."""
        return balance(self.total_amount or Decimal(0), self.paid_amount or Decimal(0))

    def paid_state(self, today: date) -> PaidState | None:
        """Unpaid / partly paid / paid / overdue; None for a draft or a cancelled act."""
        return paid_state(self.status, self.total_amount, self.paid_amount, self.due_on, today)

    def awaits_signature(self, today: date) -> bool:
        """Issued, not signed back, and the acceptance period is over."""
        return self.status == ActStatus.ISSUED and self.accept_by is not None and self.accept_by < today

    def payment_due_soon(self, today: date) -> bool:
        state = self.paid_state(today)
        return state == PaidState.OVERDUE or (
            state in (PaidState.UNPAID, PaidState.PARTLY) and self.due_on is not None
            and self.due_on <= today + timedelta(days=DUE_SOON_DAYS))


class ActLine(Versioned, Audited, db.Model):
    """One line of an act: a work, its quantity, unit, price and sum; editable while the act is a draft."""

    __tablename__ = "act_lines"
    __audit_name__ = "Строка акта"
    __audit_labels__ = {"act_id": "Акт", "item_id": "Задача", "position": "Порядок", "name": "Работа",
                        "quantity": "Количество", "unit": "Единица", "price": "Цена", "amount": "Сумма"}
    __audit_exclude__ = frozenset({"version"})

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("acts.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    name: Mapped[str] = mapped_column(sa.String(1000))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("1"))
    unit: Mapped[str] = mapped_column(sa.String(20), default="ч")
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    act: Mapped[Act] = relationship(back_populates="lines")

    @property
    def audit_label(self) -> str:
        return f"Строка акта #{self.act_id}: {self.name}"[:300]


class Payment(Audited, db.Model):
    """Money received against an act: the day and the amount (part payments allowed)."""

    __tablename__ = "payments"
    __audit_name__ = "Оплата акта"
    __audit_labels__ = {"act_id": "Акт", "paid_on": "Дата оплаты", "amount": "Сумма", "comment": "Комментарий"}
    __audit_exclude__ = frozenset({"created_at", "created_by_id"})

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("acts.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date] = mapped_column(sa.Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    act: Mapped[Act] = relationship(back_populates="payments")
    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def audit_label(self) -> str:
        return f"Оплата акта #{self.act_id}"


class ActCounter(db.Model):
    """The last number given in a year: incremented under its row lock, so two issues take turns and
    the sequence has no gap (a rolled-back issue rolls its increment back too)."""

    __tablename__ = "act_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.Integer, default=0)
