"""The domain model, one module per area. Importing this package registers every table."""

from webapp.models.attachments import Attachment
from webapp.models.audit import AuditEvent
from webapp.models.backlog import (Approval, ApprovalChannel, BacklogItem, Billing, Estimate, IntakeChannel,
                                   ItemStatus, Priority, PriorityAgreement, Stage, StageKind, TimeEntry)
from webapp.models.cache import CacheToken
from webapp.models.clients import (CadenceState, Channel, Client, ClientStatus, Contact, Touchpoint,
                                   touchpoint_contacts)
from webapp.models.company import CompanyProfile, VatMode
from webapp.models.links import FeedToken, SignedLink
from webapp.models.mail import MailStatus, OutboundMail
from webapp.models.meetings import (ActionItem, ActionStatus, AgendaPoint, Attendee, Meeting, MeetingKind,
                                    MeetingStatus, MinutesCounter)
from webapp.models.regulations import Regulation, RegulationStandard, RegulationStatus
from webapp.models.users import Role, User

__all__ = ["ActionItem", "ActionStatus", "AgendaPoint", "Approval", "Attendee", "Meeting", "MeetingKind",
           "MeetingStatus", "MinutesCounter", "ApprovalChannel", "Attachment", "AuditEvent", "BacklogItem", "Billing", "CacheToken", "CadenceState",
           "Channel", "Client", "ClientStatus", "CompanyProfile", "Contact", "Estimate", "FeedToken", "IntakeChannel",
           "ItemStatus", "MailStatus", "OutboundMail", "Priority", "PriorityAgreement", "Regulation", "RegulationStandard",
           "RegulationStatus", "Role", "SignedLink", "Stage", "StageKind", "TimeEntry", "Touchpoint", "User", "VatMode",
           "touchpoint_contacts"]
