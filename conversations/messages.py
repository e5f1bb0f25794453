"""The neutral outbound message: a plain-text fallback plus optional blocks.

Each adapter renders every block type: the renderers `match` on the block and end
in `assert_never`, so a block type added here is a type error in each of them until
it is rendered. Messages round-trip through JSON (`to_dict`, `from_dict`) because
proactive ones wait in the outbox; `from_dict` is where data that does not read
(an unknown block, an older shape) is upgraded or falls back to the plain text.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, assert_never, get_args, get_origin, get_type_hints

from conversations.payload_versions import CURRENT_VERSION, upgrade

log = logging.getLogger(__name__)

ButtonStyle = Literal["default", "primary", "danger"]
T = TypeVar("T")

# What a person typed is data, never markup. Text, Context and the message text are
# markdown we wrote; a value a person typed (a name, an agenda item, a note…) goes into
# it through `literal`, which backslash-escapes every character that could mark up,
# link or ping (and the dot or colon of anything that reads as an address, which a
# surface might turn into a link). Each renderer reads `\x` as "the character x, as
# typed" and shows it literally on its surface (`render`); `plain` gives the text as a
# person reads it.
_SPECIAL = re.compile(r"[\\*_`~<>\[\]|&!]|\.(?=\w)|:(?=//)|^[-•#+]|(?<=\n)[-•#+]")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_HOLD = 0xF0000  # supplementary private use area: never in our copy
_HELD = re.compile("[\U000f0000-\U000ffffd]")


def literal(text: str) -> str:
    """`text` (typed by a person) as markdown that shows exactly those characters."""
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def render(text: str, markup: Callable[[str], str], typed: Callable[[str], str]) -> str:
    """`text` for a surface: our markdown through `markup`, each character a person
    typed (escaped by `literal`) through `typed`, which escapes it for that surface.
    The typed characters are held out of `markup` (as private-use characters), so no
    markup rule can see them."""
    if "\\" not in text:
        return markup(text)
    chars: list[str] = []

    def hold(m: re.Match[str]) -> str:
        chars.append(m.group(1))
        return chr(_HOLD + len(chars) - 1)

    out = markup(_ESCAPED.sub(hold, text))
    return _HELD.sub(lambda m: typed(chars[ord(m.group(0)) - _HOLD]), out)


def plain(text: str) -> str:
    """The text as a person reads it: `literal`'s escapes undone (markdown kept)."""
    return _ESCAPED.sub(lambda m: m.group(1), text) if "\\" in text else text


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


def block_type(block: Block) -> str:
    """The block's `type` in JSON, which the web chat's renderer dispatches on. A block
    type added to `Block` and not named here is a type error (mypy), not a silent gap."""
    match block:
        case Header():
            return "header"
        case Text():
            return "text"
        case Fields():
            return "fields"
        case Buttons():
            return "buttons"
        case Divider():
            return "divider"
        case Context():
            return "context"
        case Form():
            return "form"
        case File():
            return "file"
        case _:
            assert_never(block)


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
    """JSON-able form: {"version": 2, "text": …, "blocks": [{"type": "header", …}, …]}.

    `version` is the shape's (conversations/payload_versions.py): a queued message may be
    read back by a later release, which upgrades it before `from_dict`."""
    return {
        "version": CURRENT_VERSION,
        "text": message.text,
        "blocks": [{"type": _type_name(b), **_plain(b)} for b in message.blocks],
    }


_NAMES: dict[type[Any], str] = {}


def _type_name(block: Block) -> str:
    """`block_type`, looked up once per class (a dict lookup is ten times cheaper than
    the match, and sweeps serialise tens of thousands of blocks)."""
    try:
        return _NAMES[type(block)]
    except KeyError:
        name = _NAMES[type(block)] = block_type(block)
        return name


def from_dict(data: dict[str, Any]) -> Message:
    """Inverse of to_dict, and the one place stored JSON becomes a message again: an older
    payload is upgraded to the current shape first, and nothing here raises. A block that
    does not read (an unknown type, a missing or ill-typed field) gives way to the
    message's plain text, once, in its place; when no block reads, the message is its
    text alone, which every surface shows."""
    try:
        current = upgrade(data) if isinstance(data, dict) else {}
    except Exception as err:  # an upgrade step that met a shape it did not expect
        # The exception's own text may quote the payload (what a person wrote): name its type.
        log.error(
            "could not upgrade a stored message (%s); sending what it says as text",
            type(err).__name__,
        )
        current = {"text": data.get("text")}
    text = current.get("text")
    text = text if isinstance(text, str) else "" if text is None else str(text)
    raw_blocks = current.get("blocks")
    blocks: list[Block] = []
    fell_back = False
    for raw in raw_blocks if isinstance(raw_blocks, list) else ():
        block = _block(raw)
        if block is not None:
            blocks.append(block)
        elif not fell_back:
            blocks.append(Text(text))
            fell_back = True
    if fell_back and len(blocks) == 1:
        blocks = []
    return Message(text=text, blocks=tuple(blocks))


def _block(raw: Any) -> Block | None:
    """One block from its JSON, or None when it does not read."""
    if not isinstance(raw, dict):
        return None
    kind = _TYPES.get(raw.get("type"))  # type: ignore[arg-type]
    if kind is None:
        return None
    try:
        if kind is Fields:
            return Fields(tuple((str(a), str(b)) for a, b in raw["items"]))
        if kind is Buttons:
            return Buttons(tuple(_build(Button, b) for b in raw["buttons"]))
        if kind is Form:
            inputs = tuple(
                _build(
                    Input, {**i, "options": tuple(_build(Option, o) for o in i.get("options", ()))}
                )
                for i in raw["inputs"]
            )
            return _build(Form, {**raw, "inputs": inputs})
        return _build(kind, raw)  # type: ignore[no-any-return]
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _build(cls: type[T], raw: dict[str, Any]) -> T:
    """`cls` from the keys of `raw` it has fields for (others are ignored, so a field a
    later release added does not stop an earlier one reading the block); a string,
    flag or choice field whose value is not one raises TypeError."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    values = {name: raw[name] for name in hints if name in raw}
    for name, value in values.items():
        hint = hints[name]
        if get_origin(hint) is Literal:
            ok = value in get_args(hint)
        elif hint is str or hint is bool:
            ok = isinstance(value, hint)
        else:
            ok = True
        if not ok:
            raise TypeError(f"{cls.__name__}.{name}: {value!r}")
    return cls(**values)
