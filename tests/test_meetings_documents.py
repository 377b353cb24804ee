"""What leaves the app about a meeting: the minutes DOCX in the protocol form, the .ics and the
personal feed (read back with icalendar), the minutes and the invitation by e-mail through a real
SMTP server on loopback."""

import re
from datetime import date, datetime, timezone
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.documents_helpers import (SOFFICE, all_text, duplicate_entries, header_text, libreoffice_convert, lines,
                                     read_docx, table_rows)
from tests.meetings_fixtures import load_meeting
from webapp.extensions import db
from webapp.models import OutboundMail, Role, User
from webapp.services import meetings as meeting_service

UTC = timezone.utc
MOSCOW = ZoneInfo("Europe/Moscow")
SECRET = "Клиент тянет с оплатой — не говорить"


def _acting(user) -> User:
    return db.session.get(User, user.id)


@pytest.fixture
def held(app, team, plan):
    """A held meeting: the boss present, two points heard and decided (one with an internal note),
    an action item for the client's accountant; minutes № 1."""
    meeting_id = plan(team, starts_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC), place="офис Заказчика, переговорная 2")
    with app.app_context():
        acting = _acting(team.manager)
        meeting = load_meeting(meeting_id)
        for attendee in meeting.attendees:
            attendee.attended = attendee.name != "Ильина Ольга Сергеевна"
        point = meeting_service.add_point(meeting, title="Выгрузка остатков на сайт", acting=acting)
        point.notes, point.decision, point.internal_note = ("Остатки выгружаются вручную раз в неделю.",
                                                           "Выгружать каждый час.", SECRET)
        other = meeting_service.add_point(meeting, title="Бюджет на декабрь", acting=acting)
        other.decision = "Утвердить 300 часов."
        accountant = next(a for a in meeting.attendees if a.name == "Ильина Ольга Сергеевна")
        meeting_service.add_action(meeting, what="Прислать пример файла выгрузки", acting=acting,
                                   contact_id=accountant.contact_id, due_on=date(2026, 11, 27))
        meeting_service.finish(meeting, acting=acting)
        db.session.commit()
    return meeting_id


def test_the_minutes_docx_holds_the_protocol_and_no_internal_note(app, client, team, held, tmp_path):
    """Read back: ПРОТОКОЛ, number, date, place, chair, «Присутствовали» with positions, the agenda,
    СЛУШАЛИ / РЕШИЛИ, the action items table, signatures, page numbers; never the internal note."""
    client.login(team.manager)
    response = client.get(f"/meetings/{held}/minutes.docx")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    data = response.data
    assert not duplicate_entries(data)
    document = read_docx(data)
    text = all_text(document)
    body = lines(document)
    assert "ПРОТОКОЛ" in body
    assert any(line.startswith("24.11.2026") and line.endswith("№\u00a01") for line in body)
    assert "Место проведения: офис Заказчика, переговорная 2, начало в 10:00" in text
    assert "Председатель — Петров Алексей Николаевич, Аккаунт-менеджер" in text
    assert "Присутствовали:" in body
    assert "Ковалёва Анна Сергеевна, Генеральный директор" in text
    assert "Ильина Ольга Сергеевна, Главный бухгалтер" not in text  # not marked present
    assert "Повестка дня:" in body
    assert "СЛУШАЛИ: Остатки выгружаются вручную раз в неделю." in text
    assert "РЕШИЛИ: Выгружать каждый час." in text and "РЕШИЛИ: Утвердить 300 часов." in text
    [actions] = [t for t in document.tables if table_rows(t)[0][0] == "№"]
    assert table_rows(actions)[1] == ["1", "Прислать пример файла выгрузки", "Ильина Ольга Сергеевна", "27.11.2026"]
    assert "Страница" in header_text(document)
    assert SECRET not in text and "Клиент тянет" not in data.decode("latin-1")
    if SOFFICE:
        pdf = libreoffice_convert(data, "docx", "pdf", tmp_path / "lo", tmp_path / "profile")
        assert pdf.startswith(b"%PDF")


