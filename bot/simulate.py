"""`mentorbot simulate`: a synthetic organisation through the whole lifecycle, on the real
engine, in simulated time, printing HR's digest every week.

The people are simulated; the bot is not. Every step goes through `Engine.handle` as
chat commands (join, profile, agreement, schedule, met + the check-in form, skip) and
`Engine.sweep` runs every simulated day, so agenda prompts, check-ins, the lapse ladder,
term ends and the weekly digest happen exactly as in production. Each pair has an
engagement drawn at random: engaged pairs meet on their cadence, others miss meetings,
drift into lapses and sometimes recover.

Pairing: matching is built on another branch, so for now the program team pairs
waiting mentees with mentors that have room, each Monday, with `admin pair` (a greedy,
department-crossing choice, not the optimal matcher).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from conversations.digest import digest_message
from conversations.digest_sweep import run_digest
from conversations.engine import Engine
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.messages import Message
from storage.database import Database

DEPARTMENTS = ("Sales", "Engineering", "Support", "Finance", "People", "Marketing", "Legal")
ADMIN = "sim-admin"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


@dataclass
class SimPair:
    pair_id: int
    mentee: str
    mentor: str
    engagement: float
    meeting: datetime | None = None
    agreed: bool = False


@dataclass
class Stats:
    commands: int = 0
    refusals: list[str] = field(default_factory=list)


class Simulation:
    def __init__(
        self, engine: Engine, people: int, weeks: int, seed: int, out: Callable[[str], None]
    ) -> None:
        self.engine, self.weeks, self.out = engine, weeks, out
        self.rng = random.Random(seed)
        self.people = [f"p{n:05d}" for n in range(1, people + 1)]
        # A third joins in the first week, the rest trickle in over the first half.
        self.join_day = {
            name: 0 if self.rng.random() < 0.35 else self.rng.randint(1, max(1, weeks * 7 // 2))
            for name in self.people
        }
        self.role: dict[str, str] = {}
        self.load: dict[str, int] = {}
        self.waiting: list[str] = []
        self.pairs: list[SimPair] = []
        self.stats = Stats()
        self.now = START

    async def say(self, user: str, line: str) -> list[Message]:
        actor = Actor("local", user, user)
        self.stats.commands += 1
        return await self.engine.handle(InboundEvent(actor, Command(line)), self.now)

    async def submit(self, user: str, form: str, fields: dict[str, str]) -> list[Message]:
        actor = Actor("local", user, user)
        self.stats.commands += 1
        action = Action("form.submit", form_id=form, fields=fields)
        return await self.engine.handle(InboundEvent(actor, action), self.now)

    async def join(self, name: str) -> None:
        role = self.rng.choices(("mentee", "mentor", "both"), (55, 35, 10))[0]
        self.role[name] = role
        await self.say(name, f"join {role}")
        await self.say(name, f"profile set department={self.rng.choice(DEPARTMENTS)}")
        if role in ("mentee", "both"):
            self.waiting.append(name)

    async def match(self) -> None:
        """Greedy pairing through `admin pair` (stand-in for the matcher)."""
        mentors = [
            n for n, r in self.role.items() if r in ("mentor", "both") and self.load.get(n, 0) < 2
        ]
        self.rng.shuffle(mentors)
        still_waiting = []
        for mentee in self.waiting:
            mentor = next((m for m in mentors if m != mentee and self.load.get(m, 0) < 2), None)
            if mentor is None:
                still_waiting.append(mentee)
                continue
            reply = await self.say(ADMIN, f"admin pair @{mentee} @{mentor}")
            if not reply[0].text.startswith("Paired"):
                self.stats.refusals.append(reply[0].text[:80])
                still_waiting.append(mentee)
                continue
            self.load[mentor] = self.load.get(mentor, 0) + 1
            engagement = self.rng.betavariate(4, 2)
            self.pairs.append(SimPair(0, mentee, mentor, engagement))
        self.waiting = still_waiting

    async def schedule(self, pair: SimPair, days: float) -> None:
        moment = (self.now + timedelta(days=days)).replace(hour=15, minute=0)
        if moment.weekday() >= 5:
            moment += timedelta(days=7 - moment.weekday())
        reply = await self.say(pair.mentee, f"schedule {moment:%Y-%m-%d} 15:00 with @{pair.mentor}")
        if "scheduled" in reply[0].text or "moved" in reply[0].text:
            pair.meeting = moment
        else:
            self.stats.refusals.append(reply[0].text[:80])

    async def meet(self, pair: SimPair) -> None:
        """The meeting's day is over: it happened (rating, next date) or was skipped."""
        rng = self.rng
        pair.meeting = None
        if rng.random() < pair.engagement:
            for person, partner in ((pair.mentee, pair.mentor), (pair.mentor, pair.mentee)):
                reply = await self.say(person, f"met with @{partner}")
                form = reply[0].form()
                if form is not None:
                    pair.pair_id = int(form.inputs[0].value)
                    rating = str(min(5, max(1, round(rng.gauss(2 + 3 * pair.engagement, 0.7)))))
                    fields = {"pair": form.inputs[0].value, "rating": rating, "next": ""}
                    await self.submit(person, "checkin", fields)
            if rng.random() < pair.engagement + 0.1:
                await self.schedule(pair, rng.choice((7, 14, 14, 21)))
        else:
            await self.say(pair.mentee, f"skip with @{pair.mentor}")
            if rng.random() < pair.engagement:
                await self.schedule(pair, rng.randint(3, 9))

    async def day(self, index: int) -> None:
        for name in self.people:
            if self.join_day[name] == index:
                await self.join(name)
        if self.now.weekday() == 0:
            await self.match()
        for pair in self.pairs:
            if not pair.agreed:
                await self.say(pair.mentee, f"agreement agree with @{pair.mentor}")
                await self.say(pair.mentor, f"agreement agree with @{pair.mentee}")
                pair.agreed = True
                await self.schedule(pair, self.rng.randint(2, 10))
            elif pair.meeting is not None and pair.meeting.date() == self.now.date():
                self.now = self.now.replace(hour=17)
                await self.meet(pair)
                self.now = self.now.replace(hour=9)
            elif pair.meeting is None and self.rng.random() < pair.engagement * 0.05:
                await self.schedule(pair, self.rng.randint(2, 6))  # a lapsed pair picks it up
        await self.engine.sweep(self.now)

    async def run(self) -> None:
        await self.say(ADMIN, "help")
        for index in range(self.weeks * 7):
            self.now = START + timedelta(days=index)
            await self.day(index)
            if self.now.weekday() == 6:
                digest, _ = await run_digest(
                    self.engine.db, self.engine.policy, self.now + timedelta(hours=15), post=False
                )
                self.out(f"\n=== Week {index // 7 + 1} ===")
                self.out(digest_message(digest, chart=False).text)


async def simulate(
    db: Database, engine: Engine, people: int, weeks: int, seed: int, out: Callable[[str], None]
) -> Stats:
    sim = Simulation(engine, people, weeks, seed, out)
    await sim.run()
    return sim.stats
