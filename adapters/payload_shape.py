"""Shape checks for platform JSON before any SDK or translator reads it.

A correctly signed payload can still be malformed (a bug on the platform's side, or a
replayed and edited body in development): whatever it is, the answer is a 4xx, never a
500 or a stack trace. These checks are cheap and iterative (no recursion to exhaust).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Real Slack and Teams payloads nest about ten levels (a modal's state values).
MAX_DEPTH = 32


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `limit`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def objects_or_absent(payload: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Each key is missing, null, or an object."""
    return all(payload.get(key) is None or isinstance(payload[key], dict) for key in keys)


def lists_of_objects_or_absent(payload: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Each key is missing, null, or a list of objects."""
    for key in keys:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            return False
    return True
