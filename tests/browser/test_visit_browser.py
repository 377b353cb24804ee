"""Ready for the client visit, in a real browser at a laptop's and a tablet's size: a contact logged in
three actions, nothing stale after a save, no unsaved work lost, touch targets a finger can hit."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from webapp.extensions import db
from webapp.models import Channel, Client, Role, User
from webapp.models.types import utcnow
from webapp.services import clients as client_service

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
SIZES = pytest.mark.parametrize("size", [LAPTOP, TABLET], ids=["laptop", "tablet"])


class Actions:
    """A user's actions, counted: each press, typing of one text, or click is one."""

    def __init__(self, page: Page):
        self.page, self.count = page, 0

    def press(self, key: str) -> None:
        self.count += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.count += 1
        self.page.keyboard.type(text)

    def click(self, locator) -> None:
        self.count += 1
        locator.click()


def _log_visit(app, client_id: int, user_id: int) -> None:
    with app.app_context():
        client_service.log_touchpoint(db.session.get(Client, client_id), channel=Channel.VISIT,
                                      summary="Были у клиента", acting=db.session.get(User, user_id),
                                      occurred_at=utcnow() - timedelta(days=20))
        db.session.commit()


@SIZES
def test_a_contact_is_logged_from_my_day_in_three_keystrokes(page, login, make_user, make_client, size):
    """From the row's «Связался», do Enter, the summary and Ctrl+Enter log the contact — three actions?"""
    page.set_viewport_size(size)
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20,
                contacts=[{"full_name": "Ковалёва Анна", "phone": "+7 912 345-67-89", "is_decision_maker": True}])
    make_client(manager, short_name="Вектор", days_ago=20)
    login(page, manager)
    page.evaluate("window.__noReload = true")
    row = page.locator("#due-section tr.due-row", has_text="Ромашка")
    expect(row.get_by_role("link", name="+7 912 345-67-89")).to_have_attribute("href", "tel:+79123456789")
    page.get_by_role("button", name="Связался с «Ромашка»").focus()  # reached by Tab like any button
    act = Actions(page)
    act.press("Enter")
    expect(page.locator("form.log-form").get_by_label("О чём поговорили")).to_be_focused()
    act.type("Обсудили оценку доработки")
    act.press("Control+Enter")
    expect(page.locator("#due-section").get_by_role("link", name="Ромашка")).to_have_count(0)
    expect(page.locator("#dashboard-status [role=status]")).to_have_text("Контакт с «Ромашка» записан.")
    assert act.count <= 3 and page.evaluate("window.__noReload") is True


@SIZES
def test_a_contact_is_logged_from_my_day_in_three_clicks(page, login, make_user, make_client, size):
    """With the mouse: «Связался», the summary typed where the cursor already is, «Записать контакт»."""
    page.set_viewport_size(size)
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20)
    login(page, manager)
    act = Actions(page)
    act.click(page.get_by_role("button", name="Связался с «Ромашка»"))
    expect(page.locator("form.log-form").get_by_label("О чём поговорили")).to_be_focused()
    act.type("Договорились о встрече")
    act.click(page.locator("form.log-form").get_by_role("button", name="Записать контакт"))
    expect(page.locator("#dashboard-status [role=status]")).to_have_text("Контакт с «Ромашка» записан.")
    assert act.count <= 3


def test_the_channel_is_preset_to_the_last_one_used_and_when_is_now(page, login, make_user, make_client, app):
    """After a visit, does the next log start on «Визит», with «когда» folded to «сейчас»?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    _log_visit(app, client.id, manager.id)
    login(page, manager)
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    form = page.locator("form.log-form")
    expect(form.get_by_label("Визит")).to_be_checked()
    expect(form.get_by_text("Когда: сейчас")).to_be_visible()
    expect(form.get_by_label("Когда")).to_be_hidden()


def test_escape_closes_the_quick_log_and_returns_focus_to_the_row(page, login, make_user, make_client):
    """Escape in an untouched quick log closes it and puts the focus back on «Связался»."""
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20)
    login(page, manager)
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    expect(page.locator("form.log-form").get_by_label("О чём поговорили")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("form.log-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Связался с «Ромашка»")).to_be_focused()


def test_escape_on_a_changed_form_asks_before_dropping_it(page, login, make_user, make_client):
    """With a summary typed, does Escape ask, keep the text on «no», and close on «yes»?"""
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20)
    login(page, manager)
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    summary = page.locator("form.log-form").get_by_label("О чём поговорили")
    summary.fill("Важный разговор")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    summary.press("Escape")
    expect(summary).to_have_value("Важный разговор")
    assert asked == ["Закрыть форму? Несохранённые изменения пропадут."]
    page.once("dialog", lambda dialog: dialog.accept())
    summary.press("Escape")
    expect(page.locator("form.log-form")).to_have_count(0)


def test_escape_on_a_changed_card_block_asks(page, login, make_user, make_client):
    """Does Escape in an edited «Условия работы» ask before discarding the edit?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.get_by_role("button", name="Изменить условия работы").click()
    name = page.locator("#terms form").get_by_label("Название")
    name.fill("Ромашка Плюс")
    page.once("dialog", lambda dialog: dialog.dismiss())
    name.press("Escape")
    expect(page.locator("#terms form")).to_be_visible()
    expect(name).to_have_value("Ромашка Плюс")


