"""Build the shipped Word templates with python-docx. Run once; the .docx files are committed.

The templates are meant to be edited by people in Word afterwards (an installation overrides one by
uploading a file of the same name), so this script only gives them a clean start: page setup,
styles, and docxtpl tags each kept inside a single run.

Regenerate (overwrites the shipped files; review the diff of the rendered output before committing):

    .venv/bin/python webapp/documents/templates/build_templates.py             # every template
    .venv/bin/python webapp/documents/templates/build_templates.py spec.docx   # only the spec

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
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).parent
FONT = "Times New Roman"
LANGUAGE = "ru-RU"
TEXT_WIDTH_MM = 210 - 30 - 10
HEADER_FILL = "E7E6E6"
LIST_ID = 90  # the regulation's own multilevel list in numbering.xml
CLAUSE_ID = "Пункт"  # the style id of the clause style (its name without spaces)
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


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

    paragraph = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    paragraph.get_or_add_widowControl().val = True  # no single line left behind a page break
    spacing = paragraph.find(qn("w:spacing"))
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


def header_footer(document, draft_mark: bool = True) -> None:
    """«Страница N из M» at the top centre from page 2 (PAGE and NUMPAGES fields), «ПРОЕКТ» at the
    right of every page of a draft (``draft_mark``: documents that have drafts); nothing in the
    footer."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    width = Mm(TEXT_WIDTH_MM)
    if not draft_mark:
        paragraph = section.header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run("Страница ")
        _field(paragraph, "PAGE", "2")
        paragraph.add_run(" из ")
        _field(paragraph, "NUMPAGES", "3")
        return
    first = section.first_page_header.paragraphs[0]
    first.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    first.add_run("\t{% if is_draft %}ПРОЕКТ{% endif %}").bold = True

    paragraph = section.header.paragraphs[0]
    paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM / 2), WD_TAB_ALIGNMENT.CENTER)
    paragraph.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    paragraph.add_run("\tСтраница ")
    _field(paragraph, "PAGE", "2")
    paragraph.add_run(" из ")
    _field(paragraph, "NUMPAGES", "3")
    paragraph.add_run("\t")
    paragraph.add_run("{% if is_draft %}ПРОЕКТ{% endif %}").bold = True


def _field(paragraph, instruction: str, placeholder: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} \\* MERGEFORMAT ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def numbering(document) -> None:
    """One multilevel list: «1.» for the sections (Heading 1), «1.1.» for the clauses (Пункт).

    Word (and LibreOffice) count the paragraphs themselves, so a section added or left out
    renumbers every section and clause after it.
    """
    part = document.part.numbering_part.element
    abstract = parse_xml(f"""
<w:abstractNum {W_NS} w:abstractNumId="{LIST_ID}">
  <w:nsid w:val="5245474C"/><w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading1"/>
    <w:suff w:val="space"/><w:lvlText w:val="%1."/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="0" w:firstLine="0"/></w:pPr></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="{CLAUSE_ID}"/>
    <w:suff w:val="space"/><w:lvlText w:val="%1.%2."/><w:lvlJc w:val="left"/>
    <w:pPr><w:ind w:left="0" w:firstLine="709"/></w:pPr><w:rPr><w:b w:val="0"/></w:rPr></w:lvl>
</w:abstractNum>""".strip())
    first_num = part.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        part.append(abstract)
    part.append(parse_xml(f'<w:num {W_NS} w:numId="{LIST_ID}"><w:abstractNumId w:val="{LIST_ID}"/></w:num>'))
    for style_name, level in (("Heading 1", 0), ("Пункт", 1)):
        style = document.styles[style_name]
        assert style.style_id in ("Heading1", CLAUSE_ID), style.style_id
        numbering_properties = style.element.get_or_add_pPr().get_or_add_numPr()
        numbering_properties.get_or_add_ilvl().val = level
        numbering_properties.get_or_add_numId().val = LIST_ID


def party_cells(table, row_index: int, left: str, right: str) -> None:
    """Requisites of the contractor (left) and the client (right), side by side: only the lines
    that have a value (the data leaves out empty ones)."""
    for cell, party in zip(table.rows[row_index].cells, (left, right)):
        _fill(cell, [f"{{{{ {party}.role }}}}", f"{{{{ {party}.legal_name }}}}",
                     f"{{%p for line in {party}.requisites %}}", "{{ line }}", "{%p endfor %}"])
        cell.paragraphs[0].runs[0].bold = True
        cell.paragraphs[1].runs[0].bold = True


