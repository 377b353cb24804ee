"""The regulation (регламент взаимодействия) as a DOCX for signing: an appendix to the contract.

``render_regulation`` takes a ``RegulationDoc`` — plain data, no database — words its numbers,
money, dates and periods the Russian way, sets the typography, and renders ``regulation.docx``.
Sections and clauses are numbered by the template's own Word numbering, so a section left out or
added (here or in Word) renumbers the rest.
"""

import re
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from webapp.documents.money import amount_with_words, number_in_words, vat_statement
from webapp.documents.parties import Party
from webapp.documents.render import _ascii, register_sample, render_docx
from webapp.documents.typography import NBSP, breakable_email, strip_number_sign, typeset
from webapp.formatting import long_date, number, plural
from webapp.models.company import SignatoryAuthority, VatMode

TEMPLATE = "regulation.docx"
STATUSES = ("draft", "agreed", "signed", "superseded")
WEEKDAYS = ("по понедельникам", "по вторникам", "по средам", "по четвергам", "по пятницам",
            "по субботам", "по воскресеньям")
UNSIGNED_DATE = "«___» ____________ 20__ г."
SIGNATURE_WIDTH = 36  # characters of Times New Roman 12 pt that fit the 85 mm signature column
NUMBER_FIELDS = ("client", "edition", "year", "id")
_NUMBER_FIELD = re.compile(r"\{(\w+)(:[0-9<>^=+ #,._-]*[dsx]?)?\}")


@dataclass
class ResponsiblePerson:
    name: str
    position: str
    role: str  # role in the process: «Менеджер проекта», «Согласует ТЗ»
    phone: str = ""
    email: str = ""


@dataclass
class MeetingSlot:
    weekday: int  # 0 = Monday, as date.weekday()
    time: time
    place: str


@dataclass
class SlaRow:
    """Reaction and resolution: a text («1 рабочий день») or a number of hours (4 → «4 часа»)."""

    priority: str
    description: str
    reaction: str | int | Decimal
    resolution: str | int | Decimal


@dataclass
class EscalationLevel:
    who: str
    when: str


@dataclass
class FreeSection:
    title: str
    text: str  # paragraphs separated by line breaks


@dataclass
class RegulationDoc:
    """Everything the regulation prints. Texts are plain (line breaks start new paragraphs)."""

    number: str  # the edition's readable number: «РВ-ROMASHKA-2»
    version: int
    status: str  # draft | agreed | signed | superseded; a draft prints «ПРОЕКТ»
    contractor: Party
    client: Party
    contract_number: str = ""
    contract_date: date | None = None
    appendix_number: str = ""  # «Приложение № 2 к договору»
    previous_number: str = ""  # the edition this one replaces, if any
    superseded_on: date | None = None  # a superseded edition: «Утратила силу с …»
    city: str = "Москва"
    signed_on: date | None = None  # None: a blank «___» line to fill in by hand
    effective_date: date | None = None  # None: from the signing by both parties
    vat_mode: VatMode = VatMode.ON_TOP  # how the approval threshold stands to VAT
    contractor_people: list[ResponsiblePerson] = field(default_factory=list)
    client_people: list[ResponsiblePerson] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    working_hours: str = ""
    contact_cadence_days: int = 4  # working days
    meeting: MeetingSlot | None = None
    task_intake: str = ""
    sla: list[SlaRow] = field(default_factory=list)
    approval_threshold_hours: Decimal | None = None  # None and amount None: every task approved
    approval_threshold_amount: Decimal | None = None
    acceptance_days: int = 5  # working days to sign an act or refuse it with reasons
    payment_days: int = 10  # working days from the signed act, where the contract says nothing
    escalation: list[EscalationLevel] = field(default_factory=list)  # first level first
    budget: str = ""  # hours limit / budget reference
    confidentiality: str = ""
    term: str = ""  # term of the regulation and how it changes
    free_sections: list[FreeSection] = field(default_factory=list)


def render_regulation(data: RegulationDoc, override_dir: Path | None = None) -> bytes:
    """The regulation as the bytes of a .docx file."""
    return render_docx(TEMPLATE, regulation_context(data), override_dir)


