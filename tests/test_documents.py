"""The regulation DOCX read back as a person opening it would see it, and the rendering path that
every document shares (templates, overrides, hostile text, file names)."""

import dataclasses
import enum
import importlib.util
import io
import os
import re
import shutil
import zipfile
from datetime import date, time
from decimal import Decimal
from urllib.parse import unquote

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from markupsafe import Markup

from documents_helpers import (
    SOFFICE, all_text, blocks, duplicate_entries, header_text, libreoffice_convert, lines,
    pdf_page_count, read_docx, table_rows,
)
from webapp.documents.parties import Party
from webapp.documents import typography
from webapp.documents.typography import nbsp
from webapp.documents.regulation import (
    EscalationLevel, FreeSection, MeetingSlot, RegulationDoc, ResponsiblePerson, SlaRow,
    render_regulation,
)
from webapp.documents.render import (
    TEMPLATE_DIR, DocumentTemplateError, _DocxTemplate, _environment, _normalise_zip, check_template,
    content_disposition, render_docx,
)
from webapp import escaping
from webapp.requisites import make_inn, make_ogrn, with_account_key

NBSP = "\u00a0"
CONTRACTOR_BIK = "044525225"
CLIENT_BIK = "044525593"


def gen_regulation(**changes) -> RegulationDoc:
    """A full regulation between an 1C contractor and its client, as a manager fills it in."""
    contractor = Party(
        name="ООО «Бизнес Автоматизация»",
        legal_name="Общество с ограниченной ответственностью «Бизнес Автоматизация»",
        inn=make_inn("770812345"), kpp="770801001", ogrn=make_ogrn("115774612345"),
        address="125047, г. Москва, ул. 1-я Тверская-Ямская, д. 21, офис 305",
        phone="+7 (495) 123-45-67", email="office@bizauto.example",
        bank_name="ПАО Сбербанк", bik=CONTRACTOR_BIK,
        account=with_account_key(CONTRACTOR_BIK, "4070281003800012345"),
        corr_account=with_account_key(CONTRACTOR_BIK, "3010181040000000022", corr=True),
        signatory_name="Смирнов Алексей Викторович", signatory_position="Генеральный директор",
        seal=False,
    )
    client = Party(
        name="ООО «Ромашка»", legal_name="Общество с ограниченной ответственностью «Ромашка»",
        inn=make_inn("502412345"), kpp="502401001", ogrn=make_ogrn("102500012345"),
        address="143401, Московская обл., г. Красногорск, ул. Ленина, д. 5",
        phone="+7 (495) 765-43-21", email="info@romashka.example",
        bank_name="АО «Альфа-Банк»", bik=CLIENT_BIK,
        account=with_account_key(CLIENT_BIK, "4070281070130005432"),
        corr_account=with_account_key(CLIENT_BIK, "3010181020000000059", corr=True),
        signatory_name="Петрова Мария Ивановна", signatory_position="Генеральный директор",
        seal=True,
    )
    data = RegulationDoc(
        number="РВ-ROMASHKA-2", version=2, status="signed",
        contractor=contractor, client=client, city="Москва", contract_number="СП-15/2026",
        contract_date=date(2026, 1, 15),
        signed_on=date(2026, 11, 26), effective_date=date(2026, 12, 1),
        contractor_people=[
            ResponsiblePerson("Ковалёва Ольга Сергеевна", "Аккаунт-менеджер",
                              "Ведёт проект, принимает задачи", "+7 (916) 111-22-33",
                              "o.kovaleva@bizauto.example"),
            ResponsiblePerson("Зайцев Дмитрий Павлович", "Руководитель сопровождения",
                              "Оценка и сроки", "+7 (916) 444-55-66", "d.zaitsev@bizauto.example"),
        ],
        client_people=[
            ResponsiblePerson("Орлова Наталья Андреевна", "Главный бухгалтер",
                              "Ставит задачи по учёту", "+7 (926) 777-88-99",
                              "orlova@romashka.example"),
            ResponsiblePerson("Белов Игорь Олегович", "ИТ-директор", "Согласует ТЗ",
                              "+7 (926) 000-11-22", "belov@romashka.example"),
        ],
        channels=["Telegram-группа «Ромашка — 1С»", "E-mail: support@bizauto.example",
                  "Телефон линии поддержки: +7 (495) 123-45-68"],
        working_hours="понедельник — пятница с 9:00 до 18:00 (МСК), кроме праздничных дней",
        contact_cadence_days=4,
        meeting=MeetingSlot(weekday=2, time=time(10, 30), place="офис Заказчика, переговорная 2"),
        task_intake="Задача ставится в Telegram-группе или письмом в свободной форме.\n\n"
                    "Аккаунт-менеджер в течение рабочего дня подтверждает приём и готовит ТЗ.",
        sla=[
            SlaRow("Критический", "Остановлена работа организации: не проводятся отгрузки", 1, 8),
            SlaRow("Высокий", "Ошибка мешает работе отдела", 4, "2 рабочих дня"),
            SlaRow("Обычный", "Доработки и консультации", "1 рабочий день", "по плану"),
            SlaRow("Низкий", "Пожелания", Decimal("1.5"), "по согласованию"),
        ],
        approval_threshold_hours=Decimal(8), approval_threshold_amount=Decimal("28800.00"),
        acceptance_days=5, payment_days=10,
        escalation=[
            EscalationLevel("Аккаунт-менеджер Ковалёва О.С.", "сразу при нарушении срока"),
            EscalationLevel("Руководитель сопровождения Зайцев Д.П.", "через 1 рабочий день"),
            EscalationLevel("Генеральный директор Смирнов А.В.", "через 3 рабочих дня"),
        ],
        budget="Лимит — 60 часов в месяц по бюджету 2027 года (блоки «Операционный блок» и "
               "«Бухгалтерия»).",
        confidentiality="Стороны не раскрывают сведения, полученные при работе.\n"
                        "Доступы к базам 1С выдаются персонально и отзываются в день увольнения.",
        term="Регламент действует до окончания срока действия договора. Изменения оформляются "
             "новой редакцией, подписанной Сторонами.",
        free_sections=[
            FreeSection("Резервное копирование", "Заказчик ежедневно делает копию баз 1С."),
            FreeSection("Обучение пользователей", "Обучение проводится по отдельной заявке."),
        ],
    )
    return dataclasses.replace(data, **changes)


