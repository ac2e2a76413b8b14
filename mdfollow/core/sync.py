"""The decisions of `mdfollow caldav` (SPEC §10), apart from the network and the disk.

A sync reads every VTODO of one collection, then: `completions` says which ticked-off
tasks become touches; `wanted_tasks` cuts the objects the collection should hold out of
the feed itself (built with `--todo`, so they carry the feed's UID, SUMMARY, DESCRIPTION
and DUE, and whatever placement the feed's planner gives them); `push_plan` says what to create, update and
delete so that it holds exactly those. Ours are the tasks whose UID ends in
`@mdfollow`; nothing decided here ever touches another.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from mdfollow.core.ics import PRODID, uid_part
from mdfollow.core.model import FollowUp

OURS = "@mdfollow"
DONE_NOTE = "done in calendar"
DEFAULT_CHANNEL = "call"

TaskFields = tuple[object, ...]
"""What a pushed task must show, in a form two servers' spellings of it compare equal in."""


class BadItem(ValueError):
    """A calendar object of ours that cannot be read (the message says why); `uid` is the
    UID its text seems to carry, so the sync can leave that follow-up's task alone."""

    def __init__(self, message: str, uid: str | None) -> None:
        super().__init__(message)
        self.uid = uid


_UID_LINE = re.compile(r"^UID:(.*@mdfollow)[ \t]*\r?$", re.MULTILINE)


Lines = tuple[str, ...]
"""A VTODO's content lines, unfolded and sorted: equal when a server only reordered or refolded."""


@dataclass(frozen=True, slots=True)
class RemoteTask:
    """One of our VTODOs as the server holds it."""

    href: str
    etag: str | None
    uid: str
    done: bool
    """STATUS:COMPLETED."""
    completed: dt.datetime | dt.date | None
    lines: Lines
    fields: TaskFields | None
    """None when `lines` are exactly those of the task we want: nothing to compare then."""


@dataclass(frozen=True, slots=True)
class Task:
    """A VTODO the collection should hold: one current follow-up, as a stored calendar object."""

    uid: str
    follow_up: FollowUp
    body: bytes
    lines: Lines

    def fields(self) -> TaskFields:
        """What the server's copy must show; parsed only when its lines differ from ours."""
        [todo] = Calendar.from_ical(self.body).walk("VTODO")
        return task_fields(todo)


@dataclass(frozen=True, slots=True)
class Completion:
    """A follow-up ticked off in the calendar: the touch to log for it."""

    follow_up: FollowUp
    date: dt.date
    time: dt.time | None
    channel: str
    uid: str


@dataclass(frozen=True, slots=True)
class Push:
    """The writes that make the collection hold exactly the wanted tasks."""

    create: tuple[Task, ...]
    update: tuple[tuple[RemoteTask, Task], ...]
    delete: tuple[RemoteTask, ...]
    unchanged: int

    @property
    def writes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)


def is_ours(uid: str) -> bool:
    return uid.endswith(OURS)


def prospect_id(uid: str) -> str:
    """The prospect id in `<id>-<touch>@mdfollow`."""
    return uid.removesuffix(OURS).rpartition("-")[0]


def read_task(
    href: str, etag: str | None, data: str, wanted: Mapping[str, Lines] | None = None
) -> RemoteTask | None:
    """The server's object at `href` as one of our tasks; None when it is not ours.

    Objects that do not mention `@mdfollow` are not parsed at all, so thousands of
    someone else's items cost little, and neither is one whose lines are exactly those of
    the task `wanted` for its UID (an unchanged sync parses nothing). One of ours that
    cannot be read raises `BadItem`.
    """
    if OURS not in data:
        return None
    lines = vtodo_lines(data)
    uid = next((line[4:] for line in lines if line.startswith("UID:")), "")
    if wanted is not None and is_ours(uid) and wanted.get(uid) == lines:
        return RemoteTask(href, etag, uid, False, None, lines, None)
    try:
        calendar = Calendar.from_ical(data)
        todos = [c for c in calendar.walk("VTODO") if isinstance(c, Component)]
        if not todos:
            return None
        todo = todos[0]
        uid = str(todo.get("UID", ""))
        if not is_ours(uid):
            return None
        status = str(todo.get("STATUS", "NEEDS-ACTION")).upper()
        completed = _when(todo, "COMPLETED")
        fields = task_fields(todo)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        seen = _UID_LINE.search(data)
        message = f"{href}: not a readable calendar object ({_reason(error)})"
        raise BadItem(message, seen[1] if seen else None) from None
    if not isinstance(completed, dt.date):
        completed = None
    return RemoteTask(href, etag, uid, status == "COMPLETED", completed, lines, fields)


