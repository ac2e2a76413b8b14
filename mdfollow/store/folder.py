"""Find the prospect folder, load every prospect in it, and resolve references to one.

`Loader` is the one loader: `load_folder`, the parse cache, `watch` and `serve` all use
it. It walks the folder once (a loop over `os.scandir`, string paths, one `stat` a
file), parses only the files whose stat signature changed since its last load, and
keeps every unchanged file's `Prospect` object, so the callers can tell what changed.
"""

from __future__ import annotations

import gc
import os
import stat
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

from mdfollow.core.config import CONFIG_NAME, DEFAULT_CONFIG, TEMPLATES_FOLDER, ConfigError, config_from_bytes
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Config, Problem, Prospect, Templates
from mdfollow.core.parse import BOM, has_front_matter, parse_prospect, unread_prospect
from mdfollow.store import record


@dataclass(frozen=True)
class Folder:
    """Everything loaded from one prospect folder: good prospects and the problems found."""

    root: Path
    config: Config
    prospects: tuple[Prospect, ...]
    problems: tuple[Problem, ...] = field(default=())

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class FolderUnreadable(MdfollowError):
    """The root itself cannot be read (gone, renamed, no permission): there is no folder to report on."""


def find_root(start: Path, explicit: Path | None = None) -> Path:
    """`explicit` if given, else the nearest folder upwards holding `mdfollow.toml`, else `start`.

    The result is relative to `start` when it lies above or at it, so paths stay short.
    """
    if explicit is not None:
        if not explicit.is_dir():
            raise MdfollowError(f"{explicit}: not a folder", exit_code=2)
        return explicit
    try:
        absolute = start.resolve(strict=True)
    except OSError as error:
        raise MdfollowError(f"{start}: cannot use the current folder: {error.strerror or error}") from None
    found = root_above(absolute)
    if found is None or found == absolute:
        return start
    return Path(os.path.relpath(found, absolute))


def root_above(folder: Path) -> Path | None:
    """The nearest of `folder` (absolute) and its parents holding `mdfollow.toml`, as git finds `.git`."""
    return next((above for above in (folder, *folder.parents) if os.path.isfile(above / CONFIG_NAME)), None)


def read_config(root: Path) -> tuple[Config, list[Problem]]:
    """The folder's config (the defaults without `mdfollow.toml`), and its warnings.

    Only a regular file is read, opened without blocking: opening a FIFO would block every
    command. The templates of `_templates/` travel in the config (SPEC §9)."""
    path = root / CONFIG_NAME
    problems: list[Problem] = []
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        config = DEFAULT_CONFIG
    except OSError as error:
        raise ConfigError(f"{path}:1: cannot read: {error.strerror or error}") from None
    else:
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise ConfigError(f"{path}:1: not a regular file (a FIFO, device or folder): cannot be read")
            try:
                data = file.read()
            except OSError as error:
                raise ConfigError(f"{path}:1: cannot read: {error.strerror or error}") from None
        config, problems = config_from_bytes(path, data)
    return replace(config, templates=load_templates(root / TEMPLATES_FOLDER)), problems


def holds_prospects(root: Path) -> bool:
    """Whether any file below `root` starts with front matter (cheap: reads 64 bytes a file)."""
    for item in prospect_files(root, ()):
        if isinstance(item, Path):
            try:
                with open(item, "rb") as file:
                    if has_front_matter(file.read(64)):
                        return True
            except OSError:
                continue
    return False


NOT_PROSPECTS = frozenset({"node_modules"})
"""Folders never entered by name (hidden ones and `_` ones such as `__pycache__` never are)."""
OTHER_PROJECT = frozenset({CONFIG_NAME, ".git", "pyvenv.cfg"})
"""A subfolder holding one of these is another prospect folder, a git work tree or
submodule, or a virtualenv: it is not entered, as git does not enter a nested repository."""

Candidate = tuple[str, os.stat_result]
"""A prospect file's path (as text) and its stat (the target's, for a link)."""


def _skipped(name: str) -> bool:
    """Hidden files and folders, `_` names, editor backups, swap and lock files (SPEC §1)."""
    return name[0] in "._#" or name.endswith("~")


def _prefix(root: Path) -> str:
    """What to put before a relative path so it reads as `root / relative` would."""
    text = str(root)
    return "" if text == "." else text if text.endswith(os.sep) else text + os.sep


