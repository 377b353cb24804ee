"""The one rendering path for every DOCX: a Word template with docxtpl tags plus plain data → bytes.

Templates ship in ``webapp/documents/templates/`` and may be overridden per installation by a file
of the same name in ``instance/document_templates/`` (the app passes that directory as
``override_dir``). User text is untrusted: control characters that XML cannot hold are stripped
first, and the Jinja environment is sandboxed and autoescaping, so ``<``, ``&`` and ``{{`` in a
client's name print as they are and cannot reach the template's internals.

Templates are uploaded by an admin, so they are checked too: every XML part of the package must
parse without a DTD or entity declarations, and a render is bounded in time and output (see
``_BoundedEnvironment``); a template over the bounds is refused at upload and at every render.

What depends on a template file alone is done once per process and content, not at every render:
the package check, the language and the core-properties repair (``_prepared_package``, keyed by
the SHA-256 of the file, so a replaced file counts as new), python-docx's reading of the package
(``_template_parts``), and docxtpl's clean-up and Jinja's compilation of each part
(``_patched``, ``_compiled``, keyed by the part's text). Only bytes, strings and code are kept:
each render opens its own document and runs in its own bounded environment.

A render is written over its template's files (``_written_over``): the parts it rewrote replace
the template's, and the body stays the text Jinja made when it parses as it is
(``_DocxTemplate.fix_tables``, ``_DocumentPart``) rather than being parsed into the document and
serialised back; a test compares every shipped template's files with what docxtpl and
python-docx alone would write.
"""

import dataclasses
import enum
import functools
import hashlib
import io
import re
import string
import threading
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import CodeType
from typing import NamedTuple
from urllib.parse import quote

from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.package import Unmarshaller
from docx.opc.part import Part, PartFactory, XmlPart
from docx.opc.parts.coreprops import CorePropertiesPart
from docx.opc.pkgreader import PackageReader
from docx.opc.spec import default_content_types
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.package import Package
from docx.parts.document import DocumentPart
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import (StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes,
                    pass_environment)
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from lxml import etree

from webapp import formatting
from webapp.escaping import Template
from webapp.documents.money import amount_in_words, format_amount

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGE = "ru-RU"

# XML 1.0 allows tab, newline and carriage return below 0x20, and no surrogates or U+FFFE/U+FFFF.
_INVALID_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_XML_INVALID = re.compile(f"[{_INVALID_CHARACTERS}]")
_CARRIAGE_RETURN = re.compile(r"\r\n?")
_NEEDS_CLEANING = re.compile(f"[{_INVALID_CHARACTERS}\r]")  # what either of the two above would change
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What docxtpl's resolve_listing turns into markup, where it looks: inside a text run's <w:t>. A
# drawing's XML (an invoice's QR code) breaks its lines between tags, which it does not touch.
_LISTING_IN_TEXT = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]|<w:t [^>]*[\t\a\n\f]")
# What docxtpl's patch_xml leaves of a tag that changes a table's cells: a statement or output where a
# cell begins or ends ({%tc …%}, {{tc …}}), a computed span ({% colspan %}, {% hm %}).
_CELLS_CHANGED = re.compile(r'(?:%}|}})\s*<w:tc[ >]|</w:tc>\s*(?:{%|{{)|w:gridSpan w:val="{{')


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


def render_docx(template_name: str, context: dict, override_dir: Path | None = None, *,
                images: dict[str, tuple[bytes, float]] | None = None) -> bytes:
    """Render the template ``template_name`` with ``context`` into the bytes of a .docx file.

    ``images`` are pictures the template places with ``{{ name }}``: name → (PNG bytes, width in mm).
    Raises ``DocumentTemplateError`` (Russian message) when the template itself is broken.
    """
    return _render(_prepared_package(template_path(template_name, override_dir)), context, images)


def check_template(path: Path, template_name: str | None = None) -> list[str]:
    """Test-render an uploaded template with sample data; the Russian problems found, or [].

    ``template_name`` is the name it would replace (default: the file's own name).
    """
    name = template_name or Path(path).name
    if name not in _samples:
        known = ", ".join(sorted(_samples))
        return [f"Шаблон с именем «{name}» не используется. Можно загрузить: {known}."]
    context = _samples[name]()
    try:
        package = _prepared_package(Path(path))
        unknown = _DocxTemplate(io.BytesIO(package)).get_undeclared_template_variables(
            _environment(), context)
    except DocumentTemplateError as exc:
        return [str(exc)]
    except Exception:  # noqa: BLE001 -- a syntax error or a file python-docx cannot read:
        unknown = set()  # the render below names it
    if unknown:
        return [f"Неизвестное поле «{field}»: такого нет в данных документа."
                for field in sorted(unknown)]
    try:
        rendered = _render(package, context)
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
    if isinstance(value, enum.Enum):  # a StrEnum is a str too, and keeps its label
        return value
    if isinstance(value, str):
        if _NEEDS_CLEANING.search(value) is None:  # most texts: one search instead of two subs
            return str(value)
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


