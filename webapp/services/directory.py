"""Sign-in with the company directory (LDAP / Active Directory), and keeping its accounts in step.

The rules this module enforces, and the only place they live:

- Which check a login gets (``authenticate``): ``LDAP_MODE`` «local» checks AccountDesk's own
  passwords only; «both» keeps local accounts local and sends everyone else to the directory;
  «directory» sends everyone to the directory except local admins (the break-glass login). An
  account has one source: a directory account is never checked against a local password, and a
  directory that does not answer is a refusal, never a reason to try something weaker.
- A person signs in when the service account finds exactly one entry for what they typed, the
  entry is not disabled, a bind with their own password succeeds (an empty password is refused
  before any bind: many servers let an unauthenticated bind «succeed»), and they are in a group
  mapped to a role; several groups give the strongest role.
- The first sign-in creates the AccountDesk account from the directory; every sign-in and every
  ``flask ldap-sync`` refreshes its name, position, e-mail, phone and role, and the audit log names
  the directory entry the change came from. ``ldap-sync`` deactivates, and ends every session of,
  an account the directory disabled, deleted or took out of every mapped group. An account switched
  off in AccountDesk stays off until an admin turns it back on.
- What the user typed is escaped before it enters a filter; no directory password is stored or
  written to a log.
"""

import logging
import math
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ldap3
import sqlalchemy as sa
from flask import current_app
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from webapp.extensions import db
from webapp.models import Role, User
from webapp.models.audit import log_event, tag_action
from webapp.models.types import utcnow
from webapp.models.users import AccountSource
from webapp.services import ServiceError
from webapp.services import users as user_service

log = logging.getLogger("accountdesk.directory")

MODES = {"local": "только локальные учётные записи",
         "directory": "только каталог (локальный вход — для администраторов)",
         "both": "каталог и локальные учётные записи"}

# What each kind of directory calls things, for every setting left unset.
PRESETS: dict[str, dict[str, Any]] = {
    "ad": {
        "label": "Active Directory",
        "user_filter": "(&(objectCategory=person)(objectClass=user)"
                       "(|(sAMAccountName={login})(userPrincipalName={login})(mail={login})))",
        # LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups too.
        "group_filter": "(member:1.2.840.113556.1.4.1941:={dn})",
        # userAccountControl bit 2 (ACCOUNTDISABLE), by LDAP_MATCHING_RULE_BIT_AND.
        "disabled_filter": "(userAccountControl:1.2.840.113556.1.4.803:=2)",
        "id_attribute": "objectGUID",
    },
    "openldap": {
        "label": "OpenLDAP / FreeIPA / 389 DS",
        "user_filter": "(&(objectClass=inetOrgPerson)(|(uid={login})(mail={login})))",
        "group_filter": "(|(member={dn})(uniqueMember={dn}))",
        # ppolicy's lock (an administrative lock is «000001010000Z»); FreeIPA: (nsAccountLock=TRUE).
        "disabled_filter": "(pwdAccountLockedTime=*)",
        "id_attribute": "entryUUID",
    },
}
DEFAULT_ATTRIBUTES = {"full_name": "displayName", "position": "title", "email": "mail",
                      "phone": "telephoneNumber"}
ATTRIBUTE_LABELS = {"full_name": "ФИО", "position": "Должность", "email": "E-mail", "phone": "Телефон"}

# Several mapped groups: the first role of this list that the person has wins.
ROLE_STRENGTH = [Role.ADMIN, Role.MANAGER, Role.LEAD, Role.ACCOUNTANT, Role.SPECIALIST]

# A directory account has no local password: a value no password hash can ever match.
NO_LOCAL_PASSWORD = "!directory"

UNAVAILABLE = ("Каталог пользователей (LDAP) сейчас недоступен, поэтому войти не получится. "
               "Попробуйте через несколько минут или обратитесь к администратору.")
MISCONFIGURED = "Вход через каталог пользователей настроен неверно. Обратитесь к администратору."
NO_GROUP = ("Вход в AccountDesk вам не открыт: в каталоге ваша учётная запись не входит ни в одну "
            "группу AccountDesk. Обратитесь к администратору.")
