"""Why a pair was proposed, in words both people can read
("you both care about public speaking; 5 h of shared working day")."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

from conversations.matching.pool import Mentee, Mentor
from conversations.matching.scoring import (
    LANGUAGE_NAMES,
    grams,
    language_key,
    shared_hours,
    topic_key,
    utc_offset_hours,
)
from conversations.wording import plural

Reader = Literal["both", "mentee", "mentor"]


def pair_reasons(
    mentee: Mentee,
    mentor: Mentor,
    now: datetime,
    default_timezone: str = "UTC",
    *,
    reader: Reader = "both",
    other: str = "",
) -> list[str]:
    """Why the pair fits. `reader` "both" words it for the record (the program team reads
    it); "mentee" or "mentor" words it for that person, speaking of `other` (the partner's
    name) and never of the reader's own department."""
    them = other or ("your mentor" if reader == "mentee" else "your mentee")
    reasons: list[str] = []
    offered = _keys(mentor.offers)
    shared = [t for t in mentee.wants if topic_key(t) in offered]
    if shared:
        reasons.append("you both care about " + _and(shared[:3]))
    if mentee.goals:
        in_goals = [t for t in mentor.offers if topic_key(t) in grams(mentee.goals)]
        shared_keys = {topic_key(s) for s in shared}
        fresh = [t for t in in_goals if topic_key(t) not in shared_keys]
        if fresh:
            whose = {"mentee": "your", "mentor": f"{them}'s"}.get(reader, "the mentee's")
            reasons.append(f"{whose} goals mention {_and(fresh[:2])}")
    hours = shared_hours(
        utc_offset_hours(mentee.timezone, now, default_timezone),
        utc_offset_hours(mentor.timezone, now, default_timezone),
    )
    if hours >= 8:
        reasons.append("the same working hours")
    elif hours > 0:
        reasons.append(f"{hours:g} h of shared working day")
    spoken = _languages(mentor.languages)
    common = [language_key(c) for c in mentee.languages if language_key(c) in spoken]
    if common:
        reasons.append("a shared language: " + _and([LANGUAGE_NAMES.get(c, c) for c in common[:2]]))
    if mentee.level and mentor.level and 1 <= mentor.level - mentee.level <= 4:
        levels = plural(mentor.level - mentee.level, "level")
        reasons.append(
            {
                "mentee": f"{them} is {levels} ahead of you",
                "mentor": f"you are {levels} ahead of {them}",
            }.get(reader, f"{levels} of experience ahead")
        )
    if (
        mentee.department
        and mentor.department
        and mentee.department.strip().lower() != mentor.department.strip().lower()
    ):
        if reader == "both":
            reasons.append(f"a view from another department ({mentor.department})")
        else:
            theirs = mentor.department if reader == "mentee" else mentee.department
            reasons.append(f"{them} works in {theirs.strip()}, a view from another department")
    if mentor.past_pairs >= 2 and mentor.lapsed_pairs == 0:
        whose = {"mentee": f"{them}'s", "mentor": "your"}.get(reader, "the mentor's")
        reasons.append(f"{whose} past pairs all kept meeting")
    return reasons or ["the best fit available this round"]


@lru_cache(maxsize=65536)
def _keys(topics: tuple[str, ...]) -> frozenset[str]:
    """Topic keys of a profile's list (cached: a round explains thousands of pairs)."""
    return frozenset(topic_key(t) for t in topics)


@lru_cache(maxsize=4096)
def _languages(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(language_key(c) for c in codes)


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
