"""`mdfollow.toml` → a typed `Config`, over the built-in defaults of SPEC §3."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Cadence, CalendarConfig, Config, Gap, Problem

CONFIG_NAME = "mdfollow.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_TOML = """\
# mdfollow configuration. Every value below is the built-in default:
# delete what you do not change, edit what you do.

# Days a follow-up may fall on; a due date on another day moves to the next one.
workdays = ["mon", "tue", "wed", "thu", "fri"]
# How soon to answer a prospect who reached out (an inbound touch).
reply = "1d"
# Channels you use; `mdfollow check` warns on others. [] = any word.
channels = []
# Globs (relative to this folder) of Markdown files that are not prospects.
exclude = []

# A cadence: gaps between your outbound touches. Nd, Nw or Nm (calendar
# months), optionally followed by the suggested channel. After the last gap,
# `then` repeats ("until they buy or die"); then = "stop" ends the cadence.
[cadences.default]      # 12 touches in about 5 months, then every 2 months
gaps = ["2d email", "4d call", "1w email", "1w call", "10d linkedin",
        "2w call", "2w email", "1m call", "1m email", "1m call", "1m email"]
then = "2m"

[cadences.customer]     # past customers (status: won): stay in touch
gaps = []
then = "3m"

[calendar]
name = "Follow-ups"
timezone = "local"      # or an IANA name such as "Europe/London"
time = ""               # "" = all-day events; "09:00" = timed events
duration = "15m"
alarm = "09:00"         # reminder on the due day; "" = none
overdue = "today"       # overdue items shown on today, or "keep"
digest = false          # one "Follow-ups (N)" event a day instead of one per prospect

[git]
autocommit = false      # commit each file mdfollow changes
"""

MAX_GAP = 9999
"""The largest count in a gap: 9999 months is already centuries; more is a typo."""
_GAP = re.compile(r"^\s*(\d+)\s*([dwm])(?:\s+([\w-]+))?\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?$")
_KNOWN = {
    "": {"workdays", "reply", "channels", "exclude", "cadences", "calendar", "git"},
    "calendar": {"name", "timezone", "time", "duration", "alarm", "overdue", "digest"},
    "git": {"autocommit"},
    "cadence": {"gaps", "then"},
}


class ConfigError(MdfollowError):
    """A value in `mdfollow.toml` that mdfollow cannot use."""


def parse_gap(text: str) -> Gap | None:
    """`"2w call"` → Gap(2, "w", "call"); None when the text is not a gap."""
    match = _GAP.match(text)
    if not match or not 0 < int(match[1]) <= MAX_GAP:
        return None
    unit: Any = match[2].lower()
    return Gap(int(match[1]), unit, match[3].lower() if match[3] else None)


def load_config(root: Path) -> tuple[Config, list[Problem]]:
    """Read `root/mdfollow.toml` if it exists; warnings for unknown keys."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return DEFAULT_CONFIG, []
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    return parse_config(path, text)


