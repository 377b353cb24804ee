"""Two people, two browsers, one record: nobody's change is lost, different fields never conflict."""

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import Client, Contact, Regulation, RegulationStatus, Role


def _two_managers(new_page, login, make_user, make_client, **client_options):
    """The account manager and the deputy of one client, each in a browser of their own."""
    manager, deputy = make_user(Role.MANAGER, full_name="Петрова Анна"), make_user(Role.MANAGER, full_name="Сидоров Олег")
    record = make_client(manager, deputy=deputy, short_name="Ромашка", **client_options)
    first, second = new_page(), new_page()
    login(first, manager)
    login(second, deputy)
    for page in (first, second):
        page.goto(f"/clients/{record.id}")
    return record, first, second


def test_two_people_editing_different_blocks_and_fields_both_keep_their_changes(app, new_page, login, make_user,
                                                                              make_client):
    """Anna edits the requisites; Oleg, with the terms and the requisites open since before her save,
    saves the terms and another field of the requisites: all three changes kept?"""
    record, anna, oleg = _two_managers(new_page, login, make_user, make_client)
    anna.get_by_role("button", name="Изменить реквизиты").click()
    oleg.get_by_role("button", name="Изменить условия работы").click()
    oleg.get_by_role("button", name="Изменить реквизиты").click()
    # Oleg types once both forms are open, as a person would: a form arriving later takes the focus
    # (its first field), and typing that started elsewhere would go there.
    expect(oleg.locator("#terms form")).to_be_visible()
    expect(oleg.locator("#requisites form")).to_be_visible()
    anna.locator("#requisites form").get_by_label("Юридический адрес").fill("Москва, Тверская, 1")
    oleg.locator("#terms form").get_by_label("Заметки").fill("Звонить после обеда")
    anna.locator("#requisites form").get_by_role("button", name="Сохранить").click()
    expect(anna.locator("#requisites")).to_contain_text("Москва, Тверская, 1")
    oleg.locator("#terms form").get_by_role("button", name="Сохранить").click()
    expect(oleg.locator("#terms")).to_contain_text("Звонить после обеда")
    oleg.locator("#requisites form").get_by_label("Банк").fill("ПАО Сбербанк")
    oleg.locator("#requisites form").get_by_role("button", name="Сохранить").click()
    expect(oleg.locator("#requisites")).to_contain_text("ПАО Сбербанк")
    expect(oleg.locator("#requisites")).to_contain_text("Москва, Тверская, 1")
    with app.app_context():
        stored = db.session.get(Client, record.id)
        assert (stored.address, stored.notes, stored.bank_name) == (
            "Москва, Тверская, 1", "Звонить после обеда", "ПАО Сбербанк")


def test_a_real_conflict_on_a_contact_row_shows_both_values_and_a_second_save_wins(app, new_page, console, login,
                                                                                  make_user, make_client):
    """Both change one contact's position: does the later see both values, and keep the other's phone on saving again?"""
    console.expect_status(409)
    record, anna, oleg = _two_managers(new_page, login, make_user, make_client,
                                       contacts=[{"full_name": "Иванова Мария", "position": "Бухгалтер"}])
    for page in (anna, oleg):
        page.get_by_role("button", name="Изменить Иванова Мария").click()
    anna_form, oleg_form = anna.locator("form.contact-card"), oleg.locator("form.contact-card")
    anna_form.get_by_label("Должность").fill("Главный бухгалтер")
    anna_form.get_by_label("Телефон").fill("+7 912 345-67-89")
    anna_form.get_by_role("button", name="Сохранить").click()
    expect(anna.locator("form.contact-card")).to_have_count(0)
    expect(anna.locator(".contact-card").first).to_contain_text("Главный бухгалтер")
    oleg_form.get_by_label("Должность").fill("Финансовый директор")
    oleg_form.get_by_role("button", name="Сохранить").click()
    conflict = oleg.locator(".conflict")
    expect(conflict).to_be_visible()
    row = conflict.get_by_role("row").filter(has_text="Должность")
    expect(row.get_by_role("cell")).to_have_text(["Должность", "Главный бухгалтер", "Финансовый директор"])
    expect(oleg.locator("form.contact-card").get_by_label("Телефон")).to_have_value("+7 912 345-67-89")
    oleg.locator("form.contact-card").get_by_role("button", name="Сохранить").click()
    expect(oleg.locator("form.contact-card")).to_have_count(0)  # the row is back: saved
    expect(oleg.locator(".contact-card").first).to_contain_text("Финансовый директор")
    with app.app_context():
        contact = db.session.scalars(db.select(Contact).where(Contact.client_id == record.id)).one()
        assert (contact.position, contact.phone) == ("Финансовый директор", "+7 912 345-67-89")


