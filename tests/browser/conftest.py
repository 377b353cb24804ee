"""Browser fixtures: the per-test app served on a free port, one Chromium per session, a fresh
context per test that fails the test on any console error, and helpers to log in and run axe."""

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import TEST_PASSWORD

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-4.11.1.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 800}

# Several test runs may share a small machine: give assertions the same 10 s as actions.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items) -> None:
    """Every test in this folder drives Chromium: ``-m "not browser"`` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_env() -> dict[str, str]:
    """The browser is the user's machine, with a clock of its own: a suite run under ``faketime``
    (the server's clock moved to a hard date) does not pass the fake clock on, which every Chromium
    child process would restart from the same instant and which stalls its animations."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


@dataclass
class LiveServer:
    url: str


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates shared by the per-test apps (keyed by source checksum, so edits apply)."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _MemoryBytecodeCache()


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The test's ``app`` served by a threaded Werkzeug server on 127.0.0.1 and a free port."""
    app.jinja_env.bytecode_cache = _TEMPLATES
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the whole run (Debian's: no downloads)."""
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (make test-deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, env=_browser_env())
        yield browser
        browser.close()


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions seen by the pages of one test.

    A page that answers 4xx makes Chromium log «Failed to load resource … status of 404»; a test
    that means to get such an answer says so with ``expect_status(404)``.
    """

    errors: list[str] = field(default_factory=list)
    expected: set[int] = field(default_factory=set)

    def expect_status(self, *codes: int) -> None:
        self.expected.update(codes)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not self._is_expected(e)]

    def _is_expected(self, message: str) -> bool:
        match = re.search(r"Failed to load resource: the server responded with a status of (\d+)", message)
        return bool(match) and int(match.group(1)) in self.expected


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def new_page(browser, live_server, console) -> Iterator[Callable[..., Page]]:
    """Factory: a page in a new context (its own cookies), Russian locale, 1366×800.

    Every console error and page error is recorded; the test fails at teardown if any occurred,
    so a Content-Security-Policy violation or a broken script fails the test that met it.
    """
    contexts = []

    def make(**options) -> Page:
        # Reduced motion: Bootstrap then has no transitions, so axe never measures a button mid-fade.
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", viewport=VIEWPORT,
                                      timezone_id="Europe/Moscow", reduced_motion="reduce", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and console.errors.append(
            f"console error on {page.url}: {msg.text} ({msg.location.get('url', '')})"))
        page.on("pageerror", lambda error: console.errors.append(f"page error on {page.url}: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()
    if unexpected := console.unexpected():
        pytest.fail("The browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


@pytest.fixture(scope="session")
def login() -> Callable[..., None]:
    """``login(page, user)``: log in through the real form and wait for the page after it."""

    def log_in(page: Page, user, password: str = TEST_PASSWORD) -> None:
        page.goto("/login")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Пароль").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Войти").click()
        assert "/login" not in page.url, f"login as {user.email} failed"

    return log_in


class Violations(list):
    """Axe violations; printed as lines a person can act on."""

    def __str__(self) -> str:
        lines = []
        for v in self:
            lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"][:5]:
                summary = (node.get("failureSummary") or "").strip().splitlines()
                lines.append(f"    {', '.join(map(str, node['target']))}: {summary[-1].strip() if summary else ''}")
        return "\n".join(lines)


@pytest.fixture(scope="session")
def axe() -> Callable[[Page], Violations]:
    """``axe(page)``: run axe-core with the WCAG 2.1 A/AA rules; returns the violations.

    Our CSP (``script-src 'self'``) refuses an injected ``<script>`` tag, so the vendored file is
    evaluated through the DevTools protocol, which the page's CSP does not govern.
    """
    source = AXE_SCRIPT.read_text(encoding="utf-8")

    def run(page: Page) -> Violations:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(f"() => {{ {source}\n}}")
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            WCAG_21_AA)
        return Violations(result["violations"])

    return run

