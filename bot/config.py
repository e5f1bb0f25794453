"""Configuration: the program's policy from app.yaml, secrets and deployment from the
environment. Validated at start; an error names the bad key and the expected form.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from adapters.slack.webapi import SlackCredentials
from adapters.teams.gate import is_loopback_host
from adapters.teams.settings import LOGIN_URL, OPENID_METADATA_URL, TeamsSettings
from bot.digest_config import parse_digest, parse_objective
from bot.follow_config import follow_through
from bot.matching_config import parse_matching
from bot.teams_config import parse_tenants
from conversations.policy import Policy
from storage.database import DEFAULT_URL, async_url

CADENCES = ("weekly", "biweekly", "monthly")
PRIVACY = ("named", "aggregate")
TOP_KEYS = (
    *("program", "timezone", "cadence", "mentor_capacity", "privacy", "admins"),
    *("meetings", "term", "lapse"),
    *("digest", "objective_target"),
    "matching",
    "teams",
)
PROGRAM_KEYS = ("name", "slug", "objective")
DEFAULT_PORT = 3978
TRUE = ("1", "true", "yes", "on")


class ConfigError(ValueError):
    """Everything wrong with the configuration, one problem a line."""


@dataclass(frozen=True)
class Settings:
    policy: Policy
    database_url: str = DEFAULT_URL
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    environment: str = "development"
    config_path: Path | None = None
    platforms_configured: tuple[str, ...] = field(default_factory=tuple)
    slack: SlackCredentials | None = None
    # Teams: with an app id when configured; without one (unauthenticated, local
    # development only) alongside the local chat; None otherwise.
    teams: TeamsSettings | None = None
    # Development mode on a non-loopback address (--allow-remote-dev): said out loud.
    allow_remote_dev: bool = False

    @property
    def local_chat(self) -> bool:
        """The trust-anyone web chat runs only when no real platform is configured."""
        return not self.platforms_configured


def _unknown(key: str, known: tuple[str, ...], where: str) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return f"{where}`{key}` is not a setting.{hint} Known: {', '.join(known)}."


def _policy(data: Mapping[str, Any], env: Mapping[str, str], problems: list[str]) -> Policy:
    for key in data:
        if key not in TOP_KEYS:
            problems.append(_unknown(str(key), TOP_KEYS, ""))
    program = data.get("program") or {}
    if not isinstance(program, dict):
        problems.append("`program` must be a mapping with name, slug and objective.")
        program = {}
    for key in program:
        if key not in PROGRAM_KEYS:
            problems.append(_unknown(str(key), PROGRAM_KEYS, "program."))
    name = program.get("name", "Mentoring program")
    slug = program.get("slug", "default")
    objective = program.get("objective")
    if not isinstance(name, str) or not name.strip():
        problems.append("`program.name` must be text, e.g. name: Acme mentoring.")
    if not isinstance(slug, str) or not slug.replace("-", "").isalnum():
        problems.append("`program.slug` must be letters, digits and dashes, e.g. slug: default.")
    if objective is not None and not isinstance(objective, str):
        problems.append("`program.objective` must be text.")
    timezone = data.get("timezone", "UTC")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"`timezone` must be an IANA name such as Europe/Berlin (got {timezone!r})."
        )
    cadence = data.get("cadence", "biweekly")
    if cadence not in CADENCES:
        problems.append(f"`cadence` must be one of {', '.join(CADENCES)} (got {cadence!r}).")
    capacity = data.get("mentor_capacity", 2)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 10:
        problems.append(
            f"`mentor_capacity` must be a whole number from 1 to 10 (got {capacity!r})."
        )
    privacy = data.get("privacy", "named")
    if privacy not in PRIVACY:
        problems.append(f"`privacy` must be one of {', '.join(PRIVACY)} (got {privacy!r}).")
    admins = data.get("admins") or []
    if not isinstance(admins, list) or not all(isinstance(a, str) for a in admins):
        problems.append(
            "`admins` must be a list like [slack:U123, teams:<aadObjectId>, local:hana, "
            "hr@example.com]."
        )
        admins = []
    extra = [a.strip() for a in env.get("MENTORBOT_ADMINS", "").split(",") if a.strip()]
    for entry in [*admins, *extra]:
        if "@" not in entry and entry.split(":", 1)[0] not in ("slack", "teams", "local"):
            problems.append(f"admin {entry!r} must be slack:ID, teams:ID, local:NAME or an e-mail.")
    return Policy(
        program_slug=str(slug),
        program_name=str(name).strip() if isinstance(name, str) else "Mentoring program",
        objective=objective if isinstance(objective, str) else None,
        default_timezone=str(timezone),
        cadence=str(cadence),
        admins=frozenset([*admins, *extra]),
        mentor_capacity_default=capacity if isinstance(capacity, int) else 2,
        privacy=str(privacy),
        follow=follow_through(data, problems),
        digest=parse_digest(data.get("digest"), problems, _unknown),
        objective_target=parse_objective(data.get("objective_target"), problems, _unknown),
        matching=parse_matching(data.get("matching"), problems),
    )


def _slack(env: Mapping[str, str], problems: list[str]) -> SlackCredentials | None:
    """HTTP mode needs the bot token and signing secret; Socket Mode the bot and app tokens."""
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    if not token:
        problems.append(
            "Slack needs SLACK_BOT_TOKEN (xoxb-…) with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN."
        )
        return None
    if secret is None and app_token is None:
        problems.append(
            "Slack needs SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events) or "
            "SLACK_APP_TOKEN (xapp-…, Socket Mode) next to SLACK_BOT_TOKEN."
        )
        return None
    if app_token is not None and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        return None
    return SlackCredentials(token, secret, app_token, env.get("SLACK_API_URL") or None)


def find_config(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """--config, else MENTORBOT_CONFIG, else ./app.yaml if present, else none (defaults)."""
    named = explicit or env.get("MENTORBOT_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"Config file {named} does not exist.")
        return path
    default = Path("app.yaml")
    return default if default.is_file() else None


def load_settings(
    config: str | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    *,
    allow_remote_dev: bool = False,
) -> Settings:
    env = os.environ if env is None else env
    path = find_config(config, env)
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path} is not valid YAML: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must be a mapping of settings (key: value).")
    problems: list[str] = []
    policy = _policy(data, env, problems)
    database_url = env.get("DATABASE_URL") or DEFAULT_URL
    try:
        async_url(database_url)
    except Exception as err:
        problems.append(f"DATABASE_URL: {err}")
    if port is None:
        raw_port = env.get("PORT", str(DEFAULT_PORT))
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            problems.append(f"PORT must be a port number (got {raw_port!r}).")
            raw_port = str(DEFAULT_PORT)
        port = int(raw_port)
    environment = env.get("MENTORBOT_ENV", "development")
    platforms = tuple(
        name
        for name, keys in (
            ("slack", ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")),
            ("teams", ("MICROSOFT_APP_ID",)),
        )
        if any(env.get(k) for k in keys)
    )
    slack = _slack(env, problems) if "slack" in platforms else None
    if environment == "production" and not platforms:
        problems.append(
            "MENTORBOT_ENV=production needs a platform (Slack or Teams credentials); "
            "the local web chat and a Teams endpoint without MICROSOFT_APP_ID trust anyone "
            "and are for development only."
        )
    teams = _teams(env, local=not platforms)
    tenants = parse_tenants(data.get("teams"), env, problems)
    if teams is not None:
        teams = dataclasses.replace(teams, tenants=tenants)
        problems.extend(teams.problems())
    if problems:
        where = f"Configuration problems ({path or 'defaults and environment'}):"
        raise ConfigError("\n".join([where, *(f"  - {p}" for p in problems)]))
    host = env.get("HOST") or ("0.0.0.0" if platforms else "127.0.0.1")
    allow_remote_dev = allow_remote_dev or env.get("MENTORBOT_ALLOW_REMOTE_DEV", "") in TRUE
    if not platforms and not is_loopback_host(host.strip("[]")) and not allow_remote_dev:
        raise ConfigError(
            f"HOST={host} would serve the development mode (no Slack or Teams credentials, "
            "so it trusts whoever connects) beyond this machine. Use HOST=127.0.0.1, or "
            "pass --allow-remote-dev (MENTORBOT_ALLOW_REMOTE_DEV=1) if you really mean it."
        )
    return Settings(
        allow_remote_dev=allow_remote_dev and not platforms,
        policy=policy,
        database_url=database_url,
        host=host,
        port=port,
        environment=environment,
        config_path=path,
        platforms_configured=platforms,
        slack=slack,
        teams=teams,
    )


def _teams(env: Mapping[str, str], *, local: bool) -> TeamsSettings | None:
    if not env.get("MICROSOFT_APP_ID") and not local:
        return None
    return TeamsSettings(
        app_id=env.get("MICROSOFT_APP_ID", ""),
        app_password=env.get("MICROSOFT_APP_PASSWORD", ""),
        tenant_id=env.get("MICROSOFT_APP_TENANT_ID", ""),
        app_type=env.get("MICROSOFT_APP_TYPE") or "MultiTenant",
        openid_metadata_url=env.get("MICROSOFT_OPENID_METADATA_URL") or OPENID_METADATA_URL,
        login_url=env.get("MICROSOFT_LOGIN_URL") or LOGIN_URL,
    )