@pytest.fixture(scope="module")
def regulation() -> RegulationDoc:
    return gen_regulation()


@pytest.fixture(scope="module")
def rendered(regulation) -> bytes:
    return render_regulation(regulation)


@pytest.fixture(scope="module")
def document(rendered):
    return read_docx(rendered)


def _tables(document):
    return [block for block in blocks(document) if not hasattr(block, "text")]


def _requisites(document) -> tuple[str, str]:
    parties = next(t for t in _tables(document) if t.rows[0].cells[0].text.startswith("Исполнитель"))
    return parties.rows[0].cells[0].text, parties.rows[0].cells[1].text


def test_regulation_prints_requisites_of_both_parties(document, regulation):
    """Are ИНН, КПП, ОГРН, bank, БИК, р/с and к/с of each side printed in its own column?"""
    contractor_text, client_text = _requisites(document)
    for party, text in ((regulation.contractor, contractor_text), (regulation.client, client_text)):
        assert party.legal_name in text
        assert f"ИНН {party.inn}, КПП {party.kpp}" in text
        assert f"ОГРН {party.ogrn}" in text
        assert nbsp(f"Адрес: {party.address}") in text
        assert f"Р/с {party.account}" in text
        assert nbsp(f"Банк: {party.bank_name}") in text
        assert f"БИК {party.bik}" in text
        assert f"К/с {party.corr_account}" in text
        assert f"Тел.: {party.phone}" in text
    assert regulation.client.inn not in contractor_text


def test_regulation_lists_every_sla_row(document):
    """Does the SLA table hold every priority with its reaction and resolution time?"""
    sla = next(t for t in _tables(document) if t.rows[0].cells[0].text == "Приоритет")
    assert table_rows(sla) == [
        ["Приоритет", "Описание", "Время реакции", "Время решения"],
        ["Критический", "Остановлена работа организации: не проводятся отгрузки", "1 час",
         "8 часов"],
        ["Высокий", "Ошибка мешает работе отдела", "4 часа", "2 рабочих дня"],
        ["Обычный", "Доработки и консультации", "1 рабочий день", "по плану"],
        ["Низкий", "Пожелания", "1,5 часа", "по согласованию"],
    ]


def test_regulation_has_numbered_section_headings(document):
    """Are the sections in order, free sections included, requisites last, each numbered by Word's
    own list rather than by typed digits?"""
    headings = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert [p.text for p in headings] == [
        "Общие положения",
        "Стороны и ответственные лица",
        "Каналы связи и режим работы",
        "Порядок постановки и согласования задач",
        "Сроки реакции и решения",
        "Эскалация",
        "Объём услуг и бюджет",
        "Приёмка и оплата",
        "Конфиденциальность и персональные данные",
        "Срок действия и порядок изменения",
        "Резервное копирование",
        "Обучение пользователей",
        "Реквизиты и подписи Сторон",
    ]
    numbering = document.styles["Heading 1"].element.pPr.numPr
    assert numbering is not None and numbering.ilvl.val == 0