def regulation_context(data: RegulationDoc) -> dict:
    """What the template sees: the data with dates, money and periods in words, typeset."""
    if data.status not in STATUSES:
        raise ValueError(f"unknown regulation status {data.status!r}")
    contract_number = strip_number_sign(data.contract_number)
    return typeset({
        "number": data.number,
        "version": data.version,
        "is_draft": data.status == "draft",
        "superseded_on": long_date(data.superseded_on) if data.status == "superseded"
        and data.superseded_on else "",
        "city": city(data.city),
        "signed_on": long_date(data.signed_on) if data.signed_on else UNSIGNED_DATE,
        "effective_from": sentence(f"с {long_date(data.effective_date)}" if data.effective_date
                                   else "с даты его подписания обеими Сторонами"),
        "contract": {
            "number": contract_number,
            "date": long_date(data.contract_date) if data.contract_date else "",
            "appendix": strip_number_sign(data.appendix_number),
        } if contract_number else None,
        "previous_number": data.previous_number,
        "contractor": party_context(data.contractor, "Исполнитель"),
        "client": party_context(data.client, "Заказчик"),
        "contractor_people": [_person(person) for person in data.contractor_people],
        "client_people": [_person(person) for person in data.client_people],
        "channels": [channel.strip() for channel in data.channels if channel.strip()],
        "working_hours": sentence(data.working_hours),
        "contact_rule": contact_rule(data.contact_cadence_days),
        "meeting": _meeting(data.meeting),
        "task_intake": paragraphs(data.task_intake),
        "approval_threshold": _threshold(data.approval_threshold_hours,
                                         data.approval_threshold_amount, data.vat_mode),
        "sla": [{"priority": row.priority, "description": row.description,
                 "reaction": hours(row.reaction), "resolution": hours(row.resolution)}
                for row in data.sla],
        "escalation": [{"number": index, "who": level.who, "when": level.when}
                       for index, level in enumerate(data.escalation, start=1)],
        "budget": paragraphs(data.budget),
        "acceptance_period": working_days(data.acceptance_days),
        "payment_period": working_days(data.payment_days),
        "confidentiality": paragraphs(data.confidentiality),
        "term": paragraphs(data.term),
        "free_sections": [{"title": section.title.strip(), "paragraphs": paragraphs(section.text)}
                          for section in data.free_sections
                          if section.title.strip() or paragraphs(section.text)],
    })


def party_context(party: Party, role: str) -> dict:
    """A party as every document's template sees it: preamble, requisites, signature block."""
    return {
        "role": role,
        "name": party.name,
        "legal_name": party.legal_name,
        "preamble": party.preamble(role),
        "requisites": party.requisite_lines(),
        "position": party.position,
        "signature": signature_line(party.signatory_initials),
        "seal": party.seal,
    }


def signature_line(initials: str) -> str:
    """«______________ / И.И. Иванов /» held together by no-break spaces and as long as fits one
    line of the signature column, so a long surname shortens the line instead of wrapping it."""
    if not initials:
        return "_" * SIGNATURE_WIDTH
    tail = f"{NBSP}/{NBSP}{initials}{NBSP}/"
    return "_" * max(4, min(15, SIGNATURE_WIDTH - len(tail))) + tail


def edition_number(number_format: str, *, client: str, edition: int, year: int, client_id: int) -> str:
    """The edition's number by the company's format: «РВ-{client}-{edition}» → «РВ-ROMASHKA-2»."""
    return number_format.format(client=client_code(client), edition=edition, year=year, id=client_id)


def check_number_format(number_format: str) -> str | None:
    """A Russian message when the format names something other than its fields, else None."""
    for match in _NUMBER_FIELD.finditer(number_format):
        if match[1] not in NUMBER_FIELDS:
            return f"Неизвестное поле {{{match[1]}}}: можно {{client}}, {{edition}}, {{year}}, {{id}}."
    rest = _NUMBER_FIELD.sub("", number_format)
    if "{" in rest or "}" in rest:
        return "Фигурные скобки — только вокруг полей: {client}, {edition}, {year}, {id}."
    try:
        edition_number(number_format, client="Образец", edition=1, year=2026, client_id=1)
    except (ValueError, IndexError, KeyError):
        return "Формат номера не читается: проверьте поля в фигурных скобках."
    return None


def client_code(name: str) -> str:
    """«Ромашка» → «ROMASHKA», «ТД Альфа-Трейд» → «TD-ALFA-TREID»: a client's name in Latin capitals."""
    latin = "".join(_ascii(char) for char in name).upper()
    return re.sub(r"[^A-Z0-9]+", "-", latin).strip("-") or "CLIENT"


def city(name: str) -> str:
    """«Москва» → «г. Москва»; a name that already says «г.» is left alone."""
    name = name.strip()
    if not name or re.match(r"г\.\s?", name):
        return name
    return f"г. {name}"


def paragraphs(text: str) -> list[str]:
    """A free text split at line breaks into paragraphs; blank lines are dropped."""
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def sentence(text: str) -> str:
    """A clause's tail ends with a full stop (unless it already ends with punctuation)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else text + "."


def hours(value: str | int | Decimal) -> str:
    """A number of hours in words of measure («1 час», «4 часа», «1,5 часа»); text as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        raise TypeError("hours must be int or Decimal, not float")
    if Decimal(value) != int(value):
        return f"{number(value)} часа"
    return f"{int(value)} {plural(int(value), 'час', 'часа', 'часов')}"


