"""The shell in a real browser: logging in and out, accessibility, the keyboard, htmx under the
Content-Security-Policy, stale saves and printing."""

import re
from datetime import date

from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from webapp import demo
from webapp.extensions import db
from webapp.models import Role


def test_login_shows_my_day_and_logout_returns_to_login(page, login, make_user):
    """Can a user log in through the form, see «Мой день» with their name, and log out from the navbar?"""
    user = make_user(Role.MANAGER, full_name="Петров Алексей Николаевич")
    login(page, user)
    expect(page.get_by_role("heading", level=1)).to_have_text("Мой день")
    expect(page.get_by_role("navigation", name="Основная навигация")).to_contain_text("Петров Алексей Николаевич")
    with page.expect_navigation():
        page.get_by_role("button", name="Выйти").click()
    assert page.url.endswith("/login")
    expect(page.get_by_text("Вы вышли из AccountDesk.")).to_be_visible()
    page.goto("/admin/users")
    assert "/login" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Вход в AccountDesk")


def test_the_live_server_reads_the_tests_clock(page, login, make_user, clock):
    """Does the server thread behind the browser serve «Мой день» for the day the test travelled to?"""
    clock.travel(date(2027, 1, 10))
    login(page, make_user(Role.MANAGER))
    expect(page.get_by_text(re.compile(r"^10 января 2027\sг\.,"))).to_be_visible()


def test_wrong_password_shows_a_russian_message(page, console, make_user):
    """Does a wrong password keep the user on the login page with a message they can read?"""
    console.expect_status(401)
    user = make_user()
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Пароль").fill("wrong-password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_text("Неверный e-mail или пароль, либо учётная запись отключена.")).to_be_visible()
    assert page.url.endswith("/login")
    expect(page.get_by_label("Пароль")).to_have_attribute("aria-invalid", "true")


ADMIN_PAGES = [
    "/",
    "/account",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{other}",
    "/admin/company",
    "/admin/audit",
    "/no-such-page",
]


def test_every_admin_page_passes_axe_without_console_errors(page, console, login, make_user, axe):
    """Does every page an admin can open meet WCAG 2.1 AA (axe) and load without console errors?"""
    console.expect_status(404)
    admin = make_user(Role.ADMIN)
    other = make_user(Role.ACCOUNTANT, position="Главный бухгалтер")
    login(page, admin)
    page.goto("/admin/users")
    # Areas and admin tabs added later are checked too: whatever the navbar and the tabs link to.
    linked = page.eval_on_selector_all("nav a.nav-link, .nav-tabs a.nav-link", "els => els.map(e => e.pathname)")
    paths = list(dict.fromkeys([path.format(other=other.id) for path in ADMIN_PAGES] + linked))
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == (404 if path == "/no-such-page" else 200), path
        if violations := axe(page):
            found[path] = str(violations)
    assert not found, "\n".join(f"{path}:\n{text}" for path, text in found.items())


def test_login_page_passes_axe(page, axe):
    """Does the login page meet WCAG 2.1 AA (axe)?"""
    page.goto("/login")
    assert not (violations := axe(page)), str(violations)


def test_form_with_errors_passes_axe(page, console, login, make_user, axe):
    """Are validation messages of a refused form accessible (axe) and tied to their fields?"""
    console.expect_status(422)
    login(page, make_user(Role.ADMIN))
    page.goto("/admin/users/new")
    page.get_by_role("button", name="Создать").click()
    expect(page.get_by_text("Проверьте отмеченные поля.")).to_be_visible()
    expect(page.get_by_label("ФИО")).to_have_accessible_description("Введите ФИО.")
    assert not (violations := axe(page)), str(violations)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, login, make_user):
    """Can a keyboard user skip the navigation straight to the page's content?"""
    login(page, make_user(Role.ADMIN))
    page.goto("/admin/users")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к содержимому")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_login_form_works_with_the_keyboard_alone(page, make_user):
    """Can a user log in with the keyboard alone (Tab, type, Enter)?"""
    user = make_user(full_name="Клавиатурова Анна Павловна")
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Пароль")).to_be_focused()
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Войти")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Мой день")
    expect(page.get_by_text("Клавиатурова Анна Павловна").first).to_be_visible()


