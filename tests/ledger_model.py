"""A plain-Python model of the follow-through record, written from the rules and not from
the product: README's "Digest JSON" table and issue 13's rules. The stateful test
(tests/test_ledger_stateful.py) drives the real engine and this model side by side and
compares the figures HR sees. Nothing here imports product code: the model keeps its own
ledger of pairs, meetings, pauses and lapse episodes, and computes every figure from it.

Rules modelled (time moves only forward; the sweep is when the program notices things):

- A meeting is scheduled, then held, skipped or cancelled; moving it keeps it the same
  meeting at a new time. `met` with a scheduled meeting that has started logs that one
  (counted on its scheduled day); with none, an unscheduled meeting is logged for the
  day it happened, one per pair and day (logging the same day again changes nothing).
- A pair lapses when it is active, has no meeting pending (scheduled, not yet asked
  "did you meet?" plus the grace after that) and has gone `cadence + grace` since its
  base (start, last held meeting, last resume). The sweep that notices opens an episode
  at rung 1 that day; rung k follows `ladder[k].after - ladder[0].after` after that. A
  pending meeting holds the climb. Logging a meeting ends the episode as recovered;
  ending the pair ends it (not recovered); pausing the pair takes it off the ladder.
- A paused pair counts as paused, not active, and ends its pause at the first sweep on
  or after its date (or on `resume with`); its meetings before that date are cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

WEEK = timedelta(days=7)


@dataclass
class Meeting:
    at: datetime  # the day it counts on: its scheduled time, or the day it was logged
    state: str = "scheduled"  # scheduled | held | skipped | cancelled
    asked_at: datetime | None = None  # "did you meet?" went out (the sweep after its end)
    scheduled: bool = True  # False: logged without being scheduled


@dataclass
class Episode:
    began: datetime
    rung: int = 1
    at_risk_at: datetime | None = None
    closed: datetime | None = None
    recovered: bool = False


@dataclass
class Pair:
    mentee: str
    mentor: str
    started: datetime
    state: str = "active"  # active | paused | ended
    base: datetime | None = None  # start, last held meeting or last resume: the silence clock
    paused_until: datetime | None = None
    ended: datetime | None = None
    meetings: list[Meeting] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)

    def pending(self) -> Meeting | None:
        return next((m for m in self.meetings if m.state == "scheduled"), None)

    def episode(self) -> Episode | None:
        return next((e for e in self.episodes if e.closed is None), None)


@dataclass(frozen=True)
class Rules:
    cadence: timedelta
    grace: timedelta
    ladder: tuple[timedelta, ...]  # each rung's `after`
    at_risk_rung: int  # the rung (1-based) that flags a pair at risk
    meeting_length: timedelta
    checkin_after: timedelta


@dataclass
class Model:
    rules: Rules
    pairs: list[Pair] = field(default_factory=list)

    # --- commands -------------------------------------------------------------------

    def add_pair(self, mentee: str, mentor: str, now: datetime) -> Pair:
        pair = Pair(mentee, mentor, now, base=now)
        self.pairs.append(pair)
        return pair

    def schedule(self, pair: Pair, at: datetime) -> None:
        meeting = pair.pending()
        if meeting is None:
            pair.meetings.append(Meeting(at))
        else:
            meeting.at, meeting.asked_at = at, None

    def cancel(self, pair: Pair) -> None:
        meeting = pair.pending()
        if meeting is not None:
            meeting.state = "cancelled"

    def skip(self, pair: Pair) -> None:
        meeting = pair.pending()
        if meeting is not None:
            meeting.state = "skipped"

    def met(self, pair: Pair, now: datetime, day: datetime | None = None) -> str:
        """`met` (on `day`, default today): 'logged', 'asked' (the scheduled one has not
        started) or 'again' (that day's unscheduled meeting is already logged)."""
        meeting = pair.pending()
        if meeting is not None and day is None:
            if meeting.at > now:
                return "asked"
            meeting.state = "held"
        else:
            when = day or now
            if any(
                not m.scheduled and m.state == "held" and m.at.date() == when.date()
                for m in pair.meetings
            ):
                return "again"
            meeting = Meeting(when, "held", scheduled=False)
            pair.meetings.append(meeting)
        pair.base = max(pair.base or meeting.at, meeting.at)
        episode = pair.episode()
        if episode is not None:
            episode.closed, episode.recovered = now, True
        return "logged"

    def pause(self, pair: Pair, until: datetime, now: datetime) -> None:
        pair.state, pair.paused_until = "paused", until
        meeting = pair.pending()
        if meeting is not None and meeting.at < until:
            meeting.state = "cancelled"
        episode = pair.episode()
        if episode is not None:  # off the ladder while paused: the episode ends, unrecovered
            episode.closed = now

    def resume(self, pair: Pair, now: datetime) -> None:
        pair.state, pair.paused_until, pair.base = "active", None, now

    def end(self, pair: Pair, now: datetime) -> None:
        pair.state, pair.ended = "ended", now
        meeting = pair.pending()
        if meeting is not None:
            meeting.state = "cancelled"
        episode = pair.episode()
        if episode is not None:
            episode.closed = now

    # --- the sweep ------------------------------------------------------------------

    def sweep(self, now: datetime) -> None:
        r = self.rules
        for pair in self.pairs:
            if pair.state == "paused" and pair.paused_until and pair.paused_until <= now:
                self.resume(pair, now)
            if pair.state != "active":
                continue
            meeting = pair.pending()
            if meeting is not None and meeting.asked_at is None:
                if meeting.at + r.meeting_length + r.checkin_after <= now:
                    meeting.asked_at = now
            if self._held_back(pair, now):
                continue
            episode = pair.episode()
            if episode is None:
                assert pair.base is not None
                if now < pair.base + r.cadence + r.grace:
                    continue
                episode = Episode(now)
                pair.episodes.append(episode)
            climbed = sum(1 for after in r.ladder[1:] if now >= episode.began + after - r.ladder[0])
            episode.rung = max(episode.rung, 1 + climbed)
            if episode.rung >= r.at_risk_rung and episode.at_risk_at is None:
                episode.at_risk_at = now

    def _held_back(self, pair: Pair, now: datetime) -> bool:
        """A meeting is pending: not yet asked about, or asked less than the grace ago."""
        meeting = pair.pending()
        if meeting is None:
            return False
        return meeting.asked_at is None or now < meeting.asked_at + self.rules.grace

    # --- the figures (README, "Digest JSON") ----------------------------------------

    def figures(self, at: datetime) -> dict[str, float | int | None]:
        since = at - WEEK
        due = held = 0
        for pair in self.pairs:
            counted = [
                m
                for m in pair.meetings
                if since < m.at <= at and m.state in ("scheduled", "held", "skipped")
            ]
            due += len(counted)
            held += sum(1 for m in counted if m.state == "held")
            lapsed_in_window = any(
                e.began <= at and (e.closed is None or e.closed > since) for e in pair.episodes
            )
            if lapsed_in_window and not counted:
                due += 1
        open_now = [
            e
            for p in self.pairs
            for e in p.episodes
            if e.began <= at and (e.closed is None or e.closed > at)
        ]
        out: dict[str, float | int | None] = {
            "pairs.active": sum(1 for p in self.pairs if p.state == "active"),
            "pairs.paused": sum(1 for p in self.pairs if p.state == "paused"),
            "pairs.ended": sum(1 for p in self.pairs if p.state == "ended"),
            "meetings.due": due,
            "meetings.held": held,
            "meetings.follow_through_rate": round(held / due, 3) if due else None,
            "lapses.open": len(open_now),
            "lapses.at_risk": sum(
                1 for e in open_now if e.at_risk_at is not None and e.at_risk_at <= at
            ),
            "lapses.begun": sum(1 for p in self.pairs for e in p.episodes if since < e.began <= at),
            "lapses.recovered": sum(
                1
                for p in self.pairs
                for e in p.episodes
                if e.recovered and e.closed is not None and since < e.closed <= at
            ),
        }
        for rung in range(1, len(self.rules.ladder) + 1):
            out[f"lapses.step_{rung}"] = sum(1 for e in open_now if e.rung == rung)
        return out
