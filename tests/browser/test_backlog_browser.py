"""The client's backlog in a real browser: reorder by drag and drop and by keyboard, kept after a reload."""

from playwright.sync_api import expect

from webapp.models import Role


def _keys(page) -> list[str]:
    return page.locator("tbody[data-sortable] tr").evaluate_all("rows => rows.map(r => r.dataset.itemKey)")


def test_drag_and_drop_reorder_survives_a_reload(page, login, make_user, make_client, make_item):
    """Does dragging the third item above the first save at once, so a reload shows the new order?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    for title in ("Первая", "Вторая", "Третья"):
        make_item(client, manager, title=title)
    login(page, manager)
    page.goto(f"/clients/{client.id}/backlog/")
    assert _keys(page) == ["ROMASHKA-1", "ROMASHKA-2", "ROMASHKA-3"]
    handle = page.locator("#item-3 .drag-handle")
    target = page.locator("#item-1")
    box, goal = handle.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + (goal["y"] + 2 - box["y"]) * step / 10)
    # Sortable moves the row on the pointer's moves that come after its 150 ms animation: on a busy
    # machine ten quick moves can end before that, so the pointer keeps nudging over the first row's
    # top edge (as a hand does) until the row has moved there, then drops it.
    for nudge in range(60):
        if _keys(page)[0] == "ROMASHKA-3":
            break
        page.mouse.move(box["x"] + box["width"] / 2, goal["y"] + 2 + nudge % 2)
        page.wait_for_timeout(50)
    page.mouse.up()
    expect(page.locator("#reorder-status")).to_have_text("ROMASHKA-3: теперь 1-я из 3.")
    page.reload()
    assert _keys(page) == ["ROMASHKA-3", "ROMASHKA-1", "ROMASHKA-2"]


def test_keyboard_reorder_is_announced_and_survives_a_reload(page, login, make_user, make_client, make_item, axe):
    """Can I move an item down and to the top with the keyboard, hear where it went, and keep the order?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    for title in ("Первая", "Вторая", "Третья"):
        make_item(client, manager, title=title)
    login(page, manager)
    page.goto(f"/clients/{client.id}/backlog/")
    page.get_by_role("button", name="ниже ROMASHKA-1").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reorder-status")).to_have_text("ROMASHKA-1: теперь 2-я из 3.")
    assert _keys(page) == ["ROMASHKA-2", "ROMASHKA-1", "ROMASHKA-3"]
    focused = page.evaluate("document.activeElement.textContent")
    assert "ниже" in focused and "ROMASHKA-1" in focused  # the keyboard stays on the moved item
    page.get_by_role("button", name="в начало ROMASHKA-3").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reorder-status")).to_have_text("ROMASHKA-3: теперь 1-я из 3.")
    page.reload()
    assert _keys(page) == ["ROMASHKA-3", "ROMASHKA-2", "ROMASHKA-1"]
    assert not (violations := axe(page)), str(violations)


def test_item_page_inline_edit_and_time_in_place(page, login, make_user, make_client, make_item, axe):
    """Can I retitle an item in place and log «+ часы», with the page staying put and accessible?"""
    manager = make_user(Role.MANAGER)
    client = make_client(manager, short_name="Ромашка")
    item = make_item(client, manager, title="Отчёт")
    login(page, manager)
    page.goto(f"/backlog/{item.id}")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Изменить название, приоритет, исполнителя, срок и оплату").click()
    page.locator("#summary form").get_by_label("Название").fill("Отчёт по продажам")
    page.locator("#summary form").get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Отчёт по продажам")
    time = page.locator("#time form")
    time.get_by_label("Часы").fill("1,5")
    time.get_by_role("button", name="+ часы").click()
    expect(page.locator("#time")).to_contain_text("Часы записаны.")
    assert page.evaluate("window.__noReload") is True
    assert not (violations := axe(page)), str(violations)
