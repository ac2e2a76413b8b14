"""SPEC §3, one row per rule (and the edge cases around them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from mdfollow.core.config import DEFAULT_CONFIG, parse_config
from mdfollow.core.model import Config, Gap, Prospect, Touch
from mdfollow.core.schedule import add_gap, follow_up, next_workday, schedule

D = dt.date.fromisoformat
TODAY = D("2026-11-30")  # Monday
SHORT, _ = parse_config(
    Path("mdfollow.toml"),
    """
[cadences.short]
gaps = ["2d email", "1w call"]
then = "stop"
[cadences.weekly]
gaps = ["1w"]
""",
)


def touch(spec: str, line: int = 10) -> Touch:
    """'2026-11-02 email' or '2026-11-02 09:30 call in'."""
    parts = spec.split()
    day = D(parts.pop(0))
    clock = dt.time.fromisoformat(parts.pop(0)) if ":" in parts[0] else None
    channel = parts.pop(0)
    direction: Any = parts.pop(0) if parts else "out"
    return Touch(day, clock, channel, direction, "", line)


def prospect(*touches: str, **fields: Any) -> Prospect:
    for key in ("next", "created", "closed"):
        if isinstance(fields.get(key), str):
            fields[key] = D(fields[key])
    log = tuple(
        sorted((touch(spec, line) for line, spec in enumerate(touches, 10)), key=lambda t: t.sort_key)
    )
    return Prospect(id="p", path=Path("p.md"), name="P", touches=log, **fields)


CASES: list[tuple[str, Prospect, Config, str | None, str | None, int, str | None]] = [
    # name, prospect, config, due, reason, touch number, channel
    ("dnc is never due", prospect(status="dnc", next="2026-12-01"), DEFAULT_CONFIG, None, None, 0, None),
    ("lost without next", prospect("2026-11-02 call", status="lost"), DEFAULT_CONFIG, None, None, 0, None),
    (
        "lost with a later next is a revisit",
        prospect("2026-11-02 call", status="lost", next="2027-03-01"),
        DEFAULT_CONFIG,
        "2027-03-01",
        "revisit",
        2,
        None,
    ),
    (
        "lost with a consumed next",
        prospect("2026-11-02 call", status="lost", next="2026-11-02"),
        DEFAULT_CONFIG,
        None,
        None,
        0,
        None,
    ),
    (
        "next later than the latest touch wins",
        prospect("2026-11-02 email", "2026-11-10 email in", next="2026-12-02"),
        DEFAULT_CONFIG,
        "2026-12-02",
        "next",
        2,
        None,
    ),
    (
        "next on a Saturday moves to Monday",
        prospect(next="2026-12-05"),
        DEFAULT_CONFIG,
        "2026-12-07",
        "next",
        1,
        None,
    ),
    (
        "consumed next falls through to the cadence",
        prospect("2026-11-02 email", next="2026-11-02"),
        DEFAULT_CONFIG,
        "2026-11-04",
        "cadence",
        2,
        "email",
    ),
    (
        "inbound latest: reply the next workday, on their channel",
        prospect("2026-11-02 email", "2026-11-10 call in"),
        DEFAULT_CONFIG,
        "2026-11-11",
        "reply",
        2,
        "call",
    ),
    (
        "inbound on a Friday: reply on Monday",
        prospect("2026-11-02 email", "2026-11-27 email in"),
        DEFAULT_CONFIG,
        "2026-11-30",
        "reply",
        2,
        "email",
    ),
    (
        "an untimed touch sorts before a timed one the same day",
        prospect("2026-11-10 09:00 call in", "2026-11-10 email"),
        DEFAULT_CONFIG,
        "2026-11-11",
        "reply",
        2,
        "call",
    ),
    ("new lead with created", prospect(created="2026-11-20"), DEFAULT_CONFIG, "2026-11-20", "new", 1, None),
    ("new lead without created is due today", prospect(), DEFAULT_CONFIG, "2026-11-30", "new", 1, None),
    (
        "new lead created on a Sunday",
        prospect(created="2026-11-29"),
        DEFAULT_CONFIG,
        "2026-11-30",
        "new",
        1,
        None,
    ),
    (
        "cadence gap 1 after the first touch",
        prospect("2026-11-02 meeting"),
        DEFAULT_CONFIG,
        "2026-11-04",
        "cadence",
        2,
        "email",
    ),
    (
        "cadence gap 3 after three touches (1w email)",
        prospect("2026-11-02 meeting", "2026-11-04 email", "2026-11-09 call"),
        DEFAULT_CONFIG,
        "2026-11-16",
        "cadence",
        4,
        "email",
    ),
    (
        "gap landing on a Saturday moves to Monday",
        prospect("2026-11-05 meeting", "2026-11-07 email", "2026-11-10 call"),
        DEFAULT_CONFIG,
        "2026-11-17",
        "cadence",
        4,
        "email",
    ),
    (
        "past the last gap, then repeats (until they buy or die)",
        prospect(*(f"2026-0{m}-0{d} call" for m in range(1, 7) for d in (1, 3)), "2026-07-01 call"),
        DEFAULT_CONFIG,
        "2026-09-01",
        "cadence",
        14,
        None,
    ),
    (
        "a cadence without then repeats its last gap",
        prospect("2026-11-02 call", "2026-11-09 call", "2026-11-16 call", cadence="weekly"),
        SHORT,
        "2026-11-23",
        "cadence",
        4,
        None,
    ),
    (
        "then = stop: exhausted",
        prospect("2026-11-02 call", "2026-11-04 email", "2026-11-11 call", cadence="short"),
        SHORT,
        None,
        "exhausted",
        4,
        None,
    ),
    (
        "inbound reply beats exhaustion",
        prospect(
            "2026-11-02 call", "2026-11-04 email", "2026-11-11 call", "2026-11-20 email in", cadence="short"
        ),
        SHORT,
        "2026-11-23",
        "reply",
        4,
        "email",
    ),
    (
        "won customers keep in touch every 3 months",
        prospect("2026-08-31 meeting", status="won", closed="2026-08-31"),
        DEFAULT_CONFIG,
        "2026-11-30",
        "keep-in-touch",
        2,
        None,
    ),
    (
        "won with an explicit cadence uses it",
        prospect("2026-11-02 call", status="won", cadence="short"),
        SHORT,
        "2026-11-04",
        "keep-in-touch",
        2,
        "email",
    ),
    (
        "notes never count: they are not in touches",
        prospect("2026-11-02 meeting"),
        DEFAULT_CONFIG,
        "2026-11-04",
        "cadence",
        2,
        "email",
    ),
    (
        "unknown cadence falls back to default",
        prospect("2026-11-02 meeting", cadence="nope"),
        DEFAULT_CONFIG,
        "2026-11-04",
        "cadence",
        2,
        "email",
    ),
]


@pytest.mark.parametrize(
    ("name", "subject", "config", "due", "reason", "number", "channel"), CASES, ids=[c[0] for c in CASES]
)
def test_rules(
    name: str,
    subject: Prospect,
    config: Config,
    due: str | None,
    reason: str | None,
    number: int,
    channel: str | None,
) -> None:
    result = follow_up(subject, TODAY, config)
    if reason is None:
        assert result is None
        return
    assert result is not None
    assert (result.due, result.reason, result.touch, result.channel) == (
        D(due) if due else None,
        reason,
        number,
        channel,
    )


@pytest.mark.parametrize(
    ("start", "gap", "expected"),
    [
        ("2026-08-31", Gap(1, "m"), "2026-09-30"),
        ("2026-01-31", Gap(1, "m"), "2026-02-28"),
        ("2028-01-31", Gap(1, "m"), "2028-02-29"),
        ("2026-11-30", Gap(2, "m"), "2027-01-30"),
        ("2026-12-15", Gap(13, "m"), "2028-01-15"),
        ("2026-11-30", Gap(10, "d"), "2026-12-10"),
        ("2026-11-30", Gap(2, "w"), "2026-12-14"),
    ],
)
def test_add_gap(start: str, gap: Gap, expected: str) -> None:
    assert add_gap(D(start), gap) == D(expected)


def test_custom_workdays_and_reply() -> None:
    config, _ = parse_config(Path("mdfollow.toml"), 'workdays = ["sat"]\nreply = "2d"\n')
    assert next_workday(D("2026-11-30"), config) == D("2026-12-05")
    result = follow_up(prospect("2026-11-30 email in"), TODAY, config)
    assert result is not None and result.due == D("2026-12-05")


def test_next_with_a_time_keeps_the_time() -> None:
    subject = prospect(next="2026-12-01", next_time=dt.time(14, 30))
    result = follow_up(subject, TODAY, DEFAULT_CONFIG)
    assert result is not None and (result.due, result.time) == (D("2026-12-01"), dt.time(14, 30))


def test_overdue_days() -> None:
    result = follow_up(prospect(created="2026-11-20"), TODAY, DEFAULT_CONFIG)
    assert result is not None and result.overdue_days(TODAY) == 10
    assert result.overdue_days(D("2026-11-19")) == 0


def test_schedule_sorts_by_date_then_name_with_exhausted_last() -> None:
    items = [
        Prospect(id="b", path=Path("b.md"), name="bob", created=D("2026-11-20")),
        Prospect(id="a", path=Path("a.md"), name="Alice", created=D("2026-11-20")),
        Prospect(id="z", path=Path("z.md"), name="Zed", created=D("2026-11-01")),
        Prospect(id="x", path=Path("x.md"), name="X", status="dnc"),
    ]
    result = schedule(items, TODAY, DEFAULT_CONFIG)
    assert [f.prospect.id for f in result] == ["z", "a", "b"]
