"""The spec (техническое задание) of a backlog item as a DOCX for the client's sign-off.

``render_spec`` takes a ``SpecDoc`` — plain data, no database — and renders ``spec.docx``: the
item's key and title, both parties with their signatories, goal, current and required behaviour,
acceptance criteria, the estimate (hours, cost in figures and in words) and the approval lines.
Sections are numbered by the template's Word numbering; a section without text is left out, and
the rest renumber.

What the client receives holds only what is meant for the client: ``SpecDoc`` has no field for
internal notes or the internal breakdown of an estimate, so no caller can pass them on by mistake.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from webapp.documents.money import amount_in_words, format_amount, vat_statement
from webapp.documents.parties import Party
from webapp.documents.regulation import (UNSIGNED_DATE, city, hours, paragraphs, party_context,
                                         sample_regulation)
from webapp.documents.render import register_sample, render_docx
from webapp.documents.typography import strip_number_sign, typeset
from webapp.formatting import long_date
from webapp.models.company import VatMode

TEMPLATE = "spec.docx"


@dataclass
class SpecDoc:
    """Everything the spec prints. Texts are plain; a line break starts a new paragraph (in the
    acceptance criteria, a new criterion)."""

    key: str  # the item's number: «ROMASHKA-42»
    title: str
    contractor: Party
    client: Party
    goal: str = ""
    current_behaviour: str = ""
    required_behaviour: str = ""
    acceptance_criteria: str = ""
    estimate_hours: Decimal | None = None
    estimate_cost: Decimal | None = None
    vat_mode: VatMode = VatMode.ON_TOP  # how the cost stands to VAT
    contract_number: str = ""
    contract_date: date | None = None
    city: str = "Москва"
    drawn_on: date | None = None  # None: a blank «___» line to fill in by hand


def render_spec(data: SpecDoc, override_dir: Path | None = None) -> bytes:
    """The spec as the bytes of a .docx file."""
    return render_docx(TEMPLATE, spec_context(data), override_dir)


def spec_context(data: SpecDoc) -> dict:
    """What the template sees: the data with dates and money worded, typeset."""
    contract_number = strip_number_sign(data.contract_number)
    return typeset({
        "key": data.key.strip(),
        "title": data.title.strip(),
        "city": city(data.city),
        "drawn_on": long_date(data.drawn_on) if data.drawn_on else UNSIGNED_DATE,
        "contract": {"number": contract_number,
                     "date": long_date(data.contract_date) if data.contract_date else ""}
        if contract_number else None,
        "contractor": party_context(data.contractor, "Исполнитель"),
        "client": party_context(data.client, "Заказчик"),
        "goal": paragraphs(data.goal),
        "current_behaviour": paragraphs(data.current_behaviour),
        "required_behaviour": paragraphs(data.required_behaviour),
        "criteria": paragraphs(data.acceptance_criteria),
        "estimate": _estimate(data.estimate_hours, data.estimate_cost, data.vat_mode),
        "unsigned_date": UNSIGNED_DATE,
    })


def _estimate(estimate_hours: Decimal | None, cost: Decimal | None, mode: VatMode) -> dict | None:
    if estimate_hours is None and cost is None:
        return None
    return {
        "hours": hours(estimate_hours) if estimate_hours is not None else "",
        "cost": format_amount(cost) if cost is not None else "",
        "cost_words": amount_in_words(cost) if cost is not None else "",
        "vat": vat_statement(mode),
    }


def sample_spec() -> SpecDoc:
    """A spec with every section filled: the data an uploaded template is tried on."""
    regulation = sample_regulation()
    return SpecDoc(
        key="ROMASHKA-42", title="Выгрузка остатков в интернет-магазин",
        contractor=regulation.contractor, client=regulation.client,
        goal="Покупатели видят на сайте актуальные остатки.",
        current_behaviour="Остатки выгружаются вручную раз в неделю.",
        required_behaviour="Остатки выгружаются автоматически каждый час.\nОшибки выгрузки приходят "
                           "ответственному на почту.",
        acceptance_criteria="Изменение остатка в 1С появляется на сайте в течение часа.\n"
                            "При ошибке выгрузки ответственный получает письмо.",
        estimate_hours=Decimal("16"), estimate_cost=Decimal("48000.00"),
        contract_number="15/26", contract_date=date(2026, 1, 15), drawn_on=date(2026, 11, 27))


register_sample(TEMPLATE, lambda: spec_context(sample_spec()))
