"""Clients in a real browser: «Связался» from «Мой день», inline edits, active search, accessibility."""

from playwright.sync_api import expect

from webapp.models import Role


def test_logging_a_contact_from_my_day_removes_the_client_without_a_reload(page, login, make_user, make_client):
    """Does «Связался» → summary → «Записать контакт» make the client leave the due list in place?"""
    manager = make_user(Role.MANAGER)
    make_client(manager, short_name="Ромашка", days_ago=20,
                contacts=[{"full_name": "Ковалёва Анна Сергеевна", "is_decision_maker": True}])
    make_client(manager, short_name="Вектор", days_ago=20)
    login(page, manager)
    page.evaluate("window.__noReload = true")
    due = page.locator("#due-section")
    expect(due.get_by_role("link", name="Ромашка")).to_be_visible()
    page.get_by_role("button", name="Связался с «Ромашка»").click()
    form = page.locator("form.log-form")
    expect(form).to_be_visible()
    form.get_by_label("Ковалёва Анна Сергеевна (ЛПР)").check()
    form.get_by_label("О чём поговорили").fill("Обсудили оценку доработки")
    form.get_by_role("button", name="Записать контакт").click()
    expect(due.get_by_role("link", name="Ромашка")).to_have_count(0)
    expect(due.get_by_role("link", name="Вектор")).to_be_visible()
    expect(page.locator("#due-count")).to_have_text("1")
    assert page.evaluate("window.__noReload") is True


def test_inline_edits_save_in_place_and_never_conflict_with_themselves(page, console, login, make_user,
                                                                       make_client):
    """Can I rename a client, then fix its requisites, each in place, with no conflict between my saves?"""
    console.expect_status(422)  # the wrong ИНН below is answered 422 on purpose; Chromium logs it
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Изменить условия работы").click()
    terms = page.locator("#terms form")
    terms.get_by_label("Название").fill("Ромашка Плюс")
    terms.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ромашка Плюс")
    page.get_by_role("button", name="Изменить реквизиты").click()
    requisites = page.locator("#requisites form")
    requisites.get_by_label("Полное наименование").fill("ООО «Ромашка Плюс»")
    requisites.get_by_label("ИНН").fill("7707083894")
    requisites.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#requisites")).to_contain_text("ИНН не проходит проверку контрольных цифр.")
    requisites = page.locator("#requisites form")
    requisites.get_by_label("ИНН").fill("7707083893")
    requisites.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#requisites")).to_contain_text("7707083893")
    expect(page.locator("#requisites")).to_contain_text("ООО «Ромашка Плюс»")
    assert page.evaluate("window.__noReload") is True


def test_escape_cancels_an_inline_edit(page, login, make_user, make_client):
    """Does Escape in an inline form, once confirmed, bring the block back unchanged?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.get_by_role("button", name="Изменить условия работы").click()
    field = page.locator("#terms form").get_by_label("Название")
    expect(field).to_be_focused()
    field.fill("Другое")
    page.once("dialog", lambda dialog: dialog.accept())  # «Закрыть форму? Несохранённые изменения пропадут.»
    field.press("Escape")
    expect(page.locator("#terms form")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ромашка")


def test_contact_is_added_and_search_finds_it_by_phone(page, login, make_user, make_client):
    """After adding a contact with a phone, does the list's search find the client by those digits?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    make_client(manager, short_name="Вектор")
    login(page, manager)
    page.goto(f"/clients/{client.id}")
    page.get_by_text("Добавить контакт").click()
    contacts = page.locator("#contacts")
    contacts.get_by_label("ФИО").fill("Жуков Олег Петрович")
    contacts.get_by_label("Телефон").fill("+7 (912) 345-67-89")
    contacts.get_by_role("button", name="Добавить").click()
    expect(contacts).to_contain_text("Жуков Олег Петрович")
    page.goto("/clients/")
    page.evaluate("window.__noReload = true")
    page.get_by_label("Поиск").fill("9123456789")
    expect(page.locator("#results").get_by_role("link", name="Вектор")).to_have_count(0)
    expect(page.locator("#results").get_by_role("link", name="Ромашка")).to_be_visible()
    assert "q=9123456789" in page.url and page.evaluate("window.__noReload") is True


def test_client_pages_are_accessible(page, login, axe, make_user, make_client, app):
    """Do the list, the card (with open forms), the regulation pages and «Мой день» pass WCAG 2.1 AA?"""
    admin = make_user(Role.ADMIN)
    client = make_client(admin, short_name="Ромашка", days_ago=20,
                         contacts=[{"full_name": "Ковалёва Анна Сергеевна", "phone": "+7 900 000-00-01",
                                    "is_decision_maker": True, "decides_cost": True}])
    login(page, admin)
    page.goto(f"/clients/{client.id}/regulations/")
    page.get_by_role("button", name="Создать регламент").click()
    page.wait_for_url("**/regulations/*")
    urls = ["/", "/clients/", f"/clients/{client.id}", f"/clients/{client.id}/regulations/", page.url,
            "/clients/handover", "/admin/regulation-standard", "/admin/templates"]
    for url in urls:
        page.goto(url)
        violations = axe(page)
        assert not violations, f"{url}:\n{violations}"
    page.goto(f"/clients/{client.id}")
    page.get_by_role("button", name="Изменить условия работы").click()
    page.get_by_text("Добавить контакт").click()
    expect(page.locator("#terms form")).to_be_visible()
    violations = axe(page)
    assert not violations, f"card with open forms:\n{violations}"