def test_signature_blocks_show_position_initials_and_seal(document):
    """Does each side sign under its position as «_______ / И.О. Фамилия /», «М.П.» only where a
    seal is used?"""
    parties = next(t for t in _tables(document) if t.rows[0].cells[0].text.startswith("Исполнитель"))
    contractor, client = (cell.text.split("\n") for cell in parties.rows[1].cells)
    assert contractor[0] == "Генеральный директор"
    assert f"_______________{NBSP}/{NBSP}А.В.{NBSP}Смирнов{NBSP}/" in contractor
    assert "М.П." not in contractor
    assert client[0] == "Генеральный директор"
    assert f"_______________{NBSP}/{NBSP}М.И.{NBSP}Петрова{NBSP}/" in client
    assert "М.П." in client


def test_approval_sheet_is_not_attached_to_the_document_the_client_signs(document):
    """Is the client's internal sign-off sheet left out of a two-party document?"""
    assert "ЛИСТ СОГЛАСОВАНИЯ" not in [p.text for p in document.paragraphs]


def test_regulation_states_the_clauses_the_app_obeys(document):
    """Are people, channels, cadence, meetings, approval threshold, escalation, acceptance and
    payment terms written out the Russian way?"""
    text = "\n".join(lines(document))
    assert f"к договору №{NBSP}СП-15/2026 от 15 января 2026{NBSP}г." in text
    assert f"№{NBSP}РВ-ROMASHKA-2, редакция 2" in text
    assert f"г.{NBSP}Москва\t26 ноября 2026{NBSP}г." in text
    assert f"Регламент вступает в силу с 1 декабря 2026{NBSP}г." in text
    assert f"по договору №{NBSP}СП-15/2026 от 15 января 2026{NBSP}г. (далее — Договор)" in text
    for person in ("Ковалёва Ольга Сергеевна", "Зайцев Дмитрий Павлович",
                   "Орлова Наталья Андреевна", "Белов Игорь Олегович",
                   "orlova@\u200bromashka.\u200bexample",
                   "+7 (916) 444-55-66", "Ставит задачи по учёту"):
        assert person in text
    assert "— Telegram-группа «Ромашка — 1С»" in text
    assert "не реже одного раза в 4 (четыре) рабочих дня" in text
    assert "еженедельно по средам в 10:30, место: офис Заказчика, переговорная 2" in text
    assert (f"превышает 8 (восемь) часов или 28{NBSP}800 (двадцать восемь тысяч восемьсот) рублей "
            "00 копеек (без учёта НДС)") in text
    assert "Аккаунт-менеджер в течение рабочего дня подтверждает приём и готовит ТЗ." in text
    assert "Срок рассмотрения акта — 5 (пять) рабочих дней" in text
    assert "не устанавливает — 10 (десять) рабочих дней" in text
    escalation = next(t for t in _tables(document) if t.rows[0].cells[0].text == "Уровень")
    assert [row[0] for row in table_rows(escalation)[1:]] == ["1", "2", "3"]
    assert table_rows(escalation)[3][1] == nbsp("Генеральный директор Смирнов А.В.")


def test_optional_clauses_disappear_when_not_agreed():
    """Without a contract, meetings or a threshold, are those clauses left out cleanly?"""
    data = gen_regulation(meeting=None, approval_threshold_hours=None,
                          approval_threshold_amount=None, effective_date=None, signed_on=None,
                          free_sections=[])
    data.contract_number = ""
    document = read_docx(render_regulation(data))
    text = "\n".join(lines(document))
    assert "Приложение" not in text
    assert "по договору" not in text
    assert "планёрки) проводятся" not in text
    assert "Любые работы Исполнитель начинает только после согласования" in text
    assert "Регламент вступает в силу с даты его подписания обеими Сторонами." in text
    assert "«___» ____________ 20__ г." in text
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[-1] == "Реквизиты и подписи Сторон" and len(headings) == 11
    assert "{%" not in text and "{{" not in text


