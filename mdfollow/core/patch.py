"""Line patches of a prospect file's bytes, verified by parsing the result. Pure: no I/O.

Nothing here re-dumps YAML. A change is a few replaced or inserted lines; every other
byte of the file (line endings, BOM, comments, quoting, unknown keys, the body) stays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

import yaml

from mdfollow.core.change import Change, Entry, LogItem, log_items
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import NOTE_CHANNEL, Problem, Prospect, log_order
from mdfollow.core.parse import BOM, Layout, has_front_matter, layout, parse_prospect, split_lines
from mdfollow.core.yaml_text import quoted, yaml_value

Edit = tuple[int, int, list[str]]
"""Replace lines [start, end) (0-based) by these lines, written without their line endings."""


class AlreadyLogged(MdfollowError):
    """The change adds a touch the log already holds (same date, time, channel, direction
    and note): nothing is written, so a command run twice logs nothing twice. Dated notes
    (`mark --reason`) may repeat: the same reason can close a deal twice."""

    def __init__(self, path: Path, line: int, entry: Entry) -> None:
        self.reason = f"the same touch is already logged: nothing written ({entry.lines()[0][2:]})"
        super().__init__(f"{path}:{line}: {self.reason}")
        self.path, self.line = path, line


def patch(path: Path, data: bytes, change: Change) -> tuple[bytes, Prospect]:
    """The file's new bytes with `change` applied, and the prospect they parse to.

    Refuses (MdfollowError) a file that does not parse, and any result that does not
    parse back to exactly the old prospect plus the change; AlreadyLogged when a touch
    of the change is in the log already.
    """
    old, old_problems = _parse_or_refuse(path, data)
    logged = {item: line for item, line in zip(log_items(old), (t.line for t in old.log), strict=True)}
    for entry in change.entries:
        if entry.item in logged and entry.channel.lower() != NOTE_CHANNEL:
            raise AlreadyLogged(path, logged[entry.item], entry)
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
    new_data = bom + encode_text("".join(lines), f"{path}: not changed")
    return new_data, _verify(path, old, old_problems, new_data, change, dropped.keys())


def encode_text(text: str, context: str) -> bytes:
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
    return (index, end, [f"{head}{quoted(value, style) or yaml_value(value)}{tail}"])


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
    added: list[LogItem] = [entry.item for entry in change.entries]
    expected = sorted(log_items(old, dropped) + added, key=lambda t: log_order(t[0], t[1]))
    same_problems = Counter(p.message for p in problems) == Counter(p.message for p in old_problems)
    if dict(new.front_matter) != {**old.front_matter, **change.keys} or log_items(new) != expected:
        for problem in old_problems:  # the likely cause, which `check` names too
            if any(problem.message.startswith(f"key {key!r} appears twice") for key in change.keys):
                raise MdfollowError(
                    f"{problem.path}:{problem.line}: key appears twice: not changed (remove one)"
                )
        raise MdfollowError(f"{path}: refused: the edit would not read back as intended (not changed)")
    if not same_problems:
        raise MdfollowError(f"{path}: refused: the edit would make the file invalid (not changed)")
    return new


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
