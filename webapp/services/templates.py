"""Document templates an admin overrides per installation (instance/document_templates/).

An upload is accepted only after a test render with sample data succeeds, within the bounds every
render keeps (no DTD, a few seconds, a few MB), so a broken or runaway template never reaches the
people who print documents.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from webapp.documents import render
from webapp.models.audit import log_event
from webapp.services import ServiceError

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
DOCX_MAGIC = b"PK\x03\x04"


@dataclass
class TemplateInfo:
    name: str
    overridden: bool
    size: int
    modified_at: datetime | None


def list_templates(override_dir: Path) -> list[TemplateInfo]:
    result = []
    for name in render.template_names():
        override = override_dir / name
        if override.is_file():
            stat = override.stat()
            result.append(TemplateInfo(name, True, stat.st_size,
                                       datetime.fromtimestamp(stat.st_mtime, timezone.utc)))
        else:
            result.append(TemplateInfo(name, False, render.template_path(name).stat().st_size, None))
    return result


def install_template(name: str, data: bytes, override_dir: Path) -> None:
    """Check the uploaded .docx by rendering it, then put it in place atomically."""
    if name not in render.template_names():
        raise ServiceError("Такой шаблон не используется.", field="name")
    override_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # installation files: owner only
    fd, temp = tempfile.mkstemp(suffix=".docx", dir=override_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        check_template_file(name, Path(temp))
        os.replace(temp, override_dir / name)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    log_event("document_templates", None, name, "template_upload",
              {"sha256": [None, hashlib.sha256(data).hexdigest()], "size": [None, len(data)]})


def check_template_file(name: str, path: Path) -> None:
    """The check every template passes before it replaces ``name`` (an upload, a restored backup):
    a name in use, at most 5 MB, a Word file, and a test render with sample data."""
    if name not in render.template_names():
        raise ServiceError("Такой шаблон не используется.", field="name")
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise ServiceError("Файл больше 5 МБ: шаблону столько не нужно.", field="file")
    with path.open("rb") as handle:
        if handle.read(len(DOCX_MAGIC)) != DOCX_MAGIC:
            raise ServiceError("Файл не является документом Word (.docx).", field="file")
    problems = render.check_template(path, name)
    if problems:
        raise ServiceError(" ".join(problems), field="file")


def remove_override(name: str, override_dir: Path) -> None:
    """Go back to the shipped template."""
    if name not in render.template_names():
        raise ServiceError("Такой шаблон не используется.")
    path = override_dir / name
    if not path.is_file():
        raise ServiceError("Для этого шаблона нет своей версии.")
    path.unlink()
    log_event("document_templates", None, name, "template_reset")
