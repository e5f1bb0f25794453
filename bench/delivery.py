"""Benchmark delivery: 10,000 messages through a rate-limited Slack Web API double.

What it measures: the delivery worker draining an outbox of --messages messages to
--channels people (round-robin, so each person gets messages/channels of them) through
the production Slack sender (`adapters.slack.sender.SlackSender`, built from settings as
bot/app.py builds it: `conversations.open`, then `chat.postMessage`) against
`tests/doubles/rate_limited_slack.py`, run as its own process on 127.0.0.1. The double
accepts one message a second per channel and answers 429 with Retry-After beyond,
so the allowed rate is --channels messages a second. It reports messages sent, lost
(never posted), duplicated (posted more than once), 429s received, elapsed time from
the worker's start to the last row marked sent, msgs/s, and that rate against the
allowed one. The first message to each channel may go at once, so the floor on
elapsed time is (messages/channels − 1) seconds.

How: a fresh database (SQLite in a temporary directory; on PostgreSQL a throwaway
`mentorbot_bench_<random>` database, dropped at the end), migrated; --channels people
with a Slack identity each; --messages outbox rows queued through `outbox.enqueue`.
Then one `DeliveryWorker` (the production one, with Slack's pacing) runs until every
row is sent or dead. A fresh double per backend.

    .venv/bin/python bench/delivery.py
    .venv/bin/python bench/delivery.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url

from adapters.slack.sender import SlackSender
from adapters.slack.transport import build_slack
from bot.config import load_settings
from bot.delivery import DeliveryWorker
from conversations.engine import Engine
from storage import outbox, people
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "MENTORBOT_BENCH_DATABASE_URL"
TEAM = "T0BENCH"


def make_sender(db: Database, api_url: str) -> SlackSender:
    """The production Slack sender, built as bot/app.py builds it: settings from the
    environment (SLACK_API_URL pointing at the double), then `build_slack`; it posts
    through slack_sdk with the app's retry handlers (a 429 asking for at most a second
    is retried in place, a longer one goes back to the worker)."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "SLACK_API_URL": api_url,
    }
    settings = load_settings(str(ROOT / "app.yaml"), env=env)
    assert settings.slack is not None
    engine = Engine(db, settings.policy)
    return build_slack(engine, lambda: datetime.now(UTC), settings.slack).bot.sender


@dataclass
class Result:
    backend: str
    messages: int
    sent: int
    dead: int
    lost: int
    duplicated: int
    rate_limited: int
    seconds: float
    allowed_rate: float

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


async def start_double() -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.doubles.rate_limited_slack",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().split()
    return process, line[1]


async def seed(db: Database, messages: int, channels: int) -> None:
    now = datetime.now(UTC)
    ids: list[int] = []
    async with db.transaction() as session:
        for i in range(channels):
            identity = await people.upsert_identity(
                session,
                people.IdentityKey("slack", TEAM, f"U{i:05d}"),
                display_name=f"P{i}",
                now=now,
            )
            ids.append(identity.person_id)
    for start in range(0, messages, 1000):
        async with db.transaction() as session:
            for n in range(start, min(start + 1000, messages)):
                body = f"Benchmark message {n}: your agenda for tomorrow is ready."
                await outbox.enqueue(
                    session,
                    key=f"bench:{n}",
                    kind="bench",
                    payload={"text": body, "blocks": [{"type": "text", "text": body}]},
                    now=now,
                    person_id=ids[n % channels],
                    platform="slack",
                )


async def run_backend(backend: str, url: str, args: argparse.Namespace) -> Result:
    db = Database(url, pool_size=20)
    double, double_url = await start_double()
    try:
        await upgrade(db)
        print(
            f"[{backend}] seeding {args.messages} messages to {args.channels} channels", flush=True
        )
        await seed(db, args.messages, args.channels)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            worker = DeliveryWorker(
                db,
                {"slack": make_sender(db, f"{double_url}/api/")},
                lambda: datetime.now(UTC),
                max_in_flight=args.in_flight,
            )
            started = time.perf_counter()
            task = asyncio.create_task(worker.run())
            counts: dict[str, int] = {}
            while True:
                await asyncio.sleep(0.1)
                async with db.transaction() as session:
                    counts = await outbox.counts(session)
                done = counts.get("sent", 0) + counts.get("dead", 0)
                if done >= args.messages or time.perf_counter() - started > args.timeout:
                    break
            seconds = time.perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            async with http.get(f"{double_url}/_double/stats") as response:
                stats = await response.json()
        return Result(
            backend,
            args.messages,
            counts.get("sent", 0),
            counts.get("dead", 0),
            args.messages - int(stats["unique"]),
            int(stats["duplicated"]),
            int(stats["rate_limited"]),
            seconds,
            float(args.channels),
        )
    finally:
        double.terminate()
        await double.wait()
        await db.dispose()


async def run_postgres(server_url: str, args: argparse.Namespace) -> Result:
    """Create a throwaway database on the server, benchmark it, drop it."""
    server = make_url(server_url)
    maintenance = server.set(database="postgres").render_as_string(hide_password=False)
    name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    await execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        return await run_backend("postgresql", url, args)
    finally:
        await execute_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_table(results: list[Result]) -> None:
    print()
    print("Delivery through a Slack Web API double (1 message/s per channel, 429 beyond)")
    print(
        f"{'backend':<11} {'messages':>8} {'sent':>6} {'lost':>5} {'dup':>4} {'dead':>5} "
        f"{'429s':>5} {'elapsed s':>10} {'msgs/s':>7} {'allowed/s':>9} {'of allowed':>10}"
    )
    for r in results:
        print(
            f"{r.backend:<11} {r.messages:>8} {r.sent:>6} {r.lost:>5} {r.duplicated:>4} "
            f"{r.dead:>5} {r.rate_limited:>5} {r.seconds:>10.1f} {r.rate:>7.1f} "
            f"{r.allowed_rate:>9.0f} {r.rate / r.allowed_rate:>10.0%}"
        )
    floor = results[0].messages / results[0].allowed_rate - 1 if results else 0
    print(f"(fastest possible: about {floor:.0f} s; os.cpu_count()={os.cpu_count()})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark delivery through a rate-limited Slack double."
    )
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--channels", type=int, default=200, help="recipients (one DM channel each)")
    p.add_argument("--in-flight", type=int, default=400, help="rows a worker holds at once")
    p.add_argument("--postgres", default=os.environ.get(PG_ENV), help=f"server URL (or {PG_ENV})")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--timeout", type=float, default=900.0, help="give up after this many s")
    return p.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[Result] = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await run_backend("sqlite", f"sqlite:///{tmp}/bench.db", args))
    if args.postgres:
        results.append(await run_postgres(args.postgres, args))
    print_table(results)
    return 0 if all(r.lost == 0 and r.duplicated == 0 and r.dead == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
