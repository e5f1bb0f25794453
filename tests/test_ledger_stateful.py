"""The follow-through record against an independent model (issue 13, item 9).

A Hypothesis state machine drives random sequences of the real commands (events in,
messages out, through tests/harness.py's Chat) and sweeps by three pairs over simulated
weeks, on SQLite and PostgreSQL, and after every step compares the figures HR sees (the
digest `mentorbot digest --json` prints, and `admin stats`) with tests/ledger_model.py,
a plain-Python model that keeps its own ledger and never imports product code.

Time moves on a 12-hour grid from a Monday 09:00 UTC; every moment the rules depend on
(starts, meetings, pause ends, lapse rungs) falls on it. Each example gets a fresh
database (a copy of the migrated SQLite file; PostgreSQL emptied with one statement).
LEDGER_EXAMPLES and LEDGER_STEPS set the size of the run (defaults keep CI quick):

    LEDGER_EXAMPLES=500 LEDGER_STEPS=80 .venv/bin/python -m pytest tests/test_ledger_stateful.py

It exercises late sweeps (the bot was down), meetings that pass unlogged and are logged
late, `met` before a meeting starts, `met on DATE`, logging again by either partner,
confirm and dispute, pair pauses; RESTRICTED names the rules it leaves out for now.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from conversations.digest.figures import to_json
from conversations.digest.sweep import run_digest
from conversations.engine import APOLOGY, Engine
from conversations.followthrough.policy import FollowThrough, LapseStep
from conversations.messages import Message
from conversations.policy import Policy
from storage.database import Database
from storage.states import LapseAction
from tests.harness import Chat
from tests.ledger_model import Model, Rules
from tests.ledger_model import Pair as ModelPair

T = TypeVar("T")
GRID = timedelta(hours=12)
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
HORIZON = timedelta(days=120)  # well inside the six-month term: no renewal or term end
EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", "6"))
STEPS = int(os.environ.get("LEDGER_STEPS", "30"))
# LEDGER_SHRINK=0 reports the first failing sequence as found (quicker while debugging).
PHASES = [p for p in Phase if p != Phase.shrink or os.environ.get("LEDGER_SHRINK") != "0"]
# Rules left out while the merged product diverges from them (see the report of issue 13):
# "held-in-another-week": a scheduled meeting logged as held on a day other than its
# scheduled moment (`met on DATE`). The digest counts it in the week it was held but asks
# whether its lapsed pair had a meeting by the scheduled week (storage/reports.py,
# meeting_weeks: `met` reads scheduled_at, the count reads held_at), so `meetings.due`
# counts that pair twice. Empty this set once that is fixed.
# "pause-lapsed" (pausing a lapsed pair takes it off the ladder) and "person-pause" (a
# person's own pause changes no pair and freezes no ladder): branch p-13b implements them;
# drop them from the set when it is merged.
RESTRICTED: set[str] = set()
LADDER = (
    LapseStep(timedelta(0), LapseAction.NUDGE_MENTEE),
    LapseStep(2 * DAY, LapseAction.NUDGE_BOTH),
    LapseStep(4 * DAY, LapseAction.NUDGE_MENTOR),
    LapseStep(6 * DAY, LapseAction.AT_RISK),
    LapseStep(8 * DAY, LapseAction.END_OR_REMATCH),
)
POLICY = Policy(
    program_name="Acme mentoring",
    admins=frozenset({"local:hana"}),
    cadence="weekly",
    follow=FollowThrough(lapse_grace=DAY, lapse_ladder=LADDER),
)
RULES = Rules(
    cadence=timedelta(days=7),
    grace=DAY,
    ladder=tuple(s.after for s in LADDER),
    at_risk_rung=4,
    meeting_length=timedelta(minutes=45),
    checkin_after=timedelta(hours=1),
)
PAIRS = (("alice", "bob"), ("carol", "dave"), ("erin", "bob"))
STATS = {
    "pairs": re.compile(r"Pairs: (\d+) active, (\d+) paused"),
    "meetings": re.compile(
        r"Meetings, last 7 days: (\d+) held of (\d+) due, (\d+) confirmed by both"
    ),
    "lapsed": re.compile(r"Lapsed pairs: (\d+), (\d+) at risk"),
}


class LedgerMachine(RuleBasedStateMachine):
    """Commands and sweeps on the real engine; the model follows; figures must agree."""

    fresh_database: Callable[[], str]  # set by the test: a new empty migrated database

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.db = Database(type(self).fresh_database())
        self.chat = Chat(Engine(self.db, POLICY))
        self.chat.now = START
        self.model = Model(RULES)
        self.log: list[str] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()

    def say(self, user: str, line: str) -> list[Message]:
        replies = self.run(self.chat.say(user, line))
        assert replies, f"no answer to {user}: {line}"
        for reply in replies:
            assert reply.text != APOLOGY, f"{user}: {line} failed"
        return replies

    @property
    def now(self) -> datetime:
        return self.chat.now

    # --- set-up ----------------------------------------------------------------------

    @initialize()
    def program(self) -> None:
        self.say("hana", "join mentor")
        for mentee, mentor in PAIRS:
            self.say(mentee, "join mentee")
            self.say(mentor, "join mentor")
        for mentee, mentor in PAIRS:
            reply = self.say("hana", f"admin pair @{mentee} @{mentor}")
            assert "paired" in reply[0].text.lower() or "pair" in reply[0].text.lower()
            self.model.add_pair(mentee, mentor, self.now)

    # --- helpers ---------------------------------------------------------------------

    def pair(self, index: int) -> ModelPair:
        return self.model.pairs[index % len(self.model.pairs)]

    @staticmethod
    def speaker(pair: ModelPair, mentor: bool) -> tuple[str, str]:
        return (pair.mentor, pair.mentee) if mentor else (pair.mentee, pair.mentor)

    def sweep_to(self, moment: datetime) -> None:
        self.chat.now = moment
        self.run(self.chat.engine.sweep(moment))
        self.model.sweep(moment)

    # --- time ------------------------------------------------------------------------

    @precondition(lambda self: self.now - START < HORIZON)
    @rule(grid_steps=st.integers(1, 8))
    def advance_and_sweep(self, grid_steps: int) -> None:
        """Time passes with the minute sweep running: a sweep at every grid point."""
        for _ in range(grid_steps):
            self.sweep_to(self.now + GRID)

    @precondition(lambda self: self.now - START < HORIZON)
    @rule(grid_steps=st.integers(1, 20))
    def advance_without_sweep(self, grid_steps: int) -> None:
        """The bot was down: time passes and nobody notices until the next sweep."""
        self.chat.now += grid_steps * GRID

    @rule()
    def sweep(self) -> None:
        self.sweep_to(self.now)

    # --- meetings --------------------------------------------------------------------

    @rule(index=st.integers(0, 2), mentor=st.booleans(), ahead=st.integers(1, 20))
    def schedule(self, index: int, mentor: bool, ahead: int) -> None:
        pair = self.pair(index)
        if pair.state != "active":
            return
        who, other = self.speaker(pair, mentor)
        at = self.now + ahead * GRID
        self.say(who, f"schedule {at:%Y-%m-%d %H:%M} with @{other}")
        self.model.schedule(pair, at, self.now)

    @rule(index=st.integers(0, 2), mentor=st.booleans())
    def cancel(self, index: int, mentor: bool) -> None:
        pair = self.pair(index)
        if pair.state != "active":
            return
        who, other = self.speaker(pair, mentor)
        self.say(who, f"schedule cancel with @{other}")
        self.model.cancel(pair)

    @rule(index=st.integers(0, 2), mentor=st.booleans())
    def skip(self, index: int, mentor: bool) -> None:
        pair = self.pair(index)
        if pair.state != "active":
            return
        who, other = self.speaker(pair, mentor)
        self.say(who, f"skip with @{other}")
        self.model.skip(pair, who)

    @rule(index=st.integers(0, 2), mentor=st.booleans())
    def met(self, index: int, mentor: bool) -> None:
        pair = self.pair(index)
        if pair.state != "active":
            return
        who, other = self.speaker(pair, mentor)
        self.say(who, f"met with @{other}")
        event(f"met: {self.model.met(pair, who, self.now)}")

    @rule(
        index=st.integers(0, 2),
        mentor=st.booleans(),
        days_ago=st.integers(0, 12),
        form=st.sampled_from(["on {date}", "{date}", "yesterday", "{n} days ago"]),
    )
    def met_on(self, index: int, mentor: bool, days_ago: int, form: str) -> None:
        """`met on DATE` and friends: a leading date phrase is the day, the rest a note."""
        pair = self.pair(index)
        if pair.state != "active":
            return
        # mostly days since the pairs began; the day before it is refused
        days_ago = 1 if form == "yesterday" else min(days_ago, (self.now - START).days + 1)
        day = (self.now - days_ago * DAY).date()
        phrase = form.format(date=day.isoformat(), n=days_ago)
        pending = pair.pending()
        if (
            "held-in-another-week" in RESTRICTED
            and pending is not None
            and day >= pending.created.date()
            and self.model.moment(day, self.now, pending.at.time()) != pending.at
        ):
            return
        who, other = self.speaker(pair, mentor)
        self.say(who, f"met with @{other} {phrase} a good talk")
        event(f"met on a day: {self.model.met(pair, who, self.now, day)}")

    @rule(index=st.integers(0, 2), mentor=st.booleans(), back=st.integers(0, 3), yes=st.booleans())
    def answer(self, index: int, mentor: bool, back: int, yes: bool) -> None:
        """The partner's one click on a logged meeting: confirm or dispute it."""
        pair = self.pair(index)
        if not pair.meetings:
            return
        number = pair.meetings[max(0, len(pair.meetings) - 1 - back)].number
        who, _ = self.speaker(pair, mentor)
        self.say(who, f"meeting {'confirm' if yes else 'dispute'} {number}")
        answered = self.model.answer(pair, who, number, yes)
        event(f"{'confirm' if yes else 'dispute'}: {'counted' if answered else 'refused'}")

    # --- pauses and ends -------------------------------------------------------------

    @rule(index=st.integers(0, 2), mentor=st.booleans(), days=st.integers(1, 12))
    def pause_pair(self, index: int, mentor: bool, days: int) -> None:
        pair = self.pair(index)
        if pair.state == "ended":
            return
        if "pause-lapsed" in RESTRICTED and pair.episode() is not None:
            return
        who, other = self.speaker(pair, mentor)
        day = (self.now + days * DAY).replace(hour=0, minute=0)
        self.say(who, f"pause with @{other} until {day:%Y-%m-%d}")
        self.model.pause(pair, day, self.now)

    @rule(index=st.integers(0, 2), mentor=st.booleans())
    def resume_pair(self, index: int, mentor: bool) -> None:
        pair = self.pair(index)
        if pair.state == "ended":
            return
        who, other = self.speaker(pair, mentor)
        self.say(who, f"resume with @{other}")
        if pair.state == "paused":
            self.model.resume(pair, self.now)

    @rule(user=st.sampled_from(["alice", "bob", "carol", "dave", "erin"]), days=st.integers(1, 9))
    def pause_person(self, user: str, days: int) -> None:
        """A person's own pause stops their matching only: no pair is paused by it."""
        if "person-pause" in RESTRICTED:
            return
        day = (self.now + days * DAY).date()
        self.say(user, f"pause until {day.isoformat()}")

    @rule(user=st.sampled_from(["alice", "bob", "carol", "dave", "erin"]))
    def resume_person(self, user: str) -> None:
        self.say(user, "resume")

    @rule(index=st.integers(0, 2), mentor=st.booleans())
    def end(self, index: int, mentor: bool) -> None:
        pair = self.pair(index)
        if pair.state == "ended":
            return
        who, other = self.speaker(pair, mentor)
        form = self.say(who, f"end with @{other}")[0].form()
        assert form is not None and form.form_id == "end"
        pair_id = form.inputs[0].value
        self.run(self.chat.submit(who, "end", {"pair": pair_id, "rematch": "no"}))
        self.model.end(pair, self.now)

    # --- the check -------------------------------------------------------------------

    @invariant()
    def figures_agree(self) -> None:
        digest, _ = self.run(run_digest(self.db, POLICY, self.now, post=False))
        shown = to_json(digest)
        expected = self.model.figures(self.now)
        rungs = [r for r in range(1, len(LADDER) + 1) if expected[f"lapses.step_{r}"]]
        event(f"highest rung reached: {max(rungs, default=0)}")
        actual = {k: shown["figures"][k] for k in expected}
        assert actual == expected, _diff("digest", actual, expected, self.now)
        before = self.model.figures(self.now - timedelta(days=7))
        history = (
            "meetings.due",
            "meetings.held",
            "meetings.confirmed",
            "lapses.begun",
            "lapses.recovered",
        )
        previous = {k: shown["previous"][k] for k in history}
        assert previous == {k: before[k] for k in history}, _diff(
            "previous week", previous, before, self.now
        )
        stats = "\n".join(m.text for m in self.say("hana", "admin stats"))
        found = {name: pattern.search(stats) for name, pattern in STATS.items()}
        assert all(found.values()), stats
        active, paused = (int(v) for v in found["pairs"].groups())  # type: ignore[union-attr]
        held, due, both = (int(v) for v in found["meetings"].groups())  # type: ignore[union-attr]
        lapsed, at_risk = (int(v) for v in found["lapsed"].groups())  # type: ignore[union-attr]
        assert (active, paused) == (expected["pairs.active"], expected["pairs.paused"]), stats
        assert (held, due, both) == (
            expected["meetings.held"],
            expected["meetings.due"],
            expected["meetings.confirmed"],
        ), stats
        assert (lapsed, at_risk) == (expected["lapses.open"], expected["lapses.at_risk"]), stats


