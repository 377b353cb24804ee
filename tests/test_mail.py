"""Mail through a real SMTP server (aiosmtpd on loopback): headers, TLS, login, refusals, the log."""

from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
import sqlalchemy as sa
from flask import render_template_string

from tests.smtp_server import PASSWORD, configure, silent_server, smtp_server
from webapp.extensions import db
from webapp.models import MailStatus, OutboundMail, Role, User
from webapp.services import ServiceError
from webapp.services import clients as client_service
from webapp.services import mail

SENT_AT = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
SUBJECT = "Согласование оценки: ROMASHKA-42 «Выгрузка в банк»"


def _mails() -> list[OutboundMail]:
    return list(db.session.scalars(sa.select(OutboundMail).order_by(OutboundMail.id)))


def test_a_message_arrives_with_cyrillic_headers_intact(mail_app):
    """Does the server receive the message with its Cyrillic subject and sender name decoding back?"""
    with mail_app.app_context():
        outcome = mail.send(["lpr@romashka.test", "cfo@romashka.test"], SUBJECT,
                            "Добрый день!\nОценка: 12 часов, 24 000,00 ₽.", "<p>Добрый день!</p>",
                            about=("clients", 7), now=SENT_AT)
        db.session.commit()
        assert outcome.sent and outcome.message == "Письмо отправлено: lpr@romashka.test, cfo@romashka.test."
        [record] = _mails()
        assert (record.status, record.entity_type, record.entity_id) == (MailStatus.SENT, "clients", 7)
    [received] = mail_app.inbox.messages
    assert received["Subject"] == SUBJECT
    # Decoded as RFC 2047 says (the space between two encoded words is not text): the stdlib's
    # address parser would insert one (CPython gh-128110), mail clients do not.
    raw = message_from_bytes(mail_app.inbox.envelopes[0].content, policy=policy.compat32)
    assert parseaddr(str(make_header(decode_header(raw["From"])))) == ("Отдел сопровождения «Ромашка»",
                                                                      "desk@company.test")
    assert [a.addr_spec for a in received["To"].addresses] == ["lpr@romashka.test", "cfo@romashka.test"]
    assert received["Message-ID"] == record.message_id
    assert received["Date"].datetime == SENT_AT
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Добрый день!\nОценка: 12 часов, 24 000,00 ₽.\n"
    assert received.get_body(("html",)).get_content().strip() == "<p>Добрый день!</p>"
    assert mail_app.inbox.envelopes[0].content.isascii(), "headers and body travel encoded (RFC 2047, a transfer encoding)"


def test_starttls_with_a_login_against_a_trusted_certificate(app, tmp_path):
    """Does mail go out over STARTTLS, verifying the server's certificate, and log in?"""
    with smtp_server(tmp_path, security="starttls", login=True) as server:
        configure(app, server.port, security="starttls", ca_file=server.certificates.ca_file, login=True)
        with app.app_context():
            assert mail.send("lpr@romashka.test", "Проверка", "Текст").sent
        assert [m["Subject"] for m in server.inbox.messages] == ["Проверка"]
        assert server.inbox.envelopes[0].mail_from == "desk@company.test"


def test_implicit_tls_on_port_465_style(app, tmp_path):
    """Does MAIL_SECURITY="ssl" speak TLS from the first byte?"""
    with smtp_server(tmp_path, security="ssl") as server:
        configure(app, server.port, security="ssl", ca_file=server.certificates.ca_file)
        with app.app_context():
            assert mail.send("lpr@romashka.test", "По TLS", "Текст").sent
        assert len(server.inbox.messages) == 1


def test_a_certificate_nobody_trusts_is_refused(app, tmp_path):
    """Is a server whose certificate our CA did not sign refused, with a message and a failed record?"""
    with smtp_server(tmp_path, security="starttls") as server:
        configure(app, server.port, security="starttls", ca_file=server.certificates.other_ca_file)
        with app.app_context():
            outcome = mail.send("lpr@romashka.test", "Проверка", "Текст")
            assert outcome.status == "failed"
            assert "Сертификат почтового сервера" in outcome.message
            assert _mails()[0].status is MailStatus.FAILED
        assert server.inbox.messages == []


