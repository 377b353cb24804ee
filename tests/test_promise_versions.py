"""The saving promise, walked from the app's own pages: every form that changes a versioned record
refuses a conflicting version, and never loses a colleague's change of another field.

The walk (``tests/version_walk.py``) opens, as an admin, every page of the role matrix on the sample
records and every fragment they fetch, and drives each form that posts a version — one per route
and block, so a new editable record is proven the day its page draws its form:

- a field edit: a colleague saved ANOTHER field after the form was drawn → the stale save succeeds
  and both changes stay; a colleague saved the SAME field → 409, nothing changed;
- a status move: a colleague moved the record → 409, nothing changed; a colleague changed another
  field → the move is made (409 where the workflow checks versions: signing a text you have not seen);
- an action on the whole record (a delete, «выполнен»): the record changed since it was drawn → 409,
  nothing changed; with the version as it is now → done.

A route whose view reads versions but that the walk cannot drive fails
``test_every_versioned_route_is_walked_or_excluded`` until it is walked or listed in ``EXCLUDED``.
"""

import inspect
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.admin_forms import company_form
from tests.conftest import database_snapshot
from tests.route_matrix import all_routes
from tests.version_walk import (STEP, TEXT_INPUTS, VIEW_TOUCHES_VERSIONS, Submission, crawl, find_again,
                                number_versions)
from webapp.extensions import db
from webapp.models import Role
from webapp.saving import canonical

# Routes that read a version but that the walk cannot drive: endpoint → why, and which test proves
# their version check instead. Keep it empty where possible: an excluded route is proven by hand.
EXCLUDED: dict[str, str] = {
    "budgets.approve": "a status move checked by the state shown (a draft), drawn only for a draft: "
                       "test_budgets_pages.py::test_a_stale_approval_or_status_move_changes_nothing",
    "budgets.move": "drawn only for an approved budget, checked by the state shown: "
                    "test_budgets_pages.py::test_a_stale_approval_or_status_move_changes_nothing",
    **{f"meetings.{name}": "the live page's autosave posts one field by name (field=…), not the form's "
                           "columns: test_meetings.py::test_two_people_typing_into_different_fields_never_conflict"
       for name in ("save_point", "save_action")},
    **{f"meetings.{name}": "makes other records (the next meeting, agenda points, a request), so the walk sees "
                           "no change of its own: test_meetings.py::"
                           "test_actions_from_a_stale_page_are_refused_and_change_nothing"
       for name in ("next_meeting", "refresh_agenda", "action_to_backlog")},
}

# A form of a record not stored until its first save (a singleton drawn with defaults) that does not
# save as drawn: endpoint → the values that save it once, so the walk has a record to conflict on.
FIRST_SAVE: dict[str, Callable[[], dict]] = {"admin.company": company_form}

# A form whose fields the walk cannot choose by itself: endpoint → (the field the user changes, the
# field the colleague changes), both record attributes.
FIELDS: dict[str, tuple[str, str]] = {"budgets.edit_block": ("name", "planned_hours")}

# One form of a route that draws several (a regulation's clause groups) whose only fields are rows of
# a JSON table, which the walk cannot pair with a column: the form's action → why, and which test
# proves its version check instead.
TABLE_FORMS: dict[str, str] = {
    f"/regulations/1/groups/{group}/edit": "rows of a JSON table (SLA, escalation, free sections); "
    "test_regulation_editor.py proves a stale table save merges with a colleague's other group"
    for group in ("sla", "escalation", "sections")} | {
    "/backlog/1/edit/budget": "one select (the block charged), which the walk cannot change by itself; "
    "it saves through the same update_item and saving.changes as the item's summary block, which is walked"}

SAVED = (200, 302, 303)
WHAT_TO_DO = ("give it a pair in FIELDS of tests/test_promise_versions.py (the field the user changes, "
              "the field a colleague changes), or list the route in EXCLUDED with the reason and the test "
              "that proves its version check")


