"""The ways in without a login: signed single-use links and calendar feed tokens.

Only the sha256 of a token is stored: a copy of the database (a backup, a leak) opens nothing,
and looking a token up by its hash compares no secret byte by byte.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.users import User


class SignedLink(Audited, db.Model):
    """One action on one record, for one addressee, once, before ``expires_at``."""

    __tablename__ = "signed_links"
    __table_args__ = (sa.Index("ix_signed_links_entity", "entity_type", "entity_id"),)
    __audit_name__ = "Ссылка для ответа"
    __audit_exclude__ = frozenset({"token_hash"})
    __audit_labels__ = {"purpose": "Назначение", "entity_type": "Запись", "entity_id": "№ записи",
                        "recipient": "Кому отправлена", "expires_at": "Действует до",
                        "used_at": "Использована", "result": "Ответ"}
    __audit_actions__ = {"link_used": "ответ по ссылке"}

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(60))
    entity_type: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int] = mapped_column(sa.Integer)
    recipient: Mapped[str] = mapped_column(sa.String(320))  # the address (or messenger) it went to
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(sa.String(40))  # the action taken («approve»)

    created_by: Mapped[User | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.purpose} → {self.recipient}"


class FeedToken(Audited, db.Model):
    """A user's calendar feed: one live token at most; issuing anew or revoking deletes the old row."""

    __tablename__ = "feed_tokens"
    __audit_name__ = "Ссылка на календарь"
    __audit_exclude__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __str__(self) -> str:
        return f"календарь: {self.user}"
