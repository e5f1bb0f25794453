"""`mentorbot simulate`: a synthetic organisation through the whole lifecycle, on the real
engine, in simulated time, printing HR's digest every week.

The people are simulated; the bot is not. Every step goes through `Engine.handle` as
chat commands and `Engine.sweep` runs every simulated day, so matching, proposal
expiry, agenda prompts, check-ins, the lapse ladder, renewals, term ends and the
weekly digest happen exactly as in production:

- people join over the first half with realistic profiles (`profile set` with offers
  and wants from one vocabulary, goals, department, level, time zone, languages,
  capacity for mentors, a manager for most);
- each Monday the program team runs `admin match` (the real matcher); people answer
  their proposals with `accept` (most), `decline` (some) or never (the proposal
  expires, they are paused, and some `resume` later);
- active pairs agree, schedule, meet (both log it with `met` and the check-in form, in
  which the mentee of a pair that goes on sets the next date) or skip according to an
  engagement drawn per pair, drift into lapses and sometimes recover, end early (`end` +
  review, some asking for a rematch) or renew near the end of their term.

Only what is due on a day is visited: actions sit in a per-day agenda, so a day costs
what happens on it, not the size of the organisation.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from conversations.digest.messages import digest_message
from conversations.digest.sweep import run_digest
from conversations.engine import Engine
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.messages import Message
from storage.database import Database
from storage.simulation import proposals_made_at

DEPARTMENTS = ("Sales", "Engineering", "Support", "Finance", "People", "Marketing", "Legal")
TOPICS = (
    "python",
    "public speaking",
    "leadership",
    "negotiation",
    "career growth",
    "product management",
    "data analysis",
    "hiring",
    "feedback",
    "sales strategy",
    "system design",
    "writing",
    "budgeting",
    "customer success",
    "time management",
    "people management",
    "security",
    "ux research",
)
GOALS = (
    "lead a team within a year",
    "get better at {topic}",
    "move into {topic}",
    "grow confidence in {topic}",
)
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago", "Asia/Tokyo")
LANGUAGES = ("de", "fr", "es", "pt-BR", "ja")
ADMIN = "sim-admin"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
TERM_DAYS = 182  # the default six-month term, as the sim plans renewals


@dataclass
class SimPair:
    mentee: str
    mentor: str
    engagement: float
    start_day: int
    pair_id: int = 0
    meeting: datetime | None = None
    ended: bool = False


@dataclass
class Stats:
    commands: int = 0
    proposals: int = 0
    accepted: int = 0  # proposals both sides accepted: pairs that became active
    declined: int = 0
    expired: int = 0  # proposals that ended without a yes or a no from someone
    meetings: int = 0  # meetings held (both said `met`)
    skipped: int = 0
    ended: int = 0  # pairs ended early with `end`
    renewed: int = 0
    active: int = 0  # pairs still open at the end
    seconds: float = 0.0
    refusals: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Summary: {self.commands} commands, {self.proposals} proposals "
            f"({self.accepted} accepted, {self.declined} declined, {self.expired} expired), "
            f"pairs {self.active} active / {self.ended} ended early / {self.renewed} renewed, "
            f"{self.meetings} meetings held ({self.skipped} skipped), "
            f"{len(self.refusals)} refusals, wall time {self.seconds:.1f} s."
        )


Task = Callable[[], Awaitable[None]]


class Simulation:
    def __init__(
        self, engine: Engine, people: int, weeks: int, seed: int, out: Callable[[str], None]
    ) -> None:
        self.engine, self.weeks, self.out = engine, weeks, out
        self.rng = random.Random(seed)
        self.people = [f"p{n:05d}" for n in range(1, people + 1)]
        self.joining: dict[int, list[str]] = defaultdict(list)
        # A third joins in the first week, the rest trickle in over the first half.
        for name in self.people:
            first = self.rng.random() < 0.35
            day = 0 if first else self.rng.randint(1, max(1, weeks * 7 // 2))
            self.joining[day].append(name)
        self.managers: list[str] = []
        self.agenda: dict[int, list[Task]] = defaultdict(list)
        self.pairs: list[SimPair] = []
        self.stats = Stats()
        self.today = 0
        self.now = START

    def later(self, days: int, task: Task) -> None:
        self.agenda[self.today + max(1, days)].append(task)

    async def say(self, user: str, line: str) -> list[Message]:
        actor = Actor("local", user, user)
        self.stats.commands += 1
        return await self.engine.handle(InboundEvent(actor, Command(line)), self.now)

    async def submit(self, user: str, form: str, fields: dict[str, str]) -> list[Message]:
        actor = Actor("local", user, user)
        self.stats.commands += 1
        action = Action("form.submit", form_id=form, fields=fields)
        return await self.engine.handle(InboundEvent(actor, action), self.now)

    def refused(self, reply: list[Message]) -> None:
        self.stats.refusals.append(reply[0].text[:80] if reply else "(no reply)")

    def profile_line(self, name: str, role: str) -> str:
        rng = self.rng
        mentoring = role in ("mentor", "both")
        low, high = (4, 10) if mentoring else (1, 7)
        fields = [
            f"department={rng.choice(DEPARTMENTS)}",
            f"level={rng.randint(low, high)}",
            f"timezone={rng.choices(ZONES, (35, 25, 20, 10, 10))[0]}",
            "languages=" + ",".join(["en", *rng.sample(LANGUAGES, rng.choice((0, 0, 1)))]),
        ]
        if mentoring:
            offers = rng.sample(TOPICS, rng.randint(2, 4))
            fields += [f'offers="{", ".join(offers)}"', f"capacity={rng.choice((1, 2, 2, 3))}"]
        if role in ("mentee", "both"):
            wants = rng.sample(TOPICS, rng.randint(1, 3))
            goal = rng.choice(GOALS).format(topic=wants[0])
            fields += [f'wants="{", ".join(wants)}"', f'goals="{goal}"']
        if self.managers and rng.random() < 0.8:
            fields.append(f"manager=@{rng.choice(self.managers)}")
        return "profile set " + " ".join(fields)

    async def join(self, name: str) -> None:
        role = self.rng.choices(("mentee", "mentor", "both"), (55, 35, 10))[0]
        reply = await self.say(name, f"join {role}")
        if not reply:
            self.refused(reply)
        reply = await self.say(name, self.profile_line(name, role))
        if not reply or ("Saved" not in reply[0].text and "saved" not in reply[0].text):
            self.refused(reply)
        if self.rng.random() < 0.08:
            self.managers.append(name)

    async def match(self) -> None:
        """Monday: the program team runs a round; each side of each proposal decides."""
        reply = await self.say(ADMIN, "admin match")
        if not reply or not reply[0].text.startswith("Matching round"):
            self.refused(reply)
            return
        program_id = self.engine.program_id
        assert program_id is not None
        async with self.engine.db.transaction() as session:
            made = await proposals_made_at(session, program_id, self.now)
        rng = self.rng
        for pair_id, mentee, mentor in made:
            self.stats.proposals += 1
            choices = [rng.choices(("accept", "decline", "silent"), (86, 6, 8))[0] for _ in "ab"]
            days = [rng.choice((0, 1, 1, 2, 3)) for _ in "ab"]
            if "decline" in choices:
                who = choices.index("decline")
                me, other = (mentee, mentor) if who == 0 else (mentor, mentee)
                self.later(days[who], self.decline(me, other))
            elif "silent" in choices:
                for who, choice in enumerate(choices):
                    me, other = (mentee, mentor) if who == 0 else (mentor, mentee)
                    if choice == "accept":
                        self.later(days[who], self.accept(me, other, None))
                    elif rng.random() < 0.5:  # back from holiday: stay in the pool
                        self.later(rng.randint(7, 21), self.resume(me))
                self.stats.expired += 1
            else:
                sim = SimPair(mentee, mentor, rng.betavariate(4, 2), 0, pair_id)
                first, second = (0, 1) if days[0] <= days[1] else (1, 0)
                users = (mentee, mentor)
                self.later(days[first], self.accept(users[first], users[1 - first], None))
                self.later(
                    max(days[second], days[first]), self.accept(users[second], users[first], sim)
                )

    def accept(self, me: str, other: str, pair: SimPair | None) -> Task:
        async def run() -> None:
            reply = await self.say(me, f"accept @{other}")
            if not reply or not reply[0].text.startswith("Accepted"):
                self.refused(reply)
            elif pair is not None and "now paired" in reply[0].text:
                self.stats.accepted += 1
                pair.start_day = self.today
                self.pairs.append(pair)
                self.later(1, self.agree(pair))

        return run

    def decline(self, me: str, other: str) -> Task:
        async def run() -> None:
            reason = self.rng.choice(("", " not the right time", " too busy this quarter"))
            reply = await self.say(me, f"decline @{other}{reason}")
            if reply and reply[0].text.startswith("Declined"):
                self.stats.declined += 1
            else:
                self.refused(reply)

        return run

    def resume(self, me: str) -> Task:
        async def run() -> None:
            await self.say(me, "resume")

        return run

    def agree(self, pair: SimPair) -> Task:
        async def run() -> None:
            await self.say(pair.mentee, f"agreement agree with @{pair.mentor}")
            await self.say(pair.mentor, f"agreement agree with @{pair.mentee}")
            await self.schedule(pair, self.rng.randint(2, 10))
            days_left = TERM_DAYS - (self.today - pair.start_day) - 10
            if pair.engagement > 0.55:
                self.later(days_left, self.renew(pair))
            if self.rng.random() < 0.12 * (1.5 - pair.engagement):
                self.later(self.rng.randint(20, 150), self.end(pair))

        return run

    def slot(self, days: float) -> datetime:
        """15:00 on a weekday `days` from today (a weekend moves to Monday)."""
        moment = (self.now + timedelta(days=days)).replace(hour=15, minute=0)
        if moment.weekday() >= 5:
            moment += timedelta(days=7 - moment.weekday())
        return moment

    def booked(self, pair: SimPair, moment: datetime, reply: list[Message]) -> None:
        """The bot's answer to a date being set: on the calendar, or a refusal."""
        if reply and ("scheduled" in reply[0].text or "moved" in reply[0].text):
            pair.meeting = moment
            day = (moment.date() - START.date()).days
            self.agenda[day].append(self.meet(pair, moment))
        else:
            self.refused(reply)

    async def schedule(self, pair: SimPair, days: float) -> None:
        await self.schedule_at(pair, self.slot(days))

    async def schedule_at(self, pair: SimPair, moment: datetime) -> None:
        reply = await self.say(pair.mentee, f"schedule {moment:%Y-%m-%d} 15:00 with @{pair.mentor}")
        self.booked(pair, moment, reply)

    def meet(self, pair: SimPair, moment: datetime) -> Task:
        """The meeting's day is over: it happened (rating, next date) or was skipped."""

        async def run() -> None:
            if pair.ended or pair.meeting != moment:
                return
            rng = self.rng
            pair.meeting = None
            self.now = self.now.replace(hour=17)
            if rng.random() < pair.engagement:
                self.stats.meetings += 1
                # Engaged pairs go on: the mentee puts the next date in the check-in form.
                again = (
                    self.slot(rng.choice((7, 14, 14, 21)))
                    if rng.random() < pair.engagement + 0.1
                    else None
                )
                for person, partner in ((pair.mentee, pair.mentor), (pair.mentor, pair.mentee)):
                    reply = await self.say(person, f"met with @{partner}")
                    form = reply[0].form() if reply else None
                    if form is not None:
                        pair.pair_id = int(form.inputs[0].value)
                        rating = str(min(5, max(1, round(rng.gauss(2 + 3 * pair.engagement, 0.7)))))
                        fields = {"pair": form.inputs[0].value, "rating": rating, "next": ""}
                        if again is not None and person == pair.mentee:
                            fields["next"] = f"{again:%Y-%m-%d} 15:00"
                            reply = await self.submit(person, "checkin", fields)
                            self.booked(pair, again, reply[1:])
                            again = None
                        else:
                            await self.submit(person, "checkin", fields)
                if again is not None:  # the mentee's form never came: the command instead
                    await self.schedule_at(pair, again)
                elif pair.meeting is None:
                    self.drift(pair)
            else:
                self.stats.skipped += 1
                await self.say(pair.mentee, f"skip with @{pair.mentor}")
                if rng.random() < pair.engagement:
                    await self.schedule(pair, rng.randint(3, 9))
                else:
                    self.drift(pair)
            self.now = self.now.replace(hour=9)

        return run

    def drift(self, pair: SimPair) -> None:
        """No next date: the lapse ladder starts; engaged pairs pick it up again later."""
        if self.rng.random() < pair.engagement:
            self.later(self.rng.randint(10, 40), self.recover(pair))

    def recover(self, pair: SimPair) -> Task:
        async def run() -> None:
            if not pair.ended and pair.meeting is None:
                await self.schedule(pair, self.rng.randint(2, 6))

        return run

    def renew(self, pair: SimPair) -> Task:
        async def run() -> None:
            if pair.ended:
                return
            reply = await self.say(pair.mentee, f"renew with @{pair.mentor}")
            if reply and "renewed" in reply[0].text.lower():
                self.stats.renewed += 1
            else:
                self.refused(reply)

        return run

    def end(self, pair: SimPair) -> Task:
        async def run() -> None:
            if pair.ended:
                return
            rng = self.rng
            ender = rng.choice((pair.mentee, pair.mentor))
            partner = pair.mentor if ender == pair.mentee else pair.mentee
            reply = await self.say(ender, f"end with @{partner}")
            form = reply[0].form() if reply else None
            if form is None:
                self.refused(reply)
                return
            fields = {
                "pair": form.inputs[0].value,
                "rating": str(rng.randint(2, 5)),
                "goals": rng.choice(("yes", "partly", "no")),
                "keep_in_touch": rng.choice(("yes", "no")),
                "rematch": "yes" if ender == pair.mentee and rng.random() < 0.5 else "no",
            }
            reply = await self.submit(ender, "end", fields)
            if reply and "has ended" in reply[0].text:
                pair.ended = True
                pair.meeting = None
                self.stats.ended += 1
            else:
                self.refused(reply)

        return run

    async def day(self) -> None:
        for name in self.joining.pop(self.today, ()):
            await self.join(name)
        if self.now.weekday() == 0:
            await self.match()
        # Tasks may add tasks for today (none do: `later` is at least a day on).
        for task in self.agenda.pop(self.today, ()):
            await task()
        await self.engine.sweep(self.now)

    async def run(self) -> None:
        began = time.monotonic()
        for index in range(self.weeks * 7):
            self.today = index
            self.now = START + timedelta(days=index)
            await self.day()
            if self.now.weekday() == 6:
                digest, _ = await run_digest(
                    self.engine.db, self.engine.policy, self.now + timedelta(hours=15), post=False
                )
                self.out(f"\n=== Week {index // 7 + 1} ===")
                self.out(digest_message(digest, chart=False).text)
        self.stats.active = sum(1 for p in self.pairs if not p.ended)
        self.stats.seconds = time.monotonic() - began
        self.out("\n" + self.stats.summary())


async def simulate(
    db: Database, engine: Engine, people: int, weeks: int, seed: int, out: Callable[[str], None]
) -> Stats:
    sim = Simulation(engine, people, weeks, seed, out)
    await sim.run()
    return sim.stats
