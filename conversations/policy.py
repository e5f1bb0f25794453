"""The program's policy as the engine sees it; bot/config.py builds it from app.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from conversations.digest.policy import DigestSchedule, ObjectiveTarget
from conversations.followthrough.policy import FollowThrough
from conversations.guides import Guides
from conversations.matching.settings import MatchingPolicy


@dataclass(frozen=True)
class Policy:
    program_slug: str = "default"
    program_name: str = "Mentoring program"
    objective: str | None = None
    default_timezone: str = "UTC"
    cadence: str = "biweekly"
    admins: frozenset[str] = frozenset()
    mentor_capacity_default: int = 2
    privacy: str = "named"  # "named" lists at-risk pairs by name; "aggregate" shows counts only
    follow: FollowThrough = field(default_factory=FollowThrough)
    digest: DigestSchedule = field(default_factory=DigestSchedule)
    objective_target: ObjectiveTarget | None = None
    matching: MatchingPolicy = field(default_factory=MatchingPolicy)
    guides: Guides | None = None  # the program's own role guides; None: the built-in ones
    # How long a sent or failed proactive message keeps its text (storage/outbox.py).
    outbox_retention: timedelta = timedelta(days=30)
    # How long a file offered through a Teams consent card waits (storage/offered_files.py).
    offered_file_retention: timedelta = timedelta(days=7)

    def is_admin(self, platform: str, user_id: str, email: str | None) -> bool:
        """Admins are `platform:user_id` entries or e-mail addresses (case-insensitive)."""
        entries = {a.lower() for a in self.admins}
        if f"{platform}:{user_id}".lower() in entries:
            return True
        return bool(email) and email.lower() in entries  # type: ignore[union-attr]
