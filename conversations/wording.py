"""Small helpers that keep messages reading like a person wrote them: a count with the
right noun ("1 meeting", "3 meetings", never "meeting(s)") and the program named the way
a sentence needs it ("Welcome to the mentoring program", "Welcome to Acme Mentoring")."""

from __future__ import annotations

# Nouns whose plural is not the noun plus "s".
_IRREGULAR = {"person": "people"}
# A program left with the default name, or one named like it, reads as a common noun.
_GENERIC_NAMES = frozenset({"mentoring program", "mentoring programme", "mentoring"})


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the noun in the form `n` needs: plural(1, "meeting") == "1 meeting",
    plural(3, "meeting") == "3 meetings"; `many` gives an irregular plural."""
    if n == 1:
        return f"{n} {word}"
    if many is None:
        many = _IRREGULAR.get(word) or (
            word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
        )
    return f"{n} {many}"


def program_phrase(name: str) -> str:
    """The program's name as it reads inside a sentence: a generic name such as the
    default "Mentoring program" becomes "the mentoring program"; a proper name is kept."""
    cleaned = " ".join(name.split())
    if cleaned.lower() in _GENERIC_NAMES:
        return "the " + cleaned.lower() + (" program" if cleaned.lower() == "mentoring" else "")
    return cleaned


def sentence(reason: object) -> str:
    """A reason (an exception's message, "no date given") as a sentence of its own, so a
    reply never reads "I couldn't use that time: I couldn't read …"."""
    text = str(reason).strip().rstrip(".")
    return (text[:1].upper() + text[1:] + ".") if text else ""
