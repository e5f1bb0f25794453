"""Scheduled matching rounds (`matching.rounds` in app.yaml) and their sweeper.

A round is due at its slot (weekday and time in the program's time zone; biweekly
on even ISO weeks, monthly on the first such weekday of the month) and is run by the
first sweep within a day after it. The slot is claimed by a unique row, so several
replicas sweeping at once run it once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.matching.rounds import run_recorded_round
from conversations.matching.settings import WEEKDAYS, MatchingPolicy
from conversations.sweeps import DueItem, SweepContext

LATE_LIMIT = timedelta(days=1)


def latest_slot(settings: MatchingPolicy, zone: str, now: datetime) -> datetime | None:
    """The most recent scheduled round time at or before `now` (None when rounds are off)."""
    if settings.rounds == "off":
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in settings.round_time.split(":"))
    weekday = WEEKDAYS.index(settings.round_day)
    for back in range(0, 40):
        day = local.date() - timedelta(days=back)
        if day.weekday() != weekday:
            continue
        if settings.rounds == "biweekly" and day.isocalendar().week % 2:
            continue
        if settings.rounds == "monthly" and day.day > 7:
            continue
        slot = datetime.combine(day, time(hour, minute), tz)
        if slot <= local:
            return slot.astimezone(now.tzinfo)
    return None


async def sweep_match_rounds(ctx: SweepContext) -> list[DueItem]:
    slot = latest_slot(ctx.policy.matching, ctx.policy.default_timezone, ctx.now)
    if slot is None or ctx.now - slot > LATE_LIMIT:
        return []
    result = await run_recorded_round(
        ctx.session, ctx.policy, ctx.program, ctx.now, f"scheduled:{slot.isoformat()}"
    )
    if result is None:
        return []
    return [
        DueItem(
            f"proposal:{p.pair_id}:{person}",
            "proposal",
            person,
            f"proposed {result.names.get(p.mentee_id)} ← {result.names.get(p.mentor_id)}",
            True,
        )
        for p in result.proposals
        for person in (p.mentee_id, p.mentor_id)
    ]
