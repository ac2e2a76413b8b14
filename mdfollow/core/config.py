"""`mdfollow.toml` → a typed `Config`, over the built-in defaults of SPEC §3."""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import (
    Cadence,
    CalendarConfig,
    Config,
    DraftsConfig,
    Gap,
    MailConfig,
    PlanConfig,
    Problem,
)

CONFIG_NAME = "mdfollow.toml"
TEMPLATES_FOLDER = "_templates"
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
# months), optionally followed by the suggested channel and a draft template
# ("1w email:quote-check" drafts from _templates/quote-check.txt). After the
# last gap, `then` repeats ("until they buy or die"); then = "stop" ends it.
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

# A plan spreads follow-ups over your workdays; off without this table (docs/scheduling.md).
# [plan]
# slots = ["09:30", "13:00", "16:30"]  # times to try, another after each unanswered try; [] = untimed
# daily = 15                           # follow-ups per workday at most, the rest move on; 0 = no cap
# hour = "fri 09:00"                   # a weekly one-hour follow-up block in the feed; "" = none

# `mdfollow draft` writes the next email from _templates/ (email-<touch>.txt,
# else email.txt) into your mail client's Drafts, From the first [mail] me
# address; it never sends anything.
[drafts]
to = ""                 # a Maildir folder ("~/Mail/Drafts") or "imaps://USER@HOST/Drafts"
signature = ""          # {{ signature }} in the templates
"""

_WEEKDAY_NAMES = {
    **{name: index for index, name in enumerate(WEEKDAYS)},
    **{name: index for index, name in enumerate(calendar_module.day_name[i].lower() for i in range(7))},
}
"""`mon` or `monday`; nothing else ("monkey" starts like Monday but is not a day)."""

MAX_GAP = 9999
"""The largest count in a gap: 9999 months is already centuries; more is a typo."""
MAX_DURATION = dt.timedelta(days=1)
"""The longest calendar event: a follow-up is a call or a visit, not a week."""
_GAP = re.compile(r"^\s*(\d+)\s*([dwm])(?:\s+([\w-]+))?(?:\s*:\s*([\w-]+))?\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HOUR = re.compile(r"^\s*([A-Za-z]+)\s+(\S+)\s*$")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?$")
_KNOWN = {
    "": {"workdays", "reply", "channels", "exclude", "cadences", "calendar", "git", "plan", "mail", "drafts"},
    "drafts": {"to", "signature"},
    "calendar": {"name", "timezone", "time", "duration", "alarm", "overdue", "digest"},
    "git": {"autocommit"},
    "cadence": {"gaps", "then"},
    "plan": {"slots", "daily", "hour"},
    "mail": {"me", "sources"},
}


class ConfigError(MdfollowError):
    """A value in `mdfollow.toml` that mdfollow cannot use."""


def parse_gap(text: str, least: int = 1) -> Gap | None:
    """`"2w call"` → Gap(2, "w", "call"), `"1w email:quote-check"` names a draft template
    too; None when the text is not a gap (or counts under `least`)."""
    match = _GAP.match(text)
    if not match or len(match[1].lstrip("0")) > len(str(MAX_GAP)) or not least <= int(match[1]) <= MAX_GAP:
        return None  # (the length first: int() refuses thousands of digits with a ValueError)
    unit: Any = match[2].lower()
    return Gap(int(match[1]), unit, match[3].lower() if match[3] else None, match[4])


def config_from_bytes(path: Path, data: bytes) -> tuple[Config, list[Problem]]:
    """`mdfollow.toml`'s bytes (read by the store) → the config and its warnings."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte 0x{data[error.start]:02x})") from None
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
    except RecursionError:
        deep = _first_line(text, re.compile(r"[\[{]\s*[\[{]\s*[\[{]"))
        raise ConfigError(f"{path}:{deep}: arrays or tables nested too deeply") from None
    except ValueError:  # an integer of thousands of digits (int() refuses past 4,300)
        long = _first_line(text, re.compile(r"\d{1000}"))
        raise ConfigError(f"{path}:{long}: a number with too many digits") from None
    return _Reader(path, text).config(data, DEFAULT_CONFIG.cadences)


