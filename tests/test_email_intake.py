"""Reading a client's e-mail saved as .eml: Cyrillic headers, the sender, the date, the new text with
the quoted history folded away, HTML-only mail, and the files (also those inside winmail.dat).

Samples are real messages built here with the stdlib ``email`` package (and, where the encoding
itself is the point, written out byte for byte as mailers send them).
"""

import base64
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from webapp.intake.email import NotAnEmail, fold_quoted, html_to_text, parse_eml

FIXTURES = Path(__file__).parent / "fixtures"
MSK = timezone(timedelta(hours=3))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def b64word(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def qword_koi8(text: str) -> str:
    encoded = "".join(f"={byte:02X}" if byte > 127 or chr(byte) in "=?_ " else chr(byte)
                      for byte in text.encode("koi8-r"))
    return f"=?koi8-r?Q?{encoded}?="


def gen_mail(body: str = "Добрый день!", *, subject: str = "Доработка отчёта", sender: str = "Иван Петров <ivan@romashka.ru>",
             date: str = "Wed, 25 Nov 2026 10:15:00 +0300", html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Анна Сидорова <anna@accountdesk.test>"
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = "<1@romashka.ru>"
    if html is not None and body is None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    return message


# -- headers --------------------------------------------------------------------------------------


def test_cyrillic_headers_in_base64_encoded_words_come_out_intact():
    """Are a subject and a sender's name sent as =?UTF-8?B?…?= read as Russian text, with the date aware?"""
    raw = (f"From: {b64word('Иван Петров')} <Ivan.Petrov@Romashka.RU>\r\n"
           f"To: anna@accountdesk.test\r\n"
           f"Subject: {b64word('Доработка отчёта «Остатки» & <склад>: ')}\r\n {b64word('срочно до пятницы')}\r\n"
           f"Date: Wed, 25 Nov 2026 10:15:00 +0300\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n"
           f"{base64.b64encode('Добрый день! Нужна доработка.'.encode()).decode()}\r\n").encode()
    mail = parse_eml(raw)
    assert mail.subject == "Доработка отчёта «Остатки» & <склад>: срочно до пятницы"
    assert (mail.sender_name, mail.sender_address) == ("Иван Петров", "ivan.petrov@romashka.ru")
    assert mail.date == datetime(2026, 11, 25, 10, 15, tzinfo=MSK)
    assert mail.date.tzinfo is not None
    assert mail.body == "Добрый день! Нужна доработка."


def test_cyrillic_headers_in_quoted_printable_koi8_come_out_intact():
    """Are headers in =?koi8-r?Q?…?= (old Russian mailers) and a quoted-printable body read right?"""
    body = "Счёт во вложении, проверьте суммы.".encode("koi8-r")
    qp = "".join(f"={byte:02X}" if byte > 127 or byte == 61 else chr(byte) for byte in body)
    raw = (f"From: {qword_koi8('Ольга Смирнова')} <olga@romashka.ru>\r\n"
           f"Subject: {qword_koi8('Счёт за ноябрь')}\r\n"
           f"Date: 25 Nov 2026 07:15:00 -0000\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=koi8-r\r\n"
           f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp}\r\n").encode()
    mail = parse_eml(raw)
    assert mail.subject == "Счёт за ноябрь"
    assert mail.sender_name == "Ольга Смирнова"
    assert mail.body == "Счёт во вложении, проверьте суммы."
    assert mail.date == datetime(2026, 11, 25, 7, 15, tzinfo=timezone.utc)  # no zone: taken as UTC


def test_a_file_that_is_not_a_mail_is_refused():
    """Is a dropped file without mail headers refused with a Russian message?"""
    with pytest.raises(NotAnEmail, match="не похож на письмо"):
        parse_eml(b"%PDF-1.4\n1 0 obj\n")


# -- attachments ----------------------------------------------------------------------------------


def test_a_multipart_mail_gives_its_attachments_with_cyrillic_names():
    """Does a mail with a PDF and a picture give both files, their RFC 2231 Cyrillic names and bytes?"""
    message = gen_mail("Счёт и скриншот во вложении.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="Счёт №15 от 25.11.pdf")
    message.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="скриншот.png")
    mail = parse_eml(message.as_bytes(policy=SMTP))
    assert mail.body == "Счёт и скриншот во вложении."
    assert [(a.name, a.content_type, a.data) for a in mail.attachments] == [
        ("Счёт №15 от 25.11.pdf", "application/pdf", PDF), ("скриншот.png", "image/png", b"\x89PNG\r\n\x1a\n")]


def test_files_inside_an_outlook_winmail_dat_are_unpacked():
    """Does a winmail.dat (TNEF) from Outlook give up the PDF inside it, under its long Cyrillic name?"""
    message = gen_mail("")
    message.clear_content()
    message.set_content("")
    message.add_attachment((FIXTURES / "winmail.dat").read_bytes(), maintype="application",
                           subtype="ms-tnef", filename="winmail.dat")
    mail = parse_eml(message.as_bytes(policy=SMTP))
    [inside] = mail.attachments
    assert inside.name == "Счёт №15.pdf"
    assert inside.content_type == "application/pdf"
    assert inside.data.startswith(b"%PDF-1.4")
    assert mail.body == "Прошу оплатить счёт."  # the text Outlook put only inside the TNEF


# -- bodies ---------------------------------------------------------------------------------------


def test_an_html_only_mail_becomes_readable_text():
    """Does an HTML-only mail become text with its paragraphs and list, without styles or scripts?"""
    html = ("<html><head><style>p{color:red}</style><title>x</title></head><body>"
            "<div style='display:none'>Предпросмотр</div>"
            "<p>Добрый&nbsp;день!</p><p>Нужно:<br>поправить отчёт &amp; выгрузку</p>"
            "<ul><li>остатки</li><li>цены &lt;опт&gt;</li></ul><script>alert(1)</script></body></html>")
    message = gen_mail(None, html=html)
    mail = parse_eml(message.as_bytes(policy=SMTP))
    assert mail.body == "Добрый день!\n\nНужно:\nпоправить отчёт & выгрузку\n\n• остатки\n• цены <опт>"


def test_html_quotes_are_folded_like_text_quotes():
    """Is a Gmail-style HTML reply's blockquote folded away with its attribution?"""
    html = ("<div>Да, согласовано.</div><br><div class='gmail_quote'><div>пн, 23 нояб. 2026 г. в 10:15, "
            "Анна &lt;anna@accountdesk.test&gt;:</div><blockquote><div>Согласуете 16 часов?</div>"
            "<blockquote>Старое</blockquote></blockquote></div>")
    body, history = fold_quoted(html_to_text(html))
    assert body == "Да, согласовано."
    assert history.startswith("пн, 23 нояб. 2026 г. в 10:15, Анна <anna@accountdesk.test>:")
    assert "> Согласуете 16 часов?" in history and "> > Старое" in history


def test_a_gmail_style_reply_chain_is_folded_away():
    """Is the «On … wrote:» line (wrapped by Gmail) and the «>» quote under it folded away?"""
    text = ("Да, делайте.\nБюджет согласован.\n\nOn Mon, Nov 23, 2026 at 10:15 AM Anna Sidorova <\n"
            "anna@accountdesk.test> wrote:\n\n> Согласуете 16 часов?\n>\n> Анна\n")
    body, history = fold_quoted(text)
    assert body == "Да, делайте.\nБюджет согласован."
    assert history.startswith("On Mon, Nov 23, 2026") and "> Согласуете 16 часов?" in history


@pytest.mark.parametrize("attribution", [
    "Анна Сидорова пишет:",
    "23.11.2026, 10:15, \"Анна Сидорова\" <anna@accountdesk.test>:",
    "23 ноября 2026 г., в 10:15, Анна Сидорова <anna@accountdesk.test> написал(а):",
])
def test_russian_mailers_reply_lines_are_folded_away(attribution):
    """Are the attribution lines of Yandex, Mail.ru and the Russian Gmail folded with the quote?"""
    body, history = fold_quoted(f"Согласовано.\n\n{attribution}\n> Согласуете 16 часов?")
    assert body == "Согласовано."
    assert history == f"{attribution}\n> Согласуете 16 часов?"


@pytest.mark.parametrize("block", [
    "From: Анна Сидорова <anna@accountdesk.test>\nSent: Monday, November 23, 2026 10:15 AM\n"
    "To: Иван Петров\nSubject: RE: Отчёт",
    "________________________________\nОт: Анна Сидорова <anna@accountdesk.test>\n"
    "Отправлено: 23 ноября 2026 г. 10:15\nКому: Иван Петров\nТема: Отчёт",
    "-----Original Message-----\nFrom: Анна Сидорова\nSent: Monday, November 23, 2026 10:15 AM",
    "-----Исходное сообщение-----\nОт: Анна Сидорова\nОтправлено: 23 ноября 2026 г. 10:15",
])
def test_an_outlook_style_reply_chain_is_folded_away(block):
    """Is Outlook's «From: … Sent: …» block (English or Russian, with or without a rule) folded away?"""
    body, history = fold_quoted(f"Добрый день!\nСогласовано, приступайте.\n\n{block}\n\nСогласуете 16 часов?")
    assert body == "Добрый день!\nСогласовано, приступайте."
    assert history.endswith("Согласуете 16 часов?")


def test_a_line_of_text_above_an_attribution_is_kept():
    """Is a short line that starts with a number, right above «… пишет:», kept as the sender's text?"""
    assert fold_quoted("2 часа хватит.\nАнна пишет:\n> Сколько?") == ("2 часа хватит.", "Анна пишет:\n> Сколько?")


def test_a_line_that_merely_mentions_from_is_kept():
    """Is a sentence starting «От:» without a «Sent:» line under it kept as the sender's text?"""
    text = "От: бухгалтерии нужен отчёт.\nСрок: пятница."
    assert fold_quoted(text) == (text, "")


def test_a_mail_forwarded_inline_is_read_as_the_clients_message():
    """When a colleague forwards the client's mail with nothing above it, are the client's sender,
    date, subject and text taken from the forwarded block?"""
    text = ("-------- Пересылаемое сообщение --------\n"
            "От: Иван Петров <ivan@romashka.ru>\n"
            "Дата: Wed, 25 Nov 2026 10:15:00 +0300\n"
            "Тема: Доработка отчёта\n"
            "Кому: anna@accountdesk.test\n\n"
            "Нужно добавить колонку «Склад».\n\n"
            "Иван Петров пишет:\n> старое")
    message = gen_mail(text, subject="Fwd: Доработка отчёта", sender="Анна <anna@accountdesk.test>",
                       date="Wed, 25 Nov 2026 12:00:00 +0300")
    mail = parse_eml(message.as_bytes(policy=SMTP))
    assert (mail.sender_name, mail.sender_address) == ("Иван Петров", "ivan@romashka.ru")
    assert mail.subject == "Доработка отчёта"
    assert mail.date == datetime(2026, 11, 25, 10, 15, tzinfo=MSK)
    assert mail.body == "Нужно добавить колонку «Склад»."
    assert mail.history == "Иван Петров пишет:\n> старое"


def test_a_forward_with_a_comment_above_keeps_the_comment_and_its_sender():
    """When the forwarder wrote something above, is that the body and the forward the history?"""
    text = "Посмотри, пожалуйста.\n\n---------- Forwarded message ---------\nFrom: Иван <ivan@romashka.ru>\n\nТекст"
    mail = parse_eml(gen_mail(text, sender="Анна <anna@accountdesk.test>").as_bytes(policy=SMTP))
    assert mail.body == "Посмотри, пожалуйста."
    assert mail.sender_address == "anna@accountdesk.test"
    assert mail.history.startswith("---------- Forwarded message ---------")


def test_a_mail_forwarded_as_an_attachment_is_read_as_the_inner_message():
    """Is a mail forwarded as an attachment (Outlook «Переслать как вложение») read as the client's?"""
    inner = gen_mail("Нужна новая печатная форма.", subject="Печатная форма", date="Tue, 24 Nov 2026 09:00:00 +0300")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="образец.pdf")
    outer = gen_mail("", subject="FW: Печатная форма", sender="Анна <anna@accountdesk.test>")
    outer.add_attachment(inner)
    mail = parse_eml(outer.as_bytes(policy=SMTP))
    assert (mail.subject, mail.sender_address, mail.body) == ("Печатная форма", "ivan@romashka.ru",
                                                              "Нужна новая печатная форма.")
    assert mail.date == datetime(2026, 11, 24, 9, 0, tzinfo=MSK)
    assert [a.name for a in mail.attachments] == ["образец.pdf"]
