"""Planning meetings: the schedule from the regulation, the agenda that builds itself, carrying over,
decisions through the backlog, finishing with a numbered minutes and a touchpoint, the live page's
field-level saves, «Мой день» and the client's history."""

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import messages
from tests.meetings_fixtures import load_meeting
from webapp.extensions import db
from webapp.models import (ActionStatus, ApprovalChannel, BacklogItem, Channel, Client, IntakeChannel, ItemStatus,
                           Meeting, MeetingStatus, Role, Stage, Touchpoint, User)
from webapp.saving import encode_shown, fingerprint
from webapp.services import ServiceError, workflow
from webapp.services import meetings as meeting_service

UTC = timezone.utc


def _acting(user) -> User:
    return db.session.get(User, user.id)


def _boss(meeting: Meeting):
    return next(a for a in meeting.attendees if a.name == "Ковалёва Анна Сергеевна")


def test_a_weekly_meeting_falls_on_the_regulations_weekday_and_time(app, team, plan):
    """Without a time, is the meeting put on the standard's next Tuesday 10:00 Moscow, at its place?"""
    meeting_id = plan(team)
    with app.app_context():
        meeting = load_meeting(meeting_id)
        assert meeting.starts_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tue 10:00 MSK
        assert meeting.place == "офис Заказчика"
        assert {a.name for a in meeting.attendees} == {"Ковалёва Анна Сергеевна", "Ильина Ольга Сергеевна",
                                                       "Петров Алексей Николаевич"}
        following = meeting_service.plan_meeting(meeting.client, acting=_acting(team.manager))
        assert following.starts_at == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)


def test_the_agenda_is_built_from_the_backlogs_sections(app, team, plan, make_item):
    """New requests, estimates awaiting approval, overdue stages and the order to agree: each a point."""
    make_item(team.client, team.manager, title="Новая выгрузка")
    waiting = make_item(team.client, team.manager, title="Отчёт по складу", hours=Decimal("8"))
    late = make_item(team.client, team.manager, title="Доработка печати")
    with app.app_context():
        acting = _acting(team.manager)
        item = db.session.get(BacklogItem, waiting.id)
        workflow.change_status(item, ItemStatus.ESTIMATE.value, acting=acting, shown_status=item.status.value)
        workflow.change_status(item, ItemStatus.APPROVAL.value, acting=acting, shown_status=item.status.value)
        stage = db.session.scalar(sa.select(Stage).where(Stage.item_id == late.id).order_by(Stage.position).limit(1))
        stage.due_on = date(2026, 11, 20)
        db.session.commit()
    meeting_id = plan(team)
    with app.app_context():
        points = load_meeting(meeting_id).points
        sections = [p.section for p in points]
        assert sections == sorted(sections, key=["Новые заявки", "Оценки на согласовании", "Просроченные этапы",
                                                 "Приоритеты задач"].index)
        titles = "\n".join(p.title for p in points)
        assert "Новая заявка" in titles and "Новая выгрузка" in titles
        assert "Согласовать оценку" in titles and "Отчёт по складу" in titles and "8 ч" in titles
        assert "Просрочен этап «Согласовать объём»" in titles
        assert "Согласовать порядок открытых задач (3)" in titles
        assert all(p.backlog_item_id for p in points if p.section != "Приоритеты задач")
        meeting = load_meeting(meeting_id)
        assert meeting_service.refresh_agenda(meeting, acting=_acting(team.manager)) == 0  # nothing twice