NO_EMAIL = ("В каталоге у вашей учётной записи не указан e-mail, а без него AccountDesk не может её "
            "завести. Обратитесь к администратору.")
EMAIL_TAKEN = ("E-mail вашей учётной записи в каталоге уже занят другой учётной записью AccountDesk. "
               "Обратитесь к администратору.")
SIMULTANEOUS = "Учётная запись как раз создаётся другим входом. Попробуйте войти ещё раз."
LOCAL_ADMIN = ("Этот e-mail принадлежит локальной учётной записи администратора AccountDesk: "
               "войдите с этим e-mail и паролем AccountDesk.")


class SignInRefused(ServiceError):
    """A refusal the person should read as it is (not the generic «wrong login or password»)."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message, field="password")
        self.status = status


class DirectoryError(Exception):
    """The directory could not be asked: no server answered, TLS failed, the service account or
    the configuration was refused. ``detail`` is for the log and the admin, not for the user."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The ``LDAP_*`` configuration with the preset applied, and what is wrong with it."""

    mode: str
    schema: str
    urls: tuple[str, ...]
    start_tls: bool
    ca_file: str | None
    bind_dn: str
    bind_password: str = field(repr=False)
    base_dn: str
    user_filter: str
    group_filter: str
    disabled_filter: str
    id_attribute: str
    attributes: dict[str, str]
    group_roles: dict[str, Role]
    connect_timeout: int
    timeout: int  # whole seconds: ldap3 packs it into a socket option
    problems: tuple[str, ...]

    @classmethod
    def from_config(cls, config) -> "Settings":
        problems = []
        mode = str(config.get("LDAP_MODE") or "local").strip().lower()
        if mode not in MODES:
            problems.append(f"LDAP_MODE «{mode}»: допустимы {', '.join(MODES)}.")
        schema = str(config.get("LDAP_SCHEMA") or "ad").strip().lower()
        if schema not in PRESETS:
            problems.append(f"LDAP_SCHEMA «{schema}»: допустимы {', '.join(PRESETS)}.")
            schema = "ad"
        preset = PRESETS[schema]
        urls = config.get("LDAP_URLS") or []
        if isinstance(urls, str):  # ACCOUNTDESK_LDAP_URLS="ldaps://dc1 ldaps://dc2" is not JSON
            urls = urls.replace(",", " ").split()
        urls = tuple(str(url).strip() for url in urls if str(url).strip())
        for url in urls:
            if not url.lower().startswith(("ldap://", "ldaps://")):
                problems.append(f"Адрес сервера «{url}» должен начинаться с ldap:// или ldaps://.")
        base_dn = str(config.get("LDAP_BASE_DN") or "").strip()
        if mode != "local":
            if not urls:
                problems.append("Не заданы адреса серверов каталога (LDAP_URLS).")
            if not base_dn:
                problems.append("Не задан базовый DN поиска (LDAP_BASE_DN).")
        roles: dict[str, Role] = {}
        for group, role in dict(config.get("LDAP_GROUP_ROLES") or {}).items():
            try:
                roles[str(group).strip()] = Role(str(role).strip().lower())
            except ValueError:
                problems.append(f"Группе «{group}» назначена неизвестная роль «{role}»: допустимы "
                                f"{', '.join(r.value for r in Role)}.")
        if mode != "local" and not roles:
            problems.append("Ни одна группа каталога не сопоставлена роли (LDAP_GROUP_ROLES): войти "
                            "через каталог не сможет никто.")
        user_filter = config.get("LDAP_USER_FILTER") or preset["user_filter"]
        if "{login}" not in user_filter:
            problems.append("Фильтр пользователей (LDAP_USER_FILTER) должен содержать {login}.")
        group_filter = config.get("LDAP_GROUP_FILTER") or preset["group_filter"]
        if "{dn}" not in group_filter:
            problems.append("Фильтр групп (LDAP_GROUP_FILTER) должен содержать {dn}.")
        attributes = {**DEFAULT_ATTRIBUTES, **dict(config.get("LDAP_ATTRIBUTES") or {})}
        unknown = set(attributes) - set(DEFAULT_ATTRIBUTES)
        if unknown:
            problems.append(f"LDAP_ATTRIBUTES: неизвестные поля {', '.join(sorted(unknown))}; "
                            f"допустимы {', '.join(DEFAULT_ATTRIBUTES)}.")
        return cls(
            mode=mode, schema=schema, urls=urls,
            start_tls=bool(config.get("LDAP_START_TLS", True)),
            ca_file=config.get("LDAP_CA_FILE") or None,
            bind_dn=str(config.get("LDAP_BIND_DN") or "").strip(),
            bind_password=str(config.get("LDAP_BIND_PASSWORD") or ""),
            base_dn=base_dn, user_filter=user_filter, group_filter=group_filter,
            disabled_filter=config.get("LDAP_DISABLED_FILTER") or preset["disabled_filter"],
            id_attribute=config.get("LDAP_ID_ATTRIBUTE") or preset["id_attribute"],
            attributes={k: v for k, v in attributes.items() if k in DEFAULT_ATTRIBUTES},
            group_roles=roles,
            connect_timeout=max(1, math.ceil(float(config.get("LDAP_CONNECT_TIMEOUT") or 5))),
            timeout=max(1, math.ceil(float(config.get("LDAP_TIMEOUT") or 10))),
            problems=tuple(problems),
        )

    @property
    def enabled(self) -> bool:
        return self.mode in ("directory", "both")

    @property
    def plaintext_urls(self) -> list[str]:
        """Servers a password would reach unencrypted."""
        return [] if self.start_tls else [u for u in self.urls if u.lower().startswith("ldap://")]

    def rows(self) -> list[tuple[str, str]]:
        """The settings in force, as the admin page shows them: the password never."""
        transport = "StartTLS" if self.start_tls else "без StartTLS"
        return [
            ("Режим входа", f"{self.mode}: {MODES.get(self.mode, 'неизвестный режим')}"),
            ("Тип каталога", PRESETS[self.schema]["label"]),
            ("Серверы (по порядку)", ", ".join(self.urls) or "—"),
            ("Шифрование", f"ldaps:// — TLS сразу; ldap:// — {transport}; сертификат проверяется"),
            ("Корневой сертификат (CA)", self.ca_file or "системные сертификаты"),
            ("Сервисная учётная запись", self.bind_dn or "анонимный поиск"),
            ("Пароль сервисной учётной записи", "задан (скрыт)" if self.bind_password else "не задан"),
            ("Базовый DN", self.base_dn or "—"),
            ("Фильтр пользователей", self.user_filter),
            ("Фильтр групп", self.group_filter),
            ("Фильтр отключённых", self.disabled_filter),
            ("Идентификатор", self.id_attribute),
            *((f"Атрибут: {ATTRIBUTE_LABELS[k]}", v) for k, v in self.attributes.items()),
            ("Тайм-ауты", f"соединение {self.connect_timeout} с, ответ {self.timeout} с"),
        ]