def _environment() -> "_BoundedEnvironment":
    """A fresh environment per document: its clock starts now and covers every part rendered."""
    # StrictUndefined: a misspelt field fails loudly instead of printing an empty requisite
    env = _BoundedEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters = dict(_bounded_filters())
    return env


@functools.cache
def _bounded_filters() -> dict:
    """Jinja's filters and ours, each measured and timed by the environment it runs in
    (``_BoundedEnvironment.run_filter``). Wrapped once per process, not per document (62 wrappers
    made for every render: 0.2 ms)."""
    filters = {**_BoundedEnvironment().filters, **formatting.FILTERS,
               "amount": format_amount, "amount_in_words": amount_in_words}
    return {name: _bounded_filter(name, function) for name, function in filters.items()}


def _bounded_filter(name: str, function):
    """``function`` (a filter) run through the environment's ``run_filter``. Jinja hands a filter
    its environment (or the context or evaluation context holding it) when the filter asks for
    it: the wrapper asks in the same way as the filter, or for the environment when it does not."""
    passes = getattr(function, "jinja_pass_arg", None)
    if passes is None:
        @functools.wraps(function)
        def filter_(environment, *args, **kwargs):
            return environment.run_filter(name, function, args, kwargs, 0)

        return pass_environment(filter_)

    @functools.wraps(function)  # keeps jinja_pass_arg: Jinja passes what the filter asked for
    def passing_filter(passed, *args, **kwargs):
        environment = getattr(passed, "environment", passed)  # a context's, or the environment
        return environment.run_filter(name, function, (passed, *args), kwargs, 1)

    return passing_filter


# docxtpl hands each part of a template (the body, a header, a core property) to Jinja anew at every
# render; its clean-up and compilation cost 13 ms of a 60-line act and depend on the part alone.
# Both are kept per process for the last parts seen, keyed by the part's text (so an edited
# template is new text), and not for a part over the size below (a regulation's body is 28,000
# characters).
_PARTS_KEPT = 64
_PREPARED_KEPT = 16  # templates: those in use and recent uploads
_PART_KEPT_CHARS = 200_000


def _keeps(xml) -> bool:
    return isinstance(xml, str) and len(xml) <= _PART_KEPT_CHARS


