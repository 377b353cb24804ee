"""The budget as an XLSX workbook for the client's accountant: plain data in, bytes out.

Numbers are stored as numbers with a money format; every total is a formula over the cells it sums
(``=SUM(B5:B7)``), so the workbook recalculates when the accountant edits a plan. The figures are
those of the budget's page (``services.budgets.sheet_data``).
"""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = '#,##0.00" ₽"'
HEADERS = ["Блок", "План, ₽", "Израсходовано, ₽", "Согласовано, ₽", "Прогноз, ₽", "Остаток, ₽"]


def render_workbook(sheet) -> bytes:
    """Two sheets: «Блоки» (plan, spent, committed, forecast, remaining, totals) and «По месяцам»
    (each block's monthly plan and spent, totals by formula)."""
    book = Workbook()
    blocks = book.active
    blocks.title = "Блоки"
    blocks["A1"] = sheet.title
    blocks["A1"].font = Font(bold=True, size=14)
    blocks["A2"] = f"{sheet.client}. Статус: {sheet.status}."
    blocks.append([])
    blocks.append(HEADERS)
    header_row = blocks.max_row
    for cell in blocks[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)
    first = header_row + 1
    for n, block in enumerate(sheet.blocks):
        row = first + n
        blocks.append([block["name"], block["planned"], block["spent"], block["committed"], block["forecast"],
                       f"=B{row}-C{row}-D{row}"])
    last = first + len(sheet.blocks) - 1
    total = last + 1
    blocks.append(["Итого"] + [f"=SUM({col}{first}:{col}{last})" if sheet.blocks else 0 for col in "BCDEF"])
    blocks.cell(total, 1).font = Font(bold=True)
    for row in blocks.iter_rows(min_row=first, max_row=total, min_col=2, max_col=6):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    blocks.append([])
    blocks.append([sheet.method])
    blocks.column_dimensions["A"].width = 34
    for col in "BCDEF":
        blocks.column_dimensions[col].width = 18

    months = book.create_sheet("По месяцам")
    months.append(["Блок", "Показатель"] + sheet.months + ["Год"])
    for cell in months[1]:
        cell.font = Font(bold=True)
    for block in sheet.blocks:
        for label, values in (("План", block["month_plan"]), ("Израсходовано", block["month_spent"])):
            row = months.max_row + 1
            months.append([block["name"], label] + list(values) + [f"=SUM(C{row}:N{row})"])
    end = months.max_row
    if sheet.blocks:
        for label, offset in (("План", 0), ("Израсходовано", 1)):
            rows = range(2 + offset, end + 1, 2)
            months.append(["Итого", label] + [
                "=" + "+".join(f"{get_column_letter(col)}{r}" for r in rows) for col in range(3, 16)])
    for row in months.iter_rows(min_row=2, max_row=months.max_row, min_col=3, max_col=15):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    months.column_dimensions["A"].width = 30
    months.column_dimensions["B"].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
