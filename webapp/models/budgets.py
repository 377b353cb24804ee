"""Budgets: a client's yearly plan in blocks, each split into twelve monthly amounts.

A ``Budget`` (one per client and year) moves draft → approved (by which decision maker, when). Its
``BudgetBlock``s are money blocks («Операционный блок») or hour packages («абонентское
обслуживание»: N hours a month at a rate, with a carry-over rule). A block's months always add up to
its plan (``split_evenly``). Spent and committed figures are stored on the block row, recomputed by
``services.budgets`` from the backlog items charged to it in the same transaction as the change;
an alert is recorded once per crossing of a threshold.
"""

import enum
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.clients import Client, Contact
from webapp.models.types import Money, UTCDateTime, enum_type, utcnow
from webapp.models.workflow import Move, MoveField, Workflow, today_default

HOURS = sa.Numeric(8, 2, asdecimal=True)
CENT = Decimal("0.01")
MONTHS = range(1, 13)


class BudgetStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return {"draft": "Черновик", "approved": "Утверждён"}[self.value]

    @property
    def badge(self) -> str:
        return {"draft": "secondary", "approved": "success"}[self.value]


class BlockKind(enum.StrEnum):
    MONEY = "money"
    HOURS = "hours"

    @property
    def label(self) -> str:
        return {"money": "Денежный блок", "hours": "Пакет часов"}[self.value]


class CarryOver(enum.StrEnum):
    """What happens to a package's unused hours at the end of a month."""

    BURN = "burn"
    NEXT_MONTH = "next_month"
    QUARTER = "quarter"

    @property
    def label(self) -> str:
        return {"burn": "Сгорают", "next_month": "Переносятся на следующий месяц",
                "quarter": "Переносятся в пределах квартала"}[self.value]


def split_evenly(total: Decimal, parts: int = 12) -> list[Decimal]:
    """``total`` in ``parts`` equal amounts to the kopeck; the remainder kopecks go to the last months,
    so the parts add up to the total exactly."""
    total = Decimal(total).quantize(CENT)
    sign = -1 if total < 0 else 1
    cents = int(abs(total) / CENT)
    base, extra = divmod(cents, parts)
    return [sign * Decimal(base + (1 if n >= parts - extra else 0)) * CENT for n in range(parts)]


def _has_blocks(budget: "Budget") -> str | None:
    return None if budget.blocks else "Добавьте в бюджет хотя бы один блок."


BUDGET_WORKFLOW = Workflow(BudgetStatus, [
    Move((BudgetStatus.DRAFT,), BudgetStatus.APPROVED, "Утвердить", "approve", "утверждение клиентом",
         done="Бюджет утверждён.", style="success", guard=_has_blocks,
         # the decision maker who approved comes with the move too (``services.budgets``)
         fields=(MoveField("approved_on", "Дата утверждения", required=True, default=today_default),)),
    Move((BudgetStatus.APPROVED,), BudgetStatus.DRAFT, "Вернуть в черновик", "reopen", "возврат в черновик",
         done="Бюджет снова черновик.", style="outline-secondary", confirm="Вернуть бюджет в черновик?"),
], open_states=(BudgetStatus.DRAFT,))


class Budget(Versioned, Audited, db.Model):
    __tablename__ = "budgets"
    __audit_name__ = "Бюджет"
    __audit_labels__ = {"client_id": "Клиент", "year": "Год", "status": "Статус", "approved_by_id": "Утвердил",
                        "approved_on": "Дата утверждения", "warn_percent": "Предупреждать при, %",
                        "limit_percent": "Предел, %", "growth_percent": "Рост к прошлому году, %",
                        "note": "Примечание"}
    __audit_exclude__ = frozenset({"version", "created_at"})
    __table_args__ = (sa.UniqueConstraint("client_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[BudgetStatus] = mapped_column(enum_type(BudgetStatus, "budget_status"), default=BudgetStatus.DRAFT)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    approved_on: Mapped[date | None] = mapped_column(sa.Date)
    # Alert thresholds, as percentages of a block's plan (by spent and by forecast).
    warn_percent: Mapped[int] = mapped_column(sa.Integer, default=80)
    limit_percent: Mapped[int] = mapped_column(sa.Integer, default=100)
    growth_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2, asdecimal=True))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    approved_by: Mapped[Contact | None] = relationship(lazy="joined")
    blocks: Mapped[list["BudgetBlock"]] = relationship(back_populates="budget", cascade="all, delete-orphan",
                                                       order_by="(BudgetBlock.position, BudgetBlock.id)")

    workflow = BUDGET_WORKFLOW

    @property
    def audit_label(self) -> str:
        return f"Бюджет {self.year} ({self.client.short_name if self.client else self.client_id})"

    def audit_url(self) -> str | None:
        from flask import url_for
        return url_for("budgets.detail", client_id=self.client_id, year=self.year)

    @property
    def thresholds(self) -> tuple[int, ...]:
        return tuple(sorted({self.warn_percent, self.limit_percent}))

    @property
    def planned(self) -> Decimal:
        return sum((b.planned_amount for b in self.blocks), Decimal("0.00"))


