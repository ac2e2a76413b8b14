"""Whole-file writes that readers see as the old bytes or the new ones, never half, and that
never replace a save someone else made while mdfollow was writing.

Every write goes to a short-named temporary file beside the target (`.mdf-<hash>-<random>.tmp`,
so a 255-byte file name is still writable), is flushed to disk with the target's owner, group,
mode and extended attributes, and is then renamed over the target. A temporary file of that
pattern left by a killed run is removed by the next write to the same file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mdfollow.core.errors import MdfollowError

if sys.platform != "win32":
    import fcntl

NEW_FILE_MODE = 0o644
"""What a new file gets (mkstemp makes 0600); reading the umask is not thread-safe."""
TEMP_PREFIX = ".mdf-"
TEMP_SUFFIX = ".tmp"
_TEMP_RANDOM = re.compile(r"[a-z0-9_]{8}")
"""The random part `tempfile.mkstemp` puts in a name."""
_OPTIONAL_XATTRS = ("security.",)
"""Attributes the system labels a new file with itself; copying them may be refused harmlessly."""


class NotWritten(MdfollowError):
    """The file system refused a write (permissions, space, a name too long): the data was fine."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A file's identity, bytes and extended attributes at one moment."""

    status: os.stat_result
    data: bytes
    xattrs: dict[str, bytes] = field(default_factory=dict)

    def same_file(self, other: Snapshot, *, ctime: bool = True) -> bool:
        """Same inode, untouched since: identity, mtime, size (and ctime), then the bytes themselves."""
        mine, theirs = self.status, other.status
        keys = ["st_dev", "st_ino", "st_mtime_ns", "st_size", *(["st_ctime_ns"] if ctime else [])]
        return all(getattr(mine, key) == getattr(theirs, key) for key in keys) and self.data == other.data


def temp_prefix(path: Path) -> str:
    """The start of every temporary name for `path`: short, and the same for each write to it."""
    digest = hashlib.sha1(os.fsencode(path.name)).hexdigest()[:12]
    return f"{TEMP_PREFIX}{digest}-"


def is_temp_of(name: str, path: Path) -> bool:
    """Whether `name` is one of mdfollow's temporary files for `path` (and nothing else)."""
    prefix = temp_prefix(path)
    middle = name[len(prefix) : -len(TEMP_SUFFIX)]
    return name.startswith(prefix) and name.endswith(TEMP_SUFFIX) and bool(_TEMP_RANDOM.fullmatch(middle))


def remove_leftovers(path: Path) -> None:
    """Delete temporary files of `path` left by a killed run. Call it holding `path`'s lock:
    every live writer in its folder holds that folder's lock, so what is found then is left over."""
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if is_temp_of(entry.name, path):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def read_snapshot(path: Path) -> Snapshot:
    """The file as it is now; OSError when it cannot be read."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        return _snapshot(descriptor)
    finally:
        os.close(descriptor)


def _snapshot(descriptor: int) -> Snapshot:
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    chunks = []
    offset = 0
    while chunk := os.pread(descriptor, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return Snapshot(status, b"".join(chunks), _xattrs(descriptor))


def _xattrs(descriptor: int) -> dict[str, bytes]:
    if not hasattr(os, "listxattr"):
        return {}
    try:
        names = os.listxattr(descriptor)
        return {name: os.getxattr(descriptor, name) for name in names}
    except OSError as error:
        if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise


def refuse_unwritable(path: Path, status: os.stat_result) -> None:
    """Refuse (NotWritten) what a rename would damage or what the user protected:
    hard-linked files (a replace splits the link), and files without a write bit, even for root."""
    if status.st_nlink > 1:
        raise NotWritten(
            f"{path}: has {status.st_nlink} hard links: not changed (a rewrite would split them; "
            "make it one file, e.g. `cp` it and delete the other names)"
        )
    mode = stat.S_IMODE(status.st_mode)
    if not mode & 0o222:
        raise NotWritten(f"{path}: is read-only (mode {mode:04o}): not changed")
    if not os.access(path, os.W_OK):
        raise NotWritten(f"{path}: you may not write it (mode {mode:04o}): not changed")


@contextlib.contextmanager
def locked(target: Path) -> Iterator[int]:
    """Hold an exclusive `flock` on the file's folder, then on the file itself (no lock file to
    leave behind); yields the file's descriptor.

    The folder's lock is what every mdfollow write in that folder queues on: it survives an
    editor renaming a new file over the target, which leaves a file lock on a stale inode.
    The file's lock is for other programs that lock the file (and older mdfollows). A writer
    that replaced the file while we waited leaves us a lock on a stale inode: then lock the
    new one."""
    with _folder_locked(target.parent):
        while True:
            descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                if sys.platform != "win32":
                    fcntl.flock(descriptor, fcntl.LOCK_EX)
                held, current = os.fstat(descriptor), os.stat(target)
                if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                    yield descriptor
                    return
            finally:
                os.close(descriptor)


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder: no lock there, as for files
        yield
        return
    try:
        if sys.platform != "win32":
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


class Temp:
    """A temporary file beside `target` holding `data` with `like`'s owner, mode and attributes,
    flushed to disk and locked (so it is locked from the moment it becomes the target)."""

    def __init__(self, target: Path, data: bytes, like: Snapshot | None) -> None:
        self.target = target
        descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target), suffix=TEMP_SUFFIX)
        self.descriptor, self.path = descriptor, Path(name)
        try:
            if sys.platform != "win32":
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            _write_all(descriptor, data)
            _keep_attributes(target, descriptor, like)
            os.fsync(descriptor)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove the file if it is still under its temporary name; release it."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.close()

    def close(self) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _keep_attributes(target: Path, descriptor: int, like: Snapshot | None) -> None:
    """Give the temporary file the target's owner, group, mode and extended attributes;
    NotWritten when the owner cannot be kept (only root may give a file away)."""
    if like is None:
        os.fchmod(descriptor, NEW_FILE_MODE)
        return
    status = like.status
    if hasattr(os, "fchown"):
        mine = os.fstat(descriptor)
        if (mine.st_uid, mine.st_gid) != (status.st_uid, status.st_gid):
            try:
                os.fchown(descriptor, status.st_uid, status.st_gid)
            except PermissionError:
                raise NotWritten(
                    f"{target}: cannot keep its owner and group ({status.st_uid}:{status.st_gid}; only "
                    "root or its owner can): not changed"
                ) from None
    os.fchmod(descriptor, stat.S_IMODE(status.st_mode))
    for name, value in like.xattrs.items():
        try:
            os.setxattr(descriptor, name, value)
        except OSError as error:
            if not name.startswith(_OPTIONAL_XATTRS):
                raise NotWritten(
                    f"{target}: cannot keep its extended attribute {name}: {error.strerror}: not changed"
                ) from None


def write_atomic(path: Path, data: bytes, *, leftovers: bool = True) -> None:
    """Replace (or create) `path` with `data` as a whole: for files whose old content need not
    be kept (a feed; a file just created empty). An existing file keeps its owner, mode and
    extended attributes, and is refused as `refuse_unwritable` says. `leftovers=False` skips
    looking for a killed run's temporary files (a file just created has had no writes yet)."""
    like: Snapshot | None = None
    with contextlib.ExitStack() as stack:
        if os.path.lexists(path):
            stack.enter_context(locked(path))
            like = read_snapshot(path)
            refuse_unwritable(path, like.status)
            if leftovers:
                remove_leftovers(path)
        temp = Temp(path, data, like)
        try:
            os.replace(temp.path, path)
        except BaseException:
            temp.discard()
            raise
        temp.close()
    fsync_folder(path.parent)


