"""Default configuration.

Overridden, in this order, by ``instance/config.py`` and by ``ACCOUNTDESK_*`` environment variables
(``ACCOUNTDESK_DATABASE_URL=postgresql+psycopg://…`` sets ``DATABASE_URL``; values are parsed as JSON
where they can be, so ``ACCOUNTDESK_SESSION_COOKIE_SECURE=true`` is a boolean).
"""

# Database: None means the SQLite file instance/accountdesk.sqlite3.
DATABASE_URL: str | None = None

# Werkzeug's scrypt with N=2**16 (64 MiB, about 0.1 s a hash): above OWASP's minimum for scrypt.
PASSWORD_HASH_METHOD = "scrypt:65536:8:1"
PASSWORD_MIN_LENGTH = 10

# Sessions and cookies. Secure cookies need HTTPS: switch on behind the company's TLS proxy.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "accountdesk_session"
PERMANENT_SESSION_LIFETIME = 12 * 3600
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"

# CSRF: tokens live as long as the session.
WTF_CSRF_TIME_LIMIT = None
WTF_CSRF_HEADERS = ["X-CSRFToken"]

# Uploads: a voice message or a scanned act fits; a video does not. A request may carry one
# file of the full size plus its form (the file itself is checked against ATTACHMENT_MAX_BYTES).
ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
MAX_CONTENT_LENGTH = ATTACHMENT_MAX_BYTES + 1024 * 1024
MAX_FORM_MEMORY_SIZE = 512 * 1024
MAX_FORM_PARTS = 200
UPLOAD_EXTENSIONS = [
    "pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "txt", "rtf", "csv",
    "png", "jpg", "jpeg", "gif", "webp",
    "ogg", "oga", "opus", "mp3", "m4a", "wav", "webm", "zip",
]

# Failed logins, counted per address and per account (memory:// is per process; point it at Redis
# with several gunicorn workers, e.g. "redis://127.0.0.1:6379").
RATELIMIT_STORAGE_URI = "memory://"
LOGIN_FAILURE_LIMIT = "20 per minute"
RATELIMIT_HEADERS_ENABLED = False

# Presentation.
TIMEZONE = "Europe/Moscow"
LOCALE = "ru_RU"
PER_PAGE = 50
BUDGETS_PER_PAGE = 20  # the budgets overview: a budget draws a row per block too, so some 60 rows

# Security headers.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
HSTS = False  # send Strict-Transport-Security; only behind HTTPS

# Benchmarks: count the SQL statements of each request into the X-Query-Count header (never in production).
QUERY_COUNT_HEADER = False

# Where `flask backup` finds pg_dump / pg_restore when PostgreSQL is used.
PG_DUMP = "pg_dump"
PG_RESTORE = "pg_restore"

# Sign-in with the company directory (LDAP / Active Directory); README «Вход через каталог»
# describes each setting with an Active Directory and an OpenLDAP example.
LDAP_MODE = "local"  # "local"; "directory" (local sign-in kept for admins); "both"
LDAP_SCHEMA = "ad"  # "ad" or "openldap": the preset for the filters, attributes and identifier left unset
LDAP_URLS: list[str] = []  # tried in order, e.g. ["ldaps://dc1.corp.example", "ldaps://dc2.corp.example"]
LDAP_START_TLS = True  # ldap:// URLs switch to TLS before any bind; ldaps:// is TLS from the start
LDAP_CA_FILE: str | None = None  # the CA that signed the servers' certificates (None: the system's CAs)
LDAP_BIND_DN = ""  # the service account that finds people; empty: an anonymous search
LDAP_BIND_PASSWORD = ""
LDAP_BASE_DN = ""
LDAP_USER_FILTER: str | None = None  # {login} becomes what the person typed, escaped
LDAP_GROUP_FILTER: str | None = None  # {dn} becomes the person's DN, escaped
LDAP_DISABLED_FILTER: str | None = None  # matches a person who may not sign in
LDAP_ID_ATTRIBUTE: str | None = None  # a stable identifier: objectGUID, entryUUID, ipaUniqueID…
LDAP_ATTRIBUTES: dict[str, str] = {}  # full_name, position, email, phone → the directory's attribute
LDAP_GROUP_ROLES: dict[str, str] = {}  # group DN → role; a person in several gets the strongest
LDAP_CONNECT_TIMEOUT = 5  # seconds to reach a server before trying the next one
LDAP_TIMEOUT = 10  # seconds to wait for an answer

# Mail through the company's SMTP server (README «Почта»). No MAIL_HOST or MAIL_SENDER: mail is
# off, and the pages offer the text to copy into a messenger instead.
MAIL_HOST = ""
MAIL_PORT = 587
MAIL_SECURITY = "starttls"  # "starttls" (port 587), "ssl" (port 465) or "none" (a relay on the LAN)
MAIL_USERNAME = ""  # empty: the server takes mail without a login
MAIL_PASSWORD = ""
MAIL_SENDER = ""  # the From address, e.g. "desk@company.ru"
MAIL_SENDER_NAME = "AccountDesk"  # the name beside it, Cyrillic allowed
MAIL_TIMEOUT = 10  # seconds to wait for the server at each step
MAIL_CA_FILE: str | None = None  # the CA that signed the server's certificate (None: the system's CAs)

# Links sent to people without an account (approve an estimate, confirm minutes).
LINKS_BASE_URL = ""  # how clients reach AccountDesk, e.g. "https://desk.company.ru"; empty: this request's host
LINKS_RATE_LIMIT = "30 per minute"  # per address, on the pages opened without login
