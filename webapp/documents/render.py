"""The one rendering path for every DOCX: a Word template with docxtpl tags plus plain data → bytes.

Templates ship in ``webapp/documents/templates/`` and may be overridden per installation by a file
of the same name in ``instance/document_templates/`` (the app passes that directory as
``override_dir``). User text is untrusted: control characters that XML cannot hold are stripped
first, and the Jinja environment is sandboxed and autoescaping, so ``<``, ``&`` and ``{{`` in a
client's name print as they are and cannot reach the template's internals.
"""

import dataclasses
import enum
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.parts.coreprops import CorePropertiesPart
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from lxml import etree

from webapp import formatting
from webapp.documents.money import amount_in_words, format_amount

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGE = "ru-RU"

# XML 1.0 allows tab, newline and carriage return below 0x20, and no surrogates or U+FFFE/U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CARRIAGE_RETURN = re.compile(r"\r\n?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class DocumentTemplateError(Exception):
    """A template that cannot be rendered; the message is Russian and meant for the admin."""


# -- sample data for checking uploaded templates, registered by each document module ----------

_samples: dict[str, Callable[[], dict]] = {}


def register_sample(template_name: str, make_context: Callable[[], dict]) -> None:
    """Let ``check_template`` test-render ``template_name`` with the context ``make_context()``."""
    _samples[template_name] = make_context


def template_names() -> list[str]:
    """The templates an installation may override (those a document module registered)."""
    return sorted(_samples)


# -- rendering --------------------------------------------------------------------------------


def template_path(template_name: str, override_dir: Path | None = None) -> Path:
    """The installation's override of ``template_name`` if there is one, else the shipped file."""
    if Path(template_name).name != template_name or not template_name.endswith(".docx"):
        raise ValueError(f"not a template file name: {template_name!r}")
    if override_dir is not None:
        override = Path(override_dir) / template_name
        if override.is_file():
            return override
    return TEMPLATE_DIR / template_name


def render_docx(template_name: str, context: dict, override_dir: Path | None = None) -> bytes:
    """Render the template ``template_name`` with ``context`` into the bytes of a .docx file.

    Raises ``DocumentTemplateError`` (Russian message) when the template itself is broken.
    """
    return _render(template_path(template_name, override_dir), context)


def check_template(path: Path, template_name: str | None = None) -> list[str]:
    """Test-render an uploaded template with sample data; the Russian problems found, or [].

    ``template_name`` is the name it would replace (default: the file's own name).
    """
    name = template_name or Path(path).name
    if name not in _samples:
        known = ", ".join(sorted(_samples))
        return [f"Шаблон с именем «{name}» не используется. Можно загрузить: {known}."]
    try:
        with zipfile.ZipFile(path) as archive:
            archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        return ["Файл не является документом Word (.docx)."]
    context = _samples[name]()
    try:
        unknown = DocxTemplate(str(path)).get_undeclared_template_variables(
            _environment(), context)
    except (TemplateError, etree.XMLSyntaxError, ValueError):
        unknown = set()  # a syntax error or broken XML: the render below names it
    if unknown:
        return [f"Неизвестное поле «{field}»: такого нет в данных документа."
                for field in sorted(unknown)]
    try:
        rendered = _render(Path(path), context)
        Document(io.BytesIO(rendered))
    except DocumentTemplateError as exc:
        return [str(exc)]
    except Exception:  # noqa: BLE001 -- any failure to reopen means Word would fail too
        return ["После подстановки данных документ не открывается: проверьте, что теги "
                "{%p …%} и {%tr …%} стоят в отдельных абзацах и строках таблицы."]
    return []


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII transliteration in ``filename=`` and the Cyrillic name in
    ``filename*=`` (RFC 6266), so old and new browsers both save a readable name.

    Invisible format characters go too: a right-to-left override in a client's name would make
    «Регламент Ромашка\u202excod.exe» display as «…exe.docx».
    """
    name = "".join(ch for ch in _CONTROL.sub("", filename) if unicodedata.category(ch) != "Cf")
    name = name.replace("/", "_").replace("\\", "_").strip() or "document"
    fallback = "".join(_ascii(char) for char in name)
    fallback = re.sub(r"\s+", " ", fallback).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def clean(value):
    """``value`` with XML-invalid control characters stripped from every string inside it
    (through dicts, lists, tuples and dataclasses); ``\\r\\n`` becomes ``\\n``.

    Every string comes back as a plain ``str``, so even a ``Markup`` is escaped when printed.
    """
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return _XML_INVALID.sub("", _CARRIAGE_RETURN.sub("\n", str(value)))
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, tuple):
        return tuple(clean(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {field.name: clean(getattr(value, field.name))
                   for field in dataclasses.fields(value) if field.init}
        return dataclasses.replace(value, **changes)
    return value


def _environment() -> SandboxedEnvironment:
    # StrictUndefined: a misspelt field fails loudly instead of printing an empty requisite
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(formatting.FILTERS)
    env.filters["amount"] = format_amount
    env.filters["amount_in_words"] = amount_in_words
    return env


def _render(source: Path, context: dict) -> bytes:
    template = DocxTemplate(str(source))
    try:
        template.init_docx()
    except Exception as exc:  # noqa: BLE001 -- python-docx raises several kinds on a bad file
        raise DocumentTemplateError("Файл шаблона не открывается как документ Word (.docx).") \
            from exc
    _repair_core_properties_relationship(template.docx)
    try:
        template.render(clean(context), jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:
        raise DocumentTemplateError(_explain(exc)) from exc
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DocumentTemplateError(
            "После подстановки данных разметка документа повреждена: вероятно, тег {%p …%} или "
            "{%tr …%} разрывает абзац или строку таблицы.") from exc
    _set_language(template.docx)
    buffer = io.BytesIO()
    template.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _repair_core_properties_relationship(document) -> None:
    """LibreOffice relates ``docProps/core.xml`` with an ``officeDocument`` relationship type that
    python-docx does not recognise; it then adds a second core.xml and the zip holds two."""
    package = document.part.package
    if any(rel.reltype == RT.CORE_PROPERTIES for rel in package.rels.values()):
        return
    for rel in package.rels.values():
        if (rel.reltype.endswith("/metadata/core-properties") and not rel.is_external
                and isinstance(rel.target_part, CorePropertiesPart)):
            rel._reltype = RT.CORE_PROPERTIES  # python-docx has no public setter
            return


def _set_language(document) -> None:
    """ru-RU for spelling and hyphenation: in the defaults, in every style, and in the metadata
    (which also gets the time of rendering)."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is None:
        run_defaults = OxmlElement("w:rPrDefault")
        defaults.insert(0, run_defaults)
    run_properties = run_defaults.find(qn("w:rPr"))
    if run_properties is None:
        run_properties = OxmlElement("w:rPr")
        run_defaults.append(run_properties)
    if run_properties.find(qn("w:lang")) is None:
        run_properties.append(OxmlElement("w:lang"))
    for lang in styles.iter(qn("w:lang")):
        lang.set(qn("w:val"), LANGUAGE)
    for theme_lang in document.settings.element.iter(qn("w:themeFontLang")):
        theme_lang.set(qn("w:val"), LANGUAGE)
    document.core_properties.language = LANGUAGE
    document.core_properties.modified = datetime.now(timezone.utc).replace(microsecond=0)


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the package with each entry once, ``[Content_Types].xml`` first."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in source.infolist():
        entries.setdefault(info.filename, info)
    order = sorted(entries, key=lambda name: name != "[Content_Types].xml")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in order:
            target.writestr(name, source.read(entries[name]), zipfile.ZIP_DEFLATED)
    result = buffer.getvalue()
    names = zipfile.ZipFile(io.BytesIO(result)).namelist()
    if len(names) != len(set(names)):
        raise RuntimeError("duplicate entries remain in the rendered .docx")
    return result