@SIZES
def test_nothing_on_the_card_is_stale_after_a_save(page, login, make_user, make_client, size):
    """After a contact is added and a visit logged with a next date, do «С кем» and the terms follow?"""
    page.set_viewport_size(size)
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", days_ago=1)
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.evaluate("window.__noReload = true")
    page.get_by_text("Добавить контакт").click()
    contacts = page.locator("#contacts")
    contacts.get_by_label("ФИО").fill("Жуков Олег")
    contacts.get_by_label("ЛПР (принимает решения)").check()
    contacts.get_by_role("button", name="Добавить").click()
    form = page.locator("form.log-form")
    expect(form.get_by_label("Жуков Олег (ЛПР)")).to_be_visible()
    act = Actions(page)
    act.click(form.get_by_label("О чём поговорили"))
    page.keyboard.type("Визит, обсудили план")
    form.get_by_label("Жуков Олег (ЛПР)").check()
    form.get_by_label("Следующий контакт").fill("2100-12-03")
    form.locator("label", has_text="Визит").click()
    form.get_by_role("button", name="Записать контакт").click()
    expect(page.locator("#terms")).to_contain_text("3 декабря 2100")
    expect(page.locator("#timeline")).to_contain_text("Визит, обсудили план")
    expect(page.locator("#timeline")).to_contain_text("с кем: Жуков Олег")
    assert page.evaluate("window.__noReload") is True


def test_tablet_card_puts_the_visit_first_with_fingertip_buttons(page, login, make_user, make_client):
    """At 820 px, is the log form above the requisites, folded requisites, and every button ≥ 40 px high?"""
    page.set_viewport_size(TABLET)
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", days_ago=5,
                         contacts=[{"full_name": "Ковалёва Анна", "is_decision_maker": True}])
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    log_top = page.locator("form.log-form").bounding_box()["y"]
    assert log_top < page.locator("#requisites").bounding_box()["y"]
    assert log_top < TABLET["height"], "the log form is on the first screen"
    expect(page.locator("#requisites details")).not_to_have_attribute("open", "")
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main summary.btn, main .btn')]
        .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 40)
        .map(b => b.textContent.trim())""")
    assert small == []


def test_laptop_card_shows_the_log_on_the_first_screen(page, login, make_user, make_client):
    """At 1366×768, are the log form and the history in the first screen, the people beside them?"""
    page.set_viewport_size(LAPTOP)
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", days_ago=5)
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    log = page.locator("#log").bounding_box()
    people = page.locator("#contacts").bounding_box()
    assert log["y"] < LAPTOP["height"] / 2 and abs(log["y"] - people["y"]) < 5, "side by side at the top"
    assert log["x"] < people["x"], "the log on the left"
    assert page.locator("#timeline").bounding_box()["y"] < LAPTOP["height"], "the history in the first screen"


def test_visit_pages_are_accessible(page, login, axe, make_user, make_client):
    """Do «Мой день» with a form open and the card pass WCAG 2.1 AA at both sizes?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка", days_ago=20,
                         contacts=[{"full_name": "Ковалёва Анна", "phone": "+7 912 345-67-89", "is_decision_maker": True}])
    login(page, manager)
    for size in (LAPTOP, TABLET):
        page.set_viewport_size(size)
        page.goto("/")
        page.get_by_role("button", name="Связался с «Ромашка»").click()
        expect(page.locator("form.log-form")).to_be_visible()
        violations = axe(page)
        assert not violations, f"«Мой день» {size}:\n{violations}"
        page.goto(f"/clients/{client.id}")
        violations = axe(page)
        assert not violations, f"card {size}:\n{violations}"


