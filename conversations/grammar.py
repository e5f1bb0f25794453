"""The `/mentor` command-line grammar: tokens, key=value pairs and @mentions.

Tolerant by design: curly quotes become straight ones, an unbalanced quote
runs to the end of the line, and nothing here raises on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Opening quote → the characters that may close it (phones and Macs type curly quotes).
_CLOSERS = {'"': '"”“', "'": "'’", "“": '”"“', "„": '“”"', "«": "»", "‘": "’'"}
_PREFIX = re.compile(r"^\s*/?mentor\b\s*", re.IGNORECASE)
# Slack escapes mentions as <@U123|name> or <@U123>; local chat and plain Slack use @name.
_SLACK_MENTION = re.compile(r"^<@([A-Za-z0-9._-]+)(?:\|([^>]*))?>$")
_PLAIN_MENTION = re.compile(r"^@([\w.\-]+)$", re.UNICODE)


@dataclass(frozen=True)
class Mention:
    """A person named in a command: by platform user id, by name, or both."""

    user_id: str | None
    name: str | None

    def label(self) -> str:
        return f"@{self.name or self.user_id}"


@dataclass(frozen=True)
class ParsedLine:
    verb: str
    args: tuple[str, ...]
    rest: str  # the text after the verb, as typed (quotes kept): for free text


def strip_prefix(line: str) -> str:
    """`/mentor status`, `mentor status` and `status` all mean `status`; so does
    `/mentor /mentor status` (the prefix typed after Slack's own)."""
    stripped = _PREFIX.sub("", line, count=1)
    while stripped.startswith("/") and (again := _PREFIX.sub("", stripped, count=1)) != stripped:
        stripped = again
    return stripped


def tokenize(text: str) -> list[str]:
    """Split on whitespace, honouring quotes that open a token or a value; never raises.

    A quote in the middle of a word (an apostrophe) is kept as typed, so the
    text inside quotes is stored exactly as the person wrote it.
    """
    tokens: list[str] = []
    current: list[str] = []
    closers: str | None = None
    in_token = False
    for ch in text:
        if closers:
            if ch in closers:
                closers = None
            else:
                current.append(ch)
        elif ch in _CLOSERS and (not in_token or current[-1:] == ["="]):
            closers = _CLOSERS[ch]
            in_token = True
        elif ch.isspace():
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
        else:
            current.append(ch)
            in_token = True
    if in_token:
        tokens.append("".join(current))
    return tokens


def parse_line(line: str) -> ParsedLine:
    body = strip_prefix(line).strip()
    tokens = tokenize(body)
    if not tokens:
        return ParsedLine(verb="", args=(), rest="")
    verb = tokens[0].lower()
    rest = body.split(None, 1)[1] if len(body.split(None, 1)) > 1 else ""
    return ParsedLine(verb=verb, args=tuple(tokens[1:]), rest=rest)


def parse_mention(token: str) -> Mention | None:
    token = token.strip()
    match = _SLACK_MENTION.match(token)
    if match:
        return Mention(user_id=match.group(1), name=match.group(2) or None)
    match = _PLAIN_MENTION.match(token)
    if match:
        return Mention(user_id=None, name=match.group(1))
    return None


def split_key_values(args: tuple[str, ...]) -> tuple[list[tuple[str, str]], list[str]]:
    """`key=value` tokens in order, plus the tokens that were not of that form."""
    pairs: list[tuple[str, str]] = []
    loose: list[str] = []
    for token in args:
        key, sep, value = token.partition("=")
        if sep and key:
            pairs.append((key.strip().lower(), value))
        else:
            loose.append(token)
    return pairs, loose


def split_list(value: str) -> list[str]:
    """`a, b ,c` → ['a', 'b', 'c']; empty items dropped, order and case kept."""
    return [item.strip() for item in value.split(",") if item.strip()]