def settings() -> Settings:
    return Settings.from_config(current_app.config)


# --- talking to the directory -------------------------------------------------------------------


@dataclass
class Person:
    """What the directory says about one person, in AccountDesk's terms."""

    dn: str
    directory_id: str
    full_name: str
    position: str
    email: str
    phone: str
    disabled: bool = False
    groups: list[str] = field(default_factory=list)  # the mapped groups they are in
    role: Role | None = None


def _filter(template: str, **values: str) -> str:
    """Fill ``{login}``/``{dn}`` with escaped values (str.format would trip over other braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", escape_filter_chars(value))
    return template


def _server(s: Settings, url: str) -> ldap3.Server:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.ca_file)
    return ldap3.Server(url, get_info=ldap3.NONE, tls=tls, connect_timeout=s.connect_timeout)


def _open(s: Settings, server: ldap3.Server, user: str | None, password: str | None) -> ldap3.Connection:
    """A bound connection; TLS (ldaps or StartTLS) is up before any password is sent."""
    conn = ldap3.Connection(server, user=user or None, password=password if user else None,
                            authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
                            raise_exceptions=True, receive_timeout=s.timeout, read_only=True,
                            auto_referrals=False)
    try:
        conn.open()
        if s.start_tls and not server.ssl:
            conn.start_tls()
        conn.bind()
    except BaseException:
        _close(conn)
        raise
    return conn


def _close(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except (ldap_errors.LDAPException, OSError):
        pass


@contextmanager
def service_connection(s: Settings | None = None) -> Iterator[ldap3.Connection]:
    """The service account's connection to the first server that answers, in ``LDAP_URLS`` order."""
    s = s or settings()
    if s.problems:
        raise DirectoryError("настройки каталога неверны: " + " ".join(s.problems))
    failures = []
    for url in s.urls:
        try:
            conn = _open(s, _server(s, url), s.bind_dn, s.bind_password)
        except ldap_errors.LDAPInvalidCredentialsResult:
            # The same account on every server: do not lock it out by trying them all.
            raise DirectoryError(f"{url}: сервисная учётная запись {s.bind_dn or '(анонимно)'} не принята "
                                 "(неверный DN или пароль)") from None
        except (ldap_errors.LDAPException, OSError) as error:
            failures.append(f"{url}: {_describe(error)}")
            log.warning("directory server %s failed: %s", url, _describe(error))
            continue
        try:
            yield conn
        except (ldap_errors.LDAPException, OSError) as error:
            raise DirectoryError(f"{url}: {_describe(error)}") from None
        finally:
            _close(conn)
        return
    raise DirectoryError("; ".join(failures) or "не задан ни один сервер")


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(error, ldap_errors.LDAPCertificateError):
        return f"сертификат сервера не прошёл проверку ({text})"
    if isinstance(error, (ldap_errors.LDAPSocketReceiveError, ldap_errors.LDAPResponseTimeoutError)):
        return f"сервер не ответил вовремя ({text})"
    return text


