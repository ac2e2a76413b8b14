"""The live feed behind `watch` and `serve`: rebuild the feed whenever the folder or the day changes.

A watchdog observer only sets a flag; the rebuild runs in the caller's loop, so a
bad file or a failing write can never kill the observer thread (watchdog drops a
handler's exception together with the thread, silently).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from mdfollow.config import CONFIG_NAME
from mdfollow.errors import MdfollowError
from mdfollow.folder import Memo, Signature, load_folder
from mdfollow.model import Config, FollowUp, Problem
from mdfollow.schedule import schedule

Build = Callable[[Sequence[FollowUp], dt.date, Config], bytes]
"""Follow-ups → feed bytes (`ics.build_feed` with the command's options)."""

QUIET = 0.25
"""Seconds without a file event before a rebuild: one rebuild for an editor's save dance."""
LONGEST = 1.0
"""Rebuild at least this often during a long burst (a `git pull` of many files)."""
TICK = 1.0
"""How often an idle loop checks whether the day has changed (midnight, resume from sleep)."""
RACY_NS = 50_000_000
"""A file modified this close to a rebuild may change again within the same timestamp tick."""
_STALE: Signature = (-1, -1, -1, -1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _watched_events() -> list[Any]:
    """What can change the feed; opens and read-only closes are left out, or every
    rebuild (which reads mdfollow.toml) would trigger the next one."""
    from watchdog import events

    return [
        events.FileCreatedEvent,
        events.DirCreatedEvent,
        events.FileDeletedEvent,
        events.DirDeletedEvent,
        events.FileMovedEvent,
        events.DirMovedEvent,
        events.FileModifiedEvent,
        events.FileAttribEvent,
        events.FileClosedEvent,
    ]


def relevant(path: str, is_directory: bool) -> bool:
    """A prospect file, a folder (moved or deleted with its files) or the config.

    Backups, swap and lock files of editors either do not end in `.md` or are
    skipped by the loader, so at worst they cause a rebuild that changes nothing.
    """
    return is_directory or path.lower().endswith(".md") or os.path.basename(path) == CONFIG_NAME


class LiveFeed:
    """Keeps a feed current: loads the folder, schedules, builds, and publishes changed bytes.

    `start()` starts watching and then builds once, so no change after the first build
    is missed; `run()` rebuilds on changes and day changes until `stop()`. The `Memo`
    is kept across rebuilds, so only files whose stat signature changed are re-parsed.
    """

    def __init__(
        self,
        root: Path,
        build: Build,
        publish: Callable[[bytes], None],
        *,
        today: Callable[[], dt.date],
        log: Callable[[str], None],
        warn: Callable[[str], None],
        quiet: float = QUIET,
        longest: float = LONGEST,
        tick: float = TICK,
    ) -> None:
        self.root = root
        self._build, self._publish, self._today = build, publish, today
        self._log, self._warn = log, warn
        self._quiet, self._longest, self._tick = quiet, longest, tick
        self._memo = Memo()
        self._wake = threading.Event()
        self._stopping = False
        self._observer: Any = None
        self._config: Config | None = None
        self._day: dt.date | None = None
        self._problems: set[Problem] = set()
        self._published: bytes | None = None
        self._failing = False

    def __enter__(self) -> LiveFeed:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Watch the folder, then build and publish; raise if there is no first feed to publish."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        wake = self._wake

        class Changes(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                paths = (event.src_path, event.dest_path)
                if any(relevant(os.fsdecode(p), event.is_directory) for p in paths if p):
                    wake.set()

        observer = Observer()
        try:
            observer.schedule(
                Changes(), os.path.abspath(self.root), recursive=True, event_filter=_watched_events()
            )
            observer.start()
        except OSError as error:
            raise MdfollowError(f"cannot watch {self.root}: {error.strerror or error}") from None
        self._observer = observer
        try:
            self._rebuild("first build")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop watching; safe to call twice."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def stop(self) -> None:
        """Make `run()` return soon; callable from any thread."""
        self._stopping = True
        self._wake.set()

    def run(self) -> None:
        """Rebuild after each burst of changes and when the day changes, until `stop()`."""
        while not self._stopping:
            if self._wake.wait(self._tick):
                self._settle()
                if not self._stopping:
                    self.rebuild()
            elif self._today() != self._day:
                self.rebuild()

    def _settle(self) -> None:
        """Wait for `quiet` seconds without events, but no longer than `longest` in all."""
        deadline = time.monotonic() + self._longest
        while not self._stopping:
            self._wake.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._wake.wait(min(self._quiet, remaining)):
                return

    def rebuild(self) -> None:
        """Rebuild now; on any failure log it and keep the last good feed published."""
        try:
            self._rebuild()
        except MdfollowError as error:
            self._fail(error.message)
        except Exception as error:  # a long-running service outlives a bug in one rebuild
            self._fail(f"rebuild failed: {type(error).__name__}: {error}")

    def _fail(self, message: str) -> None:
        self._failing = True
        kept = "; keeping the last good feed" if self._published is not None else ""
        self._log(f"error: {message}{kept}")

    def _rebuild(self, cause: str = "") -> None:
        started = time.monotonic()
        racy_after = time.time_ns() - RACY_NS
        today = self._today()
        before = {path: entry[0] for path, entry in self._memo.items()}
        folder = load_folder(self.root, self._memo)
        changed = {path for path, entry in self._memo.items() if before.get(path) != entry[0]}
        changed |= before.keys() - self._memo.keys()
        causes = [cause] if cause else []
        if changed and not cause:
            causes.append(f"{_plural(len(changed), 'file')} changed")
        if self._config is not None and folder.config != self._config:
            causes.append(f"{CONFIG_NAME} changed")
        if self._day is not None and today != self._day:
            causes.append(f"new day {today.isoformat()}")
        if not causes and not self._failing:
            return
        for path in changed & self._memo.keys():
            if self._memo[path][0][0] >= racy_after:
                self._memo[path] = (_STALE, self._memo[path][1])
        for problem in folder.problems:
            if problem not in self._problems or problem.path in changed:
                self._warn(str(problem))
        follow_ups = schedule(folder.prospects, today, folder.config)
        data = self._build(follow_ups, today, folder.config)
        if data != self._published:
            self._publish(data)
            self._published = data
        self._config, self._day, self._failing = folder.config, today, False
        self._problems = set(folder.problems)
        due = sum(1 for f in follow_ups if f.due is not None and f.due <= today)
        errors = len(folder.errors)
        milliseconds = round((time.monotonic() - started) * 1000)
        self._log(
            f"{_plural(len(folder.prospects), 'prospect')}, {due} due, {', '.join(causes or ['retried'])}, "
            f"{_plural(errors, 'error')} ({milliseconds} ms)"
        )
