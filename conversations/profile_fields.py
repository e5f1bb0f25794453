"""Profile keys: what each accepts, in words a person can act on.

One table drives `profile set`, the profile form and help, so the three never
disagree about names, forms or limits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from conversations.grammar import split_list
from conversations.matching.settings import PREFERENCES
from conversations.messages import literal

MAX_TOPICS = 25
MAX_TOPIC_CHARS = 100
MAX_TEXT_CHARS = 4000
MAX_SHORT_CHARS = 200
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FieldError(ValueError):
    pass


Value = str | int | list[str] | None


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise FieldError("contains control characters")
    return value


def _topics(value: str) -> list[str]:
    items = split_list(_no_control(value))
    if len(items) > MAX_TOPICS:
        raise FieldError(f"has {len(items)} topics; at most {MAX_TOPICS}")
    long = [t for t in items if len(t) > MAX_TOPIC_CHARS]
    if long:
        raise FieldError(f"a topic is over {MAX_TOPIC_CHARS} characters")
    return items


def _text(limit: int) -> Callable[[str], str | None]:
    def parse(value: str) -> str | None:
        """Kept exactly as typed (spaces included); blank means cleared."""
        _no_control(value)
        if len(value) > limit:
            raise FieldError(f"is {len(value)} characters; at most {limit}")
        return value if value.strip() else None

    return parse


def _whole_number(low: int, high: int) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if not value.strip():
            return None
        wrong = FieldError(f"must be a whole number from {low} to {high}")
        try:
            number = int(value.strip())
        except ValueError:
            raise wrong from None
        if not low <= number <= high:
            raise wrong
        return number

    return parse


def _timezone(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        lowered = value.lower().replace(" ", "_")
        matches = [tz for tz in available_timezones() if tz.lower().endswith("/" + lowered)]
        hint = f" (did you mean {matches[0]}?)" if len(matches) == 1 else ""
        raise FieldError(f"“{literal(value)}” is not an IANA time zone name{hint}") from None
    return value


def _languages(value: str) -> list[str]:
    items = split_list(_no_control(value))
    bad = [code for code in items if not _LANGUAGE.match(code)]
    if bad:
        raise FieldError(f"{', '.join(bad)} is not a language code like en, de or pt-BR")
    return items


def _preferences(value: str) -> list[str]:
    items = [item.lower() for item in split_list(_no_control(value))]
    bad = [item for item in items if item not in PREFERENCES]
    if bad:
        raise FieldError(f"{', '.join(bad)[:80]} is not one of {', '.join(PREFERENCES)}")
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class ProfileField:
    key: str
    label: str
    form: str  # how to write it, shown in errors and help
    parse: Callable[[str], Value]
    multiline: bool = False


FIELDS: dict[str, ProfileField] = {
    f.key: f
    for f in (
        ProfileField("offers", "What I can offer", 'offers="public speaking, python"', _topics),
        ProfileField("wants", "What I want to learn", 'wants="leadership, negotiation"', _topics),
        ProfileField(
            "goals", "My goals", 'goals="lead a team within a year"', _text(MAX_TEXT_CHARS), True
        ),
        ProfileField("department", "Department", "department=Engineering", _text(MAX_SHORT_CHARS)),
        ProfileField("manager", "Manager", "manager=@person", lambda v: v),
        ProfileField("level", "Level (1–10)", "level=5", _whole_number(1, 10)),
        ProfileField("timezone", "Time zone", "timezone=Europe/Berlin", _timezone),
        ProfileField("languages", "Languages", "languages=en,de", _languages),
        ProfileField("capacity", "Mentees at once (mentors)", "capacity=2", _whole_number(0, 10)),
        ProfileField(
            "prefers", "Match preferences", "prefers=other-department,senior", _preferences
        ),
    )
}


def parse_field(key: str, raw: str) -> Value:
    """The stored value for `key=raw`; FieldError says what is wrong, for a person."""
    return FIELDS[key].parse(raw)
