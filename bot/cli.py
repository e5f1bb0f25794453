"""`mentorbot` on the command line: run | migrate | sweep | match | digest | simulate | chat |
demo | manifest | config.

Every subcommand loads and validates the configuration first; a bad setting is
reported in plain words with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import io
import json
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError

from adapters.local.translate import BadRequest
from bot.clock import utcnow
from bot.config import ConfigError, Settings, json_schema, load_settings
from storage.database import Database, DatabaseUnreachable, async_url
from storage.migrate import current_revision, upgrade
from storage.simulation import single_process_database

# Each command imports what it needs when it runs (the HTTP server and the platform SDKs
# for `run`, the matching solver for `match`, …), so `chat` starts without them
# (bench/startup.py measures it; tests/test_startup.py keeps it so).

log = logging.getLogger("mentorbot")


def setup_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_third_party_loggers()


def quiet_third_party_loggers() -> None:
    """Chatty libraries stay quiet even at LOG_LEVEL=DEBUG; aiosqlite would log every SQL
    statement with its parameters, private notes included, and a note must never reach a log."""
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # The platform SDKs log request and response bodies (people's messages) at DEBUG.
    for name in ("slack_bolt", "slack_sdk", "msrest", "botbuilder", "botframework"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_check_database(settings.database_url))
    from aiohttp import web

    from bot.app import build_app, settle_heap

    mode = (
        f"serving the local web chat at http://{settings.host}:{settings.port}/ "
        "(no Slack or Teams credentials configured)"
        if settings.local_chat
        else f"platforms: {', '.join(settings.platforms_configured)}"
    )
    log.info(
        "mentorbot starting on %s:%d, %s; database %s",
        settings.host,
        settings.port,
        mode,
        Database(settings.database_url).describe(),
    )
    if settings.allow_remote_dev:
        log.warning(
            "development mode on %s: the web chat and the Teams emulator endpoint trust "
            "whoever connects, and this address may be reachable from other machines",
            settings.host,
        )
    app = build_app(settings)
    app.on_startup.append(settle_heap)  # runs after build_app's own start-up (migrations)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=5.0,
        access_log=None,
    )
    return 0


async def _check_database(url: str) -> None:
    """Fail fast, in one line, when the database does not answer (DatabaseUnreachable)."""
    db = Database(url)
    try:
        await db.check_reachable()
    finally:
        await db.dispose()


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(settings.database_url)
    try:
        await db.check_reachable()
        await upgrade(db)
        return await work(db)
    finally:
        await db.dispose()


async def _migrate(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        await db.check_reachable()
        before = await current_revision(db)
        await upgrade(db)
        after = await current_revision(db)
    finally:
        await db.dispose()
    if before == after:
        print(f"Database {db.describe()} is up to date (revision {after}).")
    else:
        print(f"Database {db.describe()} migrated from {before or 'empty'} to {after}.")
    return 0


def parse_now(raw: str | None, settings: Settings) -> datetime:
    """ISO date-time; without an offset it is read in the program's time zone."""
    if raw is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"--now {raw!r} is not an ISO date-time like 2026-12-01T09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.policy.default_timezone))
    return moment.astimezone(UTC)


# A --now this far ahead of the clock is "the future": sweeping then changes what people
# will see (pauses end, lapses escalate, proposals expire) before its time.
FUTURE_SLACK = timedelta(minutes=5)


async def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from conversations.engine import Engine

    now = parse_now(args.now, settings)
    if now > utcnow() + FUTURE_SLACK and not (args.dry_run or args.yes):
        raise ConfigError(
            f"sweep --now {args.now} is in the future: it would queue messages and change "
            "the database as of then (pauses end, lapses move on, proposals expire). "
            "Look first with --dry-run; add --yes to do it."
        )

    async def work(db: Database) -> int:
        items = await Engine(db, settings.policy).sweep(now, dry_run=args.dry_run)
        verb = "would queue" if args.dry_run else "queued"
        count = f"{len(items)} item" if len(items) == 1 else f"{len(items)} items"
        print(f"Sweep as of {now.isoformat()}: {count} due.")
        for item in items:
            state = verb if item.queued else "already queued"
            print(f"  {state}: {item.kind} for person {item.person_id} [{item.key}]: {item.text}")
        return 0

    return await _with_db(settings, work)