def test_every_table_repeats_its_header_and_keeps_rows_whole(document):
    """Does each list table repeat its header row on a new page, and no row split across pages?"""
    tables = _tables(document)
    assert len(tables) == 5
    for table in tables:
        rows = table._tbl.tr_lst
        for row in rows:
            assert row.trPr is not None and row.trPr.find(qn("w:cantSplit")) is not None
        is_list = not table.rows[0].cells[0].text.startswith("Исполнитель")
        assert (rows[0].trPr.find(qn("w:tblHeader")) is not None) == is_list


def test_page_is_a4_with_the_required_margins_in_russian_times(document, rendered):
    """Is the page A4 with margins 30/10/20/20 mm, the text Times New Roman 12 pt in Russian?"""
    for section in document.sections:
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        assert round(section.left_margin.mm) == 30
        assert round(section.right_margin.mm) == 10
        assert round(section.top_margin.mm) == 20
        assert round(section.bottom_margin.mm) == 20
        assert abs(section.left_margin - Mm(30)) < Mm(0.1)
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert {fonts.get(qn(a)) for a in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia")} == {
        "Times New Roman"}
    assert defaults.find(qn("w:rPr")).find(qn("w:sz")).get(qn("w:val")) == "24"
    langs = {lang.get(qn("w:val")) for lang in document.styles.element.iter(qn("w:lang"))}
    assert langs == {"ru-RU"}
    assert document.core_properties.language == "ru-RU"


def test_draft_says_projekt_and_signed_does_not(document):
    """Does a draft carry «ПРОЕКТ» in the page header and «Проект» under the title, and a signed
    regulation neither?"""
    draft = read_docx(render_regulation(gen_regulation(status="draft")))
    assert "ПРОЕКТ" in header_text(draft)
    assert "Проект" in [p.text for p in draft.paragraphs[:6]]
    assert "ПРОЕКТ" not in header_text(document)
    assert "Проект" not in [p.text for p in document.paragraphs]


def test_unknown_status_is_refused():
    """Is a status the regulation does not know refused rather than printed as signed?"""
    with pytest.raises(ValueError):
        render_regulation(gen_regulation(status="approved"))


def test_rendered_file_has_no_duplicate_zip_entries(rendered):
    """Does the package hold each part once?"""
    assert duplicate_entries(rendered) == []
    assert zipfile.ZipFile(io.BytesIO(rendered)).testzip() is None


def test_the_file_holds_one_copy_of_the_styles_and_it_speaks_russian(rendered):
    """Word 2010 prefers its own copy of the styles (stylesWithEffects.xml, in the shipped templates
    in English) to styles.xml: a rendered file keeps styles.xml alone, in Russian."""
    archive = zipfile.ZipFile(io.BytesIO(rendered))
    assert [name for name in archive.namelist() if "styles" in name.lower()] == ["word/styles.xml"]
    assert b"stylesWithEffects" not in archive.read("[Content_Types].xml")
    assert b"stylesWithEffects" not in archive.read("word/_rels/document.xml.rels")
    assert set(re.findall(rb'<w:lang [^>]*w:val="([^"]+)"', archive.read("word/styles.xml"))) == {b"ru-RU"}


