"""Our markdown subset (conversations/messages.py: *bold*, _italic_, `code`, <url|label>
links, <@id|Name> mentions) for surfaces that cannot show it: the console prints plain
text, and Adaptive Cards have no inline code. Emphasis marks count only at word edges, as
in Slack, so snake_case, 2*3*4 or an e-mail stay as typed."""

from __future__ import annotations

import re

_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]+))?>")
_MENTION = re.compile(r"<@[^|>\s]+\|([^>]+)>")


def without_code(text: str) -> str:
    """`code` spans as their text: `/mentor status` reads /mentor status."""
    return _CODE.sub(r"\1", text)


def plain_text(text: str) -> str:
    """The subset as plain text: marks dropped, a link as "label (url)", a mention as
    @Name."""
    text = without_code(text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _BOLD.sub(r"\1", text)
    return _ITALIC.sub(r"\1", text)
