"""Load-test the Slack endpoint: signed `/mentor status` slash commands at N concurrent clients.

What it measures, in one run on one machine:

* **mentorbot**: the real bot (`mentorbot run` in its own process, HTTP mode)
  answering `/mentor status` for --users people who joined beforehand (each
  request: signature check, bolt dispatch, cached users.info, one engine turn
  = one database transaction reading identity, profile and pairs, Block Kit);
* **mentorbot adapter, engine stubbed**: the same Slack adapter in its own
  process with an engine stand-in that returns a fixed status message, no
  database: what the adapter costs on top of bolt;
* **bare bolt**: a slack-bolt AsyncApp in its own process, served the same way
  (aiohttp, the same signed requests), whose `/mentor` listener only acks a
  fixed text; once with bolt's default runner (`process_before_response=False`,
  which polls for the ack every 10 ms) and once with `process_before_response=True`
  (how mentorbot runs), to show what that choice is worth.

Each client signs its request (v0 HMAC, current timestamp) before the clock
starts, posts it and reads the whole answer; latency is that round trip.
The CPU columns are what the server process (and, on PostgreSQL, the database's
backends) spent per request in the measured rounds, read from /proc: each
layer's cost, which the machine's other load skews far less than wall time.
Throughput is requests answered / wall time. Answers are checked (HTTP 200 and
the expected text), so a fast error cannot pass for a fast answer.

The Web API (auth.test, users.info) is a local double in this process.
Run it by hand from the project root (the machine's other load skews it; say so):

    .venv/bin/python bench/slack_load.py
    .venv/bin/python bench/slack_load.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Goal: mentorbot ≥ 60% of bare bolt's throughput and p99 < 100 ms, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.doubles.slack_api import SlackApi, slash_command  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
GOAL_SHARE = 0.60
RESPOND = ["http://127.0.0.1:9/respond/none"]  # the Web API double's response_url, once up
DEFERRED: list[bool] = []  # per failed answer: was it the "One moment…" ack of a slow turn?
FAILURES: list[str] = []  # the first few other failures, shown at the end
GOAL_P99_MS = 100.0


# -- the servers under test, run as `bench/slack_load.py --serve-bare|--serve-adapter --port N` --


async def healthz(request: web.Request) -> web.Response:
    """The servers' liveness answer."""
    from aiohttp import web

    return web.json_response({"status": "ok"})


def serve_bare(port: int, inline: bool, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        process_before_response=inline,
    )

    @app.command("/mentor")
    async def mentor(ack):  # type: ignore[no-untyped-def]
        await ack(text="Mentee — Active", response_type="ephemeral")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_adapter(port: int, api_url: str) -> None:
    """mentorbot's Slack adapter (SlackBot: bolt, translation, Block Kit) with an engine
    stand-in that answers a fixed status message without a database: the adapter's cost."""
    from datetime import UTC, datetime

    from aiohttp import web

    from adapters.slack.listeners import SlackBot
    from adapters.slack.settings import SlackCredentials
    from adapters.slack.transport import SlackTransport
    from adapters.slack.webapi import make_client
    from conversations.messages import Button, Buttons, Fields, Header, Message

    reply = Message(
        "Mentee — Active",
        (
            Header("Your mentoring status"),
            Fields((("Role", "Mentee"), ("Status", "Active"), ("Wants", "public speaking"))),
            Buttons((Button("Edit my profile", value="profile"), Button("Help", value="help"))),
        ),
    )

    class FixedEngine:
        async def handle(self, event: object, now: datetime) -> list[Message]:
            return [reply]

    credentials = SlackCredentials(TOKEN, SECRET, None, api_url)
    bot = SlackBot(
        FixedEngine(),  # type: ignore[arg-type]
        lambda: datetime.now(UTC),
        make_client(TOKEN, api_url),
        signing_secret=SECRET,
    )
    web_app = web.Application()
    web_app.add_routes(SlackTransport(bot, credentials).routes())
    web_app.router.add_get("/healthz", healthz)
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- load generation ------------------------------------------------------------------------


