"""A real OpenLDAP directory for the tests: Debian's slapd on a free loopback port.

One slapd per test session (``slapd`` fixture), started from a temporary ``slapd.conf`` with the
mdb backend and the ppolicy overlay (whose ``pwdAccountLockedTime`` marks a locked account), and a
test CA whose server certificate StartTLS presents. The ``directory`` fixture puts the seeded tree
back before each test, so a test may change names, groups and locks freely.

Import the fixtures into a test module: ``from tests.ldap_server import directory, ldap_app, slapd``.
"""

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BASE = "dc=corp,dc=example"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "slapd-root-secret"
SERVICE_DN = f"cn=accountdesk,ou=services,{BASE}"
SERVICE_PASSWORD = "service-account-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
PASSWORD = "Directory-Pass-42"  # every seeded person's password

MANAGERS = f"cn=AccountDesk-Managers,{GROUPS}"
ADMINS = f"cn=AccountDesk-Admins,{GROUPS}"
ACCOUNTANTS = f"cn=AccountDesk-Accountants,{GROUPS}"
STAFF = f"cn=Staff,{GROUPS}"  # a group AccountDesk does not map
GROUP_ROLES = {MANAGERS: "manager", ADMINS: "admin", ACCOUNTANTS: "accountant"}

# uid → (displayName, title, mail, phone); the groups are below.
PEOPLE_SEED = {
    "ivanova": ("Иванова Мария Сергеевна", "Аккаунт-менеджер", "ivanova@corp.example", "+7 495 100-00-01"),
    "petrov": ("Петров Олег Игоревич", "Руководитель отдела", "petrov@corp.example", "+7 495 100-00-02"),
    "sidorov": ("Сидоров Илья Павлович", "Инженер", "sidorov@corp.example", ""),
    "kozlova": ("Козлова Анна Викторовна", "Аккаунт-менеджер", "kozlova@corp.example", ""),
    "smirnova": ("Смирнова Ольга Ивановна", "Главный бухгалтер", "smirnova@corp.example", ""),
}
GROUPS_SEED = {
    MANAGERS: ["ivanova", "petrov", "kozlova"],
    ADMINS: ["petrov"],
    ACCOUNTANTS: ["smirnova"],
    STAFF: ["sidorov", "ivanova"],
}
LOCKED = {"kozlova"}
NOBODY = f"cn=nobody,{BASE}"  # ppolicy: an administrative lock


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


@dataclass
class Certificates:
    ca_file: Path  # the CA that signed the server's certificate
    other_ca_file: Path  # a CA that did not: a client trusting only it must refuse the server
    cert_file: Path
    key_file: Path


@dataclass
class Slapd:
    url: str  # ldap:// (plain, or StartTLS)
    ldaps_url: str  # TLS from the first byte
    certs: Certificates

    def admin(self) -> ldap3.Connection:
        """A connection as the directory's root, for seeding and for changes a test makes."""
        return ldap3.Connection(ldap3.Server(self.url, connect_timeout=5), ADMIN_DN, ADMIN_PASSWORD,
                                auto_bind=True, raise_exceptions=True, receive_timeout=10)

    def config(self, **overrides) -> dict:
        """AccountDesk's settings for this directory (OpenLDAP, plain LDAP on loopback)."""
        settings = {
            "LDAP_MODE": "both",
            "LDAP_SCHEMA": "openldap",
            "LDAP_URLS": [self.url],
            "LDAP_START_TLS": False,
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_BASE_DN": BASE,
            "LDAP_GROUP_ROLES": dict(GROUP_ROLES),
            "LDAP_CONNECT_TIMEOUT": 3,
            "LDAP_TIMEOUT": 5,
        }
        settings.update(overrides)
        return settings

    def reset(self) -> None:
        """The seeded tree, as at the start: what one test changed is gone for the next."""
        with self.admin() as conn:
            for base in (PEOPLE, GROUPS):
                conn.search(base, "(objectClass=*)", ldap3.LEVEL, attributes=[])
                for entry in conn.entries:
                    conn.delete(entry.entry_dn)
            for uid, (name, title, mail, phone) in PEOPLE_SEED.items():
                attributes = {"uid": uid, "cn": name, "sn": name.split()[0], "displayName": name,
                              "title": title, "mail": mail, "userPassword": PASSWORD}
                if phone:
                    attributes["telephoneNumber"] = phone
                conn.add(person_dn(uid), ["inetOrgPerson"], attributes)
                if uid in LOCKED:
                    self.lock(uid, conn)
            for dn, members in GROUPS_SEED.items():
                # groupOfNames needs a member: a placeholder keeps a group valid when a test empties it
                conn.add(dn, ["groupOfNames"], {"member": [NOBODY] + [person_dn(uid) for uid in members]})

    def lock(self, uid: str, conn: ldap3.Connection | None = None) -> None:
        """Lock an account the way an OpenLDAP admin does (ppolicy's permanent lock)."""
        self._modify(conn, person_dn(uid), {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, ["000001010000Z"])]})

    def set_groups(self, uid: str, *groups: str) -> None:
        """Put a person into exactly these groups (of the seeded ones)."""
        with self.admin() as conn:
            for group in GROUPS_SEED:
                member = self._is_member(conn, group, uid)
                if member and group not in groups:
                    conn.modify(group, {"member": [(ldap3.MODIFY_DELETE, [person_dn(uid)])]})
                elif not member and group in groups:
                    conn.modify(group, {"member": [(ldap3.MODIFY_ADD, [person_dn(uid)])]})

    def set_attribute(self, uid: str, name: str, value: str) -> None:
        self._modify(None, person_dn(uid), {name: [(ldap3.MODIFY_REPLACE, [value])]})

    def _modify(self, conn, dn, changes) -> None:
        if conn is None:
            with self.admin() as own:
                own.modify(dn, changes)
        else:
            conn.modify(dn, changes)

    @staticmethod
    def _is_member(conn, group: str, uid: str) -> bool:
        conn.search(group, f"(member={ldap3.utils.conv.escape_filter_chars(person_dn(uid))})",
                    ldap3.BASE, attributes=[])
        return bool(conn.entries)


