"""The live feed under a real watchdog observer: every kind of save ends in the right feed.

The feed here is a plain-text stand-in (`text_feed`), so each assertion names the
prospect and its due date; the real iCalendar feed is covered through the CLI.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mdfollow.cli.live import feed_builder
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Config, FollowUp
from mdfollow.core.schedule import schedule
from mdfollow.live.feed import LiveFeed, classify
from mdfollow.store.folder import load_folder, signature
from tests.conftest import WriteFile

TODAY = dt.date(2026, 11, 30)  # a Monday
TIMEOUT = 10.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def text_feed(follow_ups: Sequence[FollowUp], today: dt.date, config: Config) -> bytes:
    """One line per scheduled follow-up: id, due date, and the folder the file is in."""
    return "".join(
        f"{f.prospect.id} {f.due} {f.prospect.path.parent.name}\n" for f in follow_ups if f.due
    ).encode()


def prospect(name: str, created: str | None = None, extra: str = "") -> str:
    lines = ["---", f"name: {name}"]
    if created:
        lines.append(f"created: {created}")
    return "\n".join([*lines, "---", extra])


@dataclass
class Harness:
    """A running `LiveFeed` and everything it published, logged and warned."""

    folder: Path
    live: LiveFeed = field(init=False)
    day: dt.date = TODAY
    feeds: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def feed(self) -> str:
        return self.feeds[-1] if self.feeds else ""

    @property
    def rebuilds(self) -> list[str]:
        return [line for line in self.logs if " due, " in line]

    def wait_feed(self, *lines: str, absent: Sequence[str] = ()) -> None:
        """Wait until the latest feed holds each of `lines` and none of `absent`."""

        def ready() -> bool:
            present = set(self.feed.splitlines())
            return all(line in present for line in lines) and not any(a in self.feed for a in absent)

        wait_for(ready, f"a feed with {lines} and without {list(absent)}; last: {self.feed!r}")


StartWatching = Callable[..., Harness]


@pytest.fixture
def start_watching(folder: Path) -> Iterator[StartWatching]:
    """start_watching() starts a LiveFeed on the folder in a thread; it is stopped at teardown."""
    running: list[tuple[LiveFeed, threading.Thread]] = []

    def start(publish: Callable[[bytes], None] | None = None) -> Harness:
        harness = Harness(folder)

        def record(data: bytes) -> None:
            if publish is not None:
                publish(data)
            harness.feeds.append(data.decode())

        live = LiveFeed(
            folder,
            text_feed,
            record,
            today=lambda: harness.day,
            log=harness.logs.append,
            warn=harness.warnings.append,
            quiet=0.1,
            longest=0.5,
            tick=0.05,
        )
        harness.live = live
        live.start()
        thread = threading.Thread(target=live.run, daemon=True)
        thread.start()
        running.append((live, thread))
        return harness

    yield start
    for live, thread in running:
        live.stop()
        thread.join(TIMEOUT)
        live.close()
        assert not thread.is_alive(), "LiveFeed.run did not return after stop()"


def test_first_feed_is_published_on_start(folder: Path, start_watching: StartWatching) -> None:
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    harness = start_watching()
    assert harness.feed == "ann 2026-11-20 prospects\n"
    [line] = harness.rebuilds
    assert line.startswith("1 prospect, 1 due, first build, 0 errors ("), line


def test_edit_in_place_of_the_same_size(folder: Path, start_watching: StartWatching) -> None:
    """Same length, written straight after the first build: the stat signature alone could miss it."""
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    harness = start_watching()
    with jane.open("r+") as stream:
        stream.write(prospect("Jane", "2026-11-24"))
    harness.wait_feed("jane 2026-11-24 prospects")


def test_a_rewrite_within_one_timestamp_tick_is_not_missed(
    folder: Path, start_watching: StartWatching, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where timestamps are coarse, a same-size rewrite just after a read keeps the stat
    signature; a file read that close to its last change must be read again on its next event."""
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    soon = time.time_ns() + 1_000_000_000
    os.utime(jane, ns=(soon, soon))
    read_at = signature(jane)
    harness = start_watching()
    monkeypatch.setattr(
        "mdfollow.live.feed.signature", lambda path: read_at if path == jane else signature(path)
    )
    with jane.open("r+") as stream:
        stream.write(prospect("Jane", "2026-11-24"))
    harness.wait_feed("jane 2026-11-24 prospects")


