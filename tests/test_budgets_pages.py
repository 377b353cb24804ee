"""The budget's pages: the XLSX holds the page's numbers and formulas that give them, the SVG chart is
valid with its table beside it, the overview puts the riskiest first, the pages' queries stay flat."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import openpyxl
import sqlalchemy as sa
import pytest

from tests.backlog_fixtures import DECISION_MAKER
from tests.budget_fixtures import charged_item, finish_item
from tests.documents_helpers import SOFFICE, all_text, duplicate_entries, libreoffice_convert, read_docx
from webapp.extensions import db
from webapp.models import BlockKind, Budget, CarryOver
from webapp.services import budgets as budget_service

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def spent_budget(app, budget_team, make_budget):
    """Two blocks: one with work done in November and an approved item, one untouched."""
    manager, client = budget_team
    ids = make_budget(client, manager, blocks=[("Операционный блок", Decimal("100000")),
                                                ("Бухгалтерия", Decimal("36000.05"))])
    block = ids["blocks"]["Операционный блок"]
    done = charged_item(app, client, manager, block, Decimal("10"), approve=True)
    finish_item(app, done, manager, Decimal("7.5"), date(2026, 11, 10))
    charged_item(app, client, manager, block, Decimal("4"), approve=True)
    return manager, client, ids


def _figures(app, budget_id):
    with app.app_context():
        figures = budget_service.budget_figures(db.session.get(Budget, budget_id), date(2026, 11, 25))
        return {row.block.name: (row.planned, row.spent, row.committed, row.forecast) for row in figures.blocks}


def test_workbook_holds_the_pages_numbers_and_summing_formulas(app, client, spent_budget, tmp_path):
    """Does the XLSX hold each block's plan, spent, committed and forecast as numbers with a money
    format, totals as SUM formulas over exactly the block rows, and do they recalculate to the page's?"""
    manager, record, ids = spent_budget
    client.login(manager)
    response = client.get(f"/clients/{record.id}/budgets/2026.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Блоки"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=5) if row[0].value}
    expected = _figures(app, ids["budget"])
    assert expected["Операционный блок"][1] == Decimal("15000.00")  # 7,5 h × 2 000 ₽
    for name, numbers in expected.items():
        cells = rows[name]
        assert [Decimal(str(c.value)).quantize(Decimal("0.01")) for c in cells[1:5]] == list(numbers)
        assert all(isinstance(c.value, (int, float)) and "₽" in c.number_format for c in cells[1:5])
        assert cells[5].value == f"=B{cells[0].row}-C{cells[0].row}-D{cells[0].row}"
    total = rows["Итого"]
    first, last = min(rows[n][0].row for n in expected), max(rows[n][0].row for n in expected)
    assert [c.value for c in total[1:6]] == [f"=SUM({col}{first}:{col}{last})" for col in "BCDEF"]
    # LibreOffice here has no Calc: the two kinds of formula the workbook writes are evaluated by hand
    def value(ref: str) -> Decimal:
        cell = sheet[ref].value
        if isinstance(cell, str) and cell.startswith("=SUM("):
            start, end = re.fullmatch(r"=SUM\(([A-Z]+\d+):([A-Z]+\d+)\)", cell).groups()
            column = start.rstrip("0123456789")
            return sum((value(f"{column}{n}") for n in range(int(start[len(column):]), int(end[len(column):]) + 1)),
                       Decimal(0))
        if isinstance(cell, str) and cell.startswith("="):
            first_ref, *rest = re.findall(r"[A-Z]+\d+", cell)
            return value(first_ref) - sum((value(r) for r in rest), Decimal(0))
        return Decimal(str(cell))

    plan = sum(n[0] for n in expected.values())
    spent = sum(n[1] for n in expected.values())
    remaining = sum(n[0] - n[1] - n[2] for n in expected.values())
    row = total[0].row
    assert (value(f"B{row}"), value(f"C{row}"), value(f"F{row}")) == (plan, spent, remaining)