def _diff(what: str, actual: dict[str, Any], expected: dict[str, Any], now: datetime) -> str:
    wrong = {k: (actual.get(k), v) for k, v in expected.items() if actual.get(k) != v}
    return f"{what} as of {now:%a %d %b %H:%M}: product vs model {wrong}"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Makes a new, empty, migrated database of each kind for every Hypothesis example."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        folder = tmp_path_factory.mktemp("ledger")
        count = iter(range(10**9))

        def copy() -> str:
            path = folder / f"example-{next(count)}.db"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"

        return copy
    url = str(request.getfixturevalue("postgres_url"))
    reset = str(request.getfixturevalue("postgres_reset"))

    def empty() -> str:
        async def run() -> None:
            db = Database(url)
            try:
                async with db.transaction() as session:
                    await session.execute(text(reset))
            finally:
                await db.dispose()

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run())
        finally:
            loop.close()
        return url

    return empty


# A long run (LEDGER_EXAMPLES set) may take as long as it needs; CI's keeps the default limit.
@pytest.mark.timeout(0 if "LEDGER_EXAMPLES" in os.environ else 120)
def test_figures_follow_the_ledger(fresh_database: Callable[[], str]) -> None:
    LedgerMachine.fresh_database = staticmethod(fresh_database)
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            phases=PHASES,
        ),
    )