def _view_reads_versions(app) -> set[str]:
    """POST routes whose view code reads a version (arms, submits, moves, deletes by version)."""
    found = set()
    for endpoint, methods in all_routes(app).items():
        if "POST" in methods:
            source = inspect.getsource(inspect.unwrap(app.view_functions[endpoint]))
            if VIEW_TOUCHES_VERSIONS.search(source):
                found.add(endpoint)
    return found


def _identified(app, client, records) -> list[Submission]:
    """The walk's forms, each knowing its record; a record not stored yet is saved once as drawn."""
    names = number_versions(app)
    walk = crawl(app, client, records)
    unstored = [s for s in walk.submissions if _name(names, s) is None and s.kind == "edit"]
    for submission in {s.key: s for s in unstored}.values():
        data = {**submission.fields, **FIRST_SAVE.get(submission.endpoint, dict)()}
        response = client.post(submission.action, data=data, htmx=submission.htmx)
        assert response.status_code in SAVED, (
            f"{submission.endpoint}: its form names no stored record (saved on first use?), and saving it once "
            f"answered {response.status_code}: add FIRST_SAVE[{submission.endpoint!r}] in "
            f"tests/test_promise_versions.py with the values that save it")
    if unstored:
        names = number_versions(app)
        walk = crawl(app, client, records)
    for submission in walk.submissions:
        submission.record = _name(names, submission)
    return walk.submissions


def _name(names, submission: Submission):
    version = submission.version
    return names.get(int(version)) if version.isdigit() and int(version) % STEP == 0 else None


def _groups(submissions: list[Submission]) -> dict[tuple, Submission]:
    """One form per route, kind, model and block: the first the walk met that can be pressed."""
    groups: dict[tuple, Submission] = {}
    for submission in submissions:
        if submission.record is not None and not submission.disabled and submission.endpoint not in EXCLUDED:
            groups.setdefault(submission.group, submission)
    return groups


@pytest.fixture
def walker(app, client, make_user, sample_records, sample_files):
    client.login(make_user(Role.ADMIN, full_name="Админов Админ Админович"))
    return Walker(app, client, sample_records)


