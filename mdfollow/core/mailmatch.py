"""A mail message's headers → the touches it makes (SPEC §8). Pure: no I/O, no clock.

Who sent it and to whom decides the prospects and the direction; `Date` gives the day
and time in the calendar's zone; the subject, made safe for one line of the touch log,
is the note. Automatic mail (RFC 3834 and its older cousins) is recognised and skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal

from mdfollow.core.model import Direction, Prospect, Touch

CHANNEL = "email"
NOTE_MAX = 120
"""Longest note, the final "…" of a cut one included."""
NO_SUBJECT = "(no subject)"
EARLIEST_YEAR, LATEST_YEAR = 1970, 2199
"""A `Date` outside these years is a broken clock or a forged header, not a contact."""
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_PARSER = BytesHeaderParser(policy=policy.default)

Outcome = Literal["touches", "automatic", "unmatched", "old", "bad"]


@dataclass(frozen=True, slots=True)
class AddressBook:
    """The user's own addresses and every prospect's, case-folded (an `email` list is aliases)."""

    me: frozenset[str]
    prospects: Mapping[str, tuple[Prospect, ...]]

    @classmethod
    def build(cls, me: Iterable[str], prospects: Iterable[Prospect]) -> AddressBook:
        index: dict[str, list[Prospect]] = {}
        for prospect in prospects:
            for address in prospect.emails:
                owners = index.setdefault(address.strip().casefold(), [])
                if prospect not in owners:
                    owners.append(prospect)
        mine = frozenset(address.strip().casefold() for address in me)
        return cls(mine, {address: tuple(owners) for address, owners in index.items()})


@dataclass(frozen=True, slots=True)
class MailTouch:
    """A touch a message makes on one prospect, as it would be written to the log."""

    prospect: Prospect
    date: dt.date
    time: dt.time
    direction: Direction
    note: str
    message_id: str | None
    channel: str = CHANNEL

    @property
    def key(self) -> tuple[dt.date, dt.time | None, str, Direction, str]:
        """What makes two touches "the same touch" across runs and machines (SPEC §8)."""
        return (self.date, self.time, self.channel, self.direction, self.note)

    def in_log(self, touches: Sequence[Touch]) -> bool:
        return any((t.date, t.time, t.channel, t.direction, t.note) == self.key for t in touches)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one message amounts to: touches, or why it makes none; `problem` says why it was
    skipped as bad input, `warnings` what is odd about a message that was still read."""

    outcome: Outcome
    touches: tuple[MailTouch, ...] = ()
    problem: str | None = None
    warnings: tuple[str, ...] = ()


def parse_headers(data: bytes) -> Message:
    """The header block of a message (the body, if given, is not parsed), with policy `default`."""
    return _PARSER.parsebytes(data, headersonly=True)


def read_message(
    data: bytes, book: AddressBook, zone: dt.tzinfo, now: dt.datetime, since: dt.date | None = None
) -> Reading:
    """The touches a message's header bytes make: one per prospect it is to (from `me`) or from.

    `zone` is the calendar's time zone; `now` (aware) tells a future `Date`; with `since`,
    older messages are `old`. The email package meets arbitrary bytes here, and on some
    malformed headers it raises more than its documented errors: such a message is `bad`.
    """
    try:
        return _read(parse_headers(data), book, zone, now, since)
    except Exception as error:  # any header the email package chokes on: skip that message only
        return Reading("bad", problem=f"cannot be parsed ({type(error).__name__}: {_one_line(str(error))})")


