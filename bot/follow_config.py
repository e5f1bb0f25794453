"""The follow-through settings of app.yaml (`meetings`, `term`, `lapse`), validated with
the same plain-words, did-you-mean errors as the rest of the configuration."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from conversations.followthrough.policy import LAPSE_ACTIONS, FollowThrough, LapseStep

MEETING_KEYS = ("length", "agenda_lead", "agenda_reminder", "mentor_agenda", "checkin_after")
TERM_KEYS = ("months", "renewal_notice", "agreement_reminder")
LAPSE_KEYS = ("grace", "ladder")
STEP_KEYS = ("after", "step")
_DURATION = re.compile(r"^\s*(\d{1,4})\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _hint(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def _section(
    data: Mapping[str, Any], name: str, known: tuple[str, ...], problems: list[str]
) -> Mapping[str, Any]:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        problems.append(f"`{name}` must be a mapping with {', '.join(known)}.")
        return {}
    for key in section:
        if key not in known:
            hint = _hint(str(key), known)
            problems.append(f"`{name}.{key}` is not a setting.{hint} Known: {', '.join(known)}.")
    return section


def parse_duration(value: Any) -> timedelta | None:
    """`45m`, `24h`, `3d`, `2w` (or 0) → timedelta; None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _duration(
    section: Mapping[str, Any], where: str, key: str, default: timedelta, problems: list[str]
) -> timedelta:
    if key not in section:
        return default
    found = parse_duration(section[key])
    if found is None:
        problems.append(
            f"`{where}.{key}` must be a duration like 45m, 24h, 3d or 2w (got {section[key]!r})."
        )
        return default
    return found


def follow_through(data: Mapping[str, Any], problems: list[str]) -> FollowThrough:
    base = FollowThrough()
    meetings = _section(data, "meetings", MEETING_KEYS, problems)
    term = _section(data, "term", TERM_KEYS, problems)
    lapse = _section(data, "lapse", LAPSE_KEYS, problems)
    length = _duration(meetings, "meetings", "length", base.meeting_length, problems)
    if not timedelta(minutes=10) <= length <= timedelta(hours=4):
        problems.append("`meetings.length` must be between 10m and 4h.")
    mentor_agenda: timedelta | None = None
    raw = meetings.get("mentor_agenda", "when_set")
    if raw != "when_set":
        mentor_agenda = parse_duration(raw)
        if mentor_agenda is None:
            problems.append(
                f"`meetings.mentor_agenda` must be when_set or a lead time like 12h (got {raw!r})."
            )
    months = term.get("months", base.term_months)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 24:
        problems.append(f"`term.months` must be a whole number from 1 to 24 (got {months!r}).")
        months = base.term_months
    ladder = base.lapse_ladder
    if "ladder" in lapse:
        ladder = _ladder(lapse["ladder"], problems) or ladder
    return FollowThrough(
        term_months=months,
        meeting_length=length,
        agenda_lead=_duration(meetings, "meetings", "agenda_lead", base.agenda_lead, problems),
        agenda_reminder=_duration(
            meetings, "meetings", "agenda_reminder", base.agenda_reminder, problems
        ),
        mentor_agenda_lead=mentor_agenda,
        checkin_after=_duration(
            meetings, "meetings", "checkin_after", base.checkin_after, problems
        ),
        lapse_grace=_duration(lapse, "lapse", "grace", base.lapse_grace, problems),
        lapse_ladder=ladder,
        renewal_lead=_duration(term, "term", "renewal_notice", base.renewal_lead, problems),
        agreement_reminder=(
            _duration(term, "term", "agreement_reminder", timedelta(0), problems)
            if "agreement_reminder" in term
            else base.agreement_reminder
        ),
    )


def _ladder(raw: Any, problems: list[str]) -> tuple[LapseStep, ...]:
    form = "a list like [{after: 0d, step: nudge_mentee}, {after: 4d, step: nudge_both}]"
    if not isinstance(raw, list) or not raw:
        problems.append(f"`lapse.ladder` must be {form}.")
        return ()
    steps: list[LapseStep] = []
    for number, entry in enumerate(raw, 1):
        where = f"lapse.ladder step {number}"
        if not isinstance(entry, dict):
            problems.append(f"`{where}` must be a mapping like {{after: 4d, step: nudge_both}}.")
            continue
        for key in entry:
            if key not in STEP_KEYS:
                problems.append(f"`{where}`: `{key}` is not a setting.{_hint(str(key), STEP_KEYS)}")
        after = parse_duration(entry.get("after"))
        action = entry.get("step")
        if after is None:
            problems.append(
                f"`{where}`: after must be a duration like 4d (got {entry.get('after')!r})."
            )
        if action not in LAPSE_ACTIONS:
            problems.append(
                f"`{where}`: step {action!r} is not a step.{_hint(str(action), LAPSE_ACTIONS)} "
                f"Known: {', '.join(LAPSE_ACTIONS)}."
            )
        if after is not None and action in LAPSE_ACTIONS:
            if steps and after <= steps[-1].after:
                problems.append(f"`{where}`: after must be later than the step before it.")
            steps.append(LapseStep(after, str(action)))
    return tuple(steps)