def test_chart_is_valid_svg_with_title_description_and_its_table(app, client, spent_budget):
    """Is the chart SVG well-formed, titled and described for a screen reader, drawn without inline
    styles, with the cumulative numbers in a table beside it?"""
    manager, record, ids = spent_budget
    client.login(manager)
    page = client.get(f"/clients/{record.id}/budgets/2026").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text.startswith("Бюджет 2026")
    assert "пунктир" in root.find(f"{SVG}desc").text
    assert len(root.findall(f"{SVG}polyline")) == 3 and "style=" not in svg
    table = re.search(r'<table[^>]*id="chart-table".*?</table>', page, re.S).group(0)
    assert "ноябрь" in table and "136\u00a0000,05" in table  # the year's plan, cumulative in December
    assert "15\u00a0000,00" in table


def test_overview_puts_the_riskiest_budget_first_and_shows_a_past_month(app, client, budget_team, make_budget,
                                                                        make_client):
    """Does /budgets/2026 list the client whose forecast is furthest over plan first, and does
    ?month=10 show the year as it stood at the end of October (nothing spent yet)?"""
    manager, record = budget_team
    calm = make_client(manager, short_name="Антей")
    make_budget(calm, manager, blocks=[("Операционный блок", Decimal("100000"))])
    block = make_budget(record, manager, blocks=[("Операционный блок", Decimal("10000"))])["blocks"]["Операционный блок"]
    done = charged_item(app, record, manager, block, Decimal("6"), approve=True, )
    finish_item(app, done, manager, Decimal("6"), date(2026, 11, 3))
    client.login(manager)
    page = client.get("/budgets/2026").get_data(as_text=True)
    assert page.index("Ромашка") < page.index("Антей")
    assert "12\u00a0000,00" in page
    past = client.get("/budgets/2026?month=10").get_data(as_text=True)
    assert "12\u00a0000,00" not in past and "На конец месяца «октябрь»" in past


def test_overview_figures_are_the_budget_pages_figures(app, client, budget_team, make_budget, make_client):
    """The overview sums each block's months in SQL instead of building the budget page's figures:
    are its plan, spent, committed and forecast the page's, now and at the end of a past month?"""
    manager, record = budget_team
    ids = make_budget(record, manager, blocks=[("Операционный блок", Decimal("50000")), ("Бухгалтерия", Decimal("9000"))])
    for block, hours, day in (("Операционный блок", "6", date(2026, 3, 10)), ("Операционный блок", "2.5", date(2026, 9, 1)),
                              ("Бухгалтерия", "4", date(2026, 10, 20))):
        item = charged_item(app, record, manager, ids["blocks"][block], Decimal(hours), approve=True)
        finish_item(app, item, manager, Decimal(hours), day)
    charged_item(app, record, manager, ids["blocks"]["Бухгалтерия"], Decimal("3"), approve=True)  # committed only
    with app.test_request_context():
        from webapp.formatting import today
        from webapp.models import User
        user = db.session.get(User, manager.id)
        for as_of in (None, 9, 3):
            ids = budget_service.ranked_budget_ids(user, 2026, today(), as_of)
            budgets = list(db.session.scalars(budget_service.overview_budgets(user, ids)))
            for fast in budget_service.overview(budgets, today(), as_of):
                page = budget_service.budget_figures(fast.budget, today(), as_of)
                assert [(r.block.name, r.planned, r.spent, r.spent_hours, r.committed, r.forecast, r.forecast_percent)
                        for r in fast.blocks] == \
                       [(r.block.name, r.planned, r.spent, r.spent_hours, r.committed, r.forecast, r.forecast_percent)
                        for r in page.blocks]
                assert (fast.planned, fast.spent, fast.forecast) == (page.planned, page.spent, page.forecast)
                assert fast.spent > 0 or as_of == 3


