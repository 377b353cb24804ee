"""Regulations: drafts from the company standard, editions, signing, and the rules they set.

The regulation in force (the signed one) is the source of the client's contact cadence, meeting
schedule, approval threshold, SLA, acceptance period and payment terms; ``effective_terms`` is
the one place other areas read them from, falling back to the client's and the company's values.
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (Client, CompanyProfile, Regulation, RegulationStandard, RegulationStatus, Role,
                           User)
from webapp.models.company import DEFAULT_REGULATION_NUMBER_FORMAT
from webapp.models.audit import tag_action
from webapp.services import NotFound, ServiceError, apply_changes, check_version
from webapp.services import clients as client_service
from webapp.services.access import require

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
    """The company standard; before an admin saves it, an unsaved one with the built-in wording."""
    standard = db.session.scalar(sa.select(RegulationStandard).order_by(RegulationStandard.id).limit(1))
    return standard or RegulationStandard(**DEFAULT_STANDARD)


def update_standard(standard: RegulationStandard, data: dict[str, Any], version: Any, *, acting: User) -> list[str]:
    require(acting.role == Role.ADMIN, "Стандарт регламента меняет администратор.")
    if standard.id is None:
        db.session.add(standard)
    else:
        check_version(standard, version)
    changed = apply_changes(standard, _clauses(data))
    db.session.flush()
    return changed


# --- reading ------------------------------------------------------------------------------------


def get_regulation(user: User, regulation_id: int) -> Regulation:
    """A regulation of a client the user may see (404 otherwise)."""
    regulation = db.session.scalar(
        sa.select(Regulation).where(Regulation.id == regulation_id,
                                    Regulation.client_id.in_(client_service.visible_clients(user)
                                                             .with_only_columns(Client.id))))
    if regulation is None:
        raise NotFound("Регламент не найден.")
    return regulation


def versions(client: Client) -> list[Regulation]:
    return list(db.session.scalars(sa.select(Regulation).where(Regulation.client_id == client.id)
                                   .order_by(Regulation.number.desc())))


def in_force(client: Client) -> Regulation | None:
    return db.session.scalar(sa.select(Regulation).where(Regulation.client_id == client.id,
                                                         Regulation.status == RegulationStatus.SIGNED))


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
        source = get_standard()
        cadence = client.contact_cadence_days
    return EffectiveTerms(cadence, source.meeting_schedule if regulation else "", source.approval_threshold_hours,
                          source.approval_threshold_amount, source.sla or [], source.acceptance_days,
                          source.payment_days, regulation)


# --- writing ------------------------------------------------------------------------------------


def _require_edit(user: User, client: Client) -> None:
    require(client_service.can_edit(user, client),
            "Регламент клиента ведут его аккаунт-менеджер, заместитель и администратор.")


def _clauses(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key in Regulation.CLAUSE_FIELDS}


def _default_parties(client: Client) -> list[dict[str, str]]:
    """Responsible people to start with: our manager and deputy, the client's decision makers."""
    parties = [{"side": "contractor", "name": client.manager.full_name, "position": client.manager.position,
                "role": "Аккаунт-менеджер: приём задач, согласования, планёрки", "phone": client.manager.phone,
                "email": client.manager.email}]
    if client.deputy:
        parties.append({"side": "contractor", "name": client.deputy.full_name, "position": client.deputy.position,
                        "role": "Замещает аккаунт-менеджера", "phone": client.deputy.phone,
                        "email": client.deputy.email})
    for contact in client.contacts:
        if contact.is_decision_maker:
            parties.append({"side": "client", "name": contact.full_name, "position": contact.position,
                            "role": "Согласует: " + ", ".join(contact.decides) if contact.decides else "ЛПР",
                            "phone": contact.phone, "email": contact.email})
    return parties


