"""A party to a document — requisites, signatory and authority — built once, the same for every
document (regulation, spec, minutes, act, invoice).

``company_party`` builds it from our ``CompanyProfile``, ``client_party`` from a ``Client`` and the
signatory chosen among its contacts. Nothing is guessed: the signatory, the position in the genitive
and the authority (charter, power of attorney, a sole trader on his own behalf) are stored data;
only the genitive of a person's name is declined here (pytrovich), and a position left without its
genitive gets a suggestion by the rule of its first words.
"""

import re
from dataclasses import dataclass
from datetime import date

from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case, Gender, NamePart
from pytrovich.maker import PetrovichDeclinationMaker

from webapp.documents.typography import NBSP, breakable_email, initials, strip_number_sign
from webapp.formatting import long_date
from webapp.models.company import SignatoryAuthority

BLANK = "_" * 24  # a place to fill in by hand, where data is missing

# Full legal forms and their abbreviations, longest first; the grammatical gender of the form
# decides «именуемое» (общество), «именуемая» (организация), and for an ИП the person's gender.
LEGAL_FORMS = [
    ("Публичное акционерное общество", "ПАО", "n"),
    ("Непубличное акционерное общество", "АО", "n"),
    ("Закрытое акционерное общество", "ЗАО", "n"),
    ("Открытое акционерное общество", "ОАО", "n"),
    ("Акционерное общество", "АО", "n"),
    ("Общество с ограниченной ответственностью", "ООО", "n"),
    ("Индивидуальный предприниматель", "ИП", "person"),
    ("Государственное унитарное предприятие", "ГУП", "n"),
    ("Муниципальное унитарное предприятие", "МУП", "n"),
    ("Автономная некоммерческая организация", "АНО", "f"),
    ("Некоммерческое партнёрство", "НП", "n"),
]
SOLE_TRADER_FORM = "Индивидуальный предприниматель"


@dataclass
class Party:
    """One side of a document as it prints: requisites, the person who signs and on what authority."""

    name: str  # short, with the legal form: «ООО «Ромашка»», «ИП Петров П. П.»
    legal_name: str  # full: «Общество с ограниченной ответственностью «Ромашка»»
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""  # ОГРН, or ОГРНИП for a sole trader
    registered_on: date | None = None  # the ЕГРЮЛ / ЕГРИП record
    address: str = ""
    phone: str = ""
    email: str = ""
    bank_name: str = ""
    bik: str = ""
    account: str = ""  # расчётный счёт
    corr_account: str = ""  # корреспондентский счёт
    signatory_name: str = ""  # «Иванов Иван Иванович»
    signatory_position: str = ""  # nominative: «Генеральный директор»
    signatory_position_genitive: str = ""  # «Генерального директора»; empty: suggested by rule
    authority: SignatoryAuthority = SignatoryAuthority.CHARTER
    attorney_number: str = ""
    attorney_date: date | None = None
    charter: str = "Устава"  # the founding document, genitive («Положения о филиале»)
    seal: bool = False  # print «М.П.» under the signature

    @property
    def sole_trader(self) -> bool:
        return (legal_form(self.legal_name)[0] == "ИП"
                or self.authority == SignatoryAuthority.SOLE_TRADER)

    @property
    def ogrn_label(self) -> str:
        return "ОГРНИП" if self.sole_trader else "ОГРН"

    @property
    def signs_himself(self) -> bool:
        """A sole trader who signs on his own behalf (no representative)."""
        return self.sole_trader and self.authority != SignatoryAuthority.ATTORNEY

    @property
    def person(self) -> str:
        """Who signs, in full: the chosen signatory, or the sole trader himself."""
        if self.signatory_name.strip():
            return self.signatory_name.strip()
        if self.signs_himself:
            return _sole_trader_name(self.legal_name)
        return ""

    @property
    def position(self) -> str:
        """The position printed over the signature."""
        if self.signs_himself:
            return SOLE_TRADER_FORM
        if self.signatory_position.strip():
            return self.signatory_position.strip()
        return "Представитель по доверенности" if self.authority == SignatoryAuthority.ATTORNEY else ""

    @property
    def signatory_initials(self) -> str:
        return initials(self.person) if self.person else ""

    @property
    def basis(self) -> str:
        """On what the signatory acts, genitive: «Устава», «доверенности № 12 от 1 февраля 2026 г.»."""
        if self.authority == SignatoryAuthority.ATTORNEY:
            text = "доверенности"
            if strip_number_sign(self.attorney_number):
                text += f" №{NBSP}{strip_number_sign(self.attorney_number)}"
            if self.attorney_date:
                text += f" от {long_date(self.attorney_date)}"
            return text
        if self.signs_himself:
            record = "записи в ЕГРИП"
            return record + (f" от {long_date(self.registered_on)}" if self.registered_on else "")
        return self.charter.strip() or "Устава"

    def preamble(self, role: str) -> str:
        """«ООО «Ромашка», именуемое в дальнейшем «Заказчик», в лице Генерального директора Иванова
        Ивана Ивановича, действующего на основании Устава»; a sole trader acts on his own behalf."""
        name = self.legal_name.strip() or self.name
        gender = _form_gender(self.legal_name, self.person)
        called = f"{_agree('именуем', gender)} в дальнейшем «{role}»"
        if self.signs_himself:
            parts = [name, f"{_agree('действующ', gender)} от своего имени на основании {self.basis}"]
            if self.ogrn:
                parts.append(f"ОГРНИП {self.ogrn}")
            return ", ".join(parts + [called])
        if not self.person:
            return f"{name}, {called}, в лице {BLANK}, действующего на основании {BLANK}"
        position = self.signatory_position_genitive.strip() or genitive_position(self.signatory_position)
        who = " ".join(part for part in (position, genitive_name(self.person)) if part)
        acting = _agree("действующ", _person_gender(self.person), adjective_case="gen")
        return f"{name}, {called}, в лице {who}, {acting} на основании {self.basis}"

    def requisite_lines(self) -> list[str]:
        """The requisites block, one line each, only those that have a value."""
        tax = f"ИНН {self.inn}" if self.inn else ""
        if self.kpp and not self.sole_trader:
            tax = f"{tax}, КПП {self.kpp}" if tax else f"КПП {self.kpp}"
        candidates = [
            f"({self.name})" if self.name and self.name != self.legal_name else "",
            tax,
            f"{self.ogrn_label} {self.ogrn}" if self.ogrn else "",
            f"Адрес: {self.address}" if self.address else "",
            f"Тел.: {self.phone}" if self.phone else "",
            f"E-mail: {breakable_email(self.email)}" if self.email else "",
            f"Р/с {self.account}" if self.account else "",
            f"Банк: {self.bank_name}" if self.bank_name else "",
            f"БИК {self.bik}" if self.bik else "",
            f"К/с {self.corr_account}" if self.corr_account else "",
        ]
        return [line for line in candidates if line]


