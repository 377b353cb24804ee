"""The saving promise: no save loses someone else's change, edits of different fields never conflict."""

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.extensions import db
from webapp.models import AuditEvent, Client, Contact, Role
from webapp.saving import MergeConflict, canonical, fingerprint, merge

FIELDS = ["a", "b", "c", "d", "e"]
values = st.one_of(st.none(), st.text(max_size=5), st.integers(-3, 3),
                   st.decimals(min_value=-10, max_value=10, places=2, allow_nan=False))


@st.composite
def two_edits(draw):
    """A stored record, and two users' edits of it made from the same shown state."""
    stored = {key: draw(values) for key in FIELDS}
    mine = {key: draw(values) for key in draw(st.sets(st.sampled_from(FIELDS)))}
    theirs = {key: draw(values) for key in draw(st.sets(st.sampled_from(FIELDS)))}
    return stored, mine, theirs


def _apply(stored, edit_keys, edit):
    """What the user's form submits: every field, changed ones with the user's values."""
    return {key: edit.get(key, stored[key]) for key in FIELDS}


@given(two_edits())
def test_merge_keeps_both_edits_and_reports_exactly_the_overlap(case):
    """For any two edits from one shown state: disjoint ones both survive, overlapping ones report
    exactly the fields both changed to different values — and the second save then writes only its own."""
    shown_state, mine, theirs = case
    shown = {key: fingerprint(value) for key, value in shown_state.items()}
    after_theirs = {**shown_state, **theirs}
    form = _apply(shown_state, mine, mine)
    changed_by_me = {k for k in FIELDS if canonical(form[k]) != canonical(shown_state[k])}
    changed_by_them = {k for k in FIELDS if canonical(after_theirs[k]) != canonical(shown_state[k])}
    overlap = sorted(k for k in changed_by_me & changed_by_them
                     if canonical(form[k]) != canonical(after_theirs[k]))
    try:
        written = merge(after_theirs, form, shown, stale=True)
    except MergeConflict as conflict:
        assert sorted(conflict.fields) == overlap
        # Re-armed at the stored state with the user's own values kept: the second save wins and
        # writes only the fields the user changed.
        rearmed = {key: fingerprint(value) for key, value in after_theirs.items()}
        kept_form = {k: (form[k] if k in changed_by_me else after_theirs[k]) for k in FIELDS}
        written = merge(after_theirs, kept_form, rearmed, stale=False)
        result = {**after_theirs, **written}
        for key in FIELDS:
            expected = form[key] if key in changed_by_me else after_theirs[key]
            assert canonical(result[key]) == canonical(expected)
        return
    assert overlap == []
    result = {**after_theirs, **written}
    for key in FIELDS:
        expected = form[key] if key in changed_by_me else after_theirs[key]
        assert canonical(result[key]) == canonical(expected), key


def test_canonical_values_mean_what_the_user_sees():
    """Are «1500» and «1500.00», None and «», CR LF and LF one value each?"""
    assert canonical(Decimal("1500")) == canonical(Decimal("1500.00"))
    assert canonical(None) == canonical("")
    assert canonical("a\r\nb") == canonical("a\nb")
    assert canonical(True) != canonical(False)


# --- through the pages ---------------------------------------------------------------------------


def _html(response) -> str:
    return response.get_data(as_text=True)


def _armed(client, url: str, prefix: str = "") -> dict[str, str]:
    html = _html(client.get(url, htmx=True))
    found = dict(re.findall(rf'name="({re.escape(prefix)}version(?:_shown)?)"[^>]*value="([^"]*)"', html))
    assert f"{prefix}version" in found and f"{prefix}version_shown" in found, html[:300]
    return found


@pytest.fixture
def my_client(app, login_as, make_client):
    me = login_as(Role.MANAGER)
    record = make_client(me, short_name="Ромашка", contacts=[{"full_name": "Иванова Анна", "position": "Бухгалтер"}])
    with app.app_context():
        contact_id = db.session.scalar(db.select(Contact.id).where(Contact.client_id == record.id))
    return record, contact_id


def _contact_data(prefix: str, **values) -> dict:
    data = {f"{prefix}full_name": "Иванова Анна", f"{prefix}position": "Бухгалтер"}
    data.update({f"{prefix}{k}": v for k, v in values.items()})
    return data