def _slapd_binary() -> str | None:
    return shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    """A loopback port nobody listens on (yet): for slapd, or for a directory that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_certificates(folder: Path) -> Certificates:
    """A test CA, a server certificate it signs for 127.0.0.1 and localhost, and a stranger CA."""
    # OpenSSL checks validity against the machine's clock, not the tests' travelled one: a window
    # wide enough for both keeps the certificates valid on any date the suite runs or travels to.
    now = datetime.datetime.now(datetime.timezone.utc)
    valid_from, valid_to = now - datetime.timedelta(days=3650), now + datetime.timedelta(days=3650)

    def ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(valid_from)
                .not_valid_after(valid_to)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = ca("AccountDesk Test CA")
    _, other_cert = ca("Somebody Else's CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                   .issuer_name(ca_cert.subject).public_key(server_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(valid_from)
                   .not_valid_after(valid_to)
                   .add_extension(x509.SubjectAlternativeName([
                       x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    certs = Certificates(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem", folder / "server.key")
    certs.ca_file.write_bytes(ca_cert.public_bytes(pem))
    certs.other_ca_file.write_bytes(other_cert.public_bytes(pem))
    certs.cert_file.write_bytes(server_cert.public_bytes(pem))
    certs.key_file.write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    certs.key_file.chmod(0o600)
    return certs


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCACertificateFile {certs.ca_file}
TLSCertificateFile {certs.cert_file}
TLSCertificateKeyFile {certs.key_file}

database mdb
maxsize 67108864
suffix "{base}"
rootdn "{admin_dn}"
rootpw {admin_password}
directory {folder}/data
overlay ppolicy
# Passwords: only for binding. The service account reads the tree; a person reads themselves;
# an anonymous client reads nothing.
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by dn.exact="{service_dn}" read
  by self read
  by * none
"""

BASE_ENTRIES = [
    (BASE, ["dcObject", "organization"], {"dc": "corp", "o": "Корпорация"}),
    (PEOPLE, ["organizationalUnit"], {"ou": "people"}),
    (GROUPS, ["organizationalUnit"], {"ou": "groups"}),
    (f"ou=services,{BASE}", ["organizationalUnit"], {"ou": "services"}),
    (SERVICE_DN, ["applicationProcess", "simpleSecurityObject"],
     {"cn": "accountdesk", "userPassword": SERVICE_PASSWORD}),
]


@pytest.fixture(scope="session")
def slapd(tmp_path_factory) -> Iterator[Slapd]:
    """slapd on a free loopback port with a temporary configuration; stopped after the run."""
    binary = _slapd_binary()
    if binary is None or not Path("/usr/lib/ldap/back_mdb.so").exists():
        pytest.skip("slapd is not installed here: apt-get install slapd ldap-utils (.ci/run does it)")
    folder = tmp_path_factory.mktemp("slapd")
    (folder / "data").mkdir()
    certs = _write_certificates(folder)
    (folder / "slapd.conf").write_text(SLAPD_CONF.format(
        folder=folder, certs=certs, base=BASE, admin_dn=ADMIN_DN, admin_password=ADMIN_PASSWORD,
        service_dn=SERVICE_DN))
    log = (folder / "slapd.log").open("wb")
    for attempt in range(3):  # another process may take a port between probing and binding
        port, tls_port = free_port(), free_port()
        url, ldaps_url = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{tls_port}"
        # -d keeps slapd in the foreground (so it is our child to stop); no stdin on CI machines.
        process = subprocess.Popen([binary, "-f", str(folder / "slapd.conf"), "-h", f"{url}/ {ldaps_url}/",
                                    "-d", "0"],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "LANG": "C.UTF-8"})
        if _wait_for_port(port, process) and _wait_for_port(tls_port, process):
            break
        process.kill()
        process.wait()
    else:
        pytest.fail("slapd did not start:\n" + (folder / "slapd.log").read_text(errors="replace")[-3000:])
    server = Slapd(url=url, ldaps_url=ldaps_url, certs=certs)
    try:
        with server.admin() as conn:
            for dn, classes, attributes in BASE_ENTRIES:
                conn.add(dn, classes, attributes)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture
def directory(slapd) -> Slapd:
    """The directory with its seeded tree, fresh for this test."""
    slapd.reset()
    return slapd


@pytest.fixture
def ldap_app(app, directory):
    """The test's ``app`` signing in against the seeded directory (mode «both», plain LDAP)."""
    app.config.update(directory.config())
    return app
