"""What the app.yaml section models share: their base class and the checked field types.

Each check is strict (a bool is not a number, "5" is not a whole number) and fails with
the expected form in plain words, without the key: bot/config.py prefixes the key path
and turns an unknown key into "did you mean". Each check also states its JSON Schema, so
`mentorbot config schema` tells an editor the same forms (durations as `45m`, `24h`, `3d`,
`2w`). Models build their validators lazily (`defer_build`): only the one app.yaml model
is ever compiled, on the first load, never at import.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic import model_validator as _model_validator
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

if TYPE_CHECKING:  # the schema module is only needed when a schema is printed
    from pydantic.json_schema import JsonSchemaValue

DURATION_PATTERN = r"^\s*(\d{1,4})\s*(m|min|h|d|w)\s*$"
CLOCK_PATTERN = r"^([01]?\d|2[0-3]):([0-5]\d)$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(DURATION_PATTERN)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, {"const": 0}],
    "examples": ["45m", "24h", "3d", "2w"],
}


class Section(BaseModel):
    """One mapping of app.yaml: unknown keys are errors, an empty section (`meetings:` with
    nothing under it) means its defaults, and defaults are written as in app.yaml (`45m`)
    and checked like a value from the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, validate_default=True)

    @_model_validator(mode="before")
    @classmethod
    def _empty_sections_mean_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if value is not None or not _is_section(cls.model_fields.get(str(key)))
        }


def _is_section(field: Any) -> bool:
    kind = getattr(field, "annotation", None)
    return isinstance(kind, type) and issubclass(kind, Section)


def written(default: object, description: str | None) -> Any:
    """A field whose default is written as in app.yaml (`"45m"`, `{}` for a section) and
    checked like a value from the file, so the schema shows it in that form too."""
    return Field(default, description=description)


def problem(message: str, *, whole: bool = False, **context: Any) -> PydanticCustomError:
    """A failed check: `message` follows the key path (`… must be …`), or is the `whole`
    line. A `step` in the context names the list entry it is about."""
    return PydanticCustomError("setting_line" if whole else "setting", message, context)


def suggestion(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def parse_duration(value: Any) -> timedelta | None:
    """`45m`, `24h`, `3d`, `2w` (or 0) → timedelta; None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Check:
    """An annotation that checks (and may convert) the raw value before the declared type
    sees it, and says its JSON Schema. Subclasses give `check` and `schema`."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.schema()


class Duration(Check):
    """`45m`, `24h`, `3d`, `2w`, optionally within [low, high] (written the same way)."""

    def __init__(self, low: str | None = None, high: str | None = None) -> None:
        self.low, self.high = low, high
        self.bounds = (parse_duration(low), parse_duration(high))

    def check(self, value: Any) -> timedelta:
        found = value if isinstance(value, timedelta) else parse_duration(value)
        if found is None:
            raise problem(f"must be a duration like 45m, 24h, 3d or 2w (got {value!r}).")
        shortest, longest = self.bounds
        if shortest is not None and longest is not None and not shortest <= found <= longest:
            raise problem(f"must be between {self.low} and {self.high}.")
        return found

    def schema(self) -> dict[str, Any]:
        return dict(DURATION_SCHEMA)


class Whole(Check):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def check(self, value: Any) -> int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not self.low <= value <= self.high
        ):
            raise problem(f"must be a whole number from {self.low} to {self.high} (got {value!r}).")
        return int(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


class Number(Check):
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def check(self, value: Any) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not self.low <= value <= self.high:
            low, high = f"{self.low:g}", f"{self.high:g}"
            raise problem(f"must be a number from {low} to {high} (got {value!r}).")
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": self.low, "maximum": self.high}


class OneOf(Check):
    """One of `choices`. With a `noun`, a miss reads "'x' is not a {noun}. Did you mean …?";
    `aliases` maps what YAML may turn a choice into (`off` → False) back to it."""

    def __init__(
        self, choices: tuple[str, ...], *, noun: str = "", aliases: dict[Any, str] | None = None
    ) -> None:
        self.choices, self.noun, self.aliases = choices, noun, aliases or {}

    def check(self, value: Any) -> str:
        for raw, choice in self.aliases.items():
            if value is raw:
                value = choice
        if isinstance(value, str) and value in self.choices:
            return value
        known = ", ".join(self.choices)
        if self.noun:
            hint = suggestion(str(value), self.choices)
            raise problem(f"{value!r} is not a {self.noun}.{hint} Known: {known}.")
        raise problem(f"must be one of {known} (got {value!r}).")

    def schema(self) -> dict[str, Any]:
        return {"enum": [*self.choices, *self.aliases]}


class Weekday(Check):
    """A weekday's name in any case, kept in lower case."""

    def __init__(self, *, suggest: bool = False) -> None:
        self.suggest = suggest

    def check(self, value: Any) -> str:
        day = str(value).strip().lower()
        if day in WEEKDAYS:
            return day
        hint = suggestion(day, WEEKDAYS) if self.suggest else ""
        raise problem(f"must be a weekday such as monday (got {day!r}).{hint}")

    def schema(self) -> dict[str, Any]:
        return {"enum": list(WEEKDAYS)}


class Clock(Check):
    """HH:MM on a 24-hour clock; `form` is how the message shows the expected form."""

    def __init__(self, form: str = 'HH:MM, e.g. "09:00"') -> None:
        self.form = form

    def check(self, value: Any) -> str:
        at = str(value).strip()
        if not re.fullmatch(CLOCK_PATTERN, at):
            raise problem(f"must be {self.form} (got {at!r}).")
        return at

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": CLOCK_PATTERN, "examples": ["09:00"]}


class TimeZone(Check):
    def check(self, value: Any) -> str:
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise problem(f"must be an IANA name such as Europe/Berlin (got {value!r}).") from None
        return str(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "examples": ["UTC", "Europe/Berlin"]}


class Text(Check):
    """Non-empty text, stripped; `form` is the example the message gives."""

    def __init__(self, form: str = "", test: Callable[[str], bool] = bool) -> None:
        self.form, self.test = form, test

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not self.test(value.strip()):
            raise problem(f"must be {self.form or 'text'}.")
        return value.strip()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}