def _values(raw: dict, name: str) -> list[bytes]:
    for key, values in raw.items():
        if key.lower() == name.lower():
            return list(values)
    return []


def _text(raw: dict, name: str, limit: int) -> str:
    values = _values(raw, name) if name else []
    return values[0].decode("utf-8", "replace").strip()[:limit] if values else ""


def _identifier(raw: dict, attribute: str) -> str | None:
    values = _values(raw, attribute)
    if not values:
        return None
    if attribute.lower() == "objectguid":  # 16 bytes, little-endian in its first three fields
        return str(uuid.UUID(bytes_le=values[0]))
    return values[0].decode("utf-8").strip().lower()


def _id_filter(s: Settings, directory_id: str) -> str:
    if s.id_attribute.lower() == "objectguid":
        escaped = "".join("\\%02x" % byte for byte in uuid.UUID(directory_id).bytes_le)
        return f"(objectGUID={escaped})"
    return f"({s.id_attribute}={escape_filter_chars(directory_id)})"


def _entries(conn: ldap3.Connection) -> list[dict]:
    return [r for r in conn.response or [] if r.get("type") == "searchResEntry"]


def _search_person(conn: ldap3.Connection, s: Settings, search_filter: str) -> list[Person]:
    attributes = sorted({*filter(None, s.attributes.values()), s.id_attribute, "cn"})
    conn.search(s.base_dn, search_filter, ldap3.SUBTREE, attributes=attributes, size_limit=2)
    people = []
    for entry in _entries(conn):
        raw = entry["raw_attributes"]
        directory_id = _identifier(raw, s.id_attribute)
        if directory_id is None:
            log.warning("directory entry %s has no %s: skipped", entry["dn"], s.id_attribute)
            continue
        people.append(Person(
            dn=entry["dn"], directory_id=directory_id,
            full_name=_text(raw, s.attributes["full_name"], 200) or _text(raw, "cn", 200),
            position=_text(raw, s.attributes["position"], 200),
            email=_text(raw, s.attributes["email"], 254).lower(),
            phone=_text(raw, s.attributes["phone"], 40)))
    return people


