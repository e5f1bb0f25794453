"""`mentorbot` on the command line: run | migrate | sweep | match | chat | demo.

Every subcommand loads and validates the configuration first; a bad setting is
reported in plain words with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters.local.console import Console
from adapters.local.translate import BadRequest
from bot.app import build_app
from bot.clock import utcnow
from bot.config import ConfigError, Settings, load_settings
from bot.demo import seed
from bot.match_cli import run_match
from conversations.engine import Engine
from storage.database import Database
from storage.migrate import current_revision, upgrade

log = logging.getLogger("mentorbot")


def setup_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
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
    for platform in settings.platforms_configured:
        log.warning(
            "%s credentials are set, but this build has no %s adapter yet", platform, platform
        )
    web.run_app(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=5.0,
        access_log=None,
    )
    return 0


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        return await work(db)
    finally:
        await db.dispose()


async def _migrate(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
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


async def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    now = parse_now(args.now, settings)

    async def work(db: Database) -> int:
        items = await Engine(db, settings.policy).sweep(now, dry_run=args.dry_run)
        verb = "would queue" if args.dry_run else "queued"
        print(f"Sweep as of {now.isoformat()}: {len(items)} item(s) due.")
        for item in items:
            state = verb if item.queued else "already queued"
            print(f"  {state}: {item.kind} for person {item.person_id} [{item.key}]: {item.text}")
        return 0

    return await _with_db(settings, work)


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        console = Console(Engine(db, settings.policy), args.as_user, utcnow)
        if args.line:
            print(console.show(await console.say(" ".join(args.line))))
        else:
            await console.interactive()
        return 0

    return await _with_db(settings, work)


async def _demo(settings: Settings) -> int:
    async def work(db: Database) -> int:
        count = await seed(Engine(db, settings.policy), utcnow)
        print(f"Seeded {count} demo people into {db.describe()}.")
        print(
            'Try: mentorbot chat --as sofia "/mentor status"   or   mentorbot run  and open '
            f"http://127.0.0.1:{settings.port}/ as hana, marcus, sofia, tom …"
        )
        return 0

    return await _with_db(settings, work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mentorbot", description="Mentoring follow-through bot.")
    p.add_argument("--config", help="program policy file (default: MENTORBOT_CONFIG or ./app.yaml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="serve HTTP (web chat, health) and run the scheduler")
    run.add_argument("--port", type=int, help="port to listen on (default: PORT or 3978)")
    sub.add_parser("migrate", help="apply database migrations")
    sweep = sub.add_parser("sweep", help="queue what is due as of --now (default: now)")
    sweep.add_argument("--now", help="ISO date-time, e.g. 2026-12-01T09:00 (program time zone)")
    sweep.add_argument("--dry-run", action="store_true", help="show what is due, change nothing")
    chat = sub.add_parser("chat", help="talk to the bot in the terminal as a local user")
    chat.add_argument("--as", dest="as_user", required=True, metavar="NAME", help="e.g. alice")
    chat.add_argument("line", nargs="*", help='one command to run, e.g. "/mentor status"')
    sub.add_parser("demo", help="seed a sample organisation of 30 people")
    match = sub.add_parser("match", help="run a matching round now (proposals are sent)")
    match.add_argument("--dry-run", action="store_true", help="print the proposals, change nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    if args.command != "run":
        logging.getLogger().setLevel(logging.WARNING)
    try:
        settings = load_settings(args.config, port=getattr(args, "port", None))
        if args.command == "run":
            return cmd_run(settings, args)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "sweep":
            return asyncio.run(_sweep(settings, args))
        if args.command == "match":
            return asyncio.run(run_match(settings, args.dry_run, _with_db))
        if args.command == "chat":
            return asyncio.run(_chat(settings, args))
        return asyncio.run(_demo(settings))
    except (ConfigError, BadRequest) as err:
        print(str(err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
