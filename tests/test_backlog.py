"""The backlog: intake and numbering, the guarded workflow, estimates and approvals, the SLA clock,
time, the client's order, scope, and pages whose cost does not grow with the rows."""

import functools
import re
import threading
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.backlog_fixtures import DECISION_MAKER, SCOPE_ONLY, contact_named, reload_item
from tests.conftest import MOSCOW, messages, run_in_threads
from webapp.extensions import db
from webapp.models import (Approval, ApprovalChannel, BacklogItem, Client, ItemStatus, Priority,
                           PriorityAgreement, Role, StageKind, User)
from webapp.services import ServiceError, workflow
from webapp.services import backlog as backlog_service


@pytest.fixture
def team(make_user, make_client):
    """A manager, the client they lead (with a cost decision maker and a scope-only one)."""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", contacts=[DECISION_MAKER, SCOPE_ONLY])
    return manager, client


def _move(client, item_id: int, target: str, shown: str):
    return client.post(f"/backlog/{item_id}/status", data={"target": target, "from": shown})


# --- intake and numbering ---------------------------------------------------------------------------


def test_intake_gives_items_readable_numbers_per_client(app, client, team, make_client):
    """Does «Новая заявка» number a client's items ROMASHKA-1, ROMASHKA-2, and another client's from 1?"""
    manager, romashka = team
    client.login(manager)
    requester = contact_named(app, romashka, DECISION_MAKER["full_name"])
    for title in ("Не печатается счёт-фактура", "Отчёт по продажам"):
        response = client.post(f"/clients/{romashka.id}/backlog/new", data={
            "title": title, "request_text": "Голосовое: счёт-фактура не печатается, срочно!",
            "requester_id": str(requester), "channel": "voice", "priority": "high", "billing": "billable"})
        assert response.status_code == 303
    other = make_client(manager, short_name="Вектор Логистик")
    client.post(f"/clients/{other.id}/backlog/new", data={"title": "Обмен с сайтом", "channel": "email",
                                                          "priority": "normal", "billing": "billable"})
    with app.app_context():
        keys = [i.key for i in db.session.scalars(sa.select(BacklogItem).order_by(BacklogItem.id))]
    assert keys == ["ROMASHKA-1", "ROMASHKA-2", "VEKTORLOGIST-1"]
    page = client.get(f"/clients/{romashka.id}/backlog/").get_data(as_text=True)
    assert "ROMASHKA-2" in page and "Отчёт по продажам" in page


def test_intake_without_a_title_is_refused_with_a_message(client, team):
    """Is a request with no title refused (422) with a Russian message, nothing created?"""
    manager, romashka = team
    client.login(manager)
    response = client.post(f"/clients/{romashka.id}/backlog/new", data={"title": "", "channel": "call",
                                                                        "priority": "normal", "billing": "billable"})
    assert response.status_code == 422 and "Коротко назовите задачу." in messages(response)


def test_twenty_concurrent_intakes_get_twenty_consecutive_numbers(app, team):
    """Do 20 intakes at once on one client, in real threads, get 1…20, each once?"""
    manager, romashka = team
    start = threading.Barrier(20)

    def intake(n: int) -> None:
        start.wait(timeout=60)  # all at once (the pool lends connections as intakes finish)
        with app.app_context():
            acting = db.session.get(User, manager.id)
            stored = db.session.get(Client, romashka.id)
            backlog_service.create_item(stored, {"title": f"Заявка {n}"}, acting=acting)
            db.session.commit()
            db.session.remove()

    run_in_threads(*(functools.partial(intake, n) for n in range(20)))
    with app.app_context():
        numbers = sorted(db.session.scalars(sa.select(BacklogItem.number).where(BacklogItem.client_id == romashka.id)))
    assert numbers == list(range(1, 21))


def test_new_client_gets_a_unique_code_from_its_name(app, make_user, make_client):
    """Do two clients called «Ромашка» get the codes ROMASHKA and ROMASHKA2?"""
    manager = make_user(Role.MANAGER)
    first, second = make_client(manager, short_name="Ромашка"), make_client(manager, short_name="Ромашка")
    assert (first.code, second.code) == ("ROMASHKA", "ROMASHKA2")


# --- the workflow's guards -------------------------------------------------------------------------------


def test_approval_cannot_be_requested_without_an_estimate(client, team, make_item):
    """Is «ждём согласования» refused, with the reason, for an item nobody has estimated?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    assert _move(client, item.id, "estimate", "new").status_code == 303
    response = _move(client, item.id, "approval", "estimate")
    assert response.status_code == 422
    assert "Сначала оцените задачу: часы и стоимость." in response.get_data(as_text=True)


def test_work_above_the_threshold_needs_a_recorded_approval(app, client, team, make_item):
    """Above the regulation's 4 h, is «В работу» refused until a decision maker's approval is recorded?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    client.login(manager)
    _move(client, item.id, "estimate", "new")
    refused = _move(client, item.id, "in_progress", "estimate")
    assert refused.status_code == 422
    assert "Оценка выше порога регламента: запишите согласование ЛПР клиента." in refused.get_data(as_text=True)
    assert _move(client, item.id, "approval", "estimate").status_code == 303
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    recorded = client.post(f"/backlog/{item.id}/approval", data={
        "approval-contact_id": str(approver), "approval-channel": "meeting", "approval-comment": "На планёрке"})
    assert recorded.status_code == 303
    assert reload_item(app, item.id).status == ItemStatus.APPROVED
    assert _move(client, item.id, "in_progress", "approved").status_code == 303
    with app.app_context():
        approval = db.session.scalar(sa.select(Approval))
        assert (approval.contact.full_name, approval.channel, approval.estimate.hours) == (
            DECISION_MAKER["full_name"], ApprovalChannel.MEETING, Decimal("10.00"))
        assert db.session.get(BacklogItem, item.id).status == ItemStatus.IN_PROGRESS


