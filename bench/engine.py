"""Benchmark the conversation engine with a realistically sized program.

What it measures: the end-to-end latency of `Engine.handle()` for

* `/mentor status` (a read: identity upsert, reference check, profile, pairs,
  manager and partner names), the command people type most; the goal is a
  median under 5 ms;
* `/mentor profile set level=N` (a write: the same plus a profile update and
  an audit entry), labelled "write".

Each command is one engine call = one database transaction, issued one after
another for randomly chosen people, exactly as an adapter would. Latency is
wall time around `engine.handle()` only (building the event is not counted).

How: a fresh database is created (SQLite in a temporary directory; on
PostgreSQL a throwaway `mentorbot_bench_<random>` database, dropped at the
end), migrated, and seeded in bulk with --people people, each with a local
identity, a conversation reference (so the benchmark sees the steady state,
not first contact) and a varied profile in the "default" program; about a
third of the mentees are in a pair. A few warm-up calls run before measuring.

Run it by hand from the project root:

    .venv/bin/python bench/engine.py
    .venv/bin/python bench/engine.py --people 10000 --commands 2000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

PostgreSQL runs when --postgres is given, or MENTORBOT_BENCH_DATABASE_URL is
set; the database in that URL is only used to find the server (the throwaway
database is created through the `postgres` maintenance database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from conversations.engine import APOLOGY, Engine
from conversations.events import Actor, Command, InboundEvent
from conversations.policy import Policy
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import ConversationReference, Identity, Pair, Person, Profile
from storage.programs import ensure_program

PG_ENV = "MENTORBOT_BENCH_DATABASE_URL"
GOAL_MEDIAN_MS = 5.0

FIRST_NAMES = (
    "Ada Alan Amara Ana Anders Aiko Bea Bruno Chen Chidi Clara Dario Dev Elif Emil Fatima "
    "Felix Grace Hana Hugo Ines Ivan Jonas Julia Kai Kemal Lena Liam Lucia Maya Mateo Mei "
    "Nadia Nikos Noor Olga Omar Priya Rafael Rosa Sami Sara Sofia Tariq Uma Vera Wei Yusuf Zoe"
).split()
LAST_NAMES = (
    "Abe Ahmed Berg Costa Dubois Eriksen Fischer Garcia Haddad Ibrahim Jensen Kim Kowalski "
    "Lopez Meyer Moreau Nakamura Novak Okafor Olsen Patel Rossi Santos Schmidt Silva Tanaka "
    "Torres Varga Wang Weber Yilmaz Zhang"
).split()
DEPARTMENTS = (
    "Engineering",
    "Product",
    "Design",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Legal",
    "Customer Success",
    "Operations",
    "Data",
    "Security",
)
TIMEZONES = (
    "Europe/Berlin",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Warsaw",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Africa/Lagos",
    "UTC",
)
TOPICS = (
    "public speaking",
    "python",
    "leadership",
    "negotiation",
    "career growth",
    "system design",
    "product strategy",
    "hiring",
    "feedback",
    "time management",
    "data analysis",
    "stakeholder management",
    "writing",
    "people management",
    "sql",
    "machine learning",
    "pricing",
    "ux research",
    "budgeting",
    "security basics",
)
LANGUAGES = ("de", "es", "fr", "pt", "pl", "ja", "hi", "zh", "tr", "it")
GOALS = (
    "lead a team within a year",
    "give a talk at a conference",
    "move from support into engineering",
    "get better at saying no",
    "prepare for a staff engineer role",
    "run my first hiring loop",
    "understand the business side",
)


@dataclass(frozen=True)
class Seeded:
    """What the measurement needs to know about the seeded people."""

    user_ids: list[str]
    names: dict[str, str]
    seconds: float
    pairs: int


@dataclass(frozen=True)
class Result:
    backend: str
    command: str
    count: int
    seconds: float
    median_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def _person_rows(n: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        created = now - timedelta(days=rng.randint(30, 900))
        rows.append(
            {"display_name": name, "email": f"user{i:05d}@example.com", "created_at": created}
        )
    return rows


def _profile_row(
    person_id: int, program_id: int, manager_id: int | None, rng: random.Random, now: datetime
) -> dict[str, Any]:
    role = rng.choices(("mentee", "mentor", "both"), weights=(55, 30, 15))[0]
    status = rng.choices(("active", "paused", "left"), weights=(92, 6, 2))[0]
    offers = rng.sample(TOPICS, rng.randint(1, 4)) if role != "mentee" else []
    wants = rng.sample(TOPICS, rng.randint(0, 3)) if role != "mentor" else []
    joined = now - timedelta(days=rng.randint(1, 400))
    return {
        "person_id": person_id,
        "program_id": program_id,
        "role": role,
        "status": status,
        "offers": offers,
        "wants": wants,
        "goals": rng.choice(GOALS) if role != "mentor" and rng.random() < 0.7 else None,
        "department": rng.choice(DEPARTMENTS) if rng.random() < 0.95 else None,
        "manager_id": manager_id,
        "level": rng.randint(1, 10) if rng.random() < 0.9 else None,
        "timezone": rng.choice(TIMEZONES) if rng.random() < 0.85 else None,
        "languages": ["en", *rng.sample(LANGUAGES, rng.randint(0, 2))],
        "capacity": rng.randint(1, 3) if role != "mentee" else None,
        "paused_until": now + timedelta(days=rng.randint(5, 60)) if status == "paused" else None,
        "joined_at": joined,
        "left_at": now - timedelta(days=1) if status == "left" else None,
        "updated_at": joined,
    }


def _pair_rows(
    profiles: list[dict[str, Any]], program_id: int, rng: random.Random, now: datetime
) -> list[dict[str, Any]]:
    """Pair about a third of the active mentees with active mentors that have room."""
    open_seats: list[int] = []
    for p in profiles:
        if p["status"] == "active" and p["role"] in ("mentor", "both"):
            open_seats.extend([p["person_id"]] * (p["capacity"] or 1))
    rng.shuffle(open_seats)
    rows = []
    for p in profiles:
        if not open_seats:
            break
        if p["status"] != "active" or p["role"] == "mentor" or rng.random() > 0.33:
            continue
        mentor_id = open_seats.pop()
        if mentor_id == p["person_id"]:
            continue
        state = rng.choices(("active", "proposed"), weights=(85, 15))[0]
        proposed = now - timedelta(days=rng.randint(3, 120))
        active = state == "active"
        rows.append(
            {
                "program_id": program_id,
                "mentee_id": p["person_id"],
                "mentor_id": mentor_id,
                "state": state,
                "score": round(rng.uniform(0.4, 0.95), 3),
                "reasons": ["shared topic", "compatible time zones"],
                "proposed_at": proposed,
                "proposal_expires_at": None if active else proposed + timedelta(days=7),
                "activated_at": proposed + timedelta(days=2) if active else None,
                "cadence": "biweekly",
                "next_meeting_at": now + timedelta(days=rng.randint(1, 14)) if active else None,
                "lapse_step": 0,
                "lapse_cycle": 0,
            }
        )
    return rows


async def seed(db: Database, policy: Policy, people: int, rng: random.Random) -> Seeded:
    """Bulk-insert people, identities, references, profiles and pairs in one transaction."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    async with db.transaction() as session:
        program = await ensure_program(
            session, policy.program_slug, policy.program_name, policy.objective, now
        )
        person_rows = _person_rows(people, rng, now)
        person_ids = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True), person_rows
            )
        )
        user_ids = [f"user{i:05d}" for i in range(people)]
        identity_rows = [
            {
                "person_id": pid,
                "platform": "local",
                "tenant": "",
                "user_id": uid,
                "display_name": row["display_name"],
                "email": row["email"],
                "timezone": None,
                "created_at": row["created_at"],
                "last_seen_at": now - timedelta(days=rng.randint(0, 30)),
            }
            for pid, uid, row in zip(person_ids, user_ids, person_rows, strict=True)
        ]
        identity_ids = list(
            await session.scalars(
                insert(Identity).returning(Identity.id, sort_by_parameter_order=True),
                identity_rows,
            )
        )
        await session.execute(
            insert(ConversationReference),
            [
                {"identity_id": iid, "reference": {"user": uid}, "updated_at": now}
                for iid, uid in zip(identity_ids, user_ids, strict=True)
            ],
        )
        managers = rng.sample(person_ids, max(1, people // 12))
        profile_rows = []
        for pid in person_ids:
            manager = rng.choice(managers) if rng.random() < 0.6 else None
            profile_rows.append(
                _profile_row(pid, program.id, manager if manager != pid else None, rng, now)
            )
        await session.execute(insert(Profile), profile_rows)
        pair_rows = _pair_rows(profile_rows, program.id, rng, now)
        if pair_rows:
            await session.execute(insert(Pair), pair_rows)
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    names = {uid: row["display_name"] for uid, row in zip(user_ids, person_rows, strict=True)}
    return Seeded(user_ids, names, time.perf_counter() - started, len(pair_rows))


def status_line(_rng: random.Random) -> str:
    return "/mentor status"


def profile_set_line(rng: random.Random) -> str:
    return f"/mentor profile set level={rng.randint(1, 10)}"


def _check(line: str, replies: list[Any]) -> None:
    """Fail loudly if the engine apologised or answered something unexpected."""
    if not replies or replies[0].text == APOLOGY:
        raise RuntimeError(f"engine failed on {line!r}: {replies!r}")
    first = replies[0].text
    if line.endswith("status") and "haven't joined" in first:
        raise RuntimeError("status did not find the seeded profile (wrong program?)")
    if "profile set" in line and not first.startswith("Saved:"):
        raise RuntimeError(f"profile set did not save: {first!r}")


async def measure(
    engine: Engine,
    seeded: Seeded,
    make_line: Callable[[random.Random], str],
    count: int,
    warmup: int,
    rng: random.Random,
) -> tuple[float, list[float]]:
    """Run `warmup` unmeasured then `count` measured commands; (wall seconds, latencies)."""

    def event() -> tuple[str, InboundEvent]:
        uid = rng.choice(seeded.user_ids)
        line = make_line(rng)
        return line, InboundEvent(
            Actor("local", uid, seeded.names[uid]), Command(line), {"user": uid}
        )

    for _ in range(warmup):
        line, ev = event()
        _check(line, await engine.handle(ev, datetime.now(UTC)))

    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(count):
        line, ev = event()
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        replies = await engine.handle(ev, now)
        latencies.append(time.perf_counter() - t0)
        _check(line, replies)
    return time.perf_counter() - started, latencies


def summarise(backend: str, command: str, seconds: float, latencies: list[float]) -> Result:
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    return Result(
        backend=backend,
        command=command,
        count=len(latencies),
        seconds=seconds,
        median_ms=statistics.median(latencies) * 1000,
        p99_ms=p99 * 1000,
    )


async def run_backend(backend: str, url: str, args: argparse.Namespace) -> list[Result]:
    rng = random.Random(args.seed)
    policy = Policy()
    db = Database(url)
    try:
        started = time.perf_counter()
        await upgrade(db)
        print(f"[{backend}] migrated in {time.perf_counter() - started:.1f} s", flush=True)
        seeded = await seed(db, policy, args.people, rng)
        print(
            f"[{backend}] seeded {args.people} people ({seeded.pairs} pairs) "
            f"in {seeded.seconds:.1f} s",
            flush=True,
        )
        engine = Engine(db, policy)
        results = []
        for label, make_line in (
            ("status (read)", status_line),
            ("profile set level=N (write)", profile_set_line),
        ):
            seconds, latencies = await measure(
                engine, seeded, make_line, args.commands, args.warmup, rng
            )
            results.append(summarise(backend, label, seconds, latencies))
            print(f"[{backend}] {label}: {args.commands} commands in {seconds:.1f} s", flush=True)
        return results
    finally:
        await db.dispose()


async def run_postgres(server_url: str, args: argparse.Namespace) -> list[Result]:
    """Create a throwaway database on the server, benchmark it, drop it."""
    server = make_url(server_url)
    maintenance = server.set(database="postgres").render_as_string(hide_password=False)
    name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    print(f"[postgresql] created database {name}", flush=True)
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        return await run_backend("postgresql", url, args)
    finally:
        await execute_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"[postgresql] dropped database {name}", flush=True)


def print_table(results: list[Result], people: int) -> None:
    print()
    print(f"Conversation engine, {people} people, commands issued one at a time")
    header = (
        f"{'backend':<11} {'command':<28} {'n':>6} {'cmds/s':>8} {'median ms':>10} {'p99 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11} {r.command:<28} {r.count:>6} {r.per_second:>8.0f} "
            f"{r.median_ms:>10.2f} {r.p99_ms:>8.2f}"
        )
    print()
    for r in results:
        if r.command.startswith("status"):
            verdict = "met" if r.median_ms < GOAL_MEDIAN_MS else "NOT met"
            print(
                f"Goal: median status < {GOAL_MEDIAN_MS:g} ms on {r.backend}: {verdict} "
                f"({r.median_ms:.2f} ms)"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000, help="people to seed (10000)")
    parser.add_argument(
        "--commands", type=int, default=2_000, help="measured commands per kind (2000)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured calls first (50)")
    parser.add_argument("--seed", type=int, default=1234, help="random seed (1234)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(PG_ENV),
        metavar="URL",
        help=f"a PostgreSQL server URL (default: ${PG_ENV}); omitted: PostgreSQL is skipped",
    )
    args = parser.parse_args(argv)
    if args.people < 2 or args.commands < 2:
        parser.error("--people and --commands must be at least 2")
    return args


async def main() -> int:
    args = parse_args()
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{platform.system()} {platform.machine()}",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mentorbot-bench-") as tmp:
        results += await run_backend("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    failed = False
    if args.postgres:
        try:
            results += await run_postgres(args.postgres, args)
        except Exception as err:  # report it, keep the SQLite figures
            print(f"[postgresql] failed: {type(err).__name__}: {err}", file=sys.stderr)
            failed = True
    else:
        print(f"[postgresql] skipped: no --postgres URL given and ${PG_ENV} is not set")
    print_table(results, args.people)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
