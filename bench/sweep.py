"""Benchmark the follow-through sweep on PostgreSQL: cost follows what is due.

What it measures (part 1 of issue 5's figures): wall time of one `Engine.sweep(now)`
over a program with --pairs active pairs (default 100,000)

* with 1% of the pairs due (a mix of agenda prompts, check-ins after a meeting and
  first lapse nudges), goal under 0.5 s; the sweep queues their messages in the
  outbox and moves each pair's `due_at` on; timed as dry runs (--rehearse) and as
  committed sweeps (--real, median), the due pairs put back between runs;
* with nothing due (the same `now` again, and one minute later), goal under 50 ms;
  the median of --repeat runs is reported.

How: a throwaway database `mentorbot_bench_<random>` is created on the server,
migrated and seeded in bulk: one mentee and one mentor per pair (person, local
identity, profile), about half of the pairs with a meeting scheduled in the next
two weeks, the rest quiet since a recent meeting; `due_at` of every pair is set
by the engine's own `plan()`. It is dropped at the end.

    .venv/bin/python bench/sweep.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Part 2 (10,000 messages through a rate-limited Slack double) is delivery's bench.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from conversations.engine import Engine
from conversations.followthrough.plan import plan
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import Identity, Meeting, OutboxMessage, Pair, Person, Profile
from storage.programs import ensure_program

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHUNK = 5000


async def _bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(model), rows[start : start + CHUNK])


async def seed(
    db: Database, policy: Policy, pairs: int, due_share: float, rng: random.Random
) -> dict[str, int]:
    """Insert the program; returns how many pairs of each kind were made due."""
    async with db.transaction() as session:
        program = await ensure_program(session, policy.program_slug, policy.program_name, None, NOW)
        program_id = program.id
    people: list[dict[str, Any]] = [
        {"id": i, "display_name": f"person{i}", "email": None, "created_at": NOW}
        for i in range(1, 2 * pairs + 1)
    ]
    await _bulk(db, Person, people)
    await _bulk(
        db,
        Identity,
        [
            {
                "id": p["id"],
                "person_id": p["id"],
                "platform": "local",
                "tenant": "",
                "user_id": f"person{p['id']}",
                "display_name": p["display_name"],
                "timezone": rng.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
                "created_at": NOW,
                "last_seen_at": NOW,
            }
            for p in people
        ],
    )
    await _bulk(
        db,
        Profile,
        [
            {
                "person_id": p["id"],
                "program_id": program_id,
                "role": "mentee" if p["id"] % 2 else "mentor",
                "status": "active",
                "offers": [],
                "wants": [],
                "languages": [],
                "updated_at": NOW,
            }
            for p in people
        ],
    )
    due_count = int(pairs * due_share)
    kinds = ["agenda", "checkin", "lapse"]
    counts = dict.fromkeys(kinds, 0)
    pair_rows: list[dict[str, Any]] = []
    meeting_rows: list[dict[str, Any]] = []
    for i in range(1, pairs + 1):
        pair = Pair(
            id=i,
            program_id=program_id,
            mentee_id=2 * i - 1,
            mentor_id=2 * i,
            state="active",
            cadence="biweekly",
            proposed_at=NOW - timedelta(days=60),
            activated_at=NOW - timedelta(days=60),
            agreement_confirmed_at=NOW - timedelta(days=59),
            goals="Grow as a leader",
            lapse_step=0,
            lapse_cycle=0,
            reasons=[],
        )
        meeting: Meeting | None = None
        if i <= due_count:
            kind = kinds[i % 3]
            counts[kind] += 1
            if kind == "lapse":
                pair.last_meeting_at = pair.silent_since = NOW - timedelta(days=17, minutes=5)
            else:
                at = (
                    NOW + timedelta(hours=23, minutes=58)
                    if kind == "agenda"
                    else NOW - timedelta(hours=2)
                )
                meeting = Meeting(id=i, pair_id=i, scheduled_at=at, duration_minutes=45, sequence=0)
                if kind == "checkin":
                    meeting.agenda_prompted_at = meeting.agenda_reminded_at = at - timedelta(days=1)
        elif i % 2:
            at = NOW + timedelta(days=1, hours=1) + timedelta(minutes=rng.randrange(13 * 24 * 60))
            meeting = Meeting(id=i, pair_id=i, scheduled_at=at, duration_minutes=45, sequence=0)
            pair.last_meeting_at = pair.silent_since = at - timedelta(days=14)
        else:
            pair.last_meeting_at = pair.silent_since = NOW - timedelta(
                minutes=rng.randrange(16 * 24 * 60)
            )
        steps = plan(pair, meeting, policy)
        pair.due_at = steps[0].at if steps else None
        if meeting is not None:
            pair.next_meeting_at = meeting.scheduled_at
            meeting_rows.append(
                {
                    c: getattr(meeting, c)
                    for c in (
                        "id",
                        "pair_id",
                        "scheduled_at",
                        "duration_minutes",
                        "sequence",
                        "agenda_prompted_at",
                        "agenda_reminded_at",
                    )
                }
                | {"status": "scheduled", "created_at": NOW - timedelta(days=3)}
            )
        pair_rows.append({c.name: getattr(pair, c.name) for c in Pair.__table__.columns})
    await _bulk(db, Pair, pair_rows)
    await _bulk(db, Meeting, meeting_rows)
    async with db.transaction() as session:
        for table in ("people", "identities", "pairs", "meetings"):
            await session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        await session.execute(text("ANALYZE"))
    return counts


async def snapshot_due(db: Database) -> None:
    """Keep a copy of the pairs due now and their meetings, for `restore_due`."""
    async with db.transaction() as session:
        await session.execute(
            text(
                "CREATE TABLE bench_due_pairs AS SELECT * FROM pairs WHERE due_at <= :now",
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
        await session.execute(
            text(
                "CREATE TABLE bench_due_meetings AS SELECT * FROM meetings"
                " WHERE pair_id IN (SELECT id FROM bench_due_pairs)"
            )
        )


async def restore_due(db: Database) -> None:
    """Put the due pairs back as they were before the sweep, so it can be timed again."""
    async with db.transaction() as session:
        for statement in (
            "DELETE FROM outbox",
            "DELETE FROM lapses",
            "DELETE FROM pairs WHERE id IN (SELECT id FROM bench_due_pairs)",  # cascades
            "INSERT INTO pairs SELECT * FROM bench_due_pairs",
            "INSERT INTO meetings SELECT * FROM bench_due_meetings",
        ):
            await session.execute(text(statement))


async def timed_sweep(engine: Engine, now: datetime) -> tuple[float, int]:
    start = time.perf_counter()
    items = await engine.sweep(now)
    return time.perf_counter() - start, len(items)


async def run(url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    policy = Policy()
    try:
        await upgrade(db)
        started = time.perf_counter()
        if not getattr(args, "seeded", False):
            counts = await seed(db, policy, args.pairs, args.due, random.Random(args.seed))
            if args.keep:
                print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
        if args.keep:  # a kept database is only ever swept in dry runs, so it stays due
            engine = Engine(db, policy)
            for _ in range(args.rehearse):
                start = time.perf_counter()
                items = await engine.sweep(NOW, dry_run=True)
                print(
                    f"dry-run due sweep: {(time.perf_counter() - start) * 1000:.0f} ms, "
                    f"{len(items)} items"
                )
            return
        print(
            f"seeded {args.pairs:,} active pairs in {time.perf_counter() - started:.1f} s; "
            "due now: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
            flush=True,
        )
        engine = Engine(db, policy)
        await engine.sweep(NOW - timedelta(hours=1))  # warm up: program cache, statements
        # The same due sweep as dry runs first (all the work, rolled back), then for real,
        # committed, --real times: the due pairs and meetings are put back between runs.
        rehearsals: list[float] = []
        for _ in range(args.rehearse):
            start = time.perf_counter()
            await engine.sweep(NOW, dry_run=True)
            rehearsals.append(time.perf_counter() - start)
        await snapshot_due(db)
        real: list[tuple[float, int, int]] = []
        for n in range(args.real):
            if n:
                await restore_due(db)
            due_seconds, due_items = await timed_sweep(engine, NOW)
            async with db.transaction() as session:
                queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
            real.append((due_seconds, due_items, queued or 0))
        due_seconds = statistics.median(r[0] for r in real)
        due_items, queued = real[-1][1], real[-1][2]
        idle: list[float] = []
        for n in range(args.repeat):
            seconds, found = await timed_sweep(engine, NOW + timedelta(seconds=n))
            assert found == 0, f"expected nothing due, got {found}"
            idle.append(seconds)
        print(
            f"sweep with {sum(counts.values()):,} of {args.pairs:,} pairs due "
            f"({args.due:.0%}): median {due_seconds * 1000:.0f} ms over {len(real)} committed "
            f"runs ({', '.join(f'{r[0] * 1000:.0f}' for r in real)}), {due_items:,} items, "
            f"{queued:,} outbox rows  (goal < 500 ms)"
        )
        if rehearsals:
            print(
                f"  the same sweep as dry runs (work done, then rolled back): median "
                f"{statistics.median(rehearsals) * 1000:.0f} ms over {len(rehearsals)} runs"
            )
        print(
            f"sweep with nothing due: median {statistics.median(idle) * 1000:.1f} ms, "
            f"max {max(idle) * 1000:.1f} ms over {len(idle)} runs  (goal < 50 ms)"
        )
        print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        await db.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", required=True, help="a PostgreSQL server URL")
    parser.add_argument("--pairs", type=int, default=100_000, help="active pairs (100000)")
    parser.add_argument("--due", type=float, default=0.01, help="share of pairs due (0.01)")
    parser.add_argument("--repeat", type=int, default=20, help="idle sweeps to time (20)")
    parser.add_argument("--rehearse", type=int, default=5, help="dry runs of the due sweep (5)")
    parser.add_argument("--real", type=int, default=5, help="committed due sweeps to time (5)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--keep", metavar="NAME", help="seed database NAME once and keep it; reuse it next time"
    )
    args = parser.parse_args()
    server = make_url(args.postgres)
    maintenance = server.set(database="postgres").render_as_string(hide_password=False)
    if args.keep:
        url = server.set(database=args.keep).render_as_string(hide_password=False)
        try:
            await execute_autocommit(maintenance, f'CREATE DATABASE "{args.keep}"')
        except Exception:
            args.seeded = True  # it exists: measure dry runs only, the state is left as it is
        await run(url, args)
        return 0
    name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    print(f"[postgresql] created database {name}", flush=True)
    try:
        await run(server.set(database=name).render_as_string(hide_password=False), args)
    finally:
        await execute_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"[postgresql] dropped database {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