def create_draft(client: Client, *, acting: User, source: Regulation | None = None) -> Regulation:
    """A new edition as a draft: a copy of ``source`` (or of the version in force), else the standard."""
    _require_edit(acting, client)
    open_version = db.session.scalar(sa.select(Regulation).where(
        Regulation.client_id == client.id,
        Regulation.status.in_([RegulationStatus.DRAFT, RegulationStatus.AGREED])))
    if open_version is not None:
        raise ServiceError(f"У клиента уже есть неподписанная редакция {open_version.number}: "
                           "продолжите её или удалите.")
    source = source or in_force(client)
    number = (db.session.scalar(sa.select(sa.func.max(Regulation.number))
                                .where(Regulation.client_id == client.id)) or 0) + 1
    if source is not None:
        clauses, parties, city = source.clauses(), [dict(p) for p in source.parties], source.city
    else:
        clauses, parties, city = get_standard().clauses(), _default_parties(client), "г. Москва"
        clauses["contact_cadence_days"] = client.contact_cadence_days
    regulation = Regulation(client=client, client_id=client.id, number=number, status=RegulationStatus.DRAFT,
                            parties=parties, city=city, based_on_id=source.id if source else None,
                            created_by_id=acting.id, **_deep_copy(clauses))
    db.session.add(regulation)
    db.session.flush()
    return regulation


def _deep_copy(clauses: dict[str, Any]) -> dict[str, Any]:
    """JSON lists are copied row by row, so editing the new draft never touches the old edition."""
    return {k: ([dict(row) for row in v] if isinstance(v, list) else v) for k, v in clauses.items()}


def update_draft(regulation: Regulation, data: dict[str, Any], version: Any, *, acting: User) -> list[str]:
    """Save the clauses of a draft. Agreed and signed editions refuse: make a new edition instead."""
    _require_edit(acting, regulation.client)
    check_version(regulation, version)
    if not regulation.editable:
        raise ServiceError("Редакция уже согласована или подписана и не меняется. Верните её в проект "
                           "или создайте новую редакцию.")
    fields = {**_clauses(data), **{k: data[k] for k in ("parties", "city", "effective_date") if k in data}}
    changed = apply_changes(regulation, fields)
    db.session.flush()
    return changed


def move(regulation: Regulation, target: RegulationStatus, version: Any, *, acting: User,
         signed_on: date | None = None, effective_date: date | None = None) -> None:
    """Draft ↔ agreed → signed. Signing supersedes the edition in force and the client's cadence follows."""
    _require_edit(acting, regulation.client)
    check_version(regulation, version)
    if not regulation.can_move_to(target):
        raise ServiceError(f"Из состояния «{regulation.status.label}» нельзя перейти в «{target.label}».")
    if target == RegulationStatus.SIGNED:
        if signed_on is None:
            raise ServiceError("Укажите дату подписания.", field="signed_on")
        previous = in_force(regulation.client)
        if previous is not None:
            previous.status = RegulationStatus.SUPERSEDED
            tag_action(previous, "supersede")
            db.session.flush()  # the database allows one signed edition per client
        regulation.signed_on = signed_on
        regulation.effective_date = effective_date or regulation.effective_date or signed_on
    regulation.status = target
    tag_action(regulation, {RegulationStatus.SIGNED: "sign", RegulationStatus.AGREED: "agree",
                            RegulationStatus.DRAFT: "reopen"}[target])
    db.session.flush()
    if target == RegulationStatus.SIGNED:
        client_service.refresh_cadence(regulation.client)


def delete_draft(regulation: Regulation, version: Any, *, acting: User) -> None:
    _require_edit(acting, regulation.client)
    check_version(regulation, version)
    if regulation.status != RegulationStatus.DRAFT:
        raise ServiceError("Удалить можно только проект.")
    db.session.delete(regulation)
    db.session.flush()


# --- comparing ----------------------------------------------------------------------------------