def _first_line(text: str, pattern: re.Pattern[str]) -> int:
    """The first line (1-based) where `pattern` is found, or 1."""
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_TABLE_LINE = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> list[str]:
    """`cadences."big deals".gaps` → ["cadences", "big deals", "gaps"]."""
    return [part.strip("\"'") for part in re.findall(_KEY_PART, dotted)]


def _key_lines(lines: list[str]) -> dict[tuple[str, ...], int]:
    """The first line (1-based) of every table header and key, by its full dotted path."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(lines, 1):
        header = _TABLE_LINE.match(line)
        if header:
            table = tuple(_split_key(header[1]))
            found.setdefault(table, number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            found.setdefault((*table, *_split_key(key[1])), number)
    return found


class _Reader:
    """Turns the TOML tables into model objects, naming the key in every error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[Problem] = []
        self.key_lines: dict[tuple[str, ...], int] | None = None

    def line_of(self, key: str) -> int:
        """The line where `key` (dotted, as in `cadences.x.gaps[1]`) is set, read from the
        tables as TOML nests them: a key counts only under its own table's header. A key
        not written line by line (inside an inline table) gets its nearest written parent."""
        if self.key_lines is None:
            self.key_lines = _key_lines(self.lines)
        parts = tuple(part.split("[", 1)[0] for part in key.split("."))
        while parts:
            if parts in self.key_lines:
                return self.key_lines[parts]
            parts = parts[:-1]
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

    def gap(self, text: Any, key: str, least: int = 1) -> Gap:
        gap = parse_gap(text, least) if isinstance(text, str) else None
        if gap is None:
            raise self.fail(key, f'{text!r} is not a gap (use "Nd", "Nw" or "Nm", then a channel)')
        if gap.template is not None:  # `check` names the line of a gap whose template is missing
            quoted = re.compile(rf"[\"']{re.escape(text)}[\"']")
            line = next((n for n, row in enumerate(self.lines, 1) if quoted.search(row)), self.line_of(key))
            gap = replace(gap, line=line)
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
        hours, minutes = (match[1] or "0").lstrip("0"), (match[2] or "0").lstrip("0")
        if len(hours) > 2 or len(minutes) > 4:  # before int(): 5,000 digits is a ValueError
            raise self.fail("calendar.duration", f"{duration_text!r} is longer than a day")
        duration = dt.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        if duration > MAX_DURATION:
            raise self.fail("calendar.duration", f"{duration_text!r} is longer than a day")
        overdue = self.typed(table, "overdue", str, default.overdue, "calendar.overdue")
        if overdue not in ("today", "keep"):
            raise self.fail("calendar.overdue", f'expected "today" or "keep", got {overdue!r}')
        return CalendarConfig(
            name=self.typed(table, "name", str, default.name, "calendar.name"),
            timezone=timezone,
            time=self.clock(self.typed(table, "time", str, "", "calendar.time"), "calendar.time"),
            duration=duration,
            alarm=self.clock(self.typed(table, "alarm", str, "09:00", "calendar.alarm"), "calendar.alarm"),
            overdue=overdue,
            digest=self.typed(table, "digest", bool, default.digest, "calendar.digest"),
        )

    def plan(self, table: Mapping[str, Any]) -> PlanConfig:
        """The `[plan]` table (SPEC §7); each bad value names its key and line."""
        self.warn_unknown(table, "plan", "plan.")
        slots: list[dt.time] = []
        for index, text in enumerate(self.typed(table, "slots", list, [], "plan.slots")):
            key = f"plan.slots[{index}]"
            if not isinstance(text, str) or not _CLOCK.match(text):
                raise self.fail(key, f'{text!r} is not a time (use "HH:MM")')
            slot = self.clock(text, key)
            assert slot is not None
            if slots and slot <= slots[-1]:
                order = "repeated" if slot == slots[-1] else f"before {slots[-1]:%H:%M}"
                raise self.fail(key, f"{text!r} is {order}: slots must be sorted and distinct")
            slots.append(slot)
        daily = self.typed(table, "daily", int, 0, "plan.daily")
        if daily < 0:
            raise self.fail("plan.daily", f"{daily} is below 0 (0 = no cap)")
        hour_text = self.typed(table, "hour", str, "", "plan.hour")
        return PlanConfig(tuple(slots), daily, self.weekly_hour(hour_text) if hour_text else None)

    def weekly_hour(self, text: str) -> tuple[int, dt.time]:
        """`"fri 09:00"` (or `"Friday 9:00"`) → (4, 09:00)."""
        match = _HOUR.match(text)
        day = match[1].lower() if match else ""
        clock = _CLOCK.match(match[2]) if match else None
        if clock is None or (day not in WEEKDAYS and day not in _DAY_NAMES):
            raise self.fail("plan.hour", f'{text!r} is not "DAY HH:MM" (e.g. "fri 09:00")')
        return WEEKDAYS.index(day[:3]), dt.time(int(clock[1]), int(clock[2]))

    def drafts(self, table: Mapping[str, Any]) -> DraftsConfig:
        """`[drafts]` (SPEC §9): where drafts go, and the signature."""
        self.warn_unknown(table, "drafts", "drafts.")
        return DraftsConfig(
            to=self.typed(table, "to", str, "", "drafts.to").strip(),
            signature=self.typed(table, "signature", str, "", "drafts.signature"),
        )

    def config(self, data: Mapping[str, Any], base: Mapping[str, Cadence]) -> tuple[Config, list[Problem]]:
        self.warn_unknown(data, "", "")
        workday_names = self.typed(data, "workdays", list, list(WEEKDAYS[:5]), "workdays")
        workdays = set()
        for name in workday_names:
            day = _WEEKDAY_NAMES.get(name.strip().lower()) if isinstance(name, str) else None
            if day is None:
                raise self.fail("workdays", f"{name!r} is not a weekday (mon … sun, or monday … sunday)")
            workdays.add(day)
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
            reply=self.gap(self.typed(data, "reply", str, "1d", "reply"), "reply", least=0),  # §7: "0d"
            channels=tuple(c.lower() for c in data.get("channels", [])),
            exclude=tuple(data.get("exclude", [])),
            calendar=self.calendar(self.typed(data, "calendar", dict, {}, "calendar")),
            git_autocommit=self.typed(git, "autocommit", bool, False, "git.autocommit"),
            path=self.path,
            plan=self.plan(self.typed(data, "plan", dict, {}, "plan")) if "plan" in data else None,
            mail=self.mail(self.typed(data, "mail", dict, {}, "mail")),
            drafts=self.drafts(self.typed(data, "drafts", dict, {}, "drafts")),
        )
        return config, self.problems

    def mail(self, table: Mapping[str, Any]) -> MailConfig:
        """`[mail]`: `me` (one address or a list) and `sources`, kept as written: `mail`
        resolves paths against the root and the home folder (no environment read here)."""
        self.warn_unknown(table, "mail", "mail.")
        me = table.get("me", [])
        me = [me] if isinstance(me, str) else me
        sources = self.typed(table, "sources", list, [], "mail.sources")
        for key, items in (("mail.me", me), ("mail.sources", sources)):
            if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
                raise self.fail(key, "expected a list of non-empty strings")
        return MailConfig(me=tuple(a.strip() for a in me), sources=tuple(sources))


def _default_config() -> Config:
    """The built-in defaults are the commented template `init` writes, read like any config."""
    config, _ = _Reader(Path(CONFIG_NAME), DEFAULT_TOML).config(tomllib.loads(DEFAULT_TOML), {})
    return replace(config, path=None)


DEFAULT_CONFIG = _default_config()