def test_budget_page_queries_do_not_grow_with_blocks_and_items(app, client, budget_team, make_budget, count_queries):
    """Does the budget page cost the same number of queries with one block and one item as with
    four blocks and eight items?"""
    manager, record = budget_team
    ids = make_budget(record, manager, blocks=[("Блок 0", Decimal("1000"))])
    charged_item(app, record, manager, ids["blocks"]["Блок 0"], Decimal("1"), approve=True)
    client.login(manager)
    client.get(f"/clients/{record.id}/budgets/2026")
    with count_queries() as small:
        assert client.get(f"/clients/{record.id}/budgets/2026").status_code == 200
    with app.app_context():
        from webapp.models import User
        budget = db.session.get(Budget, ids["budget"])
        for n in range(1, 4):
            block = budget_service.add_block(budget, name=f"Блок {n}", planned_amount=Decimal("1000"),
                                             acting=db.session.get(User, manager.id))
            db.session.commit()
            for _ in range(2):
                charged_item(app, record, manager, block.id, Decimal("1"), approve=True)
    with count_queries() as large:
        assert client.get(f"/clients/{record.id}/budgets/2026").status_code == 200
    assert len(large) == len(small), large


def test_a_blocks_row_is_drawn_from_its_figures_alone(app, client, budget_team, make_budget, count_queries):
    """A block's row (an inline edit's «Отмена») shows the block's figures as the page does, without
    the page's alerts, approvers and next year's budget (issue 9: 13 → 7 ms on the benchmark data)."""
    manager, record = budget_team
    ids = make_budget(record, manager, blocks=[("Операционный блок", Decimal("120000"))])
    block_id = ids["blocks"]["Операционный блок"]
    client.login(manager)
    page = client.get(f"/clients/{record.id}/budgets/2026").get_data(as_text=True)
    with count_queries() as statements:
        row = client.get(f"/budgets/blocks/{block_id}", htmx=True).get_data(as_text=True)
    shown = page.split(f'<tr id="block-{block_id}"')[1].split("</tr>")[0]
    assert row.strip().startswith(f'<tr id="block-{block_id}"') and shown in row
    assert not [s for s in statements if "FROM budget_alerts" in s or "FROM contacts" in s], statements


def test_item_is_charged_to_a_block_inline_and_the_block_follows(app, client, budget_team, make_budget, make_item):
    """Does charging an approved item to a block from its page move its estimate into the block's
    committed figure, and moving it off take it out again?"""
    manager, record = budget_team
    block = make_budget(record, manager)["blocks"]["Операционный блок"]
    item_id = charged_item(app, record, manager, block, Decimal("5"), approve=True)
    client.login(manager)
    form = client.get(f"/backlog/{item_id}/edit/budget", htmx=True).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="([^"]*)"', form).group(1)
    response = client.post(f"/backlog/{item_id}/edit/budget", htmx=True,
                           data={"budget_block_id": "", "version": version})
    assert response.status_code == 200 and "не относится к бюджету" in response.get_data(as_text=True)
    with app.app_context():
        from webapp.models import BudgetBlock
        assert db.session.get(BudgetBlock, block).committed == Decimal("0.00")


def test_appendix_reads_back_with_both_parties_and_opens_in_libreoffice(app, client, manager_with_client,
                                                                        make_budget, tmp_path):
    """Does the DOCX appendix name both parties, list the blocks with the total in words, carry both
    signature lines, and open in LibreOffice?"""
    manager, record = manager_with_client
    make_budget(record, manager, blocks=[("Операционный блок", Decimal("1200000")), ("Бухгалтерия", Decimal("360000"))])
    response = client.get(f"/clients/{record.id}/budgets/2026.docx")
    assert response.status_code == 200 and not duplicate_entries(response.data)
    text = all_text(read_docx(response.data))
    assert "БЮДЖЕТ НА 2026 ГОД" in text and "ООО «Ромашка»" in text
    assert "Операционный блок" in text and "Бухгалтерия" in text
    assert "1\u00a0560\u00a0000,00" in text and "Один миллион пятьсот шестьдесят тысяч рублей 00 копеек" in text
    assert text.count("_______") >= 2 and "Заказчик" in text and "Исполнитель" in text
    if SOFFICE is None:
        pytest.skip("LibreOffice is not installed")
    pdf = libreoffice_convert(response.data, "docx", "pdf", tmp_path / "work", tmp_path / "profile")
    assert pdf.startswith(b"%PDF")