def test_work_below_the_threshold_starts_without_approval(app, client, team, make_item):
    """Below the threshold, does an estimated item go «В работу» with no approval at all?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("2"))
    client.login(manager)
    assert _move(client, item.id, "in_progress", "new").status_code == 303
    assert reload_item(app, item.id).status == ItemStatus.IN_PROGRESS


def test_an_item_nobody_estimated_cannot_start(client, team, make_item):
    """Is work refused on an item without an estimate (nobody knows whether it needs approval)?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    response = _move(client, item.id, "in_progress", "new")
    assert response.status_code == 422 and "без оценки неясно" in response.get_data(as_text=True)


def test_warranty_work_starts_without_approval(app, client, team, make_item):
    """Does our own defect (warranty) go to work without the client's approval, whatever its size?"""
    manager, romashka = team
    item = make_item(romashka, manager, billing="warranty", hours=Decimal("20"))
    client.login(manager)
    assert _move(client, item.id, "in_progress", "new").status_code == 303


def test_moves_outside_the_flow_are_refused(client, team, make_item):
    """Is a move the workflow does not declare (new → accepted) refused with a message?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    response = _move(client, item.id, "accepted", "new")
    assert response.status_code == 422
    assert "Из состояния «Новая» нельзя перейти в «Принята»." in response.get_data(as_text=True)


def test_a_move_from_a_state_someone_already_left_asks_again(client, team, make_item):
    """If someone moved the item meanwhile, is my move refused (409) instead of applied blindly?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    _move(client, item.id, "spec", "new")
    assert _move(client, item.id, "estimate", "new").status_code == 409


