"""The regulation (регламент взаимодействия) as a DOCX for signing.

``render_regulation`` takes a ``RegulationDoc`` — plain data, no database — formats its dates,
money and periods the Russian way, and renders ``regulation.docx``.
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from num2words import num2words

from webapp.documents.money import format_amount
from webapp.documents.render import register_sample, render_docx
from webapp.formatting import long_date, number, plural

TEMPLATE = "regulation.docx"
STATUSES = ("draft", "agreed", "signed", "superseded")
WEEKDAYS = ("по понедельникам", "по вторникам", "по средам", "по четвергам", "по пятницам",
            "по субботам", "по воскресеньям")
UNSIGNED_DATE = "«___» ____________ 20__ г."


@dataclass
class Party:
    """A side of the agreement as it prints in the requisites and the signature block."""

    name: str  # short: ООО «Ромашка»
    legal_name: str  # full: Общество с ограниченной ответственностью «Ромашка»
    inn: str
    kpp: str = ""
    ogrn: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    bank_name: str = ""
    bik: str = ""
    account: str = ""  # расчётный счёт
    corr_account: str = ""  # корреспондентский счёт
    signatory_name: str = ""  # «Иванов Иван Иванович»: the block prints «И.И. Иванов»
    signatory_position: str = ""
    signatory_basis: str = "Устава"  # genitive: «действует на основании Устава»
    seal: bool = False  # print «М.П.» under the signature


@dataclass
class ClientParty(Party):
    contract_number: str = ""
    contract_date: date | None = None


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
class Approver:
    """A decision maker of the client on the approval sheet (лист согласования)."""

    name: str
    position: str
    decides: str  # what they decide: «объём и стоимость работ»


@dataclass
class RegulationDoc:
    """Everything the regulation prints. Texts are plain (line breaks start new paragraphs)."""

    number: str
    version: int
    status: str  # draft | agreed | signed | superseded; a draft prints «ПРОЕКТ»
    contractor: Party
    client: ClientParty
    city: str = "Москва"
    signed_on: date | None = None  # None: a blank «___» line to fill in by hand
    effective_date: date | None = None  # None: «дата подписания Сторонами»
    contractor_people: list[ResponsiblePerson] = field(default_factory=list)
    client_people: list[ResponsiblePerson] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    working_hours: str = ""
    contact_cadence_days: int = 4
    meeting: MeetingSlot | None = None
    task_intake: str = ""
    sla: list[SlaRow] = field(default_factory=list)
    approval_threshold_hours: Decimal | None = None  # None and amount None: every task approved
    approval_threshold_amount: Decimal | None = None
    acceptance_days: int = 5  # working days to sign an act or refuse it with reasons
    payment_days: int = 10  # working days from the signed act
    escalation: list[EscalationLevel] = field(default_factory=list)  # first level first
    budget: str = ""  # hours limit / budget reference
    confidentiality: str = ""
    term: str = ""  # term of the regulation and how it changes
    free_sections: list[FreeSection] = field(default_factory=list)
    approvers: list[Approver] = field(default_factory=list)


def render_regulation(data: RegulationDoc, override_dir: Path | None = None) -> bytes:
    """The regulation as the bytes of a .docx file."""
    return render_docx(TEMPLATE, regulation_context(data), override_dir)


def regulation_context(data: RegulationDoc) -> dict:
    """What the template sees: the data with dates, money and periods already in words."""
    if data.status not in STATUSES:
        raise ValueError(f"unknown regulation status {data.status!r}")
    return {
        "number": data.number,
        "version": data.version,
        "is_draft": data.status == "draft",
        "city": city(data.city),
        "signed_on": long_date(data.signed_on) if data.signed_on else UNSIGNED_DATE,
        "effective_from": (long_date(data.effective_date) if data.effective_date
                           else "дата подписания Сторонами"),
        "contractor": _party(data.contractor),
        "client": _party(data.client) | {
            "contract_number": data.client.contract_number,
            "contract_date": long_date(data.client.contract_date) if data.client.contract_date else "",
        },
        "contractor_people": [asdict(person) for person in data.contractor_people],
        "client_people": [asdict(person) for person in data.client_people],
        "channels": list(data.channels),
        "working_hours": data.working_hours,
        "contact_cadence": _count(data.contact_cadence_days, "день", "дня", "дней"),
        "meeting": _meeting(data.meeting),
        "task_intake": paragraphs(data.task_intake),
        "approval_threshold": _threshold(data.approval_threshold_hours,
                                         data.approval_threshold_amount),
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
        "free_sections": [{"title": section.title, "paragraphs": paragraphs(section.text)}
                          for section in data.free_sections],
        "approvers": [asdict(approver) for approver in data.approvers],
    }


def initials(full_name: str) -> str:
    """«Иванов Иван Иванович» → «И.И. Иванов» (a non-breaking space keeps it on one line)."""
    surname, *given = full_name.split()
    if not given:
        return surname
    letters = "".join(part if part.endswith(".") else f"{part[0]}." for part in given[:2])
    return f"{letters}\u00a0{surname}"


def city(name: str) -> str:
    """«Москва» → «г. Москва»; a name that already says «г.» is left alone."""
    name = name.strip()
    if not name or re.match(r"г\.\s?", name):
        return name
    return f"г. {name}"


def paragraphs(text: str) -> list[str]:
    """A free text split at line breaks into paragraphs; blank lines are dropped."""
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def hours(value: str | int | Decimal) -> str:
    """A number of hours in words of measure («1 час», «4 часа», «1,5 часа»); text as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        raise TypeError("hours must be int or Decimal, not float")
    if Decimal(value) != int(value):
        return f"{number(value)} часа"
    return _count(int(value), "час", "часа", "часов")