class _DocxTemplate(DocxTemplate):
    """docxtpl's template, opened with the parts a render leaves alone as bytes (``_open``) and
    with its clean-up of a part's XML for Jinja remembered (``_patched``)."""

    def init_docx(self, reload: bool = True) -> None:
        if not self.docx or (self.is_rendered and reload):  # docxtpl's condition
            self.docx = _open(self.template_file.getvalue())
            self.is_rendered = False

    cells_may_change = True  # until ``build_xml`` has looked at the body

    def patch_xml(self, src_xml: str) -> str:
        return _patched(src_xml) if _keeps(src_xml) else super().patch_xml(src_xml)

    def build_xml(self, context, jinja_env=None) -> str:
        """docxtpl's (the body patched for Jinja and rendered), noting whether the body has a tag
        that changes a table's cells (``fix_tables``)."""
        xml = self.patch_xml(self.get_xml())
        self.cells_may_change = _changes_cells(xml)
        return self.render_xml_part(xml, self.docx._part, context, jinja_env)

    keeps_body_as_text = True  # see ``fix_tables``

    def fix_tables(self, xml: str):
        """docxtpl's correction of each table's grid to the cells its rows got from ``{%tc …%}``,
        ``{% colspan %}`` or ``{% hm %}``, which returns the body parsed for ``fix_docpr_ids``
        and ``map_tree``.

        A body without such tags keeps the grid it was drawn with (walking every cell of a
        60-line act took 1.5 ms). If it also parses as it is, it is kept as the text Jinja made,
        its pictures numbered there as ``fix_docpr_ids`` numbers them (``_numbered_pictures``),
        and the document part writes it in place of the template's body (``_DocumentPart``;
        None is returned): moving the parsed body into the document and serialising the
        document back cost a 60-line act 1.6 ms. Otherwise it is parsed as docxtpl parses it,
        mending what it can (``recover``).
        """
        if self.cells_may_change:
            return super().fix_tables(xml)
        main = self.docx.part
        if self.keeps_body_as_text and isinstance(main, _DocumentPart) and main.takes_text:
            numbered = self._numbered_pictures(xml)
            if numbered is not None and _parses(numbered):
                main.body_xml = numbered
                return None
        return etree.fromstring(xml, parser=etree.XMLParser(recover=True))

    def _numbered_pictures(self, xml: str) -> str | None:
        """docxtpl's ``fix_docpr_ids`` done on the text: every picture's id renumbered from
        ``docx_ids_index`` on, in the order they come; None if a picture is written in a way the
        pattern does not know (another prefix, no id), which the parsed body then handles."""
        if "docPr" not in xml:
            return xml

        def next_id(found: re.Match) -> str:
            self.docx_ids_index += 1
            return f"{found[1]}{self.docx_ids_index}{found[2]}"

        numbered, count = _PICTURE_ID.subn(next_id, xml)
        return numbered if count == len(_PICTURE.findall(xml)) else None

    def fix_docpr_ids(self, tree) -> None:
        if tree is not None:  # a body kept as text has its pictures numbered already
            super().fix_docpr_ids(tree)

    def map_tree(self, tree) -> None:
        if tree is not None:  # a body kept as text is written by the document part
            super().map_tree(tree)

    def render_xml_part(self, src_xml, part, context, jinja_env=None) -> str:
        """docxtpl's, with its two regular expressions that move every paragraph onto a line of
        its own for Jinja and back done as the source's once (``_lines_per_paragraph``) and as two
        plain replacements of the output (the substitution ran a Python callback per paragraph:
        0.5 ms of a 60-line act)."""
        source = _lines_per_paragraph(src_xml) if _keeps(src_xml) else _one_line_each(src_xml)
        try:
            self.current_rendering_part = part
            rendered = (jinja_env or _environment()).from_string(source).render(context)
        except TemplateError as exc:
            if getattr(exc, "lineno", None) is not None:  # docxtpl's: the text near the error
                line_number = max(exc.lineno - 4, 0)
                exc.docx_context = [re.sub(r"<[^>]+>", "", line)
                                    for line in source.splitlines()[line_number:line_number + 7]]
            raise
        rendered = (rendered.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
                    .replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}"))
        return self.resolve_listing(rendered)

    def resolve_listing(self, xml: str) -> str:
        """docxtpl's turning of tabs, newlines, ``\\a`` and ``\\f`` in the rendered text into Word's
        tabs, breaks and paragraphs: regular expressions over every paragraph (3 ms of a 60-line
        act, 2.5 of an invoice) that change nothing in a part whose texts hold none of them, which
        is then returned as it is."""
        if not any(character in xml for character in "\t\a\n\f"):  # scanned in C: most bodies
            return xml
        return super().resolve_listing(xml) if _LISTING_IN_TEXT.search(xml) else xml


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _patched(xml: str) -> str:
    return DocxTemplate(None).patch_xml(xml)  # a function of the text: no state of the template


_PARAGRAPH = re.compile(r"<w:p([ >])")
_PICTURE = re.compile(r"<[\w.-]+:docPr[\s/>]")  # a picture's properties, whatever the prefix
_PICTURE_ID = re.compile(r'(<wp:docPr\s(?:[^>]*?\s)?id=")[^"]*(")')


def _strict_parser() -> etree.XMLParser:
    """A parser that resolves no entity, fetches nothing and loads no DTD; one per call, as lxml's
    parsers are not shared between threads."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parses(xml: str) -> bool:
    """Whether ``xml`` is well-formed as it is."""
    try:
        etree.fromstring(xml, parser=_strict_parser())
    except (etree.XMLSyntaxError, ValueError):  # ValueError: text that declares an encoding
        return False
    return True


def _one_line_each(xml: str) -> str:
    """Every paragraph on a line of its own, so that Jinja's line numbers point near an error."""
    return _PARAGRAPH.sub(r"\n<w:p\1", xml)


_lines_per_paragraph = functools.lru_cache(maxsize=_PARTS_KEPT)(_one_line_each)


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _changes_cells(patched_xml: str) -> bool:
    return bool(_CELLS_CHANGED.search(patched_xml))


@functools.lru_cache(maxsize=_PARTS_KEPT)
def _compiled(source: str) -> CodeType:
    """The code of ``source``: the same for every autoescaping environment ``_environment`` makes,
    as it reads the environment (its clock, bounds and filters) only when it runs."""
    return _environment().compile(source)


class _DocumentPart(DocumentPart):
    """python-docx's main part of a document, whose body a render may give as the text Jinja made
    (``body_xml``, see ``_DocxTemplate.fix_tables``): its XML is then the template's with that
    text in place of the template's body, whichever writer asks for it."""

    body_xml: str | None = None

    @classmethod
    def load(cls, partname, content_type, blob, package):
        part = super().load(partname, content_type, blob, package)
        part.template_xml = blob
        return part

    @property
    def takes_text(self) -> bool:
        """Whether the template spells its body so that the text can take its place."""
        return _around_body(self.template_xml) is not None

    @property
    def blob(self) -> bytes:
        if self.body_xml is None:
            return super().blob
        around = _around_body(self.template_xml)
        return b"".join((around.before, _in_document(self.body_xml, around.declared), around.after))