def test_user_search_and_role_filter_update_the_table_without_reload(page, login, make_user):
    """On /admin/users, do typing and the role filter swap the table in place and keep the URL?"""
    admin = make_user(Role.ADMIN, full_name="Админова Ирина Викторовна")
    make_user(Role.MANAGER, full_name="Петров Алексей Николаевич")
    make_user(Role.MANAGER, full_name="Кузнецова Мария Сергеевна")
    make_user(Role.ACCOUNTANT, full_name="Орлова Татьяна Михайловна")
    login(page, admin)
    page.goto("/admin/users")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(4)
    page.evaluate("() => { window.noReloadMarker = 'still here' }")

    page.get_by_label("Поиск").press_sequentially("петр", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Петров Алексей Николаевич")
    expect(page).to_have_url(re.compile(r"[?&]q=%D0%BF%D0%B5%D1%82%D1%80(&|$)"))

    page.get_by_label("Поиск").fill("")
    page.get_by_label("Роль").select_option(label=Role.MANAGER.label)
    expect(rows).to_have_count(2)
    expect(page.locator("#results")).not_to_contain_text("Орлова")
    expect(page).to_have_url(re.compile(r"[?&]role=manager(&|$)"))
    assert page.evaluate("() => window.noReloadMarker") == "still here"

    page.go_back()
    expect(page.get_by_label("Роль")).to_have_value("")


def test_htmx_post_carries_the_csrf_token_from_body(page, login, make_user):
    """Does an htmx POST send X-CSRFToken inherited from <body>, so the server accepts it?"""
    login(page, make_user(Role.ADMIN))
    page.goto("/account")
    # A button with no form and so no hidden token: only the inherited header can carry it.
    page.evaluate("""() => {
        const button = document.createElement('button');
        button.id = 'htmx-logout';
        button.textContent = 'htmx logout';
        button.setAttribute('hx-post', '/logout');
        document.querySelector('main').append(button);
        htmx.process(button);
    }""")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/logout")) as posted:
        page.locator("#htmx-logout").click()
    headers = posted.value.all_headers()
    assert headers.get("hx-request") == "true"
    assert headers.get("x-csrftoken"), "htmx sent no X-CSRFToken header"
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Вы вышли из AccountDesk.")).to_be_visible()


def test_stale_company_save_shows_conflict_and_second_save_overwrites(app, new_page, console, login, make_user, axe):
    """When two admins edit the company profile at once, does the later one see both values and may overwrite?"""
    console.expect_status(409)
    with app.app_context():
        demo.seed_company()
        db.session.commit()
    first, second = new_page(), new_page()
    login(first, make_user(Role.ADMIN, full_name="Первая Админ"))
    login(second, make_user(Role.ADMIN, full_name="Второй Админ"))
    first.goto("/admin/company")
    second.goto("/admin/company")

    first.get_by_label("Телефон").fill("+7 (495) 111-11-11")
    first.get_by_role("button", name="Сохранить").click()
    expect(first.get_by_text("Профиль компании сохранён.")).to_be_visible()

    second.get_by_label("Телефон").fill("+7 (495) 222-22-22")
    second.get_by_role("button", name="Сохранить").click()
    conflict = second.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Запись изменил другой пользователь")
    row = conflict.get_by_role("row").filter(has_text="Телефон")
    expect(row.get_by_role("cell")).to_have_text(["Телефон", "+7 (495) 111-11-11", "+7 (495) 222-22-22"])
    expect(second.get_by_label("Телефон")).to_have_value("+7 (495) 222-22-22")
    assert not (violations := axe(second)), str(violations)

    second.get_by_role("button", name="Сохранить").click()
    expect(second.get_by_text("Профиль компании сохранён.")).to_be_visible()
    expect(second.locator(".conflict")).to_have_count(0)
    first.reload()
    expect(first.get_by_label("Телефон")).to_have_value("+7 (495) 222-22-22")


def test_print_hides_the_navbar(page, login, make_user):
    """When a page is printed, is the navigation left out?"""
    login(page, make_user(Role.ADMIN))
    page.goto("/admin/users")
    navbar = page.get_by_role("navigation", name="Основная навигация")
    expect(navbar).to_be_visible()
    page.emulate_media(media="print")
    expect(navbar).to_be_hidden()
    expect(page.get_by_role("table")).to_be_visible()
    page.emulate_media(media="screen")
    expect(navbar).to_be_visible()
