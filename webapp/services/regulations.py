"""Regulations: drafts from the company standard, editions, signing, comparison, the document.

The regulation in force (the signed one) is the source of the client's contact cadence, meeting
schedule, approval threshold, SLA, acceptance period and payment terms; ``services.terms`` is the
one place other areas read them from, falling back to the client's and the company's values.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (Client, CompanyProfile, Regulation, RegulationStandard, RegulationStatus,
                           User)
from webapp.models.company import DEFAULT_REGULATION_NUMBER_FORMAT
from webapp.models.audit import tag_action
from webapp.models.regulations import CLAUSE_LABELS
from webapp import saving
from webapp.saving import Edit
from webapp.services import NotFound, ServiceError, access, derived, terms, workflow
from webapp.services import clients as client_service



def update_standard(standard: RegulationStandard, edit: Edit, *, acting: User) -> list[str]:
    """Save the company standard; its first save stores the built-in wording with the admin's edits."""
    access.require(access.can_edit_settings(acting), "Стандарт регламента меняет администратор.")
    if standard.id is None:
        db.session.add(standard)
        changed = saving.write(standard, _clauses(edit.values))
    else:
        changed = saving.apply_edit(standard, edit, Regulation.CLAUSE_FIELDS)
    db.session.flush()
    return changed


# --- reading ------------------------------------------------------------------------------------


def get_regulation(user: User, regulation_id: int) -> Regulation:
    """A regulation of a client the user may see (404 otherwise)."""
    regulation = db.session.scalar(
        sa.select(Regulation).where(Regulation.id == regulation_id,
                                    Regulation.client_id.in_(access.visible_client_ids(user))))
    if regulation is None:
        raise NotFound("Регламент не найден.")
    return regulation


def versions(client: Client) -> list[Regulation]:
    return list(db.session.scalars(sa.select(Regulation).where(Regulation.client_id == client.id)
                                   .order_by(Regulation.number.desc())))


# --- writing ------------------------------------------------------------------------------------


def _require_edit(user: User, client: Client) -> None:
    access.require(access.can_edit_client(user, client),
                   "Регламент клиента ведут его аккаунт-менеджер, заместитель и администратор.")


def open_edition(client: Client) -> Regulation | None:
    """The client's unsigned edition (a draft or an agreed one): at most one exists."""
    return db.session.scalar(sa.select(Regulation).where(
        Regulation.client_id == client.id, Regulation.status.in_(Regulation.workflow.open_states)))


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


OPEN_EDITION = "У клиента уже есть неподписанная редакция{}: продолжите её или удалите."
saving.unique_rule("uq_regulations_client_id_number", OPEN_EDITION.format(""))


def create_draft(client: Client, *, acting: User, source: Regulation | None = None) -> Regulation:
    """A new edition as a draft: a copy of ``source`` (or of the version in force), else the standard.
    The edition number is derived from the client's editions, so the client is locked first
    (``services.derived``): of two people pressing «Новая редакция» at once, the second is told."""
    _require_edit(acting, client)
    derived.lock_owner(client)
    open_version = open_edition(client)
    if open_version is not None:
        raise ServiceError(OPEN_EDITION.format(f" {open_version.number}"))
    source = source or terms.in_force(client)
    number = (db.session.scalar(sa.select(sa.func.max(Regulation.number))
                                .where(Regulation.client_id == client.id)) or 0) + 1
    if source is not None:
        clauses, parties, city = source.clauses(), [dict(p) for p in source.parties], source.city
    else:
        clauses, parties, city = terms.get_standard().clauses(), _default_parties(client), "г. Москва"
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


EDITION_FIELDS = (*Regulation.CLAUSE_FIELDS, "parties", "city", "effective_date")
NOT_EDITABLE = ("Редакция уже согласована или подписана и не меняется. Верните её в проект "
                "или создайте новую редакцию.")


def update_draft(regulation: Regulation, edit: Edit, *, acting: User) -> list[str]:
    """Save clauses of a draft: those ``edit`` holds (the editor saves one group at a time), each
    merged field by field. Agreed and signed editions refuse: make a new edition instead."""
    _require_edit(acting, regulation.client)
    if not regulation.editable:
        raise ServiceError(NOT_EDITABLE)
    changed = saving.apply_edit(regulation, edit, EDITION_FIELDS)
    db.session.flush()
    return changed


def _sign(regulation: Regulation, acting: User, values: dict[str, Any]) -> None:
    """Signing: the edition in force is superseded (the database allows one signed edition per
    client), the dates are set."""
    previous = terms.in_force(regulation.client)
    if previous is not None:
        previous.status = RegulationStatus.SUPERSEDED
        tag_action(previous, "supersede")
        db.session.flush()
    regulation.signed_on = values["signed_on"]
    regulation.effective_date = values.get("effective_date") or regulation.effective_date or values["signed_on"]


def _signed(regulation: Regulation, acting: User, values: dict[str, Any]) -> None:
    """The client's cadence follows the regulation now in force (a derived figure: see
    ``services.derived``)."""
    client_service.refresh_cadence(derived.lock_owner(regulation.client))


workflow.register(Regulation, can_change=lambda user, regulation: access.can_edit_client(user, regulation.client),
                  denied="Регламент клиента ведут его аккаунт-менеджер, заместитель и администратор.",
                  before={RegulationStatus.SIGNED: _sign}, after={RegulationStatus.SIGNED: _signed})


def delete_draft(regulation: Regulation, version: Any, *, acting: User) -> None:
    _require_edit(acting, regulation.client)
    saving.check_delete(regulation, version)
    if regulation.status != RegulationStatus.DRAFT:
        raise ServiceError("Удалить можно только проект.")
    db.session.delete(regulation)
    db.session.flush()


# --- comparing ----------------------------------------------------------------------------------



def _comparable(value: Any) -> Any:
    """A clause as compared: line endings and trailing blanks of text do not make a change."""
    if type(value) is str:  # a status enum is compared as itself
        return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n"))
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


@dataclass
class ClauseDiff:
    key: str
    label: str
    left: Any
    right: Any

    @property
    def changed(self) -> bool:
        return _comparable(self.left) != _comparable(self.right)

    @property
    def words(self) -> list[tuple[str, str]] | None:
        """For a changed text clause, its words marked ``same``, ``removed`` or ``added`` in reading
        order, so the page shows what changed rather than the whole clause; None for other clauses."""
        left, right = _comparable(self.left), _comparable(self.right)
        if not (self.changed and type(left) is str and type(right) is str):
            return None
        a, b = re.split(r"(\s+)", left), re.split(r"(\s+)", right)
        marked: list[tuple[str, str]] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                marked.append(("same", "".join(a[i1:i2])))
                continue
            if i2 > i1:
                marked.append(("removed", "".join(a[i1:i2])))
            if j2 > j1:
                marked.append(("added", "".join(b[j1:j2])))
        return marked


def compare(left: Regulation, right: Regulation) -> list[ClauseDiff]:
    """Two editions side by side, clause by clause."""
    return [ClauseDiff(key, label, getattr(left, key), getattr(right, key)) for key, label in CLAUSE_LABELS.items()]


# --- the document ---------------------------------------------------------------------------------


def document_data(regulation: Regulation):
    """The edition as plain data for ``documents.regulation``: both parties from ``documents.parties``,
    the readable edition number, the edition it replaces and, once superseded, since when."""
    from webapp.documents import regulation as doc
    from webapp.documents.parties import both_parties

    client, company = regulation.client, CompanyProfile.cached()
    contractor, customer = both_parties(client)
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
        contractor=contractor, client=customer,
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
