"""`mdfollow ics` on real files: UIDs across a reschedule and a logged touch, -o, bad input, determinism."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    target.write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")  # an old feed: replaced
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
    assert "bad.md:3: broken YAML" in again.stderr  # warnings are kept with the feed
    for changed in (lambda: run("ics", "--todo"), lambda: run("ics", today="2026-12-01")):
        assert changed().stdout != first.stdout
    jane.write_text(jane.read_text().replace("Jane", "Janet"))
    edited = run("ics")
    assert "Janet" in edited.stdout and len(builds) == 3
    (folder / "mdfollow.toml").write_text('[calendar]\nname = "Mine"\n')
    assert "X-WR-CALNAME:Mine" in run("ics").stdout


def stamp_of(feed: str, uid: str) -> str:
    [event] = [e for e in IcsCalendarStream.calendar_from_ics(feed).events if e.uid == uid]
    assert event.last_modified == event.dtstamp
    return event.dtstamp.isoformat()


def test_stamps_never_go_down_over_a_day_of_snoozes_and_a_removed_next(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    """Issue 9: 11 snoozes in a day gave 6 decreases; removing `next` restored an older stamp."""
    jane = write("jane.md", JANE.format(next="2026-12-21", extra=""))
    feeds = [run("ics").stdout]
    for day in range(1, 12):
        assert run("snooze", "jane", "--until", f"2026-12-{day:02d}").exit_code == 0
        feeds.append(run("ics").stdout)
    jane.write_text(jane.read_text().replace("next: 2026-12-11\n", ""))
    feeds.append(run("ics").stdout)  # now placed by the cadence, dated 2026-11-09
    versions = [
        (stamp_of(feed, "jane-3@mdfollow"), uids_and_starts(feed)["jane-3@mdfollow"]) for feed in feeds
    ]
    for (before, placed_before), (after, placed_after) in itertools.pairwise(versions):
        assert after > before if placed_after != placed_before else after == before, versions
    assert len({placed for _, placed in versions}) >= 9  # weekend days move to Monday: the same event
    assert run("ics").stdout == feeds[-1]  # nothing changed: the same bytes, the same stamp


def _stamp_store(cache: Path) -> Path:
    [path] = (cache / "mdfollow").glob("*.stamps.marshal")
    return path


def test_a_stamp_store_that_others_may_write_or_that_is_corrupt_is_ignored(
    folder: Path, write: WriteFile, run: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal

    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    write("jane.md", JANE.format(next="2026-12-21", extra=""))
    other = write("other.md", "---\nname: Other\n---\n")
    natural = stamp_of(run("ics").stdout, "jane-3@mdfollow")
    store = _stamp_store(cache)
    planted = {"VEVENT:jane-3@mdfollow": ("another version", 4_000_000_000)}  # year 2096

    def stamp_after(mode: int, data: bytes) -> str:
        store.write_bytes(data)
        os.chmod(store, mode)
        other.write_text(other.read_text() + "\n")  # a change elsewhere: the feed is rebuilt
        return stamp_of(run("ics").stdout, "jane-3@mdfollow")

    assert stamp_after(0o600, marshal.dumps(planted)) == "2096-10-02T07:06:41+00:00"  # trusted: kept rising
    assert stamp_after(0o666, marshal.dumps(planted)) == natural  # others may write it: ignored
    assert stamp_after(0o600, b"\x00garbage") == natural
    monkeypatch.setenv("MDFOLLOW_NO_CACHE", "1")
    assert stamp_after(0o600, marshal.dumps(planted)) == natural


def _age(*paths: Path) -> None:
    """Files saved a minute ago: old enough for their components to be kept."""
    for path in paths:
        stamp = path.stat().st_mtime_ns - 60_000_000_000
        os.utime(path, ns=(stamp, stamp))


def test_after_one_edit_ics_renders_one_component(
    folder: Path, write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mdfollow.core import ics
    from mdfollow.store import feedcache

    files = [write(f"p{i}.md", f"---\nname: P{i}\ncreated: 2026-11-{10 + i}\n---\n") for i in range(8)]
    _age(*files)
    rendered: list[str] = []
    real = ics.follow_up_component

    def counting(follow_up: Any, *args: Any) -> ics.Rendered:
        rendered.append(follow_up.prospect.id)
        return real(follow_up, *args)

    monkeypatch.setattr(feedcache, "follow_up_component", counting)
    first = run("ics").stdout
    assert len(rendered) == 8
    files[3].write_text(files[3].read_text().replace("P3", "Paula"))
    _age(files[3])
    rendered.clear()
    edited = run("ics").stdout
    assert rendered == ["p3"]
    monkeypatch.setenv("MDFOLLOW_NO_CACHE", "1")
    uncached = run("ics").stdout

    def without_stamps(feed: str) -> list[str]:
        return [line for line in feed.splitlines() if not line.startswith(("DTSTAMP", "LAST-MODIFIED"))]

    assert without_stamps(edited) == without_stamps(uncached) != without_stamps(first)
    assert "Paula" in edited
    monkeypatch.setenv("MDFOLLOW_NO_CACHE", "")
    rendered.clear()
    run("ics", today="2026-12-01")  # another day: every component again
    assert len(rendered) == 8


def test_a_file_saved_during_the_run_is_rendered_again_next_time(
    write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It may have changed after it was read: its component is not kept."""
    from mdfollow.core import ics
    from mdfollow.store import feedcache

    old = write("old.md", "---\nname: Old\ncreated: 2026-11-10\n---\n")
    other = write("other.md", "---\nname: Other\ncreated: 2026-11-10\n---\n")
    _age(old, other)
    write("new.md", "---\nname: New\ncreated: 2026-11-10\n---\n")
    rendered: list[str] = []
    real = ics.follow_up_component
    monkeypatch.setattr(
        feedcache, "follow_up_component", lambda f, *a: rendered.append(f.prospect.id) or real(f, *a)
    )
    run("ics")
    assert sorted(rendered) == ["new", "old", "other"]
    other.write_text(other.read_text().replace("Other", "Otto"))
    _age(other)
    rendered.clear()
    run("ics")
    assert sorted(rendered) == ["new", "other"]


