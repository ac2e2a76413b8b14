"""What one write means to do: front matter keys to set and touch log entries to add."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from mdfollow.core.model import NOTE_CHANNEL, Direction, Prospect, Status, log_order

CHANNEL = re.compile(r"^[\w-]+$")
CONTINUATION = "    "
"""Indent of a note's further lines: four spaces, so no note line can pass for a heading or a fence."""

LogItem = tuple[dt.date, dt.time | None, str, str, str]
"""A touch or a note as the log holds it, without its line number: date, time, channel, direction, note."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A line to add to the touch log: a touch, or a dated note when `channel` is `note`."""

    date: dt.date
    channel: str
    note: str = ""
    time: dt.time | None = None
    direction: Direction = "out"

    @property
    def note_lines(self) -> list[str]:
        """The note as the parser will read it back: stripped lines, blank ones dropped."""
        return [part.strip() for part in self.note.splitlines() if part.strip()]

    @property
    def item(self) -> LogItem:
        """The entry as the parser will read it back."""
        return (self.date, self.time, self.channel.lower(), self.direction, "\n".join(self.note_lines))

    def lines(self) -> list[str]:
        """The item line, then one indented continuation line per further line of the note."""
        head = f"- {self.date.isoformat()}"
        if self.time is not None:
            head += f" {self.time.strftime('%H:%M')}"
        head += f" {self.channel.lower()}{' in' if self.direction == 'in' else ''}:"
        first, *rest = self.note_lines or [""]
        return [f"{head} {first}" if first else head, *(CONTINUATION + part for part in rest)]

    def sort_key(self) -> tuple[dt.date, bool, dt.time]:
        return log_order(self.date, self.time)


@dataclass(frozen=True, slots=True)
class Change:
    """What one write means to do: front matter keys to set (as text) and log entries to add."""

    keys: Mapping[str, str] = field(default_factory=dict)
    entries: Sequence[Entry] = ()
    drop_repeats: bool = False
    """Remove each log item whose lines repeat an earlier item's exactly (a union merge leaves them)."""


def log_items(prospect: Prospect, dropped: Collection[int] = ()) -> list[LogItem]:
    """Touches and notes in log order, without their line numbers (an insert shifts those),
    less the `dropped` ones (by line)."""
    return [(t.date, t.time, t.channel, t.direction, t.note) for t in prospect.log if t.line not in dropped]


def line_of(prospect: Prospect, entry: Entry) -> int:
    """The line holding the entry (the last one, should the same item appear twice); 0 if none."""
    lines = [t.line for t in prospect.log if (t.date, t.time, t.channel, t.direction, t.note) == entry.item]
    return max(lines, default=0)


def mark_change(
    status: Status, today: dt.date, reason: str | None = None, current: Status | None = None
) -> Change:
    """`mark`: the new status, `closed` for won and lost, and the reason as a dated note.

    Marking a prospect with the status it already has keeps its `closed` date: that is
    when the deal really closed, and `stats` counts touches up to it."""
    keys: dict[str, str] = {"status": status}
    if status in ("won", "lost") and status != current:
        keys["closed"] = today.isoformat()
    entries = [Entry(today, NOTE_CHANNEL, f"marked {status}: {reason}")] if reason and reason.strip() else []
    return Change(keys, entries)
