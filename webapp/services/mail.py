"""Mail through the company's SMTP server, every send recorded and shown in the client's history.

``send`` never raises for the server's sake: a refusal, a timeout or a bad certificate comes back
as a failed ``Outcome`` with a Russian message, a log line and a recorded failure. Without mail
configured nothing is sent and the outcome carries the text to copy into a messenger. The record
is added to the caller's session: the caller commits, together with whatever it changed.
"""

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email import errors as email_errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from flask import current_app

from webapp.extensions import db
from webapp.models import Client, MailStatus, OutboundMail, User
from webapp.models.types import utcnow
from webapp.services import ServiceError, access, timeline

log = logging.getLogger("accountdesk.mail")

SECURITY_MODES = ("starttls", "ssl", "none")
NOT_CONFIGURED = ("Почта не настроена, письмо не отправлено: скопируйте текст ниже и отправьте его "
                  "в мессенджере или со своей почты.")


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``sent``, ``failed`` (``message`` says why) or ``copy``
    (mail is off: ``text`` is what to paste into a messenger)."""

    status: str
    message: str
    text: str = ""
    mail: OutboundMail | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name, content type («text/calendar; method=REQUEST» keeps
    its parameters) and bytes."""

    name: str
    content_type: str
    data: bytes


def mail_configured() -> bool:
    config = current_app.config
    return bool(config.get("MAIL_HOST") and config.get("MAIL_SENDER"))


