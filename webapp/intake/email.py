"""A client's e-mail saved as ``.eml`` (or forwarded and then saved), read into what a backlog item
needs: subject, sender, date, the new text without the quoted history, and the attached files.

Pure functions over bytes: no web, no database. The stdlib ``email`` package with
``policy.default`` decodes RFC 2047 encoded-words (``=?UTF-8?B?…?=``, ``=?koi8-r?Q?…?=``) and
gives aware dates; an HTML-only body becomes text with BeautifulSoup; an Outlook ``winmail.dat``
(TNEF) gives up its files through ``tnefparse``.

The quoted history is folded away, not thrown away: ``body`` is the new text, ``history`` the rest,
so a page can show it collapsed. A message that is itself a forward with nothing written above it
is read as the message it forwards: its sender, date and text are the client's, not the colleague's
who forwarded it.
"""

import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup
from tnefparse import TNEF

MAX_DEPTH = 3  # messages forwarded inside messages: enough for real mail, bounded for crafted mail
TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


class NotAnEmail(ValueError):
    """The file is not an e-mail message; the message is Russian, for the person who dropped it."""


@dataclass
class EmailAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    subject: str
    sender_name: str
    sender_address: str  # lower-case, for matching a contact
    date: datetime | None  # aware
    body: str  # the new text, quoted history folded away
    history: str = ""  # what was folded away
    attachments: list[EmailAttachment] = field(default_factory=list)


def parse_eml(data: bytes) -> ParsedEmail:
    """Read an ``.eml`` file. Raises ``NotAnEmail`` for a file that has no e-mail headers."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not any(message.get(name) for name in ("From", "Subject", "Date", "Message-ID")):
        raise NotAnEmail("Файл не похож на письмо (.eml): в нём нет заголовков From, Subject или Date.")
    return _read(message, depth=0)


# -- the message ----------------------------------------------------------------------------------


def _read(message: EmailMessage, depth: int) -> ParsedEmail:
    name, address = _sender(message)
    body_text = _body_text(message)
    body, history = fold_quoted(body_text)
    attachments, forwarded = _attachments(message, depth)
    parsed = ParsedEmail(subject=_header(message, "Subject"), sender_name=name, sender_address=address,
                         date=_date(message.get("Date")), body=body, history=history,
                         attachments=attachments)
    if not body.strip():
        if forwarded is not None:  # forwarded as an attachment, nothing written above it
            inner = _read(forwarded, depth + 1)
            inner.attachments = [*inner.attachments, *attachments]
            return inner
        if inline := _inline_forward(history):
            return _merge_inline(parsed, *inline)
    return parsed


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a header too broken to decode
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", None) or ()
    except (ValueError, IndexError, TypeError):
        addresses = ()
    for address in addresses:
        if isinstance(address, Address) and address.addr_spec:
            return address.display_name.strip(), address.addr_spec.strip().lower()
    return "", ""


def _date(value) -> datetime | None:
    """An aware datetime; a date without a zone (``-0000``) is taken as UTC."""
    if value is None:
        return None
    moment = getattr(value, "datetime", None)
    if moment is None:
        try:
            moment = parsedate_to_datetime(str(value))
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _body_text(message: EmailMessage) -> str:
    """The plain text if the message has one, else its HTML as text, else a TNEF body."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError):
        part = None
    if part is not None:
        text = _content(part)
        if part.get_content_subtype() == "html":
            text = html_to_text(text)
        if text.strip():
            return text
    for tnef_part in message.walk():
        if _is_tnef(tnef_part):
            tnef = _tnef(tnef_part)
            if tnef is not None and (tnef.body or tnef.htmlbody):
                return _decode_tnef_text(tnef.body) if tnef.body else html_to_text(_decode_tnef_text(tnef.htmlbody))
    return ""


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset: read it as best we can
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _decode_tnef_text(value) -> str:
    if isinstance(value, bytes):
        for encoding in ("utf-8", "cp1251"):
            try:
                return value.decode(encoding).rstrip("\x00")
            except UnicodeDecodeError:
                continue
    return str(value).rstrip("\x00")


