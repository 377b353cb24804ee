"""Build the shipped Word templates with python-docx. Run once; the .docx files are committed.

The templates are meant to be edited by people in Word afterwards (an installation overrides one by
uploading a file of the same name), so this script only gives them a clean start: page setup,
styles, and docxtpl tags each kept inside a single run.

Regenerate (overwrites the shipped files; review the diff of the rendered output before committing):

    .venv/bin/python webapp/documents/templates/build_templates.py

Tag rules kept here and worth keeping when editing in Word: ``{%p … %}`` stands alone in its
paragraph, ``{%tr … %}`` alone in its table row; no «ёлочки» inside ``{{ }}`` or ``{% %}``.
"""

from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).parent
FONT = "Times New Roman"
LANGUAGE = "ru-RU"
TEXT_WIDTH_MM = 210 - 30 - 10
HEADER_FILL = "E7E6E6"


# -- page and styles --------------------------------------------------------------------------


def new_document(title: str) -> Document:
    """A4 portrait, margins 30/10/20/20 mm, Times New Roman 12 pt, Russian everywhere."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(30), Mm(10)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.header_distance = section.footer_distance = Mm(10)

    _set_defaults(document)
    _style_headings(document)
    _add_paragraph_style(document, "Пункт", justify=True, first_line_mm=12.5, after_pt=3)
    _add_paragraph_style(document, "Перечень", justify=True, left_mm=12.5, after_pt=0)
    _add_paragraph_style(document, "Таблица", after_pt=0)

    settings = document.settings.element
    for element in settings.iter(qn("w:themeFontLang")):
        element.set(qn("w:val"), LANGUAGE)
    for tag, value in (("w:decimalSymbol", ","), ("w:listSeparator", ";")):
        for element in settings.iter(qn(tag)):
            element.set(qn("w:val"), value)

    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # python-docx's own preview picture, not ours
            del package.rels[rel_id]

    properties = document.core_properties
    properties.created = properties.modified = datetime.now(timezone.utc).replace(microsecond=0)
    properties.revision = 1
    properties.title = title
    properties.author = "AccountDesk"
    properties.last_modified_by = "AccountDesk"
    properties.language = LANGUAGE
    properties.comments = ""
    return document


def _set_defaults(document: Document) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(run):
        run.remove(child)
    fonts = OxmlElement("w:rFonts")
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    run.append(fonts)
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), "24")
        run.append(size)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)
    lang.set(qn("w:bidi"), "ar-SA")
    run.append(lang)

    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")


def _style_headings(document: Document) -> None:
    """Headings in the body font, 12 pt bold black, kept with the next paragraph."""
    for name in ("Heading 1", "Heading 2", "Title", "Header", "Footer"):
        style = document.styles[name]
        rpr = style.element.find(qn("w:rPr"))
        if rpr is not None:
            style.element.remove(rpr)
        style.font.size = Pt(12)
        style.font.color.rgb = RGBColor(0, 0, 0)
    for name in ("Heading 1", "Heading 2", "Title"):
        style = document.styles[name]
        style.font.bold = True
        fmt = style.paragraph_format
        fmt.keep_with_next = True
        fmt.space_before, fmt.space_after = Pt(12), Pt(6)
    title = document.styles["Title"]
    title.font.size = Pt(14)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(0)
    ppr = title.element.find(qn("w:pPr"))
    border = ppr.find(qn("w:pBdr")) if ppr is not None else None
    if border is not None:
        ppr.remove(border)


def _add_paragraph_style(document: Document, name: str, *, justify: bool = False,
                         first_line_mm: float = 0, left_mm: float = 0, after_pt: float = 0):
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    fmt = style.paragraph_format
    if justify:
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Mm(first_line_mm) if first_line_mm else None
    fmt.left_indent = Mm(left_mm) if left_mm else None
    fmt.space_after = Pt(after_pt)
    return style


# -- building blocks --------------------------------------------------------------------------


def clause(document, text: str, style: str = "Пункт", bold: str = ""):
    """A paragraph; ``bold`` is an optional leading run (a clause number or a caption)."""
    paragraph = document.add_paragraph(style=style)
    if bold:
        paragraph.add_run(bold).bold = True
    if text:
        paragraph.add_run(text)
    return paragraph


def tag(document, text: str):
    """A paragraph holding only a ``{%p … %}`` tag: docxtpl removes it when rendering."""
    return document.add_paragraph(text, style="Normal")


def heading(document, text: str):
    return document.add_heading(text, level=1)


def _row_properties(row, header: bool = False) -> None:
    """Rows never split across pages; a header row repeats on every page."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _fixed_layout(table, widths_mm: list[float]) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    grid = table._tbl.tblGrid.findall(qn("w:gridCol"))
    for column, width in zip(grid, widths_mm):
        column.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)