def _calendar(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def _event(body: bytes):
    [event] = _calendar(body).walk("VEVENT")
    return event


@pytest.mark.parametrize("local_start", [datetime(2026, 7, 1, 10, 0), datetime(2026, 12, 31, 23, 30)],
                         ids=["summer-no-dst", "new-years-eve-23-30"])
def test_the_ics_holds_the_moscow_time_the_place_and_a_stable_uid(app, client, team, plan, local_start):
    """A summer date (Moscow keeps UTC+3 all year, no DST) and 23:30 local on New Year's Eve (20:30
    UTC): DTSTART says Europe/Moscow and the wall-clock time the manager typed."""
    meeting_id = plan(team, starts_at=local_start.replace(tzinfo=MOSCOW), place="Онлайн, Телемост")
    client.login(team.manager)
    response = client.get(f"/meetings/{meeting_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = _event(response.data)
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/Moscow"
    assert start.replace(tzinfo=None) == local_start
    assert start.astimezone(UTC) == local_start.replace(tzinfo=MOSCOW).astimezone(UTC)
    assert str(event["location"]) == "Онлайн, Телемост"
    assert _calendar(response.data).walk("VTIMEZONE")
    uid = str(event["uid"])
    assert str(_event(client.get(f"/meetings/{meeting_id}.ics").data)["uid"]) == uid


def test_a_reschedule_raises_the_sequence_and_a_cancel_says_cancelled(app, client, team, plan):
    """Same UID, SEQUENCE 0 → 1 on a move, → 2 and STATUS:CANCELLED on a cancel."""
    meeting_id = plan(team, starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    client.login(team.manager)
    first = _event(client.get(f"/meetings/{meeting_id}.ics").data)
    with app.app_context():
        meeting = load_meeting(meeting_id)
        version = meeting.version
    moved = client.post(f"/meetings/{meeting_id}/reschedule", data={
        "reschedule-starts_at": "2026-12-02T11:00", "reschedule-place": "Офис Исполнителя",
        "reschedule-duration_minutes": "90", "reschedule-version": version})
    assert moved.status_code == 303
    second = _event(client.get(f"/meetings/{meeting_id}.ics").data)
    assert second["uid"] == first["uid"] and (first["sequence"], second["sequence"]) == (0, 1)
    assert second.decoded("dtstart") == datetime(2026, 12, 2, 11, 0, tzinfo=MOSCOW)
    assert second.decoded("dtend") == datetime(2026, 12, 2, 12, 30, tzinfo=MOSCOW)
    client.post(f"/meetings/{meeting_id}/status", data={"target": "cancelled", "from": "planned",
                                                         "reason": "Перенос проекта"})
    third = _event(client.get(f"/meetings/{meeting_id}.ics").data)
    assert third["uid"] == first["uid"] and third["sequence"] == 2 and third["status"] == "CANCELLED"


def test_the_personal_feed_opens_by_its_token_only_and_dies_when_revoked(app, client, team, plan, make_client,
                                                                         make_user):
    """The feed holds the user's meetings only; a wrong token and a revoked one answer 404."""
    mine = plan(team, starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    other = make_user(Role.MANAGER)
    foreign = make_client(other, short_name="Василёк")
    with app.app_context():
        from webapp.models import Client
        meeting_service.plan_meeting(db.session.get(Client, foreign.id), acting=_acting(other))
        db.session.commit()
        uid = load_meeting(mine).uid
    client.login(team.manager)
    page = client.post("/meetings/calendar", data={"action": "issue"}).get_data(as_text=True)
    url = page.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    path = url.split("localhost", 1)[1]
    outsider = app.test_client()
    feed = outsider.get(path)
    assert feed.status_code == 200
    events = _calendar(feed.data).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [uid]
    assert "Василёк" not in feed.get_data(as_text=True)
    assert outsider.get(path[:-10] + "abcdefghij").status_code == 404
    client.post("/meetings/calendar", data={"action": "revoke"})
    assert outsider.get(path).status_code == 404


def test_the_minutes_go_by_mail_with_the_docx_and_are_recorded(mail_app, client, team, held):
    """The received message: the addressees, a Russian subject encoded for SMTP, the DOCX attached;
    the meeting says when and to whom, the client's history shows the mail."""
    client.login(team.manager)
    response = client.post(f"/meetings/{held}/minutes/send",
                           data={"send-recipients": "kovaleva@romashka.test, petrov@company.test"})
    assert response.status_code == 200 and "Письмо отправлено" in response.get_data(as_text=True)
    [message] = mail_app.inbox.messages
    assert message["To"] == "kovaleva@romashka.test, petrov@company.test"
    raw_subject = message.get("Subject", failobj="")
    assert str(make_header(decode_header(raw_subject))) == \
        "Протокол встречи № 1 от 24 ноября 2026 г. — Ромашка"  # a header is one line of plain spaces
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert attachment.get_filename().startswith("Протокол № 1 Ромашка")
    document = read_docx(attachment.get_content())
    assert "РЕШИЛИ: Выгружать каждый час." in all_text(document)
    with mail_app.app_context():
        meeting = load_meeting(held)
        assert meeting.minutes_sent_at is not None
        assert meeting.minutes_sent_to == "kovaleva@romashka.test, petrov@company.test"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMail)) == 1
    assert "Протокол встречи № 1" in client.get(f"/clients/{team.client.id}/timeline").get_data(as_text=True)


def test_a_failed_send_keeps_the_minutes_unsent(app, client, team, held):
    """Without mail configured the page offers the text to copy, and nothing is marked sent."""
    client.login(team.manager)
    response = client.post(f"/meetings/{held}/minutes/send", data={"send-recipients": "kovaleva@romashka.test"})
    assert "скопируйте текст" in response.get_data(as_text=True)
    with app.app_context():
        assert load_meeting(held).minutes_sent_at is None


def test_the_invitation_goes_as_a_calendar_request(mail_app, client, team, plan):
    """The client's attendees get METHOD:REQUEST with the meeting's UID in a text/calendar part."""
    meeting_id = plan(team, starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    client.login(team.manager)
    assert client.post(f"/meetings/{meeting_id}/invite").status_code == 200
    [message] = mail_app.inbox.messages
    assert set(message["To"].split(", ")) == {"kovaleva@romashka.test", "ilina@romashka.test"}
    assert str(make_header(decode_header(message["Subject"]))).startswith("Приглашение на встречу: Ромашка")
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(part.get_content() if isinstance(part.get_content(), bytes)
                                  else part.get_content().encode())
    assert calendar["method"] == "REQUEST"
    with mail_app.app_context():
        assert str(calendar.walk("VEVENT")[0]["uid"]) == load_meeting(meeting_id).uid


LINK = re.compile(r"https?://\S+/l/[A-Za-z0-9_-]+")


def _confirmation_link(mail_app, client, meeting_id: int, contact_name: str) -> str:
    with mail_app.app_context():
        contact_id = next(a.contact_id for a in load_meeting(meeting_id).attendees if a.name == contact_name)
    response = client.post(f"/meetings/{meeting_id}/minutes/confirmation", data={"confirm-contact_id": contact_id})
    assert response.status_code == 200 and "Письмо отправлено" in response.get_data(as_text=True)
    body = mail_app.inbox.messages[-1].get_body(("plain",)).get_content()
    return "/l/" + LINK.search(body).group(0).rsplit("/l/", 1)[1]


def test_the_boss_confirms_the_minutes_once_through_a_signed_link(mail_app, client, team, held):
    """The link opens without a login, shows the decisions, confirms once; a second answer is refused."""
    client.login(team.manager)
    path = _confirmation_link(mail_app, client, held, "Ковалёва Анна Сергеевна")
    visitor = mail_app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Выгружать каждый час." in page.get_data(as_text=True)
    assert SECRET not in page.get_data(as_text=True)
    assert visitor.post(path, data={"action": "confirm"}).status_code == 200
    assert visitor.post(path, data={"action": "confirm"}).status_code == 410
    state = client.get(f"/meetings/{held}").get_data(as_text=True)
    assert "Подтверждён: Ковалёва Анна Сергеевна" in state


def test_an_objection_needs_its_words_and_an_expired_link_answers_410(mail_app, client, team, held, clock):
    """An empty objection keeps the link usable; a written one is recorded; an old link is gone."""
    client.login(team.manager)
    path = _confirmation_link(mail_app, client, held, "Ковалёва Анна Сергеевна")
    visitor = mail_app.test_client()
    assert visitor.post(path, data={"action": "object", "comment": ""}).status_code == 422
    assert visitor.post(path, data={"action": "object", "comment": "Срок по выгрузке — неделя"}).status_code == 200
    assert "Возражения (Ковалёва Анна Сергеевна): Срок по выгрузке — неделя" in \
        client.get(f"/meetings/{held}").get_data(as_text=True)
    late = _confirmation_link(mail_app, client, held, "Ковалёва Анна Сергеевна")
    clock.shift(days=30)
    assert visitor.get(late).status_code == 410


def test_minutes_nobody_objected_to_count_as_accepted_after_the_regulations_period(app, client, team, held, clock):
    """Sent and left unanswered: «ждём» within the acceptance period, «принят» after it."""
    client.login(team.manager)
    client.post(f"/meetings/{held}/minutes/sent", data={"send-recipients": "kovaleva@romashka.test"})
    assert "Ждём подтверждения" in client.get(f"/meetings/{held}").get_data(as_text=True)
    clock.shift(days=14)
    client.login(team.manager)  # the session of two weeks ago has ended
    assert "Принят: возражений не поступило" in client.get(f"/meetings/{held}").get_data(as_text=True)


def test_every_ics_carries_the_zone_as_icalendar_would_add_it(app, client, team, plan):
    """Two meetings' files each hold one VTIMEZONE of Europe/Moscow before the event, the same as
    icalendar's own ``add_missing_timezones`` gives, though the zone is built once per process and
    shared by the calendars."""
    from icalendar import Event

    first = plan(team, starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    second = plan(team, starts_at=datetime(2027, 7, 1, 7, 0, tzinfo=UTC))
    client.login(team.manager)
    calendars = [_calendar(client.get(f"/meetings/{meeting_id}.ics").data) for meeting_id in (first, second)]
    for calendar in calendars:
        assert [component.name for component in calendar.subcomponents] == ["VTIMEZONE", "VEVENT"]
        assert calendar.subcomponents[0]["tzid"] == "Europe/Moscow"
        expected = Calendar()
        expected.add_component(Event.from_ical(calendar.subcomponents[1].to_ical()))
        expected.add_missing_timezones()
        assert calendar.subcomponents[0].to_ical() == expected.subcomponents[0].to_ical()
