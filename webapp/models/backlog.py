"""The backlog: a client's requests from intake to acceptance, their estimates, approvals, stages
and the time spent on them.

An item is numbered per client (``ROMASHKA-42``: the client's code and a number the database keeps
unique per client), ranked in the client's agreed order by a sparse integer key (a move changes one
row), and moves through the states of ``BACKLOG_WORKFLOW``. Estimates are kept as versions; an
approval names the estimate it approved, and a later estimate that exceeds it by more than the
tolerance voids it. Spent hours and the current estimate are stored on the item, recomputed by
``services.backlog`` in the same transaction as the rows they come from.
"""

import enum
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.clients import Client, Contact
from webapp.models.types import Money, UTCDateTime, enum_type, utcnow
from webapp.models.users import User
from webapp.models.workflow import Move, Workflow

HOURS = sa.Numeric(8, 2, asdecimal=True)
# A new estimate may exceed the approved cost by this share before it needs a new approval.
APPROVAL_TOLERANCE = Decimal("0.05")
RANK_GAP = 1024


class ItemStatus(enum.StrEnum):
    NEW = "new"
    SPEC = "spec"
    ESTIMATE = "estimate"
    APPROVAL = "approval"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ACCEPTED = "accepted"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"new": "Новая", "spec": "ТЗ", "estimate": "Оценка", "approval": "Ждёт согласования",
                "approved": "Согласована", "in_progress": "В работе", "done": "Выполнена",
                "accepted": "Принята", "on_hold": "Отложена", "rejected": "Отклонена клиентом",
                "cancelled": "Отменена"}[self.value]

    @property
    def badge(self) -> str:
        return {"new": "info", "spec": "primary", "estimate": "primary", "approval": "warning",
                "approved": "success", "in_progress": "primary", "done": "success", "accepted": "secondary",
                "on_hold": "warning", "rejected": "dark", "cancelled": "secondary"}[self.value]

    @property
    def waits_on(self) -> str | None:
        """Who the item waits on: «us», «client», or nobody (closed)."""
        if self in WAITING_ON_CLIENT:
            return "client"
        if self in CLOSED:
            return None
        return "us"


# Closed items leave the working list; the client's decisions are what the SLA clock waits for.
CLOSED = frozenset({ItemStatus.ACCEPTED, ItemStatus.REJECTED, ItemStatus.CANCELLED})
WAITING_ON_CLIENT = frozenset({ItemStatus.APPROVAL, ItemStatus.ON_HOLD, ItemStatus.DONE})
# The SLA clock stops while the client decides (approval) or asked to wait (on hold).
SLA_PAUSED = frozenset({ItemStatus.APPROVAL, ItemStatus.ON_HOLD})
OPEN = tuple(s for s in ItemStatus if s not in CLOSED)
# Work done: the past items whose estimated and spent hours argue a new estimate.
FINISHED = (ItemStatus.DONE, ItemStatus.ACCEPTED)


class Priority(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def label(self) -> str:
        """Also the «priority» of the regulation's SLA rows (``services.terms.DEFAULT_SLA``)."""
        return {"critical": "Критический", "high": "Высокий", "normal": "Обычный", "low": "Низкий"}[self.value]

    @property
    def badge(self) -> str:
        return {"critical": "danger", "high": "warning", "normal": "light", "low": "light"}[self.value]


class Billing(enum.StrEnum):
    BILLABLE = "billable"
    WARRANTY = "warranty"
    PACKAGE = "package"

    @property
    def label(self) -> str:
        return {"billable": "Оплачивается", "warranty": "Гарантия / наша ошибка",
                "package": "В пакете часов"}[self.value]


class IntakeChannel(enum.StrEnum):
    VOICE = "voice"
    MESSAGE = "message"
    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"voice": "Голосовое сообщение", "message": "Мессенджер", "email": "Письмо", "call": "Звонок",
                "meeting": "Планёрка / встреча", "other": "Другое"}[self.value]


class ApprovalChannel(enum.StrEnum):
    EMAIL = "email"
    MESSAGE = "message"
    MEETING = "meeting"
    SPEC = "spec"
    LINK = "link"

    @property
    def label(self) -> str:
        return {"email": "Письмо", "message": "Мессенджер", "meeting": "Встреча / планёрка",
                "spec": "Подписанное ТЗ", "link": "Ссылка"}[self.value]


