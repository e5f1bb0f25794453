"""The `mentorbot` command line as an operator uses it, on real databases.

Commands run in this process through `bot.cli.main(argv)` (with their own environment,
working directory, stdin and output, as a process would have), which spares each one
a Python start-up; `test_run_serves_and_stops_cleanly_on_sigterm` runs the real
program as an OS process, the smoke test of the whole.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from bot.cli import main
from storage.database import Database

ROOT = Path(__file__).resolve().parent.parent


def _main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse refusing the arguments
        return exit_.code if isinstance(exit_.code, int) else 1


def mentorbot(
    *args: str, env: Mapping[str, str | None], cwd: Path, input: str = ""
) -> subprocess.CompletedProcess[str]:
    """`mentorbot ARGS` with `env` over this process's environment (None unsets a
    variable), in `cwd`, reading `input`; its exit code, stdout and stderr. It runs on
    a thread of its own, so its `asyncio.run` works from async tests too."""
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_level = root.level
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.chdir(cwd)
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            mock.patch.object(sys, "stdin", io.StringIO(input)),
            ThreadPoolExecutor(1) as pool,
        ):
            code = pool.submit(_main, list(args)).result(timeout=60)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        root.setLevel(saved_level)
    return subprocess.CompletedProcess(["mentorbot", *args], code, out.getvalue(), err.getvalue())


def test_chat_one_shot_persists_across_runs(db: Database, db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    joined = mentorbot("chat", "--as", "alice", "/mentor join mentee", env=env, cwd=tmp_path)
    assert joined.returncode == 0, joined.stderr
    assert "joined as a mentee" in joined.stdout and "[1] Fill in my profile" in joined.stdout
    status = mentorbot("chat", "--as", "alice", "/mentor", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0 and "Mentee" in status.stdout and "Active" in status.stdout


def test_interactive_chat_numbers_buttons(db: Database, db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    result = mentorbot("chat", "--as", "bob", env=env, cwd=tmp_path, input="join mentor\n2\n")
    assert result.returncode == 0, result.stderr
    assert "joined as a mentor" in result.stdout
    assert "Mentor" in result.stdout.split("joined as a mentor", 1)[1]  # [2] My status ran


def test_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    env = {"MENTORBOT_CONFIG": str(ROOT / "app.yaml"), "DATABASE_URL": None}
    result = mentorbot("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mentorbot.db").exists() and "migrated from empty" in result.stdout
    again = mentorbot("migrate", env=env, cwd=tmp_path)
    assert "up to date" in again.stdout


def test_sweep_dry_run_and_bad_input(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    mentorbot("chat", "--as", "ann", "join mentee", env=env, cwd=tmp_path)
    paused = mentorbot("chat", "--as", "ann", "pause for 2 weeks", env=env, cwd=tmp_path)
    assert "Paused until" in paused.stdout
    later = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    dry = mentorbot("sweep", "--now", later, "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0 and "would queue: pause-ended" in dry.stdout
    real = mentorbot("sweep", "--now", later, "--yes", env=env, cwd=tmp_path)
    assert "queued: pause-ended" in real.stdout
    again = mentorbot("sweep", "--now", later, "--yes", env=env, cwd=tmp_path)
    assert "0 items due" in again.stdout
    bad = mentorbot("sweep", "--now", "next tuesday", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "not an ISO date-time" in bad.stderr
    assert "Traceback" not in bad.stderr
    name = mentorbot("chat", "--as", "no spaces", "status", env=env, cwd=tmp_path)
    assert name.returncode == 2 and "Pick a user name" in name.stderr


def test_config_errors_exit_2_with_the_key_named(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("cadence: sometimes\n")
    result = mentorbot("migrate", env={}, cwd=tmp_path)
    assert result.returncode == 2 and "`cadence` must be one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_seeds_thirty_people(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    assert "Seeded 30 demo people" in mentorbot("demo", env=env, cwd=tmp_path).stdout
    assert "Seeded 30" in mentorbot("demo", env=env, cwd=tmp_path).stdout  # safe twice
    sofia = mentorbot("chat", "--as", "sofia", "status", env=env, cwd=tmp_path).stdout
    assert "Marketing" in sofia and "Lena Fischer" in sofia and "Europe/Madrid" in sofia


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/r.db",
        "MENTORBOT_CONFIG": str(ROOT / "app.yaml"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert b"local chat" in r.read()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "local web chat" in output and "stopped cleanly" in output
    assert "Traceback" not in output


async def test_sweep_prints_follow_through_items_readably(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    from conversations.engine import Engine
    from conversations.policy import Policy
    from tests.followthrough_kit import make_pair
    from tests.harness import Chat

    pair_id = await make_pair(Chat(Engine(db, Policy())))
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    dry = mentorbot("sweep", "--now", "2026-12-10T09:00", "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert (
        f"would queue: lapse-nudge-mentee for person 1 [lapse:{pair_id}:0:1]: lapse step 1 "
        "(nudge mentee) to alice: no meeting with bob since 23 Nov"
    ) in dry.stdout
    real = mentorbot("sweep", "--now", "2026-12-10T09:00", "--yes", env=env, cwd=tmp_path)
    assert "queued: lapse-nudge-mentee" in real.stdout and "would" not in real.stdout
    again = mentorbot("sweep", "--now", "2026-12-10T09:01", "--yes", env=env, cwd=tmp_path)
    assert "0 items due" in again.stdout


def test_match_dry_run_prints_proposals_and_changes_nothing(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    for user, line in (
        ("bob", "/mentor join mentor"),
        ("bob", 'profile set offers="public speaking" languages=en'),
        ("alice", "/mentor join mentee"),
        ("alice", 'profile set wants="public speaking" languages=en'),
    ):
        assert mentorbot("chat", "--as", user, line, env=env, cwd=tmp_path).returncode == 0
    dry = mentorbot("match", "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run (nothing changed): 1 proposal from 1 mentee and 1 mentor" in dry.stdout
    assert "alice <- bob  score" in dry.stdout and "public speaking" in dry.stdout
    assert "Coverage 100.0%" in dry.stdout and "proven optimal" in dry.stdout
    again = mentorbot("match", "--dry-run", env=env, cwd=tmp_path)
    assert "1 proposal " in again.stdout  # the dry run stored nothing
    real = mentorbot("match", env=env, cwd=tmp_path)
    assert real.returncode == 0 and "Matching round: 1 proposal " in real.stdout
    status = mentorbot("chat", "--as", "alice", "status", env=env, cwd=tmp_path)
    assert "proposed, answer with accept @bob" in status.stdout