class _AroundBody(NamedTuple):
    before: bytes  # the document part's XML up to its <w:body>
    after: bytes  # and after its </w:body>
    declared: frozenset[tuple[str, str]]  # the (prefix, namespace) pairs ``before`` declares


@functools.lru_cache(maxsize=_PREPARED_KEPT)
def _around_body(xml: bytes) -> _AroundBody | None:
    """What surrounds a document part's body, if it is written ``<w:body …</w:body>``."""
    start, end = xml.find(b"<w:body"), xml.rfind(b"</w:body>")
    if not 0 <= start < end:
        return None
    before = xml[:start]
    return _AroundBody(before, xml[end + len(b"</w:body>"):], frozenset(_DECLARATION.findall(before.decode())))


class _UntouchedAsBytes(PartFactory):
    """python-docx's choice of a class for each part (registered when ``docx`` was imported),
    except that the styles, settings and numbering stay bytes: nothing in a render reads or
    changes them, and each was parsed at every render and written back as it was."""

    part_type_for = {**PartFactory.part_type_for, CT.WML_STYLES: Part, CT.WML_SETTINGS: Part,
                     CT.WML_NUMBERING: Part, CT.WML_DOCUMENT_MAIN: _DocumentPart}


def _open(package: bytes):
    """``docx.Document`` of a package made by ``_prepare`` (``docx.opc.package.OpcPackage.open``),
    with its styles, settings and numbering kept as the bytes they are (``_UntouchedAsBytes``):
    ``_prepare`` has set their language, nothing in a render reads them, and parsing and writing
    back the shipped templates' 0.35 MB of styles took 8 ms. The package is read from its zip once
    (``_template_parts``)."""
    opened = Package()
    Unmarshaller.unmarshal(_template_parts(package).reader, opened, _UntouchedAsBytes)
    return opened.main_document_part.document


