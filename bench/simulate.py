"""Benchmark `mentorbot simulate`: where a simulated organisation's time goes.

Runs the same simulation as the CLI (real engine, real matcher, real sweeps, real digest)
on a throwaway SQLite file, or on a PostgreSQL database you name with --postgres (its
tables are dropped and re-created), and prints per-week wall time plus where it went:
chat commands by their first word, sweeps, matching rounds and digests, with counts.
The goal (issue 6) is 10,000 people over 26 weeks within 10 minutes.

    .venv/bin/python bench/simulate.py --people 1000 --weeks 4
    .venv/bin/python bench/simulate.py --people 1000 --weeks 4 --postgres postgresql://…/mine

Figures on the 2-core CI machine shared with other jobs (load average 3-5), SQLite:
2,000 people × 26 weeks (64,174 commands) went from 694 s to 168 s; the full
`mentorbot simulate --people 10000 --weeks 26` ran in 903 s wall, 583 s of CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event, text

from bot.config import load_settings
from bot.simulate import ADMIN, Simulation
from conversations.engine import Engine
from conversations.events import Command, InboundEvent
from conversations.messages import Message
from conversations.sweeps import DueItem
from storage.database import Database
from storage.migrate import upgrade
from storage.simulation import single_process_database

T = TypeVar("T")


class Timings:
    """Seconds and calls per label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.statements: dict[str, int] = defaultdict(int)
        self.current = "(other)"
        self.sample: dict[str, list[str]] = {}

    def count(self, *args: Any) -> None:
        """A cursor-execute listener: one more SQL statement for the current label."""
        self.statements[self.current] += 1
        if os.environ.get("SIM_SQL") and self.calls[self.current] == 200:
            self.sample.setdefault(self.current, []).append(str(args[2])[:160])

    async def timed(self, label: str, work: Awaitable[T]) -> T:
        began = time.perf_counter()
        self.current = label
        try:
            return await work
        finally:
            self.seconds[label] += time.perf_counter() - began
            self.calls[label] += 1
            self.current = "(other)"

    def report(self, total: float) -> list[str]:
        lines = []
        for label, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            calls = self.calls[label]
            lines.append(
                f"  {label:<22} {calls:>8} calls {seconds:>8.1f} s "
                f"{1000 * seconds / calls:>7.2f} ms/call {100 * seconds / total:>5.1f} % "
                f"{self.statements[label] / calls:>6.1f} SQL/call"
            )
        for label, sample in self.sample.items():
            lines += [f"--- {label}", *sample]
        return lines


class TimedEngine(Engine):
    """The real engine, with each entry point's wall time recorded."""

    def __init__(self, db: Database, policy: Any, timings: Timings) -> None:
        super().__init__(db, policy)
        self.timings = timings

    async def handle(self, event: InboundEvent, now: datetime) -> list[Message]:
        payload = event.payload
        label = (
            payload.text.split()[0]
            if isinstance(payload, Command)
            else "form:" + str(getattr(payload, "form_id", "?"))
        )
        if label == "admin":
            label = "admin match"
        return await self.timings.timed(label, super().handle(event, now))

    async def sweep(self, now: datetime, *, dry_run: bool = False) -> list[DueItem]:
        return await self.timings.timed("(sweep)", super().sweep(now, dry_run=dry_run))


async def _reset_postgres(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose tables may be dropped")
    parser.add_argument(
        "--driver-thread",
        action="store_true",
        help="SQLite through aiosqlite's worker thread (the default for a shared file)",
    )
    args = parser.parse_args()
    settings = load_settings(None, os.environ)
    policy = replace(settings.policy, admins=settings.policy.admins | {f"local:{ADMIN}"})
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{folder}/simulation.db"
        db = Database(url) if args.driver_thread else single_process_database(url)
        if args.postgres:
            await _reset_postgres(db)
        await upgrade(db)
        timings = Timings()
        event.listen(db.engine.sync_engine, "before_cursor_execute", timings.count)
        engine = TimedEngine(db, policy, timings)
        week_began = time.perf_counter()
        week_times: list[float] = []

        def out(line: str) -> None:
            nonlocal week_began
            if line.startswith("\n=== Week"):
                now = time.perf_counter()
                week_times.append(now - week_began)
                week_began = now
                print(f"week {len(week_times):>3}: {week_times[-1]:7.1f} s", flush=True)

        sim = Simulation(engine, args.people, args.weeks, args.seed, out)
        digest = sim_digest(sim, timings)
        began, cpu = time.perf_counter(), time.process_time()
        await digest()
        total, cpu = time.perf_counter() - began, time.process_time() - cpu
        await db.dispose()
    print(sim.stats.summary())
    print(
        f"{args.people} people × {args.weeks} weeks on {db.dialect}: {total:.1f} s wall, "
        f"{cpu:.1f} s CPU in this process; {sim.stats.commands} commands "
        f"({1000 * total / max(1, sim.stats.commands):.2f} ms each, all-in)"
    )
    print("\n".join(timings.report(total)))
    print(f"  {'(rest: driver, digest)':<22} {total - sum(timings.seconds.values()):>23.1f} s")


def sim_digest(sim: Simulation, timings: Timings) -> Callable[[], Awaitable[None]]:
    """The simulation's run, with the weekly digest timed too."""
    import bot.simulate as module

    real = vars(module)["run_digest"]

    async def timed_digest(*args: Any, **kwargs: Any) -> Any:
        return await timings.timed("(digest)", real(*args, **kwargs))

    vars(module)["run_digest"] = timed_digest
    return sim.run


if __name__ == "__main__":
    asyncio.run(main())
