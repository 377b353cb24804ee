"""Files attached to a record: a voice message, a screenshot, a signed spec.

An attachment belongs to one record of any area (a backlog item, a meeting, an act), named by
``owner_type`` and ``owner_id``: the areas register their kinds with ``services.attachments``,
which also decides who may see them. The bytes live outside ``static/`` in ``UPLOAD_FOLDER`` under
a random ``storage_name``; the name the client gave is kept only for showing and downloading.
"""

import math
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.formatting import plural
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.users import User


def size_text(size: int) -> str:
    """«25 МБ», «1,5 МБ», «512 КБ», «300 байт»: a size as the list and the messages print it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",") + " МБ"
    if size >= 1024:
        return f"{math.ceil(size / 1024)} КБ"
    return f"{size} {plural(size, 'байт', 'байта', 'байт')}"


def duration_text(seconds: int) -> str:
    """«0:42», «12:05», «1:02:09»: how a player shows a length."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Attachment(Versioned, Audited, db.Model):
    __tablename__ = "attachments"
    __table_args__ = (sa.Index("ix_attachments_owner", "owner_type", "owner_id"),)
    __audit_name__ = "Вложение"
    __audit_labels__ = {"owner_type": "Вид записи", "owner_id": "Запись", "original_name": "Имя файла",
                        "content_type": "Тип", "size": "Размер, байт", "sha256": "SHA-256",
                        "uploaded_by_id": "Загрузил", "uploaded_at": "Загружен",
                        "transcript": "Расшифровка", "duration_seconds": "Длительность, с"}
    __audit_exclude__ = frozenset({"version", "storage_name"})

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(sa.String(40))
    owner_id: Mapped[int] = mapped_column(sa.Integer)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transcript: Mapped[str] = mapped_column(sa.Text, default="")
    duration_seconds: Mapped[int | None] = mapped_column(sa.Integer)

    uploaded_by: Mapped[User | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.original_name

    @property
    def size_label(self) -> str:
        return size_text(self.size)

    @property
    def duration_label(self) -> str:
        return duration_text(self.duration_seconds) if self.duration_seconds is not None else ""

    @property
    def is_audio(self) -> bool:
        return self.content_type.startswith("audio/")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def plays_inline(self) -> bool:
        """Audio and pictures open in the page; documents are always downloaded."""
        return self.is_audio or self.is_image