def test_atomic_replace_from_a_hidden_temp_file(folder: Path, start_watching: StartWatching) -> None:
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    harness = start_watching()
    temp = folder / ".jane.md.tmp"
    temp.write_text(prospect("Jane", "2026-12-02"))
    os.replace(temp, jane)
    harness.wait_feed("jane 2026-12-02 prospects")


def test_emacs_save_with_backup_and_lock_files(folder: Path, start_watching: StartWatching) -> None:
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    harness = start_watching()
    lock = folder / ".#jane.md"
    lock.symlink_to("user@host.1234:1700000000")
    os.replace(jane, folder / "jane.md~")
    jane.write_text(prospect("Jane", "2026-12-03"))
    lock.unlink()
    harness.wait_feed("jane 2026-12-03 prospects")
    assert all("~" not in feed and "#" not in feed for feed in harness.feeds)


def test_vim_save_with_swap_file(folder: Path, start_watching: StartWatching) -> None:
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    harness = start_watching()
    swap = folder / ".jane.md.swp"
    swap.write_bytes(b"b0VIM 9.0")
    backup = folder / "jane.md~"
    shutil.copy2(jane, backup)
    jane.write_text(prospect("Jane", "2026-12-04"))
    backup.unlink()
    swap.unlink()
    harness.wait_feed("jane 2026-12-04 prospects")


def test_delete_rename_and_move_into_a_subfolder(folder: Path, start_watching: StartWatching) -> None:
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    (folder / "bob.md").write_text(prospect("Bob", "2026-11-23"))
    harness = start_watching()
    (folder / "ann.md").unlink()
    harness.wait_feed("bob 2026-11-23 prospects", absent=["ann"])
    (folder / "bob.md").rename(folder / "robert.md")
    harness.wait_feed("robert 2026-11-23 prospects", absent=["bob"])
    (folder / "archive").mkdir()
    (folder / "robert.md").rename(folder / "archive" / "robert.md")
    harness.wait_feed("robert 2026-11-23 archive", absent=["prospects"])


def test_a_folder_moved_in_from_outside_is_read_whole(
    folder: Path, tmp_path: Path, start_watching: StartWatching
) -> None:
    harness = start_watching()
    outside = tmp_path / "import"
    (outside / "deep").mkdir(parents=True)
    (outside / "cat.md").write_text(prospect("Cat", "2026-11-20"))
    (outside / "deep" / "dan.md").write_text(prospect("Dan", "2026-11-20"))
    outside.rename(folder / "import")
    harness.wait_feed("cat 2026-11-20 import", "dan 2026-11-20 deep")
    shutil.rmtree(folder / "import")
    wait_for(lambda: harness.feed == "", "an empty feed after removing the folder")


def test_a_burst_of_200_files_makes_few_rebuilds(folder: Path, start_watching: StartWatching) -> None:
    harness = start_watching()
    for number in range(200):
        (folder / f"p{number:03}.md").write_text(prospect(f"P {number}", "2026-11-20"))
    wait_for(lambda: harness.feed.count("\n") == 200, "all 200 prospects in the feed")
    assert len(harness.rebuilds) <= 1 + 3, harness.rebuilds
    assert "200 prospects" in harness.rebuilds[-1]


