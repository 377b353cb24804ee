"""The act and invoice DOCX: every detail a primary document needs, the VAT line in its three modes, the
amount in words, hostile text intact, a payment QR code that decodes to the exact ГОСТ string, and a file
LibreOffice opens."""

import dataclasses
import shutil
import subprocess
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest

from tests.acts_fixtures import load_act
from tests.documents_helpers import SOFFICE, all_text, duplicate_entries, libreoffice_convert, read_docx, table_rows
from webapp.documents.act import (ActDoc, ActLineDoc, HoursRow, payment_string, qr_png, render_act, render_invoice,
                                  sample_act)
from webapp.documents.money import amount_in_words, vat
from webapp.models.company import VatMode

NBSP = "\u00a0"
ZBARIMG = shutil.which("zbarimg")

# The table of the issue, beyond tests/test_money.py's: kopecks as two digits, capitalised, agreeing.
WORDS = [
    ("1", "Один рубль 00 копеек"), ("2", "Два рубля 00 копеек"), ("5", "Пять рублей 00 копеек"),
    ("21", "Двадцать один рубль 00 копеек"), ("101.01", "Сто один рубль 01 копейка"),
    ("1000", "Одна тысяча рублей 00 копеек"), ("2000", "Две тысячи рублей 00 копеек"),
    ("1234567.89", "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей 89 копеек"),
    ("0.50", "Ноль рублей 50 копеек"), ("1000000", "Один миллион рублей 00 копеек"),
    ("22.22", "Двадцать два рубля 22 копейки"),
]


@pytest.mark.parametrize("amount, words", WORDS)
def test_amount_in_words_for_the_issue_table(amount, words):
    """Is each amount of the table worded as a Russian accountant writes it?"""
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize("base, mode, net, tax, total", [
    ("3333.33", VatMode.ON_TOP, "3333.33", "733.33", "4066.66"),      # 733,3326 → 733,33
    ("1234.57", VatMode.ON_TOP, "1234.57", "271.61", "1506.18"),      # 271,6054 → 271,61
    ("3333.33", VatMode.INCLUDED, "2732.24", "601.09", "3333.33"),    # 601,0922… → 601,09
    ("100.05", VatMode.INCLUDED, "82.01", "18.04", "100.05"),         # 18,0418… → 18,04
    ("3333.33", VatMode.NONE, "3333.33", "0.00", "3333.33"),
])
def test_vat_on_awkward_amounts_rounds_half_up_on_the_total(base, mode, net, tax, total):
    """At 22 %, do net + VAT = total to the kopeck in every mode?"""
    split = vat(Decimal(base), mode, Decimal("22"))
    assert (split.net, split.vat, split.total) == (Decimal(net), Decimal(tax), Decimal(total))


