"""Neutral message → Adaptive Card 1.5 (the highest version Teams renders in bot cards).

Pure functions over plain dicts. Buttons become Action.Submit whose data carries
the neutral action under "mentorbot"; a form becomes Input.* elements whose ids
are the field names (Teams merges their values into the submitted data), with
its submit button carrying the form id. An error on an input is shown under it,
and the input keeps the value the person typed. Every block type has its arm (a new
one is a type error until it does); a block that fails to render becomes the
message's plain text, so nothing here raises.

A File block is a line on the card; the file itself rides beside the card as a
FileConsentCard naming it by the token it was offered under (files.py says why), in
personal chats only; with `inline_images` (a channel post) an image file is shown in
the card as an Image with a data: URI.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Sequence
from typing import Any, assert_never

from adapters.teams.files import consent_attachment, describe
from conversations.markup import plain_text, without_code
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
    plain,
    render,
)

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ACTION_KEY = "mentorbot"

_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)\|([^>]+)>")
_MENTION = re.compile(r"<@[^|>\s]+\|([^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_BULLET = re.compile(r"^(\s*)• ", re.MULTILINE)
_STYLES = {"primary": "positive", "danger": "destructive"}


_MARKDOWN_SPECIAL = frozenset("\\*_`~[]()<>#+-!|&=")
WORD_JOINER = "\u2060"


def card_literal(char: str) -> str:
    """One character a person typed, as card markdown that shows it and nothing more:
    markdown specials are backslash-escaped, and a word joiner after a dot or colon
    keeps Teams from turning `evil.com` or `https://…` into a link."""
    if char in _MARKDOWN_SPECIAL:
        return "\\" + char
    if char in ".:@":
        return char + WORD_JOINER
    return char


def to_card_markdown(text: str) -> str:
    """Our markdown subset → Adaptive Card markdown; what a person typed
    (messages.literal) stays literal text.

    *bold* → **bold**; _italic_ stays; `code` loses its backticks (cards show them raw);
    <url|label> → [label](url); `• ` items become `- ` list items; a mention <@id|Name>
    reads as @Name; a line break becomes the blank line Teams needs (single inside a list).
    """
    return render(text, _card_markdown, card_literal)


def _card_markdown(text: str) -> str:
    text = without_code(text)  # cards have no inline code: `/mentor status` would show raw
    text = _LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", text)
    text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _BOLD.sub(lambda m: f"**{m.group(1)}**", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}- ", text)
    return _line_breaks(text)


def _line_breaks(text: str) -> str:
    """Teams needs a blank line for a line break in a TextBlock, but one inside a list
    (a blank line there indents the next item)."""
    lines = text.split("\n")
    out = lines[0]
    for previous, line in itertools.pairwise(lines):
        in_list = previous.lstrip().startswith("- ") and line.lstrip().startswith("- ")
        out += ("\n" if in_list or not previous.strip() or not line.strip() else "\n\n") + line
    return out


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": to_card_markdown(text), "wrap": True, **style}


def _submit(title: str, data: dict[str, str], style: str = "default") -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": {ACTION_KEY: data}}
    if style in _STYLES:
        action["style"] = _STYLES[style]
    return action


def button_action(button: Button) -> dict[str, Any]:
    return _submit(
        plain(button.label), {"action_id": button.action_id, "value": button.value}, button.style
    )


_INPUT_TYPES = {
    "select": "Input.ChoiceSet",
    "multiselect": "Input.ChoiceSet",
    "date": "Input.Date",
    "time": "Input.Time",
}


def _input(field: Input) -> list[dict[str, Any]]:
    element: dict[str, Any] = {
        "type": _INPUT_TYPES.get(field.kind, "Input.Text"),
        "id": field.name,
        "label": plain(field.label),
    }
    if field.kind in ("select", "multiselect"):
        element["style"] = "compact"
        element["choices"] = [{"title": plain(o.label), "value": o.value} for o in field.options]
        if field.kind == "multiselect":
            element["isMultiSelect"] = True
    elif field.kind == "multiline":
        element["isMultiline"] = True
    if field.value:
        element["value"] = field.value
    if field.placeholder:
        element["placeholder"] = field.placeholder
    if not field.optional:
        element["isRequired"] = True
        element["errorMessage"] = f"{plain(field.label)} is required."
    elements = [element]
    if field.error:
        elements.append(
            {
                "type": "TextBlock",
                "text": to_card_markdown(field.error),
                "wrap": True,
                "color": "Attention",
            }
        )
    elif field.hint:
        elements.append(_text(field.hint, isSubtle=True, size="Small", spacing="None"))
    return elements


def _form(form: Form) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [_text(form.title, weight="Bolder", size="Medium")]
    for field in form.inputs:
        items.extend(_input(field))
    submit = _submit(
        form.submit_label, {"action_id": "form.submit", "form_id": form.form_id}, "primary"
    )
    items.append({"type": "ActionSet", "actions": [submit]})
    return [{"type": "Container", "items": items}]


def _file_line(file: File, attached: bool) -> str:
    if attached:
        return f"📎 {file.filename} ({describe(file)}): press Allow below to save it, then open it."
    return (
        f"📎 The {describe(file)} ({file.filename}) comes only in a personal chat with me: "
        "ask there to have it."
    )


def _inline_image(file: File) -> dict[str, Any]:
    """An image file shown in the card itself, as a data: URI (a channel, where file
    consent cards are refused)."""
    content = file.content if file.encoding == "base64" else base64.b64encode(file.data()).decode()
    return {
        "type": "Image",
        "url": f"data:{file.mime};base64,{content}",
        "altText": file.filename,
        "size": "Stretch",
    }


def _block(block: Block, files: bool = True, inline_images: bool = False) -> list[dict[str, Any]]:
    """One block's card elements. Every block type has its arm: a new one is a type error
    here until it is rendered."""
    match block:
        case Header():
            return [_text(block.text, size="Large", weight="Bolder")]
        case Text():
            return [_text(block.text)]
        case Context():
            return [_text(block.text, isSubtle=True, size="Small")]
        case Fields():
            facts = [
                {"title": label, "value": to_card_markdown(value)} for label, value in block.items
            ]
            return [{"type": "FactSet", "facts": facts}]
        case Buttons():
            return [{"type": "ActionSet", "actions": [button_action(b) for b in block.buttons]}]
        case Divider():
            return []  # to_adaptive_card puts a separator on the next element instead
        case Form():
            return _form(block)
        case File() if inline_images and block.mime.startswith("image/"):
            return [_inline_image(block)]
        case File():
            return [_text(_file_line(block, files), isSubtle=True, size="Small")]
        case _:
            assert_never(block)


def to_adaptive_card(
    message: Message, *, files: bool = True, inline_images: bool = False
) -> dict[str, Any]:
    """The message as an Adaptive Card; its plain text is the card's fallback. `files`:
    whether the message's files go beside the card (their lines say so); `inline_images`:
    image files are shown in the card instead (data: URIs)."""
    body: list[dict[str, Any]] = []
    separate = False
    for block in message.blocks:
        if isinstance(block, Divider):
            separate = bool(body)
            continue
        try:
            elements = _block(block, files, inline_images)
        except Exception:  # a malformed block still leaves a readable card
            elements = [_text(message.text)]
        if separate and elements:
            elements[0] = {**elements[0], "separator": True}
            separate = False
        body.extend(elements)
    if not body:
        body.append(_text(message.text))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": render(message.text, plain_text, str),  # shown as is where cards are not
        "body": body,
    }


def to_activity(
    message: Message, *, offers: Sequence[str] = (), inline_images: bool = False
) -> dict[str, Any]:
    """The Bot Framework message activity for a neutral message (JSON form).

    A message without blocks is plain text; with blocks it is one Adaptive Card
    (no text beside it, or Teams would show the words twice) and a summary for
    notifications. `offers` are the tokens the message's files were offered under
    (a personal chat), one per file in order: each adds a FileConsentCard after the
    card. Without them the card's file lines say the files come in a personal chat.
    """
    if not message.blocks:
        text = render(message.text, str, card_literal)
        return {"type": "message", "text": text, "textFormat": "markdown"}
    files = message.files()
    offered = len(offers) == len(files) > 0
    content = to_adaptive_card(message, files=offered, inline_images=inline_images)
    card = {"contentType": CARD_CONTENT_TYPE, "content": content}
    consents = (
        [consent_attachment(f, t) for f, t in zip(files, offers, strict=True)] if offered else []
    )
    activity: dict[str, Any] = {
        "type": "message",
        "summary": render(message.text, plain_text, str).split("\n", 1)[0][:200],
        "attachments": [card, *consents],
    }
    if consents:
        activity["attachmentLayout"] = "list"
    return activity