def test_the_full_path_from_intake_to_acceptance(app, client, team, make_item):
    """Can an item go new → spec → estimate → approval → approved → in progress → done → accepted?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    assert _move(client, item.id, "spec", "new").status_code == 303
    assert _move(client, item.id, "estimate", "spec").status_code == 303
    assert client.post(f"/backlog/{item.id}/estimate", data={"estimate-hours": "6"}).status_code == 303
    assert _move(client, item.id, "approval", "estimate").status_code == 303
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    client.post(f"/backlog/{item.id}/approval", data={"approval-contact_id": str(approver), "approval-channel": "email"})
    for target, shown in (("in_progress", "approved"), ("done", "in_progress"), ("accepted", "done")):
        assert _move(client, item.id, target, shown).status_code == 303, target
    assert reload_item(app, item.id).status == ItemStatus.ACCEPTED


# --- approvals and estimates ---------------------------------------------------------------------------


def test_only_a_decision_maker_deciding_cost_can_approve(app, client, team, make_item):
    """Is an approval by someone who decides scope but not cost refused with a message?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    client.login(manager)
    scope_only = contact_named(app, romashka, SCOPE_ONLY["full_name"])
    response = client.post(f"/backlog/{item.id}/approval", data={
        "approval-contact_id": str(scope_only), "approval-channel": "email"})
    assert response.status_code == 422
    assert f"{SCOPE_ONLY['full_name']} не решает вопросы стоимости: согласовать может ЛПР, который решает стоимость." in messages(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0
        acting = db.session.get(User, manager.id)
        with pytest.raises(ServiceError, match="не решает вопросы стоимости"):
            backlog_service.approve_item(db.session.get(BacklogItem, item.id), contact_id=scope_only,
                                         channel=ApprovalChannel.EMAIL, acting=acting)


def test_reestimate_above_the_tolerance_voids_the_approval(app, team, make_item):
    """Does a new estimate 5 % or less above the approved cost keep the approval, and more void it?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
        backlog_service.approve_item(stored, contact_id=approver, channel=ApprovalChannel.LINK, acting=acting)
        assert stored.status == ItemStatus.APPROVED
        backlog_service.estimate_item(stored, hours=Decimal("10.5"), acting=acting)  # +5 %: still approved
        assert stored.has_valid_approval and stored.status == ItemStatus.APPROVED
        backlog_service.estimate_item(stored, hours=Decimal("11"), acting=acting)  # +10 %
        db.session.commit()
        assert not stored.has_valid_approval
        assert stored.status == ItemStatus.ESTIMATE
        assert "более чем на 5 %" in stored.approvals[0].void_reason
        assert [e.number for e in stored.estimates] == [3, 2, 1]
        assert stored.estimate_hours == Decimal("11.00")
        assert workflow.allowed_moves(stored, acting)  # and the guard wants a new approval again
        start = next(o for o in workflow.allowed_moves(stored, acting) if o.move.target == ItemStatus.IN_PROGRESS)
        assert start.refusal == "Оценка выше порога регламента: запишите согласование ЛПР клиента."


def test_cost_is_hours_times_the_client_rate(app, make_user, make_client, make_item):
    """Is the cost the hours times the client's rate, in exact money?"""
    manager = make_user(Role.MANAGER)
    client_ = make_client(manager, short_name="Вектор", hourly_rate=Decimal("3333.33"))
    item = make_item(client_, manager, hours=Decimal("1.5"))
    assert item.estimate_cost == Decimal("5000.00")


def test_the_estimate_history_shows_every_version(client, team, make_item):
    """Does the item page list every estimate, the newest first, with the internal note for us?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("4"))
    client.login(manager)
    client.post(f"/backlog/{item.id}/estimate", data={"estimate-hours": "6,5", "estimate-note": "Риск: обмен"})
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert '<td>2</td><td class="text-end">6,5</td>' in page and '<td>1</td><td class="text-end">4</td>' in page
    assert "Риск: обмен" in page


def test_bad_hours_are_refused_with_a_message(client, team, make_item):
    """Are «abc» and zero hours refused (422) with a message?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    client.login(manager)
    bad = client.post(f"/backlog/{item.id}/estimate", data={"estimate-hours": "abc"})
    assert bad.status_code == 422 and "Введите число, например 1 234,50." in messages(bad)
    zero = client.post(f"/backlog/{item.id}/estimate", data={"estimate-hours": "0"})
    assert zero.status_code == 422 and "Укажите часы: больше нуля." in messages(zero)


# --- the SLA clock ------------------------------------------------------------------------------------------


def test_sla_deadlines_come_from_the_regulation_by_priority(app, team, make_item):
    """Does a high-priority item get its reaction the same day and its resolution two working days on?"""
    manager, romashka = team
    received = datetime(2026, 3, 6, 9, 0, tzinfo=timezone.utc)  # a Friday
    item = make_item(romashka, manager, priority=Priority.HIGH, received_at=received)
    due = {s.kind: s.due_on for s in item.stages}
    assert due[StageKind.REACTION] == date(2026, 3, 6)
    assert due[StageKind.RESOLUTION] == date(2026, 3, 11)  # Mon 9 March is a holiday in 2026
    assert [s.name for s in item.stages] == [name for name, _ in backlog_service.STAGE_TEMPLATE]


def test_a_new_priority_brings_new_sla_deadlines(app, client, team, make_item):
    """When a normal item is raised to critical, does its resolution deadline follow the critical SLA?"""
    manager, romashka = team
    item = make_item(romashka, manager, priority=Priority.NORMAL,
                     received_at=datetime(2026, 3, 6, 9, 0, tzinfo=timezone.utc))
    assert {s.kind: s.due_on for s in item.stages}[StageKind.RESOLUTION] is None  # «по плану работ»
    client.login(manager)
    form = _open_summary(client, item.id)
    assert client.post(f"/backlog/{item.id}/edit/summary", data={**form, "priority": "critical"},
                       htmx=True).status_code == 200
    due = {s.kind: s.due_on for s in reload_item(app, item.id).stages}
    assert due[StageKind.RESOLUTION] == date(2026, 3, 6) and due[StageKind.REACTION] == date(2026, 3, 6)


def test_the_sla_clock_pauses_while_waiting_on_the_client(app, team, make_item, monkeypatch):
    """Do the SLA deadlines move on by exactly the working days the item waited for the client's approval?"""
    manager, romashka = team
    received = datetime(2026, 4, 6, 7, 0, tzinfo=timezone.utc)  # Monday
    item = make_item(romashka, manager, priority=Priority.HIGH, received_at=received, hours=Decimal("10"))
    before = {s.kind: s.due_on for s in item.stages}
    assert before[StageKind.RESOLUTION] == date(2026, 4, 8)
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        monkeypatch.setattr(backlog_service, "today", lambda: date(2026, 4, 6))
        for target in (ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
            workflow.change_status(stored, target, acting=acting, shown_status=stored.status.value)
        assert backlog_service.sla_state(stored, date(2026, 4, 9))[1].startswith("SLA на паузе")
        monkeypatch.setattr(backlog_service, "today", lambda: date(2026, 4, 9))  # Thursday: waited Tue–Thu
        approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
        backlog_service.approve_item(stored, contact_id=approver, channel=ApprovalChannel.EMAIL, acting=acting)
        db.session.commit()
        after = {s.kind: s.due_on for s in stored.stages}
        assert stored.sla_paused_days == 3 and stored.waiting_since is None
    assert after[StageKind.RESOLUTION] == date(2026, 4, 13)  # Wed + 3 working days
    assert after[StageKind.REACTION] == date(2026, 4, 9)


def test_sla_spans_read_from_the_regulation_text():
    """Are «4 часа», «1 рабочий день», «2 рабочих дня» and «по плану работ» read as working days?"""
    assert [backlog_service.sla_days(t) for t in ("1 час", "4 часа", "16 часов", "1 рабочий день",
                                                  "2 рабочих дня", "по плану работ")] == [0, 0, 2, 1, 2, None]


def test_overdue_stages_are_highlighted_and_listed(app, client, team, make_item, make_user):
    """Is a stage past its deadline marked on the item page, on «Мой день» and on the all-clients list?"""
    manager, romashka = team
    item = make_item(romashka, manager, priority=Priority.CRITICAL,
                     received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    client.login(manager)
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert "table-danger overdue" in page and "Срок реакции по SLA просрочен" in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "Просроченные этапы" in dashboard and item.key in dashboard
    lead = app.test_client()
    lead.login(make_user(Role.LEAD))
    overview = lead.get("/backlog/?overdue=1").get_data(as_text=True)
    assert "Согласовать объём: срок" in overview and item.key in overview


def test_lists_show_items_without_reading_their_texts(app, client, team, make_item, count_queries):
    """The lists of items (all clients', the client's, «Мой день»'s sections) show keys, titles and
    states: none reads the request or the spec, which may run to pages (issue 9), and none pays a
    query per row for them."""
    manager, romashka = team
    item = make_item(romashka, manager, title="Отчёт по остаткам",
                     received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    client.login(manager)
    for url in ("/backlog/", f"/clients/{romashka.id}/backlog/", "/"):
        with count_queries() as statements:
            page = client.get(url).get_data(as_text=True)
        assert item.key in page and "Отчёт по остаткам" in page, url
        items = [s for s in statements if "FROM backlog_items" in s or "JOIN backlog_items" in s]
        assert items and not [s for s in items if "request_text" in s or "acceptance_criteria" in s], url


def test_overdue_stages_on_my_day_follow_new_items_and_the_next_days(app, client, clock, team, make_item):
    """The list's statement is kept per user and day (issue 9); what it lists is not: an item
    overdue since the last visit shows at once, a deadline still ahead shows once it has passed."""
    manager, romashka = team

    def overdue_section() -> str:
        page = client.get("/").get_data(as_text=True)
        return re.search(r'<section id="overdue-stages-section"[\s\S]*?</section>', page).group(0)

    client.login(manager)
    first = make_item(romashka, manager, received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    fresh = make_item(romashka, manager)  # received now: its deadlines are ahead
    assert first.key in overdue_section() and fresh.key not in overdue_section()
    second = make_item(romashka, manager, received_at=datetime(2026, 2, 12, 7, tzinfo=timezone.utc))
    assert second.key in overdue_section()
    clock.shift(days=30)
    client.login(manager)  # a month on, the session has timed out
    assert fresh.key in overdue_section()


# --- editing --------------------------------------------------------------------------------------------------


def _open_summary(http, item_id: int) -> dict[str, str]:
    """The summary block's form as the browser would submit it unchanged."""
    html = http.get(f"/backlog/{item_id}/edit/summary", htmx=True).get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    data.update(re.findall(r'<select[^>]*name="([^"]+)"[\s\S]*?<option[^>]*value="([^"]*)" selected', html))
    data.setdefault("assignee_id", "")
    return {k: v for k, v in data.items() if k != "csrf_token"}


def test_two_people_editing_different_fields_both_keep_their_change(app, client, team, make_item, make_user):
    """If the manager renames an item while the lead assigns it, are both changes kept?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    lead, specialist = make_user(Role.LEAD), make_user(Role.SPECIALIST)
    other = app.test_client()
    client.login(manager)
    other.login(lead)
    mine, theirs = _open_summary(client, item.id), _open_summary(other, item.id)
    assert other.post(f"/backlog/{item.id}/edit/summary", data={**theirs, "assignee_id": str(specialist.id)},
                      htmx=True).status_code == 200
    assert client.post(f"/backlog/{item.id}/edit/summary", data={**mine, "title": "Отчёт по продажам v2",
                                                                 "priority": "high"}, htmx=True).status_code == 200
    stored = reload_item(app, item.id)
    assert (stored.title, stored.priority, stored.assignee_id) == ("Отчёт по продажам v2", Priority.HIGH, specialist.id)


def test_two_people_editing_the_same_field_get_a_conflict_with_both_values(app, client, team, make_item, make_user):
    """If two people retitle an item at once, does the second get 409 showing both titles?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    deputy = make_user(Role.ADMIN)
    other = app.test_client()
    client.login(manager)
    other.login(deputy)
    mine, theirs = _open_summary(client, item.id), _open_summary(other, item.id)
    other.post(f"/backlog/{item.id}/edit/summary", data={**theirs, "title": "Их название"}, htmx=True)
    response = client.post(f"/backlog/{item.id}/edit/summary", data={**mine, "title": "Моё название"}, htmx=True)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Их название" in html and "Моё название" in html
    assert reload_item(app, item.id).title == "Их название"


# --- time -------------------------------------------------------------------------------------------------------


def test_logged_hours_fill_the_bar_and_flag_an_overrun(app, client, team, make_item):
    """Do «+ часы» entries add up on the item and flag spending beyond the estimate?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("2"))
    client.login(manager)
    for hours in ("1,5", "1"):
        response = client.post(f"/backlog/{item.id}/time", data={
            "time-spent_on": "2026-01-15", "time-hours": hours, "time-comment": "Отладка", "time-billable": "y"},
            htmx=True)
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2,5 из 2 ч" in html and "перерасход" in html
    assert reload_item(app, item.id).spent_hours == Decimal("2.50")
    bad = client.post(f"/backlog/{item.id}/time", data={"time-spent_on": "2026-01-15", "time-hours": "30"}, htmx=True)
    assert bad.status_code == 422 and "Часы за день: больше нуля и не больше 24." in messages(bad)


def test_hours_logged_answer_with_the_time_block_alone(app, client, team, make_item, count_queries):
    """«+ часы» answers with the time block: the item's similar past items, history and files, which
    only the whole page draws, are not looked up for it (issue 9); the whole page still shows them."""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("2"))
    client.login(manager)
    with count_queries() as statements:
        response = client.post(f"/backlog/{item.id}/time", data={
            "time-spent_on": "2026-01-15", "time-hours": "1", "time-comment": "Отладка"}, htmx=True)
    assert response.status_code == 200 and "1 из 2 ч" in response.get_data(as_text=True)
    read = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in read if any(f"FROM {table}" in s for table in (
        "backlog_item_words", "audit_events", "attachments"))], read
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    history = page.split('id="item-history"')[1].split("</section>")[0]
    assert "создание" in history and "Изменений ещё не было" not in history


def test_a_stages_row_is_drawn_from_the_item_and_the_users_rights_alone(app, client, team, make_item, count_queries):
    """A stage's row, shown, marked done or saved, reads the item, the stage and the user's rights: not
    the terms in force and the approval behind the status moves, nor the contacts of the approval
    form, which only other blocks draw (issue 9: 8 statements and 8.6 ms on the benchmark data)."""
    manager, romashka = team
    item = make_item(romashka, manager, received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    stage = reload_item(app, item.id).stages[0]
    client.login(manager)
    with count_queries() as statements:
        row = client.get(f"/backlog/{item.id}/stages/{stage.id}", htmx=True).get_data(as_text=True)
    assert f'id="stage-{stage.id}"' in row and "просрочен" in row and "Изменить" in row and "Выполнен" in row
    unneeded = ("FROM regulations", "FROM approvals", "FROM contacts", "FROM regulation_standard")
    assert not [s for s in statements if any(table in s for table in unneeded)], statements
    with count_queries() as statements:
        done = client.post(f"/backlog/{item.id}/stages/{stage.id}/done", data={"version": stage.version, "done": "1"},
                           htmx=True).get_data(as_text=True)
    assert "выполнен" in done and "Не выполнен" in done
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")
                and any(table in s for table in unneeded)], statements
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert 'hx-post="/backlog/%d/status"' % item.id in page or f"/backlog/{item.id}/status" in page


# A route draws these blocks of backlog/detail.html from ``_item_context(item, block)``; the names a
# route passes itself (or that a block reads only when given) are the rest.
_BLOCKS_DRAWN_ALONE = {"summary": ("summary_view",), "budget": ("budget_view",), "request": ("request_view",),
                       "spec": ("spec_view",), "estimate": ("estimate",), "approval": ("approval",),
                       "time": ("time",), "stages": ("stages",), "stage": ("stage_row",)}
_PASSED_BY_THE_ROUTE = {"stage", "stage_message", "time_logged", "link_outcome", "similar", "form", "conflict",
                        "workflow_message"}


def test_each_block_drawn_alone_gets_every_name_it_reads(app, team, make_item):
    """A block drawn alone gets only its own part of the item's context (issue 9); a name a block
    reads and that part lacks would print as nothing, silently. Every block's free names, read from
    the template itself, are in its part."""
    from flask_login import login_user
    from jinja2 import meta, nodes

    from webapp.blueprints.backlog import routes

    manager, romashka = team
    item_id = make_item(romashka, manager).id
    env = app.jinja_env
    blocks = {block.name: block for block in env.parse(env.loader.get_source(env, routes.DETAIL)[0]).find_all(nodes.Block)}
    with app.test_request_context():
        login_user(db.session.get(User, manager.id))
        item = db.session.get(BacklogItem, item_id)
        for block, drawn in _BLOCKS_DRAWN_ALONE.items():
            given = set(routes._item_context(item, block))
            for name in drawn:
                body = nodes.Template(blocks[name].body, lineno=1).set_environment(env)
                read = meta.find_undeclared_variables(body) - set(env.globals) - _PASSED_BY_THE_ROUTE
                assert read <= given, (block, name, read - given)


def test_new_request_offers_the_clients_whose_requests_i_take(app, client, make_user, make_client, count_queries):
    """«Новая заявка» asks «Чья заявка?» among the clients I lead or stand in for (an admin: all of
    them), in alphabetical order, with no query per client (issue 9: it loaded every client)."""
    manager, other = make_user(Role.MANAGER), make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка")
    make_client(other, deputy=manager, short_name="Вектор")
    make_client(other, short_name="Чужой")
    client.login(manager)
    with count_queries() as statements:
        page = client.get("/backlog/new").get_data(as_text=True)
    listed = re.findall(r'<li><a href="/clients/\d+/backlog/new">([^<]+)</a></li>', page)
    assert listed == ["Вектор", "Ромашка"]
    chosen = [s for s in statements if "FROM clients" in s]  # by the database, names only, no team joined
    assert len(chosen) == 1 and "clients.deputy_id" in chosen[0] and "users" not in chosen[0].split("FROM", 1)[1]
    few = len(statements)
    for n in range(5):
        make_client(manager, short_name=f"Клиент {n}")
    with count_queries() as statements:
        assert len(re.findall(r"/backlog/new\">", client.get("/backlog/new").get_data(as_text=True))) == 7
    assert len(statements) == few
    admin = app.test_client()
    admin.login(make_user(Role.ADMIN))
    assert "Чужой" in admin.get("/backlog/new").get_data(as_text=True)


# --- the client's order ----------------------------------------------------------------------------------------------


def _order(app, client_id: int) -> list[str]:
    with app.app_context():
        return [i.title for i in db.session.scalars(sa.select(BacklogItem).where(BacklogItem.client_id == client_id)
                                                    .order_by(BacklogItem.rank, BacklogItem.id))]


def test_reordering_moves_one_item_and_keeps_the_rest(app, client, team, make_item):
    """Does moving C before A give C, A, B — changing the moved item's rank only?"""
    manager, romashka = team
    a, b, c = (make_item(romashka, manager, title=t) for t in "ABC")
    client.login(manager)
    assert client.post(f"/backlog/{c.id}/rank", data={"before": str(a.id)}, htmx=True).status_code == 200
    assert _order(app, romashka.id) == ["C", "A", "B"]
    assert (reload_item(app, a.id).rank, reload_item(app, b.id).rank) == (a.rank, b.rank)
    client.post(f"/backlog/{c.id}/rank", data={"after": str(b.id)}, htmx=True)
    assert _order(app, romashka.id) == ["A", "B", "C"]


def test_two_people_reordering_at_once_lose_neither_move(app, client, team, make_item, make_user):
    """If the manager moves C to the top while the deputy moves A to the end, do both moves hold?"""
    manager, romashka = team
    a, b, c, d = (make_item(romashka, manager, title=t) for t in "ABCD")
    other = app.test_client()
    client.login(manager)
    other.login(make_user(Role.ADMIN))
    client.post(f"/backlog/{c.id}/rank", data={"before": str(a.id)}, htmx=True)
    other.post(f"/backlog/{a.id}/rank", data={"after": str(d.id)}, htmx=True)
    assert _order(app, romashka.id) == ["C", "B", "D", "A"]


def test_a_used_up_gap_respaces_the_list(app, team, make_item):
    """After many moves into one spot, does the order still come out right?"""
    manager, romashka = team
    items = [make_item(romashka, manager, title=str(n)) for n in range(3)]
    with app.app_context():
        acting = db.session.get(User, manager.id)
        first = db.session.get(BacklogItem, items[0].id)
        for _ in range(12):  # always between the first two: halves the gap each time
            mover = db.session.scalar(sa.select(BacklogItem).where(BacklogItem.client_id == romashka.id)
                                      .order_by(BacklogItem.rank.desc()).limit(1))
            backlog_service.move_rank(mover, after=first, acting=acting)
        db.session.commit()
    assert _order(app, romashka.id)[0] == "0" and len(set(_order(app, romashka.id))) == 3


def test_fixing_priorities_records_who_agreed_and_the_order(app, client, team, make_item):
    """Does «Зафиксировать приоритеты» record the open items' order, the client's person and when?"""
    manager, romashka = team
    a, b = make_item(romashka, manager, title="A"), make_item(romashka, manager, title="B")
    client.login(manager)
    client.post(f"/backlog/{b.id}/rank", data={"before": str(a.id)}, htmx=True)
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    response = client.post(f"/clients/{romashka.id}/backlog/priorities", data={"contact_id": str(approver),
                                                                               "comment": "На планёрке"})
    assert response.status_code == 303
    with app.app_context():
        agreement = db.session.scalar(sa.select(PriorityAgreement))
        assert [row["key"] for row in agreement.items] == [b.key, a.key]
        assert agreement.contact.full_name == DECISION_MAKER["full_name"] and agreement.recorded_by_id == manager.id
    assert "Согласованные порядки" in client.get(f"/clients/{romashka.id}/backlog/").get_data(as_text=True)


def test_filters_live_in_the_url(client, team, make_item):
    """Do ?status= and ?waiting= narrow the client's list?"""
    manager, romashka = team
    make_item(romashka, manager, title="Новая задача")
    waiting = make_item(romashka, manager, title="Ждёт клиента", hours=Decimal("10"))
    client.login(manager)
    _move(client, waiting.id, "estimate", "new")
    _move(client, waiting.id, "approval", "estimate")
    on_client = client.get(f"/clients/{romashka.id}/backlog/?waiting=client").get_data(as_text=True)
    assert "Ждёт клиента" in on_client and "Новая задача" not in on_client
    on_us = client.get(f"/clients/{romashka.id}/backlog/?waiting=us").get_data(as_text=True)
    assert "Новая задача" in on_us and "Ждёт клиента" not in on_us
    make_item(romashka, manager, title="Бухгалтерская задача", budget_block="Бухгалтерия")
    by_block = client.get(f"/clients/{romashka.id}/backlog/?budget=Бухгалтерия").get_data(as_text=True)
    assert "Бухгалтерская задача" in by_block and "Новая задача" not in by_block


# --- scope ---------------------------------------------------------------------------------------------------------


def test_a_specialist_sees_their_items_and_their_clients_only(app, client, team, make_item, make_user, make_client):
    """Does a specialist open their item and its client, log time and move it, and get 404 elsewhere?"""
    manager, romashka = team
    specialist = make_user(Role.SPECIALIST)
    mine = make_item(romashka, manager, assignee_id=specialist.id, hours=Decimal("2"))
    not_mine = make_item(romashka, manager)
    elsewhere = make_client(manager, short_name="Вектор")
    other_item = make_item(elsewhere, manager)
    client.login(specialist)
    assert client.get(f"/backlog/{mine.id}").status_code == 200
    assert client.get(f"/clients/{romashka.id}").status_code == 200
    listing = client.get(f"/clients/{romashka.id}/backlog/").get_data(as_text=True)
    assert mine.key in listing and not_mine.key not in listing
    for url in (f"/backlog/{not_mine.id}", f"/backlog/{other_item.id}", f"/clients/{elsewhere.id}",
                f"/clients/{elsewhere.id}/backlog/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/backlog/{mine.id}/time", data={"time-spent_on": "2026-01-15", "time-hours": "1"},
                       htmx=True).status_code == 200
    assert _move(client, mine.id, "in_progress", "new").status_code == 303
    assert client.post(f"/backlog/{mine.id}/estimate", data={"estimate-hours": "1"}).status_code == 403
    assert "Мои задачи" in client.get("/").get_data(as_text=True)


def test_an_accountant_reads_but_changes_nothing(client, team, make_item, login_as):
    """Does an accountant see items and get 403 on a status move and on «+ часы»?"""
    manager, romashka = team
    item = make_item(romashka, manager)
    login_as(Role.ACCOUNTANT)
    assert client.get(f"/backlog/{item.id}").status_code == 200
    assert _move(client, item.id, "spec", "new").status_code == 403
    assert client.post(f"/backlog/{item.id}/time", data={"time-spent_on": "2026-01-15", "time-hours": "1"}).status_code == 403


# --- the seams: «Мой день», the timeline --------------------------------------------------------------------------------


def test_my_day_lists_estimates_waiting_on_the_client(app, client, team, make_item):
    """Does «Мой день» show an estimate waiting for approval for days, with how many?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        for target in (ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
            workflow.change_status(stored, target, acting=acting, shown_status=stored.status.value)
        stored.status_changed_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
        db.session.commit()
    client.login(manager)
    html = client.get("/").get_data(as_text=True)
    assert "Ждут согласования клиента" in html and item.key in html and "ждёт согласования" in html


def test_an_estimate_shows_as_waiting_from_its_second_calendar_day(app, client, clock, team, make_item):
    """«Ждут согласования» counts calendar days, as its rows do («ждёт согласования 2 дня»): an
    estimate sent late on the 23rd waits two days at a minute past midnight of the 25th; one sent
    just after midnight of the 24th waits one, and is not listed yet."""
    manager, romashka = team
    late, early = (make_item(romashka, manager, hours=Decimal("10"), title=title) for title in ("Поздняя", "Ранняя"))
    with app.app_context():
        acting = db.session.get(User, manager.id)
        for item, sent in ((late, datetime(2026, 11, 23, 23, 50)), (early, datetime(2026, 11, 24, 0, 10))):
            stored = db.session.get(BacklogItem, item.id)
            for target in (ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
                workflow.change_status(stored, target, acting=acting, shown_status=stored.status.value)
            stored.status_changed_at = sent.replace(tzinfo=MOSCOW)
        db.session.commit()
    clock.travel(datetime(2026, 11, 25, 0, 1))
    client.login(manager)
    html = client.get("/").get_data(as_text=True)
    assert late.key in html and "ждёт согласования 2 дня" in html
    assert early.key not in html
    clock.travel(datetime(2026, 11, 26, 0, 1))
    client.login(manager)  # a day on, the session has timed out
    assert early.key in client.get("/").get_data(as_text=True)


def test_the_client_timeline_shows_intake_moves_and_approvals(app, client, team, make_item):
    """Does the client card's history show the new request, its moves and the approval?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    client.login(manager)
    _move(client, item.id, "estimate", "new")
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    client.post(f"/backlog/{item.id}/approval", data={"approval-contact_id": str(approver), "approval-channel": "email"})
    html = client.get(f"/clients/{romashka.id}").get_data(as_text=True)
    assert "Новая заявка" in html and "Задача: передача на оценку" in html and "Согласована клиентом" in html


# --- query counts ----------------------------------------------------------------------------------------------------------


def test_backlog_pages_queries_do_not_grow_with_rows(app, client, team, make_item, count_queries, make_user):
    """Are the client's backlog, the all-clients backlog and an item page served by the same number of
    queries for 3 and 20 items (with stages, estimates and time)?"""
    manager, romashka = team
    specialist = make_user(Role.SPECIALIST)
    admin = make_user(Role.ADMIN)
    first = make_item(romashka, manager, hours=Decimal("3"), assignee_id=specialist.id)
    for _ in range(2):  # received long ago, as the many below: «Мой день» has overdue stages in both
        make_item(romashka, manager, hours=Decimal("3"), assignee_id=specialist.id,
                  received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    client.login(admin)

    def measure():
        app.extensions.get("cache", {}).clear()  # both measures start with no per-process copies
        counts = []
        for url in (f"/clients/{romashka.id}/backlog/", "/backlog/", f"/backlog/{first.id}", "/"):
            with count_queries() as queries:
                assert client.get(url).status_code == 200, url
            counts.append(len(queries))
        return counts

    small = measure()
    for _ in range(17):
        make_item(romashka, manager, hours=Decimal("3"), assignee_id=specialist.id,
                  received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, first.id)
        for n in range(5):
            backlog_service.estimate_item(stored, hours=Decimal(3 + n), acting=acting)
            backlog_service.log_time(stored, spent_on=date(2026, 1, 15), hours=Decimal("1"), acting=acting)
        db.session.commit()
    assert measure() == small


# --- pages with data are valid --------------------------------------------------------------------------------------------------


def test_backlog_pages_with_data_and_refusals_are_valid_html(app, client, team, make_item, make_user):
    """Are the lists, a busy item page, its inline forms and its refusals valid, labelled HTML?"""
    from tests.html_checks import assert_valid

    manager, romashka = team
    specialist = make_user(Role.SPECIALIST)
    item = make_item(romashka, manager, hours=Decimal("10"), assignee_id=specialist.id, priority=Priority.CRITICAL,
                     received_at=datetime(2026, 1, 12, 7, tzinfo=timezone.utc))
    make_item(romashka, manager, title="Вторая")
    client.login(manager)
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    client.post(f"/backlog/{item.id}/approval", data={"approval-contact_id": str(approver), "approval-channel": "email"})
    client.post(f"/backlog/{item.id}/estimate", data={"estimate-hours": "20", "estimate-note": "Риск"})
    client.post(f"/backlog/{item.id}/time", data={"time-spent_on": "2026-01-15", "time-hours": "12"})
    stage_id = reload_item(app, item.id).stages[0].id
    for url in (f"/backlog/{item.id}", f"/clients/{romashka.id}/backlog/", "/backlog/", "/backlog/new",
                f"/clients/{romashka.id}/backlog/new", "/", f"/clients/{romashka.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_valid(response)
    for url in (f"/backlog/{item.id}/edit/summary", f"/backlog/{item.id}/edit/spec", f"/backlog/{item.id}/edit/request",
                f"/backlog/{item.id}/stages/{stage_id}?edit=1", f"/clients/{romashka.id}/backlog/?status=all"):
        response = client.get(url, htmx=True)
        assert response.status_code == 200, url
        assert_valid(response)
    for url, data in ((f"/backlog/{item.id}/estimate", {"estimate-hours": "x"}),
                      (f"/backlog/{item.id}/approval", {"approval-channel": "email"}),
                      (f"/backlog/{item.id}/time", {"time-hours": "-1"}),
                      (f"/backlog/{item.id}/stages", {"new-stage-name": ""}),
                      (f"/backlog/{item.id}/edit/summary", {"title": "", "version": "1"})):
        response = client.post(url, data=data, htmx=True)
        assert response.status_code == 422, url
        assert_valid(response)
    refused = _move(client, item.id, "accepted", "estimate")
    assert refused.status_code == 422
    assert_valid(refused)
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert "перерасход" not in page and "12 из 20 ч" in page
    assert "Согласование аннулировано новой оценкой" not in page  # the item was not in work yet


def test_work_in_progress_whose_approval_was_voided_says_so(app, client, team, make_item):
    """If work has started and a re-estimate voids the approval, does the item page ask for a new one?"""
    manager, romashka = team
    item = make_item(romashka, manager, hours=Decimal("10"))
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, item.id)
        approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
        backlog_service.approve_item(stored, contact_id=approver, channel=ApprovalChannel.MEETING, acting=acting)
        workflow.change_status(stored, ItemStatus.IN_PROGRESS, acting=acting, shown_status="approved")
        backlog_service.estimate_item(stored, hours=Decimal("30"), acting=acting)
        db.session.commit()
        assert stored.status == ItemStatus.IN_PROGRESS and stored.approval_voided_in_work
    client.login(manager)
    assert "Согласование аннулировано новой оценкой" in client.get(f"/backlog/{item.id}").get_data(as_text=True)


@pytest.mark.parametrize("hours, cost, threshold_hours, threshold_amount, needed", [
    ("3.99", "13965", "4", None, False),
    ("4", "14000", "4", None, True),          # «от 4 ч»: four hours already need the decision maker
    ("2", "60000", None, "50000", True),      # money alone decides when the regulation names money only
    ("2", "7000", "4", "50000", False),
    ("1", "100", None, None, True),           # no threshold at all: every task is approved
], ids=["below-hours", "at-hours", "above-money", "below-both", "no-threshold"])
def test_the_approval_threshold_reads_hours_and_money(hours, cost, threshold_hours, threshold_amount, needed):
    """Does «согласование ЛПР от N ч или от N ₽» ask for approval exactly from the threshold on?"""
    from webapp.models.backlog import needs_approval

    as_decimal = lambda v: Decimal(v) if v is not None else None  # noqa: E731
    assert needs_approval(Decimal(hours), Decimal(cost), as_decimal(threshold_hours),
                          as_decimal(threshold_amount)) is needed


def test_the_signed_regulation_sets_the_threshold(app, client, team, make_item):
    """With a signed regulation allowing up to 20 hours, does a 10-hour item start without approval?"""
    from webapp.models import RegulationStatus
    from webapp.saving import Edit
    from webapp.services import regulations as regulation_service

    manager, romashka = team
    with app.app_context():
        acting = db.session.get(User, manager.id)
        draft = regulation_service.create_draft(db.session.get(Client, romashka.id), acting=acting)
        regulation_service.update_draft(draft, Edit({"approval_threshold_hours": Decimal("20")}, draft.version),
                                        acting=acting)
        workflow.change_status(draft, RegulationStatus.AGREED, acting=acting, shown_status="draft",
                               version=draft.version)
        workflow.change_status(draft, RegulationStatus.SIGNED, acting=acting, shown_status="agreed",
                               version=draft.version, values={"signed_on": date(2026, 2, 2)})
        db.session.commit()
    item = make_item(romashka, manager, hours=Decimal("10"))
    client.login(manager)
    assert _move(client, item.id, "in_progress", "new").status_code == 303
    big = make_item(romashka, manager, hours=Decimal("20"))
    assert _move(client, big.id, "in_progress", "new").status_code == 422


def test_a_voice_message_on_an_item_plays_there_and_stays_in_the_items_scope(app, client, team, make_item,
                                                                             make_user):
    """Does a voice message uploaded to an item show on its page, and answer 404 to a specialist of another item?"""
    import io

    from tests.media_samples import gen_ogg_opus
    from webapp.models import Attachment

    manager, romashka = team
    specialist, stranger = make_user(Role.SPECIALIST), make_user(Role.SPECIALIST)
    item = make_item(romashka, manager, assignee_id=specialist.id)
    client.login(manager)
    response = client.post(f"/files/backlog_item/{item.id}", data={"file": [(io.BytesIO(gen_ogg_opus()), "голосовое.ogg")]},
                           content_type="multipart/form-data", htmx=True)
    assert response.status_code == 200
    with app.app_context():
        voice_id = db.session.scalar(sa.select(Attachment.id).where(Attachment.owner_type == "backlog_item"))
    page = client.get(f"/backlog/{item.id}").get_data(as_text=True)
    assert "голосовое.ogg" in page and "<audio" in page
    assigned = app.test_client()
    assigned.login(specialist)
    assert assigned.get(f"/files/{voice_id}").status_code == 200
    other = app.test_client()
    other.login(stranger)
    assert other.get(f"/files/{voice_id}").status_code == 404


@pytest.mark.parametrize("filters", [{}, {"waiting": "us"}, {"waiting": "client"}, {"assignee": "none"},
                                     {"overdue": "1"}, {"status": "closed"}, {"status": "new"}, {"status": "all"}])
def test_the_all_clients_list_counts_the_rows_it_pages(app, team, make_item, make_user, filters):
    """The page count is written its own way (open items «in OPEN», which the status index counts
    fast, while the page walks «not closed»): does it count the rows the pages show?"""
    manager, romashka = team
    items = [make_item(romashka, manager, title=f"Задача {n}", hours=Decimal("2") if n % 2 else None) for n in range(6)]
    with app.app_context():
        for item_id, status in ((items[0].id, ItemStatus.CANCELLED), (items[1].id, ItemStatus.ACCEPTED),
                                (items[2].id, ItemStatus.ON_HOLD)):  # two closed, one open though paused
            db.session.execute(sa.update(BacklogItem).where(BacklogItem.id == item_id).values(status=status))
        db.session.commit()
    lead = make_user(Role.LEAD)
    with app.test_request_context():
        user = db.session.get(User, lead.id)
        wanted = backlog_service.ItemFilters(**filters)
        day = date(2026, 4, 1)

        def count(query):
            return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))

        paged = count(backlog_service.all_backlog_query(user, wanted, day))
        assert count(backlog_service.all_backlog_query(user, wanted, day, counting=True)) == paged
        if set(filters) <= {"status"}:
            assert paged == {"": 4, "closed": 2, "all": 6, "new": 3}[filters.get("status", "")]


def test_the_all_clients_list_counts_from_the_copy_what_a_scan_counts(app, client, team, make_item, make_user,
                                                                        make_client):
    """The all-clients list takes its count from the per-process copy of the open items by assignee
    and status where the copy holds the answer: for every combination of the status, «ждёт» and
    assignee filters, is it the count a scan of the list gives (or none, where the copy cannot
    tell)? And does the page print it?"""
    import itertools

    manager, romashka = team
    specialist = make_user(Role.SPECIALIST)
    lead = make_user(Role.LEAD)
    vektor = make_client(manager, short_name="Вектор")
    statuses = [ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.APPROVAL, ItemStatus.IN_PROGRESS, ItemStatus.ON_HOLD,
                ItemStatus.DONE, ItemStatus.ACCEPTED, ItemStatus.CANCELLED]
    made = [make_item(romashka if n % 2 else vektor, manager, title=f"Задача {n}",
                      assignee_id=(specialist.id, manager.id, None)[n % 3]) for n in range(16)]
    with app.app_context():
        for n, item in enumerate(made):
            db.session.get(BacklogItem, item.id).status = statuses[n % len(statuses)]
        db.session.commit()
    counted = 0
    with app.test_request_context("/backlog/"):
        for who in (lead, manager):
            user = db.session.get(User, who.id)
            for status, waiting, assignee in itertools.product(
                    ("", "open", "new", "approval", "done", "accepted", "closed", "all", "что-то"), ("", "us", "client"),
                    ("", "me", "none", str(specialist.id), "кто-то")):
                filters = backlog_service.ItemFilters(status=status, waiting=waiting, assignee=assignee)
                scanned = db.session.scalar(sa.select(sa.func.count()).select_from(
                    backlog_service.all_backlog_query(user, filters, date(2026, 11, 27), counting=True).subquery()))
                from_copy = backlog_service.counted_open(user, filters)
                assert from_copy in (None, scanned), (who.role, status, waiting, assignee, from_copy, scanned)
                counted += from_copy is not None
            for kept_out in ({"client": str(romashka.id)}, {"budget": "Сопровождение"}, {"overdue": "1"}):
                assert backlog_service.counted_open(user, backlog_service.ItemFilters(**kept_out)) is None
    assert counted > 150  # most combinations come from the copy
    client.login(lead)
    page = client.get("/backlog/?waiting=us").get_data(as_text=True)
    waiting_on_us = sum(1 for n in range(16) if statuses[n % len(statuses)] in
                        {ItemStatus.NEW, ItemStatus.SPEC, ItemStatus.IN_PROGRESS})
    assert f"Всего: {waiting_on_us}" in page
