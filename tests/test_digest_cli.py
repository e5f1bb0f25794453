"""`mentorbot digest` as an operator runs it, and the digest settings in app.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from conversations.digest.figures import BASE_KEYS
from storage.database import Database
from tests.test_cli import ROOT, mentorbot

TOP_KEYS = {
    "version",
    "program",
    "as_of",
    "window",
    "privacy",
    "figures",
    "previous",
    "change",
    "objective",
    "trend",
    "recognition",
    "at_risk_pairs",
}


def test_digest_json_has_the_documented_stable_keys(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    for user, role in (("hana", "mentor"), ("alice", "mentee")):
        joined = mentorbot("chat", "--as", user, f"join {role}", env=env, cwd=tmp_path)
        assert joined.returncode == 0, joined.stderr
    result = mentorbot(
        "digest", "--json", "--no-post", "--now", "2030-01-07T09:00", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == TOP_KEYS
    ladder = {f"lapses.step_{n}" for n in range(1, 6)}
    assert set(data["figures"]) == set(BASE_KEYS) | ladder
    assert set(data["previous"]) == set(data["change"]) == set(data["figures"])
    assert data["figures"]["participants.total"] == 2
    assert data["as_of"] == "2030-01-07T09:00:00+00:00"
    assert len(data["trend"]) == 12 and set(data["trend"][0]) == {
        "week_start",
        "due",
        "held",
        "rate",
    }
    # Documented in the README, key by key.
    readme = (ROOT / "README.md").read_text()
    for key in [*TOP_KEYS, *BASE_KEYS]:
        assert f"`{key}`" in readme, key


def test_digest_posts_to_local_admins_once_and_previews_without_posting(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    mentorbot("chat", "--as", "hana", "join mentor", env=env, cwd=tmp_path)
    preview = mentorbot("digest", "--no-post", "--now", "2030-01-07T09:00", env=env, cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith("Mentoring digest: Mentoring program")
    assert "preview only" in preview.stdout
    chart = tmp_path / "trend.png"
    posted = mentorbot(
        "digest",
        "--post",
        "--now",
        "2030-01-07T09:00",
        "--chart",
        str(chart),
        env=env,
        cwd=tmp_path,
    )
    assert "queued: weekly digest to admin 1's local chat" in posted.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    again = mentorbot("digest", "--post", "--now", "2030-01-07T09:00", env=env, cwd=tmp_path)
    assert "Nothing posted: this digest was already posted to every target." in again.stdout
    bad = mentorbot("digest", "--now", "next week", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "not an ISO date-time" in bad.stderr


def test_digest_settings_are_validated_with_the_key_they_resemble(tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text(
        "digest: {dya: monday, day: mondey, time: 9am, timezone: Mars/Base, slack_channel: C1}\n"
        "objective_target: {departmens: [Sales], share: 130%}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config), env={})
    message = str(caught.value)
    assert "digest.`dya` is not a setting. Did you mean `day`?" in message
    assert "Did you mean `monday`?" in message
    assert "`digest.time` must be HH:MM" in message
    assert "`digest.timezone` must be an IANA name" in message
    assert "objective_target.`departmens` is not a setting. Did you mean `departments`?" in message
    config.write_text(
        "digest: {day: friday, time: '17:30', timezone: Europe/Berlin, slack_channel: C1, "
        "teams_channel: '19:x@thread.tacv2'}\n"
        "objective_target: {departments: [Sales, Support], share: 30%}\n"
    )
    policy = load_settings(str(config), env={}).policy
    assert (policy.digest.weekday, str(policy.digest.at)) == (4, "17:30:00")
    assert policy.digest.channels == (("slack", "C1"), ("teams", "19:x@thread.tacv2"))
    assert policy.objective_target is not None
    assert policy.objective_target.share == 0.3
    assert policy.objective_target.label == "Mentees from Sales, Support"


def test_simulate_runs_an_organisation_and_prints_each_weeks_digest(tmp_path: Path) -> None:
    env = {"MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    result = mentorbot(
        "simulate", "--people", "16", "--weeks", "3", "--seed", "2", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert [line for line in out.splitlines() if line.startswith("=== Week")] == [
        "=== Week 1 ===",
        "=== Week 2 ===",
        "=== Week 3 ===",
    ]
    week3 = out.split("=== Week 3 ===", 1)[1]
    assert "Participants: " in week3 and "held of" in week3
    assert "Simulated 16 people over 3 weeks" in out
    # The real matcher proposed pairs, people answered them, and some pairs met.
    summary = next(line for line in out.splitlines() if line.startswith("Summary: "))
    figures = dict(
        (name, int(n))
        for n, name in re.findall(
            r"(\d+) (proposals|accepted|declined|expired|meetings held)", summary
        )
    )
    assert figures["proposals"] >= figures["accepted"] > 0
    assert figures["proposals"] == figures["accepted"] + figures["declined"] + figures["expired"]
    assert figures["meetings held"] > 0
    assert "0 refusals" in summary
    assert not list(tmp_path.iterdir())  # a throwaway database, never the working one
    bad = mentorbot("simulate", "--people", "1", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "--people 2 or more" in bad.stderr
