"""The client's agreed order on paper and in Excel: the ranked open items, who agreed the order and
when, numbers as numbers — and nothing internal."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.backlog_fixtures import DECISION_MAKER, contact_named
from tests.html_checks import assert_valid
from webapp.extensions import db
from webapp.models import BacklogItem, Role, User
from webapp.services import backlog as backlog_service

INTERNAL = "Внутренняя заметка: клиент платит с задержкой"
SECRET_LINE = "Запас на согласование с бухгалтерией"


@pytest.fixture
def ranked(app, client, make_user, make_client, make_item):
    """Three estimated items of «Ромашка», the third moved to the top, the order agreed."""
    manager = make_user(Role.MANAGER)
    romashka = make_client(manager, short_name="Ромашка", contacts=[DECISION_MAKER])
    first = make_item(romashka, manager, title="Отчёт по продажам", hours=Decimal("4"))
    second = make_item(romashka, manager, title="=HYPERLINK(\"http://evil.test\")", hours=Decimal("2.5"))
    third = make_item(romashka, manager, title="Загрузка банковской выписки")
    with app.app_context():
        acting = db.session.get(User, manager.id)
        stored = db.session.get(BacklogItem, third.id)
        backlog_service.estimate_item(stored, hours=Decimal("1.25"), note=INTERNAL,
                                      lines=[{"title": SECRET_LINE, "hours": Decimal("1.25")}], acting=acting)
        backlog_service.move_rank(stored, before=db.session.get(BacklogItem, first.id), acting=acting)
        db.session.commit()
    client.login(manager)
    approver = contact_named(app, romashka, DECISION_MAKER["full_name"])
    assert client.post(f"/clients/{romashka.id}/backlog/priorities",
                       data={"contact_id": str(approver)}).status_code == 303
    return romashka, [third, first, second]


def test_the_export_holds_the_agreed_order_with_numbers(client, ranked):
    """Does «Excel» give a workbook with the agreement in its header, the items in rank order and the
    hours and costs as formatted numbers, and no internal note or estimate line?"""
    romashka, order = ranked
    page = client.get(f"/clients/{romashka.id}/backlog/").get_data(as_text=True)
    assert f'href="/clients/{romashka.id}/backlog.xlsx"' in page and ">Печать<" in page
    response = client.get(f"/clients/{romashka.id}/backlog.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    header = "\n".join(str(row[0]) for row in cells[:4])
    assert "Ромашка" in header and f"Согласовано: {DECISION_MAKER['full_name']}, 25.11.2026 10:00" in header
    table = cells[cells.index(["№", "Номер", "Задача", "Приоритет", "Состояние", "Оценка, ч", "Стоимость, ₽"]) + 1:]
    assert [row[1] for row in table] == [item.key for item in order]
    assert [row[0] for row in table] == [1, 2, 3]
    assert [row[5] for row in table] == [1.25, 4, 2.5]
    assert all(isinstance(row[6], (int, float)) and row[6] == pytest.approx(row[5] * table[1][6] / 4) for row in table)
    first_row = cells.index(table[0]) + 1
    assert sheet.cell(first_row, 6).number_format == "#,##0.00" and "₽" in sheet.cell(first_row, 7).number_format
    assert sheet.cell(first_row + 2, 3).data_type == "s"  # the «=HYPERLINK» title stays text
    everything = " ".join(str(v) for row in cells for v in row if v is not None)
    assert INTERNAL not in everything and SECRET_LINE not in everything


def test_the_print_page_shows_the_order_and_who_agreed(client, ranked):
    """Is «Печать» a valid page with the ranked items and who agreed the order, when — and no note?"""
    romashka, order = ranked
    response = client.get(f"/clients/{romashka.id}/backlog/print")
    assert response.status_code == 200
    assert_valid(response)
    html = response.get_data(as_text=True)
    assert f"Согласовано: {DECISION_MAKER['full_name']}, 25.11.2026 10:00" in html and "data-print" in html
    positions = [html.index(item.key) for item in order]
    assert positions == sorted(positions)
    assert INTERNAL not in html and SECRET_LINE not in html and "изменён после согласования" not in html


def test_the_print_page_says_when_the_order_moved_on_since_it_was_agreed(app, client, ranked):
    """After a move, does the printed list say the order is no longer the agreed one?"""
    romashka, order = ranked
    client.post(f"/backlog/{order[2].id}/rank", data={"before": str(order[0].id)})
    html = client.get(f"/clients/{romashka.id}/backlog/print").get_data(as_text=True)
    assert "Порядок изменён после согласования." in html