def _complete(conn: ldap3.Connection, s: Settings, person: Person) -> Person:
    """Add what the directory says about the person's lock and groups, and the role they give."""
    conn.search(person.dn, s.disabled_filter, ldap3.BASE, attributes=["1.1"])
    person.disabled = bool(_entries(conn))
    person.groups = []
    for group in s.group_roles:
        try:
            conn.search(group, _filter(s.group_filter, dn=person.dn), ldap3.BASE, attributes=["1.1"])
        except ldap_errors.LDAPNoSuchObjectResult:
            log.warning("mapped directory group %s does not exist", group)
            continue
        if _entries(conn):
            person.groups.append(group)
    roles = {s.group_roles[g] for g in person.groups}
    person.role = next((r for r in ROLE_STRENGTH if r in roles), None)
    return person


def normalize_login(login: str) -> str:
    """«CORP\\ivanova» → «ivanova»; an e-mail and «ivanova@corp.example» stay as typed."""
    return login.strip().rpartition("\\")[2].strip()


def find_person(conn: ldap3.Connection, s: Settings, login: str) -> Person | None:
    """The one entry the user filter finds for ``login``; none, or an ambiguous login, is None."""
    login = normalize_login(login)
    if not login:
        return None
    people = _search_person(conn, s, _filter(s.user_filter, login=login))
    if len(people) > 1:
        log.warning("directory login %r matches several entries: refused", login[:254])
        return None
    return _complete(conn, s, people[0]) if people else None


def _password_accepted(s: Settings, server: ldap3.Server, dn: str, password: str) -> bool:
    """A bind as the person, on the server that answered the search."""
    if not password:  # an unauthenticated bind «succeeds» on many servers: never send one
        return False
    try:
        conn = _open(s, server, dn, password)
    except ldap_errors.LDAPOperationResult as error:  # invalidCredentials, AD's 533/775 and the like
        log.info("directory bind refused for %s: %s", dn, error.description)
        return False
    except (ldap_errors.LDAPException, OSError) as error:
        raise DirectoryError(f"{server.host}: {_describe(error)}") from None
    _close(conn)
    return True


@dataclass
class Lookup:
    """What the directory says about a login, for the admin page and ``flask ldap-check``."""

    person: Person | None
    account: User | None = None  # the account a sign-in would use (or take over, by e-mail)


def look_up(login: str) -> Lookup:
    """The directory entry behind ``login`` and the role it would get; no password is checked.
    Raises ``DirectoryError`` when the directory cannot be asked."""
    s = settings()
    with service_connection(s) as conn:
        person = find_person(conn, s, login)
    if person is None:
        return Lookup(None)
    return Lookup(person, _account_of(person) or (user_service.find_by_email(person.email) if person.email else None))


@dataclass
class Check:
    ok: bool
    text: str


def check_connection() -> list[Check]:
    """Can AccountDesk reach the directory, bind as the service account, and see the base DN and
    every mapped group? One line per step, for the admin page."""
    s = settings()
    checks = [Check(False, problem) for problem in s.problems]
    if s.problems:
        return checks
    try:
        with service_connection(s) as conn:
            server = conn.server
            tls = "ldaps" if server.ssl else ("StartTLS" if conn.tls_started else "без шифрования")
            checks.append(Check(True, f"Сервер {server.host}:{server.port} отвечает, соединение: {tls}."))
            checks.append(Check(True, f"Сервисная учётная запись принята: {s.bind_dn or 'анонимный поиск'}."))
            checks.append(_exists(conn, s.base_dn, "Базовый DN"))
            checks.extend(_exists(conn, group, f"Группа ({s.group_roles[group].label})")
                          for group in s.group_roles)
    except DirectoryError as error:
        checks.append(Check(False, f"Каталог недоступен: {error.detail}"))
    return checks