# -- Russian messages for template errors -----------------------------------------------------


def _explain(exc: Exception) -> str:
    """The admin-facing Russian message for a Jinja error, with the text near it when known."""
    message = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, SecurityError):
        text = "Шаблон обращается к служебным данным, это запрещено."
    elif isinstance(exc, UndefinedError):
        text = _explain_undefined(message)
    elif isinstance(exc, TemplateSyntaxError):
        text = _explain_syntax(message)
    else:
        text = f"Ошибка в шаблоне ({message})."
    nearby = " ".join(line.strip() for line in getattr(exc, "docx_context", []) or [] if line.strip())
    if nearby:
        text += f" Рядом с текстом: «{nearby[:200]}»."
    return text


def _explain_undefined(message: str) -> str:
    if match := re.search(r"'([^']+)' is undefined", message):
        return f"Неизвестное поле «{match[1]}»: такого нет в данных документа."
    if match := re.search(r"has no attribute '([^']+)'", message):
        return f"Неизвестное поле «{match[1]}»: такого нет в данных документа."
    return f"Неизвестное поле ({message})."


_BLOCK_NAMES = {"if": "{% if %}", "for": "{% for %}", "with": "{% with %}"}


def _explain_syntax(message: str) -> str:
    if match := re.search(r"innermost block that needs to be closed is '(\w+)'", message):
        block = match[1]
        opening = _BLOCK_NAMES.get(block, f"{{% {block} %}}")
        return f"Не закрыт блок {opening}: не хватает {{% end{block} %}}."
    if message.startswith("Unexpected end of template"):
        return "Шаблон обрывается внутри тега: не хватает закрывающего тега."
    if match := re.search(r"Encountered unknown tag '(\w+)'", message):
        return f"Лишний или неизвестный тег «{match[1]}»: у него нет открывающего тега."
    if match := re.search(r"unexpected char '(.)'", message):
        char = match[1]
        if char in "«»„“”":
            return ("Кавычки-ёлочки внутри тега {{ }} или {% %} не допускаются: "
                    "используйте прямые кавычки \"…\" или вынесите текст за пределы тега.")
        return f"Недопустимый символ «{char}» внутри тега."
    return f"Синтаксическая ошибка в теге шаблона ({message})."


# -- transliteration for the ASCII filename ---------------------------------------------------

_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia"],
))
_TRANSLIT.update({"№": "No", "«": "", "»": "", "\"": "", "„": "", "“": "", "”": "",
                  "–": "-", "—": "-", "\u00a0": " "})


def _ascii(char: str) -> str:
    if char in _TRANSLIT:
        return _TRANSLIT[char]
    lower = char.lower()
    if lower in _TRANSLIT:
        latin = _TRANSLIT[lower]
        return latin.capitalize()
    if " " <= char <= "~" and char != "\\":
        return char
    return "_"
