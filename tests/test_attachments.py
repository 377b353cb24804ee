"""Attachments: what is accepted (by content), what is refused (with a Russian message), how a file
is stored and served, and that only those who may see the owning record reach it.

The owner here is a client, registered in the test as a file-owning kind with the clients area's
own scope rule, so no backlog is needed: a specialist outside the client gets 404, an accountant
may look but not attach.
"""

import hashlib
import io
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Attachment, Role, User
from webapp.services import access
from webapp.services import attachments as service
from webapp.services import clients as client_service
from tests.conftest import messages
from tests.html_checks import problems_of
from tests.media_samples import EXECUTABLE, GIF, WEBP, gen_docx, gen_m4a, gen_mp3, gen_ogg_opus, gen_pdf, gen_png, gen_wav, gen_xlsx, gen_zip

OWNER = "test_client_file"


# -- tiny real files ------------------------------------------------------------------------------




# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def owner_kind():
    """Clients own files for the length of a test, under the clients area's own scope rule."""
    service.register_owner(OWNER, load=access.get_client, can_change=access.can_edit_client)
    yield OWNER
    service.OWNERS.pop(OWNER)


@pytest.fixture
def record(app, make_user, owner_kind):
    """A client led by a manager of its own: the record the files belong to."""
    manager = make_user(Role.MANAGER)
    with app.app_context():
        acting = db.session.get(User, manager.id)
        client = client_service.create_client({"short_name": "Ромашка"}, acting=acting)
        db.session.commit()
        client_id = client.id
    return manager, client_id


def upload(client, client_id: int, *files: tuple[bytes, str]):
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/files/{OWNER}/{client_id}", data=data, content_type="multipart/form-data", htmx=True)


def stored(app) -> list[Attachment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Attachment).order_by(Attachment.id)))
        db.session.expunge_all()
        return rows


def storage_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / service.STORAGE_SUBFOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


# -- accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, name, content_type", [
    (gen_ogg_opus(), "voice_2026-11-27.ogg", "audio/ogg"),
    (gen_wav(), "голосовое.wav", "audio/wav"),
    (gen_mp3(), "запись.mp3", "audio/mpeg"),
    (gen_m4a(), "Новая запись.m4a", "audio/mp4"),
    (gen_png(), "скриншот.png", "image/png"),
    (GIF, "анимация.gif", "image/gif"),
    (WEBP, "фото.webp", "image/webp"),
    (gen_pdf(), "Договор.pdf", "application/pdf"),
    (gen_docx(), "ТЗ.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (gen_xlsx(), "Оценка.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
], ids=["ogg-opus", "wav", "mp3", "m4a", "png", "gif", "webp", "pdf", "docx", "xlsx"])
def test_each_accepted_kind_is_stored_with_its_type_size_and_sha256(app, client, record, content, name,
                                                                    content_type):
    """Is each kind a client sends accepted, typed by its content, with its size and sha256?"""
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (content, name))
    assert response.status_code == 200, messages(response)
    assert name in response.get_data(as_text=True)
    [attachment] = stored(app)
    assert (attachment.original_name, attachment.content_type, attachment.size) == (name, content_type, len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.uploaded_by_id == manager.id
    [path] = storage_files(app)
    assert path.name == attachment.storage_name and name not in path.name
    assert path.read_bytes() == content
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert not str(path).startswith(str(Path(app.static_folder)))


def test_voice_messages_get_their_duration_and_a_player(app, client, record):
    """Does a voice message show an <audio> player with its duration, rounded up to a second?"""
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (gen_ogg_opus(1.5), "voice.ogg"), (gen_wav(0.5), "note.wav"),
                      (gen_mp3(), "call.mp3"), (gen_m4a(61), "memo.m4a"))
    html = response.get_data(as_text=True)
    assert [a.duration_seconds for a in stored(app)] == [2, 1, 2, 61]
    assert html.count("<audio controls") == 4
    assert "длительность 1:01" in html
    assert "длительность 0:02" in html and "длительность 0:01" in html


