"""A live meeting in a real browser: attendance, a decision typed and saved as it is typed (also
across a dropped connection), an action item turned into a backlog item, an estimate approved by the
boss present, the meeting finished — and the minutes DOCX holding it all."""

from datetime import datetime, timezone
from decimal import Decimal

from playwright.sync_api import expect

from tests.documents_helpers import all_text, read_docx
from tests.meetings_fixtures import load_meeting
from webapp.extensions import db
from webapp.models import ApprovalChannel, BacklogItem, ItemStatus, User
from webapp.services import meetings as meeting_service
from webapp.services import workflow


def test_a_live_meeting_from_attendance_to_the_minutes(app, page, login, team, plan, make_item, axe, console):
    """Can I run a whole planning meeting on the page and get minutes that say what we agreed?"""
    item = make_item(team.client, team.manager, title="Отчёт по складу", hours=Decimal("8"))
    with app.app_context():
        acting = db.session.get(User, team.manager.id)
        stored = db.session.get(BacklogItem, item.id)
        for target in (ItemStatus.ESTIMATE, ItemStatus.APPROVAL):
            workflow.change_status(stored, target.value, acting=acting, shown_status=stored.status.value)
        db.session.commit()
    meeting_id = plan(team, starts_at=datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc))
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, team.manager)
    page.goto(f"/meetings/{meeting_id}")

    page.get_by_role("button", name="Отметить присутствие Ковалёва Анна Сергеевна").click()
    expect(page.locator(".attendee", has_text="Ковалёва").locator(".badge")).to_have_text("присутствует")

    point = page.locator(".agenda-point", has_text="Согласовать оценку")
    decision = point.get_by_label("Решили")
    decision.fill("Оценку 8 часов согласовать.")
    expect(point.locator(".save-state", has=page.locator("input")).nth(1)).to_contain_text("сохранено")

    page.context.set_offline(True)  # the connection drops while typing the notes
    notes = point.get_by_label("Слушали")
    notes.fill("Склад просит отчёт к понедельнику.")
    expect(point.locator(".save-status").first).to_contain_text("нет связи")
    expect(notes).to_have_value("Склад просит отчёт к понедельнику.")
    page.context.set_offline(False)
    expect(point.locator(".save-status").first).to_have_text("сохранено", timeout=15_000)
    # Chromium logs the request that the dropped connection failed: that one was meant to fail.
    console.errors[:] = [e for e in console.errors if "ERR_INTERNET_DISCONNECTED" not in e]

    page.get_by_label("Оценка").select_option(label="ROMASHKA-1 Отчёт по складу")
    page.get_by_label("Согласовал (присутствующий ЛПР)").select_option(label="Ковалёва Анна Сергеевна")
    page.get_by_role("button", name="Согласовать оценку", exact=True).click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).filter(has_text="согласована")).to_be_visible()

    page.locator("#action-what").fill("Прислать пример отчёта")
    page.locator("#action-who").select_option(label="Ковалёва Анна Сергеевна (клиент)")
    page.locator("#action-due_on").fill("2026-11-30")
    page.get_by_role("button", name="Добавить поручение").click()
    expect(page.locator(".action-item")).to_have_count(1)
    page.get_by_role("button", name="В бэклог поручение 1").click()
    expect(page.locator(".action-item").get_by_role("link", name="Задача ROMASHKA-2")).to_be_visible()
    assert not (violations := axe(page)), str(violations)

    page.get_by_role("button", name="Завершить встречу").click()
    expect(page.get_by_text("Протокол №\u00a01").first).to_be_visible()

    with app.app_context():
        meeting = load_meeting(meeting_id)
        assert meeting.minutes_number == 1
        [point_row] = [p for p in meeting.points if p.title.startswith("Согласовать оценку")]
        assert point_row.notes == "Склад просит отчёт к понедельнику."
        approved = db.session.get(BacklogItem, item.id)
        assert approved.status == ItemStatus.APPROVED and approved.approval.channel == ApprovalChannel.MEETING
    docx = page.request.get(f"/meetings/{meeting_id}/minutes.docx")
    text = all_text(read_docx(docx.body()))
    assert "ПРОТОКОЛ" in text and "Ковалёва Анна Сергеевна, Генеральный директор" in text
    assert "СЛУШАЛИ: Склад просит отчёт к понедельнику." in text and "РЕШИЛИ: Оценку 8 часов согласовать." in text
    assert "Прислать пример отчёта" in text and "30.11.2026" in text


def test_text_typed_before_the_scripts_ran_is_saved(app, page, login, team, plan):
    """On a slow laptop the page shows before its scripts run: is a decision typed in that moment
    saved once they do, instead of staying unsent with no sign of it?"""
    meeting_id = plan(team, starts_at=datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc))
    with app.app_context():
        meeting_service.add_point(load_meeting(meeting_id), title="Отчёт по складу",
                                  acting=db.session.get(User, team.manager.id))
        db.session.commit()
    login(page, team.manager)
    held = []
    page.route("**/js/app.js", lambda route: held.append(route))  # the script arrives late
    page.goto(f"/meetings/{meeting_id}", wait_until="commit")
    point = page.locator(".agenda-point").first
    point.get_by_label("Решили").fill("Решение, набранное до загрузки скриптов.")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    expect(point.locator(".save-state", has=page.locator("input")).nth(1)).to_contain_text("сохранено")
    with app.app_context():
        assert load_meeting(meeting_id).points[0].decision == "Решение, набранное до загрузки скриптов."


def test_taking_a_point_off_the_agenda_asks_first(app, page, login, team, plan, console):
    """«убрать» on a point asks «Убрать пункт из повестки?»: declined, the point stays; accepted, it
    goes (every button with ``data-confirm`` asks its question before acting)."""
    meeting_id = plan(team, starts_at=datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc))
    login(page, team.manager)
    page.goto(f"/meetings/{meeting_id}")
    points = page.locator(".agenda-point")
    count = points.count()
    page.locator("#point-title").fill("Сверка остатков")
    page.get_by_role("button", name="Добавить вопрос").click()
    expect(points).to_have_count(count + 1)
    remove = page.get_by_role("button", name="убрать пункт Сверка остатков")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    remove.click()
    page.wait_for_timeout(300)
    assert asked == ["Убрать пункт из повестки?"]
    expect(points).to_have_count(count + 1)

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    remove.click()
    expect(points).to_have_count(count)
    assert len(asked) == 2
