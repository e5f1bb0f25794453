"""A plain-Python model of the follow-through record, written from the rules and not from
the product: README's "Digest JSON" table and issue 13's rules. The stateful test
(tests/test_ledger_stateful.py) drives the real engine and this model side by side and
compares the figures HR sees. Nothing here imports product code: the model keeps its own
ledger of pairs, meetings, pauses and lapse episodes, and computes every figure from it.

Rules modelled (time moves only forward; the sweep is when the program notices things):

- A meeting is scheduled, then held, skipped or cancelled; moving it keeps it the same
  meeting at a new time. `met` is about the pair's scheduled meeting: before it starts
  nothing is logged (the person is asked); once started it is logged. `met on DAY`
  logs it (or, for a day before it was scheduled, an unscheduled meeting) on that day.
  Without a scheduled meeting, `met` logs one meeting per pair and day; logging again
  that day, or a plain `met` within 3 days of the partner's log, updates that meeting.
- A meeting counts in the week it was held (while scheduled, the week it is planned
  for). Held: logged and not disputed by either partner; confirmed: two yeses.
- A pair lapses when it is active, has no meeting pending (scheduled and not yet asked
  "did you meet?", or asked less than the grace ago) and has gone `cadence + grace`
  since its silence clock started (its start, a resume, or the moment a meeting was
  logged, however late). The sweep that notices opens an episode at rung 1 that day; it
  climbs one rung per sweep once `ladder[k].after - ladder[0].after` has passed since.
  A pending meeting holds the climb. Logging a meeting ends the episode as recovered;
  ending the pair ends it; pausing the pair takes it off the ladder (ends it).
- A paused pair counts as paused, not active; its meetings before its date are
  cancelled; it resumes at the first sweep on or after that date (or on `resume with`).
  A person's own pause changes no pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

WEEK = timedelta(days=7)
RECENT = timedelta(days=3)  # a plain `met` this soon after the partner's log is about that one


@dataclass
class Meeting:
    number: int  # the meeting's number as people see it (`meeting confirm N`)
    at: datetime  # when it counts: its time while scheduled, the moment held once logged
    created: datetime
    state: str = "scheduled"  # scheduled | held | skipped | cancelled
    asked_at: datetime | None = None  # "did you meet?" went out (the sweep after its end)
    said: dict[str, bool] = field(default_factory=dict)  # person → met (logged/confirmed)

    @property
    def held(self) -> bool:
        """Logged and not disputed by either partner."""
        return self.state == "held" and False not in self.said.values()

    @property
    def confirmed(self) -> bool:
        return self.held and sum(self.said.values()) >= 2


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
    meetings_made: int = 0

    def _new_meeting(self, pair: Pair, at: datetime, now: datetime, state: str) -> Meeting:
        self.meetings_made += 1
        meeting = Meeting(self.meetings_made, at, now, state)
        pair.meetings.append(meeting)
        return meeting

    # --- commands -------------------------------------------------------------------

    def add_pair(self, mentee: str, mentor: str, now: datetime) -> Pair:
        pair = Pair(mentee, mentor, now, base=now)
        self.pairs.append(pair)
        return pair

    def schedule(self, pair: Pair, at: datetime, now: datetime) -> None:
        meeting = pair.pending()
        if meeting is None:
            self._new_meeting(pair, at, now, "scheduled")
        else:
            meeting.at, meeting.asked_at = at, None

    def cancel(self, pair: Pair) -> None:
        meeting = pair.pending()
        if meeting is not None:
            meeting.state = "cancelled"

    def skip(self, pair: Pair, who: str) -> None:
        meeting = pair.pending()
        if meeting is not None:
            meeting.state = "skipped"
            meeting.said[who] = False

    def met(self, pair: Pair, who: str, now: datetime, day: date | None = None) -> str:
        """`met` (or `met on DAY`) by `who`: 'logged' (a first log), 'again' (the same
        meeting logged again: updated, never a second one), 'asked' (the scheduled one
        has not started: nothing logged) or 'refused' (a day before the pairing began).

        The moment within a day is not in the rules; the model takes the scheduled
        meeting's time of day (else noon) on that day, never later than now, and now
        for today."""
        today = now.date()
        if day is not None and day < pair.started.date():
            return "refused"
        pending = pair.pending()
        if pending is not None and (day is None or day >= pending.created.date()):
            if day is None and now < pending.at:
                return "asked"
            meeting = pending
            if day is not None:
                meeting.at = self.moment(day, now, pending.at.time())
            return self._log(pair, meeting, who, now)
        on = day or today
        same_day = [m for m in pair.meetings if m.state == "held" and m.at.date() == on]
        if same_day:
            return self._log(pair, same_day[0], who, now)
        if day is None:
            held = [m for m in pair.meetings if m.state == "held"]
            last = max(held, key=lambda m: (m.at, m.number)) if held else None
            if last is not None and now - last.at <= RECENT and who not in last.said:
                return self._log(pair, last, who, now)
        meeting = self._new_meeting(pair, self.moment(on, now, time(12)), now, "scheduled")
        return self._log(pair, meeting, who, now)

    @staticmethod
    def moment(day: date, now: datetime, clock: time) -> datetime:
        if day == now.date():
            return now
        return min(datetime.combine(day, clock, now.tzinfo), now)

    def _log(self, pair: Pair, meeting: Meeting, who: str, now: datetime) -> str:
        first = meeting.state != "held"
        meeting.state = "held"
        meeting.said[who] = True
        episode = pair.episode()
        if first or episode is not None:
            pair.base = now  # the silence clock restarts when a meeting is logged, however late
        if episode is not None:
            episode.closed, episode.recovered = now, True
        return "logged" if first else "again"

    def answer(self, pair: Pair, who: str, number: int, confirm: bool) -> bool:
        """`meeting confirm|dispute N`: only a held meeting of the pair can be answered."""
        meeting = next((m for m in pair.meetings if m.number == number), None)
        if meeting is None or meeting.state != "held":
            return False
        meeting.said[who] = confirm
        return True

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
                if episode.rung >= r.at_risk_rung:
                    episode.at_risk_at = now
                continue  # the sweep that notices it: rung 1 only
            if episode.rung < len(r.ladder):
                if now >= episode.began + r.ladder[episode.rung] - r.ladder[0]:
                    episode.rung += 1  # one rung a sweep, never several at once
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
        due = held = confirmed = 0
        for pair in self.pairs:
            counted = [
                m
                for m in pair.meetings
                if since < m.at <= at and m.state in ("scheduled", "held", "skipped")
            ]
            due += len(counted)
            held += sum(1 for m in counted if m.held)
            confirmed += sum(1 for m in counted if m.confirmed)
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
            "meetings.confirmed": confirmed,
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