def test_a_file_named_as_something_else_is_saved_under_the_name_of_what_it_is(app, client, record):
    """Is a picture named «.exe», with a right-to-left override in its name, kept as a harmless .png?"""
    manager, client_id = record
    client.login(manager)
    assert upload(client, client_id, (gen_png(), "счёт\u202egnp.exe")).status_code == 200
    [attachment] = stored(app)
    assert attachment.original_name == "счётgnp.exe.png"
    assert attachment.content_type == "image/png"


# -- refused --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, name", [
    (EXECUTABLE, "voice.ogg"),
    (EXECUTABLE, "Договор.pdf"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "photo.png"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "logo.png"),
    (b"<html><script>alert(1)</script></html>", "page.pdf"),
    (gen_zip({"evil.exe": "MZ"}), "report.docx"),
    (gen_xlsx("application/vnd.ms-excel.sheet.macroEnabled.main+xml"), "macros.xlsx"),
    (b"OggS" + b"\x00" * 60, "broken.ogg"),
], ids=["exe-as-ogg", "exe-as-pdf", "elf-as-png", "svg", "html", "zip-as-docx", "xlsm-as-xlsx", "broken-ogg"])
def test_a_file_that_is_not_what_we_take_is_refused_with_a_message(app, client, record, content, name):
    """Is a renamed executable (or script, or macro workbook) refused by its content, not its name?"""
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (content, name))
    assert response.status_code == 422
    text = " ".join(messages(response))
    assert f"«{name}»" in text and ("не принят" in text or "не читается" in text)
    assert stored(app) == [] and storage_files(app) == []


def test_an_oversize_file_is_refused_with_the_limit_named(app, client, record):
    """Is a file above the size setting refused with a Russian message, and nothing left on disk?"""
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (gen_wav(1.0), "long.wav"))
    assert response.status_code == 422
    assert "«long.wav» больше 1 КБ" in " ".join(messages(response))
    assert stored(app) == [] and storage_files(app) == []


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\..\\boot.png", "/etc/cron.d/x.png", "C:evil.png", ".."])
def test_a_filename_with_a_path_is_refused(app, client, record, name):
    """Is a path-traversal filename refused (422) instead of being written anywhere?"""
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (gen_png(), name))
    assert response.status_code == 422
    assert "путь к папке" in " ".join(messages(response))
    assert stored(app) == [] and storage_files(app) == []


def test_one_refused_file_refuses_the_whole_upload(app, client, record):
    """When one of several files is refused, is none of them kept, in the database or on disk?"""
    manager, client_id = record
    client.login(manager)
    response = upload(client, client_id, (gen_png(), "ok.png"), (EXECUTABLE, "bad.pdf"))
    assert response.status_code == 422
    assert stored(app) == [] and storage_files(app) == []


def test_an_upload_without_the_csrf_token_is_refused(app, client, record):
    """Is an upload from another site (no CSRF token) refused?"""
    manager, client_id = record
    client.login(manager)
    response = client.post(f"/files/{OWNER}/{client_id}", data={"file": (io.BytesIO(gen_png()), "a.png")},
                           content_type="multipart/form-data", csrf=False)
    assert response.status_code == 400
    assert stored(app) == []


# -- served ---------------------------------------------------------------------------------------


