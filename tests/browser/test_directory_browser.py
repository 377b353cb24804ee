"""Directory sign-in in a real browser, against the test suite's real slapd."""

from playwright.sync_api import expect

from tests.ldap_server import PASSWORD, person_dn


def test_directory_sign_in_and_user_check_in_the_browser(ldap_app, page, axe):
    """Can a person sign in with «ДОМЕН\\логин» and the directory password, land on «Мой день» as
    the directory names them, and, being an admin by group, check a colleague on «Каталог»?"""
    page.goto("/login")
    expect(page.get_by_text("Или логин в домене")).to_be_visible()
    page.get_by_label("E-mail").fill("CORP\\petrov")
    page.get_by_label("Пароль").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Мой день")
    expect(page.get_by_role("navigation", name="Основная навигация")).to_contain_text("Петров Олег Игоревич")

    page.goto("/admin/directory")
    expect(page.get_by_role("link", name="Каталог", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_label("Логин или e-mail в каталоге").fill("kozlova")
    page.get_by_role("button", name="Проверить пользователя").click()  # htmx swaps the result in
    expect(page.get_by_text(person_dn("kozlova"))).to_be_visible()
    expect(page.get_by_text("вход не разрешён")).to_be_visible()
    assert page.url.endswith("/admin/directory")
    assert not axe(page), str(axe(page))
