"""UX walkthrough findings, pinned: the quick-log confirmation survives the list refresh, focus never
falls to the page after an inline block closes, and a client with an open draft gets no dead-end button."""

from playwright.sync_api import expect

from webapp.models import Role


def test_quick_log_on_my_day_keeps_its_confirmation_and_focus(page, login, make_user, make_client):
    """After «Связался» → «Записать контакт», is «Контакт … записан» shown and focused, not lost?"""
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20)
    make_client(manager, short_name="Вектор", days_ago=20)
    login(page, manager)
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    form = page.locator("form.log-form")
    form.get_by_label("О чём поговорили").fill("Обсудили оценку доработки")
    form.get_by_role("button", name="Записать контакт").click()
    expect(page.locator("#due-section").get_by_role("link", name="Ромашка")).to_have_count(0)
    status = page.locator("#dashboard-status [role=status]")
    expect(status).to_have_text("Контакт с «Ромашка» записан.")
    expect(status).to_be_focused()


def test_a_failed_quick_log_focuses_the_invalid_field(page, console, login, make_user, make_client):
    """Sent without a summary, does focus land on «О чём поговорили», the field to fix?"""
    console.expect_status(422)
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20)
    login(page, manager)
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    page.locator("form.log-form").get_by_role("button", name="Записать контакт").click()
    expect(page.locator("form.log-form").get_by_label("О чём поговорили")).to_be_focused()


def test_escape_and_save_return_focus_to_the_edit_button(page, login, make_user, make_client):
    """Escape in an inline edit, and a save, leave focus on «Изменить», not on the page body."""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    edit = page.get_by_role("button", name="Изменить условия работы")
    edit.click()
    expect(page.locator("#terms form").get_by_label("Название")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#terms form")).to_have_count(0)
    expect(page.get_by_role("button", name="Изменить условия работы")).to_be_focused()
    page.get_by_role("button", name="Изменить условия работы").click()
    page.locator("#terms form").get_by_role("button", name="Сохранить").click()
    expect(page.locator("#terms form")).to_have_count(0)
    expect(page.get_by_role("button", name="Изменить условия работы")).to_be_focused()


def test_a_form_arriving_late_leaves_the_focus_in_the_field_being_typed_in(page, login, make_user, make_client):
    """Requisites opened first but answered last: do my keystrokes stay in «Заметки» of the terms?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    held = []
    page.route("**/edit/requisites", lambda route: held.append(route))  # the slow answer
    page.get_by_role("button", name="Изменить реквизиты").click()
    page.get_by_role("button", name="Изменить условия работы").click()
    notes = page.locator("#terms form").get_by_label("Заметки")
    notes.click()
    page.keyboard.type("Звонить ")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    expect(page.locator("#requisites form")).to_be_visible()
    page.keyboard.type("после обеда")
    expect(notes).to_have_value("Звонить после обеда")
    expect(notes).to_be_focused()


def test_regulations_page_leads_to_the_open_draft_instead_of_an_error(page, login, make_user, make_client):
    """With a draft open, does the regulations page offer «Продолжить редакцию», not a 422 dead end?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}/regulations/")
    page.get_by_role("button", name="Создать регламент").click()
    expect(page.get_by_role("heading", name="Регламент взаимодействия, редакция 1")).to_be_visible()
    page.goto(f"/clients/{client.id}/regulations/")
    expect(page.get_by_role("button", name="Новая редакция")).to_have_count(0)
    page.get_by_role("link", name="Продолжить редакцию 1 (проект)").click()
    expect(page.get_by_role("heading", name="Регламент взаимодействия, редакция 1")).to_be_visible()