def test_media_is_served_inline_and_documents_as_downloads_with_safe_headers(app, client, record):
    """Is audio served inline for the player, a PDF as a download, both with nosniff and a closed CSP?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_wav(), "голосовое.wav"), (gen_pdf(), "Договор №5.pdf"))
    voice, pdf = stored(app)

    response = client.get(f"/files/{voice.id}")
    assert response.status_code == 200 and response.data == gen_wav()
    assert response.mimetype == "audio/wav"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert "filename*=UTF-8''%D0%B3%D0%BE%D0%BB" in response.headers["Content-Disposition"]
    for headers in (response.headers, client.get(f"/files/{pdf.id}").headers):
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "sandbox" in headers["Content-Security-Policy"]
        assert "no-store" in headers["Cache-Control"]

    document = client.get(f"/files/{pdf.id}")
    assert document.mimetype == "application/pdf"
    assert document.headers["Content-Disposition"].startswith('attachment; filename="Dogovor No5.pdf"')
    forced = client.get(f"/files/{voice.id}?download=1")
    assert forced.headers["Content-Disposition"].startswith("attachment;")


def test_a_voice_message_can_be_sought_through(app, client, record):
    """Does the player get byte ranges (206), so a long voice message can be rewound?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_wav(), "voice.wav"))
    [voice] = stored(app)
    response = client.get(f"/files/{voice.id}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.data == gen_wav()[:10]


def test_a_file_missing_from_storage_is_a_message_not_an_error(app, client, record):
    """When the bytes are gone from the storage (a restore without uploads), is it a 404 that says so?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_pdf(), "a.pdf"))
    [path] = storage_files(app)
    path.unlink()
    response = client.get(f"/files/{stored(app)[0].id}")
    assert response.status_code == 404
    assert "нет в хранилище" in response.get_data(as_text=True)


# -- scope ----------------------------------------------------------------------------------------


def test_a_specialist_outside_the_client_cannot_fetch_a_file_by_its_url(app, client, record, make_user):
    """Does a specialist of another client get 404 for the file, its transcript and its deletion?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_wav(), "voice.wav"))
    [voice] = stored(app)
    client.post("/logout")

    outsider = make_user(Role.SPECIALIST)
    client.login(outsider)
    assert client.get(f"/files/{voice.id}").status_code == 404
    assert client.get(f"/files/{voice.id}?download=1").status_code == 404
    assert client.get(f"/files/{voice.id}/item").status_code == 404
    assert client.get(f"/files/{voice.id}/transcript").status_code == 404
    assert client.post(f"/files/{voice.id}/delete", data={"version": "1"}).status_code == 404
    assert upload(client, client_id, (gen_png(), "x.png")).status_code == 404
    assert len(stored(app)) == 1


def test_an_unknown_owner_kind_or_file_is_not_found(app, client, record):
    """Is a kind no area registered, or a file id that does not exist, a plain 404?"""
    manager, client_id = record
    client.login(manager)
    assert client.post(f"/files/nothing/{client_id}", data={"file": (io.BytesIO(gen_png()), "a.png")},
                       content_type="multipart/form-data").status_code == 404
    assert client.get("/files/999999").status_code == 404


