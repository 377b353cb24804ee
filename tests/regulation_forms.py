"""A regulation's pages driven as a browser would: a new draft, a clause group opened with «Изменить»
and saved as shown, signing."""

import re
from datetime import date

from tests.conftest import reload
from webapp.formatting import today
from webapp.models import Regulation, RegulationStatus


def new_draft(client, client_record) -> int:
    """Start a draft for ``client_record`` through the page; its id."""
    response = client.post(f"/clients/{client_record.id}/regulations/")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def form_data(page: str) -> dict[str, str]:
    """The regulation form as the browser would submit it unchanged."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<(?:input|textarea|select)[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) in ("csrf_token", "target", "signed_on", "with"):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*(.*?)</textarea>', page, re.S):
        data[name] = text.replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'value="([^"]*)"', next(iter(re.findall(r"<option[^>]*\bselected\b[^>]*>", options)), ""))
        first = re.search(r'<option[^>]*value="([^"]*)"', options)  # what a browser submits by default
        data[name] = selected.group(1) if selected else (first.group(1) if first else "")
    return data


def group_url(regulation_id: int, group: str) -> str:
    return f"/regulations/{regulation_id}/groups/{group}/edit"


def group_data(client, regulation_id: int, group: str) -> dict[str, str]:
    """One clause group's form, opened with «Изменить», as the browser would submit it unchanged."""
    response = client.get(group_url(regulation_id, group), htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return form_data(response.get_data(as_text=True))


def save_group(client, regulation_id: int, group: str, changes: dict[str, str] | None = None,
               *, data: dict[str, str] | None = None):
    """Save one clause group with ``changes`` over what its form showed (``data``, else opened now);
    the response: 200 with the group shown again, or the form with messages (422) or a conflict (409)."""
    shown = group_data(client, regulation_id, group) if data is None else data
    return client.post(group_url(regulation_id, group), data={**shown, **(changes or {})}, htmx=True)


def sign(client, regulation_id: int, app, on: date | None = None) -> None:
    """Agree and sign an edition through its status buttons (signed today unless ``on``)."""
    version = reload(app, Regulation, regulation_id).version
    assert client.post(f"/regulations/{regulation_id}/status", data={"target": "agreed", "version": version}).status_code == 303
    response = client.post(f"/regulations/{regulation_id}/status", data={
        "target": "signed", "version": version + 1, "signed_on": (on or today()).isoformat()})
    assert response.status_code == 303
    assert reload(app, Regulation, regulation_id).status == RegulationStatus.SIGNED