class Walker:
    """Drives one form through its cases; collects what went wrong, in words that say what to do."""

    def __init__(self, app, client, records):
        self.app, self.client, self.records = app, client, records
        self.problems: list[str] = []
        self.counter = 0

    # --- the record, as the database holds it ------------------------------------------------------

    def stored(self, submission: Submission):
        model, ident = submission.record
        with self.app.app_context():
            record = db.session.get(model, ident)
            if record is not None:
                db.session.expunge(record)
            return record

    def colleague_saves(self, submission: Submission, key: str, value):
        """Another user's save of one field, committed after the form was drawn; the value it replaced
        (a case puts it back when done: a colleague's made-up ИНН would fail every later save)."""
        model, ident = submission.record
        with self.app.app_context():
            record = db.session.get(model, ident)
            old = getattr(record, key)
            setattr(record, key, value)
            db.session.commit()
        return old

    def another_value(self, model, key: str, current):
        self.counter += 1
        kind = sa.inspect(model).columns[key].type
        if isinstance(kind, sa.String):
            text = f"Правка коллеги {self.counter}"
            return text[: kind.length] if kind.length else text
        if isinstance(kind, sa.Boolean):
            return not current
        if isinstance(kind, sa.Date):
            return (current or date(2026, 11, 25)) + timedelta(days=self.counter)
        return (current or 0) + 1

    def other_field(self, submission: Submission, mine: str | None) -> str | None:
        """A field a colleague changes: one the form shows, else one the model labels for the audit."""
        model = submission.record[0]
        if submission.endpoint in FIELDS:
            return FIELDS[submission.endpoint][1]
        columns = sa.inspect(model).columns
        shown = list(submission.shown or {})
        candidates = [k for k in shown if k != mine] + [k for k in model.__audit_labels__ if k not in shown]
        rank = [(sa.String, 0), (sa.Date, 1), (sa.Boolean, 2)]

        def order(key):
            kind = columns[key].type
            return next((r for t, r in rank if isinstance(kind, t) and not isinstance(kind, sa.Enum)), 9)

        # Not shown in this form: a column the database indexes is how the record is found (an
        # owner's type, a number), not what a colleague edits.
        indexed = {c.key for index in model.__table__.indexes for c in index.columns}
        indexed |= {c.key for rule in model.__table__.constraints if isinstance(rule, sa.UniqueConstraint)
                    for c in rule.columns}
        usable = [k for k in candidates if k in columns and k not in ("status", "version", mine)
                  and k not in model.__unversioned__ and k not in model.__audit_exclude__
                  and k not in model.__audit_secret__ and not columns[k].foreign_keys
                  and not columns[k].primary_key and order(k) < 9 and (k in shown or k not in indexed)]
        return min(usable, key=lambda k: (order(k), candidates.index(k)), default=None)

    def own_fields(self, submission: Submission) -> list[str]:
        """Fields the user may change in this form: text columns with a text input (textareas
        first), then date columns with a date input."""
        if submission.endpoint in FIELDS:
            return [FIELDS[submission.endpoint][0]]
        columns = sa.inspect(submission.record[0]).columns

        def order(key: str) -> int:
            kind, shown_as = columns[key].type, submission.inputs.get(submission.input_name(key))
            if isinstance(kind, sa.String) and not isinstance(kind, sa.Enum):
                return 0 if shown_as == "textarea" else 1 if shown_as in TEXT_INPUTS else 9
            return 2 if isinstance(kind, sa.Date) and shown_as == "date" else 9

        keys = [k for k in (submission.shown or {}) if k in columns and order(k) < 9]
        return sorted(keys, key=order)

    def my_value(self, submission: Submission, key: str) -> str:
        self.counter += 1
        kind = submission.inputs[submission.input_name(key)]
        return {"email": f"moya.pravka{self.counter}@example.test",
                "tel": f"+7 900 000-00-{self.counter:02d}",
                "date": (date(2026, 12, 1) + timedelta(days=self.counter)).isoformat(),
                }.get(kind, f"Моя правка {self.counter}")

    def post(self, submission: Submission, **changes):
        data = dict(submission.fields)
        data.update(changes)
        return self.client.post(submission.action, data=data, htmx=submission.htmx)

    def again(self, submission: Submission) -> Submission | None:
        fresh = find_again(self.app, self.client, submission)
        if fresh is None:
            self.problems.append(f"{submission.endpoint}: {submission.source} no longer draws the form posting to "
                                 f"{submission.action} after the walk's earlier saves")
        return fresh

    def refused_unchanged(self, submission: Submission, what: str, **changes) -> None:
        before = database_snapshot(self.app)
        response = self.post(submission, **changes)
        if response.status_code != 409:
            self.problems.append(f"{submission.endpoint} ({submission.action}): {what}: "
                                 f"answered {response.status_code}, expected 409")
        elif database_snapshot(self.app) != before:
            self.problems.append(f"{submission.endpoint} ({submission.action}): {what}: answered 409 "
                                 f"but changed the database")

    # --- the cases -----------------------------------------------------------------------------

    def edit(self, first: Submission) -> None:
        model = first.record[0]
        own = self.own_fields(first)
        if not own and first.action in TABLE_FORMS:
            return
        if not own:
            self.problems.append(f"{first.endpoint} ({first.action}): the walk finds no text field of "
                                 f"{model.__name__} to change in this form: {WHAT_TO_DO}")
            return
        for mine in own:
            submission = self.again(first)
            if submission is None:
                return
            theirs_key = self.other_field(submission, mine)
            if theirs_key is None:
                self.problems.append(f"{first.endpoint} ({first.action}): the walk finds no other field of "
                                     f"{model.__name__} for a colleague to change: {WHAT_TO_DO}")
                return
            theirs = self.another_value(model, theirs_key, getattr(self.stored(submission), theirs_key))
            was = self.colleague_saves(submission, theirs_key, theirs)
            value = self.my_value(submission, mine)
            response = self.post(submission, **{submission.input_name(mine): value})
            stored = self.stored(submission)
            self.colleague_saves(submission, theirs_key, was)
            if response.status_code == 422:
                continue  # this field has rules of its own (a checksum, a format): try the next
            if response.status_code not in SAVED:
                self.problems.append(f"{first.endpoint} ({first.action}): a stale save of «{mine}» after a "
                                     f"colleague changed «{theirs_key}» answered {response.status_code}, "
                                     f"expected it saved (different fields never conflict)")
            elif canonical(getattr(stored, mine)) != canonical(value):
                self.problems.append(f"{first.endpoint} ({first.action}): the stale save of «{mine}» answered "
                                     f"{response.status_code} but stored {getattr(stored, mine)!r}")
            elif canonical(getattr(stored, theirs_key)) != canonical(theirs):
                self.problems.append(f"{first.endpoint} ({first.action}): the stale save of «{mine}» lost the "
                                     f"colleague's «{theirs_key}»: {getattr(stored, theirs_key)!r}, "
                                     f"expected {theirs!r}")
            self.same_field(first, mine)
            return
        self.problems.append(f"{first.endpoint} ({first.action}): the form refused (422) a change of every "
                             f"field the walk tried ({', '.join(own)}): {WHAT_TO_DO}")

    def same_field(self, first: Submission, key: str) -> None:
        submission = self.again(first)
        if submission is None:
            return
        model = submission.record[0]
        was = self.colleague_saves(submission, key, self.another_value(model, key, None))
        self.refused_unchanged(submission, f"a stale save of «{key}», which a colleague changed too",
                               **{submission.input_name(key): self.my_value(submission, key)})
        self.colleague_saves(submission, key, was)

    def status(self, first: Submission) -> None:
        submission = self.again(first)
        if submission is None:
            return
        model = submission.record[0]
        if getattr(model, "workflow", None) is None:
            self.problems.append(f"{first.endpoint}: the form posts a move (target, from) for a {model.__name__}, "
                                 f"which declares no workflow (models/workflow.py): {WHAT_TO_DO}")
            return
        current = self.stored(submission).status
        target = model.workflow.states(submission.fields["target"])
        moved = next((s for s in model.workflow.states if s not in (current, target)), target)
        self.colleague_saves(submission, "status", moved)
        self.refused_unchanged(submission, f"a move from «{current.value}» after a colleague moved the record "
                                           f"to «{moved.value}»", **self.move_fields(submission))
        self.colleague_saves(submission, "status", current)

        submission = self.again(first)
        if submission is None:
            return
        theirs_key = self.other_field(submission, None)
        if theirs_key is None:
            self.problems.append(f"{first.endpoint}: the walk finds no field of {model.__name__} for a "
                                 f"colleague to change: {WHAT_TO_DO}")
            return
        theirs = self.another_value(model, theirs_key, getattr(self.stored(submission), theirs_key))
        was = self.colleague_saves(submission, theirs_key, theirs)
        if model.workflow.checks_version:
            self.refused_unchanged(submission, f"a move of a {model.__name__} whose «{theirs_key}» a colleague "
                                               f"changed (its workflow checks versions)",
                                   **self.move_fields(submission))
            self.colleague_saves(submission, theirs_key, was)
            return
        response = self.post(submission, **self.move_fields(submission))
        stored = self.stored(submission)
        self.colleague_saves(submission, theirs_key, was)
        if response.status_code not in SAVED or stored.status != target:
            self.problems.append(f"{first.endpoint}: a move to «{target.value}» after a colleague changed "
                                 f"«{theirs_key}» answered {response.status_code} (status now "
                                 f"«{stored.status.value}»), expected the move made")
        elif canonical(getattr(stored, theirs_key)) != canonical(theirs):
            self.problems.append(f"{first.endpoint}: the move lost the colleague's «{theirs_key}»")
        self.colleague_saves(submission, "status", current)

    def move_fields(self, submission: Submission) -> dict[str, str]:
        """A move's own inputs (a signing date) where the form leaves them empty."""
        return {name: "2026-11-25" for name, kind in submission.inputs.items()
                if kind == "date" and not submission.fields.get(name)}

    def action(self, first: Submission) -> None:
        submission = self.again(first)
        if submission is None:
            return
        model = submission.record[0]
        theirs_key = self.other_field(submission, None)
        if theirs_key is None:
            self.problems.append(f"{first.endpoint}: the walk finds no field of {model.__name__} for a "
                                 f"colleague to change: {WHAT_TO_DO}")
            return
        was = self.colleague_saves(submission, theirs_key,
                                   self.another_value(model, theirs_key, getattr(self.stored(submission), theirs_key)))
        self.refused_unchanged(submission, f"an action on a {model.__name__} whose «{theirs_key}» a colleague "
                                           f"changed since it was shown")
        self.colleague_saves(submission, theirs_key, was)

    def action_done(self, first: Submission) -> None:
        """With the version as it is now, the action is done (the 409 above was no blanket refusal)."""
        if self.stored(first) is None:
            return  # gone with an earlier delete
        submission = self.again(first)
        if submission is None:
            return
        shown = self.stored(submission).version
        response = self.post(submission)
        after = self.stored(submission)
        if response.status_code not in SAVED or (after is not None and after.version == shown):
            self.problems.append(f"{first.endpoint} ({first.action}): with the current version the action "
                                 f"answered {response.status_code} and changed nothing")


