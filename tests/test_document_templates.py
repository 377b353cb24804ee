"""Uploaded document templates: broken or hostile XML and runaway renders are refused with a
message (422), at upload and at every print, and never answer 500 or tie up a worker."""

import io
import logging
import threading
import time
import zipfile

import docx
import pytest

from tests.conftest import messages
from tests.documents_helpers import all_text, read_docx
from webapp.documents.render import TEMPLATE_DIR
from webapp.models import Role

SHIPPED = TEMPLATE_DIR / "regulation.docx"

BILLION_LAUGHS = (b'<!DOCTYPE w:document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
EXTERNAL_ENTITY = b'<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


def _with_paragraph(text: str) -> bytes:
    """The shipped template with one paragraph added at the end."""
    document = docx.Document(str(SHIPPED))
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_document_xml(change) -> bytes:
    """The shipped template with ``word/document.xml`` replaced by ``change(xml)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(SHIPPED) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == "word/document.xml" else data)
    return buffer.getvalue()


def _broken_tag(xml: bytes) -> bytes:
    return xml.replace(b"<w:body>", b"<w:body><w:p>", 1)


def _declaring(declaration: bytes, reference: bytes):
    """A change that puts ``declaration`` after the XML declaration and ``reference`` in the text."""
    def change(xml: bytes) -> bytes:
        head, rest = xml.split(b"?>", 1)
        return head + b"?>" + declaration + rest.replace(b"<w:t>", b"<w:t>" + reference, 1)
    return change


def _upload(client, data: bytes):
    return client.post("/admin/templates", data={"name": "regulation.docx",
                                                 "file": (io.BytesIO(data), "regulation.docx")},
                       content_type="multipart/form-data")


def _text(response) -> str:
    return " ".join(messages(response)) or response.get_data(as_text=True)


@pytest.fixture
def admin(client, login_as, app, tmp_path):
    """An admin logged in, with the installation's templates in a fresh directory."""
    app.config["DOCUMENT_TEMPLATES"] = tmp_path / "document_templates"
    return login_as(Role.ADMIN)


@pytest.fixture
def regulation_id(client, admin, make_client):
    """A draft regulation of the admin's own client."""
    record = make_client(admin, short_name="Ромашка")
    response = client.post(f"/clients/{record.id}/regulations/")
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_malformed_template_xml_is_refused_and_the_old_template_stays(client, admin, app):
    """Is a template whose document.xml has a broken tag refused (422, not 500) with a message,
    and does the template uploaded before it stay in force?"""
    assert _upload(client, _with_paragraph("Особая отметка нашей компании")).status_code == 303
    installed = (app.config["DOCUMENT_TEMPLATES"] / "regulation.docx").read_bytes()

    response = _upload(client, _with_document_xml(_broken_tag))

    assert response.status_code == 422
    assert "разметка части word/document.xml не читается (строка" in _text(response)
    assert (app.config["DOCUMENT_TEMPLATES"] / "regulation.docx").read_bytes() == installed
    assert client.get("/admin/templates/regulation.docx").data == installed


@pytest.mark.parametrize("declaration, reference", [
    (BILLION_LAUGHS, b"&d;"),
    (EXTERNAL_ENTITY, b"&secret;"),
    (b'<!DOCTYPE w:document SYSTEM "http://example.test/word.dtd">', b""),
], ids=["billion-laughs", "external-entity", "external-dtd"])
def test_a_template_declaring_a_dtd_or_entities_is_refused(client, admin, app, declaration, reference):
    """Is a template with a DTD or entity declarations (XXE, «billion laughs») refused with 422?"""
    response = _upload(client, _with_document_xml(_declaring(declaration, reference)))
    assert response.status_code == 422
    assert "есть объявление DTD или сущностей" in _text(response)
    assert not (app.config["DOCUMENT_TEMPLATES"] / "regulation.docx").exists()


def test_a_huge_range_is_refused_at_once(client, admin):
    """Is ``range(100000)`` in a template refused with a message, without running the loop?"""
    started = time.monotonic()
    response = _upload(client, _with_paragraph(
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"))
    assert response.status_code == 422
    assert "Слишком длинный диапазон range()" in _text(response)
    assert time.monotonic() - started < 15


def test_nested_loops_are_stopped_after_a_few_seconds(client, admin, app):
    """Are nested loops of allowed length, which would run for minutes, stopped by the clock (422)?"""
    started = time.monotonic()
    response = _upload(client, _with_paragraph(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"))
    assert response.status_code == 422
    assert "формируется дольше 5 с" in _text(response)
    assert time.monotonic() - started < 15
    assert not (app.config["DOCUMENT_TEMPLATES"] / "regulation.docx").exists()


@pytest.mark.parametrize("tag", [
    "{{ ('x'*200000000)|length }}",
    "{{ (['x']*200000000)|length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{{ 'x'|center(999999999) }}",
    "{{ '%0999999999d' % 1 }}",
    "{% macro m() %}{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
    "{% endmacro %}{{ m() }}",
], ids=["string-times", "list-times", "doubling", "center", "format-width", "macro-output"])
def test_a_template_that_builds_huge_text_is_refused(client, admin, tag):
    """Is a template that would build hundreds of MB of text refused quickly with a message?"""
    started = time.monotonic()
    response = _upload(client, _with_paragraph(tag))
    assert response.status_code == 422
    # Whichever bound stops it first on this machine (size, field width or, on a loaded one, time).
    assert any(reason in _text(response) for reason in ("слишком большой текст", "Ширина поля",
                                                        "формируется дольше 5 с"))
    assert time.monotonic() - started < 15


def test_a_valid_template_with_loops_and_arithmetic_still_uploads_and_prints(client, admin, regulation_id):
    """Does an ordinary template (a short loop, string operations) still pass and print?"""
    tag = ("Отметка: {% for i in range(3) %}{{ loop.index }}{% endfor %} {{ 'ab' * 2 }} "
           "{{ client.name ~ '!' }} {{ '%d шт.'|format(12) }}")
    response = _upload(client, _with_paragraph(tag))
    assert response.status_code == 303, messages(response)
    printed = client.get(f"/regulations/{regulation_id}.docx")
    assert printed.status_code == 200
    assert "Отметка: 123 abab Ромашка! 12 шт." in all_text(read_docx(printed.data))


def test_every_print_follows_the_template_installed_just_before_it(client, admin, regulation_id):
    """Upload a template and print, upload another and print, go back to the shipped one and print:
    does each document follow the template of the moment?"""
    def printed() -> str:
        response = client.get(f"/regulations/{regulation_id}.docx")
        assert response.status_code == 200
        return all_text(read_docx(response.data))

    shipped = printed()
    assert _upload(client, _with_paragraph("Редакция шаблона 1")).status_code == 303
    first = printed()
    assert _upload(client, _with_paragraph("Редакция шаблона 2")).status_code == 303
    second = printed()
    assert client.post("/admin/templates/regulation.docx/reset").status_code == 303
    assert "Редакция шаблона 1" in first and "Редакция шаблона 2" not in first
    assert "Редакция шаблона 2" in second and "Редакция шаблона 1" not in second
    assert printed() == shipped and "Редакция шаблона" not in shipped


@pytest.mark.parametrize("template, message", [
    (lambda: _with_document_xml(_broken_tag), "разметка части word/document.xml не читается"),
    (lambda: _with_paragraph("{{ ('x'*200000000)|length }}"), "слишком большой текст"),
], ids=["malformed", "huge-text"])
def test_a_broken_template_on_disk_answers_a_message_when_printing(client, app, regulation_id, caplog,
                                                                     template, message):
    """When a broken template reaches the server without the upload check (copied by hand), does
    printing answer 422 with the reason and a log line, not 500?"""
    override_dir = app.config["DOCUMENT_TEMPLATES"]
    override_dir.mkdir(parents=True, exist_ok=True)
    (override_dir / "regulation.docx").write_bytes(template())
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/regulations/{regulation_id}.docx")
    assert response.status_code == 422
    text = _text(response)
    assert "Документ не сформирован, шаблон документа неисправен" in text
    assert message in text
    assert any("document template refused" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("other", ["99999999999999999999", "2147483648", "-1", "²", ""])
def test_comparing_with_an_id_out_of_range_is_not_found(client, admin, regulation_id, other):
    """Does comparing an edition with an id no database column can hold answer 404, not 500?"""
    assert client.get(f"/regulations/{regulation_id}/compare?with={other}").status_code == 404


def test_a_render_in_another_thread_is_stopped_by_the_clock_too(tmp_path):
    """Does the time limit hold outside the main thread (where no signal can interrupt), as in a
    threaded server?"""
    import webapp.documents.regulation  # noqa: F401 -- registers the regulation's sample data
    from webapp.documents.render import check_template

    path = tmp_path / "regulation.docx"
    path.write_bytes(_with_paragraph(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"))
    problems = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: problems.extend(check_template(path)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert time.monotonic() - started < 15
    assert len(problems) == 1 and "формируется дольше 5 с" in problems[0]
