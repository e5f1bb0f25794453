"""Benchmark HR's weekly digest on PostgreSQL: 100,000 participants, goal under 1 s.

What it measures: wall time of one `compute_digest(session, program, policy, now)`,
everything included (this week's figures, last week's for the comparison, the 12-week
trend, recognition and the at-risk list), over a program of --people participants
(default 100,000) with 12 weeks of history. The median of --repeat runs is reported,
plus the first (cold) run.

How: a throwaway database `mentorbot_bench_<random>` is created on the server,
migrated and seeded in bulk: participants with roles and departments (a tenth joined
in the last two weeks, a few left), about 0.8 pairs per mentee (most active, some
ended or paused), each active pair with meetings every one to three weeks over the 12
weeks (most held, some skipped, the latest scheduled ahead), ratings on held meetings,
and a tenth of the pairs lapsed at some ladder step (some at risk, some recovered); then
VACUUM ANALYZE, as autovacuum would have done on a live database. It is dropped at the end.

    .venv/bin/python bench/digest.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

`--chart FILE` writes the sample digest's chart (docs/digest-chart.png is one, from
this seed); `--keep` / `--reuse NAME` time again without seeding; `--profile` shows the
time spent in each storage.reports query. `--sqlite FILE` runs the same on SQLite, for
comparison (the goal is PostgreSQL's; SQLite is the pilot's database).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from conversations.digest.chart import WeekBar, trend_png
from conversations.digest.figures import compute_digest, to_json
from conversations.digest.messages import digest_message
from conversations.digest.policy import ObjectiveTarget
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import Lapse, Meeting, MeetingFeedback, Pair, Person, Profile
from storage.programs import ensure_program

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CHUNK = 5000
DEPARTMENTS = ("Sales", "Engineering", "Support", "Finance", "People", "Marketing")


async def _bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(model), rows[start : start + CHUNK])


async def seed(db: Database, people: int, rng: random.Random) -> int:
    async with db.transaction() as session:
        program = await ensure_program(session, "default", "Bench program", None, NOW)
        program_id = program.id
    start = NOW - timedelta(weeks=12)
    persons, profiles = [], []
    mentees: list[int] = []
    mentors: list[int] = []
    for pid in range(1, people + 1):
        role = rng.choices(("mentee", "mentor", "both"), (55, 35, 10))[0]
        recent = rng.random() < 0.1
        joined = NOW - timedelta(days=rng.uniform(0, 14)) if recent else start
        left = NOW - timedelta(days=rng.uniform(0, 20)) if rng.random() < 0.03 else None
        persons.append({"id": pid, "display_name": f"person{pid}", "created_at": joined})
        profiles.append(
            {
                "person_id": pid,
                "program_id": program_id,
                "role": role,
                "status": "left" if left else "active",
                "offers": [],
                "wants": [],
                "languages": [],
                "department": rng.choice(DEPARTMENTS),
                "joined_at": joined,
                "left_at": left,
                "updated_at": joined,
            }
        )
        if role in ("mentee", "both") and not recent:
            mentees.append(pid)
        if role in ("mentor", "both"):
            mentors.append(pid)
    await _bulk(db, Person, persons)
    await _bulk(db, Profile, profiles)
    pairs: list[dict[str, Any]] = []
    meetings: list[dict[str, Any]] = []
    lapses: list[dict[str, Any]] = []
    pair_id = meeting_id = 0
    for mentee in mentees:
        if rng.random() > 0.8:
            continue  # waiting for a match
        pair_id += 1
        mentor = rng.choice(mentors)
        while mentor == mentee:
            mentor = rng.choice(mentors)
        activated = start + timedelta(days=rng.uniform(0, 70))
        fate = rng.random()
        state = "active" if fate < 0.85 else ("paused" if fate < 0.9 else "ended")
        ended = NOW - timedelta(days=rng.uniform(0, 30)) if state == "ended" else None
        every = timedelta(days=rng.choice((7, 14, 14, 21)))
        moment, last_held = activated + timedelta(days=rng.uniform(2, 12)), None
        lapsed = rng.random() < 0.1
        stop = NOW - timedelta(days=25) if lapsed else (ended or NOW + timedelta(days=10))
        while moment < stop:
            meeting_id += 1
            held = moment <= NOW and rng.random() < 0.85
            status = "held" if held else ("skipped" if moment <= NOW else "scheduled")
            meetings.append(
                {
                    "id": meeting_id,
                    "pair_id": pair_id,
                    "scheduled_at": moment,
                    "status": status,
                    "created_at": moment - timedelta(days=7),
                    "held_at": moment if held else None,
                }
            )
            if held:
                last_held = moment
            moment += every
        pairs.append(
            {
                "id": pair_id,
                "program_id": program_id,
                "mentee_id": mentee,
                "mentor_id": mentor,
                "state": state,
                "proposed_at": activated,
                "activated_at": activated,
                "ended_at": ended,
                "last_meeting_at": last_held,
                "lapse_step": 0,
                "lapse_cycle": 0,
            }
        )
        if lapsed:
            began = (last_held or activated) + every + timedelta(days=3)
            recovered = rng.random() < 0.3
            step = rng.randint(1, 5)
            lapses.append(
                {
                    "pair_id": pair_id,
                    "program_id": program_id,
                    "cycle": 0,
                    "began_at": began,
                    "step": step,
                    "at_risk_at": began + timedelta(days=14) if step >= 4 else None,
                    "closed_at": NOW - timedelta(days=rng.uniform(0, 10)) if recovered else None,
                    "outcome": "recovered" if recovered else None,
                }
            )
    await _bulk(db, Pair, pairs)
    await _bulk(db, Meeting, meetings)
    await _bulk(db, Lapse, lapses)
    pair_people = {p["id"]: (p["mentee_id"], p["mentor_id"]) for p in pairs}
    feedback = []
    for m in meetings:
        if m["status"] == "held" and rng.random() < 0.6:
            for person in pair_people[m["pair_id"]]:
                feedback.append(
                    {
                        "meeting_id": m["id"],
                        "person_id": person,
                        "met": True,
                        "rating": rng.choice((3, 4, 4, 5, 5)),
                        "created_at": m["scheduled_at"] + timedelta(hours=2),
                    }
                )
    await _bulk(db, MeetingFeedback, feedback)
    if db.is_sqlite:
        async with db.transaction() as session:
            await session.execute(text("ANALYZE"))
    else:
        # A live database is vacuumed by autovacuum; freshly bulk-loaded rows are not yet
        # (no visibility map, hint bits unset), which would time the loading, not the digest.
        await execute_autocommit(db.url.render_as_string(hide_password=False), "VACUUM ANALYZE")
    print(
        f"seeded {people} participants, {len(pairs)} pairs, {len(meetings)} meetings, "
        f"{len(lapses)} lapses, {len(feedback)} ratings"
    )
    return program_id


SPENT: dict[str, float] = {}


def _profile_metrics() -> None:
    """Wrap each storage.reports query function to add up the time spent in it."""
    import functools
    import inspect

    from storage import reports

    for name, fn in list(vars(reports).items()):
        if not inspect.iscoroutinefunction(fn) or name.startswith("_"):
            continue

        def wrap(fn: Any = fn, name: str = name) -> Any:
            @functools.wraps(fn)
            async def timed(*a: Any, **k: Any) -> Any:
                began = time.perf_counter()
                try:
                    return await fn(*a, **k)
                finally:
                    SPENT[name] = SPENT.get(name, 0.0) + time.perf_counter() - began

            return timed

        setattr(reports, name, wrap())


async def run(url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        if not args.reuse:
            began = time.perf_counter()
            await seed(db, args.people, random.Random(args.seed))
            print(f"seeding took {time.perf_counter() - began:.1f} s")
        policy = Policy(
            program_name="Bench program",
            objective_target=ObjectiveTarget("Mentees from Sales", ("Sales",), 0.25),
        )
        if args.profile:
            _profile_metrics()
        timings = []
        digest = None
        for _ in range(args.repeat):
            async with db.transaction() as session:
                program = await ensure_program(session, "default", "Bench program", None, NOW)
                began = time.perf_counter()
                digest = await compute_digest(session, program, policy, NOW)
                timings.append(time.perf_counter() - began)
        assert digest is not None
        async with db.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(Profile))
        for name, spent in sorted(SPENT.items(), key=lambda kv: -kv[1]):
            print(f"  {name}: {spent / len(timings) * 1000:.0f} ms per digest")
        print(
            f"compute_digest over {count} participants: first {timings[0] * 1000:.0f} ms, "
            f"median of {len(timings)} {statistics.median(timings) * 1000:.0f} ms "
            f"(goal < 1000 ms)"
        )
        began = time.perf_counter()
        message = digest_message(digest)
        print(f"rendering (text and chart PNG): {(time.perf_counter() - began) * 1000:.0f} ms")
        print("\n--- sample digest ---")
        print(message.text)
        print("--- figures (JSON) ---")
        for key, value in to_json(digest)["figures"].items():
            print(f"  {key}: {value}")
        if args.chart:
            png = trend_png([WeekBar(w.due, w.held, w.rate, w.start) for w in digest.trend])
            await asyncio.to_thread(Path(args.chart).write_bytes, png)
            print(f"chart written to {args.chart}")
    finally:
        await db.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres", help="server URL (a database is made there)")
    where.add_argument("--sqlite", metavar="FILE", help="a SQLite file instead (for comparison)")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", metavar="NAME", help="time a database kept by --keep")
    parser.add_argument("--profile", action="store_true", help="time each metrics query")
    parser.add_argument("--chart", help="write the sample digest's chart PNG here")
    args = parser.parse_args()
    if args.sqlite:
        path = Path(args.sqlite)
        if not args.reuse and await asyncio.to_thread(path.exists):
            parser.error(f"{path} exists; pass --reuse {path} to time it again")
        try:
            await run(f"sqlite:///{path}", args)
        finally:
            if not args.keep:
                for leftover in (path, *path.parent.glob(path.name + "-*")):
                    await asyncio.to_thread(leftover.unlink, missing_ok=True)
        return 0
    name = args.reuse or f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    if not args.reuse:
        await execute_autocommit(args.postgres, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        await run(url, args)
    finally:
        if args.keep:
            print(f"kept database {name} (--reuse {name} runs again without seeding)")
        else:
            await execute_autocommit(
                args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
