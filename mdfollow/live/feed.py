"""The live feed behind `watch` and `serve`: rebuild the feed whenever the folder or the day changes.

A watchdog observer only sets a flag; the rebuild runs in the caller's loop, so a
bad file or a failing write can never kill the observer thread (watchdog drops a
handler's exception together with the thread, silently).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from mdfollow.core.config import CONFIG_NAME, TEMPLATES_FOLDER
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Config, FollowUp, Problem, Prospect
from mdfollow.core.render import plural
from mdfollow.core.schedule import follow_up
from mdfollow.store.cache import cached_loader
from mdfollow.store.folder import Folder

Build = Callable[[Sequence[FollowUp], dt.date, Config], bytes]
"""Follow-ups → feed bytes (`ics.build_feed` with the command's options)."""

QUIET = 0.25
"""Seconds without a file event before a rebuild: one rebuild for an editor's save dance."""
LONGEST = 1.0
"""Rebuild at least this often during a long burst (a `git pull` of many files)."""
TICK = 1.0
"""How often an idle loop checks whether the day has changed (midnight, resume from sleep)."""
RECONCILE = 600.0
"""Seconds between full rescans while idle: a safety net for events the kernel dropped."""
TARGETED_MAX = 64
"""More changed files than this in one rebuild, and a full rescan is as cheap."""
RETRY = 3.0
"""Seconds between attempts while the folder is gone or a rebuild fails: back within 10 s."""


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


Change = Literal["rescan", "file", "ignore"]


def classify(path: str, is_directory: bool) -> Change:
    """What an event on `path` calls for: a folder or the config may change which
    files are prospects (rescan everything); a `.md` file only itself.

    Backups, swap and lock files of editors either do not end in `.md` or are
    skipped by the loader, so at worst they cause a rescan that changes nothing;
    the feed written into the folder itself is ignored.
    """
    if is_directory or os.path.basename(path) == CONFIG_NAME:
        return "rescan"
    if os.path.basename(os.path.dirname(path)) == TEMPLATES_FOLDER:
        return "rescan"  # draft templates are read with the config, and shape the feed's email events
    return "file" if path.lower().endswith(".md") else "ignore"


class LiveFeed:
    """Keeps a feed current: loads the folder, schedules, builds, and publishes changed bytes.

    `start()` starts watching and then builds once, so no change after the first build
    is missed; `run()` rebuilds on changes and day changes until `stop()`.

    Rebuilds are incremental. The folder's `Loader` is kept, so only files whose stat
    signature changed are parsed again; when the events name only known prospect files,
    only those are even looked at (no walk over the folder); follow-ups are kept per
    prospect object while the day and the config stay the same.

    When the folder disappears (deleted, renamed away, unreadable) the last good feed
    stays published; the folder is looked for every `RETRY` seconds, and once it is
    back it is watched again and the feed rebuilt.
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
        self._loader = cached_loader(root, records=False)
        """Parsed files, seeded from the parse cache so a large folder starts fast."""
        self._changes: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        """Changed files from the observer thread; None asks for a full rescan."""
        self._rescan_needed = True
        self._last_rescan = 0.0
        self._last_retry = 0.0
        self._watch: Any = None
        self._handler: Any = None
        self._identity: tuple[int, int] | None = None
        """The watched folder's device and inode: a folder renamed away keeps them."""
        self._lost = threading.Event()
        """Set by the observer when the watched folder itself was deleted or moved."""
        self._follow_ups: dict[int, tuple[Prospect, FollowUp | None]] = {}
        self._wake = threading.Event()
        self._stopping = False
        self._observer: Any = None
        self._config: Config | None = None
        self._day: dt.date | None = None
        self._problems: set[Problem] = set()
        self._published: bytes | None = None
        self._failing = False
        self._last_error = ""

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

        wake, changes, lost = self._wake, self._changes, self._lost
        root, watched = self.root, os.path.abspath(self.root)

        class Changes(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("deleted", "moved") and os.fsdecode(event.src_path) == watched:
                    lost.set()  # the watch ends with the folder, even if a new one takes its inode
                for raw in (event.src_path, event.dest_path):
                    path = os.fsdecode(raw) if raw else ""
                    change = classify(path, event.is_directory) if path else "ignore"
                    if change != "ignore":
                        changes.put(str(root / os.path.relpath(path, watched)) if change == "file" else None)
                        wake.set()

        self._handler = Changes()
        self._observer = Observer()
        try:
            self._schedule_watch()
            self._observer.start()
        except OSError as error:
            self.close()
            raise MdfollowError(f"cannot watch {self.root}: {error.strerror or error}") from None
        try:
            self._rebuild("first build")
        except BaseException:
            self.close()
            raise
        # The first build's objects live as long as the process. Collect once now and
        # freeze them out of later collections, or a full collection walking them all
        # lands on a rebuild now and then (10k prospects: ~70 ms on top of ~85 ms).
        # The parsed records hold no reference cycles, so freed ones go by refcount.
        gc.collect()
        gc.freeze()

    def _schedule_watch(self) -> None:
        """Watch the folder as it is now (raises OSError when it cannot be watched)."""
        identity = os.stat(self.root)
        self._watch = self._observer.schedule(
            self._handler, os.path.abspath(self.root), recursive=True, event_filter=_watched_events()
        )
        self._identity = (identity.st_dev, identity.st_ino)

    def _folder_moved(self) -> bool:
        """Whether the watched folder is no longer at its path (deleted, renamed away, replaced)."""
        if self._lost.is_set():
            return True
        try:
            status = os.stat(self.root)
        except OSError:
            return True
        return (status.st_dev, status.st_ino) != self._identity

    def _rewatch(self) -> None:
        """Watch the folder at its path again, if it is there; until then, the watch is off."""
        if self._observer is None:  # closed
            return
        if self._watch is not None:
            with contextlib.suppress(Exception):  # the old folder's watch may be gone already
                self._observer.unschedule(self._watch)
            self._watch = None
        try:
            self._schedule_watch()
        except OSError:
            self._identity = None
            return
        self._lost.clear()
        self._log(f"watching {self.root} again")
        self._rescan_needed = True

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
            elif self._folder_moved() or self._failing:
                if time.monotonic() - self._last_retry > RETRY:
                    self._last_retry = time.monotonic()
                    if self._folder_moved():
                        self._rescan_needed = True  # only a walk can tell the folder is gone
                        self._rewatch()
                    self.rebuild()
            elif self._today() != self._day or time.monotonic() - self._last_rescan > RECONCILE:
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
        self._rescan_needed = True  # the changes it drained are lost: rescan next time
        if message != self._last_error:  # a folder gone for an hour is logged once, not every retry
            kept = "; keeping the last good feed" if self._published is not None else ""
            self._log(f"error: {message}{kept}")
        self._last_error = message

    def _rebuild(self, cause: str = "") -> None:
        started = time.monotonic()
        today = self._today()
        folder = self._load()
        changed = self._loader.changed
        causes = [cause] if cause else []
        if changed and not cause:
            causes.append(f"{plural(len(changed), 'file')} changed")
        if self._config is not None and folder.config != self._config:
            same_templates = folder.config.templates == self._config.templates
            causes.append(f"{CONFIG_NAME} changed" if same_templates else f"{TEMPLATES_FOLDER}/ changed")
        if self._day is not None and today != self._day:
            causes.append(f"new day {today.isoformat()}")
        if not causes and set(folder.problems) != self._problems:
            causes.append("problems changed")  # e.g. an unknown key added to the config
        if not causes and not self._failing:
            return
        for problem in folder.problems:
            if problem not in self._problems or str(problem.path) in changed:
                self._warn(str(problem))
        follow_ups = self._schedule(folder, today)
        data = self._build(follow_ups, today, folder.config)
        if data != self._published:
            self._publish(data)
            self._published = data
        self._config, self._day, self._failing, self._last_error = folder.config, today, False, ""
        self._problems = set(folder.problems)
        due = sum(1 for f in follow_ups if f.due is not None and f.due <= today)
        errors = len(folder.errors)
        milliseconds = round((time.monotonic() - started) * 1000)
        self._log(
            f"{plural(len(folder.prospects), 'prospect')}, {due} due, {', '.join(causes or ['retried'])}, "
            f"{plural(errors, 'error')} ({milliseconds} ms)"
        )

    def _load(self) -> Folder:
        """The folder now: re-stat only the files the events named, or rescan it all."""
        files: set[str] = set()
        rescan = self._rescan_needed or time.monotonic() - self._last_rescan > RECONCILE
        while not self._changes.empty():
            change = self._changes.get()
            rescan = rescan or change is None
            if change is not None:
                files.add(change)
        if rescan or len(files) > TARGETED_MAX:
            self._last_rescan = time.monotonic()
            folder = self._loader.load()
            self._rescan_needed = False
            return folder
        return self._loader.refresh(files)

    def _schedule(self, folder: Folder, today: dt.date) -> list[FollowUp]:
        """Every follow-up, unsorted (the feed sorts), reusing those of unchanged prospects."""
        if today != self._day or folder.config != self._config:
            self._follow_ups = {}
        kept = self._follow_ups
        fresh: dict[int, tuple[Prospect, FollowUp | None]] = {}
        for prospect in folder.prospects:
            entry = kept.get(id(prospect))
            if entry is None or entry[0] is not prospect:
                entry = (prospect, follow_up(prospect, today, folder.config))
            fresh[id(prospect)] = entry
        self._follow_ups = fresh
        return [item for _, item in fresh.values() if item is not None]
