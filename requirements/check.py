"""Fail when pyproject.toml asks for something the lock did not install.

`make` installs the hash-pinned lock and then the project itself with `--no-deps`, so a
dependency added to (or tightened in) pyproject.toml without `make lock` would otherwise go
unnoticed until an import fails. This compares the project's declared requirements (the
runtime ones and the `dev` extra) with what is installed, and names what is missing.
"""

from __future__ import annotations

import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[assignment]

PROJECT = "mentorbot"
EXTRAS = ("dev",)


def problems() -> list[str]:
    found: list[str] = []
    for line in metadata.requires(PROJECT) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in ("", *EXTRAS)):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            found.append(f"{requirement} is not installed")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{requirement} is wanted, {requirement.name} {version} is installed")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"requirements: {problem}", file=sys.stderr)
    if found:
        print(
            "requirements/*.txt are out of date with pyproject.toml: run `make lock`.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
