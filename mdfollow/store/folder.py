"""Find the prospect folder, load every prospect in it, and resolve references to one."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

from mdfollow.core.config import CONFIG_NAME, TEMPLATES_FOLDER, load_config
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Config, Problem, Prospect, Templates
from mdfollow.core.parse import BOM, has_front_matter, parse_prospect


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
    return next((above for above in (folder, *folder.parents) if (above / CONFIG_NAME).is_file()), None)


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


def prospect_files(root: Path, exclude: tuple[str, ...]) -> Iterator[Path | Problem]:
    """Every candidate `*.md` below root in a stable order, and a problem for each unwalkable folder.

    A subfolder holding its own `mdfollow.toml` is another prospect folder and is not
    entered, as git does not enter a nested repository."""
    seen: set[tuple[int, int]] = set()

    def excluded(relative: str, name: str) -> bool:
        """As in .gitignore: a glob without a slash matches a name at any depth."""
        return any(
            fnmatch(relative, pattern.strip("/"))
            if "/" in pattern.rstrip("/")
            else fnmatch(name, pattern.rstrip("/"))
            for pattern in exclude
        )

    files: dict[tuple[int, int], Path] = {}
    links: list[tuple[Path, tuple[int, int]]] = []

    def walk(folder: Path, relative: str) -> Iterator[Path | Problem]:
        try:
            status = folder.stat()
            if (status.st_dev, status.st_ino) in seen:
                yield Problem(folder, 0, "symlink loop: folder already read, skipped", "warning")
                return
            seen.add((status.st_dev, status.st_ino))
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            yield Problem(folder, 0, f"cannot read folder: {error.strerror or error}")
            return
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")) or name.endswith("~") or name.startswith("#"):
                continue
            child = f"{relative}{name}"
            if excluded(child, name):
                continue
            path = folder / name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not (path / CONFIG_NAME).is_file():  # a folder with its own config is its own root
                    yield from walk(path, child + "/")
            elif not name.lower().endswith(".md"):
                continue
            elif not _utf8_name(name):
                yield Problem(path, 0, "file name is not valid UTF-8: skipped (rename the file)")
            elif reason := _not_readable(entry):
                yield Problem(path, 0, reason)
            elif entry.is_symlink():
                target = os.stat(entry.path)
                links.append((path, (target.st_dev, target.st_ino)))
            else:
                files[(status.st_dev, entry.inode())] = path
                yield path

    yield from walk(root, "")
    for path, key in links:  # after every real file, so a link never hides its target
        if key in files:
            yield Problem(path, 0, f"same file as {files[key]}: skipped", "warning")
        else:
            files[key] = path
            yield path


def _utf8_name(name: str) -> bool:
    """Names come from the OS as text with undecodable bytes as surrogates; ids must be real text."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_readable(entry: os.DirEntry[str]) -> str | None:
    """Why a `*.md` entry cannot be read as a file: only regular files are (a FIFO would
    block forever, a device never end, a dangling link has nothing behind it)."""
    try:
        if entry.is_file():
            return None
        os.stat(entry.path)
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    return "not a regular file: skipped"


def load_prospect(path: Path) -> tuple[Prospect | None, list[Problem]]:
    """Read and parse one file; a file without front matter is not a prospect."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Problem(path, 0, f"cannot read: {error.strerror or error}")]
    if not has_front_matter(data):
        if data.removeprefix(BOM).lstrip(b" \t\r\n").startswith(b"---\n"):
            message = "front matter must start on the first line: not read as a prospect"
            return None, [Problem(path, 1, message, "warning")]
        return None, []
    return parse_prospect(path, data)


Signature = tuple[int, int, int, int]
Loaded = tuple[Prospect | None, list[Problem]]


class Memo(dict[Path, tuple[Signature, Loaded]]):
    """Parsed files by path, with the stat signature they were parsed at (see `load_folder`).

    `changed` says whether a load added, replaced or dropped an entry.
    """

    changed = False


def signature(path: Path) -> Signature | None:
    """What changes whenever a file's content may have changed."""
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino, status.st_ctime_ns)


def load_folder(root: Path, memo: Memo | None = None) -> Folder:
    """Load the config and every prospect; bad files become problems, never exceptions.

    With a `memo`, a file whose stat signature is unchanged is not read again, and
    the memo is updated to hold exactly the files seen (for `watch` and the cache).
    """
    config, problems = load_config(root)
    config = replace(config, templates=load_templates(root / TEMPLATES_FOLDER))
    prospects: list[Prospect] = []
    seen: set[Path] = set()
    for item in prospect_files(root, config.exclude):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        if memo is None:
            prospect, file_problems = load_prospect(item)
        else:
            seen.add(item)
            stamp = signature(item)
            cached = memo.get(item)
            if stamp is not None and cached is not None and cached[0] == stamp:
                prospect, file_problems = cached[1]
            else:
                prospect, file_problems = load_prospect(item)
                if stamp is not None:
                    memo[item] = (stamp, (prospect, file_problems))
                    memo.changed = True
        problems.extend(file_problems)
        if prospect is not None:
            prospects.append(prospect)
    if memo is not None:
        for gone in memo.keys() - seen:
            del memo[gone]
            memo.changed = True
    unique, duplicates = split_duplicates(prospects)
    return Folder(root, config, unique, tuple(problems + duplicates))


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
    for problem in folder.errors:
        if wanted in (_fold(problem.path.stem), _fold(problem.path.name)) or (
            target and problem.path.resolve() == target
        ):
            raise MdfollowError(f"{problem} (fix the file first)")
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
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise MdfollowError(f"no prospect matches {reference!r}")
    listed = "; ".join(f"{p.id} ({p.name}{', ' + p.company if p.company else ''})" for p in matches[:10])
    more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
    raise MdfollowError(f"{reference!r} matches {len(matches)} prospects: {listed}{more}")


def _fold(text: str) -> str:
    """Text as people type it when searching: no case, no accents."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
