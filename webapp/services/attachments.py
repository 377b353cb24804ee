"""Attachments: accept a file for a record, keep it safe, and give it back only to those who may
see the record.

Each area that owns files registers its kind once (``register_owner("backlog_item", load=…,
can_change=…)``): ``load(user, owner_id)`` returns the record or raises ``NotFound`` when the user
may not see it, so the area's own scope rule decides who gets its files, and nothing here knows
the areas.

A file is accepted by what it is, never by its name: ``filetype`` reads the signature of the
first bytes (pure Python, so an installation needs no system library, unlike libmagic), an
Office file — a zip to that reading — is accepted only when its ``[Content_Types].xml`` names a
Word or Excel document, and audio must also parse with ``mutagen``, which gives its duration.
The bytes go to ``UPLOAD_FOLDER/attachments/`` under a random name, readable by the owner only;
a transaction that rolls back takes its new files with it, and a deleted attachment's file goes
only once the deletion is committed.
"""

import hashlib
import math
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
import mutagen
import sqlalchemy as sa
from flask import current_app
from lxml import etree

from webapp import saving
from webapp.extensions import db
from webapp.models import Attachment, User
from webapp.models.attachments import size_text
from webapp.services import NotFound, PermissionDenied, ServiceError

STORAGE_SUBFOLDER = "attachments"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_NAME = 255
CHUNK = 64 * 1024
TRANSCRIPT_FIELDS = {"transcript"}


# -- the kinds of file we take ------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    content_type: str  # what we store and serve
    extensions: tuple[str, ...]  # the first is appended to a name that does not end with one


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# filetype's answer → what we accept it as
KINDS = {
    "audio/ogg": Kind("audio/ogg", ("ogg", "oga", "opus")),
    "audio/mpeg": Kind("audio/mpeg", ("mp3",)),
    "audio/mp4": Kind("audio/mp4", ("m4a",)),
    "audio/x-wav": Kind("audio/wav", ("wav",)),
    "image/png": Kind("image/png", ("png",)),
    "image/apng": Kind("image/png", ("png",)),
    "image/jpeg": Kind("image/jpeg", ("jpg", "jpeg")),
    "image/webp": Kind("image/webp", ("webp",)),
    "image/gif": Kind("image/gif", ("gif",)),
    "application/pdf": Kind("application/pdf", ("pdf",)),
    WORD: Kind(WORD, ("docx",)),
    EXCEL: Kind(EXCEL, ("xlsx",)),
}

# The main part of an Office package as [Content_Types].xml declares it; macro-enabled documents
# (docm, xlsm) declare another type and are refused with everything else.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": WORD,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": EXCEL,
}
MAX_CONTENT_TYPES_BYTES = 256 * 1024

ACCEPTED_TEXT = ("Принимаются голосовые сообщения (OGG/Opus, MP3, M4A, WAV), изображения (PNG, JPEG, "
                 "WebP, GIF), PDF, документы Word (DOCX) и таблицы Excel (XLSX); тип определяется "
                 "по содержимому файла, а не по его имени.")


# -- owners: the areas plug in here -------------------------------------------------------------


@dataclass(frozen=True)
class OwnerKind:
    name: str
    load: Callable[[User, int], Any]  # the record, or NotFound outside the user's scope
    can_change: Callable[[User, Any], bool]  # may attach, delete and transcribe


OWNERS: dict[str, OwnerKind] = {}


def register_owner(name: str, *, load: Callable[[User, int], Any],
                   can_change: Callable[[User, Any], bool]) -> None:
    """Let records of kind ``name`` own files; ``load`` is the area's scoped getter."""
    OWNERS[name] = OwnerKind(name, load, can_change)


def load_owner(user: User, owner_type: str, owner_id: int) -> Any:
    """The owning record if the user may see it; NotFound otherwise (an unknown kind too)."""
    kind = OWNERS.get(owner_type)
    if kind is None:
        raise NotFound("Запись не найдена.")
    return kind.load(user, owner_id)


def can_change(user: User, owner_type: str, owner: Any) -> bool:
    return OWNERS[owner_type].can_change(user, owner)


def require_change(user: User, owner_type: str, owner: Any) -> None:
    if not can_change(user, owner_type, owner):
        raise PermissionDenied("Вложения этой записи вам можно только просматривать.")


def get_attachment(user: User, attachment_id: int) -> tuple[Attachment, Any]:
    """The attachment and its owner, if the user may see the owner; NotFound otherwise, so an id
    tried from outside tells nothing."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("Файл не найден.")
    return attachment, load_owner(user, attachment.owner_type, attachment.owner_id)


def attachments_of(owner_type: str, owner_id: int) -> list[Attachment]:
    """The files of one record, oldest first (the order they came in)."""
    return list(db.session.scalars(
        sa.select(Attachment).where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
        .order_by(Attachment.uploaded_at, Attachment.id)))


# -- names ---------------------------------------------------------------------------------------

_PATH_PARTS = re.compile(r"[/\\]|^\.\.?$|^\.\.|^[A-Za-z]:")


def clean_name(filename: str | None) -> str:
    """The name to keep: no control or invisible format characters (a right-to-left override
    would show «отчётexe.pdf» for a .exe), at most 255 characters with the extension kept.

    A name that carries a path (``../../etc/passwd``, ``C:\\boot.ini``) is refused: browsers send
    a bare name, so a path means a crafted request.
    """
    name = re.sub(r"[\t\n\r\v\f]", " ", unicodedata.normalize("NFC", filename or ""))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = " ".join(name.split())
    if _PATH_PARTS.search(name):
        raise ServiceError(f"Имя файла «{name[:100]}» содержит путь к папке: такой файл не принимается. "
                           "Сохраните файл под простым именем и загрузите снова.", field="file")
    name = name.strip(". ")
    if not name:
        raise ServiceError("У файла нет имени: сохраните его под понятным именем и загрузите снова.",
                           field="file")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


def _with_extension(name: str, kind: Kind) -> str:
    """A picture named «договор.exe» is saved as «договор.exe.png»: what a download calls a file
    is what it is."""
    if name.rpartition(".")[2].lower() in kind.extensions and "." in name:
        return name
    suffix = "." + kind.extensions[0]
    return name[:MAX_NAME - len(suffix)] + suffix


# -- what a file is ------------------------------------------------------------------------------


def detect_kind(path: Path) -> Kind | None:
    """What the file is by its content, if it is a kind we take."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    guess = filetype.guess(head)
    mime = guess.mime if guess else None
    if head.startswith(b"PK\x03\x04") or mime == "application/zip" or mime in (WORD, EXCEL):
        return _office_kind(path)
    return KINDS.get(mime) if mime else None


