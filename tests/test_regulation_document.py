"""The regulation DOCX built from the database through the real services, read back as the client's
lawyer would: both signatories with their authority, no empty label or table, Word numbering, page
«N из M», a superseded edition marked; and converted by LibreOffice with page images kept."""

import shutil
import subprocess
from datetime import date

import pytest
from docx.oxml.ns import qn

from tests.documents_helpers import SOFFICE, all_text, blocks, libreoffice_convert, read_docx
from webapp.extensions import db
from webapp.models import Client, CompanyProfile, Regulation, RegulationStatus, Role, User
from webapp.models.company import SignatoryAuthority
from webapp.saving import Edit
from webapp.services import clients as client_service
from webapp.services import company as company_service
from webapp.services import regulations as service
from webapp.services import workflow

NBSP = "\u00a0"


@pytest.fixture
def signed_setup(app, make_user, make_client):
    """Our company signing by charter, a client signing by power of attorney, one draft edition."""
    manager = make_user(Role.MANAGER, full_name="Петров Алексей Николаевич")
    record = make_client(manager, short_name="Ромашка", legal_name="Общество с ограниченной ответственностью «Ромашка»",
                         inn="7707083893", contract_number="№ 77/1", contract_date=date(2026, 1, 15),
                         contacts=[{"full_name": "Ковалёва Анна Сергеевна", "position": "Коммерческий директор",
                                    "is_decision_maker": True, "decides_cost": True}])
    with app.app_context():
        profile = CompanyProfile.get()
        company_service.update_company(profile, Edit({
            "name": "ООО «ИнфоСофт»", "legal_name": "Общество с ограниченной ответственностью «ИнфоСофт»",
            "signatory_name": "Соколов Андрей Петрович", "signatory_position": "Генеральный директор",
            "seal_mark": True}, profile.version))
        client = db.session.get(Client, record.id)
        acting = db.session.get(User, manager.id)
        client_service.update_client(client, Edit({
            "signatory_contact_id": client.contacts[0].id, "signatory_authority": SignatoryAuthority.ATTORNEY,
            "signatory_position_genitive": "Коммерческого директора", "signatory_attorney_number": "12",
            "signatory_attorney_date": date(2026, 1, 10), "regulation_appendix": "2"}, client.version), acting=acting)
        regulation = service.create_draft(client, acting=acting)
        db.session.commit()
        return manager.id, record.id, regulation.id


def _document(app, regulation_id: int):
    with app.app_context():
        from webapp.documents.regulation import render_regulation
        return render_regulation(service.document_data(db.session.get(Regulation, regulation_id)))


def test_preamble_names_both_signatories_with_their_authority(app, signed_setup):
    """Does the preamble say who signs for each side and on what authority — chosen, not guessed?"""
    text = all_text(read_docx(_document(app, signed_setup[2])))
    assert ("в лице Коммерческого директора Ковалёвой Анны Сергеевны, действующей на основании доверенности "
            f"№{NBSP}12 от 10 января 2026{NBSP}г.") in text
    assert "в лице Генерального директора Соколова Андрея Петровича, действующего на основании Устава" in text
    assert f"Приложение №{NBSP}2" in text and f"к договору №{NBSP}77/1 от 15 января 2026{NBSP}г." in text
    assert "является неотъемлемой частью Договора" in text and "применяются положения Договора" in text
    assert "М.П." in text and "Подписант:" not in text


def test_no_empty_label_no_empty_table_no_double_number_sign(app, make_user, make_client):
    """A client with nothing but a name: are there no «Адрес: », no header-only tables, no «№ №»?"""
    manager = make_user(Role.MANAGER)
    record = make_client(manager, short_name="Пусто", contract_number="№ 5")
    with app.app_context():
        regulation = service.create_draft(db.session.get(Client, record.id), acting=db.session.get(User, manager.id))
        regulation.escalation, regulation.sla, regulation.hours_limit = [], [], ""
        db.session.commit()
        regulation_id = regulation.id
    document = read_docx(_document(app, regulation_id))
    text = all_text(document)
    for empty in ("Адрес: \n", "Р/с \n", "Банк: \n", "№ №", f"№{NBSP}№", "Эскалация", "Сроки реакции и решения"):
        assert empty not in text, empty
    for table in (b for b in blocks(document) if not hasattr(b, "text")):
        assert len(table.rows) > 1 or table.rows[0].cells[0].text.startswith("Исполнитель")