def test_template_with_libreoffice_core_properties_link_renders_without_duplicates(tmp_path):
    """A template saved by a newer LibreOffice links docProps/core.xml with another relationship
    type: does the rendered file still hold a single core.xml?"""
    source = zipfile.ZipFile(TEMPLATE_DIR / "regulation.docx")
    with zipfile.ZipFile(tmp_path / "regulation.docx", "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "_rels/.rels":
                data = data.replace(
                    b"http://schemas.openxmlformats.org/package/2006/relationships/metadata/",
                    b"http://schemas.openxmlformats.org/officedocument/2006/relationships/metadata/")
                assert b"officedocument/2006/relationships/metadata/core-properties" in data
            target.writestr(info, data)
    rendered = render_regulation(gen_regulation(), override_dir=tmp_path)
    assert duplicate_entries(rendered) == []
    assert read_docx(rendered).core_properties.language == "ru-RU"


def test_a_package_with_a_twice_written_part_leaves_with_each_part_once():
    """Should a render ever write a part twice or the content types late, does the file still hold
    each part once, the first copy, with ``[Content_Types].xml`` first?"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(TEMPLATE_DIR / "regulation.docx") as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        infos = source.infolist()
        for info in infos[1:] + infos[:1]:
            target.writestr(info.filename, source.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            target.writestr("docProps/core.xml", b"<second/>")
        core = source.read("docProps/core.xml")
    assert duplicate_entries(buffer.getvalue()) == ["docProps/core.xml"]
    normalised = _normalise_zip(buffer.getvalue())
    assert duplicate_entries(normalised) == []
    package = zipfile.ZipFile(io.BytesIO(normalised))
    assert package.namelist()[0] == "[Content_Types].xml"
    assert package.read("docProps/core.xml") == core
    assert "Регламент" in all_text(read_docx(normalised))


# the status is a choice; a power of attorney prints only for a signatory acting by one
UNPRINTED = {"status", "attorney_number"}
HOSTILE_TAIL = "<b>&amp; & < > \"'» «ёлочки» {{ 7*7 }} {% if x %} \x00\x01\x0b\x0c\x1f\ud800 "


def _hostile(obj, found: list[str]):
    """A copy of ``obj`` with every string replaced by hostile text, numbered in ``found``."""
    if isinstance(obj, enum.Enum):  # a choice (VAT mode, authority), not typed text
        return obj
    if isinstance(obj, str):
        found.append(f"[{len(found)}]{HOSTILE_TAIL}" + "Щ" * 10_000)
        return found[-1]
    if isinstance(obj, list):
        return [_hostile(item, found) for item in obj]
    if dataclasses.is_dataclass(obj):
        return dataclasses.replace(obj, **{
            f.name: _hostile(getattr(obj, f.name), found)
            for f in dataclasses.fields(obj) if f.name not in UNPRINTED})
    return obj


def test_hostile_text_in_every_field_prints_verbatim():
    """Do markup, ampersands, quotes, Jinja braces, control characters and 10 000-character
    strings in every field come out as typed, minus only what XML cannot hold?"""
    typed: list[str] = []
    data = _hostile(gen_regulation(status="draft"), typed)
    assert len(typed) > 60
    rendered = render_regulation(data)
    text = all_text(read_docx(rendered))
    for value in typed:
        expected = value
        for char in "\x00\x01\x0b\x0c\x1f\ud800":
            expected = expected.replace(char, "")
        assert expected in text, value[:12]
    assert "\x00" not in text and "\x0b" not in text
    assert duplicate_entries(rendered) == []


def test_documents_print_through_the_cheaper_escape():
    """Does a document's Jinja print its values through ``escaping.escape`` (a third of
    MarkupSafe's cost, the same text), and escape them all the same?"""
    template = _environment().from_string("<w:t>{{ text }} {{ number }} {{ markup }}</w:t>")
    assert template.root_render_func.__globals__["escape"] is escaping.escape
    assert template.render(text='<w:b/> & "x"', number=3, markup=Markup("<w:br/>")) == (
        "<w:t>&lt;w:b/&gt; &amp; &#34;x&#34; 3 <w:br/></w:t>")


def _template_with(tmp_path, extra_paragraph: str, name: str = "regulation.docx"):
    """A copy of the shipped template with one paragraph added at the end, in ``tmp_path``."""
    document = Document(TEMPLATE_DIR / "regulation.docx")
    document.add_paragraph(extra_paragraph)
    path = tmp_path / name
    document.save(path)
    return path


def test_installation_override_is_used_instead_of_the_shipped_template(tmp_path):
    """Does a template of the same name in the override directory win, and the shipped one serve
    when the directory has none?"""
    document = Document(TEMPLATE_DIR / "regulation.docx")
    title = next(p for p in document.paragraphs if p.text == "РЕГЛАМЕНТ ВЗАИМОДЕЙСТВИЯ")
    title.runs[0].text = "РЕГЛАМЕНТ РАБОТЫ С {{ client.name }}"
    overrides = tmp_path / "document_templates"
    overrides.mkdir()
    document.save(overrides / "regulation.docx")

    overridden = all_text(read_docx(render_regulation(gen_regulation(), override_dir=overrides)))
    assert "РЕГЛАМЕНТ РАБОТЫ С ООО «Ромашка»" in overridden
    assert "РЕГЛАМЕНТ ВЗАИМОДЕЙСТВИЯ" not in overridden

    shipped = all_text(read_docx(render_regulation(gen_regulation(), override_dir=tmp_path)))
    assert "РЕГЛАМЕНТ ВЗАИМОДЕЙСТВИЯ" in shipped


def _regulation_template_saying(text: str) -> bytes:
    """The shipped regulation template with a last paragraph ``text``, its parts stored unpacked:
    texts of the same length in bytes give files of the same size."""
    document = Document(str(TEMPLATE_DIR / "regulation.docx"))
    document.add_paragraph(text)
    packed, stored = io.BytesIO(), io.BytesIO()
    document.save(packed)
    with zipfile.ZipFile(packed) as source, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info), zipfile.ZIP_STORED)
    return stored.getvalue()