def _doc(mode: VatMode = VatMode.ON_TOP, **changes) -> ActDoc:
    data = sample_act()
    data.vat_mode = mode
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def test_act_holds_every_detail_of_a_primary_document(app, client, books, make_done_item, make_act):
    """Does the issued act read back with both parties' requisites, the contract, every line, totals, the
    VAT line, the words, the no-claims sentence and both signature blocks?"""
    make_done_item(books, title="Выгрузка остатков", hours=Decimal("12.5"))
    make_done_item(books, title="Настройка прав", hours=Decimal("2"))
    act = load_act(app, make_act(books, issue=True))
    client.login(books.accountant)
    response = client.get(f"/acts/{act.id}.docx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert not duplicate_entries(response.data)
    text = all_text(read_docx(response.data))
    assert f"АКТ №{NBSP}2026-0001 от 25 ноября 2026{NBSP}г." in text
    assert "Общество с ограниченной ответственностью «ИнфоСофт», ИНН 7707083893, КПП 770701001" in text
    assert "Общество с ограниченной ответственностью «Ромашка», ИНН 7736207543, КПП 773601001" in text
    assert f"Договор №{NBSP}15/26 от 15 января 2026{NBSP}г." in text
    rows = table_rows(read_docx(response.data).tables[0])
    assert rows[0] == ["№", "Наименование работ (услуг)", "Кол-во", "Ед.", "Цена", "Сумма"]
    assert [r[1] for r in rows[1:]] == ["ROMASHKA-1 Выгрузка остатков", "ROMASHKA-2 Настройка прав"]
    assert rows[1][2:] == ["12,5", "ч", f"3{NBSP}500,00{NBSP}₽", f"43{NBSP}750,00{NBSP}₽"]
    # 50 750 + 22 % = 61 915
    assert f"Итого: 50{NBSP}750,00{NBSP}₽" in text and f"НДС 22{NBSP}%: 11{NBSP}165,00{NBSP}₽" in text
    assert f"Всего оказано услуг 2, на сумму 61{NBSP}915,00{NBSP}₽" in text
    assert "Шестьдесят одна тысяча девятьсот пятнадцать рублей 00 копеек" in text
    assert "Заказчик претензий по объёму, качеству и срокам оказания услуг не имеет" in text
    assert f"_{NBSP}/{NBSP}А.П.{NBSP}Соколов{NBSP}/" in text and "Генеральный директор" in text
    assert "_" * 36 in text  # the client has chosen no signatory yet: a line to sign on by hand
    # the appendix: each day's billable hours behind the lines, frozen at issue
    assert f"Приложение №{NBSP}1 к акту №{NBSP}2026-0001" in text and "Детализация часов" in text
    detail = table_rows(read_docx(response.data).tables[-1])
    assert detail[0] == ["Работа", "Дата", "Исполнитель", "Часы", "Что сделано"]
    assert detail[1][:4] == ["ROMASHKA-1 Выгрузка остатков", "20.11.2026", "Петров Алексей Николаевич", "12,5"]
    assert "Всего часов: 14,5" in text
    assert text.count("Исполнитель") >= 2 and "Заказчик\n" in text + "\n"


@pytest.mark.parametrize("mode, line", [
    (VatMode.ON_TOP, f"НДС 22{NBSP}%: 11{NBSP}550,00{NBSP}₽"),
    (VatMode.INCLUDED, f"В том числе НДС 22{NBSP}%: 9{NBSP}467,21{NBSP}₽"),
    (VatMode.NONE, "Без налога (НДС): —"),
])
def test_vat_line_in_each_mode(mode, line):
    """Does the act print the VAT line the mode calls for?"""
    text = all_text(read_docx(render_act(_doc(mode))))
    assert line in text


def test_hostile_text_renders_intact():
    """Do «<script>&», quotes and a newline in a line's name print as typed, in a file that opens?"""
    name = 'Отчёт <script>alert("x")</script> & «кавычки» \'одинарные\''
    data = _doc(lines=[ActLineDoc(name, Decimal("1"), "усл.", Decimal("100"), Decimal("100"))])
    for body in (render_act(data), render_invoice(data)):
        assert not duplicate_entries(body)
        assert name in all_text(read_docx(body))


def test_invoice_has_bank_details_on_top_and_a_qr_code_that_decodes(tmp_path):
    """Is the payee's bank table first, and does the QR code decode to the exact ГОСТ Р 56042 string?"""
    data = _doc()
    body = render_invoice(data)
    document = read_docx(body)
    bank = table_rows(document.tables[0])
    assert bank[0][0].startswith("ПАО Сбербанк") and "044525225" in bank[0][2] and "40702810938000000001" in bank[1][2]
    text = all_text(document)
    assert f"Счёт на оплату №{NBSP}2026-0042 от 30 ноября 2026{NBSP}г." in text
    assert f"Всего к оплате: 64{NBSP}050,00{NBSP}₽" in text
    expected = payment_string(data)
    assert expected.startswith("ST00012|Name=Общество с ограниченной ответственностью «Исполнитель»|PersonalAcc=")
    assert expected.endswith("|Sum=6405000") and "|BIC=044525225|" in expected and "|KPP=770701001|" in expected
    pictures = [n for n in zipfile.ZipFile(io.BytesIO(body)).namelist() if n.startswith("word/media/")]
    assert len(pictures) == 1
    if ZBARIMG is None:
        pytest.skip("zbarimg (zbar-tools) is not installed: the QR picture is there, its decoding unchecked")
    png = tmp_path / "qr.png"
    png.write_bytes(zipfile.ZipFile(io.BytesIO(body)).read(pictures[0]))
    decoded = subprocess.run([ZBARIMG, "--quiet", "--raw", str(png)], capture_output=True, check=True)
    assert decoded.stdout.decode("utf-8").rstrip("\n") == expected


def _printed(body: bytes) -> tuple[str, list[list[str]], list[bytes]]:
    """What a reader gets from an act or invoice: its text, its tables' rows and its pictures."""
    document = read_docx(body)
    package = zipfile.ZipFile(io.BytesIO(body))
    pictures = [package.read(name) for name in package.namelist() if name.startswith("word/media/")]
    return all_text(document), [table_rows(table) for table in document.tables], pictures


def test_documents_rendered_in_a_row_or_at_once_each_print_their_own_data():
    """Two acts for two clients, and their invoices, rendered one after another and then in four
    threads at once: does every file print its own number, client, lines, totals and QR code, and
    nothing of the other act's?"""
    big = _doc(number="2026-0101", lines=[ActLineDoc(f"Работа по заявке {n}", Decimal("1.5"), "ч", Decimal("3000"),
                                                     Decimal("4500")) for n in range(60)])
    small = _doc(number="2026-0202", mode=VatMode.NONE,
                 client=dataclasses.replace(big.client, name="ООО «Василёк»",
                                            legal_name="Общество с ограниченной ответственностью «Василёк»"),
                 lines=[ActLineDoc("Консультация по учёту", Decimal("2"), "ч", Decimal("2500"), Decimal("5000"))])
    jobs = [(render, data) for data in (big, small, big) for render in (render_act, render_invoice)]
    in_a_row = [_printed(render(data)) for render, data in jobs]
    with ThreadPoolExecutor(4) as pool:
        at_once = list(pool.map(lambda job: _printed(job[0](job[1])), jobs * 4))
    assert at_once == in_a_row * 4
    assert in_a_row[:2] == in_a_row[4:]  # the big act again, after the small one
    (big_act, big_tables, _), (big_invoice, _, big_qr) = in_a_row[:2]
    (small_act, small_tables, _), (small_invoice, _, small_qr) = in_a_row[2:4]
    assert f"№{NBSP}2026-0101" in big_act and "2026-0202" not in big_act and "Василёк" not in big_act
    assert f"№{NBSP}2026-0202" in small_act and "2026-0101" not in small_act and "Василёк" in small_act
    assert len(big_tables[0]) == 61 and big_tables[0][60][1] == "Работа по заявке 59"
    assert [row[1] for row in small_tables[0][1:]] == ["Консультация по учёту"]
    assert "Работа по заявке" not in small_act + small_invoice and "Консультация" not in big_act + big_invoice
    assert f"Всего к оплате: 5{NBSP}000,00{NBSP}₽" in small_invoice and "Без налога (НДС)" in small_invoice
    assert f"Всего к оплате: 329{NBSP}400,00{NBSP}₽" in big_invoice  # 270 000 + 22 %
    assert big_qr == [qr_png(payment_string(big))] and small_qr == [qr_png(payment_string(small))]
    assert big_qr != small_qr


def test_invoice_without_qr_when_the_profile_says_so():
    """With the QR code switched off, is there no picture and no caption?"""
    body = render_invoice(_doc(print_qr=False))
    assert not [n for n in zipfile.ZipFile(io.BytesIO(body)).namelist() if n.startswith("word/media/")]
    assert "QR" not in all_text(read_docx(body))


def test_act_and_invoice_convert_with_libreoffice(tmp_path):
    """Do the act (60 lines, the header row repeating) and the invoice open in LibreOffice?"""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    lines = [ActLineDoc(f"Работа {n}", Decimal("1.5"), "ч", Decimal("3000"), Decimal("4500")) for n in range(60)]
    for n, body in enumerate((render_act(_doc(lines=lines)), render_invoice(_doc()))):
        pdf = libreoffice_convert(body, "docx", "pdf", tmp_path / f"work{n}", tmp_path / "profile")
        assert pdf.startswith(b"%PDF")


def test_a_comment_typed_on_two_lines_prints_on_two_lines():
    """Does a newline typed in a comment of the hours appendix become a line break in Word (which
    shows a bare newline as a space), and a tab a tab?"""
    data = _doc(hours=[HoursRow("ROMASHKA-42 Выгрузка остатков", date(2026, 11, 10), "Смирнов Павел", Decimal("8"),
                                "Обмен\tпервая версия\nтестирование с клиентом")])
    cell = read_docx(render_act(data)).tables[-1].rows[1].cells[4]
    assert cell.text == "Обмен\tпервая версия\nтестирование с клиентом"
    assert len(cell._tc.xpath(".//w:br")) == 1 and len(cell._tc.xpath(".//w:tab")) == 1
    assert not [text for text in cell._tc.xpath(".//w:t/text()") if "\n" in text or "\t" in text]


def test_an_act_without_time_prints_no_appendix():
    """Is there no empty «Детализация часов» when no hours stand behind the lines?"""
    text = all_text(read_docx(render_act(_doc(hours=[]))))
    assert "Детализация" not in text and "Приложение" not in text


def test_draft_and_cancelled_acts_are_marked():
    """Is a draft printed «ПРОЕКТ» and a cancelled act «АННУЛИРОВАН»?"""
    assert "ПРОЕКТ" in all_text(read_docx(render_act(_doc(is_draft=True))))
    assert "АННУЛИРОВАН" in all_text(read_docx(render_act(_doc(cancelled=True))))