CLAUSE_LABELS = {
    "status": "Статус", "signed_on": "Дата подписания", "effective_date": "Вступает в силу", "city": "Город",
    "parties": "Ответственные лица", "channels": "Каналы связи", "working_hours": "Рабочее время",
    "contact_cadence_days": "Связь с клиентом, раз в N рабочих дней", "meeting_weekday": "День планёрки",
    "meeting_time": "Время планёрки", "meeting_place": "Место планёрки", "intake_procedure": "Приём задач",
    "sla": "Приоритеты и сроки (SLA)", "approval_threshold_hours": "Согласование ЛПР от, часов",
    "approval_threshold_amount": "Согласование ЛПР от, ₽", "acceptance_days": "Приёмка актов, рабочих дней",
    "payment_days": "Оплата, рабочих дней", "escalation": "Эскалация", "hours_limit": "Лимит часов / бюджет",
    "confidentiality": "Конфиденциальность и доступы", "term_text": "Срок действия и изменения",
    "sections": "Дополнительные разделы",
}


@dataclass
class ClauseDiff:
    key: str
    label: str
    left: Any
    right: Any

    @property
    def changed(self) -> bool:
        return self.left != self.right


def compare(left: Regulation, right: Regulation) -> list[ClauseDiff]:
    """Two editions side by side, clause by clause."""
    return [ClauseDiff(key, label, getattr(left, key), getattr(right, key)) for key, label in CLAUSE_LABELS.items()]


# --- the document ---------------------------------------------------------------------------------


def document_data(regulation: Regulation):
    """The edition as plain data for ``documents.regulation``: both parties from ``documents.parties``,
    the readable edition number, the edition it replaces and, once superseded, since when."""
    from webapp.documents import regulation as doc
    from webapp.documents.parties import client_party, company_party

    client, company = regulation.client, CompanyProfile.get()
    number_format = company.regulation_number_format or DEFAULT_REGULATION_NUMBER_FORMAT

    def number_of(edition: Regulation) -> str:
        year = (edition.signed_on or edition.created_at.date()).year
        return doc.edition_number(number_format, client=client.short_name, edition=edition.number,
                                  year=year, client_id=client.id)

    signed = [e for e in versions(client) if e.status in (RegulationStatus.SIGNED, RegulationStatus.SUPERSEDED)]
    previous = next((e for e in signed if e.number < regulation.number), None)
    successor = min((e for e in signed if e.number > regulation.number), key=lambda e: e.number, default=None)

    def people(side: str):
        return [doc.ResponsiblePerson(name=p.get("name", ""), position=p.get("position", ""), role=p.get("role", ""),
                                      phone=p.get("phone", ""), email=p.get("email", ""))
                for p in regulation.parties if p.get("side") == side]

    meeting = (doc.MeetingSlot(regulation.meeting_weekday, regulation.meeting_time, regulation.meeting_place)
               if regulation.meeting_weekday is not None and regulation.meeting_time else None)
    return doc.RegulationDoc(
        number=number_of(regulation), version=regulation.number, status=regulation.status.value,
        contractor=company_party(company), client=client_party(client, seal=company.seal_mark),
        contract_number=client.contract_number, contract_date=client.contract_date,
        appendix_number=client.regulation_appendix, previous_number=number_of(previous) if previous else "",
        superseded_on=(successor.effective_date or successor.signed_on) if successor else None,
        city=(regulation.city or "").removeprefix("г. "), vat_mode=company.vat_mode,
        signed_on=regulation.signed_on, effective_date=regulation.effective_date,
        contractor_people=people("contractor"), client_people=people("client"),
        channels=[line.strip() for line in regulation.channels.splitlines() if line.strip()],
        working_hours=regulation.working_hours, contact_cadence_days=regulation.contact_cadence_days,
        meeting=meeting, task_intake=regulation.intake_procedure,
        sla=[doc.SlaRow(r.get("priority", ""), r.get("description", ""), r.get("reaction", ""), r.get("resolution", ""))
             for r in regulation.sla],
        approval_threshold_hours=regulation.approval_threshold_hours,
        approval_threshold_amount=regulation.approval_threshold_amount,
        acceptance_days=regulation.acceptance_days, payment_days=regulation.payment_days,
        escalation=[doc.EscalationLevel(r.get("who", ""), r.get("when", "")) for r in regulation.escalation],
        budget=regulation.hours_limit, confidentiality=regulation.confidentiality, term=regulation.term_text,
        free_sections=[doc.FreeSection(s.get("title", ""), s.get("body", "")) for s in regulation.sections])
