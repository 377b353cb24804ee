"""Weekly planning meetings (планёрки) with a client: who came, the agenda, what was decided, the
action items, and the minutes (протокол) that fix it all.

A meeting is planned (from the regulation's weekday, time and place, or as a one-off), held or
cancelled (``MEETING_WORKFLOW``). The next meeting of a weekly series points at the previous one and
carries over its undecided points and open action items (``carried_from``), so an action item's
history is the chain of its carried copies. Finishing gives the minutes a number within the year:
gapless, given only to held meetings, one counter row per year (``MinutesCounter``) that
concurrent finishes queue up on, and a unique index as the backstop.
"""

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.clients import Client, Contact
from webapp.models.types import UTCDateTime, enum_type, utcnow
from webapp.models.users import User
from webapp.models.workflow import Move, MoveField, Workflow

DEFAULT_DURATION = 60  # minutes


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"planned": "Запланирована", "held": "Проведена", "cancelled": "Отменена"}[self.value]

    @property
    def badge(self) -> str:
        return {"planned": "primary", "held": "success", "cancelled": "secondary"}[self.value]


class MeetingKind(enum.StrEnum):
    WEEKLY = "weekly"
    ONE_OFF = "one_off"

    @property
    def label(self) -> str:
        return {"weekly": "Еженедельная планёрка", "one_off": "Разовая встреча"}[self.value]


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"open": "Открыто", "done": "Выполнено"}[self.value]


MEETING_WORKFLOW = Workflow(MeetingStatus, [
    Move((MeetingStatus.PLANNED,), MeetingStatus.HELD, "Завершить встречу", "finish", "встреча проведена",
         done="Встреча проведена: протоколу присвоен номер.", style="success",
         confirm="Завершить встречу и присвоить протоколу номер?"),
    Move((MeetingStatus.PLANNED,), MeetingStatus.CANCELLED, "Отменить встречу", "cancel", "отмена встречи",
         done="Встреча отменена.", style="outline-danger",
         fields=(MoveField("reason", "Причина отмены", kind="text", required=True),)),
])


class Meeting(Versioned, Audited, db.Model):
    __tablename__ = "meetings"
    __audit_name__ = "Встреча"
    __audit_link__ = ("meetings.detail", "meeting_id")
    __audit_labels__ = {
        "client_id": "Клиент", "kind": "Вид", "status": "Статус", "starts_at": "Начало",
        "duration_minutes": "Длительность, мин", "place": "Место", "previous_id": "Предыдущая встреча",
        "chair_id": "Председатель", "secretary_id": "Секретарь", "minutes_year": "Год протокола",
        "minutes_number": "Номер протокола", "minutes_sent_at": "Протокол отправлен",
        "minutes_sent_to": "Кому отправлен протокол", "cancel_reason": "Причина отмены",
        "held_at": "Проведена", "sequence": "Версия приглашения",
        "minutes_confirmed_at": "Протокол подтверждён", "minutes_confirmed_by": "Кто ответил по протоколу",
        "minutes_objection": "Возражения по протоколу"}
    __unversioned__ = frozenset({"sequence", "minutes_sent_at", "minutes_sent_to", "minutes_confirmed_at",
                                 "minutes_confirmed_by", "minutes_objection"})
    __audit_exclude__ = frozenset({"version", "uid"})
    __table_args__ = (
        sa.UniqueConstraint("minutes_year", "minutes_number"),
        sa.Index("ix_meetings_client_starts", "client_id", "starts_at"),
        sa.Index("ix_meetings_starts", "starts_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[MeetingKind] = mapped_column(enum_type(MeetingKind, "meeting_kind"), default=MeetingKind.WEEKLY)
    status: Mapped[MeetingStatus] = mapped_column(enum_type(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.PLANNED)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_DURATION)
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    chair_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    secretary_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    minutes_year: Mapped[int | None] = mapped_column(sa.Integer)
    minutes_number: Mapped[int | None] = mapped_column(sa.Integer)
    minutes_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_sent_to: Mapped[str] = mapped_column(sa.Text, default="")
    # The client's answer to the minutes through a signed link: confirmed, or an objection.
    minutes_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_confirmed_by: Mapped[str] = mapped_column(sa.String(200), default="")
    minutes_objection: Mapped[str] = mapped_column(sa.Text, default="")
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The calendar's identity of the event (stable) and its revision (bumped on reschedule, cancel).
    uid: Mapped[str] = mapped_column(sa.String(100), unique=True)
    sequence: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id], lazy="joined")
    secretary: Mapped[User | None] = relationship(foreign_keys=[secretary_id])
    previous: Mapped["Meeting | None"] = relationship(remote_side=[id])
    attendees: Mapped[list["Attendee"]] = relationship(back_populates="meeting", order_by="Attendee.id",
                                                       cascade="all, delete-orphan")
    points: Mapped[list["AgendaPoint"]] = relationship(back_populates="meeting",
                                                       order_by="(AgendaPoint.position, AgendaPoint.id)",
                                                       cascade="all, delete-orphan")
    actions: Mapped[list["ActionItem"]] = relationship(back_populates="meeting",
                                                       order_by="(ActionItem.position, ActionItem.id)",
                                                       cascade="all, delete-orphan")

    workflow = MEETING_WORKFLOW

    def __str__(self) -> str:
        from webapp.formatting import date_time
        return f"Встреча с {self.client.short_name} {date_time(self.starts_at)}" if self.client else "Встреча"

    @property
    def audit_label(self) -> str:
        return str(self)[:300]

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes or DEFAULT_DURATION)

    @property
    def minutes_label(self) -> str:
        """«7» within the year, as printed after «№»."""
        return str(self.minutes_number) if self.minutes_number else ""

    @property
    def is_planned(self) -> bool:
        return self.status == MeetingStatus.PLANNED

    @property
    def is_held(self) -> bool:
        return self.status == MeetingStatus.HELD

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


