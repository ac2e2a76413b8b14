"""`mdfollow mail`: read Maildir folders, mbox files and IMAP folders, and log the touches they hold.

Only reads the mailbox: Maildir and mbox through the standard library's `mailbox` (no
lock taken, no message rewritten or moved: a message in `new/` stays there with its
name), IMAP through `connect.imap` (EXAMINE, then BODY.PEEK[HEADER]: no flag changes).
Only the header block of each message is read, so a 10 MB attachment costs nothing.

The pure part (headers → touches) is `core.mailmatch`; this module feeds it bytes, drops
what was already seen (Message-ID in this run, the same touch in the log across runs),
and writes what is left through `store.edit`, one write per prospect.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mdfollow.connect.imap import ImapError, ImapUrl, is_imap_url, open_folder, parse_imap_url
from mdfollow.core.change import Change, Entry
from mdfollow.core.errors import MdfollowError
from mdfollow.core.mailmatch import AddressBook, MailTouch, read_message
from mdfollow.core.model import Problem, Prospect
from mdfollow.core.parse import parse_prospect
from mdfollow.core.patch import AlreadyLogged
from mdfollow.core.render import plural
from mdfollow.store.edit import edit_prospect
from mdfollow.store.git import git_commit

HEADER_LIMIT = 1024 * 1024
"""Largest header block read from one message: more is not mail a person wrote."""
IMAP_BATCH = 500
"""Messages fetched per IMAP FETCH command: few round trips, bounded memory."""


class SourceError(MdfollowError):
    """A source that cannot be opened or read to the end: nothing of it is logged."""


@dataclass
class SourceReport:
    """What one source gave: its touches (with message positions), counts and problems."""

    name: str
    touches: list[tuple[int, MailTouch]] = field(default_factory=list)
    messages: int = 0
    automatic: int = 0
    unmatched: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def problem(self, position: int, message: str) -> None:
        self.problems.append(f"{self.name}:{position}: {message}")


@dataclass(frozen=True, slots=True)
class Found:
    """A touch found in the mailbox, and whether this run logs it (False: already in the log)."""

    touch: MailTouch
    logged: bool


@dataclass
class MailRun:
    """A whole run: each source's report and the touches to log, deduplicated, in log order."""

    reports: list[SourceReport]
    found: list[Found]
    written: list[Path] = field(default_factory=list)
    write_errors: list[str] = field(default_factory=list)

    @property
    def new(self) -> list[MailTouch]:
        return [f.touch for f in self.found if f.logged]

    @property
    def failed(self) -> bool:
        return any(r.error for r in self.reports) or bool(self.write_errors)

    def summary(self, dry_run: bool) -> str:
        """SPEC §8's line: "12 touches logged for 9 prospects; 3 automatic messages skipped; …"."""
        new = self.new
        prospects = len({t.prospect.path for t in new})
        verb = "would be logged" if dry_run else "logged"
        automatic = sum(r.automatic for r in self.reports)
        unmatched = sum(r.unmatched for r in self.reports)
        parts = [
            f"{plural(len(new), 'touch')} {verb} for {plural(prospects, 'prospect')}",
            f"{plural(automatic, 'automatic message')} skipped",
            f"{plural(unmatched, 'message')} matched no prospect",
        ]
        already = len(self.found) - len(new)
        if already:
            parts.append(f"{already} already in the log")
        return "; ".join(parts)


def resolve_source(text: str, base: Path) -> str:
    """A source as the run reads it: an IMAP URL as is, a path with `~` expanded, relative to `base`."""
    if is_imap_url(text):
        return text
    return str(base / os.path.expanduser(text))


def read_sources(
    sources: Sequence[tuple[str, str]],
    prospects: Sequence[Prospect],
    me: Sequence[str],
    zone: dt.tzinfo,
    now: dt.datetime,
    since: dt.date | None = None,
) -> MailRun:
    """Read every source (`(name, location)` pairs); a failed one contributes nothing but its error."""
    book = AddressBook.build(me, prospects)
    reports = [read_source(name, location, book, zone, now, since) for name, location in sources]
    return MailRun(reports, deduplicate(reports))