class StageKind(enum.StrEnum):
    """Which promise of the SLA a stage's deadline keeps, if any."""

    PLAIN = "plain"
    REACTION = "reaction"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return {"plain": "", "reaction": "реакция по SLA", "resolution": "решение по SLA"}[self.value]


# --- the status machine -----------------------------------------------------------------------


def item_key(code: str, number: int) -> str:
    """An item's key, its client's code and its number: «ROMASHKA-42»."""
    return f"{code}-{number}"


def _has_estimate(item: "BacklogItem") -> str | None:
    return None if item.estimate_hours is not None else "Сначала оцените задачу: часы и стоимость."


def _may_start(item: "BacklogItem") -> str | None:
    """No work on an item nobody estimated (warranty work aside): without hours, nobody knows whether
    it needs the client's approval. Whether it does — the regulation's threshold — is the service's
    guard (``services.backlog``), which reads the terms in force."""
    if item.billing == Billing.WARRANTY or item.estimate_hours is not None:
        return None
    return "Сначала оцените задачу: без оценки неясно, нужно ли согласование."


def approval_missing(item: "BacklogItem", threshold_hours: Decimal | None,
                     threshold_amount: Decimal | None) -> bool:
    """Work on ``item`` waits for a recorded approval: not warranty, none in force, and its
    estimate reaches the threshold."""
    if item.billing == Billing.WARRANTY or item.has_valid_approval:
        return False
    return needs_approval(item.estimate_hours, item.estimate_cost, threshold_hours, threshold_amount)


def needs_approval(hours: Decimal | None, cost: Decimal | None, threshold_hours: Decimal | None,
                   threshold_amount: Decimal | None) -> bool:
    """The regulation says «согласование ЛПР от N ч или от N ₽»: either reached needs an approval;
    a regulation with no threshold at all has every task approved."""
    if threshold_hours is None and threshold_amount is None:
        return True
    return ((threshold_hours is not None and hours is not None and hours >= threshold_hours)
            or (threshold_amount is not None and cost is not None and cost >= threshold_amount))


_ACTIVE = (ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.ESTIMATE, ItemStatus.APPROVAL, ItemStatus.APPROVED,
           ItemStatus.IN_PROGRESS)

BACKLOG_WORKFLOW = Workflow(ItemStatus, [
    Move((ItemStatus.NEW, ItemStatus.ESTIMATE, ItemStatus.ON_HOLD), ItemStatus.SPEC, "Писать ТЗ", "to_spec",
         "переход к ТЗ", done="Задача в работе над ТЗ.", style="outline-primary"),
    Move((ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.APPROVAL, ItemStatus.ON_HOLD), ItemStatus.ESTIMATE,
         "На оценку", "to_estimate", "передача на оценку", done="Задача передана на оценку."),
    Move((ItemStatus.ESTIMATE,), ItemStatus.APPROVAL, "Ждём согласования клиента", "request_approval",
         "запрос согласования", done="Оценка ждёт согласования клиента.", guard=_has_estimate),
    Move((ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.ESTIMATE, ItemStatus.APPROVAL, ItemStatus.APPROVED,
          ItemStatus.ON_HOLD, ItemStatus.DONE), ItemStatus.IN_PROGRESS, "В работу", "start", "взята в работу",
         done="Задача в работе.", style="primary", guard=_may_start),
    Move((ItemStatus.IN_PROGRESS,), ItemStatus.DONE, "Выполнена", "finish", "выполнение",
         done="Задача выполнена: ждёт приёмки клиентом.", style="success"),
    Move((ItemStatus.DONE,), ItemStatus.ACCEPTED, "Принята клиентом", "accept", "приёмка клиентом",
         done="Клиент принял задачу.", style="success"),
    Move(_ACTIVE, ItemStatus.ON_HOLD, "Отложить", "hold", "отложена", done="Задача отложена.",
         style="outline-secondary"),
    Move((ItemStatus.SPEC, ItemStatus.ESTIMATE, ItemStatus.APPROVAL), ItemStatus.REJECTED, "Клиент отказался",
         "reject", "отказ клиента", done="Задача закрыта: клиент отказался.", style="outline-danger",
         confirm="Закрыть задачу: клиент отказался?"),
    Move((*_ACTIVE, ItemStatus.ON_HOLD), ItemStatus.CANCELLED, "Отменить", "cancel", "отмена",
         done="Задача отменена.", style="outline-danger", confirm="Отменить задачу?"),
    # Never buttons: recording an approval and a re-estimate above it move the item themselves.
    Move((), ItemStatus.APPROVED, "Согласована", "approve", "согласование клиентом"),
    Move((), ItemStatus.ESTIMATE, "Согласование аннулировано", "void_approval", "согласование аннулировано"),
    Move((), ItemStatus.ESTIMATE, "Оценка отклонена", "decline_estimate", "оценка отклонена клиентом"),
])