def _entries(root: Path, exclude: tuple[str, ...]) -> Iterator[tuple[str, os.DirEntry[str]] | Problem]:
    """Every `*.md` entry below root that is not skipped, in a stable order (by name, depth
    first), and a problem for each folder that cannot be walked.

    A loop, not a recursion, so any depth works. It stays inside the root: a link to a
    folder is not followed (one pointing outside is reported), and another project's
    folder is not entered. The root itself being unreadable is `FolderUnreadable`.
    """
    prefix = _prefix(root)
    try:
        with os.scandir(root) as listing:
            top = sorted(listing, key=_name)
    except OSError as error:
        raise FolderUnreadable(f"{root}: cannot read folder: {error.strerror or error}") from None
    real_root: str | None = None
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = [(iter(top), "")]
    while stack:
        entries, relative = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        if _skipped(name):
            continue
        child = relative + name
        if exclude and _excluded(child, name, exclude):
            continue
        path = prefix + child
        try:
            if entry.is_dir(follow_symlinks=False):
                if name in NOT_PROSPECTS:
                    continue
                try:
                    with os.scandir(path) as listing:
                        inside = sorted(listing, key=_name)
                except OSError as error:
                    yield Problem(Path(path), 0, f"cannot read folder: {error.strerror or error}")
                    continue
                if not OTHER_PROJECT.isdisjoint(item.name for item in inside):
                    continue
                stack.append((iter(inside), child + os.sep))
                continue
            is_link = entry.is_symlink()
            if not name.lower().endswith(".md"):
                if is_link and entry.is_dir():
                    real_root = real_root or os.path.realpath(root)
                    target = os.path.realpath(path)
                    if os.path.commonpath((real_root, target)) != real_root:
                        yield Problem(
                            Path(path), 0, "link to a folder outside the folder: not followed", "warning"
                        )
                continue
        except OSError as error:  # the entry vanished, or its link cannot be resolved
            yield Problem(Path(path), 0, f"cannot read: {error.strerror or error}")
            continue
        if not _utf8_name(name):
            yield Problem(Path(path), 0, "file name is not valid UTF-8: skipped (rename the file)")
            continue
        yield path, entry


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _excluded(relative: str, name: str, exclude: tuple[str, ...]) -> bool:
    """As in .gitignore: a glob without a slash matches a name at any depth."""
    return any(
        fnmatch(relative, pattern.strip("/"))
        if "/" in pattern.rstrip("/")
        else fnmatch(name, pattern.rstrip("/"))
        for pattern in exclude
    )


def walk(root: Path, exclude: tuple[str, ...]) -> Iterator[Candidate | Problem]:
    """Every prospect file candidate below root with its stat, and the problems of the walk.

    Only regular files are candidates (a FIFO would block a read forever, a device never
    end). A file reached twice, through a link or under a second hard-linked name, is
    a candidate once: links come after every real file, so a link never hides its target,
    and a warning names the other names.
    """
    files: dict[tuple[int, int], str] = {}
    linked: dict[tuple[int, int], tuple[int, list[str]]] = {}
    links: list[Candidate] = []
    for item in _entries(root, exclude):
        if isinstance(item, Problem):
            yield item
            continue
        path, entry = item
        try:
            if entry.is_symlink():
                status = os.stat(path)
                if stat.S_ISREG(status.st_mode):
                    links.append((path, status))
                    continue
            elif entry.is_file(follow_symlinks=False):
                status = entry.stat(follow_symlinks=False)
                key = (status.st_dev, status.st_ino)
                if status.st_nlink > 1:
                    if key in files:
                        linked[key][1].append(path)
                        continue
                    linked[key] = (status.st_nlink, [])
                files[key] = path
                yield path, status
                continue
            else:
                status = os.stat(path)
        except OSError as error:
            yield Problem(Path(path), 0, f"cannot read: {error.strerror or error}")
            continue
        yield Problem(Path(path), 0, "not a regular file: skipped")
    for path, status in links:
        key = (status.st_dev, status.st_ino)
        if key in files:
            yield Problem(Path(path), 0, f"same file as {files[key]}: skipped", "warning")
        else:
            files[key] = path
            yield path, status
    for key, (count, others) in linked.items():
        yield Problem(Path(files[key]), 0, _hard_links(count, others), "warning")