def test_the_next_meeting_carries_undecided_points_and_open_action_items(app, team, plan, client, count_queries):
    """Does «Следующая встреча» bring what is open, marked carried, with the action item's history?
    The history drawn in place reads the action's chain, not the meeting page's forms, agenda and
    terms (issue 9: 10 statements, 8 ms on the benchmark data)."""
    meeting_id = plan(team, starts_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    with app.app_context():
        acting = _acting(team.manager)
        meeting = load_meeting(meeting_id)
        decided = meeting_service.add_point(meeting, title="Бюджет на декабрь", acting=acting)
        decided.decision = "Утвердить"
        meeting_service.add_point(meeting, title="Переход на ЗУП 3.1", acting=acting)
        meeting_service.add_action(meeting, what="Прислать выгрузку", acting=acting,
                                   contact_id=meeting.attendees[0].contact_id, due_on=date(2026, 11, 27))
        done = meeting_service.add_action(meeting, what="Созвониться с бухгалтерией", acting=acting)
        done.status = ActionStatus.DONE
        meeting_service.finish(meeting, acting=acting)
        following = meeting_service.next_meeting(meeting, acting=acting)
        db.session.commit()
        assert following.previous_id == meeting.id
        assert following.starts_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
        carried = [p for p in following.points if p.carried]
        assert [p.title for p in carried] == ["Переход на ЗУП 3.1"]
        assert carried[0].section == "Перенесено с прошлой встречи"
        [action] = following.actions
        assert action.what == "Прислать выгрузку" and action.carried and action.is_open
        assert [a.meeting_id for a in meeting_service.action_history(action)] == [meeting.id, following.id]
        assert meeting_service.next_meeting(meeting, acting=acting).id == following.id  # made once
        path = f"/meetings/{following.id}/actions/{action.id}/history"
    client.login(team.manager)
    with count_queries() as statements:
        history = client.get(path, headers={"HX-Request": "true", "HX-Request-Type": "partial"}).get_data(as_text=True)
    assert "24.11.2026 10:00" in history and "01.12.2026 10:00" in history and "<html" not in history
    page_only = ("FROM regulations", "FROM contacts", "FROM backlog_items", "FROM meeting_points")
    assert not [s for s in statements if any(table in s for table in page_only)], statements
    assert "Прошло через встречи" in client.get(path).get_data(as_text=True)


def test_finishing_numbers_the_minutes_and_counts_as_a_contact(app, team, plan, clock):
    """Held: minutes № 1, then № 2; the client's last contact is the meeting, by the channel «встреча»."""
    first = plan(team, starts_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    second = plan(team, starts_at=datetime(2026, 11, 25, 6, 30, tzinfo=UTC))
    with app.app_context():
        acting = _acting(team.manager)
        meeting = load_meeting(first)
        _boss(meeting).attended = True
        meeting_service.finish(meeting, acting=acting)
        db.session.commit()
        meeting_service.finish(load_meeting(second), acting=acting)
        db.session.commit()
        assert [load_meeting(i).minutes_number for i in (first, second)] == [1, 2]
        assert load_meeting(first).minutes_year == 2026
        touchpoint = db.session.scalar(sa.select(Touchpoint).where(Touchpoint.client_id == team.client.id)
                                       .order_by(Touchpoint.id).limit(1))
        assert touchpoint.channel == Channel.MEETING and "протокол № 1" in touchpoint.summary
        assert [c.full_name for c in touchpoint.contacts] == ["Ковалёва Анна Сергеевна"]
        assert db.session.get(Client, team.client.id).last_contact_at == datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
        with pytest.raises(ServiceError):
            meeting_service.finish(load_meeting(first), acting=acting)


def test_cancelling_asks_for_a_reason_and_gives_no_number(app, team, plan, client):
    """Is a meeting cancelled only with a reason, its calendar SEQUENCE raised and no minutes number?"""
    meeting_id = plan(team)
    client.login(team.manager)
    url = f"/meetings/{meeting_id}/status"
    refused = client.post(url, data={"target": "cancelled", "from": "planned", "reason": ""})
    assert refused.status_code == 422
    response = client.post(url, data={"target": "cancelled", "from": "planned", "reason": "Клиент в отпуске"})
    assert response.status_code == 303
    with app.app_context():
        meeting = load_meeting(meeting_id)
        assert meeting.status == MeetingStatus.CANCELLED and meeting.cancel_reason == "Клиент в отпуске"
        assert meeting.sequence == 1 and meeting.minutes_number is None


def test_an_estimate_is_approved_at_the_meeting_only_by_an_attending_decision_maker(app, team, plan, make_item):
    """Through the backlog's own approve_item, channel «встреча», by a decision maker marked present."""
    item = make_item(team.client, team.manager, title="Отчёт по складу", hours=Decimal("8"))
    meeting_id = plan(team)
    with app.app_context():
        acting = _acting(team.manager)
        stored = db.session.get(BacklogItem, item.id)
        workflow.change_status(stored, ItemStatus.ESTIMATE.value, acting=acting, shown_status=stored.status.value)
        workflow.change_status(stored, ItemStatus.APPROVAL.value, acting=acting, shown_status=stored.status.value)
        meeting = load_meeting(meeting_id)
        boss = _boss(meeting)
        with pytest.raises(ServiceError, match="присутствующий ЛПР"):
            meeting_service.approve_estimate(meeting, item.id, contact_id=boss.contact_id, acting=acting)
        boss.attended = True
        approval = meeting_service.approve_estimate(meeting, item.id, contact_id=boss.contact_id, acting=acting)
        db.session.commit()
        assert approval.channel == ApprovalChannel.MEETING and approval.contact.full_name == boss.name
        assert db.session.get(BacklogItem, item.id).status == ItemStatus.APPROVED


def test_the_meeting_offers_the_clients_estimates_waiting_for_approval(app, team, plan, make_item, client):
    """«Согласовать оценку» lists the client's items waiting for approval by key and title, and no
    other item."""
    waiting = make_item(team.client, team.manager, title="Отчёт по складу", hours=Decimal("8"))
    make_item(team.client, team.manager, title="Ещё не оценена", hours=Decimal("2"))
    meeting_id = plan(team)
    with app.app_context():
        stored = db.session.get(BacklogItem, waiting.id)
        for status in (ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
            workflow.change_status(stored, status.value, acting=_acting(team.manager), shown_status=stored.status.value)
        db.session.commit()
        key = stored.key
    client.login(team.manager)
    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    offered = re.search(r'<select[^>]*name="approve-item_id"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r"<option[^>]*>([^<]*)</option>", offered) == ["— выберите —", f"{key} Отчёт по складу"]


def test_an_action_item_becomes_a_backlog_item_once(app, team, plan, client):
    """«В бэклог»: a request of the client with the channel «планёрка», linked from the action item."""
    meeting_id = plan(team)
    with app.app_context():
        meeting = load_meeting(meeting_id)
        action = meeting_service.add_action(meeting, what="Настроить обмен с сайтом", acting=_acting(team.manager),
                                            contact_id=_boss(meeting).contact_id)
        db.session.commit()
        action_id, version = action.id, action.version
    client.login(team.manager)
    response = client.post(f"/meetings/{meeting_id}/actions/{action_id}/backlog", data={"version": version})
    assert response.status_code == 303
    again = client.post(f"/meetings/{meeting_id}/actions/{action_id}/backlog", data={"version": version})
    assert again.status_code == 422 and "уже стало задачей" in again.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(sa.select(BacklogItem).where(BacklogItem.client_id == team.client.id))
        assert item.title == "Настроить обмен с сайтом" and item.channel == IntakeChannel.MEETING
        assert item.requester.full_name == "Ковалёва Анна Сергеевна"
        assert load_meeting(meeting_id).actions[0].backlog_item_id == item.id


# --- the live page --------------------------------------------------------------------------------


def _field(app, point_id: int, name: str) -> dict:
    """What the page shows of one field of a point: its version and fingerprint."""
    from webapp.models import AgendaPoint
    with app.app_context():
        point = db.session.get(AgendaPoint, point_id)
        return {"field": name, "version": point.version,
                "version_shown": encode_shown({name: fingerprint(getattr(point, name))})}


def test_two_people_typing_into_different_fields_never_conflict(app, team, plan, client):
    """The manager types the notes, the deputy the decision of one point: both saved; the same field
    typed by both answers 409 with both texts, and saving again keeps the second text."""
    meeting_id = plan(team)
    with app.app_context():
        point = meeting_service.add_point(load_meeting(meeting_id), title="Бюджет", acting=_acting(team.manager))
        db.session.commit()
        point_id = point.id
    url = f"/meetings/{meeting_id}/points/{point_id}"
    notes, decision = _field(app, point_id, "notes"), _field(app, point_id, "decision")
    deputy = app.test_client()
    deputy.login(team.deputy)
    client.login(team.manager)
    first = client.post(url, data={**notes, "value": "Обсудили лимиты"})
    assert first.status_code == 200 and "сохранено" in first.get_data(as_text=True)
    second = deputy.post(url, data={**decision, "value": "Утвердить 300 часов"})
    assert second.status_code == 200
    clash = deputy.post(url, data={**notes, "value": "Лимиты не обсуждали"})
    body = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "Обсудили лимиты" in body and "Лимиты не обсуждали" in body
    rearmed = {"field": "notes", "version": body.split('name="version" value="')[1].split('"')[0],
               "version_shown": body.split('name="version_shown" value="')[1].split('"')[0]}
    assert deputy.post(url, data={**rearmed, "value": "Лимиты не обсуждали"}).status_code == 200
    with app.app_context():
        from webapp.models import AgendaPoint
        point = db.session.get(AgendaPoint, point_id)
        assert (point.notes, point.decision) == ("Лимиты не обсуждали", "Утвердить 300 часов")


def test_a_field_saved_as_it_is_typed_answers_with_its_state_alone(app, team, plan, client, count_queries):
    """An autosave (every pause in typing at a live meeting) answers «сохранено» with the field's new
    version, reading neither the agenda nor the people of the page it came from (issue 9)."""
    meeting_id = plan(team)
    with app.app_context():
        point = meeting_service.add_point(load_meeting(meeting_id), title="Бюджет", acting=_acting(team.manager))
        db.session.commit()
        point_id, version = point.id, point.version
    client.login(team.manager)
    with count_queries() as statements:
        answer = client.post(f"/meetings/{meeting_id}/points/{point_id}",
                             data={**_field(app, point_id, "notes"), "value": "Обсудили лимиты"}, htmx=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "сохранено" in body
    assert f'name="version" value="{version + 1}"' in body
    assert body.count("<form") == 0 and "Повестка" not in body
    read = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in read if any(f"FROM {table}" in s for table in (
        "contacts", "meeting_attendees", "action_items", "backlog_items", "cache_tokens"))], read
    assert sum("FROM users" in s for s in read) == 1, read  # not again after the commit, for the menu or headers


def test_the_live_page_shows_the_meeting_and_reads_for_others(app, team, plan, client, make_user):
    """The manager edits; a lead reads the same page without a single editable field."""
    meeting_id = plan(team)
    with app.app_context():
        meeting_service.add_point(load_meeting(meeting_id), title="Бюджет", acting=_acting(team.manager))
        db.session.commit()
    client.login(team.manager)
    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Повестка дня" in page and "data-autosave" in page and "Завершить встречу" in page
    lead = app.test_client()
    lead.login(make_user(Role.LEAD))
    read = lead.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "Завершить встречу" not in read and "<textarea" in read and "disabled" in read
    assert lead.post(f"/meetings/{meeting_id}/points", data={"point-title": "x"}).status_code == 403


def test_the_meeting_pages_cost_the_same_for_twenty_points_as_for_two(app, team, plan, client, count_queries):
    """The live page and the week's list: as many statements for 20 agenda points as for 2."""
    few, many = plan(team), plan(team)
    with app.app_context():
        acting = _acting(team.manager)
        for meeting_id, count in ((few, 2), (many, 20)):
            meeting = load_meeting(meeting_id)
            for n in range(count):
                meeting_service.add_point(meeting, title=f"Вопрос {n}", acting=acting)
                meeting_service.add_action(meeting, what=f"Поручение {n}", acting=acting,
                                           contact_id=meeting.attendees[0].contact_id)
        db.session.commit()
    client.login(team.manager)
    counts = []
    for meeting_id in (few, many):
        client.get(f"/meetings/{meeting_id}")
        with count_queries() as queries:
            assert client.get(f"/meetings/{meeting_id}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_my_day_shows_todays_meetings_and_the_history_shows_held_ones(app, team, plan, client):
    """«Встречи сегодня» on «Мой день»; a held meeting in the client's timeline with its decisions."""
    meeting_id = plan(team, starts_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    client.login(team.manager)
    day = client.get("/").get_data(as_text=True)
    assert "Встречи сегодня" in day and "09:00 Ромашка" in day
    with app.app_context():
        meeting = load_meeting(meeting_id)
        point = meeting_service.add_point(meeting, title="Бюджет", acting=_acting(team.manager))
        point.decision = "Утвердить 300 часов"
        meeting_service.finish(meeting, acting=_acting(team.manager))
        db.session.commit()
    history = client.get(f"/clients/{team.client.id}/timeline").get_data(as_text=True)
    assert "Встреча проведена, протокол № 1" in history and "Утвердить 300 часов" in history


def test_todays_meetings_on_my_day_follow_the_day_and_new_meetings(app, team, plan, client, clock):
    """The section's statement is kept per user and day (issue 9), what it lists is not: a meeting
    planned since the last visit shows at once, and the next day shows the next day's meetings."""
    import re

    def today_section() -> str:
        page = client.get("/").get_data(as_text=True)
        found = re.search(r'<section id="meetings-today-section"[\s\S]*?</section>', page)
        return found.group(0) if found else ""

    plan(team, starts_at=datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc))  # 09:00 today in Moscow
    client.login(team.manager)
    assert "09:00 Ромашка" in today_section()
    plan(team, starts_at=datetime(2026, 11, 25, 12, 30, tzinfo=timezone.utc))
    plan(team, starts_at=datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc))
    section = today_section()
    assert "15:30 Ромашка" in section and "11:00" not in section
    clock.shift(days=1)
    client.login(team.manager)
    section = today_section()
    assert "11:00 Ромашка" in section and "09:00" not in section and "15:30" not in section


def test_the_weeks_list_shows_mine_and_everyones_for_the_admin(app, team, plan, client, make_client, make_user):
    """/meetings/: a manager sees their own week; an admin sees everyone's (and may narrow to their own)."""
    plan(team, starts_at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    other = make_user(Role.MANAGER, full_name="Чужой Менеджер Иванович")
    foreign = make_client(other, short_name="Василёк")
    with app.app_context():
        meeting_service.plan_meeting(db.session.get(Client, foreign.id), acting=_acting(other),
                                     starts_at=datetime(2026, 11, 27, 7, 0, tzinfo=UTC))
        db.session.commit()
    client.login(team.manager)
    mine = client.get("/meetings/").get_data(as_text=True)
    assert "Ромашка" in mine and "Василёк" not in mine
    admin = app.test_client()
    admin.login(make_user(Role.ADMIN))
    everyone = admin.get("/meetings/").get_data(as_text=True)
    assert "Ромашка" in everyone and "Василёк" in everyone
    assert "Ромашка" not in admin.get("/meetings/?all=0").get_data(as_text=True)
    app.config["PER_PAGE"] = 1  # a department's week runs to hundreds: pages, in time order, none dropped
    first, second = (admin.get(f"/meetings/?all=1&page={n}").get_data(as_text=True) for n in (1, 2))
    assert "Ромашка" in first and "Василёк" not in first
    assert "Василёк" in second and "Ромашка" not in second
    assert 'href="/meetings/?all=1&amp;page=2"' in first


def test_the_weeks_list_reads_what_its_rows_show(app, team, plan, client, count_queries):
    """A row of /meetings/ shows the time, the client, its manager, the place and the status: the list
    reads those, not every column of the client (notes, search text) and three whole users per row
    (issue 9: 12.4 ms in-process for 50 rows on the benchmark data)."""
    plan(team, starts_at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    client.login(team.manager)
    with count_queries() as statements:
        page = client.get("/meetings/").get_data(as_text=True)
    row = re.search(r"<tbody>[\s\S]*?</tbody>", page).group(0)
    manager_name = team.manager.full_name
    assert "26.11.2026 10:00" in row and "Ромашка" in row and manager_name in row and "Запланирована" in row
    [listed] = [s for s in statements if "FROM meetings" in s and "meetings.starts_at," in s]
    assert "clients_1.notes" not in listed and "search_text" not in listed and "password_hash" not in listed


def test_planning_from_the_clients_page(app, team, client):
    """«Запланировать» with a time typed in Moscow time stores it in UTC."""
    client.login(team.manager)
    response = client.post(f"/clients/{team.client.id}/meetings/new",
                           data={"starts_at": "2026-12-03T23:30", "place": "Онлайн", "kind": "one_off"})
    assert response.status_code == 303, messages(response)
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting).where(Meeting.client_id == team.client.id))
        assert meeting.starts_at == datetime(2026, 12, 3, 20, 30, tzinfo=UTC) and meeting.place == "Онлайн"
    assert "Онлайн" in client.get(f"/clients/{team.client.id}/meetings/").get_data(as_text=True)


def test_actions_from_a_stale_page_are_refused_and_change_nothing(app, team, plan, client):
    """«Следующая встреча», «Обновить повестку» and «В бэклог» from a page drawn before a colleague
    changed the meeting (or the action item): 409, and no meeting, point or request is made."""
    meeting_id = plan(team)
    with app.app_context():
        meeting = load_meeting(meeting_id)
        action = meeting_service.add_action(meeting, what="Настроить обмен с сайтом", acting=_acting(team.manager))
        db.session.commit()
        stale_meeting, action_id, stale_action = meeting.version, action.id, action.version
        meeting.place = "Переговорная 2"  # a colleague's changes since the page was drawn
        action.what = "Настроить обмен с сайтом и складом"
        db.session.commit()
        before = (db.session.scalar(sa.select(sa.func.count(Meeting.id))),
                  len(load_meeting(meeting_id).points), db.session.scalar(sa.select(sa.func.count(BacklogItem.id))))
    client.login(team.manager)
    assert client.post(f"/meetings/{meeting_id}/next", data={"version": stale_meeting}).status_code == 409
    assert client.post(f"/meetings/{meeting_id}/agenda/refresh", data={"version": stale_meeting}).status_code == 409
    assert client.post(f"/meetings/{meeting_id}/actions/{action_id}/backlog",
                       data={"version": stale_action}).status_code == 409
    with app.app_context():
        assert (db.session.scalar(sa.select(sa.func.count(Meeting.id))), len(load_meeting(meeting_id).points),
                db.session.scalar(sa.select(sa.func.count(BacklogItem.id)))) == before
