"""Stat-keyed caches outside the user's folder: parsed prospect files, and whole outputs.

They live in the XDG cache folder (`$XDG_CACHE_HOME/mdfollow`, else `~/.cache/mdfollow`),
one file per prospect folder (and per output). A parsed file is used only while its
file's mtime, size, inode and ctime are unchanged; an output only while that holds for
every file it was made from, so an edit is never answered from the cache.
Set `MDFOLLOW_NO_CACHE=1` to bypass them. A cache that cannot be read or written
is ignored: it only ever saves time.

Caches are plain values written with `marshal` (see `record`): reading one runs no
code, and 10,000 parsed files load in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdfollow import __version__
from mdfollow.core.config import CONFIG_NAME, TEMPLATES_FOLDER
from mdfollow.core.model import Problem
from mdfollow.store import record
from mdfollow.store.folder import Entry, Folder, Loader, load_for, load_templates, read_config, walk

FORMAT = 2
_HEADER = (FORMAT, __version__, record.PROSPECT_FIELDS, record.TOUCH_FIELDS)
LEFTOVER_AGE = 60.0
"""Seconds after which a temporary file in the cache folder belongs to a run that died."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mdfollow"


def cache_path(root: Path) -> Path:
    """One cache file per folder, as named (records carry the path the user gave)."""
    key = f"{FORMAT}\0{__version__}\0{root.resolve()}\0{root}"
    return cache_dir() / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".cache")


def _disabled() -> bool:
    return bool(os.environ.get("MDFOLLOW_NO_CACHE")) or not record.SUPPORTED


@dataclass
class Stored:
    """What one folder's cache file held when it was read: the file's identity, and the
    journal of entries changed since it was written whole (see `write_entries`)."""

    identity: tuple[int, int, int] | None = None
    journal: dict[str, Any] = field(default_factory=dict)


def cached_loader(root: Path, *, records: bool = True, stored: Stored | None = None) -> Loader:
    """A `Loader` that starts from what earlier runs parsed in this folder; without
    `records` it keeps no plain-value copies (a long-running process that never writes
    the cache saves their memory)."""
    return Loader(root, read_entries(root, records=records, stored=stored))


def load_cached_folder(root: Path) -> Folder:
    """`load_folder`, reusing what an earlier run parsed of files that have not changed."""
    stored = Stored()
    loader = cached_loader(root, stored=stored)
    folder = loader.load()
    if loader.changed:
        write_entries(root, loader.entries, loader.changed, stored)
    # What was loaded lives until the command ends: keep the collector from walking it.
    gc.freeze()
    return folder


def load_cached_for(root: Path, reference: str) -> Folder:
    """The folder as resolving `reference` needs it: one file for an exact id or path, else all."""
    return load_for(root, reference) or load_cached_folder(root)


def journal_path(root: Path) -> Path:
    return cache_path(root).with_suffix(".journal")


def read_entries(root: Path, *, records: bool = True, stored: Stored | None = None) -> dict[str, Entry]:
    """What earlier runs parsed in this folder (empty when there is no usable cache)."""
    if _disabled():
        return {}
    collecting = gc.isenabled()
    gc.disable()  # a million fresh objects that all stay: collections would find no garbage
    try:
        whole: Any
        whole, identity = _read(cache_path(root))
        header, values = whole
        if header != (*_HEADER, str(root)):
            return {}
        journal: Any = _read(journal_path(root))[0]
        if isinstance(journal, tuple) and len(journal) == 3 and journal[:2] == (header, identity):
            values.update(journal[2])  # entries changed since the whole cache was written
        else:
            journal = (None, None, {})
        loaded = {}
        for path, value in values.items():
            if value is None:  # a file gone since the whole cache was written
                continue
            stamp, encoded, problems = value
            file = Path(path)
            prospect = None if encoded is None else record.decode(encoded, file)
            kept = encoded if records else None
            loaded[path] = Entry(tuple(stamp), prospect, record.decode_problems(problems, file), kept)
        if stored is not None:
            stored.identity, stored.journal = identity, journal[2]
        return loaded
    except Exception:  # a missing, stale, foreign or corrupt cache is an empty one
        return {}
    finally:
        if collecting:
            gc.enable()


JOURNAL_MAX = 1000
"""Changed files the journal holds at most before the cache is written whole again."""


