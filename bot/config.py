"""Configuration: the program's policy from app.yaml, secrets and deployment from the
environment. Validated at start; an error names the bad key and the expected form.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from adapters.loopback import is_loopback_host
from adapters.slack.settings import SlackCredentials
from adapters.teams.settings import LOGIN_URL, OPENID_METADATA_URL, TeamsSettings
from conversations.config_fields import (
    Check,
    Duration,
    OneOf,
    Section,
    Text,
    TimeZone,
    Whole,
    problem,
    suggestion,
    written,
)
from conversations.digest.policy import DigestSection, ObjectiveSection
from conversations.followthrough.policy import (
    LapseSection,
    MeetingsSection,
    TermSection,
    follow_through,
)
from conversations.guides import GuideError, load_guides
from conversations.matching.settings import MatchingSection
from conversations.policy import Policy
from storage.database import DEFAULT_URL, async_url

CADENCES = ("weekly", "biweekly", "monthly")
PRIVACY = ("named", "aggregate")
DEFAULT_PORT = 3978
TRUE = ("1", "true", "yes", "on")
# A Microsoft Entra tenant id (a GUID); anything with spaces or punctuation is a typo.
_TENANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.-]*$")
# These sections name an unknown key as program.`nmae`; the others as `meetings.agenda_led`.
_PREFIXED_OUTSIDE = ("program", "digest", "objective_target")


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


def admin_problem(entry: Any) -> str | None:
    """Why an admin entry (from app.yaml or MENTORBOT_ADMINS) is not one, if it is not."""
    if isinstance(entry, str) and (
        "@" in entry or entry.split(":", 1)[0] in ("slack", "teams", "local")
    ):
        return None
    return f"admin {entry!r} must be slack:ID, teams:ID, local:NAME or an e-mail."


class Admin(Check):
    def check(self, value: Any) -> str:
        wrong = admin_problem(value)
        if wrong:
            raise problem(wrong, whole=True)
        return str(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^(slack|teams|local)(:|$)|@"}


class Tenant(Check):
    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not _TENANT.match(value.strip()):
            raise problem(
                f"{value!r} must be a tenant id such as 72f988bf-86f1-41af-91ab-2d7cd011db47.",
                whole=True,
            )
        return value.strip().lower()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": _TENANT.pattern}


class TeamsSection(Section):
    """Which Microsoft 365 tenants may talk to the bot in Teams, besides
    MICROSOFT_APP_TENANT_ID (MENTORBOT_TEAMS_TENANTS adds to them). Activities from any
    other tenant are refused."""

    tenants: tuple[Annotated[str, Tenant()], ...] = Field(
        (), description="Tenant ids (GUIDs) whose people may use the bot."
    )

    @field_validator("tenants", mode="before")
    @classmethod
    def _a_list(cls, raw: Any) -> Any:
        if raw is None:
            return ()
        if not isinstance(raw, list | tuple):
            raise problem("must be a list of tenant ids, e.g. tenants: [<tenant id>].")
        return raw


def env_tenants(env: Mapping[str, str], problems: list[str]) -> tuple[str, ...]:
    """MENTORBOT_TEAMS_TENANTS, comma-separated."""
    found: list[str] = []
    for raw in env.get("MENTORBOT_TEAMS_TENANTS", "").split(","):
        if not raw.strip():
            continue
        if not _TENANT.match(raw.strip()):
            problems.append(
                f"MENTORBOT_TEAMS_TENANTS: {raw.strip()!r} must be a tenant id such as "
                "72f988bf-86f1-41af-91ab-2d7cd011db47."
            )
        else:
            found.append(raw.strip().lower())
    return tuple(found)


class ProgramSection(Section):
    """Who the program is, and what it is for."""

    name: Annotated[str, Text("text, e.g. name: Acme mentoring")] = Field(
        "Mentoring program", description="The program's name, shown to participants."
    )
    slug: Annotated[
        str,
        Text(
            "letters, digits and dashes, e.g. slug: default", lambda s: s.replace("-", "").isalnum()
        ),
    ] = Field("default", description="Letters, digits and dashes; names the program's data.")
    objective: Annotated[str, Text(test=lambda s: True)] | None = Field(
        None, description="What the program is for, shown to participants."
    )


class AppConfig(Section):
    """The program's policy (app.yaml). Secrets never go here: they come from the
    environment. Durations are written 45m, 24h, 3d or 2w."""

    model_config = ConfigDict(title="mentorbot app.yaml")

    program: ProgramSection = written({}, "Who the program is.")
    timezone: Annotated[str, TimeZone()] = Field(
        "UTC", description="The program's IANA time zone, for people whose profile gives none."
    )
    cadence: Annotated[str, OneOf(CADENCES)] = Field(
        "biweekly", description="How often pairs are expected to meet."
    )
    mentor_capacity: Annotated[int, Whole(1, 10)] = Field(
        2, description="How many mentees a mentor takes at once unless their profile says."
    )
    privacy: Annotated[str, OneOf(PRIVACY)] = Field(
        "named", description="What the HR digest shows of lapsed pairs: named or aggregate."
    )
    admins: tuple[Annotated[str, Admin()], ...] = Field(
        (),
        description="Program admins: slack:U123, teams:<aadObjectId>, local:NAME or an e-mail "
        "(MENTORBOT_ADMINS adds to them).",
    )
    meetings: MeetingsSection = written({}, MeetingsSection.__doc__)
    term: TermSection = written({}, TermSection.__doc__)
    lapse: LapseSection = written({}, LapseSection.__doc__)
    digest: DigestSection = written({}, DigestSection.__doc__)
    objective_target: ObjectiveSection | None = Field(None, description=ObjectiveSection.__doc__)
    matching: MatchingSection = written({}, MatchingSection.__doc__)
    outbox_retention: Annotated[timedelta, Duration("1d", "52w")] = written(
        "30d",
        description="How long a sent or undeliverable message keeps its text in the database; "
        "then only the fact that it was sent remains (1d to 52w).",
    )
    offered_file_retention: Annotated[timedelta, Duration("1h", "30d")] = written(
        "7d",
        description="How long a file offered in Teams (an export, a calendar invite) waits "
        "for the person to save it; then it is deleted (1h to 30d).",
    )
    teams: TeamsSection = written({}, TeamsSection.__doc__)
    guides: Annotated[str, Text("a file path, e.g. guides: guides.md")] | None = Field(
        None,
        description="The program's own role guides (markdown, the form of the built-in "
        "conversations/guides/guides.md), relative to app.yaml; without it, the built-in ones.",
    )

    @field_validator("admins", mode="before")
    @classmethod
    def _a_list(cls, raw: Any) -> Any:
        if raw is None:
            return ()
        if not isinstance(raw, list | tuple):
            raise problem(
                "must be a list like [slack:U123, teams:<aadObjectId>, local:hana, hr@example.com]."
            )
        return raw

    def policy(self, more_admins: Sequence[str]) -> Policy:
        return Policy(
            program_slug=self.program.slug,
            program_name=self.program.name,
            objective=self.program.objective,
            default_timezone=self.timezone,
            cadence=self.cadence,
            admins=frozenset([*self.admins, *more_admins]),
            mentor_capacity_default=self.mentor_capacity,
            privacy=self.privacy,
            follow=follow_through(self.meetings, self.term, self.lapse),
            digest=self.digest.build(),
            objective_target=self.objective_target.build() if self.objective_target else None,
            matching=self.matching.build(),
            outbox_retention=self.outbox_retention,
            offered_file_retention=self.offered_file_retention,
        )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of app.yaml, for editors (`mentorbot config schema`); descriptions
    are the models' docstrings on one line."""

    def tidy(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: " ".join(value.split()) if key == "description" else tidy(value)
                for key, value in node.items()
            }
        return [tidy(item) for item in node] if isinstance(node, list) else node

    schema = tidy(AppConfig.model_json_schema())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _section_in(kind: Any) -> type[Section] | None:
    if isinstance(kind, type) and issubclass(kind, Section):
        return kind
    for arg in get_args(kind):
        found = _section_in(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The section model at a key path (list positions skipped), if there is one."""
    model: type[BaseModel] | None = AppConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        found = model.model_fields.get(part)
        model = _section_in(found.annotation) if found is not None else None
    return model


def _keys_at(loc: Sequence[str | int]) -> tuple[str, ...]:
    model = _model_at(loc)
    return tuple(model.model_fields) if model is not None else ()


def _where(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f" step {part + 1}" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _problem(error: ErrorDetails) -> str:
    """One validation error as one line: the key path, then what is wrong and the form
    expected; an unknown key with the known one it resembles."""
    loc, kind, msg = tuple(error["loc"]), error["type"], error["msg"]
    context = error.get("ctx") or {}
    if kind == "setting_line":
        return msg
    # A problem inside a list entry reads "`lapse.ladder step 2`: after must be …".
    cut = max((i + 1 for i, part in enumerate(loc) if isinstance(part, int)), default=0)
    head, tail = loc[:cut], loc[cut:]
    if kind == "extra_forbidden":
        *parent, key = loc
        known = _keys_at(parent)
        text = f"is not a setting.{suggestion(str(key), known)} Known: {', '.join(known)}."
        if head:
            return f"`{_where(head)}`: `{key}` {text}"
        if len(parent) == 1 and parent[0] in _PREFIXED_OUTSIDE:
            return f"{parent[0]}.`{key}` {text}"
        return f"`{_where(loc)}` {text}"
    if kind == "setting":
        if "step" in context:
            return f"`{_where(loc)} step {context['step']}`: {msg}"
        message = msg
    elif kind == "missing":
        model = _model_at(loc[:-1])
        about = model.model_fields[str(loc[-1])].description if model is not None else None
        message = f"is required ({about.rstrip('.')})." if about else "is required."
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        *most, last = _keys_at(loc) or ("settings",)
        message = f"must be a mapping with {', '.join(most)}{' and ' if most else ''}{last}."
    else:
        message = f"{msg[:1].lower()}{msg[1:]} (got {error.get('input')!r})."
    if head and tail:
        return f"`{_where(head)}`: {' '.join(map(str, tail))} {message}"
    return f"`{_where(loc)}` {message}"


def _policy(
    data: Mapping[str, Any], env: Mapping[str, str], problems: list[str]
) -> tuple[Policy, tuple[str, ...]]:
    """The program's policy, and the Teams tenants app.yaml allows."""
    extra = [a.strip() for a in env.get("MENTORBOT_ADMINS", "").split(",") if a.strip()]
    try:
        app = AppConfig.model_validate(data)
    except ValidationError as err:
        problems.extend(_problem(e) for e in err.errors(include_url=False))
        app = None
    problems.extend(p for p in map(admin_problem, extra) if p)
    if app is None:
        return Policy(), ()
    return app.policy(extra), app.teams.tenants


def _with_guides(
    policy: Policy, data: Mapping[str, Any], path: Path | None, problems: list[str]
) -> Policy:
    """The policy with the program's own guides when app.yaml names a file (relative to
    app.yaml); a file that is missing or malformed is a configuration problem."""
    named = data.get("guides")
    if not isinstance(named, str) or not named.strip():
        return policy
    where = Path(named).expanduser()
    if not where.is_absolute() and path is not None:
        where = path.parent / where
    try:
        return replace(policy, guides=load_guides(where))
    except GuideError as err:
        problems.append(f"`guides`: {err}")
        return policy


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
    policy, tenants = _policy(data, env, problems)
    policy = _with_guides(policy, data, path, problems)
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
    tenants = tuple(dict.fromkeys((*tenants, *env_tenants(env, problems))))
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