# -- attachments ----------------------------------------------------------------------------------


def _attachments(message: EmailMessage, depth: int) -> tuple[list[EmailAttachment], EmailMessage | None]:
    """The files of the message (those inside a winmail.dat in its place), and the first message
    forwarded as an attachment, if any."""
    found: list[EmailAttachment] = []
    forwarded = None
    for part in message.iter_attachments():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if forwarded is None and isinstance(inner, EmailMessage) and depth < MAX_DEPTH:
                forwarded = inner
            continue
        if part.is_multipart():
            continue
        if _is_tnef(part):
            tnef = _tnef(part)
            if tnef is not None:
                found.extend(_tnef_files(tnef))
                continue
        data = part.get_payload(decode=True) or b""
        name = _part_name(part) or "вложение"
        found.append(EmailAttachment(name, part.get_content_type(), data))
    return found, forwarded


def _part_name(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except (ValueError, IndexError, TypeError):
        name = ""
    return " ".join(name.split())


def _is_tnef(part: EmailMessage) -> bool:
    return part.get_content_type() in TNEF_TYPES or _part_name(part).lower() == "winmail.dat"


def _tnef(part: EmailMessage) -> TNEF | None:
    data = part.get_payload(decode=True) or b""
    try:
        return TNEF(data, do_checksum=False)
    except Exception:  # noqa: BLE001 -- tnefparse raises whatever a broken file trips on
        return None


def _tnef_files(tnef: TNEF) -> list[EmailAttachment]:
    files = []
    for attachment in tnef.attachments:
        try:
            name = attachment.long_filename() or attachment.name
        except (UnicodeDecodeError, AttributeError):
            name = ""
        name = _decode_tnef_text(name) if isinstance(name, bytes) else str(name or "").rstrip("\x00")
        name = " ".join(name.split()) or "вложение"
        data = attachment.data if isinstance(attachment.data, bytes) else b""
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files.append(EmailAttachment(name, content_type, data))
    return files


# -- HTML -----------------------------------------------------------------------------------------

_BLOCKS = ("p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol", "hr")


def html_to_text(html: str) -> str:
    """The text a person reads in an HTML mail: paragraphs and line breaks kept, list items
    marked, no styles, scripts or hidden preheaders."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title", "meta"]):
        tag.decompose()
    for tag in soup.find_all(style=re.compile(r"display\s*:\s*none", re.I)):
        tag.decompose()
    while (quote := soup.find("blockquote")) is not None:  # a quote keeps its «>», so folding finds it
        inner = html_to_text(quote.decode_contents())
        quote.replace_with("\n" + "\n".join(f"> {line}".rstrip() for line in inner.split("\n")) + "\n")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all("li"):
        tag.insert_before("\n")
        tag.insert(0, "• ")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [" ".join(line.replace("\u00a0", " ").split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- quoted history -------------------------------------------------------------------------------

_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Исходное сообщение|Пересылаемое сообщение|Forwarded message|"
    r"Перенаправленное сообщение|Начало переадресованного сообщения)\s*-{2,}"
    r"|Begin forwarded message:|Начало переадресованного сообщения:|_{10,})\s*$", re.I)
_ATTRIBUTION = re.compile(r"(wrote|пишет|написал|написала|написал\(а\))\s*:\s*$", re.I)
_DATED_ADDRESS = re.compile(r"\d.*<[^@\s<>]+@[^@\s<>]+>\s*:\s*$")  # «пн, 23 нояб. 2026 г. в 10:15, Иван <i@x.ru>:»
_FROM_LINE = re.compile(r"^\s*\*?(From|От|Отправитель)\s*:\*?\s*\S", re.I)
_SENT_LINE = re.compile(r"^\s*\*?(Sent|Date|Отправлено|Дата)\s*:\*?\s*\S", re.I)


def fold_quoted(text: str) -> tuple[str, str]:
    """Split a mail's text into what the sender wrote now and the quoted history under it.

    History starts at the first of: a line quoted with «>»; «-----Original Message-----» and its
    Russian and forwarding kin; Outlook's «From: … Sent: …» (or «От: … Отправлено: …») header
    block; Gmail's and the Russian mailers' «… wrote:» / «… пишет:» attribution line (also when
    wrapped onto two lines).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines)
    if cut is None:
        return text.strip(), ""
    return "\n".join(lines[:cut]).strip(), "\n".join(lines[cut:]).strip()