def _fill(cell, lines: list[str], bold: bool = False) -> None:
    """Put ``lines`` into a cell, one paragraph each (the first reuses the cell's own)."""
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.style = "Таблица"
        if line:
            paragraph.add_run(line).bold = bold


def loop_table(document, headers: list[str], widths_mm: list[float], loop: str,
               cells: list[list[str]], min_height_mm: float = 0):
    """A bordered table: a repeating header row, then one row per item of ``loop``.

    ``loop`` is the ``for`` clause (``"item in items"``); ``cells`` are the lines of each cell of
    the item's row; ``min_height_mm`` leaves room for a handwritten signature.
    """
    table = document.add_table(rows=4, cols=len(headers))
    table.style = document.styles["Table Grid"]
    header, opening, body, closing = table.rows
    for cell, text in zip(header.cells, headers):
        _fill(cell, [text], bold=True)
        _shade(cell, HEADER_FILL)
    _row_properties(header, header=True)
    _fill(opening.cells[0], [f"{{%tr for {loop} %}}"])
    for cell, lines in zip(body.cells, cells):
        _fill(cell, lines)
    _row_properties(body)
    if min_height_mm:
        body.height = Mm(min_height_mm)
        body.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    _fill(closing.cells[0], ["{%tr endfor %}"])
    _fixed_layout(table, widths_mm)
    return table


def text_block(document, variable: str, caption: str = "") -> None:
    """A free-text field printed as its own paragraphs (the data splits it at line breaks)."""
    if caption:
        clause(document, "", bold=caption)
    tag(document, f"{{%p for paragraph in {variable} %}}")
    clause(document, "{{ paragraph }}")
    tag(document, "{%p endfor %}")


def header_footer(document) -> None:
    """«ПРОЕКТ» in the header of a draft; the page number in the footer."""
    section = document.sections[0]
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run("{% if is_draft %}ПРОЕКТ{% endif %}")
    run.bold = True

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    placeholder = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    placeholder.append(text)
    field.append(placeholder)
    paragraph._p.append(field)


def party_cells(table, row_index: int, left: str, right: str) -> None:
    """Requisites of the contractor (left) and the client (right), side by side."""
    for cell, party, label in zip(table.rows[row_index].cells, (left, right),
                                  ("Исполнитель", "Заказчик")):
        lines = [
            label,
            f"{{{{ {party}.legal_name }}}}",
            f"({{{{ {party}.name }}}})",
            f"ИНН {{{{ {party}.inn }}}}{{% if {party}.kpp %}}, КПП {{{{ {party}.kpp }}}}{{% endif %}}",
            f"{{% if {party}.ogrn %}}ОГРН {{{{ {party}.ogrn }}}}{{% endif %}}",
            f"Адрес: {{{{ {party}.address }}}}",
            f"Р/с {{{{ {party}.account }}}}",
            f"Банк: {{{{ {party}.bank_name }}}}",
            f"БИК {{{{ {party}.bik }}}}",
            f"К/с {{{{ {party}.corr_account }}}}",
            f"{{% if {party}.phone %}}Тел.: {{{{ {party}.phone }}}}{{% endif %}}",
            f"{{% if {party}.email %}}E-mail: {{{{ {party}.email }}}}{{% endif %}}",
            f"Подписант: {{{{ {party}.signatory_position }}}} {{{{ {party}.signatory_name }}}}, "
            f"действует на основании {{{{ {party}.signatory_basis }}}}",
        ]
        _fill(cell, lines)
        cell.paragraphs[0].runs[0].bold = True
        cell.paragraphs[1].runs[0].bold = True


