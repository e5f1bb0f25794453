"""Issue 14, it keeps working (12): a database that hangs does not hang the bot. With
PostgreSQL behind a TCP proxy the test can pause: /readyz says 503 within 2 s, a
command answers with an apology within 15 s, and everything recovers when the
database answers again. SQLite: a write lock held elsewhere ends in an apology too.
Starting with the database unreachable prints one line and exits non-zero.

The served bot runs with short database timeouts (SHORT: the same code paths, seconds
sooner); the production defaults' own bound on a turn is checked against the 15 s."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.config import load_settings
from conversations.engine import APOLOGY
from storage.database import Database
from storage.timeouts import Timeouts
from tests.security_kit import served
from tests.test_teams_http import Clock

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 15.0  # seconds a Slack or Teams user waits for an answer
# Connecting, each statement and a pool checkout give up after 2 s, a turn after 3 s.
SHORT = {"CONNECT": "2", "STATEMENT": "2", "POOL": "2", "SQLITE_BUSY": "1", "TURN": "3"}


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, seconds in SHORT.items():
        monkeypatch.setenv(f"MENTORBOT_DB_{name}_TIMEOUT", seconds)


def test_production_timeouts_apologise_within_a_users_patience() -> None:
    defaults = Timeouts()
    # A turn is cut off at `turn`; each of its statements gives up sooner than that.
    assert max(defaults.connect, defaults.statement, defaults.pool) < defaults.turn
    assert defaults.turn < PATIENCE
    assert Timeouts.from_env({f"MENTORBOT_DB_{k}_TIMEOUT": v for k, v in SHORT.items()}) == (
        Timeouts(connect=2, statement=2, pool=2, sqlite_busy=1, turn=3)
    )


class PausableProxy:
    """A TCP proxy on loopback in front of a server; `pause()` stops every byte both
    ways (and new connections) without closing anything, as a hung network does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def pause(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self.flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[PausableProxy]:
    url = make_url(postgres_url)
    double = PausableProxy(url.host or "127.0.0.1", url.port or 5432)
    await double.start()
    yield double
    double.resume()
    await double.stop()


async def _say(http: aiohttp.ClientSession, url: str, text: str) -> tuple[float, str]:
    """How long the web chat took to answer, and the answer's text."""
    started = time.monotonic()
    body = {"user": "alice", "text": text}
    async with http.post(url + "/local/api/messages", json=body) as response:
        assert response.status == 200
        replies = (await response.json())["replies"]
    return time.monotonic() - started, " ".join(r["text"] for r in replies)


async def _ready(http: aiohttp.ClientSession, url: str) -> tuple[float, int]:
    started = time.monotonic()
    async with http.get(url + "/readyz") as response:
        return time.monotonic() - started, response.status


@pytest.mark.usefixtures("short_timeouts")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_hung_postgresql_gets_apologies_in_time_and_recovers(
    db: Database, postgres_url: str, proxy: PausableProxy
) -> None:
    through = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    env = {"DATABASE_URL": through.render_as_string(hide_password=False)}
    settings = load_settings(str(ROOT / "app.yaml"), env=env)
    async with served(settings, Clock()) as (url, _), aiohttp.ClientSession() as http:
        _, joined = await _say(http, url, "join mentee")
        assert "joined as a mentee" in joined
        assert (await _ready(http, url))[1] == 200
        await _say(http, url, "status")  # the read path's own connections are open too
        proxy.pause()
        took, status = await _ready(http, url)
        assert status == 503 and took < 2.0
        for text in ("status", "pause"):  # a read (fast path) and a write
            took, answer = await _say(http, url, text)
            assert answer == APOLOGY and took < PATIENCE, (text, took)
        proxy.resume()
        deadline = time.monotonic() + 15
        while (await _ready(http, url))[1] != 200:
            assert time.monotonic() < deadline, "/readyz did not recover"
            await asyncio.sleep(0.2)
        _, answer = await _say(http, url, "status")
        assert "Mentee" in answer
        _, answer = await _say(http, url, "pause")
        assert answer != APOLOGY


@pytest.mark.usefixtures("short_timeouts")
async def test_a_sqlite_write_lock_held_elsewhere_ends_in_an_apology(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    settings = load_settings(str(ROOT / "app.yaml"), env=env)
    async with served(settings, Clock()) as (url, _), aiohttp.ClientSession() as http:
        await _say(http, url, "join mentee")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            took, answer = await _say(http, url, "pause")
            assert answer == APOLOGY and took < PATIENCE
        finally:
            other.execute("ROLLBACK")
            other.close()
        _, answer = await _say(http, url, "pause")
        assert answer != APOLOGY


def _run(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": "39781"}
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("MICROSOFT_APP_ID", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(ROOT / "app.yaml"), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


def test_starting_with_the_database_unreachable_says_so_in_one_line() -> None:
    with socket_nobody_listens_on() as port:
        started = time.monotonic()
        done = _run(f"postgresql://postgres@127.0.0.1:{port}/mentorbot")
    assert done.returncode == 1 and time.monotonic() - started < 20
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "database" in lines[0] and "unreachable" in lines[0] and "DATABASE_URL" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


@contextlib.contextmanager
def socket_nobody_listens_on() -> Any:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound then closed: connections to it are refused
    yield port