async def _digest(settings: Settings, args: argparse.Namespace) -> int:
    from conversations.digest.chart import WeekBar, trend_png
    from conversations.digest.figures import to_json
    from conversations.digest.messages import digest_message
    from conversations.digest.sweep import run_digest, why_nothing_posted

    now = parse_now(args.now, settings)
    if args.json and args.post:
        raise ConfigError(
            "digest --json only prints the figures; post with `mentorbot digest --post`."
        )

    async def work(db: Database) -> int:
        digest, items = await run_digest(db, settings.policy, now, post=args.post)
        if args.chart:
            png = trend_png([WeekBar(w.due, w.held, w.rate, w.start) for w in digest.trend])
            await asyncio.to_thread(Path(args.chart).write_bytes, png)
        if args.json:
            print(json.dumps(to_json(digest), indent=2))
            return 0
        print(digest_message(digest, chart=False).text)
        if not args.post:
            print("(preview only, nothing posted: `mentorbot digest --post` posts it)")
        elif items:
            for item in items:
                print(f"{'queued' if item.queued else 'already queued'}: {item.text}")
        else:
            print(await why_nothing_posted(db, settings.policy))
        return 0

    return await _with_db(settings, work)


async def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.simulate import ADMIN as SIM_ADMIN
    from bot.simulate import simulate
    from conversations.engine import Engine

    if args.people < 2 or args.weeks < 1:
        raise ConfigError("simulate needs --people 2 or more and --weeks 1 or more.")
    policy = replace(settings.policy, admins=settings.policy.admins | {f"local:{SIM_ADMIN}"})
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/simulation.db"
        # The throwaway file is this process's alone: no driver thread needed.
        db = Database(url) if args.database else single_process_database(url)
        try:
            await upgrade(db)
            began = time.monotonic()
            stats = await simulate(
                db, Engine(db, policy), args.people, args.weeks, args.seed, print
            )
            print(
                f"\nSimulated {args.people} people over {args.weeks} weeks on {db.describe()}: "
                f"{stats.commands} chat commands in {time.monotonic() - began:.0f} s."
            )
        finally:
            await db.dispose()
    return 0


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.local.console import Console
    from conversations.engine import Engine

    async def work(db: Database) -> int:
        console = Console(Engine(db, settings.policy), args.as_user, utcnow, Path.cwd())
        if args.line:
            print(console.show(await console.say(" ".join(args.line))))
        else:
            await console.interactive()
        return 0

    return await _with_db(settings, work)