class BudgetBlock(Versioned, Audited, db.Model):
    __tablename__ = "budget_blocks"
    __audit_name__ = "Блок бюджета"
    __audit_labels__ = {"budget_id": "Бюджет", "position": "Порядок", "name": "Название", "kind": "Вид",
                        "planned_amount": "План, ₽", "planned_hours": "План, ч",
                        "hours_per_month": "Часов в месяц", "rate": "Ставка, ₽/ч", "carry_over": "Остаток часов"}
    # Figures recomputed from the backlog: never make a user's open form stale, never typed.
    __unversioned__ = frozenset({"spent", "committed", "spent_hours", "committed_hours"})
    __audit_exclude__ = frozenset({"version", "spent", "committed", "spent_hours", "committed_hours"})
    __table_args__ = (sa.UniqueConstraint("budget_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[BlockKind] = mapped_column(enum_type(BlockKind, "block_kind"), default=BlockKind.MONEY)
    planned_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    planned_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"))
    hours_per_month: Mapped[Decimal | None] = mapped_column(HOURS)
    rate: Mapped[Decimal | None] = mapped_column(Money)
    carry_over: Mapped[CarryOver] = mapped_column(enum_type(CarryOver, "carry_over"), default=CarryOver.BURN)
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    committed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    spent_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"))
    committed_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"))

    budget: Mapped[Budget] = relationship(back_populates="blocks")
    months: Mapped[list["BudgetMonth"]] = relationship(back_populates="block", cascade="all, delete-orphan",
                                                       order_by="BudgetMonth.month")

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"Блок «{self.name}»"

    def audit_url(self) -> str | None:
        from flask import url_for
        return url_for("budgets.detail", client_id=self.budget.client_id, year=self.budget.year) + f"#block-{self.id}"

    @property
    def is_package(self) -> bool:
        return self.kind == BlockKind.HOURS

    def percent(self, amount: Decimal) -> int | None:
        """``amount`` as a whole percentage of the plan (None without a plan)."""
        if not self.planned_amount:
            return None
        return int((amount * 100 / self.planned_amount).to_integral_value(rounding=ROUND_DOWN))


class BudgetMonth(Audited, db.Model):
    """A block's plan for one month; the months of a block add up to its plan."""

    __tablename__ = "budget_months"
    __audit_name__ = "План блока на месяц"
    __audit_labels__ = {"block_id": "Блок", "month": "Месяц", "planned": "План, ₽"}
    # Work done in the month, kept by ``services.budgets.refresh_block`` with the block's own figures:
    # the overview ranks every budget by forecast from these rows instead of scanning the backlog.
    __audit_exclude__ = frozenset({"version", "spent", "spent_hours"})
    __table_args__ = (sa.UniqueConstraint("block_id", "month"),
                      sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_blocks.id", ondelete="CASCADE"))
    month: Mapped[int] = mapped_column(sa.Integer)
    planned: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    spent_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"), server_default="0")

    block: Mapped[BudgetBlock] = relationship(back_populates="months")

    @property
    def audit_label(self) -> str:
        return f"План блока #{self.block_id} на месяц {self.month}"


class AlertBasis(enum.StrEnum):
    SPENT = "spent"
    FORECAST = "forecast"

    @property
    def label(self) -> str:
        return {"spent": "израсходовано", "forecast": "по прогнозу"}[self.value]


class BudgetAlert(db.Model):
    """A block crossed a threshold (by spent or by forecast): raised once per crossing; when the
    figure falls back below, the alert is cleared, and a new crossing raises a new one."""

    __tablename__ = "budget_alerts"
    __table_args__ = (sa.Index("ix_budget_alerts_open", "cleared_at", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_blocks.id", ondelete="CASCADE"), index=True)
    threshold: Mapped[int] = mapped_column(sa.Integer)
    basis: Mapped[AlertBasis] = mapped_column(enum_type(AlertBasis, "alert_basis"))
    percent: Mapped[int] = mapped_column(sa.Integer)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    block: Mapped[BudgetBlock] = relationship(lazy="joined", innerjoin=True)

    @property
    def text(self) -> str:
        return f"{self.block.name}: {self.percent} % плана {self.basis.label} (порог {self.threshold} %)"