def company_party(profile) -> Party:
    """Our side, from the company profile."""
    return Party(
        name=short_name(profile.legal_name, profile.name), legal_name=profile.legal_name or profile.name,
        inn=profile.inn, kpp=profile.kpp, ogrn=profile.ogrn, registered_on=profile.registered_on,
        address=profile.address, phone=profile.phone, email=profile.email, bank_name=profile.bank_name,
        bik=profile.bik, account=profile.account, corr_account=profile.corr_account,
        signatory_name=profile.signatory_name, signatory_position=profile.signatory_position,
        signatory_position_genitive=profile.signatory_position_genitive,
        authority=profile.signatory_authority or SignatoryAuthority.CHARTER,
        attorney_number=profile.signatory_attorney_number, attorney_date=profile.signatory_attorney_date,
        charter=profile.signatory_basis or "Устава", seal=bool(profile.seal_mark))


def client_party(client, *, seal: bool = False) -> Party:
    """The client's side; the signatory is the contact chosen on the client's card, or nobody.

    ``seal`` comes from the company setting that decides whether documents print «М.П.».
    """
    signer = client.signatory
    return Party(
        name=short_name(client.legal_name, client.short_name),
        legal_name=client.legal_name or client.short_name, inn=client.inn, kpp=client.kpp,
        ogrn=client.ogrn, registered_on=client.registered_on, address=client.address,
        phone=client.phone, email=client.email, bank_name=client.bank_name, bik=client.bik,
        account=client.account, corr_account=client.corr_account,
        signatory_name=signer.full_name if signer else "",
        signatory_position=signer.position if signer else "",
        signatory_position_genitive=client.signatory_position_genitive if signer else "",
        authority=client.signatory_authority or SignatoryAuthority.CHARTER,
        attorney_number=client.signatory_attorney_number, attorney_date=client.signatory_attorney_date,
        seal=seal)


def both_parties(client) -> tuple[Party, Party]:
    """(contractor, client) for a document about ``client``: every document prints the pair the same
    way, with «М.П.» on both sides when the company profile asks for it."""
    from webapp.models.company import CompanyProfile

    company = CompanyProfile.cached()
    return company_party(company), client_party(client, seal=bool(company.seal_mark))


