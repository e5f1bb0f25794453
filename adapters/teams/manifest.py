"""The Teams app package: manifest.json and two icons in a zip, ready to upload.

The bot is offered in personal chats and in teams; its command menu lists the
engine's own commands (from the router, so it never drifts from `help`).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any
from urllib.parse import urlparse

from adapters.teams.icons import ACCENT, color_icon, outline_icon
from conversations.engine import build_router

MANIFEST_VERSION = "1.17"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
# Teams shows at most 10 commands per list; titles up to 32 characters, descriptions 128.
MAX_COMMANDS = 10
SCOPES = ["personal", "team"]
DEFAULT_URL = "https://example.com"


class ManifestError(ValueError):
    """The options cannot make a valid package; the message says which and why."""


# The commands people use most, in menu order (Teams shows 10 at most); the descriptions
# come from the router, so the menu never drifts from `help`.
MENU = (
    "home",
    "status",
    "schedule",
    "agenda",
    "met",
    "commit",
    "profile",
    "join",
    "privacy",
    "help",
)


def bot_commands() -> list[dict[str, str]]:
    """The most used commands as Teams command-menu entries."""
    summaries = {spec.name: spec.summary for spec in build_router().specs}
    summaries["help"] = "Every command, or one explained: help COMMAND"
    return [
        {"title": name[:32], "description": summaries[name][:128]} for name in MENU[:MAX_COMMANDS]
    ]


def build_manifest(
    app_id: str, *, url: str = DEFAULT_URL, name: str = "Mentoring", version: str = "1.0.0"
) -> dict[str, Any]:
    try:
        app_guid = str(uuid.UUID(app_id))
    except ValueError:
        raise ManifestError(
            f"--app-id must be the bot's Microsoft App ID, a GUID (got {app_id!r})."
        ) from None
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ManifestError(f"--url must be an https:// address (got {url!r}).")
    base = url.rstrip("/")
    commands = bot_commands()
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_guid,
        "developer": {
            "name": name[:32],
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",  # served by the bot (bot/public_pages.py)
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": name[:30], "full": f"{name} — mentoring follow-through"[:100]},
        "description": {
            "short": "Mentoring that happens: matching, meetings, agendas, check-ins."[:80],
            "full": (
                "Opt in as mentee or mentor, get matched, schedule meetings and get an agenda "
                "prompt before each one. The bot checks in when a pair stops meeting, and "
                "sends program managers a digest of whether meetings really take place. "
                "Type help to see every command."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_guid,
                "scopes": SCOPES,
                "supportsFiles": True,  # the .ics invite: file consent cards
                "isNotificationOnly": False,
                "commandLists": [{"scopes": SCOPES, "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [parsed.hostname],
    }


def build_package(
    app_id: str, *, url: str = DEFAULT_URL, name: str = "Mentoring", version: str = "1.0.0"
) -> bytes:
    """The zip Teams accepts: manifest.json, color.png and outline.png at its root."""
    manifest = build_manifest(app_id, url=url, name=name, version=version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon(192))
        package.writestr("outline.png", outline_icon(32))
    return buffer.getvalue()