def test_a_wrong_password_is_a_recorded_failure(app, tmp_path, caplog):
    """Does a login the server refuses give a Russian message, a log line and a failed record?"""
    with smtp_server(tmp_path, security="starttls", login=True) as server:
        configure(app, server.port, security="starttls", ca_file=server.certificates.ca_file, login=True,
                  password="not-" + PASSWORD)
        with app.app_context():
            outcome = mail.send("lpr@romashka.test", SUBJECT, "Текст", client_id=None)
            db.session.commit()
            assert outcome.status == "failed"
            assert outcome.message == ("Письмо не отправлено. Почтовый сервер не принял имя пользователя "
                                       "или пароль (MAIL_USERNAME, MAIL_PASSWORD).")
            assert outcome.text == f"{SUBJECT}\n\nТекст"  # still there to copy by hand
            [record] = _mails()
            assert (record.status, record.error) == (MailStatus.FAILED, outcome.message.removeprefix(
                "Письмо не отправлено. "))
        assert server.inbox.messages == []
    assert any("not sent" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_a_refused_recipient_is_a_recorded_failure(app, tmp_path):
    """Does a server that refuses the address say so, naming the address?"""
    with smtp_server(tmp_path, refuse=True) as server:
        configure(app, server.port)
        with app.app_context():
            outcome = mail.send("nobody@romashka.test", "Проверка", "Текст")
            assert outcome.status == "failed"
            assert "отказался принять адрес получателя: nobody@romashka.test" in outcome.message
            assert _mails()[0].status is MailStatus.FAILED


def test_a_server_that_is_down_is_a_recorded_failure(app):
    """Does a server nobody answers at give a message instead of an error page?"""
    from tests.ldap_server import free_port

    configure(app, free_port())
    with app.app_context():
        outcome = mail.send("lpr@romashka.test", "Проверка", "Текст")
        assert outcome.status == "failed"
        assert outcome.message.startswith("Письмо не отправлено. Не удалось связаться с почтовым сервером 127.0.0.1:")


def test_a_server_that_hangs_times_out(app):
    """Does a server that never greets give up after MAIL_TIMEOUT with a message?"""
    with silent_server() as port:
        configure(app, port, timeout=0.3)
        with app.app_context():
            outcome = mail.send("lpr@romashka.test", "Проверка", "Текст")
    assert outcome.status == "failed"
    assert "не ответил за 0.3 с" in outcome.message


def test_without_mail_configured_the_text_is_offered_to_copy(app):
    """Without MAIL_HOST, is nothing sent or recorded, and the text offered for a messenger?"""
    with app.app_context():
        assert not mail.mail_configured()
        outcome = mail.send("lpr@romashka.test", SUBJECT, "Ссылка: https://desk.test/l/abc")
        assert outcome.status == "copy" and outcome.mail is None
        assert outcome.text == f"{SUBJECT}\n\nСсылка: https://desk.test/l/abc"
        assert _mails() == []


def test_the_page_says_what_became_of_the_message(app):
    """Does the outcome macro say sent, failed or «copy this», with the text in a field to copy?"""
    with app.test_request_context():
        copy = render_template_string("{{ mail.outcome(o) }}", o=mail.Outcome("copy", mail.NOT_CONFIGURED, "Тема\n\nТекст"))
        sent = render_template_string("{{ mail.outcome(o) }}", o=mail.Outcome("sent", "Письмо отправлено: a@b.test."))
    assert "Почта не настроена" in copy and "readonly>Тема\n\nТекст</textarea>" in copy
    assert "Письмо отправлено: a@b.test." in sent and "textarea" not in sent


@pytest.mark.parametrize("address", ["", "lpr", "lpr@localhost", "a@b.test\r\nBcc: spy@evil.test",
                                      "Иван <lpr@romashka.test>", "a@b.test, c@d.test"])
def test_a_bad_address_is_refused_before_sending(mail_app, address):
    """Is an address that is empty, partial or a header injection refused with a message, unsent?"""
    with mail_app.app_context():
        with pytest.raises(ServiceError, match="адрес"):
            mail.send(address, "Проверка", "Текст")
        assert _mails() == []
    assert mail_app.inbox.messages == []


def test_a_sent_mail_shows_in_the_clients_timeline(mail_app, client, make_user):
    """Does the client's history show the mail sent about it, to whom, and a failed one as such?"""
    manager = make_user(Role.MANAGER, full_name="Петрова Анна Сергеевна")
    with mail_app.app_context():
        acting = db.session.get(User, manager.id)
        card = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
        mail.send("lpr@romashka.test", SUBJECT, "Текст", client_id=card.id, acting=acting)
        mail_app.inbox.refuse = True
        mail.send("cfo@romashka.test", "Акт № 12", "Текст", client_id=card.id, acting=acting)
        db.session.commit()
        client_id = card.id
    client.login(manager)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    assert 'class="kind-mail"' in page
    assert "Письмо · Петрова Анна Сергеевна · кому: lpr@romashka.test" in page
    assert "Письмо не отправлено" in page and "nobody" not in page
    assert "отказался принять адрес получателя: cfo@romashka.test" in page


@pytest.mark.parametrize("setting", [{"MAIL_SENDER": "not an address"}, {"MAIL_SECURITY": "tls1.0"}])
def test_a_misconfigured_mail_setup_is_a_recorded_failure(mail_app, setting):
    """Is a malformed sender or an unknown security mode a failure with a message, not an error page?"""
    mail_app.config.update(setting)
    with mail_app.app_context():
        outcome = mail.send("lpr@romashka.test", "Проверка", "Текст")
        assert outcome.status == "failed" and "Почта настроена неверно" in outcome.message
        assert _mails()[0].status is MailStatus.FAILED
    assert mail_app.inbox.messages == []
