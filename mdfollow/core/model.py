"""The domain records. Frozen, free of I/O, and each one knows where it came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["active", "won", "lost", "dnc"]
STATUSES: tuple[Status, ...] = ("active", "won", "lost", "dnc")
Direction = Literal["in", "out"]
Reason = Literal["new", "cadence", "reply", "next", "keep-in-touch", "revisit", "exhausted"]
Severity = Literal["error", "warning"]
NOTE_CHANNEL = "note"


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file, at a line (1-based; 0 when it concerns the whole file,
    printed as line 1 so every message reads `path:line: message` for editors and grep)."""

    path: Path
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        kind = "warning: " if self.severity == "warning" else ""
        path = str(self.path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return f"{path}:{self.line or 1}: {kind}{self.message}"


def log_order(date: dt.date, time: dt.time | None) -> tuple[dt.date, bool, dt.time]:
    """SPEC §2's order of the touch log: by date, untimed before timed, then by time."""
    return (date, time is not None, time or dt.time(0))


def when_text(date: dt.date, time: dt.time | None = None) -> str:
    """`2026-12-05`, or `2026-12-05 14:30` with a time: as the files write it."""
    return date.isoformat() if time is None else f"{date.isoformat()} {time.strftime('%H:%M')}"


@dataclass(frozen=True)
class Touch:
    """One line of the touch log: a contact, or a dated note when `channel` is `note`."""

    date: dt.date
    time: dt.time | None
    channel: str
    direction: Direction
    note: str
    line: int

    @property
    def is_note(self) -> bool:
        return self.channel == NOTE_CHANNEL

    @property
    def sort_key(self) -> tuple[dt.date, bool, dt.time, int]:
        """The log order, then file order (SPEC §2)."""
        return (*log_order(self.date, self.time), self.line)


@dataclass(frozen=True)
class Prospect:
    """One prospect file, parsed. `touches` excludes notes; both are in log order."""

    id: str
    path: Path
    name: str
    status: Status = "active"
    company: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    cadence: str | None = None
    next: dt.date | None = None
    next_time: dt.time | None = None
    created: dt.date | None = None
    closed: dt.date | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    owner: str | None = None
    touches: tuple[Touch, ...] = ()
    notes: tuple[Touch, ...] = ()
    front_matter: Mapping[str, Any] = field(default_factory=dict, compare=False)
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def outbound(self) -> tuple[Touch, ...]:
        return tuple(t for t in self.touches if t.direction == "out")

    @property
    def log(self) -> tuple[Touch, ...]:
        """Touches and notes together, in log order."""
        return tuple(sorted(self.touches + self.notes, key=lambda t: t.sort_key))

    @property
    def last_touch(self) -> Touch | None:
        return self.touches[-1] if self.touches else None

    def line_of(self, key: str) -> int:
        """The line of a front matter key, or 1 (the `---` line) when absent."""
        return self.key_lines.get(key, 1)


@dataclass(frozen=True, slots=True)
class Gap:
    """A cadence step: `count` days, weeks or calendar months, with a suggested channel."""

    count: int
    unit: Literal["d", "w", "m"]
    channel: str | None = None
    template: str | None = None
    """The draft template this step names (`"1w email:quote-check"`), SPEC §9."""
    line: int = field(default=0, compare=False)
    """Where in mdfollow.toml a gap naming a template is written, for `check` (0: unknown)."""

    def __str__(self) -> str:
        text = f"{self.count}{self.unit}"
        text = f"{text} {self.channel}" if self.channel else text
        return f"{text}:{self.template}" if self.template else text


@dataclass(frozen=True, slots=True)
class Cadence:
    """Gaps between outbound touches; `then` repeats after them, or None to stop."""

    name: str
    gaps: tuple[Gap, ...]
    then: Gap | None

    def gap(self, number: int) -> Gap | None:
        """Gap number `number` (1-based), `then` past the end, None when exhausted."""
        if number <= len(self.gaps):
            return self.gaps[number - 1]
        return self.then


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    name: str = "Follow-ups"
    timezone: str = "local"
    time: dt.time | None = None
    duration: dt.timedelta = dt.timedelta(minutes=15)
    alarm: dt.time | None = dt.time(9, 0)
    overdue: Literal["today", "keep"] = "today"
    digest: bool = False


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """The `[plan]` table (SPEC §7): time slots to rotate through, a daily cap, a weekly hour."""

    slots: tuple[dt.time, ...] = ()
    daily: int = 0
    hour: tuple[int, dt.time] | None = None
    """The weekly follow-up hour: weekday (0 = Monday) and start time; None for none."""


@dataclass(frozen=True, slots=True)
class DraftsConfig:
    """`[drafts]` (SPEC §9): where drafts go (a Maildir path or an IMAP URL), and the signature."""

    to: str = ""
    signature: str = ""


@dataclass(frozen=True, slots=True)
class Templates:
    """The files of `_templates/` as read: `folder` and (name, text) pairs by name.

    Part of the config, so whatever keys on the config (the live feed, the stored
    feed) sees an edited template as a change."""

    folder: Path = Path("_templates")
    texts: tuple[tuple[str, str], ...] = ()
    problems: tuple[Problem, ...] = ()
    """Files that could not be read as templates (not UTF-8, unreadable)."""

    def text(self, name: str) -> str | None:
        return dict(self.texts).get(name)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.txt"


@dataclass(frozen=True, slots=True)
class Config:
    """`mdfollow.toml` merged over the built-in defaults."""

    cadences: Mapping[str, Cadence]
    workdays: frozenset[int] = frozenset(range(5))
    reply: Gap = Gap(1, "d")
    channels: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    calendar: CalendarConfig = CalendarConfig()
    git_autocommit: bool = False
    path: Path | None = None
    plan: PlanConfig | None = None
    """None without a `[plan]` table: then nothing is planned and §3 to §5 apply as they are."""
    mail: MailConfig = field(default_factory=lambda: MailConfig())
    drafts: DraftsConfig = DraftsConfig()
    templates: Templates = Templates()

    @property
    def me(self) -> str:
        """The user's first own address (`[mail] me`): the From of drafts, `me` in templates."""
        return self.mail.me[0] if self.mail.me else ""


@dataclass(frozen=True, slots=True)
class FollowUp:
    """When and why a prospect is next due; `due` is None when the cadence is exhausted."""

    prospect: Prospect
    due: dt.date | None
    reason: Reason
    touch: int
    channel: str | None = None
    time: dt.time | None = None
    planned: dt.date | None = None
    """The day the plan gives it (SPEC §7); None when there is no plan."""
    template: str | None = None
    """The template named by the gap that produced the date, if any (SPEC §9)."""

    def overdue_days(self, today: dt.date) -> int:
        if self.due is None or self.due >= today:
            return 0
        return (today - self.due).days


@dataclass(frozen=True, slots=True)
class MailConfig:
    """`[mail]`: the user's own addresses, and the mailboxes `mdfollow mail` reads (SPEC §8)."""

    me: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
