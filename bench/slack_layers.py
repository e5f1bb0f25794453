"""Where the time of one `/mentor status` goes: each layer's cost per request, in process.

bench/slack_load.py measures the whole bot over HTTP at 50 clients; this script
takes one request apart, issuing them one at a time in one process (no HTTP, no
load generator competing for the CPU), and prints for each layer the wall time
and the CPU time (all threads: aiosqlite's worker thread counts) per request:

* **bolt dispatch, bare**: a bare AsyncApp (`process_before_response=True`)
  dispatching the signed request to a listener that only acks: signature
  check, body parsing, middleware, listener matching, argument injection;
* **bolt dispatch, mentorbot adapter, engine stubbed**: our SlackBot (cached
  users.info, translation, Block Kit) with an engine stand-in;
* **engine.handle(status)**: the engine turn alone, on the database;
* **bolt dispatch, mentorbot**: the adapter with the real engine: what the bot
  adds to bare bolt is this minus the first line.

`--profile FILE` also writes a cProfile of the last layer (view it with
`python -m pstats FILE`). Run from the project root:

    .venv/bin/python bench/slack_layers.py
    .venv/bin/python bench/slack_layers.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt.app.async_app import AsyncApp  # noqa: E402
from slack_bolt.request.async_request import AsyncBoltRequest  # noqa: E402

from adapters.slack.listeners import SlackBot  # noqa: E402
from adapters.slack.translate import to_event  # noqa: E402
from adapters.slack.webapi import make_client  # noqa: E402
from bench.slack_load import drop_pg, pg_database  # noqa: E402
from bot.config import load_settings  # noqa: E402
from conversations.engine import Engine  # noqa: E402
from conversations.messages import Button, Buttons, Fields, Header, Message  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.doubles.slack_api import SlackApi, slash_command  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
USERS = 200


@dataclass
class Layer:
    name: str
    wall_us: float
    cpu_us: float


def request(text: str, user: int) -> AsyncBoltRequest:
    signed = slash_command(SECRET, text, user_id=f"U{user:05d}", user_name=f"user{user}")
    headers: dict[str, str | Sequence[str]] = dict(signed.headers)
    return AsyncBoltRequest(body=signed.body, headers=headers)


async def timed(
    name: str, n: int, one: Callable[[int], Awaitable[None]], profile: cProfile.Profile | None
) -> Layer:
    for i in range(min(n, 200)):  # warm caches, statement caches, pools
        await one(i)
    walls: list[float] = []
    cpu_start = time.process_time()
    if profile is not None:
        profile.enable()
    for i in range(n):
        start = time.perf_counter()
        await one(i)
        walls.append(time.perf_counter() - start)
    if profile is not None:
        profile.disable()
    cpu = (time.process_time() - cpu_start) / n
    return Layer(name, statistics.median(walls) * 1e6, cpu * 1e6)


def expect(status: int, body: str, text: str) -> None:
    if status != 200 or text not in body:
        raise RuntimeError(f"unexpected answer {status}: {body[:200]}")


async def layers(database_url: str, n: int, profile_path: str | None) -> list[Layer]:
    api = SlackApi()
    for u in range(USERS):
        api.add_user(f"U{u:05d}", f"Bench User {u}", tz="Europe/Berlin")
    settings = load_settings(str(ROOT / "app.yaml"), env={})
    async with api.serve():
        client = make_client(TOKEN, api.url + "api/")
        bare = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

        @bare.command("/mentor")
        async def mentor(ack: Any) -> None:
            await ack(text="Mentee — Active", response_type="ephemeral")

        fixed = Message(
            "Mentee — Active",
            (
                Header("Your mentoring status"),
                Fields((("Role", "Mentee"), ("Status", "Active"))),
                Buttons((Button("Edit my profile", value="profile"), Button("Help", value="help"))),
            ),
        )

        class FixedEngine:
            async def handle(self, event: object, now: datetime) -> list[Message]:
                return [fixed]

        def clock() -> datetime:
            return datetime.now(UTC)

        stubbed = SlackBot(FixedEngine(), clock, client, signing_secret=SECRET)  # type: ignore[arg-type]
        db = Database(database_url)
        await upgrade(db)
        engine = Engine(db, settings.policy)
        bot = SlackBot(engine, clock, client, signing_secret=SECRET)
        for u in range(USERS):  # join, fill a profile, warm the users.info cache
            for text, answer in (
                ("join mentee", "mentee"),
                ('profile set wants="public speaking, python" level=4', "Saved"),
            ):
                response = await bot.app.async_dispatch(request(text, u))
                expect(response.status, response.body, answer)
            await stubbed.directory.lookup(f"U{u:05d}")

        async def via(app: AsyncApp, i: int) -> None:
            response = await app.async_dispatch(request("status", i % USERS))
            expect(response.status, response.body, "Active")

        events = [
            to_event(request("status", u).body, await bot.directory.lookup(f"U{u:05d}"))
            for u in range(USERS)
        ]

        async def turn(i: int) -> None:
            replies = await engine.handle(events[i % USERS], clock())
            expect(200, replies[0].text, "Active")

        profile = cProfile.Profile() if profile_path else None
        results = [
            await timed("bolt dispatch, bare", n, lambda i: via(bare, i), None),
            await timed(
                "bolt dispatch, mentorbot adapter, engine stubbed",
                n,
                lambda i: via(stubbed.app, i),
                None,
            ),
            await timed("engine.handle(status)", n, turn, None),
            await timed("bolt dispatch, mentorbot", n, lambda i: via(bot.app, i), profile),
        ]
        if profile is not None and profile_path:
            profile.dump_stats(profile_path)
        await db.dispose()
    return results


def report(backend: str, results: list[Layer]) -> None:
    print(f"\n{backend}: one `/mentor status` at a time, per request")
    print(f"{'layer':52} {'wall µs (median)':>17} {'CPU µs (mean)':>14}")
    for layer in results:
        print(f"{layer.name:52} {layer.wall_us:17.0f} {layer.cpu_us:14.0f}")
    bare, whole = results[0], results[-1]
    print(
        f"{'mentorbot on top of bare bolt':52} {whole.wall_us - bare.wall_us:17.0f} "
        f"{whole.cpu_us - bare.cpu_us:14.0f}"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report(
            "SQLite",
            await layers(f"sqlite:///{tmp}/layers.db", args.requests, args.profile),
        )
    if args.postgres:
        url, maintenance = await pg_database(args.postgres)
        try:
            profile = args.profile + ".pg" if args.profile else None
            report("PostgreSQL", await layers(url, args.requests, profile))
        finally:
            await drop_pg(maintenance, url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="requests per layer")
    parser.add_argument("--postgres", help="PostgreSQL server URL; a throwaway database is used")
    parser.add_argument("--profile", help="write a cProfile of the whole bot's layer here")
    asyncio.run(run(parser.parse_args()))