def test_broken_yaml_is_reported_and_left_out_until_fixed(
    folder: Path, start_watching: StartWatching
) -> None:
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane", "2026-11-20"))
    harness = start_watching()
    jane.write_text("---\nname: [Jane\n---\n")
    harness.wait_feed("ann 2026-11-20 prospects", absent=["jane"])
    wait_for(lambda: any(w.startswith(f"{jane}:") for w in harness.warnings), "a path:line warning")
    assert "1 error" in harness.rebuilds[-1]
    jane.write_text(prospect("Jane", "2026-11-25"))
    harness.wait_feed("ann 2026-11-20 prospects", "jane 2026-11-25 prospects")
    wait_for(lambda: "0 errors" in harness.rebuilds[-1], "a rebuild without errors")


def test_config_change_reschedules_and_a_broken_config_keeps_the_last_feed(
    folder: Path, start_watching: StartWatching
) -> None:
    (folder / "sat.md").write_text(prospect("Sat", "2026-12-05"))  # a Saturday: moved to Monday
    harness = start_watching()
    assert harness.feed == "sat 2026-12-07 prospects\n"
    config = folder / "mdfollow.toml"
    config.write_text('workdays = ["mon", "tue", "wed", "thu", "fri", "sat"]\n')
    harness.wait_feed("sat 2026-12-05 prospects")
    assert "mdfollow.toml changed" in harness.rebuilds[-1]
    published = len(harness.feeds)
    config.write_text("workdays = [\n")
    wait_for(lambda: any(line.startswith("error: ") for line in harness.logs), "the config error logged")
    assert "keeping the last good feed" in harness.logs[-1]
    assert len(harness.feeds) == published
    config.write_text("")
    harness.wait_feed("sat 2026-12-07 prospects")


def test_a_config_edit_that_only_adds_a_warning_is_reported(
    folder: Path, start_watching: StartWatching
) -> None:
    (folder / "a.md").write_text(prospect("A", "2026-12-01"))
    os.utime(folder / "a.md", (1_700_000_000, 1_700_000_000))  # not "racy": it is not read again
    harness = start_watching()
    (folder / "mdfollow.toml").write_text('colour = "red"\n')
    wait_for(lambda: any("unknown key 'colour'" in w for w in harness.warnings), "the config warning")
    assert "problems changed" in harness.rebuilds[-1]


def test_midnight_moves_overdue_and_new_follow_ups(folder: Path, start_watching: StartWatching) -> None:
    """A prospect without `created` is due today, so the feed must change when the day does."""
    (folder / "new.md").write_text(prospect("New"))
    harness = start_watching()
    assert harness.feed == "new 2026-11-30 prospects\n"
    harness.day = dt.date(2026, 12, 1)
    harness.wait_feed("new 2026-12-01 prospects")
    assert "new day 2026-12-01" in harness.rebuilds[-1]


def test_a_failed_write_is_logged_and_retried_on_the_next_change(
    folder: Path, start_watching: StartWatching
) -> None:
    failures = [MdfollowError("feed.ics: cannot write: disk full")]

    def publish(data: bytes) -> None:
        if b"bob" in data and failures:
            raise failures.pop()

    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    harness = start_watching(publish)
    (folder / "bob.md").write_text(prospect("Bob", "2026-11-20"))
    wait_for(lambda: any("disk full" in line for line in harness.logs), "the write error logged")
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-23"))
    harness.wait_feed("ann 2026-11-23 prospects", "bob 2026-11-20 prospects")


def test_edits_of_known_files_give_the_feed_a_full_load_gives(
    folder: Path, start_watching: StartWatching
) -> None:
    """Known files are re-read without walking the folder; the result must not differ."""
    for name in ("ann", "bob", "cat"):
        (folder / f"{name}.md").write_text(prospect(name.title(), "2026-11-20"))
    (folder / "team").mkdir()
    (folder / "team" / "bob.md").write_text(prospect("Other Bob", "2026-11-20"))
    harness = start_watching()
    harness.wait_feed("ann 2026-11-20 prospects", "cat 2026-11-20 prospects", absent=["bob"])
    (folder / "team" / "bob.md").write_text("# no front matter: not a prospect any more\n")
    (folder / "cat.md").write_text("---\nname: [Cat\n---\n")
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-24"))
    harness.wait_feed("ann 2026-11-24 prospects", "bob 2026-11-20 prospects", absent=["cat"])
    fresh = load_folder(folder)
    expected = text_feed(schedule(fresh.prospects, TODAY, fresh.config), TODAY, fresh.config).decode()
    assert sorted(harness.feed.splitlines()) == sorted(expected.splitlines())
    assert "1 error" in harness.rebuilds[-1]


