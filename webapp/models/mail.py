"""Mail the app sent through the company's server: one row per message, delivered or refused."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, enum_type, utcnow
from webapp.models.users import User


class MailStatus(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {MailStatus.SENT: "отправлено", MailStatus.FAILED: "не отправлено"}[self]


class OutboundMail(db.Model):
    """A log, not an editable record: written once when the server answered (or did not)."""

    __tablename__ = "outbound_mails"
    # The client's timeline reads it newest first; an area finds the mails about its record.
    __table_args__ = (sa.Index("ix_outbound_mails_client_sent", "client_id", "sent_at", "id"),
                      sa.Index("ix_outbound_mails_entity", "entity_type", "entity_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recipients: Mapped[str] = mapped_column(sa.Text)  # «a@x.ru, b@y.ru», as the To header had them
    sender: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str] = mapped_column(sa.String(300), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus, "mail_status"))
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The record the mail is about (a backlog item, a meeting, an act), by table name and id.
    entity_type: Mapped[str | None] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None] = mapped_column(sa.Integer)
    # A sent mail stays in the log even if its client is deleted.
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.subject
