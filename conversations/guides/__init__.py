"""The role guides: what a mentee and a mentor should know, shown on `join` and by
`guide`. The texts live in guides.md next to this module (shipped as package data); a
program can point app.yaml's `guides:` key at its own copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

ROLES = ("mentee", "mentor")
MAX_SHORT_LINES = 8
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


class GuideError(ValueError):
    """A guides file that cannot be read or does not have the expected form."""


@dataclass(frozen=True)
class Guide:
    short: str  # the few lines shown in the chat
    more: str  # the full guide behind the "More" button


@dataclass(frozen=True)
class Guides:
    mentee: Guide
    mentor: Guide
    source: str = "built-in"

    def of(self, role: str) -> Guide:
        return self.mentor if role == "mentor" else self.mentee


def parse_guides(text: str, source: str) -> Guides:
    """Guides from the markdown form described at the top of guides.md; raises
    GuideError naming `source` and what is wrong."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _COMMENT.sub("", text).splitlines():
        heading = re.fullmatch(r"#\s+(\w+)\s*", line)
        if heading:
            role = heading.group(1).lower()
            if role not in ROLES:
                raise GuideError(f"{source}: “# {heading.group(1)}” is not # mentee or # mentor.")
            current = sections.setdefault(role, [])
        elif current is not None:
            current.append(line)
    missing = [r for r in ROLES if r not in sections]
    if missing:
        raise GuideError(f"{source}: no “# {missing[0]}” section (it needs # mentee and # mentor).")
    guides = {role: _guide(role, lines, source) for role, lines in sections.items()}
    return Guides(guides["mentee"], guides["mentor"], source)


def _guide(role: str, lines: list[str], source: str) -> Guide:
    split = next(
        (i for i, line in enumerate(lines) if re.fullmatch(r"##\s+more\s*", line, re.I)), None
    )
    short_lines = [line for line in (lines if split is None else lines[:split]) if line.strip()]
    more = "\n".join(lines[split + 1 :]).strip() if split is not None else ""
    if not short_lines:
        raise GuideError(f"{source}: the {role} guide has no short text before “## More”.")
    if len(short_lines) > MAX_SHORT_LINES:
        raise GuideError(
            f"{source}: the {role} guide's short text has {len(short_lines)} lines; "
            f"{MAX_SHORT_LINES} at most fit in a chat message (put the rest after “## More”)."
        )
    return Guide("\n".join(short_lines), more)


def load_guides(path: Path) -> Guides:
    """A program's own guides file; GuideError when it is missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuideError(f"guides file {path} does not exist.") from None
    except OSError as err:
        raise GuideError(f"guides file {path} cannot be read: {err.strerror}.") from None
    return parse_guides(text, str(path))


@cache
def default_guides() -> Guides:
    """The guides shipped with mentorbot."""
    text = resources.files(__package__).joinpath("guides.md").read_text(encoding="utf-8")
    return parse_guides(text, "built-in guides")
