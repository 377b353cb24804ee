"""Russian business typography for every document: no-break spaces where a line must not break,
initials, and places where a long e-mail may break.

Applied to the whole context of a document (user text included), so a contract number typed as
«№ 77/1» or an address «г. Москва» prints as well as the template's own wording.
"""

import re
from functools import lru_cache

NBSP = "\u00a0"
ZWSP = "\u200b"  # a break opportunity that prints nothing

_RULES = [
    (re.compile(r"№\s*(?=\S)"), "№" + NBSP),  # «№ 5», «№5» → «№ 5» unbreakable
    (re.compile(r"(?<![\w.])(пп?|ст|ч|гл|разд|стр|д|ул|корп|оф)\.\s+(?=[\wА-ЯЁа-яё«\d])"), r"\1." + NBSP),
    (re.compile(r"(?<![\w.])г\.\s+(?=[А-ЯЁ])"), "г." + NBSP),  # «г. Москва»
    (re.compile(r"(\d)\s+(?=гг?\.)"), r"\1" + NBSP),  # «2026 г.»
    (re.compile(r"(\d)\s+(?=%)"), r"\1" + NBSP),  # «22 %»
    (re.compile(r"(?<![\w.])([А-ЯЁ]\.)\s+(?=[А-ЯЁ]\.)"), r"\1" + NBSP),  # «П. П.»
    (re.compile(r"(?<![\w.])([А-ЯЁ]\.)\s+(?=[А-ЯЁ][а-яё])"), r"\1" + NBSP),  # «П. Петров»
    (re.compile(r"([А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?)\s+(?=[А-ЯЁ]\.\s?[А-ЯЁ]?\.?)"), r"\1" + NBSP),  # «Петров П.»
]


# Every rule joins across a space or follows «№»: a text with neither (most cells of a document:
# numbers, dates, single words) is left as it is without trying the eight patterns on it.
_MAY_APPLY = re.compile(r"[\s№]")


KEPT_LENGTH = 300  # texts up to this long are typeset once per process: names, lines, parties, dates


def nbsp(text: str) -> str:
    """No-break spaces after «№», «п.», «ст.», «г.» (before a name), before «г.» after a year,
    before «%», and inside initials."""
    if not _MAY_APPLY.search(text):
        return text
    return _kept_nbsp(text) if len(text) <= KEPT_LENGTH else _apply_rules(text)


def _apply_rules(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


# A document's short texts recur (its lines of work, the parties, the signatories) in every
# render of it and of its neighbours; eight patterns on each cost an act of 60 lines 1.2 ms.
_kept_nbsp = lru_cache(maxsize=16_384)(_apply_rules)


def typeset(value):
    """``nbsp`` through every string of a document's context (dicts and lists followed)."""
    if isinstance(value, str):
        return nbsp(value)
    if isinstance(value, dict):
        return {key: typeset(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typeset(item) for item in value]
    return value


def strip_number_sign(number: str) -> str:
    """«№ 77/1» → «77/1»: the template prints the sign, a typed one would double it."""
    return re.sub(r"^\s*(№|N|No\.?)\s*(?=\S)", "", number.strip(), flags=re.IGNORECASE)


def breakable_email(email: str) -> str:
    """An e-mail that may break after «@» and «.» in a narrow column, never inside a word."""
    return re.sub(r"([@.])(?=.)", r"\1" + ZWSP, email)


def initials(full_name: str) -> str:
    """«Иванов Иван Иванович» → «И.И. Иванов» (a no-break space keeps it on one line)."""
    surname, *given = full_name.split()
    if not given:
        return surname
    letters = "".join(part if part.endswith(".") else f"{part[0]}." for part in given[:2])
    return f"{letters}{NBSP}{surname}"