def test_an_override_replaced_in_place_prints_at_the_next_render(tmp_path):
    """The installation's template is replaced by one of the same size that even keeps the old
    file's modification time (copied with ``cp -p``, restored from a backup): does the next document
    follow the new template, not one remembered from the render before?"""
    path = tmp_path / "regulation.docx"
    path.write_bytes(_regulation_template_saying("Редакция шаблона А"))
    first = all_text(read_docx(render_regulation(gen_regulation(), override_dir=tmp_path)))
    old = path.stat()
    path.write_bytes(_regulation_template_saying("Редакция шаблона Б"))
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    second = all_text(read_docx(render_regulation(gen_regulation(), override_dir=tmp_path)))
    assert "Редакция шаблона А" in first and "Редакция шаблона Б" not in first
    assert "Редакция шаблона Б" in second and "Редакция шаблона А" not in second


def test_template_names_cannot_leave_the_template_directory(tmp_path):
    """Is a template name with a path in it refused?"""
    with pytest.raises(ValueError):
        render_docx("../regulation.docx", {}, override_dir=tmp_path)


def test_check_template_accepts_the_shipped_regulation():
    """Does the shipped template pass the upload check with no messages?"""
    assert check_template(TEMPLATE_DIR / "regulation.docx") == []


@pytest.mark.parametrize("paragraph, message", [
    ("{% if is_draft %}Черновик", "Не закрыт блок {% if %}: не хватает {% endif %}."),
    ("{{ clinet.name }}", "Неизвестное поле «clinet»: такого нет в данных документа."),
    ("{{ client.nmae }}", "Неизвестное поле «nmae»: такого нет в данных документа."),
    ("{{ «Ромашка» }}", "Кавычки-ёлочки внутри тега"),
    ("{% endif %}", "Лишний или неизвестный тег «endif»"),
    ("{{ number.__class__.__mro__ }}", "Шаблон обращается к служебным данным, это запрещено."),
])
def test_check_template_explains_a_broken_template_in_russian(tmp_path, paragraph, message):
    """Does the upload check name what is wrong with a template in Russian?"""
    problems = check_template(_template_with(tmp_path, paragraph))
    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_check_template_refuses_files_that_are_not_templates(tmp_path):
    """Are a non-Word file and an unknown template name refused with a Russian message?"""
    junk = tmp_path / "regulation.docx"
    junk.write_bytes(b"%PDF-1.4 not a docx")
    assert check_template(junk) == ["Файл не является документом Word (.docx)."]
    stray = shutil.copy(TEMPLATE_DIR / "regulation.docx", tmp_path / "contract.docx")
    assert check_template(stray)[0].startswith("Шаблон с именем «contract.docx» не используется")
    assert check_template(stray, template_name="regulation.docx") == []


def test_broken_override_fails_with_a_russian_error(tmp_path):
    """Does rendering with a broken override raise an error the page can show?"""
    _template_with(tmp_path, "{% for x in %}")
    with pytest.raises(DocumentTemplateError, match="Синтаксическая ошибка"):
        render_regulation(gen_regulation(), override_dir=tmp_path)


def test_download_name_is_cyrillic_with_an_ascii_fallback():
    """Does the download header keep the Cyrillic name for browsers and offer ASCII for others?"""
    name = "Регламент ООО «Ромашка» №2.docx"
    header = content_disposition(name)
    assert header.startswith('attachment; filename="Reglament OOO Romashka No2.docx"; ')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and " " not in encoded
    assert unquote(encoded) == name


def test_download_name_drops_path_separators_and_quotes():
    """Can a name with slashes, quotes or control characters not break the header?"""
    header = content_disposition('Акт "1/2"\r\n.docx')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="Akt 1_2.docx"; ')
    assert header.endswith("''%D0%90%D0%BA%D1%82%20%221_2%22.docx")


@pytest.fixture(scope="module")
def libreoffice_profile(tmp_path_factory):
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return tmp_path_factory.mktemp("libreoffice-profile")


def test_regulation_opens_in_libreoffice(rendered, libreoffice_profile, tmp_path):
    """Does LibreOffice open the regulation and print it to a PDF of several pages?"""
    pdf = libreoffice_convert(rendered, "docx", "pdf", tmp_path, libreoffice_profile)
    assert pdf.startswith(b"%PDF")
    assert pdf_page_count(pdf) >= 3


