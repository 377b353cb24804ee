"""Interaction regulations (регламент взаимодействия): versioned agreements whose clauses are data.

A regulation goes draft → agreed → signed; signing a version supersedes the one in force. A signed
version is never edited: «Новая редакция» copies it into a new draft. The clauses live in columns
(what the app obeys: cadence, meeting schedule, approval threshold, acceptance and payment terms)
and in JSON lists (SLA rows, responsible people, escalation levels, free sections) that are copied
whole into each new version.
"""

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.clients import Client
from webapp.models.types import Money, UTCDateTime, enum_type, utcnow
from webapp.models.users import User
from webapp.models.workflow import Move, MoveField, Workflow, today_default


class RegulationStatus(enum.StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"
    SIGNED = "signed"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return {"draft": "Проект", "agreed": "Согласован", "signed": "Подписан (действует)",
                "superseded": "Заменён новой редакцией"}[self.value]

    @property
    def badge(self) -> str:
        return {"draft": "secondary", "agreed": "info", "signed": "success", "superseded": "light"}[self.value]

    @property
    def note(self) -> str:
        """What the state means for the user, shown on the edition's page."""
        return {"signed": "Эта редакция действует: её условия AccountDesk применяет к клиенту. Подписанная "
                          "редакция не меняется — для изменений создайте новую.",
                "agreed": "Редакция согласована и ждёт подписи. Чтобы поправить её, верните в проект.",
                "superseded": "Эта редакция заменена новой и больше не действует."}.get(self.value, "")


def _signed_date(record) -> date | None:
    return record.effective_date


REGULATION_WORKFLOW = Workflow(RegulationStatus, [
    Move((RegulationStatus.DRAFT,), RegulationStatus.AGREED, "Согласовано с клиентом", "agree", "согласование",
         done="Редакция отмечена как согласованная с клиентом."),
    Move((RegulationStatus.AGREED,), RegulationStatus.SIGNED, "Подписан", "sign", "подписание",
         done="Регламент подписан и действует: правила клиента обновлены.", style="success",
         confirm="Отметить регламент подписанным? Он вступит в силу, предыдущая редакция будет заменена.",
         fields=(MoveField("signed_on", "Дата подписания", required=True, default=today_default),
                 MoveField("effective_date", "Вступает в силу", default=_signed_date))),
    Move((RegulationStatus.AGREED,), RegulationStatus.DRAFT, "Вернуть в проект", "reopen", "возврат в проект",
         done="Редакция возвращена в проект.", style="outline-secondary"),
    # Never offered as a button: signing the next edition moves the one in force here.
    Move((), RegulationStatus.SUPERSEDED, "Заменить", "supersede", "замена редакцией"),
], open_states=(RegulationStatus.DRAFT, RegulationStatus.AGREED), checks_version=True)

# The clauses in Russian: the comparison of editions and the audit log speak of them alike.
CLAUSE_LABELS = {
    "status": "Статус", "signed_on": "Дата подписания", "effective_date": "Вступает в силу", "city": "Город",
    "parties": "Ответственные лица", "channels": "Каналы связи", "working_hours": "Рабочее время",
    "contact_cadence_days": "Связь с клиентом, раз в N рабочих дней", "meeting_weekday": "День планёрки",
    "meeting_time": "Время планёрки", "meeting_place": "Место планёрки", "intake_procedure": "Приём задач",
    "sla": "Приоритеты и сроки (SLA)", "approval_threshold_hours": "Согласование ЛПР от, часов",
    "approval_threshold_amount": "Согласование ЛПР от, ₽", "acceptance_days": "Приёмка актов, рабочих дней",
    "payment_days": "Оплата, рабочих дней", "escalation": "Эскалация", "hours_limit": "Лимит часов / бюджет",
    "confidentiality": "Конфиденциальность и доступы", "term_text": "Срок действия и изменения",
    "sections": "Дополнительные разделы",
}

WEEKDAYS = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
WEEKDAYS_ACCUSATIVE = ["каждый понедельник", "каждый вторник", "каждую среду", "каждый четверг",
                       "каждую пятницу", "каждую субботу", "каждое воскресенье"]


class RegulationClauses:
    """The clauses a regulation and the company standard share."""

    contact_cadence_days: Mapped[int] = mapped_column(sa.Integer, default=3)
    meeting_weekday: Mapped[int | None] = mapped_column(sa.Integer)  # 0 = Monday
    meeting_time: Mapped[time | None] = mapped_column(sa.Time)
    meeting_place: Mapped[str] = mapped_column(sa.String(300), default="")
    channels: Mapped[str] = mapped_column(sa.Text, default="")
    working_hours: Mapped[str] = mapped_column(sa.String(300), default="")
    intake_procedure: Mapped[str] = mapped_column(sa.Text, default="")
    approval_threshold_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    approval_threshold_amount: Mapped[Decimal | None] = mapped_column(Money)
    acceptance_days: Mapped[int] = mapped_column(sa.Integer, default=5)
    payment_days: Mapped[int] = mapped_column(sa.Integer, default=10)
    hours_limit: Mapped[str] = mapped_column(sa.Text, default="")
    confidentiality: Mapped[str] = mapped_column(sa.Text, default="")
    term_text: Mapped[str] = mapped_column(sa.Text, default="")
    # [{"priority", "description", "reaction", "resolution"}], reaction/resolution in working hours
    sla: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # [{"level", "who", "when"}]
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # [{"title", "body"}]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)

    CLAUSE_FIELDS = ("contact_cadence_days", "meeting_weekday", "meeting_time", "meeting_place", "channels",
                     "working_hours", "intake_procedure", "approval_threshold_hours",
                     "approval_threshold_amount", "acceptance_days", "payment_days", "hours_limit",
                     "confidentiality", "term_text", "sla", "escalation", "sections")

    def clauses(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.CLAUSE_FIELDS}

    @property
    def meeting_schedule(self) -> str:
        """«каждый вторник в 10:00, офис клиента» or empty."""
        if self.meeting_weekday is None:
            return ""
        text = WEEKDAYS_ACCUSATIVE[self.meeting_weekday]
        if self.meeting_time:
            text += f" в {self.meeting_time:%H:%M}"
        if self.meeting_place:
            text += f", {self.meeting_place}"
        return text


class RegulationStandard(RegulationClauses, Versioned, Audited, db.Model):
    """The company's standard wording and values: a new client's regulation starts from it."""

    __tablename__ = "regulation_standard"
    __audit_name__ = "Стандарт регламента"
    __audit_labels__ = CLAUSE_LABELS

    id: Mapped[int] = mapped_column(primary_key=True)

    def __str__(self) -> str:
        return "Стандарт регламента"


class Regulation(RegulationClauses, Versioned, Audited, db.Model):
    __tablename__ = "regulations"
    __audit_name__ = "Регламент"
    __audit_link__ = ("regulations.detail", "regulation_id")
    __audit_labels__ = {**CLAUSE_LABELS, "number": "Редакция", "based_on_id": "На основе редакции"}
    __table_args__ = (
        sa.UniqueConstraint("client_id", "number"),
        # At most one version in force per client, enforced by the database itself.
        sa.Index("uq_regulations_client_signed", "client_id", unique=True,
                 sqlite_where=sa.text("status = 'signed'"), postgresql_where=sa.text("status = 'signed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)  # the edition: 1, 2, 3…
    status: Mapped[RegulationStatus] = mapped_column(enum_type(RegulationStatus, "regulation_status"),
                                                     default=RegulationStatus.DRAFT)
    effective_date: Mapped[date | None] = mapped_column(sa.Date)
    signed_on: Mapped[date | None] = mapped_column(sa.Date)
    city: Mapped[str] = mapped_column(sa.String(100), default="г. Москва")
    # [{"side": "client"|"contractor", "name", "position", "role", "phone", "email"}]
    parties: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    based_on_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regulations.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    created_by: Mapped[User | None] = relationship()

    EDITABLE = (RegulationStatus.DRAFT,)
    workflow = REGULATION_WORKFLOW

    def __str__(self) -> str:
        return f"Регламент взаимодействия, редакция {self.number}"

    @property
    def audit_label(self) -> str:
        return f"{self} ({self.client.short_name if self.client else self.client_id})"

    @property
    def editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_open(self) -> bool:
        """Not signed yet: a draft or an agreed edition (a client has at most one)."""
        return self.status in self.workflow.open_states