def test_an_accountant_may_listen_but_not_attach(app, client, record, make_user):
    """Can a reader (accountant) open a file but not upload, transcribe or delete one (403)?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_wav(), "voice.wav"))
    [voice] = stored(app)
    client.post("/logout")
    client.login(make_user(Role.ACCOUNTANT))
    assert client.get(f"/files/{voice.id}").status_code == 200
    item = client.get(f"/files/{voice.id}/item").get_data(as_text=True)
    assert "<audio controls" in item and "Расшифровать" not in item and "Удалить" not in item
    assert upload(client, client_id, (gen_png(), "x.png")).status_code == 403
    assert client.get(f"/files/{voice.id}/transcript").status_code == 403
    assert client.post(f"/files/{voice.id}/delete", data={"version": "1"}).status_code == 403


# -- transcript and deletion ----------------------------------------------------------------------


def _transcript_form(client, attachment_id: int) -> dict:
    """The hidden fields of the transcript form as the page draws it (its version and what it showed)."""
    html = client.get(f"/files/{attachment_id}/transcript", htmx=True).get_data(as_text=True)
    return {"version": re.search(r'name="version" type="hidden" value="(\d+)"', html)[1],
            "version_shown": re.search(r'name="version_shown" value="([^"]+)"', html)[1]}


def test_the_manager_writes_a_transcript_in_place(app, client, record):
    """Does the transcript field save inline and show the text with the player?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_ogg_opus(), "voice.ogg"))
    [voice] = stored(app)
    form = _transcript_form(client, voice.id)
    response = client.post(f"/files/{voice.id}/transcript", htmx=True,
                           data={**form, "transcript": "Нужна выгрузка остатков в «Битрикс» & <срочно>"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Нужна выгрузка остатков в «Битрикс» &amp; &lt;срочно&gt;" in html and "<audio controls" in html
    assert stored(app)[0].transcript == "Нужна выгрузка остатков в «Битрикс» & <срочно>"


def test_two_people_transcribing_at_once_see_each_others_text(app, client, record, make_user):
    """When someone saved a transcript since my form opened, do I get 409 with both texts, not a loss?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_wav(), "voice.wav"))
    [voice] = stored(app)
    mine = _transcript_form(client, voice.id)
    theirs = _transcript_form(client, voice.id)
    assert client.post(f"/files/{voice.id}/transcript", data={**theirs, "transcript": "Их текст"}).status_code == 200
    response = client.post(f"/files/{voice.id}/transcript", data={**mine, "transcript": "Мой текст"}, htmx=True)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Их текст" in html and "Мой текст" in html
    assert stored(app)[0].transcript == "Их текст"


def test_a_picture_has_no_transcript(app, client, record):
    """Is a transcript refused for a file that is not audio?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_png(), "a.png"))
    [picture] = stored(app)
    response = client.post(f"/files/{picture.id}/transcript",
                           data={"version": str(picture.version), "transcript": "текст"})
    assert response.status_code == 422
    assert stored(app)[0].transcript == ""


def test_a_deleted_file_leaves_the_list_and_the_disk(app, client, record):
    """Does deleting a file remove its record and, once committed, its bytes?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_png(), "a.png"), (gen_pdf(), "b.pdf"))
    first, second = stored(app)
    stale = client.post(f"/files/{first.id}/delete", data={"version": "0"}, htmx=True)
    assert stale.status_code == 409
    assert "a.png" in stale.get_data(as_text=True) and "подтвердите удаление" in " ".join(messages(stale))
    response = client.post(f"/files/{first.id}/delete", data={"version": str(first.version)}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "b.pdf" in html and "a.png" not in html
    assert [a.id for a in stored(app)] == [second.id]
    assert [p.name for p in storage_files(app)] == [second.storage_name]


def test_the_attachment_section_renders_for_an_area_page(app, client, record):
    """Does the section macro list the files with the upload form for an editor, and none for a reader?"""
    manager, client_id = record
    client.login(manager)
    upload(client, client_id, (gen_png(), "скрин.png"))
    from webapp.templating import macro
    with app.test_request_context():
        files = service.attachments_of(OWNER, client_id)
        editor = str(macro("attachments.section")(OWNER, client_id, files, True))
        reader = str(macro("attachments.section")(OWNER, client_id, files, False))
    assert "скрин.png" in editor and 'type="file"' in editor and 'enctype="multipart/form-data"' in editor
    assert 'name="csrf_token"' in editor
    assert "скрин.png" in reader and 'type="file"' not in reader
    refused = upload(client, client_id, (EXECUTABLE, "bad.pdf")).get_data(as_text=True)
    for html in (editor, reader, refused):
        assert problems_of(html) == []


def test_clean_name_keeps_a_readable_name(ctx):
    """Are control and invisible characters dropped, and a long name cut with its extension kept?"""
    assert service.clean_name("  отчёт\x00\x07 за\tмай.pdf ") == "отчёт за май.pdf"
    assert service.clean_name("a" * 300 + ".docx").endswith("a.docx")
    assert len(service.clean_name("a" * 300 + ".docx")) == 255
    assert os.sep not in service.clean_name("нормальное имя.xlsx")
