"""Stat-keyed caches outside the user's folder: parsed prospect files, and whole outputs.

They live in the XDG cache folder (`$XDG_CACHE_HOME/mdfollow`, else `~/.cache/mdfollow`),
one file per prospect folder (and per output). A parsed file is used only while its
file's mtime, size, inode and ctime are unchanged; an output only while that holds for
every file it was made from, so an edit is never answered from the cache.
Set `MDFOLLOW_NO_CACHE=1` to bypass them. A cache that cannot be read or written
is ignored: it only ever saves time.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from mdfollow import __version__
from mdfollow.core.config import CONFIG_NAME, TEMPLATES_FOLDER, load_config
from mdfollow.core.model import Problem
from mdfollow.store.folder import Folder, Memo, load_folder, load_templates, prospect_files, signature

FORMAT = 1


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mdfollow"


def cache_path(root: Path) -> Path:
    """One cache file per folder, as named (records carry the path the user gave)."""
    key = f"{FORMAT}\0{__version__}\0{root.resolve()}\0{root}"
    return cache_dir() / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".pickle")


def load_cached_folder(root: Path) -> Folder:
    """`load_folder`, reusing what an earlier run parsed of files that have not changed."""
    memo = read_memo(root)
    folder = load_folder(root, memo)
    if memo.changed and not os.environ.get("MDFOLLOW_NO_CACHE"):
        _write_object(cache_path(root), memo)
    return folder


def folder_fingerprint(root: Path, *parts: str) -> str:
    """A digest that changes whenever any file a command reads from `root` may have changed:
    the config's bytes and the stat signature of every candidate prospect file, with `parts`
    (today, options, whatever else the output depends on)."""
    digest = hashlib.sha256("\0".join((str(FORMAT), __version__, str(root.resolve()), *parts)).encode())
    try:
        digest.update((root / CONFIG_NAME).read_bytes())
    except OSError:
        digest.update(b"\0no config")
    config, _ = load_config(root)
    for name, text in load_templates(root / TEMPLATES_FOLDER).texts:  # an edited template changes the feed
        digest.update(f"\0template\0{name}\0{text}".encode("utf-8", "surrogatepass"))
    for item in prospect_files(root, config.exclude):
        digest.update(f"\0{item}\0{item.line if isinstance(item, Problem) else signature(item)}".encode())
    return digest.hexdigest()


def cached_output(
    root: Path, name: str, key: str, make: Callable[[], tuple[list[str], bytes]]
) -> tuple[list[str], bytes]:
    """`make()` (its warnings and its bytes), or what it gave last time for the same `key`."""
    if os.environ.get("MDFOLLOW_NO_CACHE"):
        return make()
    path = cache_path(root).with_suffix(f".{name}.pickle")
    stored = _read_object(path)
    if isinstance(stored, tuple) and len(stored) == 3 and stored[0] == key:
        return stored[1], stored[2]
    warnings, data = make()
    _write_object(path, (key, warnings, data))
    return warnings, data


def read_memo(root: Path) -> Memo:
    """What earlier runs parsed in this folder (empty when there is no usable cache)."""
    memo = None if os.environ.get("MDFOLLOW_NO_CACHE") else _read_object(cache_path(root))
    if not isinstance(memo, Memo):
        return Memo()
    memo.changed = False
    return memo


def _read_object(path: Path) -> object:
    gc.disable()  # unpickling many small objects triggers needless collections
    try:
        with path.open("rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                return None
            return pickle.load(file)
    except Exception:  # a missing, stale or corrupt cache is an empty one
        return None
    finally:
        gc.enable()


def _trusted(status: os.stat_result) -> bool:
    """Unpickling runs code: read only a cache this user owns and nobody else may write."""
    if os.name != "posix":
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _write_object(path: Path, value: object) -> None:
    """Replace the cache file whole (no fsync: losing a cache only costs time)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        os.unlink(temporary)
