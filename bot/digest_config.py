"""The `digest:` and `objective_target:` sections of app.yaml, validated.

    digest:            # when and where HR's weekly digest is posted
      day: monday
      time: "09:00"
      timezone: Europe/Berlin        # default: the program's
      slack_channel: C0123456789
      teams_channel: "19:abc@thread.tacv2"
    objective_target:  # a measurable objective, tracked in the digest
      label: Mentees from Sales and Support
      departments: [Sales, Support]
      share: 30%                     # or 0.3

Problems are appended as one line each, with the key they resemble.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conversations.digest.policy import WEEKDAYS, DigestSchedule, ObjectiveTarget

DIGEST_KEYS = ("day", "time", "timezone", "slack_channel", "teams_channel")
OBJECTIVE_KEYS = ("label", "departments", "share")
Unknown = Callable[[str, tuple[str, ...], str], str]


def parse_digest(raw: Any, problems: list[str], unknown: Unknown) -> DigestSchedule:
    if raw is None:
        return DigestSchedule()
    if not isinstance(raw, dict):
        problems.append(
            '`digest` must be a mapping, e.g. {day: monday, time: "09:00", slack_channel: C123}.'
        )
        return DigestSchedule()
    for key in raw:
        if key not in DIGEST_KEYS:
            problems.append(unknown(str(key), DIGEST_KEYS, "digest."))
    day = str(raw.get("day", "monday")).strip().lower()
    weekday = 0
    if day in WEEKDAYS:
        weekday = WEEKDAYS.index(day)
    else:
        close = difflib.get_close_matches(day, WEEKDAYS, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        problems.append(f"`digest.day` must be a weekday such as monday (got {day!r}).{hint}")
    at = time(9, 0)
    clock = str(raw.get("time", "09:00")).strip()
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", clock)
    if match:
        at = time(int(match[1]), int(match[2]))
    else:
        problems.append(
            f'`digest.time` must be HH:MM on a 24-hour clock, e.g. "09:00" (got {clock!r}).'
        )
    zone = raw.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"`digest.timezone` must be an IANA name such as Europe/Berlin (got {zone!r})."
            )
            zone = None
    channels: list[tuple[str, str]] = []
    for platform in ("slack", "teams"):
        channel = raw.get(f"{platform}_channel")
        if channel is None:
            continue
        if not isinstance(channel, str) or not channel.strip():
            problems.append(f"`digest.{platform}_channel` must be a channel id (got {channel!r}).")
            continue
        channels.append((platform, channel.strip()))
    return DigestSchedule(
        weekday=weekday,
        at=at,
        timezone=str(zone) if zone else None,
        channels=tuple(channels),
    )


def _share(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        share = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*%\s*", value):
        share = float(value.strip().rstrip("%")) / 100
    else:
        return None
    return share if 0 < share <= 1 else None


def parse_objective(raw: Any, problems: list[str], unknown: Unknown) -> ObjectiveTarget | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(
            "`objective_target` must be a mapping, e.g. {label: Mentees from Sales, "
            "departments: [Sales], share: 30%}."
        )
        return None
    for key in raw:
        if key not in OBJECTIVE_KEYS:
            problems.append(unknown(str(key), OBJECTIVE_KEYS, "objective_target."))
    departments = raw.get("departments")
    if isinstance(departments, str):
        departments = [departments]
    if (
        not isinstance(departments, list)
        or not departments
        or not all(isinstance(d, str) and d.strip() for d in departments)
    ):
        problems.append(
            "`objective_target.departments` must list department names, e.g. [Sales, Support]."
        )
        return None
    share = _share(raw.get("share"))
    if share is None:
        problems.append(
            "`objective_target.share` must be a share of mentees above 0 and at most 100%, "
            f"e.g. 30% or 0.3 (got {raw.get('share')!r})."
        )
        return None
    label = raw.get("label") or f"Mentees from {', '.join(departments)}"
    if not isinstance(label, str):
        problems.append("`objective_target.label` must be text.")
        label = f"Mentees from {', '.join(departments)}"
    return ObjectiveTarget(
        label=label.strip(), departments=tuple(d.strip() for d in departments), share=share
    )
