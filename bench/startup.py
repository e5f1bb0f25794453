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

    .venv/bin/python bench/startup.py
    .venv/bin/python bench/startup.py --runs 15
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


def clean_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PLATFORM_ENV)}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    env["MENTORBOT_CONFIG"] = str(ROOT / "app.yaml")
    return env


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
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be 1 or more")
    chat = [*mentorbot_command(), "chat", "--as", "alice", STATUS]
    bare = Runs("python -c pass")
    libs = Runs('python -c "import sqlalchemy, aiohttp"')
    first = Runs(f'chat "{STATUS}", first run (migrates)')
    warm = Runs(f'chat "{STATUS}", warm')
    folder = Path(tempfile.mkdtemp(prefix="mentorbot-startup-"))
    try:
        warm_db = folder / "warm.db"
        env = clean_env(warm_db)
        run_once(chat, env, folder, Runs("setup"))  # schema and alice, not measured
        print(f"{' '.join(chat)}\n  on SQLite in {folder}, {args.runs} runs each, interleaved")
        print(f"load average before: {load()}")
        for i in range(args.runs):
            run_once([sys.executable, "-c", "pass"], env, folder, bare)
            run_once([sys.executable, "-c", "import sqlalchemy, aiohttp"], env, folder, libs)
            fresh = clean_env(folder / f"first-{i}.db")
            answer = run_once(chat, fresh, folder, first)
            run_once(chat, env, folder, warm)
            if i == 0:
                print("  it answers: " + answer.strip().splitlines()[0][:70] + " …")
        print(f"load average after:  {load()}\n")
        report([bare, libs, first, warm])
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
