"""`mdfollow ics` on real files: UIDs across a reschedule and a logged touch, -o, bad input, determinism."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import RunCli, WriteFile

JANE = """
    ---
    name: Jane Doe
    company: Acme Corp
    email: jane@acme.example
    tags: [warm]
    created: 2026-11-01
    next: {next}
    ---
    # Jane Doe

    ## Touches
    - 2026-11-02 email: sent quote #1042
    - 2026-11-09 09:40 call: no answer
    {extra}
    """


def ics_bytes(folder: Path, *args: str) -> bytes:
    """The real command's stdout, bytes as they are (CliRunner's `stdout` turns CRLF into LF)."""
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", "2026-11-30", "ics", *args]
    return subprocess.run(command, capture_output=True, check=True).stdout


def uids_and_starts(feed: str) -> dict[str, str]:
    calendar = IcsCalendarStream.calendar_from_ics(feed)
    return {e.uid or "": str(e.dtstart) for e in calendar.events}


def test_a_reschedule_moves_the_same_uid_and_a_logged_touch_retires_it(write: WriteFile, run: RunCli) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    first = run("ics")
    assert first.exit_code == 0, first
    assert uids_and_starts(first.stdout) == {"jane-3@mdfollow": "2026-12-01"}

    write("jane.md", JANE.format(next="2026-12-08", extra=""))  # snoozed a week
    moved = run("ics")
    assert uids_and_starts(moved.stdout) == {"jane-3@mdfollow": "2026-12-08"}
    assert moved.stdout != first.stdout

    write("jane.md", JANE.format(next="2026-12-08", extra="- 2026-12-08 call: got through, sending contract"))
    logged = run("ics", today="2026-12-08")
    assert set(uids_and_starts(logged.stdout)) == {"jane-4@mdfollow"}


def test_stdout_is_the_feed_and_nothing_else(folder: Path, write: WriteFile, run: RunCli) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    write("notes.md", "# Not a prospect\n")
    feed = ics_bytes(folder, "--todo", "--days", "7")
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n") and feed.endswith(b"END:VCALENDAR\r\n")
    [todo] = IcsCalendarStream.calendar_from_ics(feed.decode("utf-8")).todos
    assert todo.uid == "jane-3@mdfollow"
    assert run("ics", "--days", "0").stdout.count("BEGIN:VEVENT") == 0


def test_digest_flag_groups_the_day(write: WriteFile, run: RunCli) -> None:
    write("jane.md", JANE.format(next="2026-11-30", extra=""))
    write("bob.md", "---\nname: Bob\ncreated: 2026-11-20\n---\n")
    result = run("ics", "--digest")
    [event] = IcsCalendarStream.calendar_from_ics(result.stdout).events
    assert event.summary == "Follow-ups (2)"


def test_dash_o_writes_the_file_atomically_and_keeps_its_mode(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    target = folder / "out" / "feed.ics"
    target.parent.mkdir()
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    result = run("ics", "-o", str(target))
    assert result.exit_code == 0, result
    assert result.stdout == ""
    data = target.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data == ics_bytes(folder)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["feed.ics"]  # no temp file left


def test_an_unwritable_output_is_one_line_not_a_traceback(folder: Path, run: RunCli) -> None:
    result = run("ics", "-o", str(folder / "missing" / "feed.ics"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_bad_files_are_reported_and_the_rest_exported(write: WriteFile, run: RunCli) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    write("broken.md", "---\nname: [unclosed\n---\n")
    result = run("ics")
    assert result.exit_code == 0
    assert "broken.md" in result.stderr
    assert set(uids_and_starts(result.stdout)) == {"jane-3@mdfollow"}


def test_a_negative_days_is_a_usage_error(run: RunCli) -> None:
    assert run("ics", "--days", "-1").exit_code == 2


def test_other_commands_do_not_import_icalendar() -> None:
    code = "import sys, mdfollow.cli; assert 'icalendar' not in sys.modules, 'icalendar imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("extra_config", ["", '[calendar]\ntime = "09:00"\ntimezone = "Europe/Paris"\n'])
def test_the_feed_is_byte_identical_under_any_hash_seed(
    folder: Path, write: WriteFile, extra_config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "mdfollow.toml").write_text(extra_config)
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    for i in range(6):
        write(f"sub/p{i}.md", f"---\nname: P{i}\ntags: [b{i}, a, c]\ncreated: 2026-11-{10 + i}\n---\n")
    outputs = set()
    for seed in ("1", "4242"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        outputs.add(ics_bytes(folder))
    assert len(outputs) == 1
    assert outputs.pop().count(b"BEGIN:VEVENT") == 7


def test_a_follow_up_past_the_last_calendar_day_is_left_out_with_a_warning(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    write("typo.md", "---\nname: Typo\ncreated: 2026-11-01\nnext: 9999-12-31\n---\n")
    result = run("ics")
    assert result.exit_code == 0, result
    assert set(uids_and_starts(result.stdout)) == {"jane-3@mdfollow"}
    warning = "warning: due 9999-12-31 is past what a calendar can show: left out of the feed"
    assert result.stderr == f"{folder / 'typo.md'}:4: {warning}\n"


def stamps(feed: str) -> list[str]:
    return [line for line in feed.splitlines() if line.startswith(("DTSTAMP", "LAST-MODIFIED", "SEQUENCE"))]


def test_a_snooze_earlier_or_later_restamps_the_event_and_nothing_changed_is_byte_identical(
    write: WriteFile, run: RunCli
) -> None:
    write("jane.md", JANE.format(next="2026-12-21", extra=""))
    feeds = [run("ics").stdout]
    assert run("ics").stdout == feeds[0]
    for day in ("2026-12-10", "2026-12-24"):
        assert run("snooze", "jane", "--until", day).exit_code == 0
        feeds.append(run("ics").stdout)
        assert uids_and_starts(feeds[-1]) == {"jane-3@mdfollow": day}
        assert run("ics").stdout == feeds[-1]
    [first, earlier, later] = [stamps(feed) for feed in feeds]
    assert len(first) == 2 and first[0][len("DTSTAMP") :] == first[1][len("LAST-MODIFIED") :]  # no SEQUENCE
    assert len({first[0], earlier[0], later[0]}) == 3
    assert len({first[1], earlier[1], later[1]}) == 3


def test_an_unchanged_folder_gets_the_stored_feed_and_any_change_a_new_one(
    folder: Path, write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mdfollow.core import ics

    jane = write("jane.md", "---\nname: Jane\ncreated: 2026-11-20\n---\n## Touches\n")
    write("bad.md", "---\nname: [oops\n---\n")
    first = run("ics")
    builds: list[int] = []
    real = ics.build_feed
    monkeypatch.setattr(ics, "build_feed", lambda *a, **k: builds.append(1) or real(*a, **k))
    again = run("ics")
    assert (again.stdout, again.stderr, builds) == (first.stdout, first.stderr, [])
    assert "bad.md:2: broken YAML" in again.stderr  # warnings are kept with the feed
    for changed in (lambda: run("ics", "--todo"), lambda: run("ics", today="2026-12-01")):
        assert changed().stdout != first.stdout
    jane.write_text(jane.read_text().replace("Jane", "Janet"))
    edited = run("ics")
    assert "Janet" in edited.stdout and len(builds) == 3
    (folder / "mdfollow.toml").write_text('[calendar]\nname = "Mine"\n')
    assert "X-WR-CALNAME:Mine" in run("ics").stdout