def _exists(conn: ldap3.Connection, dn: str, what: str) -> Check:
    if _found(conn, dn):
        return Check(True, f"{what} найден(а): {dn}")
    return Check(False, f"{what} не найден(а) в каталоге: {dn}")


def _found(conn: ldap3.Connection, dn: str) -> bool:
    try:
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["1.1"])
    except ldap_errors.LDAPNoSuchObjectResult:
        return False
    return bool(_entries(conn))


# --- signing in ---------------------------------------------------------------------------------


def authenticate(login: str, password: str, address: str) -> User | None:
    """The user signed in by ``login`` and ``password``, per ``LDAP_MODE``; None for a wrong login
    or password (the generic message); ``SignInRefused`` for a refusal to explain."""
    s = settings()
    if s.mode == "local":
        return user_service.authenticate(login, password, address)
    local = user_service.find_by_email(login)
    if local is not None and local.source == AccountSource.LOCAL and (
            s.mode == "both" or local.role == Role.ADMIN):
        return user_service.authenticate(login, password, address)
    if s.problems:
        log.error("directory sign-in misconfigured: %s", " ".join(s.problems))
        _failed(login, address, "каталог настроен неверно")
        raise SignInRefused(MISCONFIGURED, 503)
    return _sign_in_with_directory(s, login, password, address)


def _sign_in_with_directory(s: Settings, login: str, password: str, address: str) -> User | None:
    if not password:
        _failed(login, address, "пустой пароль")
        return None
    try:
        with service_connection(s) as conn:
            person = find_person(conn, s, login)
            if person is None:
                _failed(login, address, "нет в каталоге")
                return None
            if person.disabled:
                _failed(login, address, "отключена в каталоге")
                return None
            if not _password_accepted(s, conn.server, person.dn, password):
                _failed(login, address, "каталог: неверный пароль")
                return None
    except DirectoryError as error:
        log.error("directory sign-in of %r from %s failed: %s", login[:254], address, error.detail)
        _failed(login, address, "каталог недоступен")
        raise SignInRefused(UNAVAILABLE, 503) from None
    if person.role is None:
        _failed(login, address, "не входит в группы AccountDesk")
        raise SignInRefused(NO_GROUP)
    try:
        user = _account_for(person, login, address)
    except sa.exc.IntegrityError:  # the same person's first sign-in, twice at once: one wins
        db.session.rollback()
        _failed(login, address, "одновременный вход")
        raise SignInRefused(SIMULTANEOUS, 409) from None
    if not user.active:
        _failed(login, address, "отключена в AccountDesk")
        return None
    user.last_login_at = utcnow()
    log_event("users", user.id, user.full_name, "login",
              {"address": [None, address], "source": [None, f"каталог: {person.dn}"]})
    return user


def _failed(login: str, address: str, reason: str) -> None:
    log.warning("failed directory login for %r from %s: %s", login[:254], address, reason)
    log_event("users", None, login[:254], "login_failed",
              {"address": [None, address], "reason": [None, reason]})


def _account_of(person: Person) -> User | None:
    return db.session.scalar(sa.select(User).where(User.directory_id == person.directory_id))


def _account_for(person: Person, login: str, address: str) -> User:
    """The person's AccountDesk account: found by the directory identifier, or the local account
    with their e-mail taken over (never an admin's), or a new one; refreshed from the directory."""
    if not person.email or "@" not in person.email:
        _failed(login, address, "в каталоге нет e-mail")
        raise SignInRefused(NO_EMAIL)
    user = _account_of(person)
    if user is None:
        same_email = user_service.find_by_email(person.email)
        if same_email is not None and same_email.source == AccountSource.LOCAL and same_email.role == Role.ADMIN:
            _failed(login, address, "e-mail локального администратора")
            raise SignInRefused(LOCAL_ADMIN)
        if same_email is not None and same_email.source == AccountSource.DIRECTORY:
            _failed(login, address, "e-mail занят другой записью каталога")
            raise SignInRefused(EMAIL_TAKEN)
        user = same_email or User(email=person.email, active=True)
        if user.id is None:
            db.session.add(user)
        user.source, user.directory_id, user.password_hash = (AccountSource.DIRECTORY, person.directory_id,
                                                              NO_LOCAL_PASSWORD)
    if refresh_account(user, person) is None:
        _failed(login, address, "e-mail занят другой учётной записью")
        raise SignInRefused(EMAIL_TAKEN)
    db.session.flush()
    return user


