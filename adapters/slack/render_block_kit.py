"""Neutral messages → Block Kit: message blocks, modals, the App Home view. Pure functions.

Slack rejects a whole message when one limit is broken, so every limit is
respected here rather than hoped for: long text is split at line (then word)
boundaries into several sections, a header or button label is shortened with
an ellipsis, more than 50 blocks become several messages (`to_messages`).
Text is converted to mrkdwn and escaped, so what a person typed can never
become `<!channel>` or a fake link; the engine's own links and mentions are kept.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, assert_never

from conversations.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    File,
    Form,
    Header,
    Input,
    Message,
    Text,
)

MAX_BLOCKS = 50  # a message or an ephemeral response
MAX_VIEW_BLOCKS = 100  # a modal or the home tab
MAX_TEXT = 3000  # section text, context element
MAX_FIELD = 2000  # one section field
MAX_FIELDS = 10  # fields in one section
MAX_HEADER = 150
MAX_BUTTON_LABEL = 75
MAX_VALUE = 2000  # button value
MAX_BUTTONS = 25  # elements in one actions block
MAX_TITLE = 24  # modal title, submit and close labels
MAX_INPUT_VALUE = 3000  # plain_text_input initial_value and max_length
MAX_PLACEHOLDER = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_METADATA = 3000
MAX_FALLBACK = 3000  # top-level text next to blocks: only a notification preview

ACTION_SEPARATOR = "#"  # Slack wants action_ids unique in a block: `run#0`, `run#1`
FORM_CALLBACK = "form:"  # a modal's callback_id is `form:<form_id>`

_KEEP = re.compile(
    r"<(?:(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>]*)?|[@#][UWC][A-Z0-9]+(?:\|[^<>]*)?)>"
)
_BULLET = re.compile(r"^(\s*)- ", re.MULTILINE)


def escape(text: str) -> str:
    """Escape &, < and > as Slack asks, for text that carries no markup at all."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@functools.lru_cache(maxsize=4096)  # pure; the same labels and hints come back every turn
