"""The domain model, one module per area. Importing this package registers every table."""

from webapp.models.audit import AuditEvent
from webapp.models.company import CompanyProfile, VatMode
from webapp.models.users import Role, User

__all__ = ["AuditEvent", "CompanyProfile", "Role", "User", "VatMode"]
