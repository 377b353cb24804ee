"""«Новая заявка» from a client's e-mail saved as .eml: the mail fills the request and brings its files."""

import base64
import io
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from tests.backlog_fixtures import DECISION_MAKER, contact_named
from tests.media_samples import gen_png
from webapp.extensions import db
from webapp.models import Attachment, BacklogItem, IntakeChannel, Role

SUBJECT = "Не печатается счёт-фактура"
SENDER = "kovaleva@romashka.test"


@pytest.fixture
def romashka(make_user, make_client):
    manager = make_user(Role.MANAGER)
    return manager, make_client(manager, short_name="Ромашка", contacts=[{**DECISION_MAKER, "email": SENDER}])


def gen_eml() -> bytes:
    """A mail as a client's program sends it: the subject in a UTF-8 RFC 2047 word, a screenshot attached."""
    message = EmailMessage()
    message["From"] = f"=?UTF-8?B?{base64.b64encode('Анна Ковалёва'.encode()).decode()}?= <Kovaleva@Romashka.test>"
    message["To"] = "support@accountdesk.test"
    message["Subject"] = f"=?UTF-8?B?{base64.b64encode(SUBJECT.encode()).decode()}?="
    message["Date"] = "Mon, 23 Nov 2026 09:30:00 +0300"
    message["Message-ID"] = "<42@romashka.test>"
    message.set_content("Добрый день!\nПри печати счёт-фактуры 1С выдаёт ошибку, скриншот во вложении.")
    message.add_attachment(gen_png(), maintype="image", subtype="png", filename="ошибка.png")
    return bytes(message)


def _post(client, client_id: int, eml: bytes, name: str = "письмо.eml"):
    return client.post(f"/clients/{client_id}/backlog/new", content_type="multipart/form-data", data={
        "title": "", "channel": "message", "priority": "normal", "billing": "billable",
        "eml": (io.BytesIO(eml), name)})


def test_an_eml_becomes_an_item_with_the_sender_matched_and_the_file_attached(app, client, romashka):
    """Does an .eml give the item its subject, text, date, the e-mail channel, the sender as requester and its file?"""
    manager, card = romashka
    client.login(manager)
    page = client.get(f"/clients/{card.id}/backlog/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="eml"' in page
    response = _post(client, card.id, gen_eml())
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        item = db.session.scalar(sa.select(BacklogItem))
        assert item.title == SUBJECT
        assert item.request_text.startswith("Добрый день!\nПри печати счёт-фактуры")
        assert item.received_at == datetime(2026, 11, 23, 6, 30, tzinfo=timezone.utc)
        assert item.channel == IntakeChannel.EMAIL
        assert item.requester_id == contact_named(app, card, DECISION_MAKER["full_name"])
        [attached] = db.session.scalars(sa.select(Attachment)).all()
        assert (attached.owner_id, attached.original_name) == (item.id, "ошибка.png")
    assert "ошибка.png" in client.get(f"/backlog/{item.id}").get_data(as_text=True)


def test_a_file_that_is_not_an_email_is_refused_with_the_parsers_message(app, client, romashka):
    """Is a file with no mail headers refused (422) with a Russian message, and no item created?"""
    manager, card = romashka
    client.login(manager)
    response = _post(client, card.id, b"\x00\x01 not a mail at all", "счёт.eml")
    assert response.status_code == 422
    assert "Файл не похож на письмо (.eml)" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BacklogItem)) == 0