def signature_cells(table, row_index: int, left: str, right: str) -> None:
    """Position, «_______ / И.О. Фамилия /» on one line, and «М.П.» where the company uses it."""
    for cell, party in zip(table.rows[row_index].cells, (left, right)):
        _fill(cell, [f"{{{{ {party}.position }}}}", "", f"{{{{ {party}.signature }}}}",
                     f"{{%p if {party}.seal %}}", "М.П.", "{%p endif %}"])


def lead_in(document, text: str):
    """A clause that introduces a table or a list: it stays on the page of what follows."""
    paragraph = clause(document, text)
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def section(document, title: str, condition: str = "") -> None:
    """A numbered section heading; with ``condition``, the caller closes ``{%p endif %}``."""
    if condition:
        tag(document, f"{{%p if {condition} %}}")
    heading(document, title)


def end_if(document) -> None:
    tag(document, "{%p endif %}")


def numbered_paragraphs(document, variable: str) -> None:
    """Each paragraph of a free text as a numbered clause of its own (each can be cited)."""
    tag(document, f"{{%p for paragraph in {variable} %}}")
    clause(document, "{{ paragraph }}")
    tag(document, "{%p endfor %}")


# -- the regulation ---------------------------------------------------------------------------


def build_regulation(path: Path) -> None:
    document = new_document("Регламент взаимодействия")
    _add_paragraph_style(document, "Текст", justify=True, first_line_mm=12.5, after_pt=6)
    numbering(document)
    header_footer(document)

    tag(document, "{%p if contract %}")
    appendix = document.add_paragraph(
        "Приложение{% if contract.appendix %} №\u00a0{{ contract.appendix }}{% endif %}")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix = document.add_paragraph(
        "к договору №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}{% endif %}")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix.paragraph_format.space_after = Pt(12)
    tag(document, "{%p endif %}")

    document.add_paragraph("РЕГЛАМЕНТ ВЗАИМОДЕЙСТВИЯ", style="Title")
    subtitle = document.add_paragraph("№\u00a0{{ number }}, редакция {{ version }}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tag(document, "{%p if is_draft %}")
    marker = document.add_paragraph()
    marker.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marker.add_run("Проект").bold = True
    tag(document, "{%p endif %}")
    tag(document, "{%p if superseded_on %}")
    marker = document.add_paragraph()
    marker.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marker.add_run("Утратила силу с {{ superseded_on }}").bold = True
    tag(document, "{%p endif %}")

    place = document.add_paragraph("{{ city }}\t{{ signed_on }}")
    place.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    place.paragraph_format.space_before = Pt(12)
    place.paragraph_format.space_after = Pt(12)

    clause(document, "{{ client.preamble }}, с одной стороны, и {{ contractor.preamble }}, с другой "
                     "стороны, вместе именуемые «Стороны», утвердили настоящий регламент "
                     "взаимодействия (далее — Регламент).", style="Текст")

    section(document, "Общие положения")
    clause(document, "Регламент определяет порядок взаимодействия Сторон при оказании Исполнителем "
                     "услуг по внедрению и сопровождению программ «1С:Предприятие»{% if contract %} по "
                     "договору №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}"
                     "{% endif %} (далее — Договор) и является неотъемлемой частью Договора{% endif %}.")
    tag(document, "{%p if contract %}")
    clause(document, "Регламент не изменяет условий Договора. Если положения Регламента расходятся с "
                     "Договором, применяются положения Договора.")
    tag(document, "{%p endif %}")
    clause(document, "Регламент вступает в силу {{ effective_from }}")
    tag(document, "{%p if previous_number %}")
    clause(document, "Со дня вступления в силу настоящей редакции Регламента она заменяет редакцию "
                     "№\u00a0{{ previous_number }}, которая с этого дня утрачивает силу.")
    tag(document, "{%p endif %}")
    clause(document, "Сроки, установленные в рабочих днях и рабочих часах, исчисляются по "
                     "производственному календарю Российской Федерации в пределах режима работы "
                     "Исполнителя, установленного Регламентом.")

    section(document, "Стороны и ответственные лица")
    people_headers = ["ФИО", "Должность", "Роль в процессе", "Телефон, e-mail"]
    people_widths = [42, 36, 42, 50]
    people_cells = [["{{ person.name }}"], ["{{ person.position }}"], ["{{ person.role }}"],
                    ["{{ person.phone }}", "{{ person.email }}"]]
    for side, variable in (("Исполнителя", "contractor_people"), ("Заказчика", "client_people")):
        tag(document, f"{{%p if {variable} %}}")
        lead_in(document, f"Ответственные лица {side}:").paragraph_format.space_before = Pt(6)
        loop_table(document, people_headers, people_widths, f"person in {variable}", people_cells)
        tag(document, "{%p endif %}")
    clause(document, "Об изменении состава ответственных лиц или их контактных данных Сторона "
                     "уведомляет другую Сторону по электронной почте не позднее следующего рабочего "
                     "дня.").paragraph_format.space_before = Pt(6)

    section(document, "Каналы связи и режим работы")
    tag(document, "{%p if channels %}")
    lead_in(document, "Стороны обмениваются информацией по следующим каналам:")
    tag(document, "{%p for channel in channels %}")
    clause(document, "— {{ channel }}", style="Перечень")
    tag(document, "{%p endfor %}")
    end_if(document)
    tag(document, "{%p if working_hours %}")
    clause(document, "Режим работы Исполнителя: {{ working_hours }}")
    end_if(document)
    clause(document, "Ответственное лицо Исполнителя связывается с Заказчиком {{ contact_rule }}, "
                     "в том числе при отсутствии открытых задач.")
    tag(document, "{%p if meeting %}")
    clause(document, "Регулярные встречи (планёрки) проводятся еженедельно {{ meeting.weekday }} "
                     "в {{ meeting.time }}, место: {{ meeting.place }}. Не позднее следующего рабочего "
                     "дня после встречи Исполнитель направляет Заказчику протокол с принятыми "
                     "решениями.")
    end_if(document)

    section(document, "Порядок постановки и согласования задач")
    numbered_paragraphs(document, "task_intake")
    clause(document, "{% if approval_threshold %}Работы, оценка которых превышает "
                     "{{ approval_threshold }}, Исполнитель начинает только после согласования "
                     "оценки лицом, принимающим решения со стороны Заказчика. Работы меньшего объёма "
                     "выполняются по заявке ответственного лица Заказчика без отдельного "
                     "согласования.{% else %}Любые работы Исполнитель начинает только после "
                     "согласования оценки лицом, принимающим решения со стороны Заказчика."
                     "{% endif %}")
    clause(document, "Согласованием оценки считается любое из следующего: письмо лица, принимающего "
                     "решения, с его адреса электронной почты, указанного в Регламенте; его сообщение "
                     "в рабочем чате проекта; подписанное им техническое задание (спецификация); "
                     "решение, записанное в протоколе планёрки.")
    clause(document, "Очерёдность выполнения накопленных задач Стороны согласуют на регулярных "
                     "встречах; срочные обращения выполняются в сроки реакции и решения, указанные в "
                     "Регламенте.")

    section(document, "Сроки реакции и решения", "sla")
    lead_in(document, "Сроки реакции и решения по приоритетам обращений:")
    loop_table(document, ["Приоритет", "Описание", "Время реакции", "Время решения"],
               [30, 70, 35, 35], "row in sla",
               [["{{ row.priority }}"], ["{{ row.description }}"], ["{{ row.reaction }}"],
                ["{{ row.resolution }}"]])
    clause(document, "Время реакции — срок от регистрации обращения до подтверждения его приёма в "
                     "работу; время решения — срок до передачи результата Заказчику. Сроки "
                     "исчисляются с момента регистрации обращения Исполнителем, время которой "
                     "указывается в подтверждении приёма, в пределах режима работы Исполнителя."
                     ).paragraph_format.space_before = Pt(6)
    end_if(document)

    section(document, "Эскалация", "escalation")
    lead_in(document, "Вопрос, не решённый в установленный срок, передаётся на следующий уровень:")
    loop_table(document, ["Уровень", "Кому", "Когда"], [25, 72.5, 72.5], "level in escalation",
               [["{{ level.number }}"], ["{{ level.who }}"], ["{{ level.when }}"]])
    clause(document, "Эскалировать вопрос вправе каждая Сторона: Заказчик — лицам Исполнителя, "
                     "Исполнитель — ответственным лицам Заказчика; их контактные данные указаны в "
                     "разделе «Стороны и ответственные лица».").paragraph_format.space_before = Pt(6)
    end_if(document)

    section(document, "Объём услуг и бюджет", "budget")
    numbered_paragraphs(document, "budget")
    end_if(document)

    section(document, "Приёмка и оплата")
    clause(document, "Отчётный период — календарный месяц. По окончании отчётного периода Исполнитель "
                     "направляет Заказчику акт сдачи-приёмки оказанных услуг или универсальный "
                     "передаточный документ (УПД) с перечнем выполненных работ.")
    clause(document, "Срок рассмотрения акта — {{ acceptance_period }} с даты его получения. В этот "
                     "срок Заказчик подписывает акт или направляет мотивированный отказ с перечнем "
                     "замечаний. Если в этот срок акт не подписан и мотивированный отказ не направлен, "
                     "услуги считаются принятыми без замечаний.")
    clause(document, "Акты, УПД и счета Стороны подписывают усиленной квалифицированной электронной "
                     "подписью и передают через операторов электронного документооборота (ЭДО); "
                     "документ считается полученным в день его поступления получателю через оператора "
                     "ЭДО. Без ЭДО документы передаются на бумаге.")
    clause(document, "Оплата производится в порядке и в сроки, установленные Договором; если Договор "
                     "срок оплаты не устанавливает — {{ payment_period }} с даты подписания акта.")

    section(document, "Конфиденциальность и персональные данные", "confidentiality")
    numbered_paragraphs(document, "confidentiality")
    end_if(document)

    section(document, "Срок действия и порядок изменения", "term")
    numbered_paragraphs(document, "term")
    end_if(document)

    tag(document, "{%p for section in free_sections %}")
    heading(document, "{{ section.title }}")
    numbered_paragraphs(document, "section.paragraphs")
    tag(document, "{%p endfor %}")

    heading(document, "Реквизиты и подписи Сторон")
    parties = document.add_table(rows=2, cols=2)
    party_cells(parties, 0, "contractor", "client")
    signature_cells(parties, 1, "contractor", "client")
    for row in parties.rows:
        _row_properties(row)
    for cell in parties.rows[0].cells:  # requisites stay on the page of the signatures
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True
    _fixed_layout(parties, [85, 85])

    save(document, path)


# -- the spec (техническое задание) -----------------------------------------------------------


def _sign_off(document) -> None:
    """Both parties' signature blocks side by side, kept on one page: the spec and the budget appendix."""
    signatures = document.add_table(rows=1, cols=2)
    for cell, party in zip(signatures.rows[0].cells, ("contractor", "client")):
        _fill(cell, [f"{{{{ {party}.role }}}}", f"{{{{ {party}.name }}}}", f"{{{{ {party}.position }}}}", "",
                     f"{{{{ {party}.signature }}}}", "{{ unsigned_date }}",
                     f"{{%p if {party}.seal %}}", "М.П.", "{%p endif %}"])
        cell.paragraphs[0].runs[0].bold = True
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True
    for row in signatures.rows:
        _row_properties(row)
    _fixed_layout(signatures, [85, 85])


def build_spec(path: Path) -> None:
    """The spec of one backlog item for the client's sign-off; each section only when it has text."""
    document = new_document("Техническое задание")
    _add_paragraph_style(document, "Текст", justify=True, first_line_mm=12.5, after_pt=6)
    numbering(document)
    header_footer(document, draft_mark=False)

    tag(document, "{%p if contract %}")
    appendix = document.add_paragraph(
        "к договору №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}{% endif %}")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix.paragraph_format.space_after = Pt(12)
    tag(document, "{%p endif %}")

    document.add_paragraph("ТЕХНИЧЕСКОЕ ЗАДАНИЕ", style="Title")
    subtitle = document.add_paragraph("№\u00a0{{ key }}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name = document.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name.add_run("{{ title }}").bold = True

    place = document.add_paragraph("{{ city }}\t{{ drawn_on }}")
    place.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    place.paragraph_format.space_before = Pt(12)
    place.paragraph_format.space_after = Pt(12)

    clause(document, "{{ client.preamble }}, с одной стороны, и {{ contractor.preamble }}, с другой "
                     "стороны, вместе именуемые «Стороны», согласовали настоящее техническое задание "
                     "(далее — ТЗ){% if contract %} к договору №\u00a0{{ contract.number }}"
                     "{% if contract.date %} от {{ contract.date }}{% else %}.{% endif %}{% else %}.{% endif %}",
           style="Текст")  # a date ends with «г.»: no second full stop after it

    for title, variable in (("Цель работ", "goal"), ("Текущее поведение", "current_behaviour"),
                            ("Требуемое поведение", "required_behaviour")):
        section(document, title, variable)
        numbered_paragraphs(document, variable)
        end_if(document)

    section(document, "Критерии приёмки", "criteria")  # each its own clause, to cite at acceptance
    numbered_paragraphs(document, "criteria")
    end_if(document)

    section(document, "Трудоёмкость и стоимость", "estimate")
    tag(document, "{%p if estimate.hours %}")
    clause(document, "Трудоёмкость работ — {{ estimate.hours }}.")
    end_if(document)
    tag(document, "{%p if estimate.cost %}")
    clause(document, "Стоимость работ — {{ estimate.cost }} ({{ estimate.cost_words }}), {{ estimate.vat }}.")
    end_if(document)
    clause(document, "Работы, не описанные в ТЗ, оцениваются и согласуются отдельно.")
    end_if(document)

    heading(document, "Согласование")
    clause(document, "Подписывая ТЗ, Стороны подтверждают состав работ и критерии их приёмки"
                     "{% if estimate %}, а также их оценку{% endif %}.")
    _sign_off(document)

    save(document, path)


def build_budget(path: Path) -> None:
    """The yearly budget as an appendix to the contract, for the client's approval: the blocks with
    their plans, the total in words, both parties' signatures."""
    document = new_document("Бюджет")
    _add_paragraph_style(document, "Текст", justify=True, first_line_mm=12.5, after_pt=6)
    numbering(document)
    header_footer(document, draft_mark=False)

    tag(document, "{%p if contract %}")
    appendix = document.add_paragraph(
        "Приложение к договору №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}{% endif %}")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix.paragraph_format.space_after = Pt(12)
    tag(document, "{%p endif %}")

    document.add_paragraph("БЮДЖЕТ НА {{ year }} ГОД", style="Title")
    place = document.add_paragraph("{{ city }}\t{{ drawn_on }}")
    place.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    place.paragraph_format.space_before = Pt(12)
    place.paragraph_format.space_after = Pt(12)
    clause(document, "{{ client.preamble }}, с одной стороны, и {{ contractor.preamble }}, с другой стороны, "
                     "вместе именуемые «Стороны», согласовали бюджет работ на {{ year }} год по блокам.",
           style="Текст")
    heading(document, "Блоки бюджета")
    lead_in(document, "Плановая стоимость работ по блокам:")
    loop_table(document, ["№", "Блок", "Часов", "План, руб."], [12, 88, 25, 45], "block in blocks",
               [["{{ block.number }}"], ["{{ block.name }}"], ["{{ block.hours }}"], ["{{ block.amount }}"]])
    clause(document, "Итого по бюджету — {{ total }} ({{ total_words }}), {{ vat }}.")
    clause(document, "Фактическая стоимость определяется актами сдачи-приёмки оказанных услуг. Работы сверх "
                     "плана блока выполняются после отдельного согласования Заказчиком.")
    heading(document, "Согласование")
    _sign_off(document)
    save(document, path)



# -- the act and its invoice ---------------------------------------------------------------------

LINE_HEADERS = ["№", "Наименование работ (услуг)", "Кол-во", "Ед.", "Цена", "Сумма"]
LINE_WIDTHS = [10, 72, 18, 14, 28, 28]
LINE_CELLS = [["{{ line.number }}"], ["{{ line.name }}"], ["{{ line.quantity }}"], ["{{ line.unit }}"],
              ["{{ line.price }}"], ["{{ line.amount }}"]]


def _align_numbers(table) -> None:
    """Quantities and money to the right, in the header and the body."""
    for row in table.rows:
        for index in (2, 4, 5):
            for paragraph in row.cells[index].paragraphs:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _totals_block(document) -> None:
    tag(document, "{%p for row in totals %}")
    total = document.add_paragraph()
    total.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    total.add_run("{{ row.label }}: {{ row.value }}").bold = True
    tag(document, "{%p endfor %}")


def _marks(document) -> None:
    for condition, text in (("is_draft", "Проект"), ("cancelled", "Аннулирован")):
        tag(document, f"{{%p if {condition} %}}")
        marker = document.add_paragraph()
        marker.alignment = WD_ALIGN_PARAGRAPH.CENTER
        marker.add_run(text.upper()).bold = True
        tag(document, "{%p endif %}")


def build_act(path: Path) -> None:
    """The act of completed work: every detail of a primary document (402-ФЗ art. 9 p. 2)."""
    document = new_document("Акт сдачи-приёмки оказанных услуг")
    _add_paragraph_style(document, "Текст", justify=True, first_line_mm=12.5, after_pt=6)
    header_footer(document, draft_mark=False)

    document.add_paragraph("АКТ №\u00a0{{ number }} от {{ date }}", style="Title")
    subtitle = document.add_paragraph("сдачи-приёмки оказанных услуг за период {{ period }}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.paragraph_format.space_after = Pt(6)
    _marks(document)

    for caption, party in (("Исполнитель: ", "contractor"), ("Заказчик: ", "client")):
        clause(document, f"{{{{ {party}.line }}}}", style="Normal", bold=caption).paragraph_format.space_after = Pt(3)
    tag(document, "{%p if contract %}")
    clause(document, "Договор №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}{% endif %}",
           style="Normal", bold="Основание: ").paragraph_format.space_after = Pt(3)
    tag(document, "{%p endif %}")

    intro = clause(document, "{{ contractor.preamble }}, с одной стороны, и {{ client.preamble }}, с другой "
                             "стороны, составили настоящий акт о том, что Исполнитель оказал, а Заказчик принял "
                             "следующие услуги:", style="Текст")
    intro.paragraph_format.space_before = Pt(6)
    intro.paragraph_format.keep_with_next = True
    _align_numbers(loop_table(document, LINE_HEADERS, LINE_WIDTHS, "line in lines", LINE_CELLS))
    _totals_block(document)

    summary = clause(document, "Всего оказано услуг {{ count }}, на сумму {{ total }}{{ vat_note }}.", style="Normal")
    summary.paragraph_format.space_before = Pt(6)
    words = document.add_paragraph()
    words.add_run("{{ total_words }}").bold = True
    words.paragraph_format.space_after = Pt(6)
    clause(document, "Вышеперечисленные услуги оказаны полностью и в срок. Заказчик претензий по объёму, "
                     "качеству и срокам оказания услуг не имеет.", style="Текст")

    parties = document.add_table(rows=2, cols=2)
    party_cells(parties, 0, "contractor", "client")
    signature_cells(parties, 1, "contractor", "client")
    for row in parties.rows:
        _row_properties(row)
    for row in parties.rows[:1]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    _fixed_layout(parties, [85, 85])

    tag(document, "{%p if hours %}")
    appendix = document.add_paragraph("Приложение №\u00a01 к акту №\u00a0{{ number }} от {{ date }}")
    appendix.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    appendix.paragraph_format.page_break_before = True
    document.add_paragraph("Детализация часов", style="Title").paragraph_format.space_before = Pt(12)
    loop_table(document, ["Работа", "Дата", "Исполнитель", "Часы", "Что сделано"], [52, 22, 36, 14, 46],
               "row in hours", [["{{ row.item }}"], ["{{ row.date }}"], ["{{ row.who }}"], ["{{ row.hours }}"],
                                ["{{ row.comment }}"]])
    total = document.add_paragraph()
    total.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    total.add_run("Всего часов: {{ hours_total }}").bold = True
    tag(document, "{%p endif %}")
    save(document, path)


def build_invoice(path: Path) -> None:
    """The invoice (счёт на оплату) in 1C's layout: the payee's bank details first, a QR code to pay."""
    document = new_document("Счёт на оплату")
    header_footer(document, draft_mark=False)

    bank = document.add_table(rows=2, cols=3)
    bank.style = document.styles["Table Grid"]
    _fill(bank.rows[0].cells[0], ["{{ bank.name }}", "Банк получателя"])
    _fill(bank.rows[0].cells[1], ["БИК", "Сч.\u00a0№"])
    _fill(bank.rows[0].cells[2], ["{{ bank.bik }}", "{{ bank.corr_account }}"])
    _fill(bank.rows[1].cells[0], ["ИНН {{ bank.inn }}{% if bank.kpp %}    КПП {{ bank.kpp }}{% endif %}",
                                  "{{ bank.payee }}", "Получатель"])
    _fill(bank.rows[1].cells[1], ["Сч.\u00a0№"])
    _fill(bank.rows[1].cells[2], ["{{ bank.account }}"])
    for row in bank.rows:
        _row_properties(row)
    _fixed_layout(bank, [95, 20, 55])

    tag(document, "{%p if show_qr %}")
    picture = document.add_paragraph("{{ qr }}")
    picture.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    caption = document.add_paragraph("Оплата по QR-коду в приложении банка")
    caption.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    tag(document, "{%p endif %}")

    title = document.add_paragraph("Счёт на оплату №\u00a0{{ number }} от {{ date }}", style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.LEFT
    title.paragraph_format.space_before = Pt(12)
    _marks(document)
    for caption, party in (("Поставщик (Исполнитель): ", "contractor"), ("Покупатель (Заказчик): ", "client")):
        clause(document, f"{{{{ {party}.line }}}}", style="Normal", bold=caption).paragraph_format.space_after = Pt(3)
    tag(document, "{%p if contract %}")
    clause(document, "Договор №\u00a0{{ contract.number }}{% if contract.date %} от {{ contract.date }}{% endif %}",
           style="Normal", bold="Основание: ").paragraph_format.space_after = Pt(6)
    tag(document, "{%p endif %}")

    _align_numbers(loop_table(document, LINE_HEADERS, LINE_WIDTHS, "line in lines", LINE_CELLS))
    _totals_block(document)
    total = document.add_paragraph()
    total.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    total.add_run("Всего к оплате: {{ total }}").bold = True
    clause(document, "Всего наименований {{ count }}, на сумму {{ total }}{{ vat_note }}.",
           style="Normal").paragraph_format.space_before = Pt(6)
    words = document.add_paragraph()
    words.add_run("{{ total_words }}").bold = True
    tag(document, "{%p if due %}")
    clause(document, "Оплатить до {{ due }}", style="Normal").paragraph_format.space_before = Pt(6)
    tag(document, "{%p endif %}")

    signatures = document.add_table(rows=1, cols=2)
    _fill(signatures.rows[0].cells[0], ["{{ contractor.position }}"])
    _fill(signatures.rows[0].cells[1], ["", "{{ contractor.signature }}", "{%p if contractor.seal %}", "М.П.",
                                        "{%p endif %}"])
    _row_properties(signatures.rows[0])
    _fixed_layout(signatures, [70, 100])
    signatures.rows[0].cells[0].paragraphs[0].paragraph_format.space_before = Pt(18)
    save(document, path)




# -- the minutes (протокол) -------------------------------------------------------------------


def _centered(document, text: str, bold: bool = False, space_after: float = 0):
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(text).bold = bold
    paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def _label(document, label: str, text: str):
    """«Председатель — …»: a bold label and its value, one paragraph."""
    paragraph = document.add_paragraph(style="Текст")
    paragraph.add_run(label).bold = True
    paragraph.add_run(text)
    return paragraph


def build_minutes(path: Path) -> None:
    """The minutes of a planning meeting in the office-work form; empty parts are left out."""
    document = new_document("Протокол")
    _add_paragraph_style(document, "Текст", justify=True, after_pt=3)
    header_footer(document, draft_mark=False)

    _centered(document, "{{ organisation }}", bold=True, space_after=12)
    _centered(document, "ПРОТОКОЛ", bold=True)
    _centered(document, "планёрки с {{ client_name }}", space_after=6)
    place = document.add_paragraph("{{ held_on_short }}\t№\u00a0{{ number }}")
    place.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    _centered(document, "{{ city }}", space_after=12)

    tag(document, "{%p if place %}")
    _label(document, "Место проведения: ", "{{ place }}, начало в {{ starts_at }}")
    end_if(document)
    tag(document, "{%p if chair %}")
    _label(document, "Председатель — ", "{{ chair.line }}")
    end_if(document)
    tag(document, "{%p if secretary %}")
    _label(document, "Секретарь — ", "{{ secretary.line }}")
    end_if(document)

    document.add_paragraph("Присутствовали:", style="Текст").runs[0].bold = True
    tag(document, "{%p if client_side %}")
    document.add_paragraph("от Заказчика ({{ client.name }}):", style="Текст")
    tag(document, "{%p for person in client_side %}")
    document.add_paragraph("{{ person.line }}", style="Перечень")
    tag(document, "{%p endfor %}")
    end_if(document)
    tag(document, "{%p if our_side %}")
    document.add_paragraph("от Исполнителя ({{ contractor.name }}):", style="Текст")
    tag(document, "{%p for person in our_side %}")
    document.add_paragraph("{{ person.line }}", style="Перечень")
    tag(document, "{%p endfor %}")
    end_if(document)

    tag(document, "{%p if points %}")
    document.add_paragraph("Повестка дня:", style="Текст").runs[0].bold = True
    tag(document, "{%p for point in points %}")
    document.add_paragraph("{{ point.n }}. {{ point.title }}", style="Перечень")
    tag(document, "{%p endfor %}")

    tag(document, "{%p for point in points %}")
    heading = document.add_paragraph(style="Текст")
    heading.add_run("{{ point.n }}. {{ point.title }}").bold = True
    heading.paragraph_format.space_before = Pt(6)
    heading.paragraph_format.keep_with_next = True
    tag(document, "{%p if point.heard %}")
    _label(document, "СЛУШАЛИ: ", "{{ point.heard[0] }}")
    tag(document, "{%p for line in point.heard[1:] %}")
    document.add_paragraph("{{ line }}", style="Текст")
    tag(document, "{%p endfor %}")
    end_if(document)
    tag(document, "{%p if point.decision %}")
    _label(document, "РЕШИЛИ: ", "{{ point.decision[0] }}")
    tag(document, "{%p for line in point.decision[1:] %}")
    document.add_paragraph("{{ line }}", style="Текст")
    tag(document, "{%p endfor %}")
    end_if(document)
    tag(document, "{%p endfor %}")
    end_if(document)

    tag(document, "{%p if actions %}")
    lead = document.add_paragraph("Поручения:", style="Текст")
    lead.runs[0].bold = True
    lead.paragraph_format.space_before = Pt(6)
    lead.paragraph_format.keep_with_next = True
    loop_table(document, ["№", "Поручение", "Ответственный", "Срок"], [10, 90, 45, 25], "action in actions",
               [["{{ action.n }}"], ["{{ action.what }}"], ["{{ action.who }}"], ["{{ action.due }}"]])
    end_if(document)

    document.add_paragraph("", style="Текст")
    signatures = document.add_table(rows=2, cols=3)
    for row, (label, person) in zip(signatures.rows, (("Председатель", "chair"), ("Секретарь", "secretary"))):
        _fill(row.cells[0], [label])
        _fill(row.cells[1], [f"{{{{ {person}.signature if {person} else '' }}}}"])
        _fill(row.cells[2], [f"{{{{ {person}.name if {person} else '' }}}}"])
        _row_properties(row)
    _fixed_layout(signatures, [40, 75, 55])

    save(document, path)


# -- saving -----------------------------------------------------------------------------------

STYLED_HERE = ("Normal", "Title", "Heading 1", "Heading 2", "Header", "Footer")  # _style_headings
_STYLE_USES = ("w:pStyle", "w:rStyle", "w:tblStyle", "w:numStyleLink", "w:styleLink")
_STYLE_LINKS = ("w:basedOn", "w:next", "w:link")


def save(document, path: Path) -> None:
    """Write the template without the styles nobody uses (``prune_styles``)."""
    prune_styles(document)
    document.save(path)


def prune_styles(document) -> None:
    """Keep the styles a part uses, the defaults, ours (custom or styled here) and what they are
    based on, follow or link to; drop the rest of python-docx's default template: 115 of its 168
    styles, 0.33 MB of a 0.35 MB ``styles.xml`` that every render unpacked and packed again. Word
    still offers its built-in styles (the latent styles stay) and adds one when it is applied."""
    styles = document.styles.element
    by_id = {style.get(qn("w:styleId")): style for style in styles.iterchildren(qn("w:style"))}
    wanted = {style_id for style_id, style in by_id.items()
              if style.get(qn("w:default")) == "1" or style.get(qn("w:customStyle")) == "1"
              or style.find(qn("w:name")).get(qn("w:val")) in STYLED_HERE}
    for part in document.part.package.iter_parts():
        element = getattr(part, "element", None)
        if element is not None and element is not styles:
            wanted.update(node.get(qn("w:val")) for tag in _STYLE_USES for node in element.iter(qn(tag)))
    pending = list(wanted)
    while pending:
        style = by_id.get(pending.pop())
        links = [] if style is None else [style.find(qn(tag)) for tag in _STYLE_LINKS]
        for linked in {link.get(qn("w:val")) for link in links if link is not None} - wanted:
            wanted.add(linked)
            pending.append(linked)
    for style_id, style in by_id.items():
        if style_id not in wanted:
            styles.remove(style)


BUILDERS = {"regulation.docx": build_regulation, "spec.docx": build_spec, "minutes.docx": build_minutes,
            "budget.docx": build_budget, "act.docx": build_act, "invoice.docx": build_invoice}


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or BUILDERS:  # names given: only those, e.g. «spec.docx»
        BUILDERS[name](HERE / name)
        print(f"written {HERE / name}")