def refresh_account(user: User, person: Person) -> list[str] | None:
    """Copy name, position, e-mail, phone and role from the directory; the fields that changed,
    or None (and nothing changed) when the directory's e-mail belongs to another account."""
    if person.email != user.email:
        other = user_service.find_by_email(person.email)
        if other is not None and other.id != user.id:
            log.warning("directory e-mail %s of %s is taken by user %s", person.email, person.dn, other.id)
            return None
    values = {"email": person.email, "full_name": person.full_name or person.email,
              "position": person.position, "phone": person.phone, "role": person.role}
    changed = {k: v for k, v in values.items() if getattr(user, k, None) != v}
    for key, value in changed.items():
        setattr(user, key, value)
    if user.id is None or changed or user in db.session.dirty:
        tag_action(user, "create" if user.id is None else "update", directory=person.dn)
    return list(changed)


# --- keeping accounts in step -------------------------------------------------------------------


@dataclass
class SyncReport:
    checked: int = 0
    updated: list[tuple[str, list[str]]] = field(default_factory=list)  # (account, changed fields)
    deactivated: list[tuple[str, str]] = field(default_factory=list)  # (account, why)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def sync_accounts() -> SyncReport:
    """Bring every active directory account in step with the directory (for cron: `flask
    ldap-sync`). Deactivates, and ends the sessions of, accounts disabled, deleted or out of every
    mapped group; refreshes the rest. Raises ``DirectoryError`` and changes nothing when the
    directory cannot be asked, or its base DN or a mapped group is not there, or not one account
    is found by its identifier: a typo in the settings must never look like «everyone left»."""
    s = settings()
    report = SyncReport()
    accounts = db.session.scalars(sa.select(User).where(
        User.source == AccountSource.DIRECTORY, User.active.is_(True), User.directory_id.is_not(None))
        .order_by(User.id)).all()
    with service_connection(s) as conn:
        for dn in (s.base_dn, *s.group_roles):
            if not _found(conn, dn):
                raise DirectoryError(f"{dn} не найден в каталоге: синхронизация остановлена")
        for user in accounts:
            report.checked += 1
            try:
                search_filter = _id_filter(s, user.directory_id)
            except ValueError:  # not a GUID: stored under another LDAP_ID_ATTRIBUTE
                report.skipped.append((user.email, f"идентификатор {user.directory_id!r} не подходит к "
                                                   f"{s.id_attribute}"))
                continue
            people = _search_person(conn, s, search_filter)
            person = _complete(conn, s, people[0]) if people else None
            if person is None:
                _deactivate(user, "нет в каталоге", report)
            elif person.disabled:
                _deactivate(user, "отключена в каталоге", report)
            elif person.role is None:
                _deactivate(user, "не входит в группы AccountDesk", report)
            elif (changed := refresh_account(user, person)) is None:
                report.skipped.append((user.email, f"e-mail {person.email} занят другой учётной записью"))
            elif changed:
                report.updated.append((user.email, changed))
    gone = [email for email, reason in report.deactivated if reason == "нет в каталоге"]
    if report.checked > 1 and len(gone) == report.checked:
        raise DirectoryError(f"ни одна учётная запись не найдена по {s.id_attribute}: проверьте "
                             "LDAP_ID_ATTRIBUTE и LDAP_BASE_DN; синхронизация остановлена")
    db.session.flush()
    return report


def _deactivate(user: User, reason: str, report: SyncReport) -> None:
    user.active = False
    user.end_sessions()
    tag_action(user, "deactivate", reason=f"каталог: {reason}")
    report.deactivated.append((user.email, reason))
    log.info("directory sync deactivated %s: %s", user.email, reason)