def test_no_feed_carries_an_absolute_path(folder: Path, write: WriteFile) -> None:
    write("sub/jane.md", JANE.format(next="2026-12-01", extra=""))
    feed = ics_bytes(folder).replace(b"\r\n ", b"")
    assert str(folder).encode() not in feed
    assert b"File: sub/jane.md" in feed


def test_today_at_the_end_of_time_warns_instead_of_crashing(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    result = run("ics", today="9999-12-31")
    assert result.exit_code == 0, result
    assert IcsCalendarStream.calendar_from_ics(result.stdout).events == []
    assert "today 9999-12-31 is past what a calendar can show" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_means_the_zone_of_the_machine_the_command_runs_on(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "mdfollow.toml").write_text('[calendar]\ntime = "09:00"\n')
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    monkeypatch.setenv("TZ", "America/New_York")
    feed = ics_bytes(folder).decode()
    assert "DTSTART;TZID=America/New_York:20261201T090000" in feed.splitlines()
    assert "X-WR-TIMEZONE:America/New_York" in feed.splitlines()
    monkeypatch.setenv("TZ", ":/usr/share/zoneinfo/Asia/Tokyo")  # another machine: never the stored feed
    assert "DTSTART;TZID=Asia/Tokyo:20261201T090000" in ics_bytes(folder).decode().splitlines()


def test_a_components_file_that_is_corrupt_or_others_may_write_is_ignored(
    folder: Path, write: WriteFile, run: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal

    from mdfollow.core import ics
    from mdfollow.store import feedcache

    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    files = [write(f"p{i}.md", f"---\nname: P{i}\ncreated: 2026-11-{10 + i}\n---\n") for i in range(3)]
    _age(*files)
    first = run("ics").stdout
    [stored] = (cache / "mdfollow").glob("*.components.marshal")
    key, entries = marshal.loads(stored.read_bytes())
    name = str(files[0])
    forged = {**entries, name: (entries[name][0], (*entries[name][1][:2], "SUMMARY:forged\r\n", 0, "x"))}
    rendered: list[str] = []
    real = ics.follow_up_component
    monkeypatch.setattr(
        feedcache, "follow_up_component", lambda f, *a: rendered.append(f.prospect.id) or real(f, *a)
    )

    def feed_after(mode: int, data: bytes) -> str:
        stored.write_bytes(data)
        os.chmod(stored, mode)
        files[2].write_text(files[2].read_text() + "\n")  # a change elsewhere: the feed is rebuilt
        _age(files[2])
        rendered.clear()
        return run("ics").stdout

    assert "SUMMARY:forged" in feed_after(0o600, marshal.dumps((key, forged)))  # trusted: used as is
    assert "forged" not in feed_after(0o666, marshal.dumps((key, forged)))  # others may write it
    assert sorted(rendered) == ["p0", "p1", "p2"]
    for junk in (b"\x00garbage", marshal.dumps((key, {name: (1, 2)})), marshal.dumps([1, 2])):
        assert feed_after(0o600, junk).count("BEGIN:VEVENT") == 3
    assert (
        feed_after(0o600, marshal.dumps((key, {name: (1, 2)})))
        .replace("\r\n", "\n")
        .count("SUMMARY:Follow up with P0")
        == 1
    )
    assert first.count("BEGIN:VEVENT") == 3


def test_watch_and_serve_builds_rerender_one_component_and_keep_stamps_rising(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder `watch` and `serve` use: components kept in memory, stamps rising from build to build."""
    import dataclasses
    import datetime as dt

    from mdfollow.cli.feed import feed_builder
    from mdfollow.core import ics
    from mdfollow.core.schedule import schedule
    from mdfollow.store import feedcache
    from mdfollow.store.folder import load_folder

    monkeypatch.setenv("MDFOLLOW_NO_CACHE", "1")  # nothing on disk: the process alone keeps them
    write("jane.md", JANE.format(next="2026-12-01", extra=""))
    write("bob.md", "---\nname: Bob\ncreated: 2026-11-20\n---\n")
    loaded = load_folder(folder)
    today = dt.date(2026, 11, 30)
    follow_ups = schedule(loaded.prospects, today, loaded.config)
    rendered: list[str] = []
    real = ics.follow_up_component
    monkeypatch.setattr(
        feedcache, "follow_up_component", lambda f, *a: rendered.append(f.prospect.id) or real(f, *a)
    )
    build = feed_builder(folder, False, None, False, local_zone=None)
    jane = next(f for f in follow_ups if f.prospect.id == "jane")
    snoozed = dataclasses.replace(jane, due=dt.date(2026, 12, 2))
    feeds = []
    for version in (jane, snoozed, jane):  # snoozed a day, then back: the same data as at first
        others = [f for f in follow_ups if f is not jane]
        rendered.clear()
        feeds.append(build([*others, version], today, loaded.config).decode())
    assert rendered == ["jane"]  # Bob's component came from the last build
    stamps = [stamp_of(feed, "jane-3@mdfollow") for feed in feeds]
    assert stamps[0] < stamps[1] < stamps[2], stamps


def test_one_folder_has_one_set_of_stamps_however_its_path_is_spelled(
    folder: Path, write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mdfollow.cli import app

    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.chdir(folder.parent)
    stamps = []
    for spelling, day in (
        (str(folder), "2026-12-10"),
        (folder.name, "2026-12-21"),
        ("./prospects", "2026-12-10"),
    ):
        write("jane.md", JANE.format(next=day, extra=""))  # snoozed there and back
        result = CliRunner().invoke(app, ["--dir", spelling, "--today", "2026-11-30", "ics"])
        assert result.exit_code == 0, result.output
        stamps.append(stamp_of(result.stdout, "jane-3@mdfollow"))
    assert stamps == sorted(stamps) and len(set(stamps)) == 3, stamps
    assert len(list((cache / "mdfollow").glob("*.stamps.marshal"))) == 1
