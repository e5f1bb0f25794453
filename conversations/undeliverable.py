"""What a person is told when a message for them could not be delivered at all."""

from __future__ import annotations

from typing import Any

from conversations.messages import Message, Text, from_dict, literal

UNDELIVERABLE_KIND = "undeliverable"


def undeliverable_notice(payload: dict[str, Any], kind: str) -> Message:
    """A short notice in place of a message that failed for good: what it was (its files
    by name, else its kind), never its content, and what to try instead."""
    files = [f.filename for f in from_dict(payload).files()] if payload else []
    what = (
        "your " + ", ".join(literal(name) for name in files)
        if files
        else f"a message ({literal(kind)})"
    )
    text = (
        f"I couldn't deliver {what} to you here. Try again (for an export, "
        "`/mentor export-data`), from Slack or the web chat if you use them, or ask your "
        "program team for help."
    )
    return Message.of(Text(text))
