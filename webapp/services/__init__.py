"""The operations of AccountDesk, one module per area.

A service checks what it accepts, changes the records in one transaction and leaves the audit to
``models.audit``. It never touches ``request``; routes turn these errors into responses.
"""

from typing import Any

# The largest id a database integer column holds everywhere (PostgreSQL INTEGER); a bigger number
# in a URL or a filter is simply no record, never an overflow in the driver.
MAX_ID = 2**31 - 1


def as_id(value: Any) -> int | None:
    """A record id from user text («42»), or None for anything else («²», «-1», 10**30)."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class ServiceError(Exception):
    """A refusal with a message for the user (Russian)."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    status = 403


class NotFound(ServiceError):
    """Absent, or outside what the user may see: both answer 404, so scope leaks nothing."""

    status = 404


class StaleVersion(ServiceError):
    """The record changed since the form was drawn: the user decides, we never overwrite."""

    status = 409

    def __init__(self, record: Any):
        super().__init__("Запись изменил другой пользователь, пока вы её редактировали.")
        self.record = record
