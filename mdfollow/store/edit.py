"""Safe writes to prospect files: line patches, verified by re-parsing, replaced atomically under a lock.

Nothing here re-dumps YAML. A change is a few replaced or inserted lines; every other
byte of the file (line endings, BOM, comments, quoting, unknown keys, the body) stays.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import NOTE_CHANNEL, Direction, Problem, Prospect, Status, log_order, when_text
from mdfollow.core.parse import (
    BOM,
    Layout,
    has_front_matter,
    layout,
    load_yaml,
    normalise_tags,
    parse_prospect,
    split_lines,
)
from mdfollow.store.atomic import write_atomic
from mdfollow.store.folder import prospect_files, signature

if sys.platform != "win32":
    import fcntl

CHANNEL = re.compile(r"^[\w-]+$")
CONTINUATION = "    "
"""Indent of a note's further lines: four spaces, so no note line can pass for a heading or a fence."""

_ATTEMPTS = 5
SLUG_MAX = 80
"""Longest slug: file names stay well under the usual 255-byte limit, `-2` suffix included."""
PATHSPEC_ARGS = 100
"""More files than this are named to git on stdin, not on its command line (length limits)."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_FIRST = re.compile(r"""^[^\s\-?:,\[\]{}#&*!|>'"%@`]""")
_FLOW_INDICATORS = re.compile(r"[,\[\]{}]")
_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


class NotWritten(MdfollowError):
    """The file system refused a write (permissions, space, a name too long): the data was fine."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A line to add to the touch log: a touch, or a dated note when `channel` is `note`."""

    date: dt.date
    channel: str
    note: str = ""
    time: dt.time | None = None
    direction: Direction = "out"

    @property
    def note_lines(self) -> list[str]:
        """The note as the parser will read it back: stripped lines, blank ones dropped."""
        return [part.strip() for part in self.note.splitlines() if part.strip()]

    def lines(self) -> list[str]:
        """The item line, then one indented continuation line per further line of the note."""
        head = f"- {self.date.isoformat()}"
        if self.time is not None:
            head += f" {self.time.strftime('%H:%M')}"
        head += f" {self.channel.lower()}{' in' if self.direction == 'in' else ''}:"
        first, *rest = self.note_lines or [""]
        return [f"{head} {first}" if first else head, *(CONTINUATION + part for part in rest)]

    def sort_key(self) -> tuple[dt.date, bool, dt.time]:
        return log_order(self.date, self.time)


@dataclass(frozen=True, slots=True)
class Change:
    """What one write means to do: front matter keys to set (as text) and log entries to add."""

    keys: Mapping[str, str] = field(default_factory=dict)
    entries: Sequence[Entry] = ()
    drop_repeats: bool = False
    """Remove each log item whose lines repeat an earlier item's exactly (a union merge leaves them)."""


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by `-`, from any script: "José Müller" → `jose-muller`,
    "Ольга Иванова" → `olga-ivanova`, "王小明" → `wang-xiao-ming`. Symbols and emoji are dropped,
    apostrophes too ("O'Brien" → `obrien`)."""
    from anyascii import anyascii  # lazily: only commands that create files need it

    parts: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char.isascii():
            parts.append(char)
        elif unicodedata.category(char) != "So":
            ascii_text = anyascii(char)
            # an ideograph or a Hangul syllable is a capitalised syllable of its own ("Wang")
            syllable = unicodedata.category(char) == "Lo" and ascii_text[:1].isupper()
            parts.append(f" {ascii_text} " if syllable else ascii_text)
    words = "".join(parts).replace("'", "").lower()
    return re.sub(r"[^a-z0-9]+", "-", words).strip("-")


def yaml_value(value: str, *, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as exactly this text: plain when that is
    unambiguous (and for ISO dates), double-quoted otherwise. `flow` for inside `[...]`."""
    if _ISO_DATE.match(value):
        return value
    plain = (
        value == value.strip()
        and _PLAIN_FIRST.match(value) is not None
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and not (flow and _FLOW_INDICATORS.search(value))
        and all(ch == _escape(ch) for ch in value)
    )
    return value if plain and _reads_back(value, value) else '"' + "".join(_escape(ch) for ch in value) + '"'


def _reads_back(written: str, value: str) -> bool:
    """Whether `key: written` reads back as `value`, both as mdfollow reads front matter and
    as a YAML 1.1 reader would (PyYAML, older tools), so no reader sees a number or a yes/no."""
    try:
        return all(load(f"k: {written}") == {"k": value} for load in (load_yaml, yaml.safe_load))
    except yaml.YAMLError:
        return False


def _escape(ch: str) -> str:
    """One character inside a double-quoted YAML scalar. Line breaks of any kind (they would
    split the line for `str.splitlines`) and characters YAML may not hold are escaped."""
    if ch in '"\\':
        return "\\" + ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or ch in "\u2028\u2029\ufffe\uffff" or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def yaml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(yaml_value(v, flow=True) for v in values) + "]"


def mark_change(
    status: Status, today: dt.date, reason: str | None = None, current: Status | None = None
) -> Change:
    """`mark`: the new status, `closed` for won and lost, and the reason as a dated note.

    Marking a prospect with the status it already has keeps its `closed` date: that is
    when the deal really closed, and `stats` counts touches up to it."""
    keys: dict[str, str] = {"status": status}
    if status in ("won", "lost") and status != current:
        keys["closed"] = today.isoformat()
    entries = [Entry(today, NOTE_CHANNEL, f"marked {status}: {reason}")] if reason and reason.strip() else []
    return Change(keys, entries)


# --- new files ---------------------------------------------------------------------


def _prospect_text(fields: Mapping[str, Any], extra_body: str) -> str:
    """The text of a new prospect file (the checked `fields` of `create_prospect`): front
    matter, a title, `extra_body`, an empty touch log."""
    name, company, emails, phones = fields["name"], fields["company"], fields["emails"], fields["phones"]
    source, tags, next, created = fields["source"], fields["tags"], fields["next"], fields["created"]
    front = [f"name: {yaml_value(name)}"]
    if company:
        front.append(f"company: {yaml_value(company)}")
    for key, values in (("email", emails), ("phone", phones)):
        if len(values) == 1:
            front.append(f"{key}: {yaml_value(values[0])}")
        elif values:
            front.append(f"{key}: {yaml_list(values)}")
    front.append("status: active")
    if source:
        front.append(f"source: {yaml_value(source)}")
    if tags:
        front.append(f"tags: {yaml_list(tags)}")
    if created is not None:
        front.append(f"created: {created.isoformat()}")
    if next is not None:
        front.append(f"next: {when_text(next, fields['next_time'])}")
    title = " ".join(f"{name} — {company}".split() if company else name.split())
    body = "\n".join(extra_body.splitlines()).strip("\n")
    parts = ["---", *front, "---", f"# {title}", ""]
    if body:
        parts += [body, ""]
    parts.append("## Touches")
    return "\n".join(parts) + "\n"


def create_prospect(
    root: Path,
    name: str,
    *,
    company: str | None = None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    source: str | None = None,
    tags: Sequence[str] = (),
    next: dt.date | None = None,
    next_time: dt.time | None = None,
    created: dt.date | None = None,
    extra_body: str = "",
    taken: set[str] | None = None,
) -> Path:
    """Write a new prospect file `<slug>.md` in `root` and return its path.

    The one writer of new prospect files (`add`, `init`, `import`). The slug is the name
    and company in ASCII (`jane-doe-acme`), with `-2`, `-3`… while that id is taken anywhere
    in the folder. Values are stripped; empty ones are left out; tags are written as the
    parser reads them (`"a, #b"` is the tags `a` and `b`). `extra_body` is Markdown
    put between the title and the (empty) touch log. Raises MdfollowError, writing
    nothing, when the values would not read back as given (e.g. an empty name).

    `taken`: the ids in use, from `taken_ids(root)`, for a caller creating many files (the
    folder is then not walked again each time); the new id is added to it.
    """
    fields: dict[str, Any] = {
        "name": name.strip(),
        "company": (company or "").strip() or None,
        "emails": tuple(e.strip() for e in emails if e.strip()),
        "phones": tuple(p.strip() for p in phones if p.strip()),
        "source": (source or "").strip() or None,
        "tags": normalise_tags(tags),
        "next": next,
        "next_time": next_time if next is not None else None,
        "created": created,
    }
    if not fields["name"]:
        raise MdfollowError("a prospect needs a name")
    data = _utf8(_prospect_text(fields, extra_body), f"cannot write a prospect file for {name!r}")
    base = slugify(f"{fields['name']} {fields['company'] or ''}")[:SLUG_MAX].rstrip("-") or "prospect"
    written, problems = parse_prospect(root / f"{base}.md", data)
    wrong = [key for key, value in fields.items() if written is None or getattr(written, key) != value]
    if problems or wrong or written is None or written.touches or written.notes:
        reason = problems[0].message if problems else f"{', '.join(wrong) or 'the log'} would not read back"
        raise MdfollowError(f"cannot write a prospect file for {name!r}: {reason}")
    if taken is None:
        taken = taken_ids(root)
    for number in itertools.count(1):
        slug = base if number == 1 else f"{base}-{number}"
        path = root / f"{slug}.md"
        if slug not in taken and write_new(path, data):
            taken.add(slug)
            return path
    raise AssertionError("unreachable: itertools.count never ends")


def taken_ids(root: Path) -> set[str]:
    """The ids a new file must not take: every Markdown file's name anywhere in the folder."""
    return {item.stem.lower() for item in prospect_files(root, ()) if isinstance(item, Path)}


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
        write_atomic(path, data)
    except BaseException as error:
        path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise NotWritten(f"{path}: cannot write: {error.strerror or error}") from None
        raise
    return True


# --- editing files -----------------------------------------------------------------


def edit_prospect(path: Path, change: Change) -> Prospect:
    """Apply `change` to the file as it is on disk now, and return the prospect it becomes.

    Under an exclusive lock on the file, the fresh bytes are read, patched, verified and
    atomically replaced; an editor's save made after the caller loaded the folder is kept.
    If the file changed since it was read (a writer that does not lock), it starts over.
    """
    target = Path(os.path.realpath(path))
    try:
        for _ in range(_ATTEMPTS):
            with _locked(target):
                seen = signature(target)
                data = target.read_bytes()
                new_data, prospect = patch(path, data, change)
                if signature(target) == seen:
                    write_atomic(target, new_data)
                    return prospect
    except OSError as error:
        raise NotWritten(f"{path}: cannot write: {error.strerror or error} (not changed)") from None
    raise MdfollowError(f"{path}: the file kept changing while mdfollow wrote it (not changed)")


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on the file itself (no lock file to leave behind). A writer that
    replaced the file while we waited leaves us a lock on a stale inode: then lock the new one."""
    while True:
        fd = os.open(target, os.O_RDONLY)
        try:
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_EX)
            held, current = os.fstat(fd), os.stat(target)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                yield
                return
        finally:
            os.close(fd)


def git_commit(paths: Sequence[Path], message: str) -> str | None:
    """Commit exactly these files, in one commit (`[git] autocommit`); why not, when git cannot.
    The edits are already on disk by then, so a failed commit never loses them."""
    where = paths[0].parent
    names = [os.path.relpath(path, where) for path in paths]
    if len(names) <= PATHSPEC_ARGS:
        pathspec, listed = ["--", *names], None
    else:
        pathspec, listed = ["--pathspec-from-file=-", "--pathspec-file-nul"], "\0".join(names)
    for args in (["add", *pathspec], ["commit", "--quiet", "-m", message, *pathspec]):
        try:
            result = subprocess.run(
                ["git", "-C", str(where), *args],
                capture_output=True,
                text=True,
                input=listed,
                stdin=None if listed else subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"not committed: {error}"
        if result.returncode:
            output = (result.stderr or result.stdout).strip().splitlines()
            return f"not committed: {output[0] if output else f'git {args[0]} failed'}"
    return None


# --- patching text -----------------------------------------------------------------


def patch(path: Path, data: bytes, change: Change) -> tuple[bytes, Prospect]:
    """The file's new bytes with `change` applied, and the prospect they parse to.

    Refuses (MdfollowError) a file that does not parse, and any result that does not
    parse back to exactly the old prospect plus the change. Pure: no I/O.
    """
    old, old_problems = _parse_or_refuse(path, data)
    bom = BOM if data.startswith(BOM) else b""
    text = data.removeprefix(BOM).decode("utf-8")
    shape = layout(text)
    lines = split_lines(text, keepends=True)
    eol = _ending(lines)
    edits = [_key_edit(shape, old, key, value) for key, value in change.keys.items()]
    edits += _entry_edits(shape, old, change.entries)
    dropped = _repeated_items(shape, old) if change.drop_repeats else {}
    edits += [(line - 1, end, []) for line, end in dropped.items()]
    ordered = sorted(enumerate(edits), key=lambda item: (item[1][0], item[0]), reverse=True)
    for _, (start, end, new_lines) in ordered:
        _splice(lines, start, end, new_lines, eol)
    new_data = bom + _utf8("".join(lines), f"{path}: not changed")
    return new_data, _verify(path, old, old_problems, new_data, change, dropped.keys())


def _utf8(text: str, context: str) -> bytes:
    """Encode for the file; a lone surrogate (undecodable bytes in a command-line argument) is refused."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = text[error.start : error.end]
        raise MdfollowError(f"{context}: {bad!r} is not text (check the terminal's encoding)") from None


def _parse_or_refuse(path: Path, data: bytes) -> tuple[Prospect, list[Problem]]:
    if not has_front_matter(data):
        raise MdfollowError(f"{path}: not a prospect file (no front matter): not changed")
    prospect, problems = parse_prospect(path, data)
    if prospect is None:
        raise MdfollowError(f"{problems[0]} (not changed: fix the file first)")
    return prospect, problems


def _ending(lines: Sequence[str]) -> str:
    """The file's line ending, taken from its first line; new lines use it."""
    first = lines[0] if lines else ""
    for ending in ("\r\n", "\n", "\r"):
        if first.endswith(ending):
            return ending
    return "\n"


def _terminated(line: str) -> bool:
    return line.endswith(("\n", "\r"))


def _splice(lines: list[str], start: int, end: int, new_lines: list[str], eol: str) -> None:
    """Replace lines[start:end] by `new_lines`; a file without a final newline keeps lacking one."""
    pieces = [line + eol for line in new_lines]
    if end == len(lines) and pieces and not _terminated(lines[-1]):
        pieces[-1] = pieces[-1].removesuffix(eol)
        if start == end:
            lines[-1] += eol
    lines[start:end] = pieces


Edit = tuple[int, int, list[str]]
"""Replace lines [start, end) (0-based) by these lines, written without their line endings."""


def _key_edit(shape: Layout, old: Prospect, key: str, value: str) -> Edit:
    """Set one front matter key: change its value in place (keeping the spacing, the key's
    and the value's quoting, and a trailing comment), or add `key: value` as the last front
    matter line."""
    number = old.key_lines.get(key)
    if number is None:
        return (shape.front_end, shape.front_end, [f"{yaml_value(key)}: {yaml_value(value)}"])
    index = number - 1
    end = _value_end(shape, index)
    line = shape.lines[index]
    span = _value_span(line) if end == index + 1 else None
    if span is None:
        colon = _key_colon(line)
        gap = re.match(r"[ \t]*", line[colon + 1 :])
        return (index, end, [f"{line[: colon + 1]}{gap[0] if gap and gap[0] else ' '}{yaml_value(value)}"])
    start, stop, style = span
    head, tail = line[:start], line[stop:]
    if start == stop:
        head = head if head.endswith((" ", "\t")) else head + " "
        tail = tail if not tail or tail.startswith((" ", "\t")) else " " + tail
    return (index, end, [f"{head}{_quoted(value, style) or yaml_value(value)}{tail}"])


def _quoted(value: str, style: str | None) -> str | None:
    """`value` in the old value's quotes (`'` or `"`), if it reads back exactly that way."""
    if style == '"':
        text = '"' + "".join(_escape(ch) for ch in value) + '"'
    elif style == "'" and all(ch == _escape(ch) or ch in '"\\' for ch in value):
        text = "'" + value.replace("'", "''") + "'"
    else:
        return None
    return text if _reads_back(text, value) else None


def _value_end(shape: Layout, index: int) -> int:
    """The line after a key's value: a block list or indented lines below it belong to it;
    blank lines and comments do only when more of the value follows them."""
    end = index + 1
    for probe in range(index + 1, shape.front_end):
        line = shape.lines[probe]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[:1] not in (" ", "\t", "-"):
            break
        end = probe + 1
    return end


def _value_span(line: str) -> tuple[int, int, str | None] | None:
    """Columns of the one-line scalar value in `key: value  # comment` and its quoting style
    (`'`, `"` or None for plain), or None when the value is not a scalar on this line. An
    empty value gives an empty span just after the colon. Tabs are read as spaces (the
    parser's YAML accepts them around the colon, this scanner does not): same columns."""
    try:
        tokens = list(yaml.scan(line.replace("\t", " "), Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    kinds = [type(token).__name__ for token in tokens]
    head = ["StreamStartToken", "BlockMappingStartToken", "KeyToken", "ScalarToken", "ValueToken"]
    tail = ["BlockEndToken", "StreamEndToken"]
    if kinds == [*head, "ScalarToken", *tail]:
        value = tokens[5]
        assert isinstance(value, yaml.tokens.ScalarToken)
        return (value.start_mark.column, value.end_mark.column, value.style)
    if kinds == [*head, *tail]:
        column = tokens[4].end_mark.column
        return (column, column, None)
    return None


def _key_colon(line: str) -> int:
    """Where the key of a `key: ...` line ends (its colon), quoted keys included."""
    match = re.match(r"""^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^#'"][^:]*?)[ \t]*:""", line)
    assert match is not None, "the parser found a key on this line"
    return match.end() - 1


def _entry_edits(shape: Layout, old: Prospect, entries: Sequence[Entry]) -> list[Edit]:
    """Insert each entry in date order (SPEC §2: after every item that sorts before or with it);
    without a touch log, add a `## Touches` section at the end of the file."""
    ordered = sorted(entries, key=lambda e: e.sort_key())
    if not ordered:
        return []
    if shape.section_start is None or shape.section_end is None:
        end = len(shape.lines)
        gap = [""] if shape.lines[-1].strip() else []
        return [(end, end, [*gap, "## Touches", *(line for e in ordered for line in e.lines())])]
    items = sorted(old.touches + old.notes, key=lambda t: t.line)
    edits: list[Edit] = []
    for entry in ordered:
        before = [t for t in items if t.sort_key[:3] <= entry.sort_key()]
        if before:
            at = _item_end(shape, before[-1].line - 1)
        elif items:
            at = items[0].line - 1
        else:
            at = _last_text_line(shape) + 1
        edits.append((at, at, entry.lines()))
    return edits


def _item_end(shape: Layout, index: int) -> int:
    """The line after an item and its indented continuation lines (read as the parser does)."""
    end = index + 1
    limit = shape.section_end or len(shape.lines)
    while end < limit and shape.lines[end][:1] in (" ", "\t") and shape.lines[end].strip():
        end += 1
    return end


def _last_text_line(shape: Layout) -> int:
    assert shape.section_start is not None and shape.section_end is not None
    return max(i for i in range(shape.section_start, shape.section_end) if shape.lines[i].strip())


LogItem = tuple[dt.date, dt.time | None, str, str, str]


def _verify(
    path: Path,
    old: Prospect,
    old_problems: list[Problem],
    data: bytes,
    change: Change,
    dropped: Collection[int] = (),
) -> Prospect:
    """Parse what is about to be written; refuse unless it is the old prospect plus the change
    (less the `dropped` log items, by line)."""
    new, problems = parse_prospect(path, data)
    if new is None:
        raise MdfollowError(f"{path}: refused: the edit would break the file ({problems[0].message})")
    added: list[LogItem] = [
        (e.date, e.time, e.channel.lower(), e.direction, "\n".join(e.note_lines)) for e in change.entries
    ]
    expected = sorted(_log(old, dropped) + added, key=lambda t: log_order(t[0], t[1]))
    same_problems = Counter(p.message for p in problems) == Counter(p.message for p in old_problems)
    if dict(new.front_matter) != {**old.front_matter, **change.keys} or _log(new) != expected:
        for problem in old_problems:  # the likely cause, which `check` names too
            if any(problem.message.startswith(f"key {key!r} appears twice") for key in change.keys):
                raise MdfollowError(
                    f"{problem.path}:{problem.line}: key appears twice: not changed (remove one)"
                )
        raise MdfollowError(f"{path}: refused: the edit would not read back as intended (not changed)")
    if not same_problems:
        raise MdfollowError(f"{path}: refused: the edit would make the file invalid (not changed)")
    return new


def _log(prospect: Prospect, dropped: Collection[int] = ()) -> list[LogItem]:
    """Touches and notes in log order, without their line numbers (an insert shifts those)."""
    return [(t.date, t.time, t.channel, t.direction, t.note) for t in prospect.log if t.line not in dropped]


def _repeated_items(shape: Layout, old: Prospect) -> dict[int, int]:
    """Log items (1-based line → 0-based end) whose lines, continuations included, are exactly
    those of an earlier item: the copies a union merge or a rebase can leave."""
    seen: set[tuple[str, ...]] = set()
    repeated: dict[int, int] = {}
    for item in sorted(old.touches + old.notes, key=lambda t: t.line):
        end = _item_end(shape, item.line - 1)
        text = shape.lines[item.line - 1 : end]
        if text in seen:
            repeated[item.line] = end
        seen.add(text)
    return repeated
