"""A stat-keyed cache of parsed prospect files, outside the user's folder.

It lives in the XDG cache folder (`$XDG_CACHE_HOME/mdfollow`, else `~/.cache/mdfollow`),
one file per prospect folder. An entry is used only while its file's mtime, size,
inode and ctime are unchanged, so an edit is never answered from the cache.
Set `MDFOLLOW_NO_CACHE=1` to bypass it. A cache that cannot be read or written
is ignored: it only ever saves time.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from mdfollow import __version__
from mdfollow.folder import Folder, Memo, load_folder

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
    if os.environ.get("MDFOLLOW_NO_CACHE"):
        return load_folder(root)
    memo = read_memo(root)
    folder = load_folder(root, memo)
    if memo.changed:
        _write(cache_path(root), memo)
    return folder


def read_memo(root: Path) -> Memo:
    """What earlier runs parsed in this folder (empty when there is no usable cache)."""
    if os.environ.get("MDFOLLOW_NO_CACHE"):
        return Memo()
    return _read(cache_path(root))


def _read(path: Path) -> Memo:
    gc.disable()  # unpickling many small objects triggers needless collections
    try:
        with path.open("rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                return Memo()
            memo = pickle.load(file)
    except Exception:  # a missing, stale or corrupt cache is an empty one
        return Memo()
    finally:
        gc.enable()
    if not isinstance(memo, Memo):
        return Memo()
    memo.changed = False
    return memo


def _trusted(status: os.stat_result) -> bool:
    """Unpickling runs code: read only a cache this user owns and nobody else may write."""
    if os.name != "posix":
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _write(path: Path, memo: Memo) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump(memo, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        return
