"""The act of completed work (акт сдачи-приёмки оказанных услуг) and its invoice (счёт на оплату).

``render_act`` and ``render_invoice`` take an ``ActDoc`` — plain data, no database — and return DOCX
bytes. The act carries every detail 402-ФЗ art. 9 p. 2 requires of a primary document: its name,
number and date, who drew it up and for whom (both parties with ИНН/КПП/address), the contract it
rests on, the content and measure of the work (the line table with units, quantities and money),
totals with the VAT line, the amount in words, and both signatories with their positions. The
invoice follows the layout accountants know from 1C: the payee's bank details on top, then the
number and date, the parties, the lines, totals, VAT, the amount in words, signatures, and — when
the company profile says so — a payment QR code in the ГОСТ Р 56042-2014 format.
"""

import functools
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from webapp.documents.money import NO_VAT_TEXT, amount_in_words, format_amount, vat
from webapp.documents.parties import Party
from webapp.documents.regulation import party_context, sample_regulation
from webapp.documents.render import register_sample, render_docx
from webapp.documents.typography import strip_number_sign, typeset
from webapp.formatting import long_date, number
from webapp.models.company import VatMode

ACT_TEMPLATE = "act.docx"
INVOICE_TEMPLATE = "invoice.docx"
QR_WIDTH_MM = 35
# Characters the ГОСТ Р 56042-2014 «|»-separated string cannot carry inside a value.
_QR_FORBIDDEN = str.maketrans({"|": " ", "\n": " ", "\r": " "})


@dataclass
class ActLineDoc:
    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    amount: Decimal


@dataclass
class HoursRow:
    """One day's work behind a line, for the appendix detailing the hours."""

    item: str
    day: date
    who: str
    hours: Decimal
    comment: str = ""


@dataclass
class ActDoc:
    """Everything the act and its invoice print."""

    number: str
    act_date: date | None
    period_from: date
    period_to: date
    contractor: Party
    client: Party
    lines: list[ActLineDoc] = field(default_factory=list)
    vat_mode: VatMode = VatMode.ON_TOP
    vat_rate: Decimal = Decimal("22")
    contract_number: str = ""
    contract_date: date | None = None
    is_draft: bool = False
    cancelled: bool = False
    due_on: date | None = None
    print_qr: bool = True
    hours: list[HoursRow] = field(default_factory=list)  # the appendix; empty: no appendix printed


def _quantity(value: Decimal) -> str:
    return number(value) if value != value.to_integral_value() else number(value, 0)


def _party_line(party: Party) -> str:
    """«ООО «Ромашка», ИНН 7701234567, КПП 770101001, 123456, г. Москва, …» — the 1C header line."""
    parts = [party.legal_name or party.name]
    if party.inn:
        parts.append(f"ИНН {party.inn}")
    if party.kpp and not party.sole_trader:
        parts.append(f"КПП {party.kpp}")
    if party.address:
        parts.append(party.address)
    if party.phone:
        parts.append(f"тел.: {party.phone}")
    return ", ".join(parts)


def _split(data: ActDoc):
    return vat(sum((line.amount for line in data.lines), Decimal("0")), data.vat_mode, data.vat_rate)


def _totals(data: ActDoc) -> tuple[list[dict], Decimal]:
    """The totals rows under the table, by VAT mode, and the amount to pay."""
    split = _split(data)
    if split.mode is VatMode.ON_TOP:
        rows = [{"label": "Итого", "value": format_amount(split.net)},
                {"label": split.label, "value": format_amount(split.vat)},
                {"label": "Всего с НДС", "value": format_amount(split.total)}]
    elif split.mode is VatMode.INCLUDED:
        rows = [{"label": "Итого", "value": format_amount(split.total)},
                {"label": split.label, "value": format_amount(split.vat)}]
    else:
        rows = [{"label": "Итого", "value": format_amount(split.total)},
                {"label": NO_VAT_TEXT, "value": "—"}]
    return rows, split.total


def _context(data: ActDoc) -> dict:
    rows, total = _totals(data)
    split = _split(data)
    contract_number = strip_number_sign(data.contract_number)
    vat_note = ", без налога (НДС)" if split.mode is VatMode.NONE else f", в том числе НДС {format_amount(split.vat)}"
    return {
        "number": data.number or "____",
        "date": long_date(data.act_date) if data.act_date else "«___» ____________ 20__ г.",
        "period": f"с {long_date(data.period_from)} по {long_date(data.period_to)}",
        "is_draft": data.is_draft,
        "cancelled": data.cancelled,
        "contract": {"number": contract_number,
                     "date": long_date(data.contract_date) if data.contract_date else ""} if contract_number else None,
        "contractor": {**party_context(data.contractor, "Исполнитель"), "line": _party_line(data.contractor)},
        "client": {**party_context(data.client, "Заказчик"), "line": _party_line(data.client)},
        "lines": [{"number": n, "name": line.name, "quantity": _quantity(line.quantity), "unit": line.unit,
                   "price": format_amount(line.price), "amount": format_amount(line.amount)}
                  for n, line in enumerate(data.lines, start=1)],
        "totals": rows,
        "count": len(data.lines),
        "total": format_amount(total),
        "total_words": amount_in_words(total),
        "vat_note": vat_note,
        "due": long_date(data.due_on) if data.due_on else "",
        "hours": [{"item": row.item, "date": row.day.strftime("%d.%m.%Y"), "who": row.who,
                   "hours": _quantity(row.hours), "comment": row.comment} for row in data.hours],
        "hours_total": _quantity(sum((row.hours for row in data.hours), Decimal(0))),
        "bank": {"name": data.contractor.bank_name, "bik": data.contractor.bik,
                 "corr_account": data.contractor.corr_account, "account": data.contractor.account,
                 "inn": data.contractor.inn, "kpp": "" if data.contractor.sole_trader else data.contractor.kpp,
                 "payee": data.contractor.legal_name or data.contractor.name},
    }


