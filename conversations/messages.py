"""The neutral outbound message: a plain-text fallback plus optional blocks.

Each adapter renders every block type; one it does not know falls back to the
message text and never raises. Messages round-trip through JSON (`to_dict`,
`from_dict`) because proactive ones wait in the outbox.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

ButtonStyle = Literal["default", "primary", "danger"]


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Text:
    """Markdown subset: *bold*, _italic_, <url|label> links, lines starting `• ` or `- `."""

    text: str


@dataclass(frozen=True)
class Fields:
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str = "run"
    value: str = ""
    style: ButtonStyle = "default"


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Context:
    text: str


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Input:
    """One form field. kind: text, multiline, select, multiselect, date, time."""

    name: str
    label: str
    kind: Literal["text", "multiline", "select", "multiselect", "date", "time"] = "text"
    value: str = ""
    placeholder: str = ""
    hint: str = ""
    optional: bool = True
    options: tuple[Option, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Form:
    """A form the adapter shows as a modal, a card or an inline web form."""

    form_id: str
    title: str
    inputs: tuple[Input, ...]
    submit_label: str = "Save"


@dataclass(frozen=True)
class File:
    """A small file to hand over (an .ics invite, a CSV export, a chart image): Slack
    uploads it, Teams attaches it, the web chat offers a download link (and shows an
    image). `content` is text, or base64 when `encoding` says so (binary files such as a
    PNG). The message text must still read well without it."""

    filename: str
    mime: str
    content: str
    encoding: Literal["text", "base64"] = "text"

    def data(self) -> bytes:
        """The file's bytes, whatever the encoding."""
        if self.encoding == "base64":
            return base64.b64decode(self.content)
        return self.content.encode("utf-8")


Block = Header | Text | Fields | Buttons | Divider | Context | Form | File

_TYPES: dict[str, type[Any]] = {
    "header": Header,
    "text": Text,
    "fields": Fields,
    "buttons": Buttons,
    "divider": Divider,
    "context": Context,
    "form": Form,
    "file": File,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


@dataclass(frozen=True)
class Message:
    text: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, *blocks: Block) -> Message:
        """A message whose plain-text fallback is what its Text blocks say (`fallback_text`)."""
        return cls(fallback_text(blocks), blocks)

    def form(self) -> Form | None:
        return next((b for b in self.blocks if isinstance(b, Form)), None)

    def files(self) -> list[File]:
        return [b for b in self.blocks if isinstance(b, File)]

    def buttons(self) -> list[Button]:
        return [btn for b in self.blocks if isinstance(b, Buttons) for btn in b.buttons]


def fallback_text(blocks: Iterable[Block]) -> str:
    """The plain text of `blocks` for a client that shows no blocks: the Text blocks, one
    per line. Headers, context lines, buttons, forms and files are extras a text-only
    reader can do without; a message whose fallback must say more writes its own text."""
    return "\n".join(b.text for b in blocks if isinstance(b, Text))


_FIELDS: dict[type[Any], tuple[str, ...] | None] = {}


def _plain(value: Any) -> Any:
    """dataclasses.asdict without its deep copies (sweeps and matching rounds serialise
    tens of thousands of messages): strings, the commonest leaves, return at once, and
    each type's field names are looked up once."""
    kind = type(value)
    if kind is str:
        return value
    if isinstance(value, tuple):
        return tuple([_plain(v) for v in value])
    try:
        names = _FIELDS[kind]
    except KeyError:
        fields = getattr(kind, "__dataclass_fields__", None)
        names = _FIELDS[kind] = tuple(fields) if fields is not None else None
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


def to_dict(message: Message) -> dict[str, Any]:
    """JSON-able form: {"text": …, "blocks": [{"type": "header", …}, …]}."""
    return {
        "text": message.text,
        "blocks": [{"type": _NAMES[type(b)], **_plain(b)} for b in message.blocks],
    }


def from_dict(data: dict[str, Any]) -> Message:
    """Inverse of to_dict; blocks of an unknown type are dropped (the text still reads well)."""
    blocks: list[Block] = []
    for raw in data.get("blocks", []):
        kind = raw.get("type")
        body = {k: v for k, v in raw.items() if k != "type"}
        if kind == "fields":
            blocks.append(Fields(tuple((str(a), str(b)) for a, b in body["items"])))
        elif kind == "buttons":
            blocks.append(Buttons(tuple(Button(**b) for b in body["buttons"])))
        elif kind == "form":
            inputs = tuple(
                Input(**{**i, "options": tuple(Option(**o) for o in i.get("options", ()))})
                for i in body["inputs"]
            )
            blocks.append(Form(**{**body, "inputs": inputs}))
        elif kind in _TYPES:
            blocks.append(_TYPES[kind](**body))
    return Message(text=str(data.get("text", "")), blocks=tuple(blocks))
