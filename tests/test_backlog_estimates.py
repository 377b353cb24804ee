"""Estimates broken into lines: the hours are their sum, and the lines stay ours — never in the spec
DOCX, the approval e-mail or the link page the client opens."""

import re
from decimal import Decimal

import pytest

from tests.backlog_fixtures import DECISION_MAKER, contact_named, reload_item
from tests.conftest import messages
from tests.documents_helpers import all_text, read_docx
from webapp.models import Role

SECRET_LINE = "Запас на кривой обмен с УТ"
LINK = re.compile(r"https?://\S+/l/[A-Za-z0-9_-]+")


@pytest.fixture
def team(make_user, make_client):
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка",
                         contacts=[{**DECISION_MAKER, "email": "kovaleva@romashka.example"}])
    return manager, client


def _lines(*rows):
    data = {}
    for n, (title, hours) in enumerate(rows):
        data[f"estimate-lines-{n}-title"] = title
        data[f"estimate-lines-{n}-hours"] = hours
    return data


def test_estimate_lines_sum_into_the_hours_and_show_for_us(app, client, team, make_item):
    """Does an estimate by lines take their sum as its hours, and the page show the lines to the team?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert 'name="estimate-lines-0-title"' in page and "Состав работ" in page
    response = client.post(f"/backlog/{item.id}/estimate",
                           data={"estimate-hours": "99", **_lines(("Анализ", "2,5"), (SECRET_LINE, "4"), ("", ""))})
    assert response.status_code in (200, 303)
    stored = reload_item(app, item.id)
    assert stored.estimate_hours == Decimal("6.5")
    assert stored.estimates[0].breakdown == [("Анализ", Decimal("2.5")), (SECRET_LINE, Decimal("4"))]
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert SECRET_LINE in page and "Анализ — 2,5 ч" in page


def test_a_half_filled_estimate_line_is_refused_with_a_message(client, team, make_item):
    """Is a line with work but no hours (or hours without work) refused (422) with a message?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    no_hours = client.post(f"/backlog/{item.id}/estimate", data=_lines(("Анализ", "")), htmx=True)
    assert no_hours.status_code == 422 and "Укажите часы." in messages(no_hours)
    no_title = client.post(f"/backlog/{item.id}/estimate", data=_lines(("", "3")), htmx=True)
    assert no_title.status_code == 422 and "Назовите работу." in messages(no_title)
    nothing = client.post(f"/backlog/{item.id}/estimate", data={}, htmx=True)
    assert nothing.status_code == 422 and "Укажите часы: больше нуля." in messages(nothing)


def test_estimate_lines_never_reach_the_spec_the_email_or_the_link_page(mail_app, client, team, make_item):
    """Do the internal lines stay out of the spec DOCX, the approval e-mail and the page behind its link?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    client.post(f"/backlog/{item.id}/estimate", data=_lines(("Анализ", "2"), (SECRET_LINE, "4")))
    for target, shown in (("estimate", "new"), ("approval", "estimate")):
        assert client.post(f"/backlog/{item.id}/status", data={"target": target, "from": shown}).status_code == 303
    text = all_text(read_docx(client.get(f"/backlog/{item.id}/spec.docx").data))
    assert "Анализ" not in text and SECRET_LINE not in text
    contact_id = contact_named(mail_app, romashka, DECISION_MAKER["full_name"])
    sent = client.post(f"/backlog/{item.id}/approval-link", data={"link-contact_id": str(contact_id)})
    assert "Письмо отправлено" in sent.get_data(as_text=True)
    [received] = mail_app.inbox.messages
    body = received.get_body(("plain",)).get_content()
    assert "6 ч" in body and "Анализ" not in body and SECRET_LINE not in body
    link = "/l/" + LINK.search(body).group(0).rsplit("/l/", 1)[1]
    page = mail_app.test_client().get(link).get_data(as_text=True)
    assert "Анализ" not in page and SECRET_LINE not in page
