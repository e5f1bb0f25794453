"""Matching settings as the engine sees them, and the `matching:` section of app.yaml
they are built from (bot/config.py composes it into the whole file's model).

Kept apart from policy.py so the matching knobs (weights, limits, round schedule)
live in one place and Policy only carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, model_validator

from conversations.config_fields import (
    Clock,
    Number,
    OneOf,
    Section,
    Weekday,
    Whole,
    problem,
    written,
)

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


Weight = Annotated[float, Number(0, 100)]


class WeightsSection(Section):
    """How much each criterion counts (0 to 100); a pair's score is their weighted mean."""

    topics: Weight = Field(
        DEFAULT_WEIGHTS["topics"],
        description="What the mentor offers against what the mentee wants.",
    )
    goals: Weight = Field(
        DEFAULT_WEIGHTS["goals"], description="The mentor's offers named in the mentee's goals."
    )
    seniority: Weight = Field(
        DEFAULT_WEIGHTS["seniority"], description="A level gap that is neither zero nor huge."
    )
    departments: Weight = Field(
        DEFAULT_WEIGHTS["departments"], description="Reach across departments."
    )
    timezone: Weight = Field(DEFAULT_WEIGHTS["timezone"], description="Shared working hours.")
    language: Weight = Field(DEFAULT_WEIGHTS["language"], description="A shared language.")
    track_record: Weight = Field(
        DEFAULT_WEIGHTS["track_record"], description="The mentor's past pairs kept meeting."
    )
    preferences: Weight = Field(
        DEFAULT_WEIGHTS["preferences"],
        description="What the mentee asked for (profile key `prefers`).",
    )

    @model_validator(mode="after")
    def _one_counts(self) -> WeightsSection:
        if not any(dict(self).values()):
            raise problem("must give at least one criterion a weight above 0.")
        return self


class MatchingSection(Section):
    """Scores are the weighted mean of the criteria; a round finds the assignment of
    maximum total score."""

    weights: WeightsSection = written({}, "Each criterion's weight.")
    mentee_max_mentors: Annotated[int, Whole(1, 10)] = Field(
        2, description="Concurrent mentors a mentee may have (one new per round)."
    )
    proposal_days: Annotated[int, Whole(1, 60)] = Field(
        5, description="Unanswered proposals expire after this many days."
    )
    first_mentor_bonus: Annotated[float, Number(0, 10)] = Field(
        1.0, description="Coverage: a mentee's first mentor counts this much extra."
    )
    priority_bonus: Annotated[float, Number(0, 10)] = Field(
        0.5, description="Extra for people left unmatched last time."
    )
    candidates_per_mentee: Annotated[int, Whole(1, 1000)] = Field(
        12, description="Candidates kept per mentee before solving."
    )
    rounds: Annotated[str, OneOf(ROUND_FREQUENCIES, aliases={False: "off"})] = Field(
        "off", description="How often a round runs on its own: off, weekly, biweekly, monthly."
    )
    round_day: Annotated[str, Weekday()] = Field("monday", description="The round's weekday.")
    round_time: Annotated[str, Clock()] = Field(
        "09:00", description="HH:MM in the program's time zone (quote it in YAML)."
    )

    def build(self) -> MatchingPolicy:
        return MatchingPolicy(
            weights=dict(self.weights),
            mentee_max_mentors=self.mentee_max_mentors,
            proposal_days=self.proposal_days,
            first_mentor_bonus=self.first_mentor_bonus,
            priority_bonus=self.priority_bonus,
            candidates_per_mentee=self.candidates_per_mentee,
            rounds=self.rounds,
            round_day=self.round_day,
            round_time=self.round_time,
        )
