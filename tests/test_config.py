"""Configuration: app.yaml plus environment, validated with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from conversations.policy import Policy

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    return str(path)


def test_the_shipped_app_yaml_is_valid() -> None:
    settings = load_settings(str(ROOT / "app.yaml"), env={})
    assert settings.policy.cadence == "biweekly"
    assert settings.local_chat and settings.host == "127.0.0.1" and settings.port == 3978
    assert settings.database_url == "sqlite:///mentorbot.db"


def test_env_adds_admins_and_overrides_deployment(tmp_path: Path) -> None:
    path = write(tmp_path, "admins: [local:hana]\n")
    env = {
        "MENTORBOT_ADMINS": "slack:U1, hr@example.com",
        "DATABASE_URL": "postgresql://u@db/mentorbot",
        "PORT": "8080",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "signing-secret",
    }
    settings = load_settings(path, env=env)
    assert settings.policy.admins == {"local:hana", "slack:U1", "hr@example.com"}
    assert settings.policy.is_admin("slack", "U1", None)
    assert settings.policy.is_admin("teams", "x", "HR@example.com")
    assert not settings.policy.is_admin("slack", "U2", None)
    assert settings.port == 8080 and settings.host == "0.0.0.0" and not settings.local_chat


def test_every_problem_is_named_with_the_expected_form(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cadense: weekly\ncadence: fortnightly\ntimezone: Mars/Olympus\nmentor_capacity: lots\n"
        "privacy: secret\nprogram: {nmae: X}\nadmins: [bob]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={"PORT": "http", "DATABASE_URL": "mysql://x/y"})
    text = str(err.value)
    for expected in (
        "`cadense` is not a setting. Did you mean `cadence`?",
        "`cadence` must be one of weekly, biweekly, monthly (got 'fortnightly')",
        "`timezone` must be an IANA name",
        "`mentor_capacity` must be a whole number from 1 to 10",
        "`privacy` must be one of named, aggregate",
        "program.`nmae` is not a setting. Did you mean `name`?",
        "admin 'bob' must be slack:ID",
        "PORT must be a port number",
        "DATABASE_URL",
    ):
        assert expected in text


def test_production_refuses_the_trust_anyone_local_chat(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MENTORBOT_ENV=production needs a platform"):
        load_settings(write(tmp_path, "{}\n"), env={"MENTORBOT_ENV": "production"})


def test_bad_yaml_and_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "program: [unclosed\n"), env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(str(tmp_path / "nope.yaml"), env={})
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"), env={})


def test_teams_with_an_app_id_and_its_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "{}\n")
    env = {
        "MICROSOFT_APP_ID": "app",
        "MICROSOFT_APP_PASSWORD": "pw",
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "MICROSOFT_APP_TENANT_ID": "t1",
        "MENTORBOT_ENV": "production",
    }
    settings = load_settings(path, env=env)
    assert settings.platforms_configured == ("teams",) and not settings.local_chat
    assert settings.teams is not None and settings.teams.authenticated
    assert settings.teams.token_tenant == "t1"
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_TYPE": "UserMSI"})
    assert "MICROSOFT_APP_PASSWORD" in str(err.value) and "MICROSOFT_APP_TYPE" in str(err.value)


def test_teams_without_an_app_id_is_local_development_only(tmp_path: Path) -> None:
    path = write(tmp_path, "{}\n")
    local = load_settings(path, env={})
    assert local.teams is not None and not local.teams.authenticated and local.local_chat
    # With only Slack configured there is no unauthenticated Teams endpoint at all.
    assert (
        load_settings(path, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}).teams
        is None
    )
    with pytest.raises(ConfigError, match="Teams endpoint without MICROSOFT_APP_ID"):
        load_settings(path, env={"MENTORBOT_ENV": "production"})


def test_matching_section_is_validated_key_by_key(tmp_path: Path) -> None:
    good = load_settings(
        write(
            tmp_path, "matching:\n  weights: {topics: 5}\n  rounds: weekly\n  proposal_days: 3\n"
        ),
        env={},
    )
    assert good.policy.matching.weights["topics"] == 5.0
    assert good.policy.matching.weights["language"] == 2.0  # the rest keep their defaults
    assert good.policy.matching.rounds == "weekly" and good.policy.matching.proposal_days == 3
    assert (
        load_settings(write(tmp_path, "matching: {rounds: off}\n"), env={}).policy.matching.rounds
        == "off"
    )
    bad = "matching:\n  weigths: {}\n  weights: {language: -1}\n  rounds: daily\n"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, bad), env={})
    message = str(err.value)
    assert "`matching.weigths` is not a setting. Did you mean `weights`?" in message
    assert "`matching.weights.language` must be a number from 0 to 100 (got -1)" in message
    assert "`matching.rounds` must be one of off, weekly, biweekly, monthly" in message


def test_an_empty_file_means_the_products_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "{}\n"), env={}).policy == Policy()
    empty_sections = "program:\nmeetings:\nterm:\nlapse:\ndigest:\nmatching:\nadmins:\n"
    assert load_settings(write(tmp_path, empty_sections), env={}).policy == Policy()


def test_wrong_shapes_name_the_keys_expected(tmp_path: Path) -> None:
    text = "program: 3\ndigest: 5\nmatching: {weights: 3}\nobjective_target: {share: 30%}\n"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    message = str(err.value)
    assert "`program` must be a mapping with name, slug and objective." in message
    assert "`digest` must be a mapping with day, time, timezone, slack_channel and" in message
    assert "`matching.weights` must be a mapping with topics, goals," in message
    assert "`objective_target.departments` is required (The department names, e.g." in message
    assert "objective_target.`share`" not in message


def test_digest_and_objective_problems_are_named(tmp_path: Path) -> None:
    text = (
        "digest: {day: mondy, time: '25:00', chanel: C1}\n"
        "objective_target: {departments: [], share: 150%}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    message = str(err.value)
    assert "`digest.day` must be a weekday such as monday (got 'mondy'). Did you mean" in message
    assert '`digest.time` must be HH:MM on a 24-hour clock, e.g. "09:00" (got' in message
    assert "digest.`chanel` is not a setting." in message
    assert "`objective_target.departments` must list department names" in message
    assert "`objective_target.share` must be a share of mentees above 0" in message
