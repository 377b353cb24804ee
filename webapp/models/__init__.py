"""The domain model, one module per area. Importing this package registers every table."""

from webapp.models.audit import AuditEvent
from webapp.models.backlog import (Approval, ApprovalChannel, BacklogItem, Billing, Estimate, IntakeChannel,
                                   ItemStatus, Priority, PriorityAgreement, Stage, StageKind, TimeEntry)
from webapp.models.clients import (CadenceState, Channel, Client, ClientStatus, Contact, Touchpoint,
                                   touchpoint_contacts)
from webapp.models.company import CompanyProfile, VatMode
from webapp.models.regulations import Regulation, RegulationStandard, RegulationStatus
from webapp.models.users import Role, User

__all__ = ["Approval", "ApprovalChannel", "AuditEvent", "BacklogItem", "Billing", "Estimate", "IntakeChannel",
           "ItemStatus", "Priority", "PriorityAgreement", "Stage", "StageKind", "TimeEntry", "CadenceState", "Channel", "Client", "ClientStatus", "CompanyProfile",
           "Contact", "Regulation", "RegulationStandard", "RegulationStatus", "Role", "Touchpoint", "User", "VatMode", "touchpoint_contacts"]