async def _demo(settings: Settings) -> int:
    from bot.demo import seed
    from conversations.engine import Engine

    async def work(db: Database) -> int:
        count = await seed(Engine(db, settings.policy), utcnow)
        print(f"Seeded {count} demo people into {db.describe()}.")
        print(
            'Try: mentorbot chat --as sofia "/mentor status"   or   mentorbot run  and open '
            f"http://{settings.host}:{settings.port}/ as hana, marcus, sofia, tom …"
        )
        return 0

    return await _with_db(settings, work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mentorbot", description="Mentoring follow-through bot.")
    p.add_argument("--config", help="program policy file (default: MENTORBOT_CONFIG or ./app.yaml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="serve HTTP (web chat, health) and run the scheduler")
    run.add_argument("--port", type=int, help="port to listen on (default: PORT or 3978)")
    run.add_argument(
        "--allow-remote-dev",
        action="store_true",
        help="development mode (no credentials) on a non-loopback HOST: anyone who can "
        "reach it can act as anyone (also MENTORBOT_ALLOW_REMOTE_DEV=1)",
    )
    sub.add_parser("migrate", help="apply database migrations")
    sweep = sub.add_parser(
        "sweep",
        help="queue what is due as of --now (default: now); changes the database",
        description="Queue what is due as of --now and record it: this changes the database "
        "(messages are queued, pauses end, lapses move on, proposals expire). A --now in the "
        "future is refused unless --yes is given; --dry-run shows what would happen and "
        "changes nothing.",
    )
    sweep.add_argument(
        "--now",
        help="ISO date-time, e.g. 2026-12-01T09:00 (program time zone); a future one "
        "changes the database as of then: look with --dry-run first",
    )
    sweep.add_argument("--dry-run", action="store_true", help="show what is due, change nothing")
    sweep.add_argument(
        "--yes", action="store_true", help="do sweep a --now in the future (after a --dry-run)"
    )
    chat = sub.add_parser("chat", help="talk to the bot in the terminal as a local user")
    chat.add_argument("--as", dest="as_user", required=True, metavar="NAME", help="e.g. alice")
    chat.add_argument("line", nargs="*", help='one command to run, e.g. "/mentor status"')
    digest = sub.add_parser(
        "digest",
        help="print HR's weekly digest as of --now; --post also posts it",
        description="Print HR's weekly digest as of --now. Nothing is posted unless --post "
        "is given (the scheduled digest, posted by the sweep, does not need this command).",
    )
    digest.add_argument("--now", help="ISO date-time (program time zone); default: now")
    digest.add_argument(
        "--json", action="store_true", help="print the figures as JSON, post nothing"
    )
    posting = digest.add_mutually_exclusive_group()
    posting.add_argument(
        "--post",
        action="store_true",
        help="also post it to the digest channels (or the admins' local chats), once per --now",
    )
    posting.add_argument(
        "--no-post", action="store_true", help="preview only, post nothing (the default)"
    )
    digest.add_argument("--chart", metavar="FILE", help="also write the trend chart PNG here")
    sim = sub.add_parser("simulate", help="run a synthetic organisation through the lifecycle")
    sim.add_argument("--people", type=int, default=200, help="how many people (default 200)")
    sim.add_argument("--weeks", type=int, default=12, help="how many weeks (default 12)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument(
        "--database", help="database URL (default: a throwaway SQLite file, never DATABASE_URL)"
    )
    sub.add_parser("demo", help="seed a sample organisation of 30 people")
    match = sub.add_parser("match", help="run a matching round now (proposals are sent)")
    match.add_argument("--dry-run", action="store_true", help="print the proposals, change nothing")
    man = sub.add_parser("manifest", help="a platform's app manifest: Slack YAML, Teams zip")
    man.add_argument("platform", choices=["slack", "teams"])
    man.add_argument("--url", help="public https:// base URL of the bot")
    man.add_argument("--socket-mode", action="store_true", help="Slack: Socket Mode, no URL")
    man.add_argument("--app-id", help="Teams: the Microsoft App ID (default MICROSOFT_APP_ID)")
    man.add_argument("--out", help="Teams: where to write the zip (default mentorbot-teams.zip)")
    conf = sub.add_parser("config", help="app.yaml for editors: `config schema` prints its schema")
    conf.add_argument("action", choices=["schema"], help="schema: the JSON Schema of app.yaml")
    return p


def cmd_manifest(settings: Settings, args: argparse.Namespace) -> int:
    """`manifest slack` prints the app manifest (YAML); `manifest teams` writes the app
    package to upload in Teams (Apps → Upload a custom app)."""
    if args.platform == "slack":
        from adapters.slack import manifest as slack_manifest

        try:
            data = slack_manifest.manifest(
                args.url, socket_mode=args.socket_mode, program_name=settings.policy.program_name
            )
        except slack_manifest.ManifestError as err:
            raise ConfigError(str(err)) from None
        print(slack_manifest.to_yaml(data), end="")
        return 0
    from adapters.teams import manifest as teams_manifest

    app_id = args.app_id or os.environ.get("MICROSOFT_APP_ID")
    if not app_id:
        raise ConfigError("manifest teams needs --app-id (the bot's Microsoft App ID).")
    default_url = teams_manifest.DEFAULT_URL
    try:
        package = teams_manifest.build_package(
            app_id, url=args.url or default_url, name=settings.policy.program_name
        )
    except teams_manifest.ManifestError as err:
        raise ConfigError(str(err)) from None
    out = Path(args.out or "mentorbot-teams.zip")
    out.write_bytes(package)
    print(f"Wrote {out} ({len(package)} bytes): manifest.json, color.png, outline.png.")
    if not args.url:
        print(f"Its developer links point at {default_url}; pass --url to use your own.")
    print("Upload it in Teams: Apps → Manage your apps → Upload an app.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`mentorbot ARGV`; the exit code. Output is flushed here, so that a reader gone
    early (`| head`) is reported like any other failure, not at interpreter exit."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        return _pipe_closed()
    return code


def _run(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    if args.command != "run":
        logging.getLogger().setLevel(logging.WARNING)
    if args.command == "config":  # needs no (valid) configuration: it helps write one
        print(json.dumps(json_schema(), indent=2))
        return 0
    settings: Settings | None = None
    try:
        settings = load_settings(
            args.config,
            port=getattr(args, "port", None),
            allow_remote_dev=getattr(args, "allow_remote_dev", False),
        )
        if args.command == "run":
            return cmd_run(settings, args)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "sweep":
            return asyncio.run(_sweep(settings, args))
        if args.command == "match":
            from bot.match_cli import run_match

            return asyncio.run(run_match(settings, args.dry_run, _with_db))
        if args.command == "digest":
            return asyncio.run(_digest(settings, args))
        if args.command == "simulate":
            return asyncio.run(_simulate(settings, args))
        if args.command == "chat":
            return asyncio.run(_chat(settings, args))
        if args.command == "manifest":
            return cmd_manifest(settings, args)
        return asyncio.run(_demo(settings))
    except (ConfigError, BadRequest) as err:
        print(str(err), file=sys.stderr)
        return 2
    except DatabaseUnreachable as err:
        print(str(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _pipe_closed()
    except (OSError, DBAPIError) as err:
        print(failure_line(err, settings), file=sys.stderr)
        return 1


def failure_line(err: OSError | DBAPIError, settings: Settings | None) -> str:
    """One line for what the operator's machine refused: a busy port, a database out of
    reach, a file that cannot be written. Never a traceback; the detail is the system's."""
    if isinstance(err, OSError) and err.errno == errno.EADDRINUSE and settings is not None:
        return (
            f"Port {settings.port} on {settings.host} is already in use: stop what is using "
            "it, or pick another port with --port N (or PORT=N)."
        )
    database = (
        async_url(settings.database_url).render_as_string(hide_password=True)
        if settings is not None
        else "the database"
    )
    if isinstance(err, DBAPIError):
        reason = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
        return f"Cannot use the database {database}: {reason}. Check DATABASE_URL."
    if isinstance(err, ConnectionError | TimeoutError | socket.gaierror):
        reason = err.strerror or str(err) or type(err).__name__
        return (
            f"Cannot reach the database {database}: {reason}. Check DATABASE_URL and that "
            "the server is running."
        )
    where = f": {err.filename}" if err.filename else ""
    return f"mentorbot stopped: {err.strerror or err}{where}"


def _pipe_closed() -> int:
    """The reader of our output went away (`mentorbot … | head`): stop quietly, one line on
    stderr, and keep Python from complaining again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    with contextlib.suppress(OSError):
        print("mentorbot: output closed before the end (broken pipe).", file=sys.stderr)
    return 141  # 128 + SIGPIPE, what a shell reports for a program stopped by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