def _read(
    message: Message, book: AddressBook, zone: dt.tzinfo, now: dt.datetime, since: dt.date | None
) -> Reading:
    raw = _raw_headers(message)
    if not raw:
        return Reading("bad", problem="not a mail message (no headers)")
    when, date_problem = message_time(raw.get("date", []), zone)
    if when is not None and since is not None and when.date() < since:
        return Reading("old")
    senders = _addresses(raw.get("from", []))
    outbound = any(address in book.me for address in senders)
    targets = _addresses(raw.get("to", []) + raw.get("cc", [])) if outbound else senders
    prospects = _prospects(book, (a for a in targets if a not in book.me))
    if not prospects:
        return Reading("unmatched")
    if is_automatic(raw):
        return Reading("automatic")
    if when is None:
        return Reading("bad", problem=date_problem)
    warnings = []
    if when > now:
        warnings.append(f"Date {_one_line(raw['date'][0])!r} is in the future: logged anyway")
    subject = _subject(message)
    if "\ufffd" in subject and not any("\ufffd" in value for value in raw.get("subject", [])):
        warnings.append("the subject has text in an unknown charset: shown as \ufffd")
    note = clean_note(subject)
    clock = when.time().replace(second=0, microsecond=0)
    message_id = _message_id(raw.get("message-id", []))
    direction: Direction = "out" if outbound else "in"
    touches = tuple(MailTouch(p, when.date(), clock, direction, note, message_id) for p in prospects)
    return Reading("touches", touches, warnings=tuple(warnings))


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values as written (RFC 2047 words still encoded), by lower-case name."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def _addresses(values: Sequence[str]) -> list[str]:
    """The case-folded addresses in address headers; display names and groups are dropped."""
    return [address.casefold() for _, address in getaddresses(list(values)) if "@" in address]


def _prospects(book: AddressBook, addresses: Iterable[str]) -> tuple[Prospect, ...]:
    """Each prospect once, in the order its first address appears."""
    found: dict[str, Prospect] = {}
    for address in addresses:
        for prospect in book.prospects.get(address, ()):
            found.setdefault(prospect.id, prospect)
    return tuple(found.values())


def is_automatic(raw: Mapping[str, Sequence[str]]) -> bool:
    """Auto-replies, bounces, lists and bulk mail: not a contact the prospect made (RFC 3834)."""
    auto_submitted = [value.split(";")[0].strip().lower() for value in raw.get("auto-submitted", [])]
    precedence = {value.strip().lower() for value in raw.get("precedence", [])}
    return (
        any(value != "no" for value in auto_submitted)
        or "x-autoreply" in raw
        or "x-autorespond" in raw
        or bool(precedence & {"bulk", "list", "junk"})
        or "list-id" in raw
    )


def message_time(values: Sequence[str], zone: dt.tzinfo) -> tuple[dt.datetime | None, str]:
    """The `Date` header in `zone` (a zone-less one is read in `zone`), or None and why not."""
    if not values:
        return None, "no Date header"
    text = values[0]
    try:
        moment = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        moment = None
    if moment is None:
        return None, f"Date {_one_line(text)!r} is not a date"
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None, f"Date {_one_line(text)!r} is not a plausible date"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone), ""


def _subject(message: Message) -> str:
    """The subject, RFC 2047 words decoded (policy `default` does that); "" when there is none."""
    value = message.get("subject")
    return "" if value is None else str(value)


def clean_note(subject: str) -> str:
    """A subject as a touch note: one line, no control or bidi characters, at most NOTE_MAX long.

    Every kind of line break and white space becomes one space, so no subject can start a
    new touch line or a heading; `Re:`/`Fwd:` stay (they say it was a reply).
    """
    chars = []
    for ch in subject:
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Cc", "Zl", "Zp"):
            chars.append(" ")
        elif category == "Cs":
            chars.append("\ufffd")
        elif ch not in _BIDI_CONTROLS:
            chars.append(ch)
    note = " ".join("".join(chars).split())
    if len(note) > NOTE_MAX:
        note = note[: NOTE_MAX - 1].rstrip() + "…"
    return note or NO_SUBJECT


def _message_id(values: Sequence[str]) -> str | None:
    if not values:
        return None
    match = _MESSAGE_ID.search(values[0])
    text = match[0] if match else _one_line(values[0])
    return text or None


def _one_line(text: str) -> str:
    """Header text for a message on stderr: printable characters only, on one line."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
