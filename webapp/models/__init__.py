"""The domain model, one module per area. Importing this package registers every table."""

from webapp.models.attachments import Attachment
from webapp.models.audit import AuditEvent
from webapp.models.clients import (CadenceState, Channel, Client, ClientStatus, Contact, Touchpoint,
                                   touchpoint_contacts)
from webapp.models.company import CompanyProfile, VatMode
from webapp.models.links import FeedToken, SignedLink
from webapp.models.mail import MailStatus, OutboundMail
from webapp.models.regulations import Regulation, RegulationStandard, RegulationStatus
from webapp.models.users import Role, User

__all__ = ["Attachment", "AuditEvent", "CadenceState", "Channel", "Client", "ClientStatus", "CompanyProfile",
           "Contact", "FeedToken", "MailStatus", "OutboundMail", "Regulation", "RegulationStandard", "RegulationStatus", "Role", "SignedLink", "Touchpoint", "User", "VatMode", "touchpoint_contacts"]
