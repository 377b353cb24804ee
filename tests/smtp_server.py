"""A real SMTP server for the tests: aiosmtpd on a free loopback port, in a thread of the test.

``smtp_server(...)`` starts one (plain, STARTTLS or implicit TLS; with a login or without; taking
mail or refusing recipients) and yields its inbox; ``mail_app`` points the app's MAIL_* settings
at it. The certificates are the directory tests' test CA (``tests.ldap_server``).
"""

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ldap_server import Certificates, _write_certificates, free_port

LOGIN, PASSWORD = "desk@company.test", "smtp-secret-42"


@dataclass
class Inbox:
    """What the server received; ``refuse`` makes it answer 550 to every recipient."""

    refuse: bool = False
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == LOGIN.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@dataclass
class Server:
    port: int
    inbox: Inbox
    certificates: Certificates | None


@contextmanager
def smtp_server(tmp_path: Path, *, security: str = "none", login: bool = False,
                refuse: bool = False) -> Iterator[Server]:
    """aiosmtpd on 127.0.0.1: ``security`` "none", "starttls" (required before login) or "ssl"."""
    inbox = Inbox(refuse=refuse)
    port = free_port()
    certificates = None
    options: dict = {}
    if security != "none":
        folder = tmp_path / "smtp-certs"
        folder.mkdir(exist_ok=True)
        certificates = _write_certificates(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.cert_file, certificates.key_file)
        options = {"tls_context": context, "require_starttls": True} if security == "starttls" else \
            {"ssl_context": context}
    if login:
        options.update(authenticator=_authenticate, auth_require_tls=security == "starttls")
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Server(port, inbox, certificates)
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes the connection and never says a word: the server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def configure(app, port: int, *, security: str = "none", ca_file: Path | None = None,
              login: bool = False, password: str = PASSWORD, timeout: float = 5) -> None:
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY=security,
                      MAIL_CA_FILE=str(ca_file) if ca_file else None,
                      MAIL_USERNAME=LOGIN if login else "", MAIL_PASSWORD=password if login else "",
                      MAIL_SENDER="desk@company.test", MAIL_SENDER_NAME="Отдел сопровождения «Ромашка»",
                      MAIL_TIMEOUT=timeout)


@pytest.fixture
def mail_app(app, tmp_path):
    """The app sending through a plain loopback server; the test reads ``app.inbox``."""
    with smtp_server(tmp_path) as server:
        configure(app, server.port)
        app.inbox = server.inbox
        yield app
