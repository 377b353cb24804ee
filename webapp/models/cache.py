"""One row per value that the workers keep between requests (``webapp.cache``): its current token."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class CacheToken(db.Model):
    __tablename__ = "cache_tokens"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))