def vtodo_lines(text: str) -> Lines:
    """The first VTODO's content lines (its alarms' included), unfolded and sorted."""
    unfolded = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n ", "").replace("\n\t", "")
    found: list[str] = []
    inside = False
    for line in unfolded.split("\n"):
        if line == "BEGIN:VTODO":
            inside = True
        if inside:
            found.append(line)
            if line == "END:VTODO":
                break
    return tuple(sorted(found))


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0][:120] if text else type(error).__name__) or type(error).__name__


def task_fields(todo: Component) -> TaskFields:
    """The properties a pushed task must keep showing; any difference means an update."""
    categories: list[str] = []
    raw = todo.get("CATEGORIES")
    for item in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        categories += [str(category) for category in getattr(item, "cats", [item])]
    return (
        str(todo.get("SUMMARY", "")),
        str(todo.get("DESCRIPTION", "")),
        _when(todo, "DUE"),
        _when(todo, "DTSTART"),
        str(todo.get("STATUS", "NEEDS-ACTION")).upper(),
        tuple(categories),
        str(todo.get("URL", "")),
    )


def _when(component: Component, name: str) -> object:
    """A date or time property's value; aware times in UTC, so zones spelled differently agree."""
    if name not in component:
        return None
    value = component.decoded(name)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def wanted_tasks(feed: bytes, follow_ups: Iterable[FollowUp]) -> list[Task]:
    """The follow-ups' VTODOs in `feed` (built by the feed's own builder with `--todo`), each as
    a stored object: a VCALENDAR of its own with the zone it uses and no METHOD (RFC 4791 §4.1).

    The components are cut out of the feed's text as they are, not re-serialised. The
    feed's other components (a digest, a weekly follow-up hour) are not follow-ups:
    ticking one off logs nothing, so they are not pushed.
    """
    by_uid = {task_uid(f): f for f in follow_ups}
    zones: dict[str, str] = {}
    todos: list[str] = []
    for kind, text in _top_components(feed.decode("utf-8")):
        if kind == "VTIMEZONE":
            found = re.search(r"^TZID:(.*)$", text.replace("\r\n ", ""), re.MULTILINE)
            zones[found[1].strip() if found else ""] = text
        elif kind == "VTODO":
            todos.append(text)
    tasks = []
    for text in todos:
        lines = vtodo_lines(text)
        uid = next((line[4:] for line in lines if line.startswith("UID:")), "")
        follow_up = by_uid.get(uid)
        if follow_up is None:
            continue
        used = sorted({m[1] for line in lines for m in re.finditer(r";TZID=([^;:]+)", line.split(":", 1)[0])})
        body = _HEADER + "".join(zones[key] for key in used if key in zones) + text + "END:VCALENDAR\r\n"
        tasks.append(Task(uid, follow_up, body.encode("utf-8"), lines))
    return tasks


_HEADER = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\n"


def _top_components(feed: str) -> Iterable[tuple[str, str]]:
    """(name, text) of each component directly inside the VCALENDAR, text CRLF-terminated."""
    name: str | None = None
    start = 0
    position = 0
    for bare in feed.split("\r\n"):
        line = bare + "\r\n"
        if name is None and bare.startswith("BEGIN:") and bare != "BEGIN:VCALENDAR":
            name, start = bare[6:], position
        position += len(line)
        if name is not None and bare == f"END:{name}":
            yield name, feed[start:position]
            name = None


