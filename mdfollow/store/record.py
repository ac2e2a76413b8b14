"""A parsed prospect file as plain values (str, int, tuples, dicts) and back.

The parse cache stores these records with `marshal`, and the process pool of a cold
load sends them between processes: both are several times faster with primitives than
with pickled object graphs (frozen dataclasses, Paths, dates), and marshal runs no code
when it reads a file. A record holds exactly the fields of `Prospect` and `Touch`;
`SUPPORTED` is False when the model has fields this module does not know, and then no
record is made or trusted (a test keeps the two in step).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from mdfollow.core.model import Problem, Prospect, Touch

PROSPECT_FIELDS = (
    "id",
    "path",
    "name",
    "status",
    "company",
    "emails",
    "phones",
    "cadence",
    "next",
    "next_time",
    "created",
    "closed",
    "tags",
    "source",
    "owner",
    "touches",
    "notes",
    "front_matter",
    "key_lines",
)
TOUCH_FIELDS = ("date", "time", "channel", "direction", "note", "line")
SUPPORTED = (
    tuple(f.name for f in dataclasses.fields(Prospect)) == PROSPECT_FIELDS
    and tuple(f.name for f in dataclasses.fields(Touch)) == TOUCH_FIELDS
)
"""Whether records can carry every field of the model as it is now."""

Record = tuple[Any, ...]
Problems = tuple[tuple[int, str, str], ...]

_NONE = -1


class _Days(dict[int, dt.date]):
    """Dates by ordinal, each made once: touches share a few hundred distinct days, so a
    folder decodes faster and its dates take less memory (dates are immutable)."""

    def __missing__(self, ordinal: int) -> dt.date:
        value = self[ordinal] = dt.date.fromordinal(ordinal)
        return value


class _Clocks(dict[int, "dt.time | None"]):
    """Times of day by minute, each made once (see `_Days`)."""

    def __missing__(self, minutes: int) -> dt.time | None:
        value = self[minutes] = None if minutes < 0 else dt.time(minutes // 60, minutes % 60)
        return value


_DAYS = _Days()
_CLOCKS = _Clocks()


def _day(value: dt.date | None) -> int:
    return _NONE if value is None else value.toordinal()


def _minutes(value: dt.time | None) -> int:
    return _NONE if value is None else value.hour * 60 + value.minute


def encode(prospect: Prospect) -> Record:
    """The prospect as plain values; `decode(record, path)` gives an equal prospect back."""
    touches = tuple(
        (t.date.toordinal(), _minutes(t.time), sys.intern(t.channel), t.direction, t.note, t.line)
        for t in (*prospect.touches, *prospect.notes)
    )  # interned: marshal then writes each channel word once, and reads it back once
    return (
        prospect.id,
        prospect.name,
        sys.intern(prospect.status),
        prospect.company,
        prospect.emails,
        prospect.phones,
        prospect.cadence,
        _day(prospect.next),
        _minutes(prospect.next_time),
        _day(prospect.created),
        _day(prospect.closed),
        prospect.tags,
        prospect.source,
        prospect.owner,
        len(prospect.touches),
        touches,
        dict(prospect.front_matter),
        dict(prospect.key_lines),
    )


def decode(record: Record, path: Path) -> Prospect:
    """The prospect a record was made from (its file's path is the memo's key)."""
    (
        prospect_id,
        name,
        status,
        company,
        emails,
        phones,
        cadence,
        next_day,
        next_time,
        created,
        closed,
        tags,
        source,
        owner,
        count,
        log,
        front_matter,
        key_lines,
    ) = record
    days, clocks = _DAYS, _CLOCKS
    items = tuple(
        Touch(days[day], clocks[minutes], channel, direction, note, line)
        for day, minutes, channel, direction, note, line in log
    )
    return Prospect(
        prospect_id,
        path,
        name,
        status,
        company,
        emails,
        phones,
        cadence,
        None if next_day < 0 else days[next_day],
        clocks[next_time],
        None if created < 0 else days[created],
        None if closed < 0 else days[closed],
        tags,
        source,
        owner,
        items[:count],
        items[count:],
        front_matter,
        key_lines,
    )


def encode_problems(problems: list[Problem] | tuple[Problem, ...]) -> Problems:
    return tuple((p.line, p.message, p.severity) for p in problems)


def decode_problems(problems: Problems, path: Path) -> tuple[Problem, ...]:
    return tuple(Problem(path, line, message, severity) for line, message, severity in problems)  # type: ignore[arg-type]
