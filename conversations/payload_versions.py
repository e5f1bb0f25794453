"""Versions of a queued message's stored JSON, and the upgrades between them.

A proactive message waits in the outbox as JSON (`messages.to_dict`), possibly
across a deploy that changes the shape. Each payload says which shape it has
(`version`; one without is version 1, as written before versions existed), and
`upgrade` brings an older one to the current shape one step at a time, so a row
queued by the old code still delivers after a field is renamed.

To change the shape: bump `CURRENT_VERSION`, add the step from the previous
version to `UPGRADES` (a pure function on the JSON), and keep the tests that
deliver a payload of every earlier version passing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Payload = dict[str, Any]

CURRENT_VERSION = 2


def _v1_to_v2(payload: Payload) -> Payload:
    """Version 1 (no `version` key) has the same text and blocks: 2 only names itself."""
    return {**payload, "version": 2}


UPGRADES: Mapping[int, Callable[[Payload], Payload]] = {1: _v1_to_v2}


def version_of(payload: Payload) -> int:
    """The payload's shape version: 1 when it names none (or names nonsense)."""
    version = payload.get("version", 1)
    valid = isinstance(version, int) and not isinstance(version, bool) and version >= 1
    return version if valid else 1


def upgrade(
    payload: Payload,
    *,
    upgrades: Mapping[int, Callable[[Payload], Payload]] = UPGRADES,
    current: int = CURRENT_VERSION,
) -> Payload:
    """The payload in the `current` shape. One from a later release (a rollback) is read
    as it is: readers ignore what they do not know. Pure; the stored row is untouched."""
    version = version_of(payload)
    while version < current:
        payload = upgrades[version](payload)
        version += 1
    return payload