def _office_kind(path: Path) -> Kind | None:
    """A Word or Excel document, if the zip's [Content_Types].xml says so and holds that part."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                return None
            data = archive.read(info)
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True,
                                                      load_dtd=False, huge_tree=False))
    except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
            ValueError, etree.XMLSyntaxError):
        return None
    if root.getroottree().docinfo.doctype:
        return None
    for override in root.iter("{*}Override"):
        found = OOXML_MAIN_PARTS.get(override.get("ContentType", ""))
        part = (override.get("PartName") or "").lstrip("/")
        if found and part in names:
            return KINDS[found]
    return None


def audio_duration(path: Path) -> int | None:
    """Whole seconds (rounded up, so a short voice note never shows «0 с»); None when mutagen
    cannot read the file as audio."""
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError, EOFError):
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    if audio is None or length is None or not math.isfinite(length) or length < 0:
        return None
    return math.ceil(length)


# -- storing -------------------------------------------------------------------------------------


def storage_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / STORAGE_SUBFOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def file_path(attachment: Attachment) -> Path:
    return storage_folder() / attachment.storage_name


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def add_attachment(owner_type: str, owner: Any, stream: IO[bytes], filename: str | None, *,
                   acting: User) -> Attachment:
    """Accept one uploaded file for ``owner``: the name cleaned, the size within the limit, the
    content of a kind we take (audio also readable, with its duration), stored with its sha256.

    Refuses with a Russian message (422) otherwise; the caller commits.
    """
    require_change(acting, owner_type, owner)
    name = clean_name(filename)
    limit = max_bytes()
    storage_name = secrets.token_hex(16)
    path = storage_folder() / storage_name
    try:
        size, digest = _write(stream, path, name, limit)
        kind = detect_kind(path)
        if kind is None:
            raise ServiceError(f"Файл «{name}» не принят. {ACCEPTED_TEXT}", field="file")
        duration = None
        if kind.content_type.startswith("audio/"):
            duration = audio_duration(path)
            if duration is None:
                raise ServiceError(f"Файл «{name}» не читается как аудиозапись: возможно, он повреждён.",
                                   field="file")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _remember_new_file(path)
    attachment = Attachment(owner_type=owner_type, owner_id=owner.id, original_name=_with_extension(name, kind),
                            content_type=kind.content_type, size=size, sha256=digest,
                            storage_name=storage_name, uploaded_by_id=acting.id,
                            duration_seconds=duration)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _write(stream: IO[bytes], path: Path, name: str, limit: int) -> tuple[int, str]:
    """Copy the upload to ``path`` (mode 600), counting and hashing; refuse past ``limit``."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as target:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ServiceError(f"Файл «{name}» больше {size_text(limit)}: такие не принимаются. "
                                   "Сожмите его или разделите на части.", field="file")
            digest.update(chunk)
            target.write(chunk)
    if size == 0:
        raise ServiceError(f"Файл «{name}» пустой.", field="file")
    return size, digest.hexdigest()


def update_transcript(attachment: Attachment, owner: Any, edit: saving.Edit, *, acting: User) -> list[str]:
    """The manager's transcript of a voice message; only audio has one."""
    require_change(acting, attachment.owner_type, owner)
    if not attachment.is_audio:
        raise ServiceError("Расшифровка бывает только у аудиозаписи.", field="transcript")
    return saving.apply_edit(attachment, edit, TRANSCRIPT_FIELDS)


def delete_attachment(attachment: Attachment, owner: Any, version: Any, *, acting: User) -> None:
    """Remove a file attached by mistake; its bytes go once the deletion is committed."""
    require_change(acting, attachment.owner_type, owner)
    saving.check_delete(attachment, version)
    _remember_removed_file(file_path(attachment))
    db.session.delete(attachment)


# -- files follow the transaction ----------------------------------------------------------------

_NEW, _REMOVED = "attachments_new_files", "attachments_removed_files"


def _remember_new_file(path: Path) -> None:
    db.session().info.setdefault(_NEW, []).append(path)


def _remember_removed_file(path: Path) -> None:
    db.session().info.setdefault(_REMOVED, []).append(path)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _after_commit(session: sa.orm.Session) -> None:
    session.info.pop(_NEW, None)
    for path in session.info.pop(_REMOVED, []):
        path.unlink(missing_ok=True)


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _after_rollback(session: sa.orm.Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a savepoint: the outer transaction decides
        return
    session.info.pop(_REMOVED, None)
    for path in session.info.pop(_NEW, []):
        path.unlink(missing_ok=True)

