"""The budget as documents: an XLSX workbook for the client's accountant and a DOCX appendix to the
contract for approval. Plain data in, bytes out.

Numbers are stored as numbers with a money format; every total is a formula over the cells it sums
(``=SUM(B5:B7)``), so the workbook recalculates when the accountant edits a plan. The figures are
those of the budget's page (``services.budgets.sheet_data``).
"""

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from webapp.documents.money import amount_in_words, format_amount, vat_statement
from webapp.documents.parties import Party
from webapp.documents.regulation import UNSIGNED_DATE, city, hours, party_context, sample_regulation
from webapp.documents.render import register_sample, render_docx
from webapp.documents.typography import strip_number_sign, typeset
from webapp.formatting import long_date
from webapp.models.company import VatMode

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


# --- the appendix for approval ------------------------------------------------------------------

TEMPLATE = "budget.docx"


@dataclass
class BudgetDoc:
    """What the budget appendix prints: both parties, the year, the blocks' plans."""

    year: int
    contractor: Party
    client: Party
    blocks: list[tuple[str, Decimal, Decimal]]  # name, hours, amount
    vat_mode: VatMode = VatMode.ON_TOP
    contract_number: str = ""
    contract_date: date | None = None
    city: str = "Москва"
    drawn_on: date | None = None


def render_appendix(data: BudgetDoc, override_dir: Path | None = None) -> bytes:
    """The budget appendix as the bytes of a .docx file."""
    return render_docx(TEMPLATE, appendix_context(data), override_dir)


def appendix_context(data: BudgetDoc) -> dict:
    contract_number = strip_number_sign(data.contract_number)
    total = sum((amount for _, _, amount in data.blocks), Decimal("0.00"))
    return typeset({
        "year": data.year,
        "city": city(data.city),
        "drawn_on": long_date(data.drawn_on) if data.drawn_on else UNSIGNED_DATE,
        "contract": {"number": contract_number,
                     "date": long_date(data.contract_date) if data.contract_date else ""} if contract_number else None,
        "contractor": party_context(data.contractor, "Исполнитель"),
        "client": party_context(data.client, "Заказчик"),
        "blocks": [{"number": n, "name": name, "hours": hours(h) if h else "—", "amount": format_amount(amount)}
                   for n, (name, h, amount) in enumerate(data.blocks, start=1)],
        "total": format_amount(total),
        "total_words": amount_in_words(total),
        "vat": vat_statement(data.vat_mode),
        "unsigned_date": UNSIGNED_DATE,
    })


def sample_budget() -> BudgetDoc:
    regulation = sample_regulation()
    return BudgetDoc(year=2027, contractor=regulation.contractor, client=regulation.client,
                     blocks=[("Операционный блок", Decimal("400"), Decimal("1200000.00")),
                             ("Бухгалтерия", Decimal("120"), Decimal("360000.00"))],
                     contract_number="15/26", contract_date=date(2026, 1, 15), drawn_on=date(2026, 11, 27))


register_sample(TEMPLATE, lambda: appendix_context(sample_budget()))
