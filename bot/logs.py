"""Logging set-up: plain text for a terminal (the default), one JSON object a line with
`LOG_FORMAT=json` for a log collector.

A JSON line has `time` (UTC, ISO 8601, milliseconds), `level`, `logger` and `message`,
then the context a call passed with `extra=` (`platform`, `command`, `outbox_id`, …)
and `exception` for a traceback. Nothing else of the record is copied: our log calls
never carry message texts, SQL parameters or request bodies, and the formatter adds
none.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(env: Mapping[str, str] | None = None) -> None:
    """Root logging from LOG_LEVEL (default INFO) and LOG_FORMAT (text or json) to stderr.

    Like `logging.basicConfig`, it leaves a root logger that someone else already set up
    (a test runner's capture) alone; called again, it replaces its own handler. An unknown
    LOG_FORMAT falls back to text and says so, rather than stopping the bot."""
    env = os.environ if env is None else env
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_mentorbot", False)]
    if len(ours) < len(root.handlers):
        return
    level = env.get("LOG_LEVEL", "INFO").upper()
    wanted = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if wanted == "json" else logging.Formatter(TEXT_FORMAT))
    setattr(handler, "_mentorbot", True)  # noqa: B010
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))
    if wanted not in FORMATS:
        logging.getLogger(__name__).warning(
            "LOG_FORMAT=%s is not one of %s; writing text", wanted, ", ".join(FORMATS)
        )