def act_context(data: ActDoc) -> dict:
    return typeset(_context(data))


def render_act(data: ActDoc, override_dir: Path | None = None) -> bytes:
    """The act as the bytes of a .docx file."""
    return render_docx(ACT_TEMPLATE, act_context(data), override_dir)


# --- the invoice and its payment QR code -----------------------------------------------------------------


def invoice_total(data: ActDoc) -> Decimal:
    return _totals(data)[1]


def payment_purpose(data: ActDoc) -> str:
    basis = f"Оплата по счёту № {data.number}" if data.number else "Оплата по счёту"
    if data.act_date:
        basis += f" от {data.act_date.strftime('%d.%m.%Y')}"
    contract = strip_number_sign(data.contract_number)
    if contract:
        basis += f" по договору № {contract}"
    split = _split(data)
    if split.mode is VatMode.NONE:
        basis += ". Без налога (НДС)"
    else:
        rate = f"{split.rate.normalize():f}".replace(".", ",")
        basis += f". В т.ч. НДС {rate}% - {format(split.vat, 'f').replace('.', ',')} руб."
    return basis


def payment_string(data: ActDoc) -> str:
    """The ГОСТ Р 56042-2014 payment string a bank app reads: «ST00012|Name=…|…|Sum=<kopecks>»."""
    payee = data.contractor
    fields = [("Name", payee.legal_name or payee.name), ("PersonalAcc", payee.account),
              ("BankName", payee.bank_name), ("BIC", payee.bik), ("CorrespAcc", payee.corr_account or "0"),
              ("PayeeINN", payee.inn)]
    if payee.kpp and not payee.sole_trader:
        fields.append(("KPP", payee.kpp))
    fields += [("Purpose", payment_purpose(data)), ("Sum", str(int(invoice_total(data) * 100)))]
    return "ST00012|" + "|".join(f"{key}={str(value).translate(_QR_FORBIDDEN).strip()}" for key, value in fields)


def can_print_qr(data: ActDoc) -> bool:
    """A QR code only when it is wanted and the payee's bank details are complete."""
    payee = data.contractor
    return data.print_qr and all((payee.account, payee.bik, payee.bank_name, payee.inn))


@functools.lru_cache(maxsize=64)
def qr_png(text: str) -> bytes:
    """The QR code of ``text`` as a PNG. segno takes 30 ms over it (choosing the mask, in pure
    Python), more than the rest of the invoice, so the last 64 are kept: the same invoice is
    downloaded again and attached to each reminder."""
    import segno

    buffer = io.BytesIO()
    # UTF-8 (the string's «ST00012» says so); error correction M, as bank apps expect
    segno.make(text, error="m", encoding="utf-8", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def invoice_context(data: ActDoc) -> dict:
    return typeset({**_context(data), "show_qr": can_print_qr(data)})


def render_invoice(data: ActDoc, override_dir: Path | None = None) -> bytes:
    """The invoice as the bytes of a .docx file, with the payment QR code when it can be printed."""
    context = invoice_context(data)
    images = {"qr": (qr_png(payment_string(data)), QR_WIDTH_MM)} if context["show_qr"] else None
    if images is None:
        context["qr"] = ""
    return render_docx(INVOICE_TEMPLATE, context, override_dir, images=images)


def sample_act() -> ActDoc:
    """An act with every part filled: the data an uploaded template is tried on."""
    regulation = sample_regulation()
    return ActDoc(
        number="2026-0042", act_date=date(2026, 11, 30), period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
        contractor=regulation.contractor, client=regulation.client, contract_number="15/26",
        contract_date=date(2026, 1, 15), due_on=date(2026, 12, 14),
        lines=[ActLineDoc("ROMASHKA-42 Выгрузка остатков в интернет-магазин", Decimal("12.5"), "ч",
                          Decimal("3000.00"), Decimal("37500.00")),
               ActLineDoc("ROMASHKA-43 Отчёт по продажам", Decimal("1"), "усл.", Decimal("15000.00"),
                          Decimal("15000.00"))],
        hours=[HoursRow("ROMASHKA-42 Выгрузка остатков в интернет-магазин", date(2026, 11, 10), "Смирнов Павел",
                        Decimal("8"), "Обмен, первая версия"),
               HoursRow("ROMASHKA-42 Выгрузка остатков в интернет-магазин", date(2026, 11, 11), "Смирнов Павел",
                        Decimal("4.5"), "Тестирование с клиентом")])


register_sample(ACT_TEMPLATE, lambda: act_context(sample_act()))
register_sample(INVOICE_TEMPLATE, lambda: {**invoice_context(sample_act()), "qr": ""})