@dataclass
class Result:
    target: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    alone_p50_ms: float = float("nan")  # one client, one request at a time
    server_cpu: float = 0.0  # CPU seconds the server process used in the measured rounds
    database_cpu: float | None = None  # … and PostgreSQL's backends for its database

    def cpu_us(self, seconds: float | None) -> str:
        return f"{seconds / self.requests * 1e6:.0f}" if seconds is not None else "-"

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def one(
    http: aiohttp.ClientSession, url: str, text: str, user: int, expect: str
) -> tuple[float, bool]:
    signed = slash_command(
        SECRET, text, user_id=f"U{user:05d}", user_name=f"user{user}", response_url=RESPOND[0]
    )
    start = time.perf_counter()
    async with http.post(url + "/slack/events", data=signed.body, headers=signed.headers) as r:
        body = await r.text()
        ok = r.status == 200 and expect in body
    if not ok:
        DEFERRED.append(r.status == 200 and "One moment" in body)
        if not DEFERRED[-1] and len(FAILURES) < 3:
            FAILURES.append(f"HTTP {r.status}: {body[:200]}")
    return time.perf_counter() - start, ok


async def load(
    target: str, url: str, *, text: str, expect: str, users: int, total: int, clients: int
) -> Result:
    latencies: list[float] = []
    errors = 0
    issued = 0

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal issued, errors
        while issued < total:
            user = issued % users
            issued += 1
            seconds, ok = await one(http, url, text, user, expect)
            latencies.append(seconds)
            errors += 0 if ok else 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - start
    return Result(target, len(latencies), errors, seconds, latencies)