def working_days(days: int) -> str:
    """«5 (пять) рабочих дней», «1 (один) рабочий день»."""
    noun = plural(days, "рабочий день", "рабочих дня", "рабочих дней")
    return f"{days} ({num2words(days, lang='ru')}) {noun}"


def _count(n: int, one: str, few: str, many: str) -> str:
    return f"{n} {plural(n, one, few, many)}"


def _meeting(slot: MeetingSlot | None) -> dict | None:
    if slot is None:
        return None
    return {"weekday": WEEKDAYS[slot.weekday], "time": slot.time.strftime("%H:%M"),
            "place": slot.place}


def _threshold(hours_limit: Decimal | None, amount: Decimal | None) -> str:
    parts = []
    if hours_limit is not None:
        parts.append(hours(hours_limit))
    if amount is not None:
        parts.append(format_amount(amount))
    return " или ".join(parts)


def _party(party: Party) -> dict:
    return {
        "name": party.name,
        "legal_name": party.legal_name,
        "inn": party.inn,
        "kpp": party.kpp,
        "ogrn": party.ogrn,
        "address": party.address,
        "phone": party.phone,
        "email": party.email,
        "bank_name": party.bank_name,
        "bik": party.bik,
        "account": party.account,
        "corr_account": party.corr_account,
        "signatory_name": party.signatory_name,
        "signatory_position": party.signatory_position,
        "signatory_basis": party.signatory_basis,
        "signatory_initials": initials(party.signatory_name) if party.signatory_name.strip()
        else "________________",
        "seal": party.seal,
    }


def sample_regulation() -> RegulationDoc:
    """A complete regulation with every list filled: the data an uploaded template is tried on."""
    return RegulationDoc(
        number="РВ-1", version=1, status="draft",
        contractor=Party(
            name="ООО «Исполнитель»", legal_name="Общество с ограниченной ответственностью "
            "«Исполнитель»", inn="7707083893", kpp="770701001", ogrn="1027700132195",
            address="125009, г. Москва, ул. Тверская, д. 1", phone="+7 495 000-00-00",
            email="office@example.ru", bank_name="ПАО Сбербанк", bik="044525225",
            account="40702810938000000001", corr_account="30101810400000000225",
            signatory_name="Иванов Иван Иванович", signatory_position="Генеральный директор"),
        client=ClientParty(
            name="ООО «Ромашка»", legal_name="Общество с ограниченной ответственностью «Ромашка»",
            inn="7736207543", kpp="773601001", ogrn="1027739850962",
            address="117997, г. Москва, ул. Садовая, д. 2", bank_name="АО «Альфа-Банк»",
            bik="044525593", account="40702810701300000002",
            corr_account="30101810200000000593", signatory_name="Петров Пётр Петрович",
            signatory_position="Директор", seal=True, contract_number="15/26",
            contract_date=date(2026, 1, 15)),
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
        approvers=[Approver("Петров Пётр Петрович", "Директор", "Объём и стоимость работ")],
    )


register_sample(TEMPLATE, lambda: regulation_context(sample_regulation()))
