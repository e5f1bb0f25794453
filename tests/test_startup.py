"""Start-up stays light: a command imports what it needs when it runs, so
`mentorbot chat --as alice "/mentor status"` does not load the matching solver's numeric
stack, the platform SDKs or Alembic (bench/startup.py measures the time and memory; no
test here times anything). Imports are checked in a fresh interpreter: this one has
loaded everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.database import Database
from storage.migrate import current_revision, head_revision, script_head, upgrade

ROOT = Path(__file__).resolve().parent.parent
# Loaded only by what needs them: a matching round, the Teams adapter, the Slack adapter.
HEAVY = ("numpy", "scipy", "ortools", "botbuilder", "botframework", "slack_bolt", "slack_sdk")
REPORT = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"


def loaded_after(code: str, env: dict[str, str], cwd: Path) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def local_env(tmp_path: Path) -> dict[str, str]:
    """The local chat on a SQLite file, whatever platform credentials the caller has set."""
    env = {k: "" for k in os.environ if k.startswith(("SLACK_", "MICROSOFT_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/startup.db"
    env["MENTORBOT_CONFIG"] = str(ROOT / "app.yaml")
    return env


def test_the_engine_imports_no_solver_and_no_platform_sdk(tmp_path: Path) -> None:
    loaded = loaded_after("import conversations.engine", {}, tmp_path)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_chat_status_loads_no_solver_no_platform_sdk_and_no_alembic_at_head(
    tmp_path: Path,
) -> None:
    env = local_env(tmp_path)
    chat = "from bot.cli import main\nassert main(['chat', '--as', 'alice', '/mentor status']) == 0"
    first = loaded_after(chat, env, tmp_path)  # creates the schema: Alembic is needed
    assert "alembic" in first and first.isdisjoint(HEAVY), sorted(first & set(HEAVY))
    warm = loaded_after(chat, env, tmp_path)  # the schema is at head: a cheap check
    unneeded = {*HEAVY, "alembic", "icalendar"}  # a status writes no invite
    assert warm.isdisjoint(unneeded), sorted(warm & unneeded)


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert script_head() is not None and script_head() == head_revision()


def step(folder: Path, revision: str, down: str | None, extra: str = "") -> None:
    parent = "None" if down is None else f'"{down}"'
    (folder / f"{revision}.py").write_text(
        f'"""{revision}"""\n\nrevision: str = "{revision}"\n'
        f"down_revision: str | None = {parent}\n{extra}"
    )


def test_the_head_is_left_to_alembic_unless_the_files_are_one_plain_line(
    tmp_path: Path,
) -> None:
    step(tmp_path, "0001", None, "depends_on = None\n")
    step(tmp_path, "0002", "0001")
    assert script_head(tmp_path) == "0002"
    step(tmp_path, "0003", "0001")  # a branch: two heads
    assert script_head(tmp_path) is None
    (tmp_path / "0003.py").write_text('revision = "0003"\ndown_revision = ("0001", "0002")\n')
    assert script_head(tmp_path) is None  # a merge
    step(tmp_path, "0003", "0002", 'depends_on = "0001"\n')
    assert script_head(tmp_path) is None
    step(tmp_path, "0003", "0002")
    assert script_head(tmp_path) == "0003"
    (tmp_path / "0004.py").write_text("revision = make_id()\n")
    assert script_head(tmp_path) is None


@pytest.mark.parametrize("older", ["0001", "0004_digest_indexes"])
async def test_a_database_behind_head_is_still_upgraded(tmp_path: Path, older: str) -> None:
    db = Database(f"sqlite:///{tmp_path}/behind.db")
    try:
        await upgrade(db, older)
        assert await current_revision(db) == older
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        await upgrade(db)  # at head: nothing to do
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()