def _hard_links(count: int, others: list[str]) -> str:
    """The warning on a file with several names (hard links): it is one prospect."""
    outside = count - 1 - len(others)
    named = [*others, *([f"{outside} outside the folder"] if outside > 0 else [])]
    return f"file has {count} hard links (also {', '.join(named)}): listed once"


def prospect_files(root: Path, exclude: tuple[str, ...]) -> Iterator[Path | Problem]:
    """Every candidate `*.md` below root in a stable order, and a problem for each unwalkable folder."""
    for item in walk(root, exclude):
        yield item if isinstance(item, Problem) else Path(item[0])


def _utf8_name(name: str) -> bool:
    """Names come from the OS as text with undecodable bytes as surrogates; ids must be real text."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


Signature = tuple[int, int, int, int]
Loaded = tuple[Prospect | None, list[Problem]]


def signature(path: Path | str) -> Signature | None:
    """What changes whenever a file's content may have changed."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return _signature(status)


def _signature(status: os.stat_result) -> Signature:
    return (status.st_mtime_ns, status.st_size, status.st_ino, status.st_ctime_ns)


def load_prospect(path: Path) -> Loaded:
    """Read and parse one file; a file without front matter is not a prospect."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Problem(path, 0, f"cannot read: {error.strerror or error}")]
    if not has_front_matter(data):
        if data.removeprefix(BOM).lstrip(b" \t\r\n").startswith(b"---\n"):
            message = "front matter must start on the first line: not read as a prospect"
            return None, [Problem(path, 1, message, "warning")]
        return None, unread_prospect(path, data)
    return parse_prospect(path, data)


@dataclass(slots=True)
class Entry:
    """One file as the loader last saw it: its signature when read, and what it gave.

    `record` is the parse cache's plain-value form of `prospect`, kept so that an
    unchanged file costs nothing to store again.
    """

    signature: Signature
    prospect: Prospect | None
    problems: tuple[Problem, ...]
    record: record.Record | None = None


STALE: Signature = (-1, -1, -1, -1)
"""The signature of an entry to read again whatever its file's stat says."""
RACY_NS = 50_000_000
"""A file modified this close before a load may change again within its timestamp's tick,
leaving the same signature: such a file is read again next time (git's "racy" rule)."""
PARALLEL_MIN = 2000
"""Fewer files than this to parse, and starting a process pool costs more than it saves."""
_CHUNK = 250


class Loader:
    """Loads one folder again and again, parsing only what changed since the last load.

    `entries` (by path) are what the last load saw; `changed` the paths that the last
    `load` or `refresh` added, re-read or dropped. Unchanged files keep their `Prospect`
    object, so callers may keep anything they derived from it (follow-ups, feed parts).
    """

    def __init__(self, root: Path, entries: dict[str, Entry] | None = None) -> None:
        self.root = root
        self.entries: dict[str, Entry] = entries if entries is not None else {}
        self.changed: set[str] = set()
        self._config: Config | None = None
        self._walk_problems: tuple[Problem, ...] = ()
        self._folder: Folder | None = None

    @property
    def folder(self) -> Folder | None:
        """What the last load gave (None before the first)."""
        return self._folder

    def load(self) -> Folder:
        """Walk the whole folder: new, changed and removed files, and the config."""
        collecting = gc.isenabled()
        gc.disable()  # many small long-lived objects: collections would find no garbage
        try:
            return self._load()
        finally:
            if collecting:
                gc.enable()

    def _load(self) -> Folder:
        config, problems = read_config(self.root)
        started = time.time_ns()
        old = self.entries
        fresh: dict[str, Entry] = {}
        to_parse: list[tuple[str, Signature]] = []
        self.changed = set()
        for item in walk(self.root, config.exclude):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            path, status = item
            stamp = _signature(status)
            known = old.get(path)
            if known is not None and known.signature == stamp:
                fresh[path] = known
            else:
                fresh[path] = Entry(STALE, None, ())  # placeholder: keeps the walk's order
                to_parse.append((path, stamp))
        for (path, stamp), (prospect, file_problems, encoded) in zip(to_parse, _parse(to_parse), strict=True):
            fresh[path] = Entry(_trusted(stamp, started), prospect, tuple(file_problems), encoded)
            self.changed.add(path)
        self.changed |= old.keys() - fresh.keys()
        self.entries = fresh
        self._config, self._walk_problems = config, tuple(problems)
        return self._assemble()

    def refresh(self, paths: Iterable[str]) -> Folder:
        """Look again at just these files (what a watcher reported); a file the last load did
        not know means a full `load`, since only the walk knows whether it is a prospect."""
        paths = set(paths)
        if self._folder is None or any(p not in self.entries and os.path.lexists(p) for p in paths):
            return self.load()
        started = time.time_ns()
        self.changed = set()
        for path in paths & self.entries.keys():
            stamp = signature(path)
            if stamp is None:
                del self.entries[path]
            elif stamp != self.entries[path].signature:
                prospect, file_problems = load_prospect(Path(path))
                self.entries[path] = Entry(_trusted(stamp, started), prospect, tuple(file_problems))
            else:
                continue
            self.changed.add(path)
        return self._assemble() if self.changed else self._folder

    def _assemble(self) -> Folder:
        assert self._config is not None
        prospects = [entry.prospect for entry in self.entries.values() if entry.prospect is not None]
        problems = [*self._walk_problems]
        for entry in self.entries.values():
            problems.extend(entry.problems)
        unique, duplicates = split_duplicates(prospects)
        self._folder = Folder(self.root, self._config, unique, tuple(problems + duplicates))
        return self._folder


