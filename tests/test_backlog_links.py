"""Approval of an estimate by link: the manager sends it from the item's page, the client's decision
maker opens it without an account and approves or declines once."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.backlog_fixtures import DECISION_MAKER, contact_named, reload_item
from tests.html_checks import assert_valid
from webapp.extensions import db
from webapp.models import (Approval, ApprovalChannel, AuditEvent, BacklogItem, ItemStatus, OutboundMail, Role,
                           SignedLink)

EMAIL = "kovaleva@romashka.test"
LINK = re.compile(r"https?://\S+/l/[A-Za-z0-9_-]+")


@pytest.fixture
def waiting(app, client, make_user, make_client, make_item):
    """An estimated item of «Ромашка» waiting for approval; the manager logged in."""
    manager = make_user(Role.MANAGER)
    romashka = make_client(manager, short_name="Ромашка", contacts=[{**DECISION_MAKER, "email": EMAIL}])
    item = make_item(romashka, manager, title="Выгрузка остатков на сайт", hours=Decimal("10"))
    client.login(manager)
    for target, shown in (("estimate", "new"), ("approval", "estimate")):
        assert client.post(f"/backlog/{item.id}/status", data={"target": target, "from": shown}).status_code == 303
    return item, contact_named(app, romashka, DECISION_MAKER["full_name"])


def _send(client, item_id: int, contact_id: int):
    return client.post(f"/backlog/{item_id}/approval-link", data={"link-contact_id": str(contact_id)})


def _link_from(text: str) -> str:
    return "/l/" + LINK.search(text).group(0).rsplit("/l/", 1)[1]


def test_without_mail_the_page_offers_the_link_to_copy(client, waiting):
    """With no mail set up, does «Отправить ссылку» show the text with the link to paste into a messenger?"""
    item, contact_id = waiting
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert "Отправить на согласование по ссылке" in page and EMAIL in page
    response = _send(client, item.id, contact_id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Почта не настроена" in html and LINK.search(html)
    assert_valid(client.get(f"/backlog/{item.id}"))


def test_the_link_approves_once_and_a_replay_is_refused(app, client, waiting):
    """Does the link record one approval by «ссылка» from the contact it went to, and refuse a second answer?"""
    item, contact_id = waiting
    path = _link_from(_send(client, item.id, contact_id).get_data(as_text=True))
    client.post("/logout")
    visitor = app.test_client()
    opened = visitor.get(path)
    assert_valid(opened)
    page = opened.get_data(as_text=True)
    assert "Выгрузка остатков на сайт" in page and 'value="approve"' in page and "₽" in page
    done = visitor.post(path, data={"action": "approve", "comment": "Согласовано, делайте"})
    assert done.status_code == 200 and "согласована" in done.get_data(as_text=True)
    replay = visitor.post(path, data={"action": "approve"})
    assert replay.status_code == 410 and "уже использована" in replay.get_data(as_text=True)
    with app.app_context():
        [approval] = db.session.scalars(sa.select(Approval)).all()
        used_at = db.session.scalar(sa.select(SignedLink.used_at))
        assert (approval.channel, approval.contact_id, approval.comment) == (ApprovalChannel.LINK, contact_id,
                                                                            "Согласовано, делайте")
        assert approval.approved_at == used_at
    assert reload_item(app, item.id).status == ItemStatus.APPROVED


def test_a_declined_estimate_goes_back_to_estimation_with_the_comment(app, client, waiting):
    """Does «Отклонить» move the item back to «Оценка» and keep who declined and why in its history?"""
    item, contact_id = waiting
    path = _link_from(_send(client, item.id, contact_id).get_data(as_text=True))
    visitor = app.test_client()
    done = visitor.post(path, data={"action": "decline", "comment": "Дорого, урежьте объём"})
    assert done.status_code == 200
    assert reload_item(app, item.id).status == ItemStatus.ESTIMATE
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == BacklogItem.__tablename__,
                                                              AuditEvent.action == "decline_estimate"))
        assert event.changes["comment"][1] == "Дорого, урежьте объём"
        assert event.changes["contact"][1] == DECISION_MAKER["full_name"]
    history = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert "Дорого, урежьте объём" in history


def test_the_link_arrives_by_mail_and_works(mail_app, client, waiting):
    """With mail set up, does the decision maker receive the e-mail with a link that opens the estimate?"""
    item, contact_id = waiting
    response = _send(client, item.id, contact_id)
    assert "Письмо отправлено" in response.get_data(as_text=True)
    [received] = mail_app.inbox.messages
    assert [a.addr_spec for a in received["To"].addresses] == [EMAIL]
    assert item.key in received["Subject"]
    body = received.get_body(("plain",)).get_content()
    page = mail_app.test_client().get(_link_from(body))
    assert page.status_code == 200 and "Выгрузка остатков на сайт" in page.get_data(as_text=True)
    with mail_app.app_context():
        mail = db.session.scalar(sa.select(OutboundMail))
        assert (mail.entity_type, mail.entity_id) == (BacklogItem.__tablename__, item.id)


def test_a_link_goes_only_to_a_cost_decision_maker_with_an_email(client, waiting, make_user):
    """Is a link for a contact that is not in the list refused with a message, nothing issued?"""
    item, contact_id = waiting
    response = _send(client, item.id, contact_id + 999)
    assert response.status_code == 422
    assert "Выберите ЛПР клиента, который решает стоимость" in response.get_data(as_text=True)


def test_a_link_sent_before_the_estimate_changed_cannot_approve_the_new_cost(app, client, clock, waiting):
    """If the manager re-estimates after sending the link, is the old link refused, nothing approved?"""
    item, contact_id = waiting
    path = _link_from(_send(client, item.id, contact_id).get_data(as_text=True))
    clock.shift(60)
    with app.app_context():
        from webapp.models import User
        from webapp.services import backlog as backlog_service
        stored = db.session.get(BacklogItem, item.id)
        manager = db.session.get(User, stored.client.manager_id)
        backlog_service.estimate_item(stored, hours=Decimal("40"), acting=manager)
        db.session.commit()
    visitor = app.test_client()
    refused = visitor.post(path, data={"action": "approve"})
    assert refused.status_code == 422
    assert "Оценку изменили после отправки ссылки" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(Approval)).all() == []
