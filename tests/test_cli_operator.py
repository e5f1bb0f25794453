"""The command line without surprises, as an operator meets it: the digest posts only when
asked, a sweep into the future is looked at before it is done, attachments land in the
working directory, and a busy port, a database out of reach or a closed pipe each end
with one clear line and a non-zero exit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.local.attachments import safe_name, save_attachment
from bot.demo import PEOPLE
from conversations.messages import File
from storage.database import Database
from tests.test_cli import ROOT, free_port, mentorbot

NOW = "2030-01-07T09:00"


def env_for(db_url: str, config: Path = ROOT / "app.yaml") -> dict[str, str | None]:
    return {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(config)}


def test_the_digest_is_posted_only_with_post(db: Database, db_url: str, tmp_path: Path) -> None:
    env = env_for(db_url)
    assert mentorbot("chat", "--as", "hana", "join mentor", env=env, cwd=tmp_path).returncode == 0
    preview = mentorbot("digest", "--now", NOW, env=env, cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "(preview only, nothing posted: `mentorbot digest --post` posts it)" in preview.stdout
    as_json = mentorbot("digest", "--json", "--now", NOW, env=env, cwd=tmp_path)
    assert json.loads(as_json.stdout)["as_of"] == "2030-01-07T09:00:00+00:00"
    no_post = mentorbot("digest", "--no-post", "--now", NOW, env=env, cwd=tmp_path)
    assert "nothing posted" in no_post.stdout
    # Neither queued anything: the first --post for this moment still finds every target new.
    posted = mentorbot("digest", "--post", "--now", NOW, env=env, cwd=tmp_path)
    assert "queued: weekly digest to admin 1's local chat" in posted.stdout
    both = mentorbot("digest", "--json", "--post", "--now", NOW, env=env, cwd=tmp_path)
    assert both.returncode == 2 and "--json only prints the figures" in both.stderr
    helped = mentorbot("digest", "--help", env=env, cwd=tmp_path).stdout
    assert "Nothing is posted unless --post" in helped


def test_nothing_posted_says_the_one_real_reason(tmp_path: Path) -> None:
    nobody = tmp_path / "nobody.yaml"
    nobody.write_text("admins: []\n")
    env = env_for(f"sqlite:///{tmp_path}/n.db", nobody)
    result = mentorbot("digest", "--post", "--now", NOW, env=env, cwd=tmp_path)
    assert result.stdout.splitlines()[-1] == (
        "Nothing posted: no digest channel is set in app.yaml (digest.slack_channel, "
        "digest.teams_channel) and no admin is listed (admins)."
    )
    absent = tmp_path / "absent.yaml"
    absent.write_text("admins: [local:zed]\n")
    env = env_for(f"sqlite:///{tmp_path}/n.db", absent)
    result = mentorbot("digest", "--post", "--now", NOW, env=env, cwd=tmp_path)
    assert "none of the admins has used the local chat yet" in result.stdout.splitlines()[-1]


def test_a_sweep_into_the_future_is_looked_at_first(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path}/s.db")
    mentorbot("chat", "--as", "ann", "join mentee", env=env, cwd=tmp_path)
    mentorbot("chat", "--as", "ann", "pause for 2 weeks", env=env, cwd=tmp_path)
    later = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    refused = mentorbot("sweep", "--now", later, env=env, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "is in the future" in refused.stderr and "--dry-run" in refused.stderr
    assert "Traceback" not in refused.stderr
    # Refusing changed nothing: the dry run still sees the pause to end, the real one ends it.
    assert (
        "would queue: pause-ended"
        in mentorbot("sweep", "--now", later, "--dry-run", env=env, cwd=tmp_path).stdout
    )
    assert (
        "queued: pause-ended"
        in mentorbot("sweep", "--now", later, "--yes", env=env, cwd=tmp_path).stdout
    )
    assert mentorbot("sweep", env=env, cwd=tmp_path).returncode == 0  # as of now: no question
    helped = mentorbot("sweep", "--help", env=env, cwd=tmp_path).stdout
    assert "changes the database" in helped and "--dry-run" in helped and "--yes" in helped


def test_the_console_saves_attachments_beside_it_without_overwriting(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    env = env_for(db_url)
    mentorbot("chat", "--as", "hana", "join mentor", env=env, cwd=tmp_path)
    first = mentorbot("chat", "--as", "hana", "admin digest", env=env, cwd=tmp_path)
    assert f"Saved digest-trend.png as {tmp_path / 'digest-trend.png'}" in first.stdout
    (tmp_path / "digest-trend-1.png").write_bytes(b"mine")
    second = mentorbot("chat", "--as", "hana", "admin digest", env=env, cwd=tmp_path)
    assert f"Saved digest-trend.png as {tmp_path / 'digest-trend-2.png'}" in second.stdout
    assert (tmp_path / "digest-trend-1.png").read_bytes() == b"mine"
    for name in ("digest-trend.png", "digest-trend-2.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    exported = mentorbot("chat", "--as", "hana", "export-data", env=env, cwd=tmp_path)
    saved = [line for line in exported.stdout.splitlines() if "Saved " in line]
    assert len(saved) == 1 and saved[0].strip().endswith(".json")
    path = Path(saved[0].rsplit(" as ", 1)[1])
    assert path.parent == tmp_path and json.loads(path.read_text())


def test_an_attachment_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name(".bashrc") == "bashrc" and safe_name("a b/c d.ics") == "c-d.ics"
    assert safe_name("..") == "attachment"
    path = save_attachment(File("../x.ics", "text/calendar", "BEGIN:VCALENDAR"), tmp_path)
    assert path == tmp_path / "x.ics" and path.read_text() == "BEGIN:VCALENDAR"
    again = save_attachment(File("x.ics", "text/calendar", "two"), tmp_path)
    assert again == tmp_path / "x-1.ics" and path.read_text() == "BEGIN:VCALENDAR"


def test_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "MENTORBOT_CONFIG": str(ROOT / "app.yaml"),
        }
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"Port {port} on 127.0.0.1 is already in use: stop what is using it, or pick "
        "another port with --port N (or PORT=N)."
    )


def test_a_database_out_of_reach_is_one_clear_line(tmp_path: Path) -> None:
    closed = free_port()
    env = env_for(f"postgresql://mentorbot:secret@127.0.0.1:{closed}/db")
    result = mentorbot("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "the database postgresql+asyncpg://mentorbot:***@" in result.stderr
    assert "unreachable" in result.stderr and "DATABASE_URL" in result.stderr
    assert "secret" not in result.stderr


def test_a_closed_pipe_is_one_clear_line(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # `mentorbot … | head` after head has gone
    env = {**os.environ, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "manifest", "slack", "--url", "https://x.example"],
            env=env,
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert result.returncode == 141
    assert result.stderr == "mentorbot: output closed before the end (broken pipe).\n"


def test_the_demo_people_keep_their_full_names(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path}/d.db")
    seeded = mentorbot("demo", env=env, cwd=tmp_path)
    assert "open http://127.0.0.1:3978/" in seeded.stdout
    on_port = mentorbot("demo", env={**env, "PORT": "8123"}, cwd=tmp_path)
    assert "open http://127.0.0.1:8123/" in on_port.stdout
    # Lena uses the console, which knows her only as `lena`: her name stays hers.
    mentorbot("chat", "--as", "lena", "status", env=env, cwd=tmp_path)
    sofia = mentorbot("chat", "--as", "sofia", "status", env=env, cwd=tmp_path).stdout
    assert "Lena Fischer" in sofia and " lena" not in sofia
    assert all(len(person.name.split()) >= 2 for person in PEOPLE)
