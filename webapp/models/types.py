"""Column types shared by the models: UTC timestamps and money."""

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa


class UTCDateTime(sa.TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, so we normalise on both sides."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def enum_type(cls, name: str) -> sa.Enum:
    """A Python enum stored as its value in a VARCHAR with a CHECK constraint (portable, readable)."""
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                   values_callable=lambda e: [m.value for m in e])


Money = sa.Numeric(14, 2, asdecimal=True)
Rate = sa.Numeric(5, 2, asdecimal=True)

ZERO = Decimal("0.00")