def _render(package: bytes, context: dict, images: dict[str, tuple[bytes, float]] | None = None) -> bytes:
    """The template ``package`` (made by ``_prepare``) rendered into .docx bytes."""
    template = _DocxTemplate(io.BytesIO(package))
    try:
        context = clean(context)
        for name, (picture, width_mm) in (images or {}).items():
            context[name] = InlineImage(template, io.BytesIO(picture), width=Mm(width_mm))
        template.render(context, jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:
        raise DocumentTemplateError(_explain(exc)) from exc
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DocumentTemplateError(
            "После подстановки данных разметка документа повреждена: вероятно, тег {%p …%} или "
            "{%tr …%} разрывает абзац или строку таблицы.") from exc
    except RecursionError as exc:
        raise DocumentTemplateError("Шаблон вызывает сам себя без конца (рекурсия в макросе или "
                                    "цикле).") from exc
    except Exception as exc:  # noqa: BLE001 -- 1/0, "a" - 1 and the like in a tag
        raise DocumentTemplateError(
            f"Ошибка при подстановке данных в шаблон ({type(exc).__name__}: {exc}).") from exc
    # the time of rendering; the rest of the metadata is the template's, as _prepare left it
    template.docx.core_properties.modified = datetime.now(timezone.utc).replace(microsecond=0)
    if (written := _written_over(package, template)) is not None:
        return written
    buffer = io.BytesIO()
    template.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _written_over(package: bytes, rendered: _DocxTemplate) -> bytes | None:
    """The ``rendered`` template as its ``package`` with the parts a render rewrites (the body,
    headers, footers, core properties: python-docx's XML parts) replaced, and what it adds (a
    picture, with its relationship and content type) written after them; None when a render
    took something away, and python-docx writes the package.

    python-docx's writer builds the content types and every relationship file anew and writes
    each part through its own layer, for files that mostly come out as the template has them:
    writing over the template took the render of a meeting's minutes from 3.3 to 2.7 ms. The
    entries keep the template's order, ``[Content_Types].xml`` first, each once.
    """
    template = _template_parts(package)
    opened = rendered.docx.part.package
    parts = {part.partname: part for part in opened.iter_parts()}
    kept_all = template.relationships.keys() <= parts.keys() and all(
        template.relationships[name] <= part.rels.keys() for name, part in parts.items()
        if name in template.relationships)
    if not kept_all or opened.rels.keys() != template.package_relationships:
        return None
    rewritten = {name.membername: part.blob for name, part in parts.items() if isinstance(part, XmlPart)}
    added = [part for name, part in parts.items() if name not in template.relationships]
    for part in added:
        rewritten[part.partname.membername] = part.blob
    for name, part in parts.items():
        if part.rels and part.rels.keys() != template.relationships.get(name):
            rewritten[part.partname.rels_uri.membername] = part.rels.xml
    if added:
        rewritten[_CONTENT_TYPES] = _with_content_types(dict(template.entries)[_CONTENT_TYPES], added)
    buffer = io.BytesIO()
    # zlib's fastest level: a 60-line act of 19 KB instead of 17, for 0.6 of its 6 ms
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in template.entries:
            target.writestr(name, rewritten.pop(name, data))
        for name, data in rewritten.items():
            target.writestr(name, data)
    return buffer.getvalue()


_CONTENT_TYPES = "[Content_Types].xml"
_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _with_content_types(types_xml: bytes, added: list[Part]) -> bytes:
    """The package's ``[Content_Types].xml`` naming the type of every part in ``added`` too, the
    way python-docx does: by its extension where the type is the usual one for it (a PNG),
    otherwise by its name."""
    types = etree.fromstring(types_xml)
    extensions = {element.get("Extension", "").lower() for element in types.iter(f"{_TYPES}Default")}
    for part in added:
        extension = part.partname.ext.lower()
        if (extension, part.content_type) in default_content_types:
            if extension not in extensions:
                extensions.add(extension)
                etree.SubElement(types, f"{_TYPES}Default", Extension=extension,
                                 ContentType=part.content_type)
        else:
            etree.SubElement(types, f"{_TYPES}Override", PartName=str(part.partname),
                             ContentType=part.content_type)
    # python-docx's order: the defaults by extension, then the overrides by name
    types[:] = sorted(types, key=lambda element: (element.tag != f"{_TYPES}Default",
                                                  element.get("Extension") or element.get("PartName")))
    return etree.tostring(types, encoding="UTF-8", xml_declaration=True, standalone=True)


_DECLARATION = re.compile(r'\s+xmlns:(\w+)="([^"]*)"')


def _in_document(body: str, declared: frozenset[tuple[str, str]]) -> bytes:
    """The body as docxtpl serialised it alone, ready to stand in its document: without the
    namespace declarations its start tag repeats from the document's (``declared``), as
    python-docx writes it, so that a reader sees each namespace declared once."""
    start = body.index(">") + 1
    kept = _DECLARATION.sub(lambda found: "" if (found[1], found[2]) in declared else found[0],
                            body[:start])
    return (kept + body[start:]).encode()


@dataclasses.dataclass(frozen=True)
class _TemplateParts:
    """What a render reads of its template's package, once per prepared package. python-docx's
    reader holds its parts unzipped as bytes with their content types and relationships, which
    nothing changes (each render parses the bytes into its own trees): reading it at every render
    was 1.2 of an act's 10 ms."""

    reader: PackageReader
    entries: tuple[tuple[str, bytes], ...]  # every file of the package, in its order
    relationships: dict  # PackURI of each part → the ids of its relationships
    package_relationships: set  # the ids of the package's own (to the document, its properties)


@functools.lru_cache(maxsize=_PREPARED_KEPT)
def _template_parts(package: bytes) -> _TemplateParts:
    reader = PackageReader.from_file(io.BytesIO(package))
    relationships = {partname: set() for partname, *_ in reader.iter_sparts()}
    package_relationships = set()
    for source, relationship in reader.iter_srels():
        relationships.get(source, package_relationships).add(relationship.rId)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        entries = tuple((name, archive.read(name)) for name in archive.namelist())
    return _TemplateParts(reader, entries, relationships, package_relationships)


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


_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def _drop_styles_with_effects(document) -> None:
    """Word 2010's second copy of the styles (``stylesWithEffects.xml``, with its text effects):
    Word 2013 and later and LibreOffice read ``styles.xml`` alone, Word 2010 reads it when the copy
    is missing — and the copy would keep its old language, which ``_set_language`` does not touch.
    The shipped templates carry 0.44 MB of it, unpacked and packed again by every render (2 ms of
    an act)."""
    part = document.part
    for rid in [rid for rid, rel in part.rels.items() if rel.reltype == _STYLES_WITH_EFFECTS]:
        part.drop_rel(rid)


def _set_language(document) -> None:
    """ru-RU for spelling and hyphenation: in the defaults, in every style, and in the metadata
    (once per template, by ``_prepare``)."""
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


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the package with each entry once, ``[Content_Types].xml`` first.

    A package that is so already (python-docx writes it so) is returned as it is: unpacking and
    packing it again would give the same entries, for 6 ms of a 60-line act.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    if names[:1] == ["[Content_Types].xml"] and len(set(names)) == len(names):
        return data
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


# -- the package: every XML part parses, with no DTD ------------------------------------------

MAX_PART_BYTES = 20 * 1024 * 1024  # one XML part, unpacked (a regulation's largest is 0.4 MB)
MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # the whole package, unpacked (and the file itself)
_NOT_WORD = "Файл не является документом Word (.docx)."


_prepared: dict[bytes, bytes] = {}  # SHA-256 of a template file → _prepare of it, oldest first
_prepared_lock = threading.Lock()


def _prepared_package(source: Path) -> bytes:
    """The template file ``source`` made ready to render by ``_prepare`` (which refuses a broken
    one with ``DocumentTemplateError``).

    What ``_prepare`` does depends on the file's bytes alone and costs as much as the rest of a
    render, so it is done once per content and process: the key is the SHA-256 of the bytes, so a
    replaced file is prepared anew whatever its name, size or time.
    """
    try:
        with open(source, "rb") as file:
            data = file.read(MAX_PACKAGE_BYTES + 1)
    except OSError as exc:
        raise DocumentTemplateError(_NOT_WORD) from exc
    if len(data) > MAX_PACKAGE_BYTES:
        raise DocumentTemplateError(f"Шаблон повреждён: файл больше {MAX_PACKAGE_BYTES >> 20} МБ.")
    digest = hashlib.sha256(data).digest()
    with _prepared_lock:
        if digest in _prepared:
            return _prepared[digest]
    package = _prepare(data)
    with _prepared_lock:
        _prepared[digest] = package
        while len(_prepared) > _PREPARED_KEPT:
            del _prepared[next(iter(_prepared))]
    return package


def _prepare(data: bytes) -> bytes:
    """The template ``data`` checked (``_check_package``: the shipped templates' styles alone are
    0.8 MB of XML to parse), opened by python-docx, with its core-properties relationship repaired
    and its language set: the package a render opens."""
    _check_package(data)
    buffer = io.BytesIO()
    try:
        document = Document(io.BytesIO(data))
        _repair_core_properties_relationship(document)
        _drop_styles_with_effects(document)
        _set_language(document)
        document.save(buffer)
    except Exception as exc:  # noqa: BLE001 -- python-docx raises several kinds on a bad file
        raise DocumentTemplateError("Файл шаблона не открывается как документ Word (.docx).") \
            from exc
    return buffer.getvalue()


def _check_package(package: bytes) -> None:
    """Refuse (``DocumentTemplateError``) a package that is not a zip with ``word/document.xml``,
    unpacks too large, or has an XML part that does not parse or declares a DTD or entities
    (XXE, «billion laughs»): Word never writes one."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            infos = archive.infolist()
            if "word/document.xml" not in archive.namelist():
                raise DocumentTemplateError(_NOT_WORD)
            if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES:
                raise DocumentTemplateError(
                    f"Шаблон повреждён: распакованный он больше {MAX_PACKAGE_BYTES >> 20} МБ.")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with archive.open(info) as part:
                        data = part.read(MAX_PART_BYTES + 1)
                    _check_xml(info.filename, data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError,
            OSError, ValueError) as exc:
        raise DocumentTemplateError(_NOT_WORD) from exc


def _check_xml(name: str, data: bytes) -> None:
    if len(data) > MAX_PART_BYTES:
        raise DocumentTemplateError(
            f"Шаблон повреждён: часть {name} больше {MAX_PART_BYTES >> 20} МБ.")
    declared = (f"Шаблон повреждён: в части {name} есть объявление DTD или сущностей "
                "(<!DOCTYPE>, <!ENTITY>), такие файлы не принимаются. Откройте шаблон в Word и "
                "сохраните его заново.")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DocumentTemplateError(declared)
    try:
        root = etree.fromstring(data, _strict_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise DocumentTemplateError(
            f"Шаблон повреждён: разметка части {name} не читается (строка {line}, позиция "
            f"{column}). Откройте шаблон в Word и сохраните его заново.") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # a declaration in UTF-16, say
        raise DocumentTemplateError(declared)


# -- bounds of a render: time, output, and the size of every value ----------------------------

# A regulation renders in a tenth of a second into ~100 KB of XML; these leave room for large real
# data and stop a template that would tie up a worker or its memory.
RENDER_SECONDS = 5
MAX_TEXT = 4_000_000  # characters in a value, a joined buffer or a rendered XML part
MAX_RANGE = 10_000  # items of range() in a template
MAX_INT_BITS = 100_000  # about 30 000 digits
MAX_WIDTH = 10_000  # a width or precision in a format string

_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_STR_METHODS_THAT_GROW = {"center", "ljust", "rjust", "zfill"}


class RenderLimitError(TemplateError):
    """The template asked for more time or output than a document needs; the message is Russian."""


def _size(value, depth: int = 0) -> int:
    """About how many characters ``value`` prints as; counting stops past ``MAX_TEXT``."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)) and depth < 20:
        total = len(value)
        for item in value:
            total += _size(item, depth + 1)
            if total > MAX_TEXT:
                break
        return total
    return 1


def _too_big() -> RenderLimitError:
    return RenderLimitError(f"Шаблон создаёт слишком большой текст: больше {MAX_TEXT // 1_000_000} "
                            "млн знаков. Проверьте умножение строк и циклы.")


def _grouped(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Buffer(list):
    """The output of a macro, a ``{% call %}``, ``{% filter %}`` or ``{% set %}`` block collected
    so far, kept within ``MAX_TEXT`` (pieces count too) and the deadline as it grows."""

    def __init__(self, environment: "_BoundedEnvironment"):
        super().__init__()
        self.environment = environment
        self.size = 0

    def append(self, piece) -> None:
        self._grow((piece,))
        super().append(piece)

    def extend(self, pieces) -> None:
        pieces = tuple(pieces)
        self._grow(pieces)
        super().extend(pieces)

    def _grow(self, pieces: tuple) -> None:
        self.environment.check_time()
        self.size += len(pieces) + sum(len(piece) for piece in pieces)
        if self.size > MAX_TEXT:
            raise _too_big()


class _GuardedCodeGenerator(CodeGenerator):
    """Every ``{% for %}`` iterates through ``environment.guard_loop`` (which watches the clock),
    every output buffer is a ``_Buffer``, and the parts of every ``a ~ b`` are measured before
    they are joined."""

    def buffer(self, frame) -> None:
        # CodeGenerator.buffer, with a bounded list instead of []
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    def visit_For(self, node: nodes.For, frame) -> None:
        guarded = (isinstance(node.iter, nodes.Call)
                   and isinstance(node.iter.node, nodes.EnvironmentAttribute))
        if not guarded:
            node.iter = nodes.Call(nodes.EnvironmentAttribute("guard_loop"), [node.iter], [],
                                   None, None, lineno=node.iter.lineno)
        super().visit_For(node, frame)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        # the choice of join is CodeGenerator.visit_Concat's
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.join_bounded({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with a deadline and size limits, for one document's render.

    Hooks rather than a signal, so that the bounds hold in whichever thread renders (a gunicorn
    sync worker, a test client, a CLI): the clock is read at every loop step, call, filter and
    buffer piece; sizes are checked before an operator, filter or method could make a large value,
    and again on what it returns. The loop, buffer and ``~`` hooks override three methods of
    Jinja 3.1's code generator; the tests of hostile templates fail if an upgrade changes them.
    """

    code_generator_class = _GuardedCodeGenerator
    template_class = Template  # prints through the pages' cheaper ``escape``: the same text, a third of the cost
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, seconds: float = RENDER_SECONDS, **options):
        super().__init__(**options)
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.globals["range"] = self.bounded_range
        self.finalize = self.bounded

    def from_string(self, source, globals=None, template_class=None):
        """Jinja's ``from_string``, with the code compiled once per source (``_compiled``); the
        template is this environment's, so it runs on this render's clock."""
        kept = _keeps(source) and self.autoescape is True  # docxtpl sets it: True, as it was made
        code = _compiled(source) if kept else self.compile(source)
        return (template_class or self.template_class).from_code(self, code, self.make_globals(globals))

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitError(
                f"Документ по шаблону формируется дольше {self.seconds:g} с, печать остановлена: "
                "вероятно, в шаблоне слишком длинные или вложенные циклы.")

    def guard_loop(self, iterable):
        for item in iterable:
            self.check_time()
            yield item

    def output_buffer(self) -> _Buffer:
        return _Buffer(self)

    def bounded(self, value):
        """``value`` itself, if it prints within ``MAX_TEXT``."""
        if _size(value) > MAX_TEXT:
            raise _too_big()
        return value

    def bounded_range(self, *args):
        if not all(_is_int(arg) for arg in args):
            raise RenderLimitError("range() принимает только целые числа.")
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise RenderLimitError(f"Слишком длинный диапазон range(): в нём {_grouped(len(numbers))} "
                                   f"чисел, а можно не больше {_grouped(MAX_RANGE)}.")
        return numbers

    def concat(self, parts) -> str:
        """The output of a template (read piece by piece as it is made) or a ``_Buffer``, joined
        only while it stays within ``MAX_TEXT``."""
        pieces = []
        total = 0
        for piece in parts:
            self.check_time()
            total += len(piece)
            if total > MAX_TEXT:
                raise _too_big()
            pieces.append(piece)
        return "".join(pieces)

    def join_bounded(self, join, parts: tuple):
        if sum(_size(part) for part in parts) > MAX_TEXT:
            raise _too_big()
        return join(parts)

    def call_binop(self, context, operator: str, left, right):
        if operator == "*":
            self._check_product(left, right)
        elif operator == "**":
            if _is_int(left) and _is_int(right) and right > 0 \
                    and left.bit_length() * right > MAX_INT_BITS:
                raise RenderLimitError("Слишком большое число при возведении в степень.")
        elif operator == "+":
            if not (_is_int(left) or _is_int(right)) and _size(left) + _size(right) > MAX_TEXT:
                raise _too_big()
        elif operator == "%" and isinstance(left, str):
            self._check_format(left, right)
        return self.bounded(super().call_binop(context, operator, left, right))

    def _check_product(self, left, right) -> None:
        if _is_int(left) and _is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RenderLimitError("Слишком большое число при умножении.")
            return
        count, sequence = (left, right) if _is_int(left) else (right, left)
        if _is_int(count) and count > 0 and _size(sequence) * count > MAX_TEXT:
            raise _too_big()

    def _check_format(self, template: str, arguments, braces: bool = False) -> None:
        """A ``%`` pattern (or, with ``braces``, a ``str.format`` one) may not ask for a huge
        width or precision, nor take one from the data."""
        if _size(arguments) > MAX_TEXT:
            raise _too_big()
        if braces:
            specs = [spec for _, field, spec, _ in string.Formatter().parse(template)
                     if field is not None and spec]
            widths = ["*" if piece == "{" else piece
                      for spec in specs for piece in re.findall(r"\d+|\{", spec)]
        else:
            widths = [number for match in _PERCENT_FIELD.finditer(template)
                      for number in match.groups() if number]
        if any(width == "*" or int(width) > MAX_WIDTH for width in widths):
            raise RenderLimitError(f"Ширина поля в формате больше {MAX_WIDTH} знаков или берётся "
                                   "из данных: так документ не печатается.")

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 -- jinja's signature
        """Every call in a template: a macro, a method, ``range``, ``loop(...)``; and the
        ``guard_loop`` every ``{% for %}`` goes through, whose iterable is not measured: nothing
        is made of it, and measuring walked an act's 60 lines at every loop (0.3 ms)."""
        __self.check_time()
        if __obj == __self.guard_loop:
            return __obj(*args)
        if sum(_size(arg) for arg in (*args, *kwargs.values())) > MAX_TEXT:
            raise _too_big()
        target = getattr(__obj, "__wrapped__", __obj)  # str.format comes wrapped by the sandbox
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            __self._check_str_method(owner, getattr(target, "__name__", ""), args, kwargs)
        return __self.bounded(super().call(__context, __obj, *args, **kwargs))

    def _check_str_method(self, text: str, name: str, args, kwargs) -> None:
        if name in ("format", "format_map"):
            self._check_format(text, (args, kwargs), braces=True)
        elif name in _STR_METHODS_THAT_GROW:
            if any(_is_int(arg) and arg > MAX_TEXT for arg in (*args, *kwargs.values())):
                raise _too_big()
        elif name == "expandtabs":
            size = (args or list(kwargs.values()) or [8])[0]
            if _is_int(size) and len(text) + text.count("\t") * size > MAX_TEXT:
                raise _too_big()
        elif name == "replace" and len(args) >= 2:
            self._check_replace(text, args[0], args[1])

    def _check_replace(self, text, old, new) -> None:
        if isinstance(old, str) and isinstance(new, str):
            count = text.count(old) if old else len(text) + 1
            if len(text) + count * (len(new) - len(old)) > MAX_TEXT:
                raise _too_big()

    def run_filter(self, name: str, function, args: tuple, kwargs: dict, skip: int):
        """``function(*args, **kwargs)`` (the filter ``name``; its value is ``args[skip]``) with
        its input and result measured, the clock checked, and the few filters that can multiply
        text checked before they run."""
        self.check_time()
        value, rest = (args[skip], args[skip + 1:]) if len(args) > skip else (None, ())
        options = (*rest, *kwargs.values())
        if _size(value) > MAX_TEXT or any(_size(option) > MAX_TEXT for option in options):
            raise _too_big()
        if name == "format" and isinstance(value, str):
            self._check_format(value, options)
        elif any(_is_int(option) and option > MAX_TEXT for option in options):
            raise _too_big()  # center(10**9), batch(10**9, "x")
        elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
            self._check_replace(value, rest[0], rest[1])
        elif name == "indent" and isinstance(value, str):
            width = (rest or [kwargs.get("width", 4)])[0]
            width = len(width) if isinstance(width, str) else width
            if _is_int(width) and len(value) + (value.count("\n") + 1) * width > MAX_TEXT:
                raise _too_big()
        return self.bounded(function(*args, **kwargs))


# -- Russian messages for template errors -----------------------------------------------------


def _explain(exc: Exception) -> str:
    """The admin-facing Russian message for a Jinja error, with the text near it when known."""
    message = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, RenderLimitError):
        return message
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