def mrkdwn(text: str) -> str:
    """The neutral markdown subset as Slack mrkdwn.

    *bold*, _italic_ and `code` are the same; links `<url|label>` and user
    mentions `<@U1|name>` are kept; any other `<…>` (`<!here>`, `<!channel>`)
    and every `&` are escaped; `- ` list lines become `• `.
    """
    out: list[str] = []
    last = 0
    for match in _KEEP.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(escape(text[last:]))
    return _BULLET.sub(r"\1• ", "".join(out))


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, ending in … when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` (longer than limit): a line end, else a space, else a hard cut
    that does not split a `<link|label>` or an `&amp;` entity."""
    window = text[:limit]
    for sep in ("\n", " "):
        at = window.rfind(sep)
        if at > limit // 2:
            return at + 1
    cut = limit
    opening = window.rfind("<")
    if opening > window.rfind(">") and opening > 0:
        cut = opening
    amp = window.rfind("&", cut - 8 if cut > 8 else 0, cut)
    if amp != -1 and ";" not in window[amp:cut]:
        cut = amp
    return cut if cut > 0 else limit


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line or word boundaries; none empty."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _text_blocks(text: str) -> list[dict[str, Any]]:
    return [_section(piece) for piece in split_text(mrkdwn(text) or " ")]


def _field_blocks(items: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    fields = [
        {
            "type": "mrkdwn",
            "text": shorten(f"*{mrkdwn(label)}*\n{mrkdwn(value) or '—'}", MAX_FIELD),
        }
        for label, value in items
    ]
    return [
        {"type": "section", "fields": fields[i : i + MAX_FIELDS]}
        for i in range(0, len(fields), MAX_FIELDS)
    ]


def _button(button: Button, index: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(button.label, MAX_BUTTON_LABEL),
        "action_id": f"{button.action_id}{ACTION_SEPARATOR}{index}"[:255],
        "value": button.value,
    }
    if button.style != "default":
        element["style"] = button.style
    return element


def _button_blocks(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Buttons in rows of 25. A value over Slack's 2,000 characters cannot be shortened
    without changing what the button does, so that one becomes a line of text instead."""
    fitting = [b for b in buttons if len(b.value) <= MAX_VALUE]
    blocks = [
        {
            "type": "actions",
            "elements": [_button(b, i + n) for n, b in enumerate(fitting[i : i + MAX_BUTTONS])],
        }
        for i in range(0, len(fitting), MAX_BUTTONS)
    ]
    for b in buttons:
        if len(b.value) > MAX_VALUE:
            blocks.append(_context(f"{b.label}: type `/mentor {b.value}`"))
    return blocks


def _context(text: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": shorten(mrkdwn(text), MAX_TEXT)}],
    }


def _file_line(file: File) -> dict[str, Any]:
    """A file cannot ride in a message body: it is uploaded beside the message into the
    person's DM with the bot (an ephemeral answer cannot carry one), so say where it is."""
    kind = "calendar invite" if file.mime.startswith("text/calendar") else "file"
    return _context(f"📎 {file.filename} ({kind}): sent as a file in your messages with the bot.")


def _form_summary(form: Form) -> list[dict[str, Any]]:
    """A form inside a message (Slack only takes input in modals): its current values."""
    blocks = _text_blocks(f"*{form.title}*")
    items = tuple((i.label, i.value) for i in form.inputs)
    if items:
        blocks.extend(_field_blocks(items))
    errors = [f"{i.label}: {i.error}" for i in form.inputs if i.error]
    if errors:
        blocks.extend(_text_blocks("\n".join(f"- {e}" for e in errors)))
    return blocks


def block_kit(block: Block) -> list[dict[str, Any]]:
    """One neutral block as Block Kit blocks (several when a limit forces a split).

    Every block type has its arm: a new one is a type error here until it is rendered
    (data that does not read as a block never gets this far: messages.from_dict)."""
    match block:
        case Header():
            return [{"type": "header", "text": _plain(block.text, MAX_HEADER)}]
        case Text():
            return _text_blocks(block.text)
        case Fields():
            return _field_blocks(block.items)
        case Buttons():
            return _button_blocks(block.buttons)
        case Divider():
            return [{"type": "divider"}]
        case Context():
            return [_context(block.text)]
        case Form():
            return _form_summary(block)
        case File():
            return [_file_line(block)]
        case _:
            assert_never(block)


def to_blocks(message: Message) -> list[dict[str, Any]]:
    """Every block of the message in Block Kit, each within Slack's per-block limits.

    There may be more than 50; `to_messages` splits them into postable messages.
    A message without blocks is its text.
    """
    if not message.blocks:
        return _text_blocks(message.text)
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        blocks.extend(block_kit(block))
    return blocks


def fallback_text(message: Message) -> str:
    """The top-level `text`: notifications and screen readers show it."""
    return shorten(message.text.strip() or "New message from mentorbot", MAX_FALLBACK)


def to_messages(message: Message) -> list[dict[str, Any]]:
    """`{"text", "blocks"}` bodies for chat.postMessage or a response, ≤ 50 blocks each."""
    blocks = to_blocks(message)
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]
    text = fallback_text(message)
    bodies: list[dict[str, Any]] = []
    for n, chunk in enumerate(chunks):
        body: dict[str, Any] = {"text": text if n == 0 else "(continued)"}
        if chunk:  # Slack refuses an empty blocks list; the text alone is a message
            body["blocks"] = chunk
        bodies.append(body)
    return bodies


def without_forms(message: Message) -> Message:
    """The message with its form taken out (it went to a modal)."""
    return Message(message.text, tuple(b for b in message.blocks if not isinstance(b, Form)))


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}


def _element(field: Input) -> dict[str, Any]:
    name = field.name
    if field.kind in ("text", "multiline"):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": name,
            "multiline": field.kind == "multiline",
            "max_length": MAX_INPUT_VALUE,
        }
        if field.value and len(field.value) <= MAX_INPUT_VALUE:
            element["initial_value"] = field.value
        if field.placeholder:
            element["placeholder"] = _plain(field.placeholder, MAX_PLACEHOLDER)
        return element
    if field.kind in ("select", "multiselect"):
        options = [_option(o.value, o.label) for o in field.options[:MAX_OPTIONS]]
        element = {
            "type": "static_select" if field.kind == "select" else "multi_static_select",
            "action_id": name,
            "options": options,
        }
        chosen = [v.strip() for v in field.value.split(",")] if field.value else []
        initial = [o for o in options if o["value"] in chosen]
        if initial and field.kind == "select":
            element["initial_option"] = initial[0]
        elif initial:
            element["initial_options"] = initial
        return element
    if field.kind == "date":
        element = {"type": "datepicker", "action_id": name}
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", field.value):
            element["initial_date"] = field.value
        return element
    element = {"type": "timepicker", "action_id": name}
    if re.fullmatch(r"\d{2}:\d{2}", field.value):
        element["initial_time"] = field.value
    return element


def too_long_for_a_modal(form: Form) -> list[str]:
    """Text inputs whose current value Slack cannot show in a modal (over 3,000 characters)."""
    return [
        i.name
        for i in form.inputs
        if i.kind in ("text", "multiline") and len(i.value) > MAX_INPUT_VALUE
    ]


def to_modal(form: Form, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The form as a modal for views.open / views.update.

    private_metadata carries the form id, the caller's `metadata` (e.g. where to
    answer) and `keep`: inputs whose stored value was too long to show, so an
    empty submission of those means "unchanged", not "cleared".
    """
    keep = too_long_for_a_modal(form)
    blocks: list[dict[str, Any]] = []
    for field in form.inputs[:MAX_VIEW_BLOCKS]:
        hint = field.hint
        if field.name in keep:
            hint = (
                f"Your current text is {len(field.value)} characters, more than a Slack form "
                "shows. Leave this empty to keep it."
            )
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.name,
            "label": _plain(field.label, MAX_FIELD),
            "element": _element(field),
            "optional": field.optional or field.name in keep,
        }
        if hint:
            block["hint"] = _plain(hint, MAX_FIELD)
        blocks.append(block)
    meta = json.dumps({"form_id": form.form_id, "keep": keep, **(metadata or {})})
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK + form.form_id,
        "title": _plain(form.title, MAX_TITLE),
        "submit": _plain(form.submit_label, MAX_TITLE),
        "close": _plain("Cancel", MAX_TITLE),
        "private_metadata": meta[:MAX_METADATA],
        "blocks": blocks,
    }


def view_errors(form: Form) -> dict[str, str]:
    """`response_action: errors` for a submitted form the engine sent back with errors."""
    return {i.name: shorten(i.error, MAX_FIELD) for i in form.inputs if i.error}


def to_home_view(message: Message) -> dict[str, Any]:
    """The App Home tab: the message's blocks, capped at the tab's 100."""
    blocks = to_blocks(message)
    if len(blocks) > MAX_VIEW_BLOCKS:
        blocks = [*blocks[: MAX_VIEW_BLOCKS - 1], _context("More in `/mentor status`.")]
    return {"type": "home", "blocks": blocks}