async def prepare_users(url: str, users: int) -> None:
    """Every bench user joins and fills a profile (and warms the users.info cache)."""
    connector = aiohttp.TCPConnector(limit=10)
    async with aiohttp.ClientSession(connector=connector) as http:
        for start in range(0, users, 10):
            batch = range(start, min(users, start + 10))
            results = await asyncio.gather(
                *(one(http, url, "join mentee", u, "mentee") for u in batch)
            )
            results += await asyncio.gather(
                *(
                    one(
                        http, url, 'profile set wants="public speaking, python" level=4', u, "Saved"
                    )
                    for u in batch
                )
            )
            if not all(ok for _, ok in results):
                raise RuntimeError("preparing bench users failed")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Target:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    result: Result
    database_url: str | None = None  # PostgreSQL: whose backends' CPU to count


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu(database_url: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving `database_url` (this query's excluded)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from storage.database import async_url

    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            pids = (
                await conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": make_url(database_url).database},
                )
            ).scalars()
            return {pid: cpu_seconds(pid) for pid in pids}
    finally:
        await engine.dispose()


def launch(name: str, cmd: list[str], env: dict[str, str]) -> Target:
    port = free_port()
    proc = start([*cmd, "--port", str(port)], env)
    return Target(name, f"http://127.0.0.1:{port}", proc, Result(name, 0, 0, 0.0, []))


def bare(api: SlackApi, inline: bool | None) -> Target:
    """Bare bolt (inline True/False), or mentorbot's adapter without a database (None)."""
    if inline is None:
        name, cmd = "mentorbot adapter, engine stubbed (no DB)", ["--serve-adapter"]
    elif inline:
        name, cmd = "bare bolt, process_before_response", ["--serve-bare", "--inline"]
    else:
        name, cmd = "bare bolt, default (10 ms ack poll)", ["--serve-bare"]
    return launch(name, [sys.executable, __file__, *cmd, "--api-url", api.url + "api/"], {})


def bot(api: SlackApi, database_url: str, label: str) -> Target:
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url + "api/",
        "MENTORBOT_CONFIG": str(ROOT / "app.yaml"),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    target = launch(f"mentorbot, {label}", [sys.executable, "-m", "bot.cli", "run"], env)
    if database_url.startswith("postgresql"):
        target.database_url = database_url
        target.result.database_cpu = 0.0
    return target


async def measure(targets: list[Target], args: argparse.Namespace) -> None:
    """Rounds in turn (target A, B, C, A, B, C …) so that the machine's other load falls on
    every target alike; then each target from one client alone."""
    for target in targets:
        await wait_healthy(target.url, target.proc)
        if target.name.startswith("mentorbot, "):
            await prepare_users(target.url, args.users)
        await load(
            "warm",
            target.url,
            text="status",
            expect="Active",
            users=args.users,
            total=200,
            clients=args.clients,
        )
    per_round = max(args.requests // args.rounds, args.clients)
    for _ in range(args.rounds):
        for target in targets:
            server_before = cpu_seconds(target.proc.pid)
            db_before = await backend_cpu(target.database_url) if target.database_url else {}
            part = await load(
                target.name,
                target.url,
                text="status",
                expect="Active",
                users=args.users,
                total=per_round,
                clients=args.clients,
            )
            target.result.requests += part.requests
            target.result.errors += part.errors
            target.result.seconds += part.seconds
            target.result.server_cpu += cpu_seconds(target.proc.pid) - server_before
            if target.database_url and target.result.database_cpu is not None:
                db_after = await backend_cpu(target.database_url)
                target.result.database_cpu += sum(
                    cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items()
                )
            target.result.latencies.extend(part.latencies)
    for target in targets:
        alone = await load(
            target.name,
            target.url,
            text="status",
            expect="Active",
            users=args.users,
            total=300,
            clients=1,
        )
        target.result.alone_p50_ms = alone.percentile(0.5)
        target.result.errors += alone.errors


async def pg_database(server: str) -> tuple[str, str]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.database import async_url

    name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
    maintenance = make_url(server).set(database="postgres").render_as_string(hide_password=False)
    engine = create_async_engine(async_url(maintenance), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), maintenance


async def drop_pg(maintenance: str, url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.database import async_url

    name = make_url(url).database
    engine = create_async_engine(async_url(maintenance), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(
        f"\n/mentor status, {args.clients} concurrent clients, {args.requests} requests each "
        f"in {args.rounds} interleaved rounds, "
        f"{args.users} users; {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared: other work on the machine skews these figures)\n"
    )
    print(
        f"{'target':44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'p50 ms, 1 client':>17} {'CPU µs/req: server':>19} {'+ PostgreSQL':>12}"
    )
    for r in results:
        print(
            f"{r.target:44} {r.throughput:7.0f} {r.percentile(0.50):7.1f} "
            f"{r.percentile(0.99):7.1f} {r.errors:6d} {r.alone_p50_ms:17.1f} "
            f"{r.cpu_us(r.server_cpu):>19} {r.cpu_us(r.database_cpu):>12}"
        )
    bare = next(r for r in results if r.target.startswith("bare bolt, default"))
    deferred = sum(DEFERRED)
    if DEFERRED:
        print(
            f"\nerrors: {deferred} acked with “One moment…” (turn over the 2 s budget, answer "
            f"sent later), {len(DEFERRED) - deferred} other"
        )
        for failure in FAILURES:
            print("  e.g.", failure)
    print()
    for r in results:
        if r.target.startswith("mentorbot"):  # the adapter alone, and the whole bot
            share = r.throughput / bare.throughput if bare.throughput else 0.0
            verdict = (
                "meets"
                if share >= GOAL_SHARE and r.percentile(0.99) < GOAL_P99_MS and not r.errors
                else "misses"
            )
            print(
                f"{r.target}: {share:.0%} of bare bolt's throughput, p99 "
                f"{r.percentile(0.99):.1f} ms → {verdict} the goal "
                f"(≥{GOAL_SHARE:.0%}, p99 < {GOAL_P99_MS:.0f} ms)"
            )


async def run(args: argparse.Namespace) -> int:
    api = SlackApi()
    for n in range(args.users):
        api.add_user(f"U{n:05d}", f"Bench User {n}", tz="Europe/Berlin")
    server = args.postgres or os.environ.get("MENTORBOT_BENCH_DATABASE_URL")
    pg: tuple[str, str] | None = await pg_database(server) if server else None
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with api.serve():
                RESPOND[0] = api.response_url("bench")
                targets = [bare(api, False), bare(api, True), bare(api, None)]
                targets.append(bot(api, f"sqlite:///{tmp}/bench.db", "SQLite"))
                if pg is not None:
                    targets.append(bot(api, pg[0], "PostgreSQL"))
                await measure(targets, args)
    finally:
        for target in targets:
            stop(target.proc)
        if pg is not None:
            await drop_pg(pg[1], pg[0])
    report([t.result for t in targets], args)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    p.add_argument("--requests", type=int, default=3000, help="measured requests per target")
    p.add_argument("--users", type=int, default=200, help="distinct Slack users")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--postgres", help="PostgreSQL server URL; a throwaway database is used")
    p.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-adapter", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--inline", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--api-url", help=argparse.SUPPRESS)
    return p.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve_bare:
        serve_bare(arguments.port, arguments.inline, arguments.api_url)
        sys.exit(0)
    if arguments.serve_adapter:
        serve_adapter(arguments.port, arguments.api_url)
        sys.exit(0)
    sys.exit(asyncio.run(run(arguments)))