def test_template_saved_by_libreoffice_still_renders(libreoffice_profile, tmp_path):
    """After an admin opens the template in LibreOffice and saves it as .docx, does it still pass
    the check and render the data?"""
    resaved = libreoffice_convert((TEMPLATE_DIR / "regulation.docx").read_bytes(), "docx",
                                  "docx:MS Word 2007 XML", tmp_path, libreoffice_profile)
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "regulation.docx").write_bytes(resaved)
    assert check_template(overrides / "regulation.docx") == []
    rendered = render_regulation(gen_regulation(), override_dir=overrides)
    assert duplicate_entries(rendered) == []
    text = all_text(read_docx(rendered))
    assert "Общество с ограниченной ответственностью «Ромашка»" in text
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize(("text", "typeset"), [
    ("№5", "№\u00a05"), ("договор №\u00a077/1", "договор №\u00a077/1"), ("г. Москва", "г.\u00a0Москва"),
    ("2026 г.", "2026\u00a0г."), ("22 %", "22\u00a0%"), ("Петров П. П.", "Петров\u00a0П.\u00a0П."),
    ("1234,50", "1234,50"), ("Ромашка", "Ромашка"), ("", ""),
])
def test_no_break_spaces_where_a_line_must_not_break(text, typeset):
    """The rules, and the texts that skip them (no space, no «№»), which stay as they are."""
    assert nbsp(text) == typeset


def test_a_long_text_is_typeset_like_a_short_one():
    """Short texts are typeset once per process and kept; a long one (a spec's paragraph) is not
    kept, and gets the same rules everywhere in it, twice in a row."""
    paragraph = "Выгрузка по договору № 77/1 для склада в г. Москва, " * 20 + "ответственный Петров П. П."
    assert len(paragraph) > typography.KEPT_LENGTH
    for _ in range(2):
        typeset = nbsp(paragraph)
        assert typeset.count("№\u00a077/1") == 20 and typeset.count("г.\u00a0Москва") == 20
        assert typeset.endswith("Петров\u00a0П.\u00a0П.")


def test_a_column_loop_widens_the_table_grid_and_a_plain_table_keeps_its_own(tmp_path):
    """docxtpl fixes a table's grid after ``{%tc for …%}`` repeated its cells; the render skips that
    walk over every cell for a body without such tags. A template with both tables: the looped one
    gets a column per value, the plain one keeps the three columns it was drawn with."""
    import docx

    from webapp.documents import render

    document = docx.Document()
    looped = document.add_table(rows=1, cols=3)
    for cell, text in zip(looped.rows[0].cells, ("{%tc for month in months %}", "{{ month }}", "{%tc endfor %}")):
        cell.text = text
    plain = document.add_table(rows=2, cols=3)
    for row in plain.rows:
        for cell in row.cells:
            cell.text = "{{ title }}"
    source = tmp_path / "looped.docx"
    document.save(source)

    def grid_and_rows(rendered: bytes) -> list[tuple[int, list[int]]]:
        body = docx.Document(io.BytesIO(rendered)).element.body
        return [(len(table.findall(qn("w:tblGrid") + "/" + qn("w:gridCol"))),
                 [len(row.findall(qn("w:tc"))) for row in table.findall(qn("w:tr"))])
                for table in body.iter(qn("w:tbl"))]

    package = render._prepared_package(source)
    months = ["январь", "февраль", "март", "апрель", "май"]
    assert grid_and_rows(render._render(package, {"months": months, "title": "Т"})) == [(5, [5]), (3, [3, 3])]

    plain_only = docx.Document()
    table = plain_only.add_table(rows=1, cols=3)
    for cell in table.rows[0].cells:
        cell.text = "{{ title }}"
    source = tmp_path / "plain.docx"
    plain_only.save(source)
    assert grid_and_rows(render._render(render._prepared_package(source), {"title": "Т"})) == [(3, [3])]


