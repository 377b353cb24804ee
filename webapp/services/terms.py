"""The terms in force for a client: what AccountDesk obeys (cadence, meeting schedule, approval
threshold, SLA, acceptance and payment days) and where each comes from.

The one place later areas read them from: the signed regulation decides; without one, the client's
own cadence and the company standard. Depends on the models only, so every area may import it.
"""

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from webapp import cache
from webapp.extensions import db
from webapp.models import Client, Regulation, RegulationStandard, RegulationStatus

DEFAULT_SLA = [
    {"priority": "Критический", "description": "Остановлена работа: не проводятся документы, не работает касса, "
                                               "не формируется отчётность в последний день срока",
     "reaction": "1 час", "resolution": "4 часа"},
    {"priority": "Высокий", "description": "Ошибка мешает работе нескольких пользователей, есть обходной путь",
     "reaction": "4 часа", "resolution": "2 рабочих дня"},
    {"priority": "Обычный", "description": "Консультация, ошибка у одного пользователя, небольшая доработка",
     "reaction": "1 рабочий день", "resolution": "по плану работ"},
    {"priority": "Низкий", "description": "Пожелания и развитие системы",
     "reaction": "2 рабочих дня", "resolution": "по согласованному приоритету"},
]

DEFAULT_STANDARD: dict[str, Any] = {
    "contact_cadence_days": 3,
    "meeting_weekday": 1,
    "meeting_time": time(10, 0),
    "meeting_place": "офис Заказчика",
    "channels": "Телефон\nЭлектронная почта\nTelegram (рабочая группа проекта)",
    "working_hours": "понедельник — пятница, с 9:00 до 18:00 по московскому времени, кроме праздничных дней",
    "intake_procedure": (
        "Заказчик передаёт задачу в удобной ему форме: голосовым сообщением, письмом или парой строк в "
        "рабочем чате. Исполнитель в течение одного рабочего дня связывается с Заказчиком, уточняет задачу, "
        "составляет техническое задание и оценку трудозатрат в часах и рублях.\n"
        "Каждое обращение Исполнитель регистрирует в своей учётной системе (AccountDesk) и подтверждает "
        "Заказчику его приём письмом или сообщением в рабочем чате с номером обращения и временем "
        "регистрации. Обращение, переданное голосом или по телефону, регистрируется во время разговора; "
        "сроки реакции и решения по нему исчисляются с указанного в подтверждении времени регистрации."),
    "approval_threshold_hours": Decimal("4.00"),
    "approval_threshold_amount": None,
    "acceptance_days": 5,
    "payment_days": 10,
    "hours_limit": "Объём работ в месяц определяется утверждённым бюджетом на год по блокам работ.",
    "confidentiality": (
        "Стороны не раскрывают третьим лицам сведения о деятельности друг друга, ставшие им известными при "
        "исполнении Договора и Регламента, кроме случаев, предусмотренных законом; обязательство действует "
        "в течение срока действия Договора и трёх лет после его окончания.\n"
        "Доступ к информационным базам Заказчика (1С и другим системам) Заказчик предоставляет работникам "
        "Исполнителя персонально, по заявке ответственного лица Исполнителя; доступ используется только для "
        "оказания услуг и отзывается по окончании работ или при смене работника. Исполнитель не копирует "
        "базы Заказчика за пределы его инфраструктуры без письменного согласия Заказчика.\n"
        "Персональные данные, содержащиеся в базах Заказчика, Исполнитель обрабатывает по поручению "
        "Заказчика как оператора (ч. 3 ст. 6 Федерального закона от 27.07.2006 № 152-ФЗ «О персональных "
        "данных») только в объёме и в целях оказания услуг по Договору: просмотр, систематизация, "
        "изменение и удаление по задачам Заказчика. Исполнитель соблюдает конфиденциальность персональных "
        "данных, принимает меры по их защите, предусмотренные ст. 18.1 и 19 этого закона, и в течение "
        "одного рабочего дня сообщает Заказчику о ставшем ему известном неправомерном доступе к ним."),
    "term_text": (
        "Регламент действует в течение срока действия Договора. Изменения оформляются новой редакцией "
        "Регламента, подписанной обеими Сторонами."),
    "sla": DEFAULT_SLA,
    "escalation": [
        {"level": "1", "who": "Аккаунт-менеджер Исполнителя и ответственное лицо Заказчика",
         "when": "срок по SLA нарушен или задача не решается"},
        {"level": "2", "who": "Руководитель отдела сопровождения Исполнителя и лицо, принимающее решения со "
                              "стороны Заказчика", "when": "нет решения в течение 1 рабочего дня после эскалации"},
        {"level": "3", "who": "Генеральный директор Исполнителя и руководитель Заказчика",
         "when": "спор не урегулирован за 3 рабочих дня"},
    ],
    "sections": [],
}


def get_standard() -> RegulationStandard:
    """The company standard, to edit; before an admin saves it, an unsaved one with the built-in wording."""
    standard = db.session.scalar(sa.select(RegulationStandard).order_by(RegulationStandard.id).limit(1))
    return standard or RegulationStandard(**DEFAULT_STANDARD)


def _standard_values() -> dict[str, Any]:
    standard = get_standard()
    return {column.key: getattr(standard, column.key) for column in RegulationStandard.__table__.columns}


_STANDARD = cache.Cached("regulation_standard", _standard_values)
cache.watch(RegulationStandard, "regulation_standard")


def standard() -> RegulationStandard:
    """The company standard, to read: a copy kept per process until an admin saves the standard
    (``webapp.cache``), not attached to the session, its lists copied for the caller."""
    return RegulationStandard(**{k: [dict(row) for row in v] if isinstance(v, list) else v
                                 for k, v in _STANDARD.get().items()})


def in_force(client: Client) -> Regulation | None:
    """The client's signed regulation. Its client is the one asked about: not joined again with its
    manager and deputy (``Regulation.client`` is joined by default), which cost every card, item
    and contact save half a millisecond."""
    return db.session.scalar(sa.select(Regulation).where(Regulation.client_id == client.id,
                                                         Regulation.status == RegulationStatus.SIGNED)
                             .options(sa.orm.lazyload(Regulation.client)))


@dataclass(frozen=True)
class EffectiveTerms:
    """The rules AccountDesk follows for a client, and where each comes from."""

    contact_cadence_days: int
    meeting_schedule: str
    approval_threshold_hours: Decimal | None
    approval_threshold_amount: Decimal | None
    sla: list[dict[str, Any]]
    acceptance_days: int
    payment_days: int
    regulation: Regulation | None
    # The weekly meeting: weekday (0 = Monday), local time and place; the standard's without a regulation.
    meeting_weekday: int | None = None
    meeting_time: time | None = None
    meeting_place: str = ""

    @property
    def source(self) -> str:
        return f"по регламенту (редакция {self.regulation.number})" if self.regulation else "по умолчанию"


def effective_terms(client: Client) -> EffectiveTerms:
    """The regulation in force decides; without one, the client's cadence and the company standard."""
    regulation = in_force(client)
    if regulation is not None:
        source = regulation
        cadence = regulation.contact_cadence_days
    else:
        source = standard()
        cadence = client.contact_cadence_days
    return EffectiveTerms(cadence, source.meeting_schedule if regulation else "", source.approval_threshold_hours,
                          source.approval_threshold_amount, source.sla or [], source.acceptance_days,
                          source.payment_days, regulation, source.meeting_weekday, source.meeting_time,
                          source.meeting_place or "")