def parse_config(path: Path, text: str) -> tuple[Config, list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line = str(max(1, len(text.splitlines())))  # tomllib gives no line "at end of document"
        where = re.search(r" \(at line (\d+), column (\d+)\)$", message)
        if where:
            message, line = f"{message[: where.start()]} (column {where[2]})", where[1]
        raise ConfigError(f"{path}:{line}: {message}") from None
    return _Reader(path, text).config(data, DEFAULT_CONFIG.cadences)


class _Reader:
    """Turns the TOML tables into model objects, naming the key in every error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def line_of(self, key: str) -> int:
        leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
        pattern = re.compile(rf"^\s*(?:\[\s*)?[\w.\"-]*\b{re.escape(leaf)}\b\"?\s*[=\].]")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return number
        return 1

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}:{self.line_of(key)}: {key}: {message}")

    def warn_unknown(self, table: Mapping[str, Any], kind: str, prefix: str) -> None:
        for key in table:
            if key not in _KNOWN[kind]:
                self.problems.append(
                    Problem(
                        self.path,
                        self.line_of(prefix + key),
                        f"unknown key {prefix + key!r} ignored",
                        "warning",
                    )
                )

    def typed(self, table: Mapping[str, Any], key: str, kind: type, default: Any, name: str) -> Any:
        value = table.get(key, default)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(name, f"expected {kind.__name__}, got {value!r}")
        return value

    def gap(self, text: Any, key: str) -> Gap:
        gap = parse_gap(text) if isinstance(text, str) else None
        if gap is None:
            raise self.fail(key, f'{text!r} is not a gap (use "Nd", "Nw" or "Nm", then a channel)')
        return gap

    def clock(self, text: str, key: str) -> dt.time | None:
        if text == "":
            return None
        match = _CLOCK.match(text)
        if not match:
            raise self.fail(key, f'{text!r} is not a time (use "HH:MM" or "")')
        return dt.time(int(match[1]), int(match[2]))

    def cadence(self, name: str, table: Any) -> Cadence:
        key = f"cadences.{name}"
        if not isinstance(table, dict):
            raise self.fail(key, "expected a table with gaps and then")
        self.warn_unknown(table, "cadence", key + ".")
        raw_gaps = self.typed(table, "gaps", list, [], key + ".gaps")
        gaps = tuple(self.gap(g, f"{key}.gaps[{i}]") for i, g in enumerate(raw_gaps))
        then_text = table.get("then")
        if then_text == "stop":
            then = None
        elif then_text is None:
            if not gaps:
                raise self.fail(key, "has no gaps and no then")
            then = gaps[-1]
        else:
            then = self.gap(then_text, key + ".then")
        return Cadence(name, gaps, then)

    def calendar(self, table: Mapping[str, Any]) -> CalendarConfig:
        self.warn_unknown(table, "calendar", "calendar.")
        default = CalendarConfig()
        timezone = self.typed(table, "timezone", str, default.timezone, "calendar.timezone")
        if timezone != "local":
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail("calendar.timezone", f"unknown time zone {timezone!r}") from None
        duration_text = self.typed(table, "duration", str, "15m", "calendar.duration")
        match = _DURATION.match(duration_text.strip())
        if not duration_text.strip() or not match or not (match[1] or match[2]):
            raise self.fail("calendar.duration", f"{duration_text!r} is not a duration (e.g. 15m, 1h)")
        overdue = self.typed(table, "overdue", str, default.overdue, "calendar.overdue")
        if overdue not in ("today", "keep"):
            raise self.fail("calendar.overdue", f'expected "today" or "keep", got {overdue!r}')
        return CalendarConfig(
            name=self.typed(table, "name", str, default.name, "calendar.name"),
            timezone=timezone,
            time=self.clock(self.typed(table, "time", str, "", "calendar.time"), "calendar.time"),
            duration=dt.timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0)),
            alarm=self.clock(self.typed(table, "alarm", str, "09:00", "calendar.alarm"), "calendar.alarm"),
            overdue=overdue,
            digest=self.typed(table, "digest", bool, default.digest, "calendar.digest"),
        )

    def config(self, data: Mapping[str, Any], base: Mapping[str, Cadence]) -> tuple[Config, list[Problem]]:
        self.warn_unknown(data, "", "")
        workday_names = self.typed(data, "workdays", list, list(WEEKDAYS[:5]), "workdays")
        workdays = set()
        for name in workday_names:
            if not isinstance(name, str) or name.lower()[:3] not in WEEKDAYS:
                raise self.fail("workdays", f"{name!r} is not a weekday (mon … sun)")
            workdays.add(WEEKDAYS.index(name.lower()[:3]))
        if not workdays:
            raise self.fail("workdays", "needs at least one day")
        cadences = dict(base)
        for name, table in self.typed(data, "cadences", dict, {}, "cadences").items():
            cadences[name] = self.cadence(name, table)
        for key in ("channels", "exclude"):
            items = self.typed(data, key, list, [], key)
            if not all(isinstance(item, str) for item in items):
                raise self.fail(key, "expected a list of strings")
        git = self.typed(data, "git", dict, {}, "git")
        self.warn_unknown(git, "git", "git.")
        config = Config(
            cadences=cadences,
            workdays=frozenset(workdays),
            reply=self.gap(self.typed(data, "reply", str, "1d", "reply"), "reply"),
            channels=tuple(c.lower() for c in data.get("channels", [])),
            exclude=tuple(data.get("exclude", [])),
            calendar=self.calendar(self.typed(data, "calendar", dict, {}, "calendar")),
            git_autocommit=self.typed(git, "autocommit", bool, False, "git.autocommit"),
            path=self.path,
        )
        return config, self.problems


def _default_config() -> Config:
    """The built-in defaults are the commented template `init` writes, read like any config."""
    config, _ = _Reader(Path(CONFIG_NAME), DEFAULT_TOML).config(tomllib.loads(DEFAULT_TOML), {})
    return replace(config, path=None)


DEFAULT_CONFIG = _default_config()