def test_stale_versions_are_refused_on_every_route(walker):
    """Does every form of a versioned record — inline blocks, rows, status moves, deletes — refuse a
    conflicting version, changing nothing, and keep a colleague's change of another field?"""
    groups = _groups(_identified(walker.app, walker.client, walker.records))
    kinds = {}
    for submission in groups.values():
        kinds.setdefault(submission.kind, []).append(submission)
    for submission in kinds.get("edit", []):
        walker.edit(submission)
    for submission in kinds.get("action", []):
        walker.action(submission)
    for submission in kinds.get("status", []):
        walker.status(submission)
    for submission in kinds.get("action", []):
        walker.action_done(submission)
    assert not walker.problems, "\n".join(walker.problems)
    # the walk walked: each kind of form met at least once
    assert {s.kind for s in groups.values()} == {"edit", "status", "action"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_versioned_route_is_walked_or_excluded(walker):
    """Is every POST route that reads a version driven by the walk (or excluded with a reason)? A
    new route of meetings, budgets or acts is walked as soon as a page draws its form."""
    app = walker.app
    submissions = _identified(app, walker.client, walker.records)
    walked = {s.endpoint for s in submissions if s.record is not None and not s.disabled}
    unknown = sorted({f"{s.endpoint} (form on {s.source}, version {s.version!r})"
                      for s in submissions if s.record is None})
    assert not unknown, ("these forms post a version that names no stored record; make the page draw the "
                         "record's own version:\n" + "\n".join(unknown))
    needed = (_view_reads_versions(app) | walked) - set(EXCLUDED)
    missing = sorted(needed - walked)
    assert not missing, (
        "these POST routes read a version, but no page the walk opens draws a form for them:\n"
        + "\n".join(missing) + "\nEither give `sample_records` (tests/conftest.py) a record in a state whose "
        "page draws that form, the page's route being in tests/route_matrix.py (EXPECTED, URL_ARGS) — the "
        "walk then drives it by itself — or add the route to EXCLUDED in tests/test_promise_versions.py "
        "with the reason and the test that proves its version check.")


def test_exclusions_name_real_routes(routing_app):
    """Does every exclusion, first save and field pair still name a route of the app?"""
    stale = (set(EXCLUDED) | set(FIELDS) | set(FIRST_SAVE)) - set(all_routes(routing_app))
    assert not stale, f"EXCLUDED / FIELDS name routes that no longer exist: {sorted(stale)}"
