"""Reading generated DOCX files back the way a person would see them, and opening them in
LibreOffice: shared by the tests of every document."""

import io
import os
import re
import shutil
import signal
import subprocess
import zipfile
from pathlib import Path

import docx
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

SOFFICE = shutil.which("soffice")
SOFFICE_TIMEOUT = 120


def read_docx(data: bytes) -> Document:
    """The generated file opened with python-docx (fails on a broken package or broken XML)."""
    return docx.Document(io.BytesIO(data))


def blocks(container) -> list[Paragraph | Table]:
    return list(container.iter_inner_content())


def table_rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def lines(document: Document) -> list[str]:
    """Every paragraph of the body, tables included (cell by cell), in reading order."""
    found: list[str] = []

    def walk(container) -> None:
        for block in blocks(container):
            if isinstance(block, Paragraph):
                found.append(block.text)
            else:
                for row in block.rows:
                    for cell in row.cells:
                        walk(cell)

    walk(document)
    return found


def all_text(document: Document) -> str:
    """The text of the body, the tables, and every header and footer, one paragraph a line."""
    parts = lines(document)
    for section in document.sections:
        for part in (section.header, section.footer):
            parts.extend(paragraph.text for paragraph in part.paragraphs)
    return "\n".join(parts)


def header_text(document: Document) -> str:
    return "\n".join(p.text for section in document.sections for p in section.header.paragraphs)


def zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def duplicate_entries(data: bytes) -> list[str]:
    names = zip_names(data)
    return sorted({name for name in names if names.count(name) > 1})


def libreoffice_convert(source: bytes, suffix: str, target: str, work_dir: Path,
                        profile_dir: Path) -> bytes:
    """Convert with ``soffice --headless`` in ``work_dir`` using its own user profile (so that
    parallel runs do not clash); the converted file's bytes. Fails on a timeout or no output."""
    in_dir, out_dir = work_dir / "in", work_dir / "out"
    in_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    source_path = in_dir / f"document.{suffix}"
    source_path.write_bytes(source)
    extension = target.split(":")[0]
    # its own session: on a timeout the launcher and soffice.bin are killed together
    process = subprocess.Popen(
        [SOFFICE, f"-env:UserInstallation={profile_dir.as_uri()}", "--headless", "--norestore",
         "--convert-to", target, "--outdir", str(out_dir), str(source_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"soffice did not convert within {SOFFICE_TIMEOUT} s") from None
    converted = out_dir / f"document.{extension}"
    assert process.returncode == 0 and converted.is_file(), output
    return converted.read_bytes()


def pdf_page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))
