"""The client's agreed order of tasks as an XLSX workbook: plain data in, bytes out.

What the client receives: rank, number, title, priority, status, the estimate in hours and money —
never an internal note or the estimate's internal breakdown (the caller passes neither). Numbers
are written as numbers with formats, so the client can sum and sort them in Excel; text is text
even when it begins with «=» (a title is never run as a formula).
"""

import io
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

HOURS_FORMAT = "#,##0.00"
MONEY_FORMAT = '#,##0.00" ₽"'
COLUMNS = [("№", 6), ("Номер", 14), ("Задача", 60), ("Приоритет", 14), ("Состояние", 22), ("Оценка, ч", 12),
           ("Стоимость, ₽", 16)]


@dataclass
class OrderRow:
    rank: int
    key: str
    title: str
    priority: str
    status: str
    hours: Decimal | None
    cost: Decimal | None


@dataclass
class OrderSheet:
    client_name: str
    agreed: str          # «Ковалёва Анна Сергеевна, 25.11.2026 10:00», or «не согласован»
    exported: str        # when the file was made
    rows: list[OrderRow] = field(default_factory=list)
    note: str = ""       # e.g. «порядок изменён после согласования»


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value or "")


def _put_text(sheet, row: int, column: int, value: str):
    cell = sheet.cell(row=row, column=column, value=_text(value))
    cell.data_type = "s"  # «=HYPERLINK(…)» in a title stays the client's words, not a formula
    return cell


def render_order_xlsx(data: OrderSheet) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Приоритеты"
    _put_text(sheet, 1, 1, f"Приоритеты задач: {data.client_name}").font = Font(bold=True, size=14)
    _put_text(sheet, 2, 1, f"Согласовано: {data.agreed}")
    _put_text(sheet, 3, 1, f"Выгружено: {data.exported}")
    if data.note:
        _put_text(sheet, 4, 1, data.note).font = Font(italic=True)
    header = 6
    for column, (title, width) in enumerate(COLUMNS, start=1):
        _put_text(sheet, header, column, title).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    for offset, row in enumerate(data.rows, start=1):
        line = header + offset
        sheet.cell(row=line, column=1, value=row.rank)
        _put_text(sheet, line, 2, row.key)
        _put_text(sheet, line, 3, row.title).alignment = Alignment(wrap_text=True, vertical="top")
        _put_text(sheet, line, 4, row.priority)
        _put_text(sheet, line, 5, row.status)
        if row.hours is not None:
            sheet.cell(row=line, column=6, value=row.hours).number_format = HOURS_FORMAT
        if row.cost is not None:
            sheet.cell(row=line, column=7, value=row.cost).number_format = MONEY_FORMAT
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
    if data.rows:
        sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(COLUMNS))}{header + len(data.rows)}"
    sheet.print_title_rows = f"{header}:{header}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