def test_budget_is_started_filled_approved_and_continued_from_its_page(app, client, budget_team):
    """Can a manager create the budget, add a block, edit its plan in place (months follow), have it
    approved by a decision maker (refused without one) and start next year's draft from it?"""
    manager, record = budget_team
    client.login(manager)
    assert client.post(f"/clients/{record.id}/budgets/2026").status_code == 303
    added = client.post(f"/clients/{record.id}/budgets/2026/blocks",
                        data={"name": "Бухгалтерия", "kind": "money", "planned_amount": "12 000,00", "carry_over": "burn"})
    assert added.status_code == 303
    with app.app_context():
        from webapp.models import BudgetBlock
        block_id = db.session.scalar(db.select(BudgetBlock.id))
    form = client.get(f"/budgets/blocks/{block_id}/edit", htmx=True).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="([^"]*)"', form).group(1)
    saved = client.post(f"/budgets/blocks/{block_id}/edit", htmx=True,
                        data={"name": "Бухгалтерия", "planned_amount": "24000", "planned_hours": "", "version": version})
    assert saved.status_code == 200 and saved.headers.get("HX-Location")
    with app.app_context():
        block = db.session.get(BudgetBlock, block_id)
        assert block.planned_amount == Decimal("24000.00")
        assert [m.planned for m in block.months] == [Decimal("2000.00")] * 12
        contact_id = db.session.scalar(sa.text("select id from contacts where client_id = :c"), {"c": record.id})
    refused = client.post(f"/clients/{record.id}/budgets/2026/approve", data={"approved_on": "2026-11-25"})
    assert refused.status_code == 422
    approved = client.post(f"/clients/{record.id}/budgets/2026/approve",
                           data={"approved_on": "2026-11-25", "contact_id": str(contact_id)})
    assert approved.status_code == 303
    page = client.get(f"/clients/{record.id}/budgets/2026").get_data(as_text=True)
    assert "Утверждён" in page and "Ковалёва Анна Сергеевна" in page
    assert client.post(f"/clients/{record.id}/budgets/2026/next", data={"growth_percent": "5"}).status_code == 303
    with app.app_context():
        new = db.session.scalar(db.select(Budget).where(Budget.year == 2027))
        assert [(b.name, b.planned_amount) for b in new.blocks] == [("Бухгалтерия", Decimal("25200.00"))]


def test_overview_queries_do_not_grow_with_budgets(app, client, budget_team, make_budget, make_client, count_queries):
    """Does the overview cost the same number of queries for one client's budget as for four, each
    with an hour package carrying hours in from last year's?"""
    manager, record = budget_team

    def budgets_of(client_record) -> None:
        for year in (2025, 2026):
            make_budget(client_record, manager, year, blocks=[("Абонентское обслуживание", None)],
                        kind=BlockKind.HOURS, hours_per_month=Decimal("10"), carry_over=CarryOver.NEXT_MONTH)
        with app.app_context():
            from webapp.models import User
            budget = db.session.scalar(db.select(Budget).where(Budget.client_id == client_record.id,
                                                               Budget.year == 2026))
            budget_service.add_block(budget, name="Операционный блок", planned_amount=Decimal("1000"),
                                     acting=db.session.get(User, manager.id))
            db.session.commit()

    budgets_of(record)
    client.login(manager)
    client.get("/budgets/2026")
    with count_queries() as small:
        assert client.get("/budgets/2026").status_code == 200
    for n in range(3):
        budgets_of(make_client(manager, short_name=f"Клиент {n}"))
    client.get("/budgets/2026")  # the new budgets renewed the ranking: made once, then kept
    with count_queries() as large:
        assert client.get("/budgets/2026").status_code == 200
    assert len(large) == len(small), large