def _trusted(stamp: Signature, started: int) -> Signature:
    """The signature to remember for a file read at `started` (see `RACY_NS`)."""
    return STALE if stamp[0] >= started - RACY_NS else stamp


def _parse(
    files: list[tuple[str, Signature]],
) -> Iterator[tuple[Prospect | None, list[Problem], record.Record | None]]:
    """Each file parsed, in order; in a process pool when there are many and nothing else
    runs in this process (forking a process with threads can deadlock the child)."""
    workers = min(os.cpu_count() or 1, len(files) // _CHUNK)
    if len(files) < PARALLEL_MIN or workers < 2 or threading.active_count() > 1 or not record.SUPPORTED:
        for path, _ in files:
            yield (*load_prospect(Path(path)), None)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [[path for path, _ in files[i : i + _CHUNK]] for i in range(0, len(files), _CHUNK)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for chunk, results in zip(chunks, pool.map(_parse_chunk, chunks), strict=True):
            for path, (encoded, problems) in zip(chunk, results, strict=True):
                file = Path(path)
                prospect = None if encoded is None else record.decode(encoded, file)
                yield prospect, list(record.decode_problems(problems, file)), encoded


def _parse_chunk(paths: list[str]) -> list[tuple[record.Record | None, record.Problems]]:
    """In a worker: parse files and send back plain values (cheap to pass between processes)."""
    results = []
    for path in paths:
        prospect, problems = load_prospect(Path(path))
        results.append(
            (None if prospect is None else record.encode(prospect), record.encode_problems(problems))
        )
    return results


def load_folder(root: Path) -> Folder:
    """Load the config and every prospect; bad files become problems, never exceptions."""
    return Loader(root).load()


def load_for(root: Path, reference: str) -> Folder | None:
    """The folder as far as resolving `reference` needs it, when it names one file by its
    exact id or path: the config and that file alone are read (the folder is only listed,
    to be sure no other file has that id). None when the whole folder must be loaded:
    a part of a name, a file linked twice, or nothing found.

    `resolve` on the result gives what it gives on the whole folder.
    """
    wanted = _fold(reference)
    config, problems = read_config(root)
    as_path = Path(reference)
    target: os.stat_result | None = None
    if as_path.suffix.lower() == ".md":
        try:
            target = os.stat(as_path)
        except OSError:
            return None
    found: list[tuple[str, os.DirEntry[str]]] = []
    for item in _entries(root, config.exclude):
        if isinstance(item, Problem):
            continue
        path, entry = item
        stem = entry.name[:-3]
        if stem == as_path.stem if target is not None else _fold(stem) == wanted:
            found.append(item)
    if len(found) != 1:
        return None
    path, entry = found[0]
    try:
        if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
            return None
        status = entry.stat(follow_symlinks=False)
    except OSError:
        return None
    if status.st_nlink != 1 or (
        target is not None and (target.st_dev, target.st_ino) != (status.st_dev, status.st_ino)
    ):
        return None
    prospect, file_problems = load_prospect(Path(path))
    if prospect is None and not any(p.severity == "error" for p in file_problems):
        return None  # not a prospect: the whole folder decides what the reference means
    return Folder(root, config, () if prospect is None else (prospect,), (*problems, *file_problems))


def load_templates(folder: Path) -> Templates:
    """Every `NAME.txt` in `_templates/` (SPEC §9), read but not compiled: only commands
    that render pay for Jinja2, and a folder without `_templates/` costs one failed listing.

    The templates travel in the config, so whatever keys on the config (the live feed,
    the stored feed's fingerprint) sees an edited template as a change."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return Templates(folder)
    texts, problems = [], []
    for entry in entries:
        if not entry.name.endswith(".txt") or entry.name.startswith((".", "_")):
            continue
        path = folder / entry.name
        try:
            if not entry.is_file():
                continue
            texts.append((entry.name[: -len(".txt")], path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as error:
            reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error.strerror or error
            problems.append(Problem(path, 0, f"cannot read template: {reason}"))
    return Templates(folder, tuple(texts), tuple(problems))


def split_duplicates(prospects: list[Prospect]) -> tuple[tuple[Prospect, ...], list[Problem]]:
    """Ids must be unique: every file sharing an id is left out, with an error naming the others."""
    by_id: dict[str, list[Prospect]] = {}
    for prospect in prospects:
        by_id.setdefault(prospect.id, []).append(prospect)
    problems = []
    for same in by_id.values():
        if len(same) > 1:
            for prospect in same:
                others = ", ".join(str(p.path) for p in same if p is not prospect)
                problems.append(
                    Problem(prospect.path, 0, f"duplicate id {prospect.id!r} (also {others}): skipped")
                )
    unique = tuple(p for p in prospects if len(by_id[p.id]) == 1)
    return unique, problems


def resolve(folder: Folder, reference: str) -> Prospect:
    """An id, a path, a whole name, or a unique part of a name, company, email or id.

    Case and accents are ignored ("eva novak" finds Eva Novák), and an exact id or name
    wins over a part of one. A reference naming a file that failed to load (or shares its
    id) is an error with that file's problem, never a quiet match on some other prospect.
    """
    if not reference.strip():
        raise MdfollowError("the prospect reference is empty", exit_code=2)
    wanted = _fold(reference)
    as_path = Path(reference)
    target = as_path.resolve() if as_path.suffix.lower() == ".md" and as_path.is_file() else None
    for prospect in folder.prospects:
        if _fold(prospect.id) == wanted or (target and prospect.path.resolve() == target):
            return prospect
    loaded = {prospect.path for prospect in folder.prospects}
    broken: dict[Path, Problem] = {}  # each file left out, with its first error
    for problem in folder.errors:
        if problem.path not in loaded:
            broken.setdefault(problem.path, problem)
    for path, problem in broken.items():
        if wanted in (_fold(path.stem), _fold(path.name)) or (target and path.resolve() == target):
            raise MdfollowError(_has_errors(problem))
    if target is not None:
        raise MdfollowError(f"{reference}: not a prospect of {folder.root} (no front matter, or excluded)")
    by_name = [p for p in folder.prospects if _fold(p.name) == wanted]
    if len(by_name) == 1:
        return by_name[0]
    matches = by_name or [
        p
        for p in folder.prospects
        if any(wanted in _fold(text or "") for text in (p.id, p.name, p.company, *p.emails))
    ]
    failed = [problem for path, problem in broken.items() if wanted in _fold(path.stem)]
    if len(matches) == 1 and not failed:
        return matches[0]
    if not matches and len(failed) == 1:
        raise MdfollowError(_has_errors(failed[0]))
    if not matches and not failed:
        unsearched = (
            f" ({len(broken)} file{' has' if len(broken) == 1 else 's have'} errors and could not be"
            " searched: run mdfollow check)"
            if broken
            else ""
        )
        raise MdfollowError(f"no prospect matches {reference!r}{unsearched}")
    listed = [f"{p.id} ({p.name}{', ' + p.company if p.company else ''})" for p in matches]
    listed += [f"{problem.path.stem} (has errors: run mdfollow check)" for problem in failed]
    more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
    raise MdfollowError(f"{reference!r} matches {len(listed)} prospects: {'; '.join(listed[:10])}{more}")


def _has_errors(problem: Problem) -> str:
    """A reference to a file that could not be read says so, with the file's first error."""
    return f"{problem.path} has errors: line {problem.line or 1}: {problem.message} (fix the file first)"


def _fold(text: str) -> str:
    """Text as people type it when searching: no case, no accents."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
