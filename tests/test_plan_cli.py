"""SPEC §7 through the real CLI and the real feed: due, due --days, due --json, show, ics."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ical.calendar import Calendar
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import RunCli, WriteFile

PLAN = """\
[calendar]
timezone = "Europe/London"
[plan]
slots = ["09:30", "13:00", "16:30"]
daily = 3
hour = "fri 09:00"
"""


@pytest.fixture
def pile(folder: Path, write: WriteFile) -> None:
    """Five fresh cards from last week, a caller on their third attempt, a reply, a pinned next."""
    (folder / "mdfollow.toml").write_text(PLAN)
    for index in range(1, 6):
        write(
            f"card{index}.md",
            f'---\nname: Card {index}\ncompany: Co {index}\nphone: "+44 20 7946 000{index}"\ncreated: 2026-11-25\n---\n',
        )
    write(
        "ann.md",
        "---\nname: Ann Lee\nemail: ann@lee.example\n---\n## Touches\n- 2026-11-20 16:20 call: vm\n- 2026-11-26 09:35 call: vm\n",
    )
    write("ben.md", "---\nname: Ben Ng\nemail: ben@ng.example\nnext: 2026-11-30 15:00\n---\n")
    write(
        "cy.md",
        "---\nname: Cy Oh\nemail: cy@oh.example\n---\n## Touches\n- 2026-11-27 12:40 email in: interested\n",
    )


def rows(run: RunCli, *args: str, today: str = "2026-11-30") -> list[tuple[str, str, str | None, str]]:
    result = run("due", "--json", *args, today=today)
    assert result.exit_code == 0, result
    return [(r["id"], r["planned"], r["time"], r["due"]) for r in json.loads(result.stdout)]


@pytest.mark.usefixtures("pile")
def test_due_json_has_planned_and_time_and_keeps_due(run: RunCli) -> None:
    # Monday: the reply and the next are pinned, Ann's cadence fills the third place.
    assert rows(run) == [
        ("cy", "2026-11-30", "09:30", "2026-11-30"),
        ("ben", "2026-11-30", "15:00", "2026-11-30"),
        ("ann", "2026-11-30", "13:00", "2026-11-30"),
    ]
    everything = rows(run, "--all")
    assert [r[0] for r in everything][3:] == ["card1", "card2", "card3", "card4", "card5"]
    assert [r[1] for r in everything][3:] == ["2026-12-01"] * 3 + ["2026-12-02"] * 2
    assert all(r[3] == "2026-11-25" and r[2] == "09:30" for r in everything[3:])


@pytest.mark.usefixtures("pile")
def test_due_table_shows_the_slot_and_moved_rows(run: RunCli) -> None:
    result = run("due", "--all")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["PLANNED", "TIME"]
    assert lines[1].startswith("2026-11-30  09:30  today") and "Cy Oh" in lines[1]
    card = next(line for line in lines if "Card 4" in line)
    assert card.split("  ")[:3] == ["2026-12-02", "09:30", "5d late, moved"]
    assert lines[-1] == "3 planned for today, 5 on the days after (5 overdue, 5 moved)"


@pytest.mark.usefixtures("pile")
def test_due_today_counts_what_is_planned_later(run: RunCli) -> None:
    result = run("due")
    assert result.exit_code == 0, result
    assert len(result.stdout.splitlines()) == 5
    assert result.stdout.splitlines()[-1] == "3 planned for today · 5 planned later"


@pytest.mark.usefixtures("pile")
def test_due_days_shows_the_plan_day_by_day(run: RunCli) -> None:
    result = run("due", "--days", "4")
    assert result.exit_code == 0, result
    headings = [
        line for line in result.stdout.splitlines() if line[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]
    assert headings == [
        "Mon 2026-11-30: 3 planned",
        "Tue 2026-12-01: 3 planned",
        "Wed 2026-12-02: 2 planned",
        "Thu 2026-12-03: nothing planned",
        "Fri 2026-12-04: nothing planned",
    ]
    lines = result.stdout.splitlines()
    tuesday = lines.index("Tue 2026-12-01: 3 planned")
    assert [line.split()[0] for line in lines[tuesday + 1 : tuesday + 4]] == ["2026-12-01"] * 3


@pytest.mark.usefixtures("pile")
def test_show_explains_the_plan_in_one_line(run: RunCli) -> None:
    ann = run("show", "ann")
    assert ann.exit_code == 0, ann
    assert "plan:     next: Mon 13:00, a different time than the last two calls" in ann.stdout.splitlines()
    card = run("show", "card5")
    assert (
        "plan:     due Wed 2026-11-25, planned Wed 09:30: Monday and Tuesday are full (3 a day); "
        "the first slot, for a first attempt" in card.stdout.splitlines()
    )
    data = json.loads(run("show", "card5", "--json").stdout)
    assert (data["due"], data["planned"], data["time"]) == ("2026-11-25", "2026-12-02", "09:30")


def test_without_a_plan_due_is_as_before(write: WriteFile, run: RunCli) -> None:
    write("card.md", "---\nname: Card\ncreated: 2026-11-25\n---\n")
    [row] = json.loads(run("due", "--json").stdout)
    assert "planned" not in row and row["time"] is None and row["due"] == "2026-11-25"
    assert run("due").stdout.splitlines()[0].split()[0] == "DUE"


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('slots = ["09:30", "9h"]', "mdfollow.toml:3: plan.slots[1]: '9h' is not a time"),
        ('slots = ["13:00", "09:30"]', "mdfollow.toml:3: plan.slots[1]: '09:30' is before 13:00"),
        ("daily = -3", "mdfollow.toml:3: plan.daily: -3 is below 0"),
        ('hour = "friday"', "mdfollow.toml:3: plan.hour: 'friday' is not \"DAY HH:MM\""),
    ],
)
def test_a_bad_plan_is_one_line_and_nothing_is_written(
    folder: Path, write: WriteFile, run: RunCli, table: str, where: str
) -> None:
    write("card.md", "---\nname: Card\ncreated: 2026-11-25\n---\n## Touches\n")
    (folder / "mdfollow.toml").write_text(f'reply = "1d"\n[plan]\n{table}\n')
    before = snapshot(folder)
    for command in (["due"], ["ics"], ["log", "card", "call", "rang"], ["show", "card"]):
        result = run(*command)
        assert result.exit_code == 1, (command, result)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"mdfollow: {folder}") and where in line
        assert result.stdout == ""
    assert snapshot(folder) == before


def feed(folder: Path, *args: str) -> tuple[bytes, Calendar]:
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", "2026-11-30", "ics", *args]
    data = subprocess.run(command, capture_output=True, check=True).stdout
    return data, IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))


LONDON = "Europe/London"


@pytest.mark.usefixtures("pile")
def test_the_feed_places_events_on_their_planned_day_and_slot(folder: Path) -> None:
    data, calendar = feed(folder)
    starts = {e.uid: e.dtstart for e in calendar.events if not (e.uid or "").startswith("hour-")}
    assert isinstance(starts["card4-1@mdfollow"], dt.datetime)
    assert {
        uid: (str(start.date()), f"{start:%H:%M}")
        for uid, start in starts.items()
        if isinstance(start, dt.datetime)
    } == {
        "cy-1@mdfollow": ("2026-11-30", "09:30"),
        "ben-1@mdfollow": ("2026-11-30", "15:00"),
        "ann-3@mdfollow": ("2026-11-30", "13:00"),
        "card1-1@mdfollow": ("2026-12-01", "09:30"),
        "card2-1@mdfollow": ("2026-12-01", "09:30"),
        "card3-1@mdfollow": ("2026-12-01", "09:30"),
        "card4-1@mdfollow": ("2026-12-02", "09:30"),
        "card5-1@mdfollow": ("2026-12-02", "09:30"),
    }
    assert all(
        getattr(start.tzinfo, "key", None) == LONDON
        for start in starts.values()
        if isinstance(start, dt.datetime)
    )
    assert b"TZID=Europe/London:20261202T093000" in data
    assert feed(folder)[0] == data  # byte-identical for the same folder, config and today


@pytest.mark.usefixtures("pile")
def test_the_weekly_hour_lists_what_is_planned_until_the_next_one(folder: Path, write: WriteFile) -> None:
    write("dee.md", "---\nname: Dee Ray\nemail: dee@ray.example\nnext: 2026-12-14\n---\n")
    _, calendar = feed(folder)
    hours = sorted((e for e in calendar.events if (e.uid or "").startswith("hour-")), key=lambda e: e.dtstart)
    assert [e.uid for e in hours] == [
        "hour-20261204@mdfollow",
        "hour-20261211@mdfollow",
        "hour-20261218@mdfollow",
        "hour-20261225@mdfollow",
        "hour-20270101@mdfollow",
    ]
    assert [e.summary for e in hours] == [
        "Follow-up hour (8)",
        "Follow-up hour (1)",
        "Follow-up hour (0)",
        "Follow-up hour (0)",
        "Follow-up hour (0)",
    ]
    first = hours[0]
    assert isinstance(first.dtstart, dt.datetime) and f"{first.dtstart:%a %H:%M}" == "Fri 09:00"
    assert first.dtend - first.dtstart == dt.timedelta(hours=1)
    lines = (first.description or "").split("\n")
    assert lines[:3] == [
        "Cy Oh, email, cy@oh.example",
        "Ben Ng, ben@ng.example",
        "Ann Lee, call, ann@lee.example",
    ]
    assert "Card 4, Co 4, +44 20 7946 0004" in lines
    assert hours[1].description == "Dee Ray, dee@ray.example"


@pytest.mark.usefixtures("pile")
def test_the_weekly_hour_with_todo_and_days(folder: Path) -> None:
    _, calendar = feed(folder, "--todo", "--days", "7")
    hours = [t for t in calendar.todos if (t.uid or "").startswith("hour-")]
    assert [(t.uid, t.summary) for t in hours] == [("hour-20261204@mdfollow", "Follow-up hour (8)")]
    [hour] = hours
    assert isinstance(hour.due, dt.datetime) and hour.dtstart is not None
    assert hour.due - hour.dtstart == dt.timedelta(hours=1)
    assert len(calendar.todos) == 9 and not calendar.events


def test_an_empty_folder_still_has_its_weekly_hours(folder: Path) -> None:
    (folder / "mdfollow.toml").write_text('[plan]\nhour = "mon 16:00"\n')
    _, calendar = feed(folder)
    assert [(e.uid, e.summary, e.description or "") for e in calendar.events][:2] == [
        ("hour-20261130@mdfollow", "Follow-up hour (0)", ""),
        ("hour-20261207@mdfollow", "Follow-up hour (0)", ""),
    ]
    assert len(calendar.events) == 5


@pytest.mark.usefixtures("pile")
def test_the_digest_and_overdue_keep_follow_the_plan(folder: Path) -> None:
    (folder / "mdfollow.toml").write_text(PLAN.replace("[plan]", 'overdue = "keep"\ndigest = true\n[plan]'))
    _, calendar = feed(folder)
    digests = {e.uid: e.summary for e in calendar.events if (e.uid or "").startswith("digest-")}
    # Overdue cards are on the days the plan gives them, not kept on 2026-11-25.
    assert digests == {
        "digest-20261130@mdfollow": "Follow-ups (3)",
        "digest-20261201@mdfollow": "Follow-ups (3)",
        "digest-20261202@mdfollow": "Follow-ups (2)",
    }


@pytest.mark.usefixtures("pile")
def test_on_a_weekend_nothing_is_planned_for_today(run: RunCli) -> None:
    result = run("due", today="2026-12-05")
    assert result.exit_code == 0, result
    assert result.stdout == "Nothing planned for today · 8 planned later\n"
    # Saturday and Sunday are not workdays: the plan starts on Monday, 3 a day.
    assert [r[1] for r in rows(run, "--days", "1", today="2026-12-05")] == []
    weekend = [r[1] for r in rows(run, "--days", "2", today="2026-12-05")]
    assert weekend == ["2026-12-07"] * 3


def test_without_slots_there_is_no_time_column(folder: Path, write: WriteFile, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text("[plan]\ndaily = 1\n")
    write("ann.md", "---\nname: Ann\ncreated: 2026-11-30\n---\n")
    write("bob.md", "---\nname: Bob\ncreated: 2026-11-30\n---\n")
    lines = run("due", "--days", "1").stdout.splitlines()
    assert lines[0].split() == ["PLANNED", "TOUCH", "CHANNEL", "NAME", "COMPANY", "CONTACT", "WHY"]
    assert lines[1:] == [
        "Mon 2026-11-30: 1 planned",
        "2026-11-30  today  #1              Ann                     new",
        "Tue 2026-12-01: 1 planned",
        "2026-12-01  moved  #1              Bob                     new",
        "1 planned for today, 1 on the days after (1 moved)",
    ]


def _starts(data: bytes) -> dict[str, str]:
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return {e.uid or "": str(e.dtstart) for e in calendar.events}


def test_a_new_prospect_moves_an_unchanged_one_in_the_stored_feed(folder: Path, write: WriteFile) -> None:
    """The plan depends on the whole folder: a component kept for an unchanged file must not be reused."""
    (folder / "mdfollow.toml").write_text("[plan]\ndaily = 1\n")
    ann = write("ann.md", "---\nname: Ann\ncreated: 2026-11-30\n---\n")
    os.utime(ann, (1_700_000_000, 1_700_000_000))  # old enough for its component to be kept
    assert _starts(feed(folder)[0]) == {"ann-1@mdfollow": "2026-11-30"}
    write("aaron.md", "---\nname: Aaron\ncreated: 2026-11-30\n---\n")
    assert _starts(feed(folder)[0]) == {"aaron-1@mdfollow": "2026-11-30", "ann-1@mdfollow": "2026-12-01"}


def test_watch_and_serve_rebuilds_move_an_unchanged_one_too(folder: Path) -> None:
    from mdfollow.cli.feed import feed_builder
    from mdfollow.core.config import parse_config
    from mdfollow.core.parse import parse_prospect
    from mdfollow.core.schedule import schedule

    config, _ = parse_config(folder / "mdfollow.toml", "[plan]\ndaily = 1\n")
    ann, _ = parse_prospect(folder / "ann.md", b"---\nname: Ann\ncreated: 2026-11-30\n---\n")
    aaron, _ = parse_prospect(folder / "aaron.md", b"---\nname: Aaron\ncreated: 2026-11-30\n---\n")
    assert ann is not None and aaron is not None
    build = feed_builder(folder, False, None, False, local_zone=None)  # components kept in memory
    today = dt.date(2026, 11, 30)
    assert _starts(build(schedule([ann], today, config), today, config)) == {"ann-1@mdfollow": "2026-11-30"}
    moved = build(
        schedule([ann, aaron], today, config), today, config
    )  # the same Ann object, as watch keeps it
    assert _starts(moved) == {"aaron-1@mdfollow": "2026-11-30", "ann-1@mdfollow": "2026-12-01"}