def send(to: str | Iterable[str], subject: str, text: str, html: str | None = None, *,
         about: tuple[str, int] | None = None, client_id: int | None = None,
         acting: User | None = None, now: datetime | None = None,
         attachments: Iterable[Attachment] = ()) -> Outcome:
    """Send one message to ``to`` and record it (``about``: the record it concerns, as
    ``(table name, id)``; ``client_id``: whose history shows it). Bad addresses are refused
    (ServiceError) before anything is sent. ``attachments`` go as parts of the message."""
    recipients = _addresses(to)
    subject = " ".join(subject.split())  # a header is one line
    if not mail_configured():
        return Outcome("copy", NOT_CONFIGURED, text=f"{subject}\n\n{text}")
    config = current_app.config
    now = now or utcnow()
    record = OutboundMail(recipients=", ".join(recipients), sender=config["MAIL_SENDER"][:320],
                          subject=subject[:500], text=text, html=html, sent_at=now,
                          created_by_id=acting.id if acting else None,
                          entity_type=about[0] if about else None, entity_id=about[1] if about else None,
                          client_id=client_id)
    try:
        message = _message(recipients, subject, text, html, now, list(attachments))  # a malformed MAIL_SENDER fails here
        record.message_id = message["Message-ID"]
        _deliver(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:  # UnicodeError is a ValueError
        reason = _reason(error)
        log.warning("mail «%s» to %s via %s:%s not sent: %r", subject, record.recipients,
                    config["MAIL_HOST"], config["MAIL_PORT"], error)
        record.status, record.error = MailStatus.FAILED, reason
        outcome = Outcome("failed", f"Письмо не отправлено. {reason}", text=f"{subject}\n\n{text}", mail=record)
    else:
        record.status = MailStatus.SENT
        outcome = Outcome("sent", f"Письмо отправлено: {record.recipients}.", mail=record)
    db.session.add(record)
    db.session.flush()
    return outcome


def _addresses(to: str | Iterable[str]) -> list[str]:
    """Plain addresses only: a line break or a display name here would be a header injection."""
    found = [to] if isinstance(to, str) else list(to)
    result = []
    for raw in found:
        address = (raw or "").strip()
        try:
            parsed = Address(addr_spec=address)
        except (ValueError, IndexError, email_errors.HeaderParseError):
            parsed = None
        if parsed is None or not parsed.username or "." not in parsed.domain:
            raise ServiceError(f"Неверный адрес электронной почты: «{address[:100]}».", field="to")
        result.append(parsed.addr_spec)
    if not result:
        raise ServiceError("Не указан адрес получателя.", field="to")
    return result


def _message(recipients: list[str], subject: str, text: str, html: str | None, now: datetime,
             attachments: list[Attachment] = ()) -> EmailMessage:
    """Headers encoded for SMTP: a Cyrillic subject or sender name becomes RFC 2047 words."""
    config = current_app.config
    sender = Address(display_name=config.get("MAIL_SENDER_NAME") or "", addr_spec=config["MAIL_SENDER"])
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    # base64: 7-bit clean through any relay, with or without 8BITMIME
    message.set_content(text, cte="base64")
    if html is not None:
        message.add_alternative(html, subtype="html", cte="base64")
    for attached in attachments:
        kind, _, rest = attached.content_type.partition(";")
        maintype, _, subtype = kind.strip().partition("/")
        params = dict(p.strip().split("=", 1) for p in rest.split(";") if "=" in p)
        message.add_attachment(attached.data, maintype=maintype, subtype=subtype, filename=attached.name,
                               params=params)
    return message


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    security = config.get("MAIL_SECURITY") or "none"
    if security not in SECURITY_MODES:
        raise ValueError(f"MAIL_SECURITY={security!r}")
    host, port, timeout = config["MAIL_HOST"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT"])
    context = ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)
    if security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if security == "starttls":
            server.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            server.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        server.send_message(message)


def _reason(error: Exception) -> str:
    """What the person sending reads; the details go to the log."""
    config = current_app.config
    server = f"{config['MAIL_HOST']}:{config['MAIL_PORT']}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "Почтовый сервер не принял имя пользователя или пароль (MAIL_USERNAME, MAIL_PASSWORD)."
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "Почтовый сервер отказался принять адрес получателя: " + ", ".join(error.recipients) + "."
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"Почтовый сервер отказался принять адрес отправителя {error.sender}."
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "Почтовый сервер не поддерживает нужную возможность (STARTTLS, вход или адреса не латиницей)."
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        return f"Почтовый сервер отказал: {error.smtp_code} {reply}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"Сертификат почтового сервера {server} не прошёл проверку (MAIL_CA_FILE)."
    if isinstance(error, ssl.SSLError):
        return f"Не удалось установить защищённое соединение с почтовым сервером {server}."
    # smtplib reports a reply that never came as a disconnection caused by the timeout
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"Почтовый сервер {server} не ответил за {config['MAIL_TIMEOUT']} с."
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"Почтовый сервер {server} разорвал соединение."
    if isinstance(error, OSError):
        return f"Не удалось связаться с почтовым сервером {server}."
    if isinstance(error, UnicodeError):
        return "Адрес не латиницей, а почтовый сервер таких не принимает."
    return f"Почта настроена неверно ({error}): проверьте MAIL_SENDER и MAIL_SECURITY."


def _mail_query(viewer: access.Viewer, before_kind: str | None, limit: int) -> sa.Select:
    return (sa.select(OutboundMail)
            .where(OutboundMail.client_id == timeline.CLIENT,
                   *timeline.older_than("mail", OutboundMail.sent_at, OutboundMail.id, before_kind))
            .order_by(OutboundMail.sent_at.desc(), OutboundMail.id.desc()).limit(limit))


def _mail_entries(client: Client, user: User, mails) -> list[timeline.Entry]:
    """The client's mail in its history: what went out, to whom, and what failed."""
    found = []
    for mail in mails:
        lines = [("Ошибка", mail.error)] if mail.status is MailStatus.FAILED else []
        title = "Письмо" if mail.status is MailStatus.SENT else "Письмо не отправлено"
        found.append(timeline.Entry("mail", mail.sent_at, mail.id, title, mail.subject, mail.created_by,
                                    meta=f"кому: {mail.recipients}", lines=lines))
    return found


timeline.register("mail", query=_mail_query, build=_mail_entries)
