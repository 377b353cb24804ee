"""The acts' pages: an act built, edited and issued over HTTP, an issued act refusing edits, payments,
the accountant's list with its filters and export, reminders on «Мой день» and by e-mail, and pages whose
query count does not grow with the rows."""

import io
import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tests.acts_fixtures import load_act
from tests.conftest import messages
from webapp.extensions import db
from webapp.models import Act, ActStatus, Touchpoint, User
from webapp.services import acts as act_service


def _version(app, act_id: int) -> int:
    with app.app_context():
        return db.session.get(Act, act_id).version


def test_accountant_builds_edits_and_issues_an_act(app, client, books, make_done_item):
    """Does «Новый акт» make a draft from the chosen done items, a line save in place, and issuing give a number?"""
    item = make_done_item(books, title="Выгрузка остатков", hours=Decimal("3"))
    make_done_item(books, title="Не в этот акт", hours=Decimal("1"))
    client.login(books.accountant)
    page = client.get(f"/clients/{books.client.id}/acts/").get_data(as_text=True)
    assert "Выгрузка остатков" in page and "Не в этот акт" in page
    response = client.post(f"/clients/{books.client.id}/acts/new", data={
        "period_from": "2026-11-01", "period_to": "2026-11-30", "items": [str(item)]})
    assert response.status_code == 303
    act_id = int(response.headers["Location"].rsplit("/", 1)[1])
    act = load_act(app, act_id)
    [line] = act.lines
    form = client.get(f"/acts/{act_id}/lines/{line.id}?edit=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'name="line{line.id}-price"' in form
    version = str(line.version)
    saved = client.post(f"/acts/{act_id}/lines/{line.id}", headers={"HX-Request": "true"}, data={
        f"line{line.id}-name": "Выгрузка остатков на сайт", f"line{line.id}-quantity": "3",
        f"line{line.id}-unit": "ч", f"line{line.id}-price": "4 000", f"line{line.id}-version": version})
    assert saved.status_code == 200, messages(saved)
    assert load_act(app, act_id).net_amount == Decimal("12000.00")
    issued = client.post(f"/acts/{act_id}/status", data={"target": "issued", "from": "draft",
                                                          "version": str(_version(app, act_id))})
    assert issued.status_code == 303
    act = load_act(app, act_id)
    assert act.status == ActStatus.ISSUED and act.number == "2026-0001" and act.total_amount == Decimal("14640.00")


def test_issued_act_refuses_edits_with_a_message(app, client, books, make_done_item, make_act):
    """Is adding or changing a line of an issued act refused (422) with a message, nothing changed?"""
    make_done_item(books)
    act_id = make_act(books, issue=True)
    act = load_act(app, act_id)
    client.login(books.accountant)
    added = client.post(f"/acts/{act_id}/lines", data={"new-line-name": "Ещё", "new-line-quantity": "1",
                                                       "new-line-unit": "ч", "new-line-price": "1"})
    assert added.status_code == 422 and any("не меняется" in m for m in messages(added))
    line = act.lines[0]
    changed = client.post(f"/acts/{act_id}/lines/{line.id}", data={
        f"line{line.id}-name": "Другое", f"line{line.id}-quantity": "1", f"line{line.id}-unit": "ч",
        f"line{line.id}-price": "1", f"line{line.id}-version": str(line.version)})
    assert changed.status_code == 422
    assert load_act(app, act_id).lines[0].name == line.name
    assert client.post(f"/acts/{act_id}/delete", data={"version": str(act.version)}).status_code == 422


def test_hostile_text_shows_escaped_on_the_page_and_intact_in_the_document(app, client, books, make_act):
    """Does «<script>&"'» in a line print as text on the page and unchanged in the DOCX?"""
    hostile = '<script>alert(1)</script> & "кавычки" \'одинарные\''
    act_id = make_act(books)
    client.login(books.accountant)
    response = client.post(f"/acts/{act_id}/lines", data={"new-line-name": hostile, "new-line-quantity": "1",
                                                           "new-line-unit": "усл.", "new-line-price": "100"})
    assert response.status_code == 303
    page = client.get(f"/acts/{act_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    from tests.documents_helpers import all_text, read_docx
    assert hostile in all_text(read_docx(client.get(f"/acts/{act_id}.docx").data))


def test_overpayment_is_refused_and_payments_add_up(app, client, books, make_done_item, make_act):
    """Is a payment above what is owed refused (422) with the amount owed, a part payment recorded?"""
    make_done_item(books, hours=Decimal("1"))  # 3 500 + 22 % = 4 270
    act_id = make_act(books, issue=True)
    client.login(books.accountant)
    too_much = client.post(f"/acts/{act_id}/payments", data={"payment-paid_on": "2026-11-25",
                                                             "payment-amount": "4 270,01"})
    assert too_much.status_code == 422 and any("Переплата" in m for m in messages(too_much))
    part = client.post(f"/acts/{act_id}/payments", data={"payment-paid_on": "2026-11-25", "payment-amount": "1000"})
    assert part.status_code == 303
    assert load_act(app, act_id).paid_amount == Decimal("1000.00")
    assert "Оплачен частично" in client.get(f"/acts/{act_id}").get_data(as_text=True)


def test_a_manager_reads_acts_but_may_not_issue_or_take_payments(app, client, books, make_done_item, make_act):
    """Does the client's manager see the act, yet get 403 on issuing and on recording a payment?"""
    make_done_item(books)
    act_id = make_act(books)
    client.login(books.manager)
    assert client.get(f"/acts/{act_id}").status_code == 200
    assert client.post(f"/acts/{act_id}/status", data={"target": "issued", "from": "draft",
                                                       "version": str(_version(app, act_id))}).status_code == 403
    assert client.post(f"/acts/{act_id}/payments", data={"payment-paid_on": "2026-11-25",
                                                         "payment-amount": "1"}).status_code == 403


def test_list_filters_totals_and_exports_neutralise_formulas(app, client, books, make_user, make_client,
                                                             make_done_item, make_act, clock):
    """Do the list's filters and totals work, and does a client named «=HYPERLINK(…)» export as text?"""
    make_done_item(books)
    first = make_act(books, issue=True)
    hostile = make_client(books.manager, short_name='=HYPERLINK("http://evil.test","Клик")')
    from types import SimpleNamespace
    other = SimpleNamespace(manager=books.manager, accountant=books.accountant, client=hostile)
    make_done_item(other, title="Работа", hours=Decimal("1"))
    make_act(other, issue=True)
    clock.shift(days=30)  # both are overdue now
    with app.app_context():
        act_service.add_payment(db.session.get(Act, first), paid_on=date(2026, 12, 1), amount=Decimal("17080"),
                                acting=db.session.get(User, books.accountant.id))
        db.session.commit()
    client.login(books.accountant)
    overdue = client.get("/acts/?paid=overdue").get_data(as_text=True)
    assert "2026-0002" in overdue and "2026-0001" not in overdue
    paid = client.get(f"/acts/?paid=paid&client={books.client.id}").get_data(as_text=True)
    assert "2026-0001" in paid and "Выставлено 1 акт" in paid
    assert 'type="hidden" name="client"' in paid and 'href="/acts/?paid=paid">все клиенты' in paid
    by_name = client.get("/acts/?q=%D1%80%D0%BE%D0%BC%D0%B0%D1%88").get_data(as_text=True)  # «ромаш»
    assert "2026-0001" in by_name and "2026-0002" not in by_name and "Выставлено 1 акт" in by_name
    csv_text = client.get("/acts/export.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK(" in csv_text and ";=HYPERLINK(" not in csv_text and '"=HYPERLINK(' not in csv_text
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(client.get("/acts/export.xlsx").data)).active
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + '=HYPERLINK("http://evil.test","Клик")' in names and "Ромашка" in names


def test_list_pages_count_drafts_while_totals_count_billed_acts(app, client, books, make_done_item, make_act,
                                                                 count_queries):
    """Over two pages, does «Всего» count every act listed (drafts too) while «Выставлено» counts the
    issued ones only, with no count query of its own (the totals' scan gives it)?"""
    make_done_item(books)
    make_act(books, issue=True)
    make_done_item(books, title="Вторая")
    make_act(books)
    make_done_item(books, title="Третья")
    make_act(books)
    app.config["PER_PAGE"] = 2
    client.login(books.accountant)
    with count_queries() as statements:
        first = client.get("/acts/").get_data(as_text=True)
    assert "Всего: 3" in first and "Выставлено 1 акт" in first and first.count('<tr><td class="text-nowrap">') == 2
    assert not [s for s in statements if "count(*)" in s.lower() and "sum(" not in s.lower()]
    second = client.get("/acts/?page=2").get_data(as_text=True)
    assert "Всего: 3" in second and second.count('<tr><td class="text-nowrap">') == 1


def test_my_day_lists_overdue_acts_and_reminded_logs_a_contact(app, client, books, make_done_item, make_act, clock):
    """Does «Мой день» list an act past its due date and «Напомнил» write a contact in the client's log?"""
    make_done_item(books)
    act_id = make_act(books, issue=True)
    clock.shift(days=8)  # past the acceptance period, the payment not due yet
    client.login(books.manager)
    page = client.get("/").get_data(as_text=True)
    assert "не подписан, срок приёмки истёк" in page and "просрочена" not in page
    clock.shift(days=12)
    client.login(books.manager)  # the session has timed out meanwhile
    page = client.get("/").get_data(as_text=True)
    assert "Акты: подписание и оплата" in page and "2026-0001" in page and "просрочена" in page
    response = client.post(f"/acts/{act_id}/reminded", data={"next": "dashboard"})
    assert response.status_code == 303
    with app.app_context():
        summaries = list(db.session.scalars(sa.select(Touchpoint.summary).where(Touchpoint.client_id == books.client.id)))
    assert any("2026-0001" in s for s in summaries)


def test_reminder_mail_goes_to_the_payment_decider_with_acts_and_invoices(mail_app, client, books, make_done_item,
                                                                           make_act, clock):
    """Does one letter go to the contact who decides payment, with each act and its invoice attached?"""
    make_done_item(books)
    make_act(books, issue=True)
    make_done_item(books, title="Вторая")
    make_act(books, issue=True)
    clock.shift(days=20)
    with mail_app.app_context():
        contact_id = act_service.payment_deciders(db.session.get(Act, 1).client)[0].id
    client.login(books.accountant)
    response = client.post(f"/clients/{books.client.id}/acts/reminder", data={"remind-contact_id": str(contact_id)})
    assert response.status_code == 200, messages(response)
    [letter] = mail_app.inbox.messages
    assert letter["To"] == "kovaleva@romashka.test" and "2026-0001" in letter.get_body().get_content()
    names = sorted(part.get_filename() for part in letter.iter_attachments())
    assert names == ["Акт 2026-0001 Ромашка.docx", "Акт 2026-0002 Ромашка.docx",
                     "Счёт 2026-0001 Ромашка.docx", "Счёт 2026-0002 Ромашка.docx"]


def test_act_pages_cost_the_same_for_more_acts(app, client, books, make_done_item, make_act, count_queries):
    """Do the list and the act page run the same number of queries for 2 acts as for 6, and 2 lines as 6?"""
    client.login(books.accountant)

    def measure(lines: int) -> tuple[int, int]:
        for n in range(lines):
            make_done_item(books, title=f"Работа {n}")
        act_id = make_act(books, issue=True)
        with count_queries() as listed:
            assert client.get("/acts/").status_code == 200
        with count_queries() as shown:
            assert client.get(f"/acts/{act_id}").status_code == 200
        return len(listed), len(shown)

    make_done_item(books, title="Первая")
    make_act(books, issue=True)
    few = measure(2)
    for _ in range(4):
        make_done_item(books, title="Ещё")
        make_act(books, issue=True)
    assert measure(6) == few


def test_the_list_and_its_export_read_what_their_rows_show(app, client, books, make_done_item, make_act,
                                                           count_queries):
    """The acts list and the CSV export show each act's number, dates, client and money: they read
    neither the act's frozen parties and hours nor its client's requisites (issue 9: the export of
    6,000 acts decoded them all, 0.85 s → 0.34 s), and still show every column."""
    make_done_item(books, title="Первая")
    make_act(books, issue=True)
    client.login(books.accountant)
    for url in ("/acts/", "/acts/export.csv"):
        with count_queries() as statements:
            answer = client.get(url)
        assert answer.status_code == 200
        rows = [s for s in statements if "FROM acts" in s and "acts.number" in s]
        assert rows and not [s for s in rows if "acts.parties" in s or "clients.inn" in s], url
    exported = client.get("/acts/export.csv").data.decode("utf-8-sig").splitlines()[1].split(";")
    assert exported[:3] == ["2026-0001", "25.11.2026", "Ромашка"] and exported[5] == "Выставлен"


def test_the_export_prints_every_column_of_an_issued_and_a_draft_act(app, client, books, make_done_item,
                                                                    make_act, clock):
    """A partly paid act past its due date exports its money, what is left to pay and «Просрочена
    оплата»; a draft exports as «черновик» with no payment state (the export reads the acts'
    columns, not the acts: 6,000 of them cost 0.19 s of CPU built as objects)."""
    make_done_item(books, title="Первая")
    issued = make_act(books, issue=True)
    make_done_item(books, title="Вторая")
    make_act(books)
    clock.shift(days=60)
    with app.app_context():
        act_service.add_payment(db.session.get(Act, issued), paid_on=date(2027, 1, 10), amount=Decimal("1000.50"),
                                acting=db.session.get(User, books.accountant.id))
        db.session.commit()
        act = db.session.get(Act, issued)
        money = [f"{amount:f}".replace(".", ",") for amount in
                 (act.net_amount, act.vat_amount, act.total_amount, Decimal("1000.50"), act.total_amount - Decimal("1000.50"))]
        expected = [act.number, act.act_date.strftime("%d.%m.%Y"), "Ромашка", "01.11.2026", "30.11.2026", "Выставлен",
                    *money, act.due_on.strftime("%d.%m.%Y"), "Просрочена оплата"]
    client.login(books.accountant)
    lines = client.get("/acts/export.csv").data.decode("utf-8-sig").splitlines()
    rows = {line.split(";")[0]: line.split(";") for line in lines[1:]}
    assert len(lines) == 3 and rows[expected[0]] == expected
    assert rows["черновик"][2:6] == ["Ромашка", "01.11.2026", "30.11.2026", "Черновик"] and rows["черновик"][-1] == ""


def test_new_act_offers_done_items_by_what_their_lines_need(app, client, books, make_done_item, count_queries):
    """«Новый акт» lists the done items by key, title and hours, and a draft bills them: the offer
    reads the columns a line needs, not each item's request, spec and its client joined again per
    row (issue 9: 29 items of a client, 9.8 ms a visit to the client's acts on the benchmark data)."""
    item = make_done_item(books, title="Выгрузка остатков", hours=Decimal("3"))
    client.login(books.accountant)
    with count_queries() as statements:
        page = client.get(f"/clients/{books.client.id}/acts/").get_data(as_text=True)
    assert "Выгрузка остатков" in page and re.search(r"-\d+ Выгрузка остатков", page)
    offered = [s for s in statements if "FROM backlog_items" in s and "backlog_items.title" in s]
    assert offered and not [s for s in offered if "request_text" in s or "JOIN clients" in s], offered
    response = client.post(f"/clients/{books.client.id}/acts/new", data={
        "period_from": "2026-11-01", "period_to": "2026-11-30", "items": [str(item)]})
    [line] = load_act(app, int(response.headers["Location"].rsplit("/", 1)[1])).lines
    assert line.name.endswith("Выгрузка остатков") and line.quantity == Decimal("3")


def test_a_line_drawn_alone_skips_the_history_the_page_shows(app, client, books, make_done_item, make_act,
                                                              count_queries):
    """A line's row (an inline edit's «Отмена») does not read the act's history, which only the page
    prints; the page still lists it."""
    make_done_item(books, title="Первая")
    act_id = make_act(books)
    line_id = load_act(app, act_id).lines[0].id
    client.login(books.accountant)
    with count_queries() as statements:
        row = client.get(f"/acts/{act_id}/lines/{line_id}", htmx=True)
    assert row.status_code == 200 and "Первая" in row.get_data(as_text=True)
    assert not [s for s in statements if "FROM audit_events" in s]
    page = client.get(f"/acts/{act_id}").get_data(as_text=True)
    assert "создание" in page.split("История")[-1]


def test_stale_line_edit_conflicts_only_on_the_same_field(app, client, books, make_act):
    """Two people edit one draft line: different fields both save; the same field answers 409 with both values."""
    act_id = make_act(books)
    client.login(books.accountant)
    client.post(f"/acts/{act_id}/lines", data={"new-line-name": "Консультации", "new-line-quantity": "2",
                                               "new-line-unit": "ч", "new-line-price": "3000"})
    line = load_act(app, act_id).lines[0]
    prefix, version = f"line{line.id}", str(line.version)
    base = {f"{prefix}-name": "Консультации", f"{prefix}-quantity": "2", f"{prefix}-unit": "ч",
            f"{prefix}-price": "3000", f"{prefix}-version": version}
    from webapp.saving import encode_shown, fingerprint
    shown = encode_shown({"name": fingerprint("Консультации"), "quantity": fingerprint(Decimal("2")),
                          "unit": fingerprint("ч"), "price": fingerprint(Decimal("3000"))})
    base[f"{prefix}-version_shown"] = shown
    first = client.post(f"/acts/{act_id}/lines/{line.id}", data={**base, f"{prefix}-price": "3500"})
    assert first.status_code == 200
    other_field = client.post(f"/acts/{act_id}/lines/{line.id}", data={**base, f"{prefix}-name": "Консультации по 1С"})
    assert other_field.status_code == 200
    same_field = client.post(f"/acts/{act_id}/lines/{line.id}", data={**base, f"{prefix}-price": "4000"})
    assert same_field.status_code == 409 and "Ваше значение" in same_field.get_data(as_text=True)
    saved = load_act(app, act_id).lines[0]
    assert (saved.name, saved.price, saved.amount) == ("Консультации по 1С", Decimal("3500.00"), Decimal("7000.00"))


def test_unpaid_acts_join_the_meeting_agenda_and_the_timeline(app, books, make_done_item, make_act, clock):
    """Does an overdue act become a point «Неоплаченные акты» of the next meeting, and its issue a timeline entry?"""
    from webapp.models import Client
    from webapp.services import agenda, timeline

    make_done_item(books)
    act_id = make_act(books, issue=True)
    clock.shift(days=20)
    with app.app_context():
        client = db.session.get(Client, books.client.id)
        sections = {p.section.title: p.points for p in agenda.proposals(client, None, date(2026, 12, 15))}
        [point] = sections["Неоплаченные акты"]
        assert point.key == f"acts-unpaid:{act_id}" and "2026-0001" in point.title
        entries = [e for e in timeline.entries(client, db.session.get(User, books.accountant.id), limit=20)
                   if e.kind == "acts"]
        assert [e.title for e in entries] == ["Акт выставлен"]


def test_issued_act_page_with_its_moves_and_payment_form_is_valid_html(app, client, books, make_done_item, make_act):
    """Is the page of an issued act — sign with a date, signer and how, cancel with a reason, a payment — valid?"""
    from tests.html_checks import assert_valid

    make_done_item(books)
    act_id = make_act(books, issue=True)
    client.login(books.accountant)
    response = client.get(f"/acts/{act_id}")
    assert_valid(response)
    page = response.get_data(as_text=True)
    assert 'name="signed_how"' in page and "Подписан в ЭДО" in page and 'name="cancel_reason"' in page
    assert "Записать оплату" in page
    assert_valid(client.get(f"/clients/{books.client.id}/acts/"))
    assert_valid(client.get("/acts/?paid=unpaid"))