def task_uid(follow_up: FollowUp) -> str:
    """The feed's UID of a follow-up (SPEC §5): `<id>-<touch>@mdfollow`, its id as `uid_part` writes it."""
    return f"{uid_part(follow_up.prospect.id)}-{follow_up.touch}{OURS}"


def with_components(feed: bytes, uids: Collection[str]) -> bytes:
    """The feed with only the components whose UID is in `uids` (and its time zones): one
    owner's feed cut from the team's, byte for byte the same components and stamps."""
    kept: list[str] = []
    block: list[str] = []
    name: str | None = None
    for line in feed.decode("utf-8").split("\r\n"):
        if name is None:
            if line.startswith("BEGIN:") and line != "BEGIN:VCALENDAR":
                name, block = line[6:], [line]
            else:
                kept.append(line)
            continue
        block.append(line)
        if line == f"END:{name}":
            text = "\r\n".join(block)
            if name == "VTIMEZONE" or _uid_of(text) in uids:
                kept.extend(block)
            name = None
    return "\r\n".join(kept).encode("utf-8")


def _uid_of(text: str) -> str:
    found = re.search(r"^UID:(.*)$", text.replace("\r\n ", "").replace("\r\n\t", ""), re.MULTILINE)
    return found[1].strip() if found else ""


def completions(
    remote: Iterable[RemoteTask], current: Mapping[str, FollowUp], today: dt.date, zone: str | None
) -> list[Completion]:
    """The touches to log: one per completed task that is still the prospect's next follow-up.

    A task whose follow-up the log has passed (a touch logged by hand, or by an earlier
    sync) is no longer in `current` and logs nothing: a follow-up done on the phone and
    logged by hand the same day is logged once. `zone` is the calendar's (`feed_timezone`).
    """
    found = []
    for task in remote:
        follow_up = current.get(task.uid)
        if not task.done or follow_up is None:
            continue
        day, clock = _local(task.completed, zone, today)
        found.append(Completion(follow_up, day, clock, follow_up.channel or DEFAULT_CHANNEL, task.uid))
    return found


def _local(
    completed: dt.datetime | dt.date | None, zone: str | None, today: dt.date
) -> tuple[dt.date, dt.time | None]:
    """COMPLETED in the calendar's zone (UTC when it has none); today when the server gave none."""
    if completed is None:
        return today, None
    if not isinstance(completed, dt.datetime):
        return completed, None
    if completed.tzinfo is not None:
        completed = completed.astimezone(ZoneInfo(zone) if zone else dt.UTC)
    return completed.date(), dt.time(completed.hour, completed.minute)


def push_plan(remote: Iterable[RemoteTask], wanted: Iterable[Task], held: Collection[str] = ()) -> Push:
    """Create what is missing, update what differs (a ticked-off task included), delete the rest.

    `held` are UIDs to leave exactly as they are (a completion that could not be logged,
    a task whose prospect file has errors): neither rewritten nor deleted, so nothing
    done on the phone is lost before the folder has it.
    """
    on_server: dict[str, RemoteTask] = {}
    duplicates: list[RemoteTask] = []
    for item in remote:
        if item.uid in held:
            continue
        if item.uid in on_server:
            duplicates.append(item)
        else:
            on_server[item.uid] = item
    create: list[Task] = []
    update: list[tuple[RemoteTask, Task]] = []
    unchanged = 0
    for task in wanted:
        if task.uid in held:
            continue
        present = on_server.pop(task.uid, None)
        if present is None:
            create.append(task)
        elif present.lines != task.lines and present.fields != task.fields():
            update.append((present, task))
        else:
            unchanged += 1
    return Push(tuple(create), tuple(update), (*on_server.values(), *duplicates), unchanged)
