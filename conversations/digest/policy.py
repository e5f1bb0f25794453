"""The digest part of the program's policy: when and where the weekly digest is posted,
and the program's measurable objective; and the `digest` and `objective_target` sections
of app.yaml they are built from (bot/config.py composes them):

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Any

from pydantic import Field

from conversations.config_fields import (
    WEEKDAYS,
    Check,
    Clock,
    Section,
    Text,
    TimeZone,
    Weekday,
    problem,
)


@dataclass(frozen=True)
class DigestSchedule:
    """Posted every `weekday` (0 = Monday) at `at` in `timezone` (None: the program's) to
    each (platform, channel); admins using the local chat get it in their chat."""

    weekday: int = 0
    at: time = time(9, 0)
    timezone: str | None = None
    channels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ObjectiveTarget:
    """A measurable objective: `share` (0–1) of mentees should come from `departments`."""

    label: str
    departments: tuple[str, ...]
    share: float


class Channel(Check):
    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise problem(f"must be a channel id (got {value!r}).")
        return value.strip()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


class DigestSection(Section):
    """When HR's weekly digest is posted and where; with the local chat only, admins get
    it in their chat."""

    day: Annotated[str, Weekday(suggest=True)] = Field("monday", description="The weekday.")
    time: Annotated[str, Clock('HH:MM on a 24-hour clock, e.g. "09:00"')] = Field(
        "09:00", description="HH:MM on a 24-hour clock (quote it in YAML)."
    )
    timezone: Annotated[str, TimeZone()] | None = Field(
        None, description="An IANA time zone; default: the program's."
    )
    slack_channel: Annotated[str, Channel()] | None = Field(
        None, description="The Slack channel id to post to, e.g. C0123456789."
    )
    teams_channel: Annotated[str, Channel()] | None = Field(
        None, description="The Teams channel id to post to, e.g. 19:abc@thread.tacv2."
    )

    def build(self) -> DigestSchedule:
        hours, minutes = self.time.split(":")
        channels = tuple(
            (platform, channel)
            for platform, channel in (("slack", self.slack_channel), ("teams", self.teams_channel))
            if channel is not None
        )
        return DigestSchedule(
            weekday=WEEKDAYS.index(self.day),
            at=time(int(hours), int(minutes)),
            timezone=self.timezone,
            channels=channels,
        )


class Departments(Check):
    def check(self, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(isinstance(d, str) and d.strip() for d in value)
        ):
            raise problem("must list department names, e.g. [Sales, Support].")
        return tuple(d.strip() for d in value)

    def schema(self) -> dict[str, Any]:
        names = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
        return {"anyOf": [{"type": "string", "minLength": 1}, names]}


class Share(Check):
    """30% or 0.3: above 0 and at most all mentees."""

    def check(self, value: Any) -> float:
        share: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            share = float(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*%\s*", value):
            share = float(value.strip().rstrip("%")) / 100
        if share is None or not 0 < share <= 1:
            raise problem(
                "must be a share of mentees above 0 and at most 100%, "
                f"e.g. 30% or 0.3 (got {value!r})."
            )
        return share

    def schema(self) -> dict[str, Any]:
        percent = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"}
        return {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1}, percent]}


class ObjectiveSection(Section):
    """A measurable objective: the share of mentees who come from these departments."""

    label: Annotated[str, Text()] | None = Field(
        None, description="How the digest names it; default: Mentees from <departments>."
    )
    departments: Annotated[tuple[str, ...], Departments()] = Field(
        description="The department names, e.g. [Sales, Support]."
    )
    share: Annotated[float, Share()] = Field(description="The target share: 30% or 0.3.")

    def build(self) -> ObjectiveTarget:
        label = self.label or f"Mentees from {', '.join(self.departments)}"
        return ObjectiveTarget(label=label, departments=self.departments, share=self.share)