def deduplicate(reports: Sequence[SourceReport]) -> list[Found]:
    """Each message once per prospect (by Message-ID, else by the touch itself), and `logged`
    False for a touch already in the prospect's log. In log order, then by prospect id."""
    seen: set[tuple[str, object]] = set()
    found: list[Found] = []
    for report in reports:
        if report.error:
            continue
        for _, touch in report.touches:
            keys: list[tuple[str, object]] = [(touch.prospect.id, touch.key)]
            if touch.message_id:
                keys.append((touch.prospect.id, touch.message_id))
            if any(key in seen for key in keys):
                continue
            seen.update(keys)
            found.append(Found(touch, not touch.in_log(touch.prospect.touches)))
    found.sort(key=lambda f: (f.touch.date, f.touch.time, f.touch.prospect.id))
    return found


def read_source(
    name: str, location: str, book: AddressBook, zone: dt.tzinfo, now: dt.datetime, since: dt.date | None
) -> SourceReport:
    """One source's touches and counts; on a failure, `error` is set and its touches dropped."""
    report = SourceReport(name)
    try:
        for position, data in _messages(location, report, since):
            report.messages += 1
            reading = read_message(data, book, zone, now, since)
            if reading.outcome == "touches":
                report.touches += [(position, touch) for touch in reading.touches]
            elif reading.outcome == "automatic":
                report.automatic += 1
            elif reading.outcome == "unmatched":
                report.unmatched += 1
            elif reading.outcome == "bad" and reading.problem:
                report.problem(position, f"{reading.problem}: skipped")
            for warning in reading.warnings:
                report.problem(position, f"warning: {warning}")
    except SourceError as error:
        report.error = f"{name}: {error.message}"
        report.touches.clear()
    return report


def _messages(location: str, report: SourceReport, since: dt.date | None) -> Iterator[tuple[int, bytes]]:
    """Each message's header bytes with its position (1-based); bad ones become report problems."""
    if is_imap_url(location):
        try:
            url = parse_imap_url(location)
        except ImapError as error:
            raise SourceError(error.message.removeprefix(f"{location}: ")) from None
        yield from _imap_messages(url, since)
        return
    path = Path(location)
    try:
        if path.is_dir():
            if not (path / "cur").is_dir() or not (path / "new").is_dir():
                raise SourceError("not a Maildir folder (it has no cur/ and new/)")
            yield from _maildir_messages(path, report)
        elif path.is_file():
            yield from _mbox_messages(path, report)
        elif path.exists():
            raise SourceError("not a Maildir folder or an mbox file")
        else:
            raise SourceError("no such file or folder")
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


class _Lines(Protocol):
    def readline(self, size: int = ..., /) -> bytes: ...


def header_block(file: _Lines) -> bytes | None:
    """The message's lines up to the first empty one (the header block); None when over HEADER_LIMIT."""
    lines: list[bytes] = []
    size = 0
    while True:
        line = file.readline(HEADER_LIMIT + 1 - size)
        if not line or line in (b"\n", b"\r\n"):
            return b"".join(lines)
        lines.append(line)
        size += len(line)
        if size > HEADER_LIMIT:
            return None


def _maildir_messages(path: Path, report: SourceReport) -> Iterator[tuple[int, bytes]]:
    """A Maildir's messages in `new/` and `cur/` by name. Only read: no flag or folder changes.

    Names starting with "." are not messages (Maildir readers skip them); folders inside
    `cur/` and `new/` are skipped by `mailbox` itself."""
    box = mailbox.Maildir(path, factory=None, create=False)
    keys = sorted(key for key in box.iterkeys() if not key.startswith("."))
    for position, key in enumerate(keys, 1):
        try:
            with box.get_file(key) as file:
                data = header_block(file)
        except KeyError:  # delivered elsewhere or deleted since the folder was listed
            report.problem(position, f"message {key} is gone (moved by the mail client?): skipped")
            continue
        except OSError as error:
            report.problem(position, f"message {key}: cannot read: {error.strerror or error}: skipped")
            continue
        if data is None:
            report.problem(position, f"message {key}: header block larger than 1 MB: skipped")
            continue
        yield position, data


