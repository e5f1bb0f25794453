"""One mentorbot replica as a real OS process: sweeps and delivers until nothing is left.

    python -m tests.procs.deliver --db URL --target URL [--lease S] [--concurrency N]
        [--batch N] [--in-flight N] [--wait-for-go] [--ahead S]

It runs the engine's sweep every few tenths of a second (as the scheduler does every
minute) and the delivery worker, sending through `HttpSender` to the recording
platform double; it exits 0 once a sweep has run and no row is pending or being
sent, and prints a JSON summary. With `--wait-for-go` it prints `ready` and waits for a
line on stdin, so a test can release several at the same moment; or SIGKILL one.
`--ahead S` runs its clock S seconds ahead: a replica started later than it is, past a
killed one's leases without waiting them out (a short lease would instead time out a
send the test holds on purpose).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from datetime import datetime, timedelta

import aiohttp

from adapters.delivery import Limit, Pacing, Recipient, SendResult
from bot.clock import utcnow
from bot.delivery import DeliveryWorker
from conversations.engine import Engine
from conversations.messages import Message
from conversations.policy import Policy
from storage import outbox
from storage.database import Database

PLATFORM = "local"


class HttpSender:
    """Sends to the recording double; the outbox key travels as Idempotency-Key."""

    platform = PLATFORM

    def __init__(self, session: aiohttp.ClientSession, target: str, concurrency: int) -> None:
        self.session = session
        self.target = target
        self.pacing = Pacing(per_conversation=(Limit(2, 1.0),), concurrency=concurrency)

    async def send(self, recipient: Recipient, message: Message) -> SendResult:
        headers = {"Idempotency-Key": recipient.key, "X-Worker": str(os.getpid())}
        if recipient.maybe_delivered:
            headers["X-Maybe-Delivered"] = "1"
        body = {"user": recipient.user_id, "text": message.text}
        try:
            async with self.session.post(self.target + "/send", json=body, headers=headers) as r:
                if r.status == 200:
                    return SendResult("delivered")
                if r.status == 429:
                    return SendResult("retry", "429", float(r.headers.get("Retry-After", "1")))
                if r.status >= 500:
                    return SendResult("retry", f"HTTP {r.status}")
                return SendResult("failed", f"HTTP {r.status}")
        except (aiohttp.ClientError, TimeoutError) as err:
            return SendResult("retry", f"{type(err).__name__}: {err}")


async def main(args: argparse.Namespace) -> int:
    db = Database(args.db, pool_size=5)
    engine = Engine(db, Policy(program_name="Acme mentoring"))
    ahead = timedelta(seconds=args.ahead)

    def now() -> datetime:
        return utcnow() + ahead

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        worker = DeliveryWorker(
            db,
            {PLATFORM: HttpSender(session, args.target, args.concurrency)},
            now,
            idle_seconds=0.2,
            lease=timedelta(seconds=args.lease),
            send_budget=timedelta(seconds=1),
            first_backoff=0.2,
            batch=args.batch,
            max_in_flight=args.in_flight,
        )
        if args.wait_for_go:
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        task = asyncio.create_task(worker.run())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.max_seconds
        swept = queued = 0
        left: dict[str, int] = {}
        try:
            while loop.time() < deadline:
                try:
                    items = await engine.sweep(now())
                    swept += 1
                    queued += sum(item.queued for item in items)
                    worker.poke()
                except Exception as err:  # a sweep racing another replica's: next one
                    logging.warning("sweep failed: %s", err)
                async with db.transaction() as s:
                    left = await outbox.counts(s)
                if swept and not left.get("pending") and not left.get("sending"):
                    break
                await asyncio.sleep(0.3)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await db.dispose()
    print(json.dumps({"swept": swept, "queued": queued, "left": left}))
    return 0 if swept and not left.get("pending") and not left.get("sending") else 1


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--lease", type=float, default=120.0)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--max-seconds", type=float, default=90.0)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--in-flight", type=int, default=200)
    p.add_argument("--wait-for-go", action="store_true")
    p.add_argument("--ahead", type=float, default=0.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(levelname)s %(message)s")
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