def _history_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or _SEPARATORS.match(line):
            return _with_attribution_above(lines, index)
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(following) for following in lines[index + 1:index + 4]):
            return index
        if _is_attribution(stripped):
            return index
        if index + 1 < len(lines) and _opens_attribution(stripped, lines[index + 1].strip()) \
                and _is_attribution(stripped + " " + lines[index + 1].strip()):
            return index
    return None


def _is_attribution(line: str) -> bool:
    return bool(line) and len(line) < 250 and bool(_ATTRIBUTION.search(line) or _DATED_ADDRESS.search(line))


def _opens_attribution(line: str, following: str) -> bool:
    """The first half of an attribution wrapped onto two lines («On Mon, … Anna <», «23.11.2026,
    10:15,»), not a line of text above an attribution of its own («2 часа хватит.» / «Анна пишет:»)."""
    if not line or len(line) >= 120:
        return False
    if line.startswith("On ") or line.count("<") > line.count(">"):
        return True
    return line[0].isdigit() and not _is_attribution(following)


def _with_attribution_above(lines: list[str], index: int) -> int:
    """A «>» quote usually follows its «… wrote:» line and a blank one: fold them together."""
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above >= 0 and _is_attribution(lines[above].strip()):
        return above
    return index


# -- a forward written inline ---------------------------------------------------------------------

_FORWARD_HEADER = re.compile(r"^\s*\*?(From|От|Отправитель|Date|Sent|Дата|Отправлено|Subject|Тема|To|Кому|Cc|Копия)"
                             r"\s*:\*?\s*(.*)$", re.I)


def _inline_forward(history: str) -> tuple[dict[str, str], str] | None:
    """The header lines and the text of a message forwarded inline (below a «Пересылаемое
    сообщение» / «Forwarded message» / Outlook header block), when that is all the mail holds."""
    lines = history.split("\n")
    start = 1 if lines and _SEPARATORS.match(lines[0]) else 0
    headers: dict[str, str] = {}
    index = start
    while index < len(lines):
        match = _FORWARD_HEADER.match(lines[index])
        if match:
            headers.setdefault(match[1].lower(), match[2].strip())
        elif lines[index].strip() or headers:
            break
        index += 1
    if not any(key in headers for key in ("from", "от", "отправитель")):
        return None
    return headers, "\n".join(lines[index:])


def _merge_inline(parsed: ParsedEmail, headers: dict[str, str], text: str) -> ParsedEmail:
    sender = headers.get("from") or headers.get("от") or headers.get("отправитель") or ""
    pairs = getaddresses([sender])
    name, address = pairs[0] if pairs else ("", "")
    if "@" not in address:  # Outlook writes «Иван Петров [mailto:ivan@romashka.ru]»
        found = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", sender)
        address = found[0] if found else ""
        name = re.sub(r"[\[<(]?(mailto:)?" + re.escape(address) + r"[\]>)]?", "", sender).strip(" \"'") if address else sender
    date_text = headers.get("date") or headers.get("sent") or headers.get("дата") or headers.get("отправлено") or ""
    body, history = fold_quoted(text)
    return ParsedEmail(
        subject=headers.get("subject") or headers.get("тема") or parsed.subject,
        sender_name=name.strip() or parsed.sender_name, sender_address=(address or parsed.sender_address).lower(),
        date=_date(date_text) or parsed.date, body=body, history=history,
        attachments=parsed.attachments)
