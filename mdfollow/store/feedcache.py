"""Feed state kept between runs, beside the parse cache: the last stamps, and rendered components.

`Stamps` makes a component's DTSTAMP/LAST-MODIFIED never go down when it changes. No
rule over the data alone can do that (a snooze there and back on one day gives the
same data twice, with a change between), so the last stamp of each component is
kept: unchanged text keeps its stamp; changed text gets its natural stamp, or the
last one plus a second when that is not later (docs/calendar.md).

`Components` keeps each follow-up's rendered text by prospect file, valid while the
file's stat signature, today, the config and the feed options are those it was
rendered with, so `ics` after one edit renders one component.

Both live in the XDG cache folder under the parse cache's rules: marshal (no code
runs on load), read only when this user owns the file and nobody else may write it,
ignored when missing or corrupt, bypassed with `MDFOLLOW_NO_CACHE=1`.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import marshal
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from mdfollow import __version__
from mdfollow.core.ics import FeedOptions, Rendered, follow_up_component
from mdfollow.core.model import CalendarConfig, Config, FollowUp
from mdfollow.store.cache import cache_dir
from mdfollow.store.folder import Signature, signature

FORMAT = 1
RACY_NS = 2_000_000_000
"""A file modified this close to (or after) the run's start may have changed after it was
parsed; its component is rendered but not kept (file systems with 2-second timestamps too)."""


def enabled() -> bool:
    return not os.environ.get("MDFOLLOW_NO_CACHE")


def state_path(root: Path, feed: str, kind: str) -> Path:
    """One file per folder (however its path is spelled: the feed names files from the root),
    feed (its options) and kind."""
    key = f"{FORMAT}\0{root.resolve()}\0{feed}"
    return cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.{kind}.marshal"


def feed_name(options: FeedOptions, digest: bool) -> str:
    """What tells one subscribed feed from another: the options that choose its components."""
    return f"todo={options.todo} days={options.days} digest={digest}"


class Stamps:
    """The last stamp of each component of one feed, as `core.ics.Stamp`.

    Call `start()` before a build and `save()` after it: the kept stamps are then
    exactly those of the components in the feed just built.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        loaded: Any = _read(path) if path is not None else None
        self._last: dict[str, tuple[str, int]] = loaded if _is_stamps(loaded) else {}
        self._next: dict[str, tuple[str, int]] = {}

    @classmethod
    def open(cls, root: Path, feed: str) -> Stamps:
        return cls(state_path(root, feed, "stamps") if enabled() else None)

    def start(self) -> None:
        self._next = {}

    def __call__(self, rendered: Rendered) -> int:
        fingerprint = rendered.fingerprint
        last = self._last.get(rendered.key)
        if last is None:
            stamp = rendered.natural
        elif last[0] == fingerprint:
            stamp = last[1]
        else:
            stamp = max(rendered.natural, last[1] + 1)
        self._next[rendered.key] = (fingerprint, stamp)
        return stamp

    def save(self) -> None:
        if self._next != self._last:
            self._last = self._next
            if self._path is not None:
                _write(self._path, self._last)


def _is_stamps(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], int)
        for k, v in value.items()
    )


class Components:
    """A `core.ics.Render` that reuses what an earlier run rendered of unchanged prospect files."""

    def __init__(self, path: Path | None, key: str, started_ns: int) -> None:
        self._path, self._key, self._racy_after = path, key, started_ns - RACY_NS
        stored = _read(path) if path is not None else None
        entries: Any = (
            stored[1] if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key else {}
        )
        self._kept: dict[str, tuple[Signature, tuple[str, str, str, int, str]]] = (
            entries if isinstance(entries, dict) else {}
        )
        self._fresh: dict[str, tuple[Signature, tuple[str, str, str, int, str]]] = {}
        self.rendered = 0
        """How many components this run rendered (the rest came from the cache)."""

    @classmethod
    def open(
        cls, root: Path, feed: str, today: dt.date, config: Config, options: FeedOptions, started_ns: int
    ) -> Components:
        """The components for one folder and feed; `started_ns` is when the run began reading files."""
        key = hashlib.sha256(repr((FORMAT, __version__, today, config, options)).encode()).hexdigest()
        # Prospect paths start with the root as given: so do the entries' keys.
        path = state_path(root, f"{feed}\0{root}", "components") if enabled() else None
        return cls(path, key, started_ns)

    def __call__(
        self, follow_up: FollowUp, today: dt.date, calendar: CalendarConfig, options: FeedOptions
    ) -> Rendered:
        name = str(follow_up.prospect.path)
        stamp = signature(follow_up.prospect.path)
        entry = self._kept.get(name)
        if stamp is not None and entry is not None:
            try:
                if tuple(entry[0]) == stamp:
                    self._fresh[name] = entry
                    return Rendered(*entry[1])
            except (TypeError, IndexError, KeyError):  # not what this version writes: render anew
                self._fresh.pop(name, None)
        rendered = follow_up_component(follow_up, today, calendar, options)
        self.rendered += 1
        if stamp is not None and stamp[0] < self._racy_after:
            self._fresh[name] = (
                stamp,
                (rendered.key, rendered.head, rendered.body, rendered.natural, rendered.fingerprint),
            )
        return rendered

    def save(self) -> None:
        if self._path is not None and self._fresh != self._kept:
            _write(self._path, (self._key, self._fresh))


class RecentComponents:
    """A `core.ics.Render` for `watch` and `serve`: the last build's components, kept in memory
    by follow-up object (the live feed keeps the follow-ups of unchanged prospects), so a
    rebuild after one edit renders one component."""

    def __init__(self) -> None:
        self._key: tuple[dt.date, CalendarConfig, FeedOptions] | None = None
        self._kept: dict[int, tuple[FollowUp, Rendered]] = {}
        self._fresh: dict[int, tuple[FollowUp, Rendered]] = {}

    def start(self) -> None:
        """A new build: what the last one used is what may be reused."""
        self._kept, self._fresh = self._fresh, {}

    def __call__(
        self, follow_up: FollowUp, today: dt.date, calendar: CalendarConfig, options: FeedOptions
    ) -> Rendered:
        if self._key != (today, calendar, options):
            self._key, self._kept = (today, calendar, options), {}
        entry = self._kept.get(id(follow_up))
        if entry is None or entry[0] is not follow_up:
            entry = (follow_up, follow_up_component(follow_up, today, calendar, options))
        self._fresh[id(follow_up)] = entry
        return entry[1]


def now_ns() -> int:
    """The wall clock, for `Components.open`'s `started_ns` (it only decides what is cached)."""
    return time.time_ns()


def _read(path: Path) -> object:
    gc.disable()  # loading thousands of tuples would trigger collections that find nothing
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if os.name == "posix" and (status.st_uid != os.getuid() or status.st_mode & 0o022):
                return None  # another user could have planted it: ignored, as the parse cache is
            return marshal.load(file)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    finally:
        gc.enable()


def _write(path: Path, value: Any) -> None:
    """Replace the file whole; a state that cannot be written is no error (it only saves time)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".feed", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            marshal.dump(value, file)
        os.replace(temporary, path)
    except (OSError, ValueError):
        os.unlink(temporary)