def test_a_stale_contact_edit_of_the_same_field_shows_both_values(client, app, my_client):
    """Two tabs edit one contact's position: is the second refused with both values, and a second save deliberate?"""
    record, contact_id = my_client
    url, prefix = f"/clients/{record.id}/contacts/{contact_id}", f"contact{contact_id}-"
    tab_a, tab_b = _armed(client, url + "?edit=1", prefix), _armed(client, url + "?edit=1", prefix)
    assert client.post(url, data={**_contact_data(prefix, position="C"), **tab_a}, htmx=True).status_code == 200
    response = client.post(url, data={**_contact_data(prefix, position="D"), **tab_b}, htmx=True)
    assert response.status_code == 409
    page = _html(response)
    assert "Должность" in page and ">C<" in page and ">D<" in page
    with app.app_context():
        assert db.session.get(Contact, contact_id).position == "C"
    rearmed = dict(re.findall(rf'name="({re.escape(prefix)}version(?:_shown)?)"[^>]*value="([^"]*)"', page))
    assert client.post(url, data={**_contact_data(prefix, position="D"), **rearmed}, htmx=True).status_code == 200
    with app.app_context():
        assert db.session.get(Contact, contact_id).position == "D"


def test_a_save_after_a_conflict_keeps_fields_the_user_never_touched(client, app, my_client):
    """A changes the contract number and the rate; B changes only the number, resolves the conflict:
    does A's rate survive B's second save?"""
    record, _ = my_client
    url = f"/clients/{record.id}/edit/terms"
    base = {"short_name": "Ромашка", "status": "active", "contact_cadence_days": "3", "deputy_id": ""}
    tab_a, tab_b = _armed(client, url), _armed(client, url)
    assert client.post(url, data={**base, "contract_number": "A-1", "hourly_rate": "5000", **tab_a}).status_code == 200
    conflict = client.post(url, data={**base, "contract_number": "B-1", **tab_b}, htmx=True)
    assert conflict.status_code == 409
    page = _html(conflict)
    form_values = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    assert form_values["contract_number"] == "B-1"
    # the stored rate (A's), not the empty one B's tab was opened with
    assert re.sub(r"\D", "", form_values["hourly_rate"].split(",")[0]) == "5000"
    rearmed = dict(re.findall(r'name="(version(?:_shown)?)"[^>]*value="([^"]*)"', page))
    again = client.post(url, data={**base, "contract_number": "B-1", "hourly_rate": form_values["hourly_rate"], **rearmed})
    assert again.status_code == 200
    with app.app_context():
        stored = db.session.get(Client, record.id)
        assert (stored.contract_number, stored.hourly_rate) == ("B-1", Decimal("5000.00"))


def test_saves_of_different_blocks_by_two_people_never_conflict(client, app, my_client):
    """A saves the address in «Реквизиты», B then the notes in «Условия работы», both opened before: both kept?"""
    record, _ = my_client
    requisites, terms = _armed(client, f"/clients/{record.id}/edit/requisites"), _armed(client, f"/clients/{record.id}/edit/terms")
    assert client.post(f"/clients/{record.id}/edit/requisites",
                       data={"address": "Москва, ул. Ленина, 1", **requisites}).status_code == 200
    response = client.post(f"/clients/{record.id}/edit/terms", htmx=True, data={
        "short_name": "Ромашка", "status": "active", "contact_cadence_days": "3", "deputy_id": "",
        "notes": "Звонить до обеда", **terms})
    assert response.status_code == 200, _html(response)[:500]
    with app.app_context():
        stored = db.session.get(Client, record.id)
        assert (stored.address, stored.notes) == ("Москва, ул. Ленина, 1", "Звонить до обеда")


def test_a_stale_delete_asks_again_in_its_row_and_deletes_nothing(client, app, my_client):
    """Deleting a contact someone just edited: is it a 409 in the contact's own row, the contact kept?"""
    record, contact_id = my_client
    with app.app_context():
        shown_version = db.session.get(Contact, contact_id).version
    url, prefix = f"/clients/{record.id}/contacts/{contact_id}", f"contact{contact_id}-"
    assert client.post(url, data={**_contact_data(prefix, position="Главный бухгалтер"),
                                  **_armed(client, url + "?edit=1", prefix)}, htmx=True).status_code == 200
    response = client.post(f"{url}/delete", data={"version": shown_version}, htmx=True)
    assert response.status_code == 409
    page = _html(response)
    assert f'id="contact-{contact_id}"' in page and 'id="contacts"' not in page
    assert "Главный бухгалтер" in page and "Удалить всё равно" in page
    with app.app_context():
        assert db.session.get(Contact, contact_id) is not None
    again = re.search(r'"version": "(\d+)"', page).group(1)
    assert client.post(f"{url}/delete", data={"version": again}, htmx=True).status_code == 200
    with app.app_context():
        assert db.session.get(Contact, contact_id) is None
        deleted = db.session.scalars(db.select(AuditEvent).where(AuditEvent.entity_type == "contacts",
                                                                 AuditEvent.action == "delete")).all()
        assert len(deleted) == 1 and deleted[0].entity_id == contact_id
