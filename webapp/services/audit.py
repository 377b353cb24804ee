"""Reading the audit log: the filtered list the admin looks through (writing is ``models.audit``)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from webapp.formatting import day_start
from webapp.models import AuditEvent
from webapp.models import audit as audit_log
from webapp.services import as_id


@dataclass
class AuditFilters:
    actor: str = ""
    entity_type: str = ""
    entity_id: str = ""
    action: str = ""
    date_from: str = ""
    date_to: str = ""
    signins: bool = False  # sign-ins would drown the changes: shown when asked


def _day(value: str) -> date | None:
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    # Year 1 or 9999 overflows once moved to UTC or a day on: such a filter is no filter.
    return day if 1900 <= day.year <= 2999 else None


def audit_query(filters: AuditFilters) -> sa.Select:
    """The log, newest first, narrowed by person, record, action and (local) dates."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if (actor := as_id(filters.actor)) is not None:
        query = query.where(AuditEvent.actor_id == actor)
    if filters.entity_type:
        query = query.where(AuditEvent.entity_type == filters.entity_type[:60])
    if (entity_id := as_id(filters.entity_id)) is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if filters.action in audit_log.all_actions():
        query = query.where(AuditEvent.action == filters.action)
    elif not filters.signins:
        query = query.where(AuditEvent.action.not_in(audit_log.SIGN_IN_ACTIONS))
    if date_from := _day(filters.date_from):
        query = query.where(AuditEvent.created_at >= day_start(date_from))
    if date_to := _day(filters.date_to):
        query = query.where(AuditEvent.created_at < day_start(date_to) + timedelta(days=1))
    return query


def entity_types() -> sa.Select:
    return sa.select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
