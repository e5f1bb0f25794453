"""LOG_FORMAT=json: one JSON object a line with time, level, logger, message and the
context given with `extra=`; plain text stays the default."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mentorbot.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_json_line_has_the_fields_and_the_context(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning(
        "outbox row %s attempt %d failed", 42, 3, extra={"platform": "slack", "outbox_id": 42}
    )
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("handling failed", extra={"command": "status"})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "platform", "outbox_id"}
    assert first["level"] == "WARNING" and first["logger"] == "mentorbot.test.json"
    assert first["message"] == "outbox row 42 attempt 3 failed"
    assert first["time"].endswith("+00:00") and first["outbox_id"] == 42
    assert second["command"] == "status" and "ValueError: boom" in second["exception"]
    assert "\n" not in stream.getvalue().splitlines()[1]  # the traceback stays on its line


SCRIPT = (
    "import logging; from bot.logs import configure; configure(); "
    "logging.getLogger('bot.delivery').warning('outbox row %s failed', 7, "
    "extra={'platform': 'teams', 'outbox_id': 7})"
)


def stderr_of(log_format: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "LOG_LEVEL")}
    if log_format is not None:
        env["LOG_FORMAT"] = log_format
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_the_bot_writes_json_lines_only_when_asked() -> None:
    [line] = stderr_of("json").splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "bot.delivery" and entry["message"] == "outbox row 7 failed"
    assert (entry["platform"], entry["outbox_id"]) == ("teams", 7)
    [plain] = stderr_of(None).splitlines()
    assert plain.endswith("WARNING bot.delivery: outbox row 7 failed")
    unknown = stderr_of("yaml").splitlines()
    assert "LOG_FORMAT=yaml is not one of text, json; writing text" in unknown[0]
    assert not unknown[1].startswith("{")