def test_shipped_templates_carry_only_the_styles_they_use():
    """python-docx's default template brings 168 styles (0.35 MB of XML) that every print unpacked
    and packed again: a shipped template keeps the styles its parts use, ours and the defaults
    (the build's ``prune_styles``, which finds nothing more to drop in it)."""
    spec = importlib.util.spec_from_file_location("build_templates", TEMPLATE_DIR / "build_templates.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for path in sorted(TEMPLATE_DIR.glob("*.docx")):
        document = Document(str(path))
        shipped = [style.style_id for style in document.styles]
        build.prune_styles(document)
        assert [style.style_id for style in document.styles] == shipped, path.name
        assert {"Normal", "Title"} <= set(shipped), path.name
        assert len(zipfile.ZipFile(path).read("word/styles.xml")) < 50_000, path.name


def test_text_breaks_become_word_breaks_and_a_drawings_line_breaks_stay_as_they_are():
    """A newline or tab in a printed value becomes Word's break or tab; the newlines between the
    tags of a drawing (an invoice's QR code) are no text, and a part with only those is left as
    it is rather than cut up by docxtpl's regular expressions."""
    drawing = ('<w:p><w:r><w:t xml:space="preserve">Счёт</w:t></w:r><w:r><w:drawing>\n'
               '  <wp:inline>\n    <a:graphic/>\n  </wp:inline>\n</w:drawing></w:r></w:p>')
    template = _DocxTemplate(None)
    assert template.resolve_listing(drawing) is drawing
    text = '<w:p><w:r><w:t xml:space="preserve">Москва,\nул. Тверская\t1</w:t></w:r></w:p>'
    resolved = template.resolve_listing(drawing + text)
    assert resolved.startswith(drawing)
    assert "<w:br/>" in resolved and "<w:tab/>" in resolved and "\n" not in resolved[len(drawing):]


def test_clean_strips_what_xml_cannot_hold_and_keeps_the_rest_as_it_is():
    """User text loses XML-invalid characters and carriage returns, a Markup becomes plain text
    (escaped when printed), and an enum keeps its label through dicts, lists and tuples."""
    from markupsafe import Markup

    from webapp.documents.render import clean
    from webapp.models import ActStatus

    cleaned = clean({"text": "Строка 1\r\nСтрока 2\rСтрока 3\x0b\x00", "plain": "ООО «Ромашка»",
                     "markup": Markup("<b>x</b>"), "rows": [(ActStatus.ISSUED, "a\ud800b")]})
    assert cleaned["text"] == "Строка 1\nСтрока 2\nСтрока 3" and cleaned["plain"] == "ООО «Ромашка»"
    assert type(cleaned["markup"]) is str and type(cleaned["plain"]) is str
    assert cleaned["rows"] == [(ActStatus.ISSUED, "ab")] and cleaned["rows"][0][0].label == ActStatus.ISSUED.label


def test_a_render_written_over_its_template_is_the_file_python_docx_would_write(monkeypatch):
    """Every shipped template rendered with its sample data, written the quick way (the template's
    files with the rewritten parts replaced, the body as Jinja wrote it) and as docxtpl and
    python-docx write it (the body parsed into the document): the same files in the same order
    with the same content — XML compared in its canonical form, which leaves out how a serialiser
    spells it (quotes, escapes, a namespace declared twice) — but the moment of writing. A
    picture added (the invoice's QR code) is numbered the same way in the text, and its part,
    relationship and content type are written as python-docx writes them."""
    from lxml import etree

    from webapp.documents import act, budget, minutes, regulation, render, spec  # noqa: F401 -- their samples
    from webapp.documents.render import _samples

    def files(data: bytes) -> list[tuple[str, bytes]]:
        archive = zipfile.ZipFile(io.BytesIO(data))
        found = [(name, archive.read(name)) for name in archive.namelist()]
        return [(name, re.sub(rb"<dcterms:modified[^<]*</dcterms:modified>", b"",
                              etree.tostring(etree.fromstring(content), method="c14n")))
                if name.endswith((".xml", ".rels")) else (name, content) for name, content in found]

    assert set(_samples) == {"act.docx", "budget.docx", "invoice.docx", "minutes.docx", "regulation.docx",
                             "spec.docx"}
    quick, ways = render._written_over, []

    def noted(package, rendered):
        written = quick(package, rendered)
        ways.append((rendered.docx.part.body_xml is not None, written is not None))
        return written

    monkeypatch.setattr(render, "_written_over", noted)
    written = {name: render_docx(name, _samples[name]()) for name in _samples}
    qr = act.render_invoice(act.sample_act())
    assert ways == [(True, True)] * (len(_samples) + 1)  # every body kept as text, every file written quick
    monkeypatch.setattr(render, "_written_over", lambda package, rendered: None)
    monkeypatch.setattr(render._DocxTemplate, "keeps_body_as_text", False)
    for name in _samples:
        assert files(written[name]) == files(render_docx(name, _samples[name]())), name
    # the picture's files come last rather than where python-docx's walk of the parts puts them
    assert sorted(files(qr)) == sorted(files(act.render_invoice(act.sample_act())))
    assert files(qr)[0][0] == "[Content_Types].xml"
    assert any(name.startswith("word/media/") for name, _ in files(qr))
    assert not any("{{" in data.decode("utf-8", "replace") for name, data in files(written["act.docx"])
                   if name == "word/document.xml")
