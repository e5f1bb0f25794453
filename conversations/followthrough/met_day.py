"""The day a `met` is about: a leading date phrase (`met yesterday`, `met on friday`,
`met on 10 March great chat`) is the date, never the start of the private note.

Meetings are logged after the fact, so a bare weekday or a day-and-month is the most
recent one (`friday` on a Sunday is two days ago, `10 March` on 30 April is this
year's); a day still ahead (`tomorrow`) is refused with the right form, not saved as a
note. Pure: time and zone are passed in.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

from conversations.dates import DateError, parse_date, today_in

_WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_MONTHS = {m.lower() for m in (*calendar.month_name, *calendar.month_abbr) if m} | {"sept"}
_AGO = re.compile(r"(\d{1,3}|a|an|one|two|three|four) (days?|weeks?) ago")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
LONGEST = 3  # words a date phrase may take: `1 Dec 2026`, `2 days ago`


class DayAhead(ValueError):
    """The phrase names a day after today: nothing can have been held then yet."""

    def __init__(self, day: date) -> None:
        super().__init__(f"{day:%a %d %b %Y} is ahead")
        self.day = day


def _weekday(word: str, loose: bool) -> int | None:
    """A weekday's number; abbreviations (`fri`) only when `loose` (after `on`), so a note
    that starts "sat down with…" stays a note."""
    found = [
        i
        for i, name in enumerate(_WEEKDAYS)
        if word == name or (loose and len(word) >= 3 and name.startswith(word))
    ]
    return found[0] if len(found) == 1 else None


def past_day(phrase: str, now: datetime, tz: str, *, loose: bool = True) -> date | None:
    """The day `phrase` names, read as a day already come (today included); None when it
    is not a date at all; DayAhead when it names a later day. `loose`: abbreviated
    weekdays count too."""
    text = " ".join(phrase.lower().replace(",", " ").split())
    today = today_in(now, tz)
    words = text.split()
    if len(words) == 2 and words[0] == "last" and (wd := _weekday(words[1], True)) is not None:
        return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    if len(words) == 1 and (wd := _weekday(words[0], True)) is not None:
        if _weekday(words[0], loose) is None:
            return None  # `sat …` opening a note
        return today - timedelta(days=(today.weekday() - wd) % 7)
    match = _AGO.fullmatch(text)
    if match:
        count = _NUMBERS.get(match.group(1)) or int(match.group(1))
        return today - timedelta(days=count * (7 if match.group(2).startswith("week") else 1))
    try:
        day = parse_date(text, now, tz)
    except DateError:
        return None
    named_month = any(w.rstrip(".") in _MONTHS for w in words)
    if day > today and named_month and not re.search(r"\b\d{4}\b", text):
        # `10 March` on 30 April was read as next year's, `30 Nov` on 7 Jan as this year's
        # (both ahead); a log means the last one: this year's, else last year's.
        for year in (today.year, today.year - 1):
            try:
                earlier = day.replace(year=year)
            except ValueError:  # 29 February
                continue
            if earlier <= today:
                return earlier
    if day > today:
        raise DayAhead(day)
    return day


def leading_day(words: list[str], now: datetime, tz: str) -> tuple[date | None, list[str]]:
    """Split a leading date phrase (optionally after `on`) off the words: (day or None,
    the rest, which is the note). Words that do not start with a date are all note."""
    explicit = bool(words) and words[0].lower() == "on"
    body = words[1:] if explicit else words
    for n in range(min(LONGEST, len(body)), 0, -1):
        day = past_day(" ".join(body[:n]), now, tz, loose=explicit)
        if day is not None:
            return day, body[n:]
    return None, list(words)
