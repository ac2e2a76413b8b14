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
_from_ordinal = dt.date.fromordinal


def _day(value: dt.date | None) -> int:
    return _NONE if value is None else value.toordinal()


def _minutes(value: dt.time | None) -> int:
    return _NONE if value is None else value.hour * 60 + value.minute


def encode(prospect: Prospect) -> Record:
    """The prospect as plain values; `decode(record, path)` gives an equal prospect back."""
    touches = tuple(
        (t.date.toordinal(), _minutes(t.time), t.channel, t.direction, t.note, t.line)
        for t in (*prospect.touches, *prospect.notes)
    )
    return (
        prospect.id,
        prospect.name,
        prospect.status,
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
    items = tuple(
        Touch(
            _from_ordinal(day),
            None if minutes < 0 else dt.time(minutes // 60, minutes % 60),
            channel,
            direction,
            note,
            line,
        )
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
        None if next_day < 0 else _from_ordinal(next_day),
        None if next_time < 0 else dt.time(next_time // 60, next_time % 60),
        None if created < 0 else _from_ordinal(created),
        None if closed < 0 else _from_ordinal(closed),
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
