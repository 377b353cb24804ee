"""The regulation editor in a real browser: the navigator leads to a folded group and stays in view,
a group is edited in place and shows its new value without a reload, and the status buttons right
after a save are not taken for someone else's change."""

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import Client, Regulation, RegulationStatus, Role, User
from webapp.services import regulations as regulation_service

TABLET = {"width": 820, "height": 1180}


def _draft(app, make_client, manager) -> int:
    """A draft regulation of a new client of ``manager``; its id."""
    record = make_client(manager, short_name="Ромашка")
    with app.app_context():
        draft = regulation_service.create_draft(db.session.get(Client, record.id),
                                                acting=db.session.get(User, manager.id))
        db.session.commit()
        return draft.id


def test_a_group_is_edited_in_place_and_saved_without_a_reload(app, page, login, axe, make_user, make_client):
    """«Изменить» on «Каналы связи и рабочее время», a new value, «Сохранить»: does the group show it at
    once, the page never reloading, the focus back on «Изменить» — and does «Согласовано с клиентом»
    right after go through?"""
    manager = make_user(Role.MANAGER)
    regulation_id = _draft(app, make_client, manager)
    login(page, manager)
    page.goto(f"/regulations/{regulation_id}")
    page.evaluate("window.__noReload = true")
    group = page.locator("#group-channels")
    page.get_by_role("link", name="Каналы связи и рабочее время").click()
    expect(group.locator("details")).to_have_attribute("open", "")
    page.get_by_role("button", name="Изменить раздел «Каналы связи и рабочее время»").click()
    expect(group.get_by_label("Каналы связи (по одному в строке)")).to_be_focused()
    violations = axe(page)
    assert not violations, f"group form open:\n{violations}"
    hours = group.get_by_label("Рабочее время")
    hours.fill("пн–пт с 9:00 до 18:00 по Москве")
    group.get_by_role("button", name="Сохранить").click()
    expect(group.locator("form")).to_have_count(0)
    expect(group).to_contain_text("пн–пт с 9:00 до 18:00 по Москве")
    expect(group.get_by_role("status")).to_have_text("Сохранено")
    expect(page.get_by_role("button", name="Изменить раздел «Каналы связи и рабочее время»")).to_be_focused()
    assert page.evaluate("window.__noReload") is True
    page.get_by_role("button", name="Согласовано с клиентом").click()
    expect(page.get_by_text("Редакция отмечена как согласованная с клиентом.")).to_be_visible()
    with app.app_context():
        stored = db.session.get(Regulation, regulation_id)
        assert stored.status == RegulationStatus.AGREED and stored.working_hours == "пн–пт с 9:00 до 18:00 по Москве"


def test_navigator_anchors_unfold_their_group_and_stay_in_view_on_a_tablet(app, page, login, make_user,
                                                                          make_client):
    """At 820 px, does each navigator link bring its group into view unfolded, the navigator still
    visible above it, and does a page opened at a group's anchor show it unfolded?"""
    page.set_viewport_size(TABLET)
    manager = make_user(Role.MANAGER)
    regulation_id = _draft(app, make_client, manager)
    login(page, manager)
    page.goto(f"/regulations/{regulation_id}")
    nav = page.get_by_role("navigation", name="Разделы регламента")
    for title, key in [("Дополнительные разделы", "sections"), ("Стороны и ответственные лица", "parties"),
                       ("Эскалация", "escalation")]:
        nav.get_by_role("link", name=title).click()
        group = page.locator(f"#group-{key}")
        expect(group.locator("details")).to_have_attribute("open", "")
        expect(group.get_by_role("heading", name=title)).to_be_in_viewport()
        expect(nav).to_be_in_viewport()
        assert page.url.endswith(f"#group-{key}")
    page.goto(f"/regulations/{regulation_id}#group-sla")
    expect(page.locator("#group-sla details")).to_have_attribute("open", "")
    expect(page.locator("#group-contact details")).not_to_have_attribute("open", "")