def test_a_periodic_rescan_catches_changes_no_event_reported(
    folder: Path, start_watching: StartWatching, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel drops events when its queue overflows; a full rescan now and then repairs that."""
    monkeypatch.setattr("mdfollow.live.feed.RECONCILE", 0.3)
    harness = start_watching()
    harness.live.close()  # no more events from here on
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    harness.wait_feed("ann 2026-11-20 prospects")


def test_the_first_build_fails_loudly_on_a_broken_config(folder: Path) -> None:
    (folder / "mdfollow.toml").write_text("workdays = [\n")
    live = LiveFeed(folder, text_feed, lambda data: None, today=lambda: TODAY, log=print, warn=print)
    with pytest.raises(MdfollowError, match=r"mdfollow\.toml"):
        live.start()
    live.close()


@pytest.mark.parametrize(
    ("path", "is_directory", "change"),
    [
        ("/p/jane.md", False, "file"),
        ("/p/JANE.MD", False, "file"),
        ("/p/mdfollow.toml", False, "rescan"),
        ("/p/archive", True, "rescan"),
        ("/p/jane.md~", False, "ignore"),
        ("/p/.jane.md.swp", False, "ignore"),
        ("/p/.jane.md.tmp", False, "ignore"),
        ("/p/feed.ics", False, "ignore"),
        ("/p/.feed.ics.k2j3.tmp", False, "ignore"),
        ("/p/notes/other.toml", False, "ignore"),
    ],
)
def test_what_each_event_calls_for(path: str, is_directory: bool, change: str) -> None:
    """Writing the feed into the folder itself must not wake a rebuild."""
    assert classify(path, is_directory) == change


def test_watch_and_serve_take_the_feed_options_of_ics(folder: Path, write: WriteFile) -> None:
    write("ann.md", prospect("Ann", "2026-11-20"))
    write("bob.md", prospect("Bob", "2026-12-10"))
    loaded = load_folder(folder)
    follow_ups = schedule(loaded.prospects, TODAY, loaded.config)
    plain = feed_builder(folder, False, None, False, local_zone=None)(follow_ups, TODAY, loaded.config)
    assert plain.count(b"BEGIN:VEVENT") == 2
    options = feed_builder(folder, True, 7, True, local_zone=None)(follow_ups, TODAY, loaded.config)
    assert b"BEGIN:VEVENT" not in options
    assert options.count(b"BEGIN:VTODO") == 1  # Ann's, on today; Bob is beyond 7 days
    assert b"UID:digest-20261130@mdfollow" in options


def test_watch_command_writes_rewrites_and_stops_on_sigterm(folder: Path, tmp_path: Path) -> None:
    """The real `mdfollow watch`, with the real iCalendar feed, as a user runs it."""
    jane = folder / "jane.md"
    jane.write_text(prospect("Jane Doe", "2026-11-20"))
    output = folder / "feed.ics"
    stderr = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", "2026-11-30"]
    with stderr.open("wb") as errors:
        process = subprocess.Popen([*command, "watch", "-o", str(output)], stderr=errors)
        try:
            wait_for(lambda: b"UID:jane-1@mdfollow" in _read(output), "the first feed")
            jane.write_text(prospect("Jane Doe", "2026-11-20", "## Touches\n- 2026-11-27 email: sent\n"))
            wait_for(lambda: b"UID:jane-2@mdfollow" in _read(output), "the feed after a touch")
            assert b"jane-1@" not in _read(output)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(TIMEOUT)
    log = stderr.read_text()
    assert code == 0, log
    assert "Traceback" not in log
    assert "1 file changed" in log


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
