"""Benchmark start-up: `mentorbot chat --as alice "/mentor status"` as a whole process.

What it measures: wall time, CPU time (user + system) and peak resident memory of each
run of, interleaved in one run so that they share the machine's load:

- `python -c pass`: the interpreter alone, the floor;
- `python -c "import sqlalchemy, aiohttp"`: the two libraries every command of the bot
  stands on, a bare reference;
- `mentorbot chat --as alice "/mentor status"` on a fresh SQLite database in a temporary
  directory, twice: the first run (it creates the schema, then alice), and warm (schema at
  head and alice known: the everyday case, which the goals are about).

Each runs --runs times (default 7); the report gives min / median / max of each figure.
Wall time swings with the machine's load; CPU time is steadier, so it is printed beside
it, with the load average before and after. Peak RSS is the child's own (`wait4`).

Goals for the warm chat: under 1.0 s wall and 110 MB peak RSS. Nothing here gates a
test; tests/test_startup.py keeps the heavy imports (numpy, SciPy, OR-Tools, botbuilder,
slack_bolt) out of the chat path instead.

--against DIR adds the same chat run from another source tree (an older commit, exported
with `git archive REV | tar -x -C DIR`), interleaved with this one: a before/after under
the same load. It runs with this checkout's virtualenv, DIR first on PYTHONPATH.

    .venv/bin/python bench/startup.py
    .venv/bin/python bench/startup.py --runs 15 --against /tmp/before
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_WALL_S = 1.0
GOAL_RSS_MB = 110.0
STATUS = "/mentor status"
# Platform credentials in the caller's environment would change what a command loads.
_PLATFORM_ENV = ("SLACK_", "MICROSOFT_", "MENTORBOT_", "DATABASE_URL", "PORT", "HOST")


@dataclass
class Runs:
    """The figures of one case, a list entry per run."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)


def mentorbot_command() -> list[str]:
    """The installed `mentorbot` script next to this interpreter, else `python -m bot.cli`."""
    script = Path(sys.executable).parent / "mentorbot"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]


def clean_env(database: Path, source: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_ENV)}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    env["MENTORBOT_CONFIG"] = str(ROOT / "app.yaml")
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


@dataclass
class Chat:
    """The chat from one source tree (None: this checkout), first run and warm."""

    source: Path | None
    first: Runs
    warm: Runs


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path, into: Runs) -> str:
    """Run `argv` to its end, record its wall time, CPU time and peak RSS, and return what
    it printed; a failed run stops the benchmark (its figures would mean nothing)."""
    with tempfile.TemporaryFile("w+") as out:
        began = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not a total
        wall = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        printed = out.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{printed}")
    into.wall.append(wall)
    into.cpu.append(usage.ru_utime + usage.ru_stime)
    into.rss_mb.append(usage.ru_maxrss / 1024)  # KiB on Linux
    return printed


def spread(values: list[float], unit: Callable[[float], str]) -> str:
    return " / ".join(unit(v) for v in (min(values), statistics.median(values), max(values)))


def report(cases: list[Runs]) -> None:
    width = max(len(c.label) for c in cases)
    print(
        f"{'':{width}}  {'wall s (min/median/max)':>24}  {'CPU s user+sys':>20}  "
        f"{'peak RSS MB':>18}"
    )
    for c in cases:
        print(
            f"{c.label:{width}}  {spread(c.wall, lambda v: f'{v:.3f}'):>24}  "
            f"{spread(c.cpu, lambda v: f'{v:.3f}'):>20}  "
            f"{spread(c.rss_mb, lambda v: f'{v:.0f}'):>18}"
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=7, help="runs of each case (default 7)")
    p.add_argument("--against", type=Path, metavar="DIR", help="also time this source tree")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be 1 or more")
    if args.against is not None and not (args.against / "bot" / "cli.py").is_file():
        p.error(f"--against {args.against}: no bot/cli.py there")
    chat = [*mentorbot_command(), "chat", "--as", "alice", STATUS]
    bare = Runs("python -c pass")
    libs = Runs('python -c "import sqlalchemy, aiohttp"')
    chats = [Chat(None, Runs("chat, first run (migrates)"), Runs("chat, warm"))]
    if args.against is not None:
        name = args.against.name
        chats.append(
            Chat(args.against, Runs(f"{name}: chat, first run"), Runs(f"{name}: chat, warm"))
        )
    folder = Path(tempfile.mkdtemp(prefix="mentorbot-startup-"))
    try:
        for n, c in enumerate(chats):  # the schema and alice, not measured
            run_once(chat, clean_env(folder / f"warm-{n}.db", c.source), folder, Runs("setup"))
        print(f'{" ".join(chat[:-1])} "{STATUS}"')
        print(f"  on SQLite in {folder}, {args.runs} runs of each, interleaved")
        print(f"load average before: {load()}")
        env = clean_env(folder / "none.db")
        for i in range(args.runs):
            run_once([sys.executable, "-c", "pass"], env, folder, bare)
            run_once([sys.executable, "-c", "import sqlalchemy, aiohttp"], env, folder, libs)
            for n, c in enumerate(chats):
                fresh = clean_env(folder / f"first-{n}-{i}.db", c.source)
                answer = run_once(chat, fresh, folder, c.first)
                run_once(chat, clean_env(folder / f"warm-{n}.db", c.source), folder, c.warm)
                if i == 0 and n == 0:
                    print("  it answers: " + answer.strip().splitlines()[0][:70] + " …")
        print(f"load average after:  {load()}\n")
        report([bare, libs, *(r for c in chats for r in (c.first, c.warm))])
        warm = chats[0].warm
        wall, rss = statistics.median(warm.wall), statistics.median(warm.rss_mb)
        print(
            f"\nwarm chat, median: {wall:.2f} s wall (goal < {GOAL_WALL_S} s), "
            f"{rss:.0f} MB peak RSS (goal < {GOAL_RSS_MB:.0f} MB)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
