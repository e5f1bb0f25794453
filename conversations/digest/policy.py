"""The digest part of the program's policy: when and where the weekly digest is posted,
and the program's measurable objective. bot/config.py builds both from app.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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
