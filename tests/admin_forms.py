"""Reading the admin's HTML forms as a browser does, to post them back over HTTP: hidden and
text inputs, checked boxes, selected options, and textareas (their first line break dropped,
line breaks sent as CRLF)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx

__all__ = ["Form", "forms_of", "post", "submit"]


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        return dict(self.fields)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.forms.append(Form(a.get("action", "")))
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            form.buttons.append((a.get("name", ""), a.get("value", "")))
        elif tag == "textarea":
            self._textarea = (a["name"], [])
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            # HTML drops a line break right after <textarea>; forms send line breaks as CRLF.
            text = text.removeprefix("\n").replace("\r\n", "\n").replace("\n", "\r\n")
            self.forms[-1].fields.append((name, text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            value = chosen[0] if chosen else (self._options[0][0] if self._options else "")
            self.forms[-1].fields.append((self._select, value))
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


async def submit(
    client: httpx.AsyncClient,
    page: str,
    action: str,
    changes: dict[str, str | list[str]] | None = None,
    *,
    button: tuple[str, str] | None = ("action", "save"),
) -> httpx.Response:
    """Load `page`, fill its form posting to `action` with `changes` and press `button`."""
    loaded = await client.get(page)
    assert loaded.status_code == 200, loaded.text
    found = [form for form in forms_of(loaded.text) if form.action == action]
    assert found, f"{page} has no form posting to {action}"
    form = found[0]
    data: list[tuple[str, str]] = [
        (name, value) for name, value in form.fields if name not in (changes or {})
    ]
    for name, value in (changes or {}).items():
        data.extend((name, each) for each in ([value] if isinstance(value, str) else value))
    if button is not None and button[0]:
        data.append(button)
    return await post(client, action, data)


async def post(
    client: httpx.AsyncClient, action: str, data: list[tuple[str, str]]
) -> httpx.Response:
    """Post fields as a browser does: urlencoded, a name repeated for each of its values."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return await client.post(action, content=urlencode(data), headers=headers)