class BacklogItem(Versioned, Audited, db.Model):
    __tablename__ = "backlog_items"
    __audit_name__ = "Задача бэклога"
    __audit_link__ = ("backlog.detail", "item_id")
    __audit_labels__ = {
        "number": "Номер", "title": "Название", "request_text": "Запрос клиента", "channel": "Канал",
        "requester_id": "Кто обратился", "received_at": "Получена", "goal": "Цель",
        "current_behaviour": "Как сейчас", "required_behaviour": "Как должно быть",
        "acceptance_criteria": "Критерии приёмки", "priority": "Приоритет", "assignee_id": "Исполнитель",
        "due_on": "Срок", "budget_block": "Блок бюджета (текстом)",
        "budget_block_id": "Блок бюджета", "billing": "Оплата", "status": "Статус",
        "estimate_hours": "Оценка, ч", "estimate_cost": "Оценка, ₽"}
    # Bookkeeping that services recompute: never makes a user's open form stale.
    __unversioned__ = frozenset({"rank", "spent_hours", "estimate_hours", "estimate_cost", "waiting_since",
                                 "sla_paused_days", "status_changed_at"})
    __audit_exclude__ = frozenset({"version", "rank", "spent_hours", "waiting_since", "sla_paused_days",
                                   "status_changed_at"})
    __table_args__ = (
        sa.UniqueConstraint("client_id", "number"),
        sa.Index("ix_backlog_items_client_rank", "client_id", "rank"),
        sa.Index("ix_backlog_items_assignee_status", "assignee_id", "status"),
        # The all-clients overview groups the open items by assignee and status from this index alone.
        sa.Index("ix_backlog_items_status_assignee_estimate", "status", "assignee_id", "estimate_hours"),
        sa.Index("ix_backlog_items_status_changed", "status", "status_changed_at"),
        sa.Index("ix_backlog_items_received", "received_at", "id"),
        # «Мой день»: a manager's new requests and waiting approvals, from their clients' rows only.
        sa.Index("ix_backlog_items_client_status", "client_id", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(300))
    request_text: Mapped[str] = mapped_column(sa.Text, default="")
    channel: Mapped[IntakeChannel] = mapped_column(enum_type(IntakeChannel, "intake_channel"),
                                                   default=IntakeChannel.MESSAGE)
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    goal: Mapped[str] = mapped_column(sa.Text, default="")
    current_behaviour: Mapped[str] = mapped_column(sa.Text, default="")
    required_behaviour: Mapped[str] = mapped_column(sa.Text, default="")
    acceptance_criteria: Mapped[str] = mapped_column(sa.Text, default="")
    priority: Mapped[Priority] = mapped_column(enum_type(Priority, "item_priority"), default=Priority.NORMAL)
    rank: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    budget_block: Mapped[str] = mapped_column(sa.String(200), default="")  # free text from before budgets
    # The block of the client's budget the item is charged to (its figures follow the item).
    budget_block_id: Mapped[int | None] = mapped_column(sa.ForeignKey("budget_blocks.id", ondelete="SET NULL"),
                                                        index=True)
    billing: Mapped[Billing] = mapped_column(enum_type(Billing, "billing"), default=Billing.BILLABLE)
    status: Mapped[ItemStatus] = mapped_column(enum_type(ItemStatus, "item_status"), default=ItemStatus.NEW)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The current estimate and the hours spent, kept by services.backlog from their rows.
    estimate_hours: Mapped[Decimal | None] = mapped_column(HOURS)
    estimate_cost: Mapped[Decimal | None] = mapped_column(Money)
    spent_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"))
    # The SLA clock: the day the item began waiting on the client, and the working days it waited.
    waiting_since: Mapped[date | None] = mapped_column(sa.Date)
    sla_paused_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    requester: Mapped[Contact | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    block: Mapped["BudgetBlock | None"] = relationship("BudgetBlock", lazy="select")
    stages: Mapped[list["Stage"]] = relationship(back_populates="item", order_by="Stage.position",
                                                 cascade="all, delete-orphan")
    estimates: Mapped[list["Estimate"]] = relationship(back_populates="item", order_by="Estimate.number.desc()",
                                                       cascade="all, delete-orphan")
    approvals: Mapped[list["Approval"]] = relationship(back_populates="item", order_by="Approval.id.desc()",
                                                       cascade="all, delete-orphan")
    time_entries: Mapped[list["TimeEntry"]] = relationship(
        back_populates="item", order_by="(TimeEntry.spent_on.desc(), TimeEntry.id.desc())",
        cascade="all, delete-orphan")

    workflow = BACKLOG_WORKFLOW

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return item_key(self.client.code, self.number) if self.client else str(self.number)

    @property
    def audit_label(self) -> str:
        return str(self)[:300]

    @property
    def approval(self) -> "Approval | None":
        """The approval in force: the newest one not voided."""
        return next((a for a in self.approvals if not a.void), None)

    @property
    def has_valid_approval(self) -> bool:
        return self.approval is not None

    @property
    def approval_voided_in_work(self) -> bool:
        """Work goes on, but a re-estimate voided the approval it started on: ask the client again."""
        return (self.status == ItemStatus.IN_PROGRESS and self.approval is None
                and any(a.void for a in self.approvals))

    @property
    def overrun(self) -> bool:
        return self.estimate_hours is not None and self.spent_hours > self.estimate_hours

    @property
    def spent_share(self) -> int:
        """Spent hours as a percentage of the estimate, for the bar (capped at 100)."""
        if not self.estimate_hours:
            return 0
        return min(100, int(self.spent_hours * 100 / self.estimate_hours))

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    @property
    def words(self) -> list[str]:
        """The normalised words of its title, request and spec (stored as ``ItemWord`` rows)."""
        return item_words(self.title, self.request_text, self.goal, self.current_behaviour,
                          self.required_behaviour, self.acceptance_criteria)

    @property
    def awaits_approval(self) -> bool:
        """Sent to the client's decision maker: an approval link may go out now."""
        return self.status == ItemStatus.APPROVAL


class Estimate(Audited, db.Model):
    """One version of an item's estimate: hours (optionally by lines), the rate, the cost."""

    __tablename__ = "estimates"
    __audit_name__ = "Оценка задачи"
    __audit_labels__ = {"item_id": "Задача", "number": "Версия", "hours": "Часы", "lines": "Состав работ",
                        "rate": "Ставка", "cost": "Стоимость", "note": "Внутренняя заметка"}
    __table_args__ = (sa.UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    # [{"title", "hours"}]: the internal breakdown, never printed for the client
    lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    rate: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[BacklogItem] = relationship(back_populates="estimates")
    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def breakdown(self) -> list[tuple[str, Decimal]]:
        """The internal lines as (work, hours)."""
        return [(row.get("title", ""), Decimal(row.get("hours") or 0)) for row in self.lines or []]

    @property
    def audit_label(self) -> str:
        return f"Оценка {self.number} задачи #{self.item_id}"


# --- the words of an item, for «similar past items» -----------------------------------------------

_WORD = re.compile(r"[0-9a-zа-я]+")
# Words that say nothing about the work; shorter ones are dropped by their length.
STOP_WORDS = frozenset("""чтобы нужно надо нужна нужен нужны этот этого этой было будет если также может можно
после через когда просим прошу пожалуйста сделать здравствуйте спасибо очень который которые которая сейчас
должно должен должна должны клиент клиента задача задачи есть быть всех весь была были тоже только with that
this from have""".split())
STEM = 6           # a crude stem for Russian: «выгрузка», «выгрузки», «выгрузку» → «выгруз»
MAX_WORDS = 60     # per item: the title first, then the request and the spec


def item_words(*texts: str) -> list[str]:
    """The normalised word set of an item's texts, in order of first appearance: lower case, «ё» as
    «е», at least four letters, stop words dropped, cut to a stem."""
    found: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall((text or "").lower().replace("ё", "е")):
            if len(word) < 4 or word.isdigit() or word in STOP_WORDS:
                continue
            found.setdefault(word[:STEM])
            if len(found) >= MAX_WORDS:
                return list(found)
    return list(found)


class ItemWord(db.Model):
    """One word of an item's stored word set (``item_words`` of its title, request and spec), kept by
    ``services.backlog`` whenever those texts change; indexed by word, so items sharing a rare word
    are found without reading the items."""

    __tablename__ = "backlog_item_words"
    __table_args__ = (sa.Index("ix_backlog_item_words_word", "word", "item_id"),)

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(STEM), primary_key=True)


class Approval(Audited, db.Model):
    """A decision maker's consent to an estimate's cost: who, when, through which channel."""

    __tablename__ = "approvals"
    __audit_name__ = "Согласование оценки"
    __audit_labels__ = {"item_id": "Задача", "estimate_id": "Оценка", "contact_id": "ЛПР",
                        "approved_at": "Когда", "channel": "Канал", "comment": "Комментарий",
                        "void": "Аннулировано", "void_reason": "Причина аннулирования",
                        "recorded_by_id": "Записал"}

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="CASCADE"), index=True)
    estimate_id: Mapped[int] = mapped_column(sa.ForeignKey("estimates.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[ApprovalChannel] = mapped_column(enum_type(ApprovalChannel, "approval_channel"))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    void: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[BacklogItem] = relationship(back_populates="approvals")
    estimate: Mapped[Estimate] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")

    @property
    def audit_label(self) -> str:
        return f"Согласование задачи #{self.item_id}"


class Stage(Versioned, Audited, db.Model):
    """An intermediate deadline inside an item (agree scope, estimate, test task, delivery)."""

    __tablename__ = "stages"
    __audit_name__ = "Этап задачи"
    __audit_labels__ = {"item_id": "Задача", "name": "Этап", "due_on": "Срок", "done_at": "Выполнен",
                        "kind": "Срок по SLA", "position": "Порядок"}
    # Open deadlines in order: «Мой день» and the lists walk it to the first overdue stages and stop
    # (PostgreSQL scanned every stage for a manager's ten, 26 ms, with the index on (due_on, done_at)).
    # And an item's open deadlines, for the badge of «Мой день» that walks a manager's items and asks
    # each for its overdue stages: without it, every stage of every item was read to look at two columns.
    __table_args__ = (sa.Index("ix_stages_open_due", "due_on", "id", sqlite_where=sa.text("done_at IS NULL"),
                               postgresql_where=sa.text("done_at IS NULL")),
                      sa.Index("ix_stages_item_open", "item_id", "due_on", sqlite_where=sa.text("done_at IS NULL"),
                               postgresql_where=sa.text("done_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[StageKind] = mapped_column(enum_type(StageKind, "stage_kind"), default=StageKind.PLAIN)

    item: Mapped[BacklogItem] = relationship(back_populates="stages")

    @property
    def audit_label(self) -> str:
        return f"Этап «{self.name}» задачи #{self.item_id}"

    def overdue(self, today: date) -> bool:
        return self.done_at is None and self.due_on is not None and self.due_on < today


class TimeEntry(Audited, db.Model):
    """Hours someone spent on an item on a day."""

    __tablename__ = "time_entries"
    __audit_name__ = "Списание времени"
    __audit_labels__ = {"item_id": "Задача", "spent_on": "Дата", "hours": "Часы", "comment": "Комментарий",
                        "billable": "Оплачивается"}
    __table_args__ = (sa.Index("ix_time_entries_day_user", "spent_on", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    spent_on: Mapped[date] = mapped_column(sa.Date)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    billable: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[BacklogItem] = relationship(back_populates="time_entries")
    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def audit_label(self) -> str:
        return f"Время по задаче #{self.item_id}"


class PriorityAgreement(Audited, db.Model):
    """«Зафиксировать приоритеты»: the order of a client's open items as agreed, with whom, when."""

    __tablename__ = "priority_agreements"
    __audit_name__ = "Согласованные приоритеты"
    __audit_labels__ = {"contact_id": "Согласовал", "agreed_at": "Когда", "items": "Порядок задач",
                        "comment": "Комментарий", "recorded_by_id": "Записал"}

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # [{"id", "key", "title"}] in the agreed order
    items: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact | None] = relationship(lazy="joined")
    recorded_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def audit_label(self) -> str:
        return f"Приоритеты клиента #{self.client_id}"
