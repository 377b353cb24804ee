"""Break one rule at a time and see whether the tests notice.

    python tests/mutations.py                 # every mutation, each against the tests named for it
    python tests/mutations.py csp login-limit # some of them
    python tests/mutations.py --list

Each mutation replaces one exact piece of code in a copy of the checkout (the working tree is never
touched), runs the tests that should catch it (``-m "not browser"``; with TEST_DATABASE_URL set, on
PostgreSQL too) and says «caught» or «SURVIVED». Not in CI: it takes minutes. Run it before closing
an issue that touches a rule, and add a mutation for each new area's key rule.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    rule: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation("csrf-formless-posts", "POST routes that read no form still need the CSRF token",
             "webapp/__init__.py", "    register_blueprints(app)\n",
             "    register_blueprints(app)\n    for _endpoint in ('clients.delete_contact', 'clients.delete_touchpoint',"
             " 'regulations.revise', 'regulations.delete', 'admin.reset_template'):\n"
             "        csrf.exempt(app.view_functions[_endpoint])\n",
             ("tests/test_security.py",)),
    Mutation("no-audit-of-contacts", "contacts, touchpoints and regulations are audited",
             "webapp/models/audit.py", "            if not isinstance(obj, Audited):\n                continue\n",
             "            if not isinstance(obj, Audited) or obj.__tablename__ in "
             "('contacts', 'touchpoints', 'regulations'):\n                continue\n",
             ("tests/test_audit.py", "tests/test_clients.py", "tests/test_regulations.py")),
    Mutation("no-audit-of-deletes", "every delete is audited",
             "webapp/models/audit.py", '("update", session.dirty),\n                          ("delete", session.deleted)):',
             '("update", session.dirty)):',
             ("tests/test_audit.py", "tests/test_saving.py", "tests/test_clients.py")),
    Mutation("status-ignores-what-was-seen", "a status change made from a stale page is refused",
             "webapp/services/workflow.py", "    if workflow.checks_version or shown_status is None:",
             "    if False:", ("tests/test_seams.py", "tests/test_regulations.py")),
    Mutation("standard-without-version", "the regulation standard refuses a stale save",
             "webapp/services/regulations.py",
             "        changed = saving.apply_edit(standard, edit, Regulation.CLAUSE_FIELDS)",
             "        changed = saving.write(standard, _clauses(edit.values))", ("tests/test_regulations.py",)),
    Mutation("regulation-group-no-merge", "a draft's group saved over a colleague's change of one field is a 409",
             "webapp/services/regulations.py", "    changed = saving.apply_edit(regulation, edit, EDITION_FIELDS)",
             "    changed = saving.write(regulation, {k: v for k, v in edit.values.items() if k in EDITION_FIELDS})",
             ("tests/test_regulation_editor.py", "tests/test_regulations.py")),
    Mutation("contact-without-version", "a stale contact edit of the same field is refused (409)",
             "webapp/services/clients.py", "_contact_data(saving.changes(contact, edit, CONTACT_FIELDS))",
             "_contact_data({k: v for k, v in edit.values.items() if k in CONTACT_FIELDS})",
             ("tests/test_saving.py", "tests/test_clients.py")),
    Mutation("delete-without-version", "deleting a record changed since it was shown asks again",
             "webapp/saving.py", "    if _version(Edit({}, version)) != record.version:\n        raise DeleteConflict(record)",
             "    return None", ("tests/test_saving.py", "tests/test_clients.py", "tests/test_regulations.py")),
    Mutation("lost-update", "the field-level merge never writes over someone else's change",
             "webapp/saving.py", "        if changed_since and canonical(theirs) != canonical(value):",
             "        if False:", ("tests/test_saving.py",)),
    Mutation("login-limit-per-day", "failed logins are limited per minute, not per day",
             "webapp/config.py", 'LOGIN_FAILURE_LIMIT = "20 per minute"', 'LOGIN_FAILURE_LIMIT = "20 per day"',
             ("tests/test_auth.py", "tests/test_login_hardening.py")),
    Mutation("csp-weakened", "the Content-Security-Policy keeps every directive",
             "webapp/config.py", "\"default-src 'self'; script-src 'self'; style-src 'self';",
             "\"script-src 'self'; style-src *;", ("tests/test_security.py",)),
    Mutation("manager-reassigns", "only an admin reassigns a client's account manager (in the service)",
             "webapp/services/clients.py",
             "        access.require(access.can_reassign_client(acting),\n",
             "        access.require(True,\n", ("tests/test_clients.py", "tests/test_access.py")),
    Mutation("document-client-cadence", "the regulation DOCX prints the regulation's cadence",
             "webapp/services/regulations.py", "contact_cadence_days=regulation.contact_cadence_days,",
             "contact_cadence_days=regulation.client.contact_cadence_days,",
             ("tests/test_regulation_document.py", "tests/test_regulations.py")),
    Mutation("document-days-swapped", "acceptance and payment days print where they belong",
             "webapp/services/regulations.py",
             "acceptance_days=regulation.acceptance_days, payment_days=regulation.payment_days,",
             "acceptance_days=regulation.payment_days, payment_days=regulation.acceptance_days,",
             ("tests/test_regulation_document.py", "tests/test_regulations.py")),
    Mutation("backup-without-templates", "a backup carries the installation's document templates",
             "webapp/backup.py", 'FOLDERS = {"uploads": "UPLOAD_FOLDER", "document_templates": "DOCUMENT_TEMPLATES"}',
             'FOLDERS = {"uploads": "UPLOAD_FOLDER"}', ("tests/test_backup.py",)),
    Mutation("work-without-approval", "no work above the regulation's threshold without a recorded approval",
             "webapp/models/backlog.py", "    if item.billing == Billing.WARRANTY or item.has_valid_approval:\n        return False",
             "    if True:\n        return False", ("tests/test_backlog.py",)),
    Mutation("stage-without-version", "a stale stage edit of the same field is refused (409)",
             "webapp/services/backlog.py", 'data = saving.changes(stage, edit, ("name", "due_on"))',
             'data = {k: v for k, v in edit.values.items() if k in ("name", "due_on")}',
             ("tests/test_promise_versions.py",)),
    Mutation("backlog-item-not-audited", "every change of a backlog item leaves an audit event",
             "webapp/models/backlog.py", "class BacklogItem(Versioned, Audited, db.Model):",
             "class BacklogItem(Versioned, db.Model):", ("tests/test_promise_audit.py",)),
    Mutation("derived-without-lock", "stored figures are recomputed under the owner's lock (PostgreSQL)",
             "webapp/services/derived.py", "    state = sa.inspect(owner)\n    if not state.has_identity:",
             "    state = sa.inspect(owner)\n    if True:", ("tests/test_concurrency.py",)),
    Mutation("overrun-unconfirmed", "an approval that takes a budget block over its plan is confirmed first",
             "webapp/services/budgets.py", "    if consequence and not confirmed:",
             "    if consequence and False:", ("tests/test_budgets.py",)),
    Mutation("alert-every-refresh", "a budget alert is raised once per crossing, not on every recompute",
             "webapp/services/budgets.py", "            if crossed and current is None:",
             "            if crossed:", ("tests/test_budgets.py",)),
    Mutation("budget-months-not-stored", "a block's months keep the work done in them, recomputed with the block",
             "webapp/services/budgets.py",
             "    for month in block.months:\n        month.spent_hours, month.spent = by_month.get(month.month, (ZERO, ZERO))\n",
             "", ("tests/test_budgets.py", "tests/test_budgets_pages.py")),
    Mutation("act-number-without-lock", "concurrent issues take turns on the year's counter row (caught on PostgreSQL)",
             "webapp/services/acts.py",
             "    db.session.execute(sa.update(ActCounter).where(ActCounter.year == year)\n"
             "                       .values(last_seq=sa.case((following < start, start), else_=following)))\n"
             "    return db.session.scalar(sa.select(ActCounter.last_seq).where(ActCounter.year == year))",
             "    seq = db.session.scalar(sa.select(ActCounter.last_seq).where(ActCounter.year == year)) + 1\n"
             "    db.session.execute(sa.update(ActCounter).where(ActCounter.year == year).values(last_seq=max(seq, start)))\n"
             "    return max(seq, start)",
             ("tests/test_acts.py",)),
    Mutation("issued-act-editable", "an issued act is never edited: only a draft's lines change",
             "webapp/services/acts.py", "def _require_draft(act: Act) -> None:\n    if act.status != ActStatus.DRAFT:",
             "def _require_draft(act: Act) -> None:\n    if act.status == ActStatus.CANCELLED:",
             ("tests/test_acts.py", "tests/test_acts_pages.py")),
    Mutation("overpayment-accepted", "a payment never exceeds what is still owed",
             "webapp/services/acts.py", "    if amount > owed:", "    if amount > owed + act.total_amount:",
             ("tests/test_acts.py", "tests/test_acts_pages.py")),
    Mutation("meeting-approval-by-anyone", "an estimate is approved at a meeting only by a decision maker present",
             "webapp/services/meetings.py", "    if contact_id not in {c.id for c in deciders_present(meeting)}:",
             "    if False:", ("tests/test_meetings.py",)),
    Mutation("minutes-number-not-counted", "minutes numbers are given by the year's counter row, gapless",
             "webapp/services/meetings.py", "                                    .values(last=MinutesCounter.last + 1)",
             "                                    .values(last=MinutesCounter.last)", ("tests/test_meetings.py",)),
    Mutation("internal-note-printed", "a point's internal note never reaches the minutes",
             "webapp/services/meetings.py", "MinutesPoint(p.title, p.notes or \"\", p.decision or \"\")",
             "MinutesPoint(p.title, (p.notes or \"\") + p.internal_note, p.decision or \"\")",
             ("tests/test_meetings_documents.py",)),
    Mutation("template-kept-by-name", "a replaced template prints at the next render, whatever its size and time",
             "webapp/documents/render.py", "    digest = hashlib.sha256(data).digest()\n",
             "    digest = repr((str(source), Path(source).stat().st_size, Path(source).stat().st_mtime_ns)).encode()\n",
             ("tests/test_documents.py", "tests/test_document_templates.py")),
    Mutation("document-shared-by-renders", "each render opens its own document: nothing of one shows in the next",
             "webapp/documents/render.py", "            self.docx = _open(self.template_file)\n",
             "            self.docx = _open.__dict__.setdefault(self.template_file.getvalue(), _open(self.template_file))\n",
             ("tests/test_acts_documents.py",)),
    Mutation("dashboard-count-uncapped", "a «Мой день» section counts to FULL + 1 at most, never every row",
             "webapp/services/dashboard.py", "        .limit(full + 1).subquery()).scalar_subquery()",
             "        .subquery()).scalar_subquery()",
             ("tests/test_dashboard_sections.py",)),
    Mutation("cache-token-left-alone", "a change of an open item's assignee renews the workload copy in every worker",
             "webapp/services/backlog.py",
             'cache.watch(BacklogItem, "backlog_open_by_assignee", fields=("status", "assignee_id", "estimate_hours"))',
             'cache.watch(BacklogItem, "backlog_open_by_assignee", fields=("status", "estimate_hours"))',
             ("tests/test_query_counts.py",)),
    Mutation("budget-ranking-left-alone", "money committed to a block renews the budget ranking in every worker",
             "webapp/services/budgets.py",
             'cache.watch(BudgetBlock, "budget_ranking", fields=("budget_id", "planned_amount", "spent", "committed"))',
             'cache.watch(BudgetBlock, "budget_ranking", fields=("budget_id", "planned_amount", "spent"))',
             ("tests/test_query_counts.py",)),
    Mutation("badge-statement-rebuilt", "the badges' statement of «Мой день» is built once per user and day",
             "webapp/services/dashboard.py", "@functools.lru_cache(maxsize=512)", "@functools.lru_cache(maxsize=0)",
             ("tests/test_dashboard_sections.py",)),
    Mutation("approvals-rolling-hours", "estimates wait calendar days, so the kept badge statement holds no clock",
             "webapp/services/backlog.py", "    since = day_start(day - timedelta(days=APPROVAL_WAIT_DAYS - 1))",
             "    since = utcnow() - timedelta(days=APPROVAL_WAIT_DAYS)", ("tests/test_backlog.py",)),
    Mutation("overdue-page-kept-past-its-day", "the kept list of overdue stages is a new one each day",
             "webapp/services/backlog.py", "_overdue_page(access.Viewer.of(user), day, limit, mine)",
             '_overdue_page(access.Viewer.of(user), globals().setdefault("_first_day", day), limit, mine)',
             ("tests/test_backlog.py",)),
    Mutation("due-page-kept-past-its-day", "the kept list of clients to call is a new one each day",
             "webapp/services/clients.py", "_due_page(access.Viewer.of(user), today, limit)",
             '_due_page(access.Viewer.of(user), globals().setdefault("_first_day", today), limit)',
             ("tests/test_dashboard_sections.py", "tests/test_my_day.py")),
    Mutation("reminders-kept-past-their-day", "the kept reminders of acts are new ones each day",
             "webapp/services/acts.py", "    viewer = access.Viewer.of(user)\n",
             '    viewer = access.Viewer.of(user)\n    day = globals().setdefault("_first_day", day)\n',
             ("tests/test_acts_pages.py",)),
    Mutation("timeline-statements-rebuilt", "a client's history is read by statements kept per user, not per client",
             "webapp/services/timeline.py", "@functools.lru_cache(maxsize=512)", "@functools.lru_cache(maxsize=0)",
             ("tests/test_clients.py",)),
    Mutation("timeline-same-time-skipped", "«Показать ещё» keeps the entries of other kinds at the cursor's time",
             "webapp/services/timeline.py", "return [at_column <= _BEFORE_AT] if same_time_first",
             "return [at_column < _BEFORE_AT] if same_time_first", ("tests/test_clients.py",)),
    Mutation("by-manager-kept-past-its-day", "the admin's table of managers is a new one each day",
             "webapp/services/clients.py", "_by_manager_statements(access.Viewer.of(user), today, per_manager)",
             '_by_manager_statements(access.Viewer.of(user), globals().setdefault("_first_day", today), per_manager)',
             ("tests/test_my_day.py",)),
    Mutation("word-counts-left-alone", "an edit of an item's spec renews the word counts of similar items",
             "webapp/services/backlog.py", 'cache.watch(BacklogItem, "word_counts", fields=WORD_FIELDS)',
             'cache.watch(BacklogItem, "word_counts", fields=("title",))', ("tests/test_backlog_similar.py",)),
    Mutation("assignees-left-alone", "a user deactivated is no longer offered as an assignee by any worker",
             "webapp/services/backlog.py",
             'cache.watch(User, "assignable_users", fields=("full_name", "role", "active"))',
             'cache.watch(User, "assignable_users", fields=("full_name", "role"))', ("tests/test_query_counts.py",)),
    Mutation("backlog-count-from-copy-off", "the all-clients list counted from the copy counts what a scan counts",
             "webapp/services/backlog.py", "        statuses -= WAITING_ON_CLIENT\n",
             "        statuses -= {ItemStatus.APPROVAL}\n", ("tests/test_backlog.py",)),
    Mutation("week-hours-left-alone", "time logged in one worker shows in the week's hours of every worker",
             "webapp/services/backlog.py", 'cache.watch(TimeEntry, "week_hours", fields=("user_id", "hours", "spent_on"))',
             'cache.watch(TimeEntry, "week_hours_elsewhere", fields=("user_id", "hours", "spent_on"))',
             ("tests/test_query_counts.py",)),
    Mutation("table-grid-left-as-drawn", "a column loop ({%tc for %}) widens the table's grid to its cells",
             "webapp/documents/render.py", "    return bool(_CELLS_CHANGED.search(patched_xml))\n",
             "    return False\n", ("tests/test_documents.py",)),
    Mutation("sqlite-checkpoint-in-commit", "what a commit wrote is checkpointed by the process's thread",
             "webapp/sqlite.py", '        checkpoints.written(connection_record.info["database"])\n', "",
             ("tests/test_sqlite_writers.py",)),
    Mutation("sqlite-turn-not-taken", "a SQLite transaction takes the writers' turn at its first write",
             "webapp/sqlite.py", '    if "writer_lock" not in info or info.get("writing")',
             '    if True or "writer_lock" not in info or info.get("writing")',
             ("tests/test_sqlite_writers.py",)),
    Mutation("escape-text-unescaped", "the cheaper escape still escapes text",
             "webapp/templating.py", "return _new_markup(Markup, _escape_inner(value))", "return _new_markup(Markup, value)",
             ("tests/test_query_counts.py", "tests/test_security.py")),
    Mutation("escape-not-installed", "templates print through the cheaper escape",
             "webapp/templating.py", "    environment.template_class = Template\n", "",
             ("tests/test_query_counts.py",)),
    Mutation("todays-meetings-kept-past-their-day", "the kept list of today's meetings is a new one each day",
             "webapp/services/meetings.py", "_todays_page(access.Viewer.of(user), day_start(day),",
             '_todays_page(access.Viewer.of(user), day_start(globals().setdefault("_first_day", day)),',
             ("tests/test_meetings.py",)),
    Mutation("approvals-page-kept-past-its-day", "the kept list of waiting estimates is a new one each day",
             "webapp/services/backlog.py", "query = _first_rows(_approvals_query, access.Viewer.of(user), day, limit=limit)",
             'query = _first_rows(_approvals_query, access.Viewer.of(user), globals().setdefault("_first_day", day), '
             'limit=limit)',
             ("tests/test_backlog.py",)),
]


def _copy_checkout(target: Path) -> None:
    """The tracked and untracked (not ignored) files, as they are in the working tree."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run(mutation: Mutation, python: str) -> tuple[str, float, str]:
    with tempfile.TemporaryDirectory(prefix=f"mutation-{mutation.name}-") as folder:
        copy = Path(folder)
        _copy_checkout(copy)
        path = copy / mutation.path
        text = path.read_text(encoding="utf-8")
        if text.count(mutation.old) != 1:
            return "STALE (the code it breaks has changed: update the mutation)", 0.0, ""
        path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
        tests = [t for t in mutation.tests if (copy / t).exists()]
        started = time.monotonic()
        result = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not browser",
                                 *tests], cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)},
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - started
        last = (result.stdout.strip().splitlines() or [""])[-1]
        if result.returncode == 1:
            return "caught", elapsed, last
        if result.returncode == 0:
            return "SURVIVED", elapsed, last
        return f"error (pytest exit {result.returncode})", elapsed, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and the rule each breaks")
    args = parser.parse_args()
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:30} {m.rule}")
        return 0
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    if unknown := set(args.names) - {m.name for m in MUTATIONS}:
        parser.error(f"unknown mutation(s): {', '.join(sorted(unknown))}")
    python = sys.executable
    survived = 0
    print(f"{'mutation':30} {'result':10} {'time':>7}  rule")
    for mutation in chosen:
        verdict, elapsed, last = run(mutation, python)
        survived += verdict != "caught"
        print(f"{mutation.name:30} {verdict:10} {elapsed:6.0f}s  {mutation.rule}"
              + ("" if verdict == "caught" else f"\n{'':30} {last}"), flush=True)
    print(f"\n{len(chosen) - survived} caught, {survived} not caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
