"""The floor prototype: the least work a `due` over a prospect folder can do in Python.

    python bench/floor.py FOLDER YYYY-MM-DD

One plain script: os.walk, the C YAML loader, one regex for the touch lines, SPEC §3's
rules for the default cadence, a sorted table on stdout. No CLI framework, no cache, no
error reporting, no line numbers: what mdfollow does on top of this is its own cost.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import sys

import yaml

TOUCH = re.compile(r"^- (\d{4})-(\d\d)-(\d\d)(?: \d\d:\d\d)? ([\w-]+)( in| out)?:", re.MULTILINE)
GAPS = [
    (2, "d"),
    (4, "d"),
    (1, "w"),
    (1, "w"),
    (10, "d"),
    (2, "w"),
    (2, "w"),
    (1, "m"),
    (1, "m"),
    (1, "m"),
    (1, "m"),
]
THEN = (2, "m")
CUSTOMER = (3, "m")


def add(day: dt.date, gap: tuple[int, str]) -> dt.date:
    count, unit = gap
    if unit != "m":
        return day + dt.timedelta(days=count * (7 if unit == "w" else 1))
    months = day.month - 1 + count
    year, month = day.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def workday(day: dt.date) -> dt.date:
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


def due(front: dict[str, object], body: str, today: dt.date) -> tuple[dt.date, str] | None:
    status = front.get("status", "active")
    touches = [
        (dt.date(int(y), int(m), int(d)), channel, direction)
        for y, m, d, channel, direction in TOUCH.findall(body)
    ]
    touches = [t for t in touches if t[1] != "note"]
    touches.sort(key=lambda t: t[0])
    outbound = [t for t in touches if t[2] != " in"]
    latest = touches[-1][0] if touches else None
    upcoming = front.get("next")
    live = isinstance(upcoming, dt.date) and (latest is None or upcoming > latest)
    if status == "dnc":
        return None
    if status == "lost":
        return (workday(upcoming), "revisit") if live else None  # type: ignore[arg-type]
    if live:
        return workday(upcoming), "next"  # type: ignore[arg-type]
    if touches and touches[-1][2] == " in":
        return workday(touches[-1][0] + dt.timedelta(days=1)), "reply"
    if not outbound:
        created = front.get("created")
        return workday(created if isinstance(created, dt.date) else today), "new"
    gaps = [] if status == "won" else GAPS
    gap = gaps[len(outbound) - 1] if len(outbound) <= len(gaps) else (CUSTOMER if status == "won" else THEN)
    return workday(add(outbound[-1][0], gap)), "cadence"


def main(root: str, today: dt.date) -> None:
    rows = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith((".", "_")))
        for name in sorted(files):
            if not name.endswith(".md") or name.startswith((".", "_")):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as file:
                text = file.read()
            if not text.startswith("---\n"):
                continue
            end = text.find("\n---\n", 3)
            front = yaml.load(text[4:end], Loader=yaml.CSafeLoader)
            found = due(front, text[end + 5 :], today)
            if found is not None and found[0] <= today:
                rows.append(
                    (found[0], str(front["name"]), str(front.get("company") or ""), found[1], name[:-3])
                )
    rows.sort(key=lambda row: (row[0], row[1].casefold(), row[4]))
    out = sys.stdout
    for day, name, company, reason, _ in rows:
        overdue = (today - day).days
        out.write(f"{day}  {overdue:>4}d  {name:<20}  {company:<20}  {reason}\n")
    out.write(f"{len(rows)} due\n")


if __name__ == "__main__":
    main(sys.argv[1], dt.date.fromisoformat(sys.argv[2]))
