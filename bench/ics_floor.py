"""Issue 15's `ics` targets: mdfollow `ics -o` against a floor that builds the feed with icalendar.

    .venv/bin/python bench/ics_floor.py [--runs 5] [--sizes 1000,10000]
    .venv/bin/python bench/ics_floor.py --floor FOLDER OUTPUT   # one floor run (what is timed)
    .venv/bin/python bench/ics_floor.py --phases FOLDER         # where one `ics` run spends its time

The floor is the least a feed needs: read each file (CSafeLoader for the front
matter, a regex for the touches, no CLI framework, no cache), schedule it with
mdfollow's own rules, and build every event with the icalendar object model
(`Event`, `Alarm`, `Calendar.to_ical()`). Each figure is the median of --runs
wall-clock timings of a whole process, startup included. "cold" starts with an
empty cache folder; "one edit" follows a run after which one file's mtime moved.
Targets: cold <= 0.6x the floor, one edit <= 0.1x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-30"
_TOUCH = re.compile(r"^- (\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}))? ([\w-]+)( in| out)?:(.*)$", re.MULTILINE)


def floor(folder: Path, output: Path) -> None:
    """Read, schedule and write the feed with icalendar's objects: the floor to beat."""
    import yaml
    from icalendar import Alarm, Calendar, Event

    from mdfollow.core.config import DEFAULT_CONFIG
    from mdfollow.core.model import Prospect, Touch
    from mdfollow.core.schedule import follow_up

    config = DEFAULT_CONFIG
    today = dt.date.fromisoformat(TODAY)
    calendar = Calendar()
    for key, value in (("PRODID", "-//floor//EN"), ("VERSION", "2.0"), ("X-WR-CALNAME", "Follow-ups")):
        calendar.add(key, value)
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        data = yaml.load(front, Loader=yaml.CSafeLoader)
        touches = tuple(
            Touch(dt.date.fromisoformat(m[1]), None, m[3], "in" if m[4] == " in" else "out", m[5].strip(), 0)
            for m in _TOUCH.finditer(body)
        )
        prospect = Prospect(
            id=path.stem,
            path=path,
            name=str(data["name"]),
            status=data.get("status", "active"),
            company=data.get("company"),
            emails=(data["email"],),
            phones=(data["phone"],),
            next=data.get("next"),
            created=data.get("created"),
            tags=tuple(data.get("tags", ())),
            touches=touches,
        )
        item = follow_up(prospect, today, config)
        if item is None or item.due is None:
            continue
        day = max(item.due, today)
        event = Event()
        event.add("UID", f"{prospect.id}-{item.touch}@mdfollow")
        event.add("DTSTAMP", dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC))
        event.add("SUMMARY", f"Follow up with {prospect.name} ({prospect.company}) — touch #{item.touch}")
        lines = [
            prospect.name,
            *(f"Email: {e}" for e in prospect.emails),
            *(f"Phone: {p}" for p in prospect.phones),
        ]
        lines += [f"- {t.date} {t.channel}: {t.note}" for t in touches[-3:]]
        event.add("DESCRIPTION", "\n".join([*lines, f"File: {path.relative_to(folder)}"]))
        event.add("CATEGORIES", list(prospect.tags))
        event.add("URL", f"mailto:{prospect.emails[0]}")
        event.add("DTSTART", day)
        event.add("DTEND", day + dt.timedelta(days=1))
        event.add("TRANSP", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", "Follow up")
        alarm.add("TRIGGER", dt.timedelta(hours=9))
        event.add_component(alarm)
        calendar.add_component(event)
    output.write_bytes(calendar.to_ical())


def phases(folder: Path) -> None:
    """One `ics` run's work in this process, timed by phase (the cache folder as set in the environment)."""
    started = time.perf_counter()
    from mdfollow.cli.feed import feed_builder
    from mdfollow.core.schedule import schedule
    from mdfollow.store.cache import load_cached_folder
    from mdfollow.store.zone import local_timezone

    today = dt.date.fromisoformat(TODAY)
    imported = time.perf_counter()
    reading = time.time_ns()
    loaded = load_cached_folder(folder)
    read = time.perf_counter()
    follow_ups = schedule(loaded.prospects, today, loaded.config)
    scheduled = time.perf_counter()
    build = feed_builder(folder, False, None, False, local_zone=local_timezone(), started_ns=reading)
    build(follow_ups, today, loaded.config)
    built = time.perf_counter()
    print(
        f"imports {imported - started:.3f}  load {read - imported:.3f}  schedule {scheduled - read:.3f}"
        f"  build (render or reuse, stamp, join) {built - scheduled:.3f}"
    )


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median(runs: int, command: list[str], mode: str, edited: Path | None = None) -> float:
    timings = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        if mode == "edit":
            timed(command, env)
        for run in range(runs):
            if mode == "cold":
                shutil.rmtree(Path(cache) / "mdfollow", ignore_errors=True)
            if mode == "edit" and edited is not None:
                stamp = edited.stat().st_mtime_ns + (run + 1) * 1_000_000_000
                os.utime(edited, ns=(stamp, stamp))
            timings.append(timed(command, env))
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--floor", nargs=2, metavar=("FOLDER", "OUTPUT"))
    parser.add_argument("--phases", metavar="FOLDER")
    args = parser.parse_args()
    if args.floor:
        floor(Path(args.floor[0]), Path(args.floor[1]))
        return
    if args.phases:
        phases(Path(args.phases))
        return
    sys.path.insert(0, str(HERE))
    from generate import generate

    mdfollow = str(Path(sys.executable).with_name("mdfollow"))
    print(f"median of {args.runs} runs, seconds; {mdfollow}")
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "feed.ics"
        for size in (int(s) for s in args.sizes.split(",")):
            folder = HERE / "data" / f"n{size}"
            if not (folder / "mdfollow.toml").exists():
                generate(size, folder)
            edited = next(folder.glob("*/prospect-00000.md"))
            base = median(args.runs, [sys.executable, __file__, "--floor", str(folder), str(output)], "floor")
            ics = [mdfollow, "--dir", str(folder), "--today", TODAY, "ics", "-o", str(output)]
            cold = median(args.runs, ics, "cold")
            edit = median(args.runs, ics, "edit", edited)
            print(
                f"{size:>7,}  floor {base:6.2f}   ics -o cold {cold:6.2f} ({cold / base:4.2f}x, target 0.6)"
                f"   one edit {edit:6.2f} ({edit / base:4.2f}x, target 0.1)"
            )


if __name__ == "__main__":
    main()
