"""The `matching:` section of app.yaml, validated into a MatchingPolicy.

Every problem is reported with the key and the expected form, like the rest of
the configuration.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from conversations.matching.settings import (
    DEFAULT_WEIGHTS,
    ROUND_FREQUENCIES,
    WEEKDAYS,
    MatchingPolicy,
)

KEYS = (
    "weights",
    "mentee_max_mentors",
    "proposal_days",
    "first_mentor_bonus",
    "priority_bonus",
    "candidates_per_mentee",
    "rounds",
    "round_day",
    "round_time",
)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _unknown(key: str, known: tuple[str, ...], where: str) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return f"`{where}{key}` is not a setting.{hint} Known: {', '.join(known)}."


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(
    data: Mapping[str, Any], key: str, default: int, low: int, high: int, p: list[str]
) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        p.append(f"`matching.{key}` must be a whole number from {low} to {high} (got {value!r}).")
        return default
    return value


def _bonus(data: Mapping[str, Any], key: str, default: float, p: list[str]) -> float:
    value = data.get(key, default)
    if not _number(value) or not 0 <= value <= 10:
        p.append(f"`matching.{key}` must be a number from 0 to 10 (got {value!r}).")
        return default
    return float(value)


def parse_matching(raw: Any, problems: list[str]) -> MatchingPolicy:
    """A MatchingPolicy from the `matching:` mapping (None → defaults); problems appended."""
    if raw is None:
        return MatchingPolicy()
    if not isinstance(raw, dict):
        problems.append("`matching` must be a mapping, e.g. matching: {mentee_max_mentors: 2}.")
        return MatchingPolicy()
    for key in raw:
        if key not in KEYS:
            problems.append(_unknown(str(key), KEYS, "matching."))
    weights = dict(DEFAULT_WEIGHTS)
    given = raw.get("weights") or {}
    if not isinstance(given, dict):
        problems.append("`matching.weights` must be a mapping like {topics: 3, language: 2}.")
        given = {}
    for key, value in given.items():
        if key not in DEFAULT_WEIGHTS:
            problems.append(_unknown(str(key), tuple(DEFAULT_WEIGHTS), "matching.weights."))
        elif not _number(value) or not 0 <= value <= 100:
            problems.append(
                f"`matching.weights.{key}` must be a number from 0 to 100 (got {value!r})."
            )
        else:
            weights[key] = float(value)
    if not any(weights.values()):
        problems.append("`matching.weights` must give at least one criterion a weight above 0.")
    rounds = raw.get("rounds", "off")
    if rounds is False:
        rounds = "off"
    if rounds not in ROUND_FREQUENCIES:
        problems.append(
            f"`matching.rounds` must be one of {', '.join(ROUND_FREQUENCIES)} (got {rounds!r})."
        )
        rounds = "off"
    day = str(raw.get("round_day", "monday")).lower()
    if day not in WEEKDAYS:
        problems.append(f"`matching.round_day` must be a weekday such as monday (got {day!r}).")
        day = "monday"
    at = str(raw.get("round_time", "09:00"))
    if not _TIME.match(at):
        problems.append(f'`matching.round_time` must be HH:MM, e.g. "09:00" (got {at!r}).')
        at = "09:00"
    return MatchingPolicy(
        weights=weights,
        mentee_max_mentors=_whole(raw, "mentee_max_mentors", 2, 1, 10, problems),
        proposal_days=_whole(raw, "proposal_days", 5, 1, 60, problems),
        first_mentor_bonus=_bonus(raw, "first_mentor_bonus", 1.0, problems),
        priority_bonus=_bonus(raw, "priority_bonus", 0.5, problems),
        candidates_per_mentee=_whole(raw, "candidates_per_mentee", 12, 1, 1000, problems),
        rounds=str(rounds),
        round_day=day,
        round_time=at,
    )
