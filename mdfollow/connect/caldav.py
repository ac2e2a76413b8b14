"""`mdfollow caldav`: two-way sync of one owner's follow-ups with a CalDAV collection (SPEC §10).

Network through the `caldav` library's `DAVClient`: one calendar-query REPORT
(`getetag` and `calendar-data` of every VTODO, so an unchanged collection needs no
per-item GET), then PUTs and DELETEs through the same client's request methods, with
`If-Match` on the ETag the REPORT gave (`If-None-Match: *` for a new task). The
library's high-level `save()` / `delete()` send no precondition, which is why they
are not used. The decisions are `mdfollow.core.sync`'s; touches are written by
`mdfollow.store.edit.edit_prospect`, the path `mdfollow log` takes.

Order: pull (completed tasks become touches), then push. A 412 (someone changed the
task since the REPORT) starts over from the REPORT. Anything else that stops the
sync is one `MdfollowError` line; touches already logged stay, and the next run,
which starts from the server's state again, finishes the push.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import netrc
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from mdfollow.core.errors import MdfollowError
from mdfollow.core.ics import feed_timezone
from mdfollow.core.model import Config, FollowUp, Prospect
from mdfollow.core.schedule import schedule
from mdfollow.core.sync import (
    BadItem,
    Completion,
    Lines,
    Push,
    RemoteTask,
    Task,
    completions,
    prospect_id,
    push_plan,
    read_task,
    wanted_tasks,
)
from mdfollow.core.team import owned_by
from mdfollow.store.folder import Folder

if TYPE_CHECKING:
    from caldav.davclient import DAVClient

Build = Callable[[Sequence[FollowUp], dt.date, Config], bytes]
"""Follow-ups → the `--todo` feed's bytes (`mdfollow.cli.feed.feed_builder`'s build)."""

PASSWORD_VARIABLE = "MDFOLLOW_CALDAV_PASSWORD"
ATTEMPTS = 3
"""Syncs started over after a 412, before giving up until the next run."""
_CALENDAR = "text/calendar; charset=utf-8"


@dataclass
class Outcome:
    """What one sync did, for the summary line; `problems` make the exit code 1."""

    logged: list[Completion] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        touches = "touch" if len(self.logged) == 1 else "touches"
        return (
            f"{len(self.logged)} {touches} logged, {self.created} created, {self.updated} updated, "
            f"{self.deleted} deleted, {self.unchanged} unchanged"
        )


class Conflict(Exception):
    """A precondition failed: the server's task is not the one the plan was made from."""


def split_login(url: str) -> tuple[str, str | None]:
    """The URL without its `user:password@` part (never shown in a message), and that user.
    A password in the URL is not used: it comes from the environment or ~/.netrc."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl(), unquote(parts.username) if parts.username else None


def credentials(url: str, user: str | None, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The login: `MDFOLLOW_CALDAV_PASSWORD` when set (then ~/.netrc is not read at all), else
    the netrc entry for the URL's host (its login unless `user` names another)."""
    parts = urlsplit(url)
    if PASSWORD_VARIABLE in environ:
        return user, environ[PASSWORD_VARIABLE]
    path = environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not parts.hostname or not os.path.exists(path):
        return user, None
    try:
        entry = netrc.netrc(path).authenticators(parts.hostname)
    except netrc.NetrcParseError as error:
        raise MdfollowError(f"{error.filename}:{error.lineno}: {error.msg}") from None
    except OSError as error:
        raise MdfollowError(f"{path}: cannot read: {error.strerror or error}") from None
    if entry is None or (user is not None and entry[0] and entry[0] != user):
        return user, None
    return user or entry[0] or None, entry[2]


def connect(url: str, user: str | None, password: str | None, timeout: float) -> DAVClient:
    """A client for the collection. Credentials go first thing (Basic) over HTTPS or to this
    machine, so an unchanged sync is one request; elsewhere the server's challenge picks."""
    from caldav.davclient import DAVClient
    from caldav.lib.http_sync import AuthBase

    class NoNetrc(AuthBase):
        """Leaves requests as they are: set on the session, it stops the HTTP library from
        reading ~/.netrc by itself (the password's source is decided by `credentials`)."""

        def __call__(self, request: Any) -> Any:
            return request

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MdfollowError(f"{url}: not an http:// or https:// URL of a calendar collection", exit_code=2)
    eager = password is not None and user is not None and (parts.scheme == "https" or _local(parts.hostname))
    client = DAVClient(
        url=url,
        username=user,
        password=password,
        timeout=timeout,  # type: ignore[arg-type]
        auth_type="basic" if eager else None,
        enable_rfc6764=False,
    )
    client.session.auth = NoNetrc()
    return client


