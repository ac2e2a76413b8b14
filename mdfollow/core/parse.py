"""Prospect file text → `Prospect`, with `path:line` on every problem. Never writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from mdfollow.core.model import STATUSES, Direction, Problem, Prospect, Touch

BOM = b"\xef\xbb\xbf"
TOUCH_GRAMMAR = 'expected "- YYYY-MM-DD [HH:MM] channel[ in]: note"'

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """YAML with the YAML 1.1 surprises removed: only true/false are booleans, dates
    stay text (mdfollow checks them itself), and `0123` or `1:30` stay text."""


_DROPPED = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)

_YAML = YAMLHandler()
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=|-)\1*[ \t]*$")
_TOUCH = re.compile(
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[ \t]+(?P<time>\d{1,2}:\d{2}))?"
    r"[ \t]+(?P<channel>[\w-]+)"
    r"(?:[ \t]+(?P<direction>in|out))?"
    r"[ \t]*:(?P<note>.*)$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?"
    r"[ \t]*(?:Z|[+-]\d{2}:?\d{2})?$"
)
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?[ \t]*(?:Z|[+-]\d{2}:?\d{2})$")
_KEY = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([^\s#'"][^:]*?))[ \t]*:(?:[ \t]|$)""")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the parts of a prospect file are, as 0-based line indexes.

    `front_end` is the closing `---`; the touch log runs from `section_start`
    (its heading) up to, not including, `section_end`. `ignored_section` is the
    heading of a second Touches section, which is not read.
    """

    lines: tuple[str, ...]
    front_end: int
    section_start: int | None
    section_end: int | None
    ignored_section: int | None = None


class _Invalid(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


def has_front_matter(data: bytes) -> bool:
    """A Markdown file is a prospect when its first line is `---`."""
    data = data.removeprefix(BOM)
    first = data.split(b"\n", 1)[0]
    return first.rstrip(b" \t\r") == b"---"


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM; raises `_Invalid` naming the line of a bad byte."""
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _Invalid(line, f"not UTF-8 (byte 0x{data[error.start]:02x})") from None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str, *, keepends: bool = False) -> list[str]:
    """Lines as editors count them: only CR, LF and CRLF end a line (not form feeds or U+2028,
    which `str.splitlines` also splits at, shifting every line number after them)."""
    lines = _LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


def layout(text: str) -> Layout:
    """Find the front matter and the touch log section in the text's lines."""
    lines = tuple(split_lines(text))
    front_end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if front_end is None:
        raise _Invalid(1, "front matter has no closing ---")
    start = end = ignored = None
    level = 0
    for index, heading_level, title in _headings(lines, front_end + 1):
        if start is None:
            if title.lower() == "touches":
                start, level = index, heading_level
        elif end is None and heading_level <= level:
            end = index
        if end is not None and title.lower() == "touches" and index >= end:
            ignored = index
            break
    if start is not None and end is None:
        end = len(lines)
    return Layout(lines, front_end, start, end, ignored)


def _headings(lines: Sequence[str], first: int) -> Iterator[tuple[int, int, str]]:
    """(index, level, text) of each Markdown heading, ATX (`## x`) or setext (underlined),
    outside fenced code blocks."""
    fence: str | None = None
    for index in range(first, len(lines)):
        line = lines[index]
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match[1]
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        atx = _HEADING.match(line)
        if atx:
            yield index, len(atx[1]), (atx[2] or "").strip()
        elif index + 1 < len(lines) and line.strip() and not _ITEM.match(line):
            underline = _SETEXT.match(lines[index + 1])
            if underline:
                yield index, 1 if underline[1] == "=" else 2, line.strip()


def parse_prospect(path: Path, data: bytes) -> tuple[Prospect | None, list[Problem]]:
    """Parse one file's bytes. No prospect when the file is bad (the problems say why)."""
    try:
        text = decode(data)
        shape = layout(text)
        front = _load_front_matter(shape)
    except _Invalid as invalid:
        return None, [Problem(path, invalid.line, invalid.message)]
    key_lines, repeated = _key_lines(shape.lines[1 : shape.front_end])
    try:
        fields = _fields(front, key_lines)
    except _Invalid as invalid:
        return None, [Problem(path, invalid.line, invalid.message)]
    problems = [
        Problem(path, line, f"key {key!r} appears twice: the last one counts, edits are refused", "warning")
        for key, line in repeated
    ]
    if isinstance(front.get("next"), str) and _OFFSET.search(front["next"]):
        message = "next: the UTC offset is ignored; the time is read in the calendar's time zone"
        problems.append(Problem(path, key_lines.get("next", 1), message, "warning"))
    if shape.ignored_section is not None:
        message = "a second Touches section is not read: move its items into the first"
        problems.append(Problem(path, shape.ignored_section + 1, message, "warning"))
    log = sorted(_touches(path, shape, problems), key=lambda touch: touch.sort_key)
    prospect = Prospect(
        id=path.stem,
        path=path,
        touches=tuple(t for t in log if not t.is_note),
        notes=tuple(t for t in log if t.is_note),
        front_matter=front,
        key_lines=key_lines,
        **fields,
    )
    return prospect, problems


def load_yaml(text: str) -> Any:
    """YAML as mdfollow reads front matter (see `_Loader`); raises yaml.YAMLError."""
    return _YAML.load(text, Loader=_Loader)