def signature_cells(table, row_index: int, left: str, right: str) -> None:
    """Position, «_______ / И.О. Фамилия /», and «М.П.» where the party uses a seal."""
    for cell, party in zip(table.rows[row_index].cells, (left, right)):
        _fill(cell, [
            f"{{{{ {party}.signatory_position }}}}",
            "",
            f"_______________ / {{{{ {party}.signatory_initials }}}} /",
            f"{{% if {party}.seal %}}М.П.{{% endif %}}",
        ])


# -- the regulation ---------------------------------------------------------------------------


def build_regulation(path: Path) -> None:
    document = new_document("Регламент взаимодействия")
    header_footer(document)

    tag(document, "{%p if client.contract_number %}")
    appendix = clause(document, "Приложение к договору № {{ client.contract_number }}"
                      "{% if client.contract_date %} от {{ client.contract_date }}{% endif %}",
                      style="Normal")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix.paragraph_format.space_after = Pt(12)
    tag(document, "{%p endif %}")

    document.add_paragraph("РЕГЛАМЕНТ ВЗАИМОДЕЙСТВИЯ", style="Title")
    subtitle = document.add_paragraph("№ {{ number }}, редакция {{ version }}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tag(document, "{%p if is_draft %}")
    marker = document.add_paragraph()
    marker.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marker.add_run("Проект").bold = True
    tag(document, "{%p endif %}")

    place = document.add_paragraph("{{ city }}\t{{ signed_on }}")
    place.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    place.paragraph_format.space_before = Pt(12)
    place.paragraph_format.space_after = Pt(12)

    clause(document, "{{ client.legal_name }} (далее — Заказчик) и {{ contractor.legal_name }} "
                     "(далее — Исполнитель), вместе именуемые Стороны, установили настоящий "
                     "порядок взаимодействия.")

    heading(document, "1. Общие положения")
    clause(document, "Настоящий регламент взаимодействия (далее — Регламент) определяет порядок "
                     "работы Сторон{% if client.contract_number %} по договору "
                     "№ {{ client.contract_number }}{% if client.contract_date %} от "
                     "{{ client.contract_date }}{% endif %}{% endif %} при оказании Исполнителем "
                     "услуг по внедрению и сопровождению программ «1С:Предприятие».", bold="1.1. ")
    clause(document, "Дата вступления Регламента в силу: {{ effective_from }}", bold="1.2. ")
    clause(document, "Сроки, установленные в рабочих днях и часах, исчисляются по "
                     "производственному календарю Российской Федерации в пределах режима работы, "
                     "установленного разделом 3.", bold="1.3. ")

    heading(document, "2. Стороны и ответственные лица")
    people_headers = ["ФИО", "Должность", "Роль в процессе", "Телефон, e-mail"]
    people_widths = [42, 36, 42, 50]
    people_cells = [["{{ person.name }}"], ["{{ person.position }}"], ["{{ person.role }}"],
                    ["{{ person.phone }}", "{{ person.email }}"]]
    clause(document, "Ответственные лица Исполнителя:", bold="2.1. ")
    loop_table(document, people_headers, people_widths, "person in contractor_people",
               people_cells)
    clause(document, "Ответственные лица Заказчика:", bold="2.2. ").paragraph_format.space_before \
        = Pt(6)
    loop_table(document, people_headers, people_widths, "person in client_people", people_cells)
    clause(document, "Об изменении состава ответственных лиц Сторона уведомляет другую Сторону по "
                     "электронной почте не позднее следующего рабочего дня.",
           bold="2.3. ").paragraph_format.space_before = Pt(6)

    heading(document, "3. Каналы связи и режим работы")
    clause(document, "Стороны обмениваются информацией по следующим каналам:", bold="3.1. ")
    tag(document, "{%p for channel in channels %}")
    clause(document, "— {{ channel }}", style="Перечень")
    tag(document, "{%p endfor %}")
    clause(document, "Режим работы Исполнителя: {{ working_hours }}", bold="3.2. ")
    clause(document, "Ответственное лицо Исполнителя связывается с Заказчиком не реже одного раза "
                     "в {{ contact_cadence }}, в том числе при отсутствии открытых задач.",
           bold="3.3. ")
    tag(document, "{%p if meeting %}")
    clause(document, "Регулярные встречи (планёрки) проводятся еженедельно {{ meeting.weekday }} "
                     "в {{ meeting.time }}, место: {{ meeting.place }}. По итогам встречи "
                     "Исполнитель направляет Заказчику протокол с принятыми решениями.",
           bold="3.4. ")
    tag(document, "{%p endif %}")

    heading(document, "4. Порядок постановки задач")
    text_block(document, "task_intake", caption="4.1. Порядок приёма задач:")
    clause(document, "{% if approval_threshold %}Работы, оценка которых превышает "
                     "{{ approval_threshold }}, Исполнитель начинает только после согласования "
                     "оценки лицом, принимающим решения со стороны Заказчика (лист согласования). "
                     "Работы меньшего объёма выполняются по заявке ответственного лица Заказчика."
                     "{% else %}Любые работы Исполнитель начинает только после согласования "
                     "оценки лицом, принимающим решения со стороны Заказчика (лист согласования)."
                     "{% endif %}", bold="4.2. ")
    clause(document, "Очерёдность выполнения накопленных задач Стороны согласуют на регулярных "
                     "встречах; срочные обращения выполняются в сроки раздела 5.", bold="4.3. ")

    heading(document, "5. Сроки реакции и решения")
    clause(document, "Сроки реакции и решения по приоритетам обращений:", bold="5.1. ")
    loop_table(document, ["Приоритет", "Описание", "Время реакции", "Время решения"],
               [30, 70, 35, 35], "row in sla",
               [["{{ row.priority }}"], ["{{ row.description }}"], ["{{ row.reaction }}"],
                ["{{ row.resolution }}"]])
    clause(document, "Время реакции — срок от получения обращения до подтверждения его приёма в "
                     "работу; время решения — срок до передачи результата Заказчику. Сроки "
                     "исчисляются в пределах режима работы (п. 3.2).",
           bold="5.2. ").paragraph_format.space_before = Pt(6)

    heading(document, "6. Эскалация")
    clause(document, "Вопрос, не решённый в установленный срок, передаётся на следующий уровень:",
           bold="6.1. ")
    loop_table(document, ["Уровень", "Кому", "Когда"], [25, 72.5, 72.5], "level in escalation",
               [["{{ level.number }}"], ["{{ level.who }}"], ["{{ level.when }}"]])

    heading(document, "7. Объём услуг и бюджет")
    text_block(document, "budget")

    heading(document, "8. Приёмка и оплата")
    clause(document, "По итогам периода Исполнитель направляет Заказчику акт сдачи-приёмки "
                     "оказанных услуг. Срок рассмотрения акта — {{ acceptance_period }} с даты его "
                     "получения; в этот срок Заказчик подписывает акт или направляет "
                     "мотивированный отказ.", bold="8.1. ")
    clause(document, "Срок оплаты — {{ payment_period }} с даты подписания акта.", bold="8.2. ")

    heading(document, "9. Конфиденциальность и доступ")
    text_block(document, "confidentiality")

    heading(document, "10. Срок действия и порядок изменения")
    text_block(document, "term")

    tag(document, "{%p for section in free_sections %}")
    heading(document, "{{ loop.index + 10 }}. {{ section.title }}")
    text_block(document, "section.paragraphs")
    tag(document, "{%p endfor %}")

    heading(document, "{{ free_sections|length + 11 }}. Реквизиты и подписи Сторон")
    parties = document.add_table(rows=2, cols=2)
    party_cells(parties, 0, "contractor", "client")
    signature_cells(parties, 1, "contractor", "client")
    for row in parties.rows:
        _row_properties(row)
    for cell in parties.rows[0].cells:  # requisites stay on the page of the signatures
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True
    _fixed_layout(parties, [85, 85])

    sheet = document.add_paragraph("ЛИСТ СОГЛАСОВАНИЯ", style="Title")
    sheet.paragraph_format.page_break_before = True
    caption = document.add_paragraph("к регламенту взаимодействия № {{ number }}, "
                                     "редакция {{ version }}")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.space_after = Pt(12)
    loop_table(document, ["№", "ФИО", "Должность", "Что согласует", "Подпись", "Дата"],
               [10, 40, 35, 40, 25, 20], "approver in approvers",
               [["{{ loop.index }}"], ["{{ approver.name }}"], ["{{ approver.position }}"],
                ["{{ approver.decides }}"], [""], [""]], min_height_mm=12)

    document.save(path)


if __name__ == "__main__":
    build_regulation(HERE / "regulation.docx")
    print(f"written {HERE / 'regulation.docx'}")
