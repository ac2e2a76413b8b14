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


def _int_or_text(loader: Any, node: Any) -> Any:
    """A number of more digits than Python converts (4,300) stays text: `name: 1111…` is odd
    but not an error worth losing the prospect over."""
    value = loader.construct_scalar(node)
    return value if len(value) > 1000 else loader.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_text)

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
    near_misses: tuple[tuple[int, int], ...] = ()
    """(index, level) of headings that look like the Touches heading but are not it."""


class _Invalid(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


def has_front_matter(data: bytes) -> bool:
    """A Markdown file is a prospect when its first line is `---`."""
    data = data.removeprefix(BOM)
    first = data.split(b"\n", 1)[0]
    return first.rstrip(b" \t\r") == b"---"


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def unread_prospect(path: Path, data: bytes) -> list[Problem]:
    """A file with no front matter that is a prospect all the same, saved in a form mdfollow
    does not read: UTF-16 or UTF-32 (with a BOM), or CR-only line endings. An error, so that
    the file is counted and reported instead of silently ignored."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            start = data[:256].decode(codec, "ignore").lstrip("\ufeff")
            if start.split("\n", 1)[0].strip() == "---":
                return [
                    Problem(path, 1, f"the file is saved as {codec.upper()}: save it as UTF-8 to be read")
                ]
            return []
    if data.removeprefix(BOM).startswith(b"---\r") and b"\n" not in data[:4096]:
        message = "lines end in CR only (old Mac style): save it with LF or CRLF line endings to be read"
        return [Problem(path, 1, message)]
    return []


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
    near: list[tuple[int, int]] = []
    for index, heading_level, title in _headings(lines, front_end + 1):
        if title.lower() != "touches" and _looks_like_touches(title):
            near.append((index, heading_level))
        if start is None:
            if title.lower() == "touches":
                start, level = index, heading_level
        elif end is None and heading_level <= level:
            end = index
        if end is not None and title.lower() == "touches" and index >= end and ignored is None:
            ignored = index
    if start is not None and end is None:
        end = len(lines)
    if start is not None and end is not None:  # a sub-heading inside the log: its items are read
        near = [(index, heading_level) for index, heading_level in near if not start < index < end]
    return Layout(lines, front_end, start, end, ignored, tuple(near))


def _looks_like_touches(title: str) -> bool:
    """`Touches log`, `Touch`, `touches:`, `**Touches**`: a heading meant as the touch log
    whose items would silently not be read."""
    words = re.findall(r"[^\W\d_]+", title.lower())
    return bool(words) and words[0].startswith("touch")


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
    for index, level in shape.near_misses:
        heading = shape.lines[index].strip()
        message = (
            f'heading "{heading}" is not the touch log, so its items are not read: '
            f'name it exactly "{"#" * level} Touches"'
        )
        problems.append(Problem(path, index + 1, message, "warning"))
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
        line, hint = yaml_hint(error, shape.lines[1 : shape.front_end])
        raise _Invalid(line + 2, f"broken YAML: {hint}") from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 2
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise _Invalid(
            line,
            f"broken YAML: character U+{code:04X} is not allowed (an invisible control character: delete it)",
        ) from None
    except RecursionError:
        raise _Invalid(1, "broken YAML: lists or mappings nested too deeply") from None
    except (yaml.YAMLError, ValueError, TypeError) as error:
        raise _Invalid(1, f"broken YAML: {str(error).splitlines()[0]}") from None
    if data is None:
        data = {}
    for key, value in data.items() if isinstance(data, dict) else [(None, data)]:
        if _too_deep(value):
            line = _key_lines(shape.lines[1 : shape.front_end])[0].get(str(key), 1)
            raise _Invalid(line, "broken YAML: lists or mappings nested too deeply")
    if not isinstance(data, dict):
        raise _Invalid(2, f"front matter must be key: value lines, not a {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise _Invalid(1, f"front matter key {key!r} is not text (quote it)")
    return data


_STARTS_AT_CONTEXT = (
    "could not find expected ':'",
    "found unexpected end of stream",
    "did not find expected ','",
)


def yaml_hint(error: yaml.MarkedYAMLError, lines: Sequence[str]) -> tuple[int, str]:
    """The 0-based line of a YAML error in the front matter, and what to do about it in
    words a salesperson understands (PyYAML's own wording only when no hint fits)."""
    problem = error.problem or error.context or "not valid"
    mark = error.problem_mark or error.context_mark
    if error.context_mark is not None and problem.startswith(_STARTS_AT_CONTEXT):
        mark = error.context_mark  # where the unfinished key, quote or list began
    index = min(mark.line if mark is not None else 0, max(len(lines) - 1, 0))  # at the end: its last line
    line = lines[index] if index < len(lines) else ""
    column = mark.column if mark is not None else 0
    if "tab" in problem or "\t" in line[: len(line) - len(line.lstrip())]:
        hint = "indent with spaces, not tabs"
    elif problem.startswith("mapping values are not allowed"):
        hint = (
            "this line is indented: keys start at the beginning of the line"
            if line[:1] in (" ", "\t")
            else 'a value with a colon needs quotes (key: "text: more text")'
        )
    elif "cannot start any token" in problem:
        char = line[column : column + 1] or "this character"
        hint = f'a value starting with {char} needs quotes (key: "{char}…")'
    elif "undefined alias" in problem:
        hint = 'a value starting with * needs quotes (key: "*…")'
    elif problem.startswith("could not find expected ':'"):
        hint = "this line is not `key: value` (add the colon, or join it to the line above)"
    elif problem.startswith("found unexpected end of stream"):
        hint = "a quote opened here is not closed"
    elif problem.startswith("did not find expected ','"):
        shape = "[list]" if problem.rstrip("'").endswith("]") else "{mapping}"
        hint = f"a {shape} opened here is not closed, or an item in it needs quotes"
    elif problem.startswith("did not find expected key"):
        hint = (
            "text after a quoted value: quote the whole value (key: \"'Jane' Doe\")"
            if any(quote in line[:column] for quote in "'\"")
            else "unexpected text here: put the whole value in quotes"
        )
    elif "nesting depth" in problem:
        hint = "lists or mappings nested too deeply"
    elif problem.startswith("did not find expected node content"):
        hint = "a value is unfinished here (a [ or { that is not closed?)"
    elif "indicator" in problem:
        hint = "a list item (- …) is not lined up with the ones above it"
    else:
        hint = problem
    return index, hint


MAX_DEPTH = 50
"""Nesting a front matter value may have: real ones are one or two deep, and a thousand
levels (which some libyaml releases accept) would overflow the stack of whatever walks them."""


def _too_deep(data: Any) -> bool:
    """Whether lists and mappings nest deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


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