def test_deleting_a_contact_someone_just_edited_asks_again_in_its_row(app, new_page, console, login, make_user,
                                                                      make_client):
    """Oleg deletes a contact Anna has just renamed: is he shown the new name and asked again, nothing lost?"""
    console.expect_status(409)
    record, anna, oleg = _two_managers(new_page, login, make_user, make_client,
                                       contacts=[{"full_name": "Иванова Мария", "position": "Бухгалтер"}])
    anna.get_by_role("button", name="Изменить Иванова Мария").click()
    anna.locator("form.contact-card").get_by_label("Должность").fill("Главный бухгалтер")
    anna.locator("form.contact-card").get_by_role("button", name="Сохранить").click()
    expect(anna.locator("form.contact-card")).to_have_count(0)
    expect(anna.locator(".contact-card").first).to_contain_text("Главный бухгалтер")
    oleg.on("dialog", lambda dialog: dialog.accept())
    oleg.get_by_role("button", name="Удалить Иванова Мария").click()
    row = oleg.locator(".contact-card").first
    expect(row).to_contain_text("проверьте и подтвердите удаление")
    expect(row).to_contain_text("Главный бухгалтер")
    expect(oleg.locator("#contacts")).to_be_visible()
    with app.app_context():
        assert db.session.scalars(db.select(Contact).where(Contact.client_id == record.id)).one()
    oleg.get_by_role("button", name="Удалить всё равно Иванова Мария").click()
    expect(oleg.locator("#contacts")).to_contain_text("Контактов пока нет")


def test_a_regulation_clause_and_a_status_change_from_two_browsers(app, new_page, console, login, make_user,
                                                                   make_client):
    """Anna saves a clause of the draft while Oleg has it open: is his «Согласовано» refused with the reason?"""
    console.expect_status(409)
    record, anna, oleg = _two_managers(new_page, login, make_user, make_client)
    anna.goto(f"/clients/{record.id}/regulations/")
    anna.get_by_role("button", name="Создать регламент").click()
    anna.wait_for_url("**/regulations/*")
    url = anna.url
    oleg.goto(url)
    anna.get_by_role("button", name="Изменить раздел «Связь и планёрки»").click()
    anna.get_by_label("Место планёрки").fill("Переговорная на 3 этаже")
    anna.locator("#group-contact form").get_by_role("button", name="Сохранить").click()
    expect(anna.locator("#group-contact")).to_contain_text("Переговорная на 3 этаже")
    oleg.get_by_role("button", name="Согласовано с клиентом").click()
    expect(oleg.get_by_role("alert").filter(has_text="проверьте изменения")).to_be_visible()
    with app.app_context():
        regulation = db.session.scalars(db.select(Regulation).where(Regulation.client_id == record.id)).one()
        assert regulation.status == RegulationStatus.DRAFT and regulation.meeting_place == "Переговорная на 3 этаже"
    oleg.locator("#group-contact summary").click()
    expect(oleg.locator("#group-contact")).to_contain_text("Переговорная на 3 этаже")
    oleg.get_by_role("button", name="Согласовано с клиентом").click()
    expect(oleg.get_by_text("Редакция отмечена как согласованная с клиентом.")).to_be_visible()