def test_overview_pages_keep_the_riskiest_first_across_pages(app, client, budget_team, make_budget, make_client):
    """With two budgets a page, are five clients' budgets shown on three pages, ordered by forecast
    over plan across the pages, with the month chosen kept in the page links?"""
    manager, record = budget_team
    app.config["BUDGETS_PER_PAGE"] = 2
    plans = {"Альфа": "5000", "Бета": "1000", "Гамма": "3000", "Дельта": "2000", "Эпсилон": "4000"}
    for name, plan in plans.items():
        customer = make_client(manager, short_name=name, contacts=[DECISION_MAKER], hourly_rate=Decimal("2000"))
        ids = make_budget(customer, manager, blocks=[("Операционный блок", Decimal(plan))])
        charged_item(app, customer, manager, ids["blocks"]["Операционный блок"], Decimal("5"), approve=True)
    client.login(manager)
    # the same five hours committed on each: the smaller the plan, the further over it
    shown = []
    for number in (1, 2, 3):
        page = client.get(f"/budgets/2026?month=&page={number}").get_data(as_text=True)
        shown += [name for name in sorted(plans, key=page.find) if name in page]
    assert shown == ["Бета", "Дельта", "Гамма", "Эпсилон", "Альфа"]
    first = client.get("/budgets/2026?month=11").get_data(as_text=True)
    assert 'href="/budgets/2026?month=11&amp;page=2"' in first


def test_budget_pages_in_every_state_are_valid_html(app, client, budget_team, make_budget):
    """Are the page without a budget, with an hour package, with a refused block, as of a past
    month, and the item page asking to confirm an overrun all valid, accessible HTML?"""
    from tests.html_checks import assert_valid

    manager, record = budget_team
    client.login(manager)
    assert_valid(client.get(f"/clients/{record.id}/budgets/2027"))
    ids = make_budget(record, manager, blocks=[("Абонентское обслуживание", None)], kind=BlockKind.HOURS,
                      hours_per_month=Decimal("10"), carry_over=CarryOver.QUARTER)
    assert_valid(client.get(f"/clients/{record.id}/budgets/2026"))
    assert_valid(client.get(f"/clients/{record.id}/budgets/2026?month=3"))
    refused = client.post(f"/clients/{record.id}/budgets/2026/blocks", data={"name": "", "kind": "money",
                                                                             "carry_over": "burn"})
    assert refused.status_code == 422
    assert_valid(refused)
    block = ids["blocks"]["Абонентское обслуживание"]
    charged_item(app, record, manager, block, Decimal("200"), approve=True)
    item_id = charged_item(app, record, manager, block, Decimal("100"))
    page = client.get(f"/backlog/{item_id}")
    assert "после согласования" in page.get_data(as_text=True)
    assert_valid(page)


def test_a_stale_approval_or_status_move_changes_nothing(app, client, budget_team, make_budget, make_user):
    """Is an approval from a page drawn before a colleague approved the budget refused (409), keeping
    the colleague's decision maker, and is «в черновик» from a page showing a draft refused too?"""
    manager, record = budget_team
    make_budget(record, manager)
    with app.app_context():
        contact_id = db.session.scalar(sa.text("select id from contacts where client_id = :c"), {"c": record.id})
    client.login(manager)
    first = client.post(f"/clients/{record.id}/budgets/2026/approve",
                        data={"approved_on": "2026-11-24", "contact_id": str(contact_id)})
    assert first.status_code == 303
    again = client.post(f"/clients/{record.id}/budgets/2026/approve",
                        data={"approved_on": "2026-11-25", "contact_id": str(contact_id)})
    assert again.status_code == 409
    stale_move = client.post(f"/clients/{record.id}/budgets/2026/status", data={"target": "draft", "from": "draft"})
    assert stale_move.status_code == 409
    with app.app_context():
        budget = db.session.scalar(db.select(Budget).where(Budget.client_id == record.id))
        assert (budget.status.value, budget.approved_on) == ("approved", date(2026, 11, 24))