class Attendee(Audited, db.Model):
    """A person at the meeting: a client's contact or one of our users; ``attended`` once marked."""

    __tablename__ = "meeting_attendees"
    __audit_name__ = "Участник встречи"
    __audit_labels__ = {"meeting_id": "Встреча", "contact_id": "Контакт клиента", "user_id": "Сотрудник",
                        "attended": "Присутствовал"}
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "contact_id"),
        sa.UniqueConstraint("meeting_id", "user_id"),
        sa.CheckConstraint("(contact_id IS NULL) <> (user_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attended: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        person = self.contact or self.user
        return person.full_name if person else ""

    @property
    def position(self) -> str:
        person = self.contact or self.user
        return (getattr(person, "position", "") or "") if person else ""

    @property
    def is_client_side(self) -> bool:
        return self.contact_id is not None

    @property
    def audit_label(self) -> str:
        return f"Участник {self.name} встречи #{self.meeting_id}"


class AgendaPoint(Versioned, Audited, db.Model):
    """A point of the agenda: what was heard (``notes``, printed as «СЛУШАЛИ»), what was decided
    (``decision``, «РЕШИЛИ») and a note for ourselves (``internal_note``, never printed). Each text
    is its own field, so two people typing into different ones never conflict."""

    __tablename__ = "agenda_points"
    __audit_name__ = "Пункт повестки"
    __audit_labels__ = {"meeting_id": "Встреча", "position": "Порядок", "title": "Вопрос", "section": "Раздел",
                        "backlog_item_id": "Задача бэклога", "notes": "Слушали", "decision": "Решили",
                        "internal_note": "Внутренняя заметка", "carried_from_id": "Перенесён с пункта",
                        "proposal_key": "Источник"}
    __unversioned__ = frozenset({"position"})
    __audit_exclude__ = frozenset({"version"})

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    title: Mapped[str] = mapped_column(sa.String(500))
    section: Mapped[str] = mapped_column(sa.String(200), default="")
    proposal_key: Mapped[str] = mapped_column(sa.String(100), default="")
    backlog_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    decision: Mapped[str] = mapped_column(sa.Text, default="")
    internal_note: Mapped[str] = mapped_column(sa.Text, default="")
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agenda_points.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="points")

    @property
    def decided(self) -> bool:
        return bool((self.decision or "").strip())

    @property
    def carried(self) -> bool:
        return self.carried_from_id is not None

    @property
    def audit_label(self) -> str:
        return f"Пункт «{self.title[:200]}» встречи #{self.meeting_id}"


class ActionItem(Versioned, Audited, db.Model):
    """«Поручение»: what, who (a client's contact or one of us), by when; carried to the next meeting
    while open; it may become a backlog item."""

    __tablename__ = "action_items"
    __audit_name__ = "Поручение"
    __audit_labels__ = {"meeting_id": "Встреча", "position": "Порядок", "what": "Поручение",
                        "contact_id": "Ответственный (клиент)", "user_id": "Ответственный (наш сотрудник)",
                        "due_on": "Срок", "status": "Статус", "carried_from_id": "Перенесено с поручения",
                        "backlog_item_id": "Задача бэклога"}
    __unversioned__ = frozenset({"position", "backlog_item_id"})
    __audit_exclude__ = frozenset({"version"})

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    what: Mapped[str] = mapped_column(sa.Text, default="")
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, "action_status"), default=ActionStatus.OPEN)
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action_items.id", ondelete="SET NULL"),
                                                        index=True)
    backlog_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("backlog_items.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def who(self) -> str:
        person = self.contact or self.user
        return person.full_name if person else ""

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN

    @property
    def carried(self) -> bool:
        return self.carried_from_id is not None

    @property
    def audit_label(self) -> str:
        return f"Поручение «{(self.what or '')[:200]}» встречи #{self.meeting_id}"


class MinutesCounter(db.Model):
    """The last minutes number given in a year: the row concurrent finishes queue up on."""

    __tablename__ = "minutes_counters"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.Integer, default=0)
