"""`mentorbot config schema`: the JSON Schema of app.yaml agrees with the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.cli import main
from conversations.config_fields import DURATION_PATTERN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    capture = pytest.MonkeyPatch()
    printed: list[str] = []
    capture.setattr("builtins.print", lambda text, **_: printed.append(text))
    try:
        assert main(["config", "schema"]) == 0
    finally:
        capture.undo()
    found: dict[str, Any] = json.loads(printed[0])
    jsonschema.Draft202012Validator.check_schema(found)
    return found


def errors(schema: dict[str, Any], data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(data)]


def test_the_shipped_app_yaml_validates(schema: dict[str, Any]) -> None:
    assert errors(schema, yaml.safe_load((ROOT / "app.yaml").read_text())) == []
    assert errors(schema, {}) == []


def test_a_typo_is_rejected_by_the_schema_too(schema: dict[str, Any]) -> None:
    assert any("'cadense'" in e for e in errors(schema, {"cadense": "weekly"}))
    assert any("'agenda_led'" in e for e in errors(schema, {"meetings": {"agenda_led": "2h"}}))
    step = {"lapse": {"ladder": [{"after": "0d", "step": "nudge_menter"}]}}
    assert errors(schema, step)


def test_durations_have_their_pattern_and_keys_their_descriptions(
    schema: dict[str, Any],
) -> None:
    meetings = schema["$defs"]["MeetingsSection"]["properties"]
    assert {"type": "string", "pattern": DURATION_PATTERN} in meetings["agenda_lead"]["anyOf"]
    assert meetings["length"]["default"] == "45m"
    assert errors(schema, {"meetings": {"agenda_lead": "tomorrow"}})
    assert errors(schema, {"meetings": {"agenda_lead": "2w"}}) == []
    assert "cadence" in schema["properties"]
    keys = [*schema["properties"].values()]
    keys += [key for section in schema["$defs"].values() for key in section["properties"].values()]
    for key in keys:  # a section's description may sit on its definition only
        ref = key.get("$ref", "").rsplit("/", 1)[-1]
        assert key.get("description") or schema["$defs"][ref].get("description"), key


def test_the_schema_needs_no_valid_configuration(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("cadense: weekly\n")
    assert main(["--config", str(broken), "config", "schema"]) == 0