def write_entries(
    root: Path, entries: dict[str, Entry], changed: set[str] | None = None, stored: Stored | None = None
) -> None:
    """Store the loader's entries; a file whose record cannot be stored is simply read next time.

    When only a few files `changed` since the cache file in `stored` was read, only they
    are written, to a journal beside it (an edit in 100k prospects then writes a few
    kilobytes, not the whole cache); the journal names the cache file it belongs to, so a
    journal is never applied to another version of it."""
    if _disabled():
        return
    header = (*_HEADER, str(root))
    if (
        stored is not None
        and stored.identity is not None
        and changed is not None
        and len(stored.journal) + len(changed) <= JOURNAL_MAX
    ):
        journal = dict(stored.journal)
        journal.update({path: _value(entries[path]) if path in entries else None for path in changed})
        _write(journal_path(root), _dumps((header, stored.identity, journal), journal))
        return
    values = {path: _value(entry) for path, entry in entries.items()}
    _write(cache_path(root), _dumps((header, values), values))
    with contextlib.suppress(OSError):
        os.unlink(journal_path(root))


def _value(entry: Entry) -> tuple[Any, ...]:
    if entry.record is None and entry.prospect is not None:
        entry.record = record.encode(entry.prospect)
    return (entry.signature, entry.record, record.encode_problems(entry.problems))


def _dumps(whole: tuple[Any, ...], values: dict[str, Any]) -> bytes:
    """`whole` as marshal bytes; should one of its `values` hold what marshal cannot (a front
    matter value tagged `!!timestamp`), without it: that file is parsed again next time."""
    try:
        return marshal.dumps(whole)
    except ValueError:
        for path, value in list(values.items()):
            try:
                marshal.dumps(value)
            except ValueError:
                del values[path]
        return marshal.dumps(whole)


def folder_fingerprint(root: Path, *parts: str) -> str:
    """A digest that changes whenever any file a command reads from `root` may have changed:
    the config's bytes and the stat signature of every candidate prospect file, with `parts`
    (today, options, whatever else the output depends on)."""
    digest = hashlib.sha256("\0".join((str(FORMAT), __version__, str(root.resolve()), *parts)).encode())
    config, _ = read_config(root)  # first: it refuses a config that is not a regular file (a FIFO)
    try:
        digest.update((root / CONFIG_NAME).read_bytes())
    except OSError:
        digest.update(b"\0no config")
    for name, text in load_templates(root / TEMPLATES_FOLDER).texts:  # an edited template changes the feed
        digest.update(f"\0template\0{name}\0{text}".encode("utf-8", "surrogatepass"))
    for item in walk(root, config.exclude):
        if isinstance(item, Problem):
            text = f"\0{item.path}\0{item.line}\0{item.message}"
        else:
            path, status = item
            text = f"\0{path}\0{(status.st_mtime_ns, status.st_size, status.st_ino, status.st_ctime_ns)}"
        digest.update(text.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def cached_output(
    root: Path, name: str, key: str, make: Callable[[], tuple[list[str], bytes]]
) -> tuple[list[str], bytes]:
    """`make()` (its warnings and its bytes), or what it gave last time for the same `key`."""
    if os.environ.get("MDFOLLOW_NO_CACHE"):
        return make()
    path = cache_path(root).with_suffix(f".{name}.cache")
    stored = _read(path)[0]
    if (
        isinstance(stored, tuple)
        and len(stored) == 3
        and stored[0] == key
        and isinstance(stored[1], list)
        and all(isinstance(warning, str) for warning in stored[1])
        and isinstance(stored[2], bytes)
    ):
        return stored[1], stored[2]
    warnings, data = make()
    _write(path, marshal.dumps((key, warnings, data)))
    return warnings, data


def _read(path: Path) -> tuple[object, tuple[int, int, int] | None]:
    """The value in a cache file, and the file's identity (None, None when unusable)."""
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if not _trusted(status):
                return None, None
            return marshal.loads(file.read()), (status.st_ino, status.st_size, status.st_mtime_ns)
    except Exception:  # a missing or corrupt cache is an empty one
        return None, None


def _trusted(status: os.stat_result) -> bool:
    """Read only a cache this user owns and nobody else may write: another user could
    otherwise make mdfollow list prospects that are not in the folder."""
    if os.name != "posix":
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _write(path: Path, data: bytes) -> None:
    """Replace the cache file whole (no fsync: losing a cache only costs time).

    The temporary file is removed whatever happens, even on Ctrl-C; one left by a run
    that was killed is removed by the next write."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if not isinstance(error, OSError):
            raise
        return
    _remove_leftovers(path.parent)


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of killed runs (this folder holds only mdfollow's own files)."""
    now = time.time()
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.endswith(".tmp") or entry.name.endswith(".pickle"):  # .pickle: format 1
                    try:
                        if entry.name.endswith(".pickle") or now - entry.stat().st_mtime > LEFTOVER_AGE:
                            os.unlink(entry.path)
                    except OSError:
                        continue
    except OSError:
        return
