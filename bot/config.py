"""Configuration: the program's policy from app.yaml, secrets and deployment from the
environment. Validated at start; an error names the bad key and the expected form.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.matching_config import parse_matching
from conversations.policy import Policy
from storage.database import DEFAULT_URL, async_url

CADENCES = ("weekly", "biweekly", "monthly")
PRIVACY = ("named", "aggregate")
TOP_KEYS = (
    "program",
    "timezone",
    "cadence",
    "mentor_capacity",
    "privacy",
    "admins",
    "matching",
)
PROGRAM_KEYS = ("name", "slug", "objective")
DEFAULT_PORT = 3978


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
        matching=parse_matching(data.get("matching"), problems),
    )


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
    config: str | None = None, env: Mapping[str, str] | None = None, port: int | None = None
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
    if environment == "production" and not platforms:
        problems.append(
            "MENTORBOT_ENV=production needs a platform (Slack or Teams credentials); "
            "the local web chat trusts anyone and is for development only."
        )
    if problems:
        where = f"Configuration problems ({path or 'defaults and environment'}):"
        raise ConfigError("\n".join([where, *(f"  - {p}" for p in problems)]))
    host = env.get("HOST") or ("0.0.0.0" if platforms else "127.0.0.1")
    return Settings(
        policy=policy,
        database_url=database_url,
        host=host,
        port=port,
        environment=environment,
        config_path=path,
        platforms_configured=platforms,
    )
