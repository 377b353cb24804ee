"""The minutes (протокол) of a planning meeting as a DOCX, in the office-work form (ГОСТ Р 7.0.97).

``render_minutes`` takes a ``MinutesDoc`` — plain data, no database — and renders ``minutes.docx``:
the organisation, ПРОТОКОЛ, date and number, place, chair and secretary, «Присутствовали» on both
sides with positions, «Повестка дня», per point «СЛУШАЛИ» / «РЕШИЛИ», the action items table (№,
поручение, ответственный, срок), signatures, «Страница N из M» from page 2.

What the client receives holds only what is meant for the client: ``MinutesPoint`` has no field for
a point's internal note, so no caller can pass one on by mistake.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from webapp.documents.parties import Party
from webapp.documents.regulation import city, paragraphs, party_context, sample_regulation, signature_line
from webapp.documents.render import register_sample, render_docx
from webapp.documents.typography import initials, typeset
from webapp.formatting import long_date, short_date

TEMPLATE = "minutes.docx"


@dataclass
class MinutesPerson:
    name: str
    position: str = ""


@dataclass
class MinutesPoint:
    title: str
    heard: str = ""      # «СЛУШАЛИ»
    decision: str = ""   # «РЕШИЛИ»


@dataclass
class MinutesAction:
    what: str
    who: str = ""
    due_on: date | None = None


@dataclass
class MinutesDoc:
    number: str
    held_on: date
    starts_at: str  # «10:00», local
    contractor: Party
    client: Party
    place: str = ""
    city: str = "Москва"
    chair: MinutesPerson | None = None
    secretary: MinutesPerson | None = None
    client_side: list[MinutesPerson] = field(default_factory=list)
    our_side: list[MinutesPerson] = field(default_factory=list)
    points: list[MinutesPoint] = field(default_factory=list)
    actions: list[MinutesAction] = field(default_factory=list)


def render_minutes(data: MinutesDoc, override_dir: Path | None = None) -> bytes:
    """The minutes as the bytes of a .docx file."""
    return render_docx(TEMPLATE, minutes_context(data), override_dir)


def _person(person: MinutesPerson | None) -> dict | None:
    if person is None or not person.name.strip():
        return None
    return {"name": person.name.strip(), "position": person.position.strip(),
            "line": ", ".join(x for x in (person.name.strip(), person.position.strip()) if x),
            "signature": signature_line(initials(person.name.strip()))}


def minutes_context(data: MinutesDoc) -> dict:
    """What the template sees: dates worded, empty parts left out, typeset."""
    return typeset({
        "organisation": data.contractor.name,
        "client_name": data.client.name,
        "number": data.number or "___",
        "held_on": long_date(data.held_on),
        "held_on_short": short_date(data.held_on),
        "starts_at": data.starts_at,
        "city": city(data.city),
        "place": data.place.strip(),
        "chair": _person(data.chair),
        "secretary": _person(data.secretary),
        "client_side": [p for p in map(_person, data.client_side) if p],
        "our_side": [p for p in map(_person, data.our_side) if p],
        "points": [{"n": n, "title": p.title.strip(), "heard": paragraphs(p.heard),
                    "decision": paragraphs(p.decision)} for n, p in enumerate(data.points, start=1)],
        "actions": [{"n": n, "what": a.what.strip(), "who": a.who or "—",
                     "due": short_date(a.due_on) if a.due_on else "—"}
                    for n, a in enumerate(data.actions, start=1)],
        "contractor": party_context(data.contractor, "Исполнитель"),
        "client": party_context(data.client, "Заказчик"),
    })


def sample_minutes() -> MinutesDoc:
    """Minutes with every part filled: the data an uploaded template is tried on."""
    regulation = sample_regulation()
    return MinutesDoc(
        number="7", held_on=date(2026, 11, 24), starts_at="10:00", place="офис Заказчика, переговорная 2",
        contractor=regulation.contractor, client=regulation.client,
        chair=MinutesPerson("Сидорова Анна Викторовна", "Аккаунт-менеджер"),
        secretary=MinutesPerson("Сидорова Анна Викторовна", "Аккаунт-менеджер"),
        client_side=[MinutesPerson("Петров Пётр Петрович", "Генеральный директор"),
                     MinutesPerson("Ильина Ольга Сергеевна", "Главный бухгалтер")],
        our_side=[MinutesPerson("Сидорова Анна Викторовна", "Аккаунт-менеджер")],
        points=[MinutesPoint("Новая заявка ROMASHKA-42: выгрузка остатков", "Остатки выгружаются вручную.",
                             "Оценку согласовать до пятницы."),
                MinutesPoint("Согласовать порядок открытых задач (3)", "", "Порядок согласован.")],
        actions=[MinutesAction("Прислать пример файла выгрузки", "Ильина Ольга Сергеевна", date(2026, 11, 27))])


register_sample(TEMPLATE, lambda: minutes_context(sample_minutes()))