def test_sections_are_numbered_by_word_and_a_free_section_renumbers(app, signed_setup, tmp_path):
    """Is every section a numbered heading, and after a free section is added does the requisites
    section move to the next number (as LibreOffice prints it)?"""
    with app.app_context():
        regulation = db.session.get(Regulation, signed_setup[2])
        regulation.sections = [{"title": "Резервное копирование", "body": "Копия баз — ежедневно."}]
        db.session.commit()
    data = _document(app, signed_setup[2])
    document = read_docx(data)
    headings = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[-2].text == "Резервное копирование" and headings[-1].text == "Реквизиты и подписи Сторон"
    assert all(not p.text[:1].isdigit() for p in headings)  # numbers come from the list, not typed
    assert document.styles["Heading 1"].element.pPr.numPr is not None
    if SOFFICE is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext not installed")
    pdf = libreoffice_convert(data, "docx", "pdf", tmp_path / "work", tmp_path / "profile")
    (tmp_path / "regulation.pdf").write_bytes(pdf)
    printed = subprocess.run(["pdftotext", str(tmp_path / "regulation.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
    count = len(headings)
    assert f"{count - 1}. Резервное копирование" in printed
    assert f"{count}. Реквизиты и подписи Сторон" in printed
    assert "1.1. Регламент определяет" in printed


def test_pages_say_page_n_of_m_from_page_two(app, signed_setup):
    """Does the header from page 2 carry «Страница PAGE из NUMPAGES», and page 1 none?"""
    document = read_docx(_document(app, signed_setup[2]))
    section = document.sections[0]
    assert section.different_first_page_header_footer
    fields = [f.get(qn("w:instr")).split()[0] for f in section.header._element.iter(qn("w:fldSimple"))]
    assert fields == ["PAGE", "NUMPAGES"]
    assert "Страница" in section.header.paragraphs[0].text
    assert not list(section.first_page_header._element.iter(qn("w:fldSimple")))


def test_superseded_edition_says_since_when_it_is_void(app, signed_setup):
    """After edition 2 is signed, does edition 1 print «Утратила силу с …» and edition 2 replace it?"""
    manager_id, client_id, first_id = signed_setup
    with app.app_context():
        acting = db.session.get(User, manager_id)
        first = db.session.get(Regulation, first_id)
        def move(regulation, target, **values):
            db.session.flush()
            workflow.change_status(regulation, target, acting=acting, shown_status=regulation.status.value,
                                   version=regulation.version, values=values)

        move(first, RegulationStatus.AGREED)
        move(first, RegulationStatus.SIGNED, signed_on=date(2026, 2, 1))
        second = service.create_draft(first.client, acting=acting)
        move(second, RegulationStatus.AGREED)
        move(second, RegulationStatus.SIGNED, signed_on=date(2026, 3, 2), effective_date=date(2026, 4, 1))
        db.session.commit()
        second_id = second.id
    old = all_text(read_docx(_document(app, first_id)))
    new = all_text(read_docx(_document(app, second_id)))
    assert f"Утратила силу с 1 апреля 2026{NBSP}г." in old
    assert f"№{NBSP}РВ-ROMASHKA-2, редакция 2" in new
    assert f"заменяет редакцию №{NBSP}РВ-ROMASHKA-1" in new
    assert f"Регламент вступает в силу с 1 апреля 2026{NBSP}г." in new


def test_each_clause_holds_its_own_value(app, signed_setup):
    """A client whose clauses all differ: does each value print in its own clause?"""
    with app.app_context():
        regulation = db.session.get(Regulation, signed_setup[2])
        regulation.contact_cadence_days, regulation.acceptance_days, regulation.payment_days = 2, 7, 15
        db.session.commit()
    text = all_text(read_docx(_document(app, signed_setup[2])))
    assert "не реже одного раза в 2 (два) рабочих дня" in text
    assert "Срок рассмотрения акта — 7 (семь) рабочих дней" in text
    assert "не устанавливает — 15 (пятнадцать) рабочих дней" in text


def test_libreoffice_prints_the_first_two_pages_as_images(app, signed_setup, tmp_path):
    """Does LibreOffice open the document, with images of pages 1 and 2 kept as test artifacts?"""
    if SOFFICE is None:
        pytest.skip("LibreOffice not installed")
    pdf = libreoffice_convert(_document(app, signed_setup[2]), "docx", "pdf", tmp_path / "work", tmp_path / "profile")
    (tmp_path / "regulation.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed: the PDF is kept without page images")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(tmp_path / "regulation.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    assert len(list(tmp_path.glob("page-*.png"))) == 2
