"""The small words people type to a bot ("hi", "thanks!", "what can you do?"), recognised
so that they get a friendly answer instead of "I don't know the command"."""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["greeting", "thanks", "help"]

_WORDS: dict[str, Kind] = {
    **dict.fromkeys(
        (
            "hi",
            "hello",
            "hey",
            "hiya",
            "howdy",
            "yo",
            "hallo",
            "good morning",
            "good afternoon",
            "good evening",
            "morning",
            "hi there",
            "hello there",
            "hey there",
        ),
        "greeting",
    ),
    **dict.fromkeys(
        (
            "thanks",
            "thank you",
            "thx",
            "ty",
            "cheers",
            "thanks a lot",
            "thank you so much",
            "many thanks",
            "great thanks",
            "ok thanks",
            "thanks bot",
            "merci",
            "danke",
        ),
        "thanks",
    ),
    **dict.fromkeys(
        (
            "what can you do",
            "what do you do",
            "what can i do",
            "what are you",
            "what is this",
            "who are you",
            "how does this work",
            "how do i start",
            "commands",
            "help me",
            "menu",
            "options",
            "?",
        ),
        "help",
    ),
}
_NOISE = re.compile(r"[!?.,:;)(\s]+")


def small_talk(body: str) -> Kind | None:
    """What kind of small talk `body` (the line without its /mentor prefix) is, if any."""
    words = _NOISE.sub(" ", body.lower().replace("’", "'")).strip()
    if not words and body.strip() == "?":
        return "help"
    return _WORDS.get(words)
