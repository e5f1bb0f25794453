"""Matching settings as the engine sees them; bot/config.py builds them from `matching:`.

Kept apart from policy.py so the matching knobs (weights, limits, round schedule)
live in one place and Policy only carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Every soft criterion the scorer knows, with its default weight. A pair's score is
# the weighted mean of the criteria (each in [0, 1]), so it is itself in [0, 1].
DEFAULT_WEIGHTS: dict[str, float] = {
    "topics": 3.0,  # what the mentor offers against what the mentee wants
    "goals": 1.0,  # the mentor's offers named in the mentee's goals
    "seniority": 1.5,  # a level gap that is neither zero nor huge
    "departments": 1.0,  # reach across departments
    "timezone": 1.5,  # shared working hours
    "language": 2.0,  # a shared language
    "track_record": 1.0,  # the mentor's pairs that kept meeting
    "preferences": 1.0,  # what the mentee asked for (`prefers=`)
}

ROUND_FREQUENCIES = ("off", "weekly", "biweekly", "monthly")
# What a mentee may ask for with `profile set prefers=…` (the `preferences` criterion).
PREFERENCES = ("other-department", "same-department", "same-timezone", "senior")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class MatchingPolicy:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    mentee_max_mentors: int = 2
    proposal_days: int = 5
    # Objective bonuses (in score units): a mentee's first mentor, and people waiting
    # with priority after an unmatched round. They steer coverage, not the shown score.
    first_mentor_bonus: float = 1.0
    priority_bonus: float = 0.5
    # Candidates kept per mentee before solving; optimality over all pairs is then
    # certified (or restored) by pricing every pruned pair against the solver's duals.
    candidates_per_mentee: int = 12
    rounds: str = "off"  # off | weekly | biweekly | monthly
    round_day: str = "monday"
    round_time: str = "09:00"  # HH:MM in the program's time zone