def swap_in(
    target: Path, expected: Snapshot, data: bytes, held: contextlib.ExitStack
) -> tuple[Snapshot, Snapshot] | None:
    """Put `data` at `target` if it still holds `expected`, and never lose what else it holds.

    Call it holding `target`'s lock; `held` keeps the new file locked until the caller is
    done. The check comes after the temporary file is written and flushed, immediately
    before the rename. Where the system can exchange two names in one step (Linux
    `renameat2`), the file swapped out is checked too, and a save that landed in the last
    microseconds is swapped straight back into place. Elsewhere the replaced inode is
    checked through a descriptor opened before the rename, which catches an in-place save
    into it.

    Returns None when `data` replaced `expected`. Otherwise `(found, now)`: the newer
    content, and what `target` holds now: `found` itself, or (without the exchange) `data`,
    when the newer content was caught after the rename. The caller re-applies its change
    on top of `found` and calls again with `now` as `expected`.
    """
    temp = Temp(target, data, expected)
    held.callback(temp.close)
    try:
        descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        held.callback(os.close, descriptor)
        current = _snapshot(descriptor)
        if not current.same_file(expected):
            temp.discard()
            return current, current
        if _exchange(temp.path, target):
            return _checked_exchange(target, temp, expected, data)
        os.replace(temp.path, target)
        replaced = _snapshot(descriptor)
    except BaseException:
        temp.discard()
        raise
    if replaced.same_file(expected, ctime=False):
        return None
    return replaced, Snapshot(os.fstat(temp.descriptor), data, expected.xattrs)


def _checked_exchange(
    target: Path, temp: Temp, expected: Snapshot, data: bytes
) -> tuple[Snapshot, Snapshot] | None:
    """After swapping the new file in: done if the file swapped out is `expected`; else swap
    the newer save back into place (exactly as its writer left it) and report it."""
    swapped_out = read_snapshot(temp.path)
    if swapped_out.same_file(expected, ctime=False):
        temp.discard()
        return None
    placed = os.fstat(temp.descriptor)
    if not _exchange(temp.path, target):
        raise OSError(errno.EIO, "cannot swap the file back")
    ours = read_snapshot(temp.path)
    if (ours.status.st_ino, ours.data) != (placed.st_ino, data):
        conflict = target.with_name(f"{target.name}.conflict-{os.getpid()}")
        os.replace(temp.path, conflict)
        temp.close()
        raise NotWritten(
            f"{target}: two other programs saved it while mdfollow wrote it; one version is kept in "
            f"{conflict.name}: compare them (not changed)"
        )
    temp.discard()
    found = read_snapshot(target)
    return found, found


def _exchange(first: Path, second: Path) -> bool:
    """Swap two names in one step (`renameat2(RENAME_EXCHANGE)`); False where that is not available."""
    if sys.platform != "linux":
        return False
    import ctypes  # lazily: only writes on Linux need it

    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd, rename_exchange = -100, 2
    if renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def write_new(path: Path, data: bytes) -> bool:
    """Create a file atomically, never replacing one: False when the name is taken."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    except OSError as error:
        raise NotWritten(f"{path}: cannot create: {error.strerror or error}") from None
    os.close(fd)
    try:
        write_atomic(path, data, leftovers=False)
    except BaseException as error:
        path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise NotWritten(f"{path}: cannot write: {error.strerror or error}") from None
        raise
    return True


def fsync_folder(folder: Path) -> None:
    """Persist a rename; skipped on Windows, where a folder cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