def with_words(n: int, one: str, few: str, many: str) -> str:
    """«5 (пять) рабочих дней», «1 (один) рабочий день»."""
    return f"{n} ({number_in_words(n)}) {plural(n, one, few, many)}"


def working_days(days: int) -> str:
    return with_words(days, "рабочий день", "рабочих дня", "рабочих дней")


def contact_rule(days: int) -> str:
    """How often our responsible person gets in touch, in working days."""
    if days <= 1:
        return "ежедневно в рабочие дни"
    return f"не реже одного раза в {working_days(days)}"


def _person(person: ResponsiblePerson) -> dict:
    role = "Лицо, принимающее решения" if person.role.strip() == "ЛПР" else person.role
    return {"name": person.name, "position": person.position, "role": role,
            "phone": person.phone, "email": breakable_email(person.email)}


def _meeting(slot: MeetingSlot | None) -> dict | None:
    if slot is None:
        return None
    return {"weekday": WEEKDAYS[slot.weekday], "time": slot.time.strftime("%H:%M"),
            "place": slot.place}


def _threshold(hours_limit: Decimal | None, amount: Decimal | None, mode: VatMode) -> str:
    parts = []
    if hours_limit is not None:
        if Decimal(hours_limit) == int(hours_limit):
            parts.append(with_words(int(hours_limit), "час", "часа", "часов"))
        else:
            parts.append(hours(Decimal(hours_limit)))
    if amount is not None:
        parts.append(f"{amount_with_words(amount)} ({vat_statement(mode)})")
    return " или ".join(parts)


def sample_regulation() -> RegulationDoc:
    """A complete regulation with every list filled: the data an uploaded template is tried on."""
    return RegulationDoc(
        number="РВ-ROMASHKA-2", version=2, status="draft", previous_number="РВ-ROMASHKA-1",
        contractor=Party(
            name="ООО «Исполнитель»", legal_name="Общество с ограниченной ответственностью "
            "«Исполнитель»", inn="7707083893", kpp="770701001", ogrn="1027700132195",
            address="125009, г. Москва, ул. Тверская, д. 1", phone="+7 495 000-00-00",
            email="office@example.ru", bank_name="ПАО Сбербанк", bik="044525225",
            account="40702810938000000001", corr_account="30101810400000000225",
            signatory_name="Иванов Иван Иванович", signatory_position="Генеральный директор",
            signatory_position_genitive="Генерального директора"),
        client=Party(
            name="ООО «Ромашка»", legal_name="Общество с ограниченной ответственностью «Ромашка»",
            inn="7736207543", kpp="773601001", ogrn="1027739850962",
            address="117997, г. Москва, ул. Садовая, д. 2", bank_name="АО «Альфа-Банк»",
            bik="044525593", account="40702810701300000002",
            corr_account="30101810200000000593", signatory_name="Петров Пётр Петрович",
            signatory_position="Директор", authority=SignatoryAuthority.ATTORNEY,
            attorney_number="12", attorney_date=date(2026, 1, 10), seal=True),
        contract_number="15/26", contract_date=date(2026, 1, 15), appendix_number="2",
        signed_on=date(2026, 2, 1), effective_date=date(2026, 2, 1),
        contractor_people=[ResponsiblePerson("Сидорова Анна Сергеевна", "Аккаунт-менеджер",
                                             "Ведёт проект", "+7 900 000-00-01", "a@example.ru")],
        client_people=[ResponsiblePerson("Кузнецов Олег Игоревич", "Главный бухгалтер",
                                         "Ставит задачи", "+7 900 000-00-02", "o@example.ru")],
        channels=["Telegram-группа проекта", "E-mail: support@example.ru"],
        working_hours="пн–пт с 9:00 до 18:00 (МСК)",
        meeting=MeetingSlot(weekday=1, time=time(10, 0), place="офис Заказчика"),
        task_intake="Задачи принимаются в Telegram-группе проекта.",
        sla=[SlaRow("Критический", "Остановлена работа", 1, 8)],
        approval_threshold_hours=Decimal(8), approval_threshold_amount=Decimal("24000.00"),
        escalation=[EscalationLevel("Аккаунт-менеджер", "Сразу")],
        budget="Лимит — 40 часов в месяц.", confidentiality="Стороны сохраняют в тайне "
        "сведения, полученные при исполнении Регламента.",
        term="Регламент действует до окончания срока действия договора.",
        free_sections=[FreeSection("Прочее", "Споры решаются переговорами.")],
    )


register_sample(TEMPLATE, lambda: regulation_context(sample_regulation()))
