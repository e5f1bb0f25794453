"""The `teams:` section of app.yaml: which Microsoft 365 tenants may talk to the bot."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TEAMS_KEYS = ("tenants",)
# A Microsoft Entra tenant id (a GUID); anything with spaces or punctuation is a typo.
_TENANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.-]*$")


def parse_tenants(raw: Any, env: Mapping[str, str], problems: list[str]) -> tuple[str, ...]:
    """`teams.tenants` plus MENTORBOT_TEAMS_TENANTS (comma-separated), without repeats."""
    found: list[str] = []
    if raw is not None:
        if not isinstance(raw, dict):
            problems.append("`teams` must be a mapping, e.g. teams: {tenants: [<tenant id>]}.")
            raw = {}
        for key in raw:
            if key not in TEAMS_KEYS:
                problems.append(f"teams.`{key}` is not a setting. Known: {', '.join(TEAMS_KEYS)}.")
        listed = raw.get("tenants") or []
        if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
            problems.append("`teams.tenants` must be a list of tenant ids (GUIDs).")
            listed = []
        found.extend(listed)
    found.extend(t for t in env.get("MENTORBOT_TEAMS_TENANTS", "").split(","))
    tenants: list[str] = []
    for tenant in (t.strip() for t in found):
        if not tenant:
            continue
        if not _TENANT.match(tenant):
            problems.append(
                f"Teams tenant {tenant!r} must be a tenant id such as "
                "72f988bf-86f1-41af-91ab-2d7cd011db47."
            )
        elif tenant.lower() not in tenants:
            tenants.append(tenant.lower())
    return tuple(tenants)