# -- names and forms ----------------------------------------------------------------------------


def legal_form(legal_name: str) -> tuple[str, str]:
    """The abbreviation of the legal form and the rest of the name: («ООО», «Ромашка»»)."""
    text = " ".join(legal_name.split())
    for full, short, _ in LEGAL_FORMS:
        if text.lower().startswith(full.lower()):
            return short, text[len(full):].strip()
        if re.match(rf"{short}\b", text):
            return short, text[len(short):].strip()
    return "", text


def short_name(legal_name: str, fallback: str = "") -> str:
    """«Общество с ограниченной ответственностью «Ромашка»» → «ООО «Ромашка»»; a sole trader
    «ИП Петров П. П.». Without a legal name, the CRM label."""
    form, rest = legal_form(legal_name)
    if not form:
        return legal_name.strip() or fallback
    if form == "ИП":
        surname, *given = rest.split()
        letters = f"{NBSP}".join(f"{part[0]}." for part in given[:2])
        return f"ИП {surname}{NBSP}{letters}" if letters else f"ИП {surname}"
    return f"{form} {rest}"


def _sole_trader_name(legal_name: str) -> str:
    form, rest = legal_form(legal_name)
    return rest if form == "ИП" else ""


def genitive_position(position: str) -> str:
    """A suggestion for «в лице …»: the words up to the first noun declined, the rest kept.

    «Генеральный директор» → «Генерального директора»; «Первый заместитель генерального
    директора» → «Первого заместителя генерального директора». Stored genitives win over this.
    """
    words = position.split()
    declined = []
    for index, word in enumerate(words):
        lower = word.lower()
        if re.search(r"(ый|ой)$", lower):
            declined.append(word[:-2] + "ого")
        elif re.search(r"[жшчщ]ий$", lower) or lower.endswith("ний"):
            declined.append(word[:-2] + "его")
        elif lower.endswith("ий"):
            declined.append(word[:-2] + "ого")
        else:
            declined.append(_noun_genitive(word))
            return " ".join(declined + words[index + 1:])
    return " ".join(declined)


def _noun_genitive(word: str) -> str:
    lower = word.lower()
    if lower.endswith(("ь", "й")):
        return word[:-1] + "я"
    if lower.endswith("а"):
        return word[:-1] + ("и" if lower[-2:-1] in "гкхжчшщ" else "ы")
    if lower.endswith("я"):
        return word[:-1] + "и"
    if re.search(r"[бвгджзклмнпрстфхцчшщ]$", lower):
        return word + "а"
    return word


_maker = PetrovichDeclinationMaker()
_detector = PetrovichGenderDetector()
_PARTS = (NamePart.LASTNAME, NamePart.FIRSTNAME, NamePart.MIDDLENAME)
_RUSSIAN_NAME = re.compile(r"[А-ЯЁ][а-яё]+(-[А-ЯЁ][а-яё]+)?")


def _person_gender(full_name: str) -> Gender:
    parts = full_name.split()
    if len(parts) < 2:
        return Gender.MALE
    gender = _detector.detect(firstname=parts[1], middlename=parts[2] if len(parts) > 2 else None)
    return gender if gender != Gender.ANDROGYNOUS else Gender.MALE


def genitive_name(full_name: str) -> str:
    """«Иванова Мария Ивановна» → «Ивановой Марии Ивановны» (surname, name, patronymic)."""
    parts = full_name.split()
    if not 2 <= len(parts) <= 3 or not all(_RUSSIAN_NAME.fullmatch(part) for part in parts):
        return full_name  # initials, a foreign or an odd name: printed as typed, not guessed
    gender = _person_gender(full_name)
    return " ".join("-".join(_maker.make(kind, gender, Case.GENITIVE, piece) for piece in part.split("-"))
                    for kind, part in zip(_PARTS, parts))


def _form_gender(legal_name: str, person: str) -> str:
    form, _ = legal_form(legal_name)
    kind = next((gender for _, short, gender in LEGAL_FORMS if short == form), "n")
    if kind == "person":
        return "f" if _person_gender(person) == Gender.FEMALE else "m"
    return kind


def _agree(stem: str, gender, adjective_case: str = "nom") -> str:
    """«именуемое / именуемый / именуемая»; in the genitive «действующего / действующей»."""
    if adjective_case == "gen":
        return stem + ("ей" if gender == Gender.FEMALE else "его")
    return stem + {"n": "ее" if stem.endswith("щ") else "ое", "f": "ая", "m": "ий" if stem.endswith("щ") else "ый"}[gender]