def test_a_status_change_with_unsaved_regulation_edits_is_refused_with_a_message(page, login, make_user, make_client):
    """Editing a draft, then «Согласовано с клиентом»: is the move refused with a note, the edit kept?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}/regulations/")
    page.get_by_role("button", name="Создать регламент").click()
    page.wait_for_url("**/regulations/*")
    page.get_by_role("link", name="Связь и планёрки").click()
    page.get_by_role("button", name="Изменить раздел «Связь и планёрки»").click()
    place = page.get_by_label("Место планёрки")
    expect(place).to_be_visible()
    place.fill("офис клиента, переговорная 2")
    page.once("dialog", lambda dialog: dialog.accept())  # a move may ask «are you sure?» first
    url = page.url
    page.locator("form[action$='/status'] button[type=submit]").first.click()
    note = page.locator("[data-guard-note]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("несохранённые изменения")
    assert page.url == url
    expect(place).to_have_value("офис клиента, переговорная 2")


def test_leaving_a_page_with_unsaved_edits_warns(page, login, make_user, make_client):
    """With a summary typed on the card, does following a link ask before leaving?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.locator("form.log-form").get_by_label("О чём поговорили").fill("Недописанная заметка")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Клиенты").first.click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and f"/clients/{client.id}" in page.url


def test_header_search_finds_a_contact_from_any_page(page, login, make_user, make_client):
    """From «Мой день», does the header box find a client by its contact, saying who matched?"""
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", contacts=[{"full_name": "Соловьёва Алёна"}])
    make_client(manager, short_name="Вектор")
    login(page, manager)
    page.get_by_label("Найти клиента или контакт").fill("соловьева")
    page.keyboard.press("Enter")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Ромашка")).to_be_visible()
    expect(results.get_by_role("link", name="Вектор")).to_have_count(0)
    expect(results).to_contain_text("найден по: контакт: Соловьёва Алёна")


def test_new_pages_are_accessible(page, login, axe, make_user, make_client):
    """Do the regulation editor, the comparison and the handover preview pass WCAG 2.1 AA?"""
    admin = make_user(Role.ADMIN)
    leaving = make_user(Role.MANAGER)
    other = make_user(Role.MANAGER)
    client = make_client(leaving, short_name="Ромашка", deputy=other)
    login(page, admin)
    page.goto(f"/clients/{client.id}/regulations/")
    page.get_by_role("button", name="Создать регламент").click()
    page.wait_for_url("**/regulations/*")
    page.get_by_role("link", name="Приоритеты и сроки (SLA)").click()
    for url in [page.url, f"/clients/handover?from_user={leaving.id}&to_user={other.id}",
                "/clients/?q=ромашка&status="]:
        page.goto(url)
        violations = axe(page)
        assert not violations, f"{url}:\n{violations}"


def test_tablet_lists_fit_without_a_hidden_last_column(page, login, make_user):
    """At 820 px, does the users list show «Последний вход» without scrolling sideways?"""
    page.set_viewport_size(TABLET)
    admin = make_user(Role.ADMIN, full_name="Соколова Ирина Викторовна", position="Руководитель клиентского отдела")
    for name, email in [("Кузнецова Мария Сергеевна", "kuznetsova.m@company.ru"),
                        ("Волков Дмитрий Андреевич", "volkov.d@company.ru"),
                        ("Орлова Татьяна Михайловна", "orlova.t@company.ru")]:
        make_user(Role.MANAGER, full_name=name, email=email, position="Руководитель отдела сопровождения")
    login(page, admin)
    page.goto("/admin/users")
    expect(page.get_by_role("columnheader", name="Последний вход")).to_be_in_viewport()
    width, room = page.evaluate("() => { const t = document.querySelector('main table'); "
                                "return [t.scrollWidth, t.parentElement.clientWidth]; }")
    assert width <= room


def test_show_all_opens_a_long_section_in_place_and_a_log_keeps_it_open(page, login, axe, make_user, make_client):
    """Twelve clients due: ten shown with «Показаны 10 из 12»; «Показать все» (Enter) draws the
    other two without a reload, focus stays in the list, and logging a contact from it refreshes
    the section still in full."""
    manager = make_user(Role.MANAGER)
    for n in range(1, 13):
        make_client(manager, short_name=f"Клиент {n:02d}", days_ago=40 - n)
    login(page, manager)
    page.evaluate("window.__noReload = true")
    rows = page.locator("#due-section tr.due-row")
    expect(rows).to_have_count(10)
    expect(page.locator("#due-section")).to_contain_text("Показаны 10 из 12.")
    assert not axe(page), axe(page)
    page.get_by_role("link", name="Показать все 12 в разделе «Пора связаться»").focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(12)
    expect(page.locator("#due-section")).not_to_contain_text("Показаны")
    assert page.evaluate("document.activeElement.closest('#due-section') !== null")
    page.get_by_role("button", name="Связался с «Клиент 12»").click()
    page.locator("form.log-form").get_by_label("О чём поговорили").fill("Созвонились")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#dashboard-status [role=status]")).to_have_text("Контакт с «Клиент 12» записан.")
    expect(rows).to_have_count(11)  # the rest still all shown
    assert page.evaluate("window.__noReload") is True
