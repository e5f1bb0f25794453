"""Without PostgreSQL, a run says why its PostgreSQL tests were skipped once, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_ENV, PG_SKIP

ROOT = Path(__file__).resolve().parent.parent


def test_the_postgresql_skip_reason_is_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if key != PG_ENV}
    files = ["tests/test_storage.py", "tests/test_cli_operator.py", "tests/test_digest.py"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgresql",
            *files,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if PG_SKIP in line]
    assert len(lines) == 1, result.stdout
    skipped = int(lines[0].split("[", 1)[1].split("]", 1)[0])
    assert skipped > 10 and f"{skipped} skipped" in result.stdout
