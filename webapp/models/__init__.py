"""The domain model, one module per area. Importing this package registers every table."""

from webapp.models.acts import Act, ActCounter, ActLine, ActStatus, PaidState, Payment, SignedHow
from webapp.models.attachments import Attachment
from webapp.models.audit import AuditEvent
from webapp.models.backlog import (Approval, ApprovalChannel, BacklogItem, Billing, Estimate, IntakeChannel,
                                   ItemStatus, ItemWord, Priority, PriorityAgreement, Stage, StageKind, TimeEntry)
from webapp.models.budgets import (AlertBasis, BlockKind, Budget, BudgetAlert, BudgetBlock, BudgetMonth, BudgetStatus,
                                   CarryOver)
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

__all__ = ["Act", "ActCounter", "ActLine", "ActStatus", "ActionItem", "ActionStatus", "AgendaPoint", "AlertBasis",
           "Approval", "ApprovalChannel", "Attachment", "Attendee", "AuditEvent", "BacklogItem", "Billing", "BlockKind",
           "Budget", "BudgetAlert", "BudgetBlock", "BudgetMonth", "BudgetStatus", "CacheToken", "CadenceState",
           "CarryOver", "Meeting", "MeetingKind", "MeetingStatus", "MinutesCounter", "PaidState", "Payment", "SignedHow",
           "Channel", "Client", "ClientStatus", "CompanyProfile", "Contact", "Estimate", "FeedToken", "IntakeChannel",
           "ItemStatus", "ItemWord", "MailStatus", "OutboundMail", "Priority", "PriorityAgreement", "Regulation", "RegulationStandard",
           "RegulationStatus", "Role", "SignedLink", "Stage", "StageKind", "TimeEntry", "Touchpoint", "User", "VatMode",
           "touchpoint_contacts"]