def _load_front_matter(shape: Layout) -> dict[str, Any]:
    text = "".join(line + "\n" for line in shape.lines[1 : shape.front_end])
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 2 if mark else 1
        raise _Invalid(line, f"broken YAML: {error.problem or error.context}") from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 2
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise _Invalid(line, f"broken YAML: character U+{code:04X} is not allowed") from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as error:
        raise _Invalid(1, f"broken YAML: {str(error).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Invalid(2, f"front matter must be key: value lines, not a {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise _Invalid(1, f"front matter key {key!r} is not text (quote it)")
    return data


def _key_lines(front_lines: Sequence[str]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Line number of each top-level front matter key (file lines, 1-based), and repeated keys."""
    lines: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    for offset, line in enumerate(front_lines):
        match = _KEY.match(line)
        if match:
            key = next(group for group in match.groups() if group is not None)
            if key in lines:
                repeated.append((key, offset + 2))
            lines.setdefault(key, offset + 2)
    return lines, repeated


def _fields(front: Mapping[str, Any], key_lines: Mapping[str, int]) -> dict[str, Any]:
    """Check and convert the front matter keys that mdfollow understands."""

    def fail(key: str, message: str) -> _Invalid:
        return _Invalid(key_lines.get(key, 1), message)

    def text(key: str) -> str | None:
        value = front.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise fail(key, f"{key} must be text, not {_describe(value)} (quote it)")
        return str(value).strip()

    def texts(key: str) -> tuple[str, ...]:
        value = front.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if any(isinstance(i, bool) or not isinstance(i, str | int) for i in items):
            raise fail(key, f"{key} must be text or a list of text")
        return tuple(str(item).strip() for item in items if str(item).strip())

    def date(key: str) -> tuple[dt.date | None, dt.time | None]:
        value = front.get(key)
        if value is None or value == "":
            return None, None
        match = _DATE.match(str(value).strip()) if isinstance(value, str) else None
        if not match:
            raise fail(key, f"{key} {str(value)!r} is not a date (use YYYY-MM-DD)")
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
            clock = dt.time(int(match[4]), int(match[5])) if match[4] else None
        except ValueError:
            raise fail(key, f'{key} "{value}" is not a date') from None
        return day, clock

    name = text("name")
    if not name:
        raise fail("name", "missing name (every prospect needs `name:`)")
    status = (text("status") or "active").lower()
    if status not in STATUSES:
        raise fail("status", f"unknown status {status!r} (use {', '.join(STATUSES)})")
    next_day, next_time = date("next")
    return {
        "name": name,
        "status": status,
        "company": text("company"),
        "emails": texts("email"),
        "phones": texts("phone"),
        "cadence": text("cadence"),
        "next": next_day,
        "next_time": next_time,
        "created": date("created")[0],
        "closed": date("closed")[0],
        "tags": normalise_tags(texts("tags")),
        "source": text("source"),
        "owner": text("owner"),
    }


def normalise_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Tags as Obsidian reads them: `tags: a, b` is two tags, a leading `#` is optional."""
    split = (part.strip().lstrip("#").strip() for tag in tags for part in tag.split(","))
    return tuple(dict.fromkeys(tag for tag in split if tag))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"yes/no ({str(value).lower()})"
    return {dict: "a mapping", list: "a list", float: "a number"}.get(type(value), repr(value))


def _touches(path: Path, shape: Layout, problems: list[Problem]) -> list[Touch]:
    """The touch log's items; a malformed item is an error and is left out."""
    if shape.section_start is None or shape.section_end is None:
        return []
    touches: list[Touch] = []
    current: dict[str, Any] | None = None
    in_item = False
    fence: str | None = None
    for index in range(shape.section_start + 1, shape.section_end):
        line = shape.lines[index]
        fence_match = _FENCE.match(line)
        if fence is not None or fence_match:
            if fence is None and fence_match:
                fence = fence_match[1][0] * 3
            elif fence_match and fence_match[1].startswith(fence or ""):
                fence = None
            if current is not None:
                touches.append(Touch(**current))
            current, in_item = None, False
            continue
        if in_item and line[:1] in (" ", "\t") and line.strip():
            if current is not None:
                current["note"] = (current["note"] + "\n" + line.strip()).strip()
            continue
        if current is not None:
            touches.append(Touch(**current))
        current, in_item = None, False
        item = _ITEM.match(line)
        if not item:
            continue
        in_item = True
        try:
            current = _touch(item[1], index + 1)
        except _Invalid as invalid:
            problems.append(Problem(path, invalid.line, invalid.message))
    if current is not None:
        touches.append(Touch(**current))
    return touches


def _touch(text: str, line: int) -> dict[str, Any]:
    match = _TOUCH.match(text.strip())
    if not match:
        raise _Invalid(line, TOUCH_GRAMMAR)
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        date = dt.date(year, month, day)
    except ValueError:
        raise _Invalid(line, f'touch date "{match["date"]}" is not a date') from None
    clock = None
    if match["time"]:
        hours, minutes = (int(part) for part in match["time"].split(":"))
        if hours > 23 or minutes > 59:
            raise _Invalid(line, f'touch time "{match["time"]}" is not a time')
        clock = dt.time(hours, minutes)
    direction: Direction = "in" if (match["direction"] or "").lower() == "in" else "out"
    return {
        "date": date,
        "time": clock,
        "channel": match["channel"].lower(),
        "direction": direction,
        "note": match["note"].strip(),
        "line": line,
    }
