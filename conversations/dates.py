"""Understanding dates people type: `2026-12-01`, `1 Dec`, `Dec 1 2027`, `friday`,
`next monday`, `tomorrow`, `in 2 weeks`, `12/01/2026` is refused as ambiguous.

Relative phrases are read in the speaker's time zone as of `now`.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAYS.update({name.lower(): i for i, name in enumerate(calendar.day_abbr)})
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30}

DATE_FORMS = "2026-12-01, 1 Dec, Dec 1 2027, friday, next monday, tomorrow or in 2 weeks"


class DateError(ValueError):
    """The phrase is not a date we understand; the message says why, for the person."""


def today_in(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def parse_date(phrase: str, now: datetime, tz: str) -> date:
    """The calendar date `phrase` names, as seen in `tz` at `now`."""
    text = " ".join(phrase.lower().replace(",", " ").split())
    today = today_in(now, tz)
    if not text:
        raise DateError("no date given")
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    match = re.fullmatch(r"in (\d{1,3}|a|an|one|two|three|four) (days?|weeks?|months?)", text)
    if match:
        words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
        count = words.get(match.group(1)) or int(match.group(1))
        unit = match.group(2)
        if unit.startswith("month"):
            return add_months(today, count)
        return today + timedelta(days=count * _UNITS[unit])
    match = re.fullmatch(r"(next )?([a-z]+)", text)
    if match and match.group(2) in _WEEKDAYS:
        ahead = (_WEEKDAYS[match.group(2)] - today.weekday()) % 7 or 7
        if (
            match.group(1)
            and ahead < 7
            and (today + timedelta(days=ahead)).isocalendar()[1] == (today.isocalendar()[1])
        ):
            ahead += 7
        return today + timedelta(days=ahead)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)), phrase)
    if re.fullmatch(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}", text):
        raise DateError(f"“{phrase}” could be day/month or month/day; write it as YYYY-MM-DD")
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)(?: (\d{4}))?", text) or None
    day_first = True
    if not match:
        match = re.fullmatch(r"([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?", text)
        day_first = False
    if match:
        day_s, month_s = (
            (match.group(1), match.group(2))
            if day_first
            else (
                match.group(2),
                match.group(1),
            )
        )
        if month_s not in _MONTHS:
            raise DateError(f"“{month_s}” is not a month")
        year = int(match.group(3)) if match.group(3) else today.year
        result = _make(year, _MONTHS[month_s], int(day_s), phrase)
        if not match.group(3) and result < today:
            result = _make(year + 1, _MONTHS[month_s], int(day_s), phrase)
        return result
    raise DateError(f"I couldn't read “{phrase}” as a date")


def _make(year: int, month: int, day: int, phrase: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"“{phrase}” is not a real date") from None


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def start_of_day(day: date, tz: str) -> datetime:
    """Midnight of `day` in `tz`, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


DATETIME_FORMS = "tomorrow 3pm, next Tue 10:00, friday at 9:30, 3 Dec 14:00 or 2026-12-03 15:00"
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?")


def parse_time(text: str) -> tuple[int, int] | None:
    """`15:00`, `3pm`, `3:30 pm`, `9.30`, `noon` → (hour, minute); None if not a time."""
    text = text.strip().lower()
    if text in ("noon", "midday"):
        return 12, 0
    if text == "midnight":
        return 0, 0
    match = _TIME.fullmatch(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "")
    if not suffix and match.group(2) is None:
        return None  # a bare number is a day or a count, not a time
    if minute > 59:
        return None
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour > 23:
        return None
    return hour, minute


_TRAILING_TIME = re.compile(
    r"^(?P<date>.*?)\s*(?:\bat\s+|@\s*)?(?P<time>noon|midday|midnight|"
    r"\d{1,2}(?:[:.h]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)$"
)
_LEADING_TIME = re.compile(
    r"^(?:at\s+)?(?P<time>noon|midday|midnight|\d{1,2}(?:[:.h]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)"
    r"\s+(?P<date>.+)$"
)


def parse_datetime(phrase: str, now: datetime, tz: str) -> datetime:
    """The moment `phrase` names (a day and a time of day), read in `tz` as of `now`.

    Returns an aware datetime in `tz`. A time alone means today, or tomorrow
    when that time has passed. Raises DateError, worded for the person, when
    the day or the time is missing or unreadable, or the local time does not
    exist (the hour skipped when clocks go forward).
    """
    text = " ".join(phrase.lower().replace(",", " ").split())
    text = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(\d)", r"\1 \2", text)  # ISO 2026-12-03T15:00
    if not text:
        raise DateError("no day or time given")
    zone = ZoneInfo(tz)
    day_phrase, clock = None, None
    for pattern in (_TRAILING_TIME, _LEADING_TIME):
        match = pattern.fullmatch(text)
        if match and (found := parse_time(match.group("time"))) is not None:
            day_phrase, clock = match.group("date").strip(), found
            break
    if clock is None:
        try:
            parse_date(text, now, tz)
        except DateError:
            raise DateError(f"I couldn't read “{phrase}” as a day and a time") from None
        raise DateError(f"“{phrase}” has no time of day; add one, e.g. “{phrase} 15:00”")
    day_phrase = re.sub(r"\s*\bat$", "", day_phrase or "").strip()
    if day_phrase in ("", "today"):
        local_now = now.astimezone(zone)
        day = local_now.date()
        if not day_phrase and (clock[0], clock[1]) <= (local_now.hour, local_now.minute):
            day += timedelta(days=1)
    else:
        day = parse_date(day_phrase, now, tz)
    moment = datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise DateError(
            f"{moment:%H:%M} on {moment:%a %d %b %Y} does not exist in {tz} (the clocks go "
            "forward then); pick another time"
        )
    return moment


def format_moment(moment: datetime, tz: str) -> str:
    """`Thu 03 Dec 2026, 15:00 (Europe/Berlin)`: a moment as one person reads it."""
    return f"{moment.astimezone(ZoneInfo(tz)):%a %d %b %Y, %H:%M} ({tz})"