def _mbox_messages(path: Path, report: SourceReport) -> Iterator[tuple[int, bytes]]:
    """An mbox file's messages in file order. The file is only read (no lock, nothing rewritten)."""
    with path.open("rb") as file:
        start = file.read(5)
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        keys = box.keys()
        if start and start != b"From ":
            if not keys:
                raise SourceError('not an mbox file (it does not start with a "From " line)')
            report.problem(
                1,
                'warning: the text before the first "From " line is not a message: skipped',
            )
        for position, key in enumerate(keys, 1):
            with box.get_file(key) as file:
                data = header_block(file)
            if data is None:
                report.problem(position, "header block larger than 1 MB: skipped")
                continue
            yield position, data
    finally:
        box.close()


def _imap_messages(url: ImapUrl, since: dt.date | None) -> Iterator[tuple[int, bytes]]:
    """The folder's messages' headers, EXAMINEd and fetched with BODY.PEEK (no `\\Seen` set).

    With `since`, the server's SEARCH SINCE (by arrival date) narrows the fetch to a day
    earlier than asked, and the `Date` header then decides, as for local folders.
    """
    from imap_tools import AND, MailMessage

    class _Raw(MailMessage):
        """Keeps the fetched bytes: they are parsed once, by `core.mailmatch`, like local mail."""

        def __init__(self, fetch_data: list[Any]) -> None:
            self.raw: bytes = self._get_message_data_parts(fetch_data)[0]

    try:
        with open_folder(url) as box:
            box.email_message_class = _Raw
            criteria = AND(date_gte=since - dt.timedelta(days=1)) if since else "ALL"
            messages = box.fetch(criteria, headers_only=True, mark_seen=False, bulk=IMAP_BATCH)
            position = 0
            while True:
                try:
                    message = next(messages)
                except StopIteration:
                    return
                except (ValueError, IndexError, TypeError, AttributeError, UnicodeError) as error:
                    # imap-tools parsing an answer no well-behaved server gives
                    raise SourceError(
                        f"unexpected answer from the server ({type(error).__name__}: {error})"
                    ) from None
                position += 1
                assert isinstance(message, _Raw)
                yield position, message.raw
    except ImapError as error:
        raise SourceError(error.message.removeprefix(f"{url}: ")) from None


def log_touches(run: MailRun, *, dry_run: bool, autocommit: bool) -> list[Problem]:
    """Write each prospect's new touches in one safe write (`store.edit`), then one commit for the run.

    A prospect whose write is refused keeps its file as it was; the others are still written.
    Returns warnings (the dnc prospects, a failed commit).
    """
    warnings: list[Problem] = []
    by_prospect: dict[Path, list[MailTouch]] = {}
    for touch in run.new:
        by_prospect.setdefault(touch.prospect.path, []).append(touch)
    for path, touches in by_prospect.items():
        prospect = touches[0].prospect
        if prospect.status == "dnc":
            message = (
                f"status is dnc: do not contact ({plural(len(touches), 'mail touch')} logged all the same)"
            )
            warnings.append(Problem(path, prospect.line_of("status"), message, "warning"))
        if dry_run:
            continue
        entries = [Entry(t.date, t.channel, t.note, time=t.time, direction=t.direction) for t in touches]
        entries.sort(key=lambda e: e.sort_key())
        try:
            if _write(path, entries):
                run.written.append(path)
        except MdfollowError as error:
            run.write_errors.append(error.message)
    if autocommit and run.written and not dry_run:
        message = f"mail: {plural(len(run.new), 'touch')} for {plural(len(run.written), 'prospect')}"
        reason = git_commit(run.written, message)
        if reason:
            warnings.append(Problem(run.written[0], 0, reason, "warning"))
    return warnings


def _write(path: Path, entries: list[Entry]) -> bool:
    """One write of these entries (`store.edit.edit_prospect`). Those another run logged
    meanwhile (`AlreadyLogged`) are dropped and the rest written; False when none is left."""
    for _ in range(len(entries)):
        try:
            edit_prospect(path, Change(entries=entries))
            return True
        except AlreadyLogged:
            current, _ = parse_prospect(path, path.read_bytes())
            logged = (
                {(t.date, t.time, t.channel, t.direction, t.note) for t in current.touches}
                if current
                else set()
            )
            entries = [entry for entry in entries if entry.item not in logged]
            if not entries:
                return False
    return False
