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
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from mdfollow.core.ics import PRODID
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


@dataclass(frozen=True, slots=True)
class RemoteTask:
    """One of our VTODOs as the server holds it."""

    href: str
    etag: str | None
    uid: str
    done: bool
    """STATUS:COMPLETED."""
    completed: dt.datetime | dt.date | None
    fields: TaskFields


@dataclass(frozen=True, slots=True)
class Task:
    """A VTODO the collection should hold: one current follow-up, as a stored calendar object."""

    uid: str
    follow_up: FollowUp
    body: bytes
    fields: TaskFields


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


def read_task(href: str, etag: str | None, data: str) -> RemoteTask | None:
    """The server's object at `href` as one of our tasks; None when it is not ours.

    Objects that do not mention `@mdfollow` are not parsed at all, so thousands of
    someone else's items cost little. One of ours that cannot be read raises `BadItem`.
    """
    if OURS not in data:
        return None
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
    return RemoteTask(href, etag, uid, status == "COMPLETED", completed, fields)


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

    The feed's other components (a digest, a weekly follow-up hour) are not follow-ups:
    ticking one off logs nothing, so they are not pushed.
    """
    parsed = Calendar.from_ical(feed)
    zones = {str(c.get("TZID")): c for c in parsed.subcomponents if c.name == "VTIMEZONE"}
    by_uid = {task_uid(f): f for f in follow_ups}
    tasks = []
    for todo in parsed.subcomponents:
        follow_up = by_uid.get(str(todo.get("UID", ""))) if todo.name == "VTODO" else None
        if follow_up is None:
            continue
        stored = Calendar()
        stored.add("PRODID", PRODID)
        stored.add("VERSION", "2.0")
        for key in sorted({str(p.params["TZID"]) for p in _times(todo) if "TZID" in p.params}):
            if key in zones:
                stored.add_component(zones[key])
        stored.add_component(todo)
        tasks.append(Task(str(todo["UID"]), follow_up, bytes(stored.to_ical()), task_fields(todo)))
    return tasks


def task_uid(follow_up: FollowUp) -> str:
    """The feed's UID of a follow-up (SPEC §5): `<id>-<touch>@mdfollow`."""
    return f"{follow_up.prospect.id}-{follow_up.touch}{OURS}"


def _times(todo: Component) -> list[Any]:
    """DTSTART and DUE, whose TZID names the VTIMEZONE the stored object needs."""
    return [todo[name] for name in ("DTSTART", "DUE") if name in todo]


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
        elif present.fields != task.fields:
            update.append((present, task))
        else:
            unchanged += 1
    return Push(tuple(create), tuple(update), (*on_server.values(), *duplicates), unchanged)
