"""What a page must be: valid HTML5 in Russian, fields labelled, ids unique, nothing inline that the
Content-Security-Policy would block. Shared by every suite that looks at pages."""

from collections import Counter

import html5lib

NOT_LABELLED = {"hidden", "submit", "button", "reset", "image"}


def is_document(html: str) -> bool:
    return html.lstrip()[:15].lower() == "<!doctype html>"


def problems_of(html: str) -> list[str]:
    """What is wrong with a page, or with a fragment that htmx swaps into one: parse errors first
    (strict HTML5), then our own rules."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = is_document(html)
    try:
        if document:
            root = parser.parse(html)
        else:  # a table row is parsed where it will land, inside a table body
            root = parser.parseFragment(html, container="tbody" if html.lstrip().startswith("<tr") else "div")
    except html5lib.html5parser.ParseError as error:
        line, column = parser.errors[0][0] if parser.errors else ("?", "?")
        return [f"not valid HTML5 at {line}:{column}: {error}"]
    found = []
    if document:
        if root.get("lang") != "ru":
            found.append(f'<html lang="{root.get("lang")}">, not "ru"')
        title = root.find("head/title")
        if title is None or not (title.text or "").strip():
            found.append("no title")
    elements = list(root.iter())
    ids = Counter(e.get("id") for e in elements if e.get("id"))
    found += [f'id="{i}" used {n} times' for i, n in ids.items() if n > 1]
    labelled = {e.get("for") for e in elements if e.tag == "label"}
    for e in elements:
        if e.tag == "label":
            labelled.update(id(inner) for inner in e.iter() if inner is not e)
    for e in elements:
        if e.tag in ("input", "select", "textarea") and (e.get("type") or "text") not in NOT_LABELLED:
            if not (e.get("id") in labelled or id(e) in labelled or e.get("aria-label")
                    or e.get("aria-labelledby")):
                found.append(f"<{e.tag} name={e.get('name')!r}> has no label")
        if e.tag == "script" and ((e.text or "").strip() or not e.get("src")):
            found.append("an inline <script>")
        if e.tag == "style":
            found.append("an inline <style>")
        if "style" in e.attrib:
            found.append(f"a style= attribute on <{e.tag}>")
        found += [f"{a}= on <{e.tag}>" for a in e.attrib if a.startswith("on") or a.startswith("hx-on")]
    return found


def assert_valid(response):
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html", response.mimetype
    assert not problems_of(html), (response.request.path, problems_of(html))