def _local(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    """What one sync works on: the collection, whose follow-ups, on what day, and how the
    feed is built (the `--todo` feed of `mdfollow ics`, which the tasks are cut from)."""

    url: str
    owner: str | None
    today: dt.date
    build: Build
    local_zone: str | None
    """The machine's zone, for `timezone = "local"` (COMPLETED is read in the calendar's zone)."""


def sync(
    folder: Folder,
    reload: Callable[[], Folder],
    client: DAVClient,
    target: Target,
    log_touch: Callable[[Prospect, Completion], Prospect],
) -> Outcome:
    """Pull, then push; started over (up to `ATTEMPTS` times) when the server's tasks change under it.

    `log_touch` writes one completion's touch and returns the prospect as written;
    `reload` loads the folder again after touches were logged.
    """
    outcome = Outcome()
    url = target.url
    for _ in range(ATTEMPTS):
        try:
            _attempt(folder, reload, client, target, log_touch, outcome)
            return outcome
        except Conflict:
            folder = reload()
    raise MdfollowError(
        f"{url}: the calendar kept changing during the sync ({ATTEMPTS} tries); "
        f"{len(outcome.logged)} touches logged so far; run it again"
    )


def _attempt(
    folder: Folder,
    reload: Callable[[], Folder],
    client: DAVClient,
    target: Target,
    log_touch: Callable[[Prospect, Completion], Prospect],
    outcome: Outcome,
) -> None:
    """One pass: REPORT, log the completions, reload if any were logged, push."""
    url, owner, today = target.url, target.owner, target.today
    current = _current(folder, target)
    remote, outcome.problems, held = _report(client, url, {uid: task.lines for uid, task in current.items()})
    broken = {problem.path.stem for problem in folder.errors}
    held |= {task.uid for task in remote if prospect_id(task.uid) in broken}
    for task in remote:
        if task.uid in held:
            outcome.problems.append(f"{task.href}: the prospect's file has errors: task left as it is")
    done_elsewhere = {prospect_id(t.uid) for t in remote if t.done and t.uid not in current}
    current |= _current(folder, target, done_elsewhere)
    on_disk = {prospect.id: prospect for prospect in folder.prospects}
    logged = 0
    next_ones = {uid: task.follow_up for uid, task in current.items()}
    zone = feed_timezone(folder.config.calendar, target.local_zone)
    for completion in completions((t for t in remote if t.uid not in held), next_ones, today, zone):
        try:
            log_touch(on_disk[completion.follow_up.prospect.id], completion)
        except MdfollowError as error:
            outcome.problems.append(f"{error.message} (the task stays completed in the calendar)")
            held.add(completion.uid)
        else:
            outcome.logged.append(completion)
            logged += 1
    if logged:
        folder = reload()
        current = _current(folder, target) | _current(folder, target, done_elsewhere)
    keep = {prospect.id for prospect in owned_by(folder.prospects, owner)}
    wanted = [task for task in current.values() if task.follow_up.prospect.id in keep]
    _push(client, url, push_plan(remote, wanted, held), outcome)


def _current(folder: Folder, target: Target, ids: set[str] | None = None) -> dict[str, Task]:
    """The current follow-ups, as tasks by UID, of the owner's prospects, or of the prospects
    `ids` (those with a completed task here that have moved to another owner since: their
    completion still counts). Nobody else's are built, so a large team's folder costs little."""
    if ids is None:
        chosen = owned_by(folder.prospects, target.owner)
    elif not ids:
        return {}
    else:
        chosen = tuple(p for p in folder.prospects if p.id in ids)
    follow_ups = schedule(chosen, target.today, folder.config)
    config = dataclasses.replace(
        folder.config, calendar=dataclasses.replace(folder.config.calendar, digest=False)
    )
    tasks = wanted_tasks(target.build(follow_ups, target.today, config), follow_ups)
    return {task.uid: task for task in tasks}


def _report(
    client: DAVClient, url: str, wanted: Mapping[str, Lines]
) -> tuple[list[RemoteTask], list[str], set[str]]:
    """Our tasks in the collection, from one calendar-query REPORT; unreadable ones as problems,
    with the UIDs they seem to carry (their follow-ups are then left alone). A task exactly as
    `wanted` is not parsed."""
    from caldav.elements import cdav, dav
    from caldav.elements.base import BaseElement

    asked: list[BaseElement] = [dav.GetEtag(), cdav.CalendarData()]
    todos = cdav.Filter() + (cdav.CompFilter("VCALENDAR") + cdav.CompFilter("VTODO"))
    parts: list[BaseElement] = [dav.Prop() + asked, todos]
    body = str(cdav.CalendarQuery() + parts)
    response = _first_request(client, lambda: client.report(url, body, depth=1))
    if response.status == 404:
        raise MdfollowError(f"{url}: no calendar there (404): the URL must name the collection itself")
    if response.status not in (200, 207):
        raise MdfollowError(f"{url}: the server answered the REPORT with {response.status} {response.reason}")
    try:
        results = response.parse_calendar_query()
    except Exception as error:  # lxml and caldav raise several types for one thing: a bad answer
        raise MdfollowError(
            f"{url}: the server's answer is not a calendar listing ({_first_line(error)})"
        ) from None
    tasks: list[RemoteTask] = []
    problems: list[str] = []
    unreadable: set[str] = set()
    for result in results:
        if result.status >= 300 or not result.calendar_data:
            continue
        href = urljoin(url, result.href)
        try:
            task = read_task(href, result.etag, result.calendar_data, wanted)
        except BadItem as bad:
            problems.append(f"{bad} (left as it is)")
            unreadable |= {bad.uid} if bad.uid else set()
            continue
        if task is not None:
            tasks.append(task)
    return tasks, problems, unreadable


def _first_request(client: DAVClient, send: Callable[[], Any]) -> Any:
    """`send()`; when credentials sent first thing as Basic are refused, once more letting the
    server's challenge choose the scheme (Digest, for one), as a client without them would."""
    from caldav.lib.error import AuthorizationError

    try:
        return send()
    except AuthorizationError as error:
        if client.auth_type != "basic" or getattr(error, "status", 401) != 401:
            raise
        client.auth = client.auth_type = None
        return send()


def _push(client: DAVClient, url: str, plan: Push, outcome: Outcome) -> None:
    """The plan's writes, each conditional on the server still holding what the REPORT showed."""
    base = url if url.endswith("/") else url + "/"
    outcome.unchanged = plan.unchanged
    for task in plan.create:
        _write(client, "PUT", base + quote(task.uid, safe="@") + ".ics", task.body, {"If-None-Match": "*"})
        outcome.created += 1
    for present, task in plan.update:
        _write(client, "PUT", present.href, task.body, _if_match(present))
        outcome.updated += 1
    for present in plan.delete:
        _write(client, "DELETE", present.href, b"", _if_match(present))
        outcome.deleted += 1


def _if_match(task: RemoteTask) -> dict[str, str]:
    """`If-Match` on the REPORT's ETag; a server that gave none gets an unconditional write."""
    return {"If-Match": task.etag} if task.etag else {}


def _write(client: DAVClient, method: str, href: str, body: bytes, headers: dict[str, str]) -> None:
    if method == "PUT":
        response = client.put(href, body.decode("utf-8"), {"Content-Type": _CALENDAR, **headers})
    else:
        response = client.delete(href, headers)
    if response.status == 412 or (response.status == 404 and method == "PUT" and "If-Match" in headers):
        raise Conflict(href)
    if method == "DELETE" and response.status == 404:
        return  # already gone: what we wanted
    if response.status >= 300:
        raise MdfollowError(
            f"{href}: the server refused the {method} with {response.status} {response.reason}"
        )


def explain(
    error: BaseException, url: str, user: str | None, timeout: float, has_password: bool = True
) -> MdfollowError:
    """A failure inside the library (network, login, an answer it could not read) as one line."""
    from caldav.lib import error as dav_error
    from caldav.lib.http_sync import requests as http

    if isinstance(error, http.exceptions.Timeout):
        return MdfollowError(f"{url}: no answer within {timeout:g} s (timed out): try again later")
    if isinstance(error, http.exceptions.ConnectionError):
        return MdfollowError(f"{url}: cannot connect ({_socket_reason(error)}): is the server running?")
    if isinstance(error, http.exceptions.RequestException):
        return MdfollowError(f"{url}: {_first_line(error)}")
    if isinstance(error, dav_error.AuthorizationError):
        who = f" for user {user}" if user else " (no user: use --user, or ~/.netrc)"
        if getattr(error, "status", None) == 403:
            return MdfollowError(f"{url}: access forbidden{who} (403): is it this user's calendar?")
        if not has_password:
            return MdfollowError(
                f"{url}: the server asks for a login{who} and there is no password: "
                f"set {PASSWORD_VARIABLE}, or add the host to ~/.netrc"
            )
        return MdfollowError(f"{url}: the server refused the login{who}: check the user and password")
    if isinstance(error, dav_error.DAVError):
        return MdfollowError(f"{url}: {_first_line(error)}")
    return MdfollowError(
        f"{url}: unreadable answer from the server ({type(error).__name__}: {_first_line(error)})"
    )


def _socket_reason(error: BaseException) -> str:
    """ "Connection refused", "Name or service not known"…: the system's words, not the HTTP
    library's wrapping of them (a pool, a retry count and an object's address)."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    return found[1].strip() if found else "the connection failed"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
