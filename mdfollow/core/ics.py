"""Follow-ups → an RFC 5545 feed that calendar apps can subscribe to (SPEC §5).

One builder, `build_feed`. Every component is written as text, property by
property: the feed has a small fixed set of properties, and writing them
directly (escaped by `escape_text`, folded by `fold`) is what lets a feed of
10,000 follow-ups render in a fraction of a second and be cached one
component at a time (`Rendered`). The `icalendar` object model is used only
for a time zone whose rules no yearly RRULE describes (`timezone_text`).

Nothing here reads a clock or the environment: today, the machine's zone and
the root that file paths are relative to come in as arguments (`FeedOptions`).
`DTSTAMP` and `LAST-MODIFIED` are one stamp: `Rendered.natural` is derived from
the data (see `revision`), and the caller's `Stamp` may raise it so that it
never goes down when the component changes (store.feedcache keeps the last ones).
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import quote
from zoneinfo import ZoneInfo

from mdfollow.core.model import CalendarConfig, Config, FollowUp, Problem, Prospect, when_text
from mdfollow.core.render import plural
from mdfollow.core.schedule import add_days

PRODID = "-//mdfollow//mdfollow//EN"
REFRESH = "PT1H"
FOOTER = "END:VCALENDAR\r\n"
LAST_TOUCHES = 3
LAST_DAY = dt.date(dt.MAXYEAR - 1, 12, 31)
"""Items placed later (a typo'd `next: 9999-…`, `--today 9999-12-31`) are left out: no room for
their end, alarm or zone."""
FOLD_AT = 75
"""A content line is folded once it reaches this many octets; pieces then hold 74 at most."""
RULE_CHECKED_UNTIL = 2038
"""The tz database lists each transition up to about 2037 and a yearly rule after it, so a rule
that matches every year up to here matches every later year too."""
EXPLICIT_YEARS = 5
"""A zone no yearly rule describes gets its transitions for at most this many years."""

_VERBS = {
    "call": "Call",
    "email": "Email",
    "text": "Text",
    "meeting": "Meet",
    "visit": "Visit",
    "letter": "Write to",
    "linkedin": "LinkedIn",
}
_REASONS = {
    "new": "new lead: make the first contact",
    "cadence": "next touch of the cadence",
    "reply": "they reached out: answer",
    "next": "they asked to be contacted on this date (or snoozed)",
    "keep-in-touch": "customer: keep in touch",
    "revisit": "lost: time to revisit",
    "exhausted": "cadence exhausted",
}
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
"""RFC 5545 TEXT allows no control character but HTAB; line separators split lines too."""
_NOT_IN_UID = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029%]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_UTC_NAMES = {"UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich"}
"""The tz database's names for UTC itself (with or without `Etc/`): no need to look at their rules."""
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def clean_text(text: str) -> str:
    """User text made safe for a TEXT value: line breaks become `\\n`, other controls go."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_TEXT.sub(lambda m: "\n" if m[0] in "\x85\u2028\u2029\x0b\x0c\x1c\x1d\x1e" else "", text)


def escape_text(text: str) -> str:
    r"""RFC 5545 §3.3.11 escaping of a TEXT value (a literal `\N` stays two characters)."""
    return clean_text(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def uid_part(text: str) -> str:
    """An id as UID text: control characters (and `%`) percent-encoded, so the same id always
    gives the same UID and a strict parser never meets a raw ESC (SPEC §6)."""
    return _NOT_IN_UID.sub(lambda m: "".join(f"%{byte:02X}" for byte in m[0].encode("utf-8")), text)


def fold(line: str) -> str:
    """RFC 5545 §3.1 folding: pieces of at most 74 octets that end on a character boundary.

    A piece never ends in `\\` or `^`, so an escape stays whole for naive readers.
    Most lines are short and returned as they are.
    """
    data = line.encode("utf-8")
    if len(data) < FOLD_AT:
        return line
    pieces = []
    start = 0
    while len(data) - start > FOLD_AT - 1:
        end = start + FOLD_AT - 1
        while data[end] & 0xC0 == 0x80:  # inside a multi-byte character: back off to its start
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8")


def _line(name: str, value: str) -> str:
    return f"{fold(f'{name}:{value}')}\r\n"


def _date(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _clock(value: dt.datetime) -> str:
    return f"{_date(value)}T{value.hour:02d}{value.minute:02d}{value.second:02d}"


def _utc_stamp(seconds: int) -> str:
    return _clock(dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)) + "Z"


@functools.lru_cache(maxsize=256)
def _duration(delta: dt.timedelta) -> str:
    """RFC 5545 DURATION: `PT9H`, `-PT5H30M`, `P1DT2H`."""
    sign = "-" if delta < dt.timedelta(0) else ""
    seconds = abs(int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return f"{sign}P{text or 'T0S'}"


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """What shapes a feed besides the follow-ups, today and the config."""

    root: PurePath
    """File paths in DESCRIPTION are relative to it: no feed carries an absolute path."""
    local_zone: str | None = None
    """The machine's IANA zone, resolved by the caller, for `timezone = "local"`; None: floating."""
    todo: bool = False
    days: int | None = None


def feed_timezone(calendar: CalendarConfig, local_zone: str | None) -> str | None:
    """The zone key timed items use; None for floating times."""
    return local_zone if calendar.timezone == "local" else calendar.timezone


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a follow-up lands in the calendar: a day, and a clock time when it is timed."""

    day: dt.date
    clock: dt.time | None
    moved: bool
    """True when an overdue follow-up was moved onto today."""


def place(follow_up: FollowUp, today: dt.date, calendar: CalendarConfig) -> Placement:
    """Overdue follow-ups go on today unless `overdue = "keep"`; the follow-up's own time wins."""
    assert follow_up.due is not None
    moved = follow_up.due < today and calendar.overdue == "today"
    return Placement(today if moved else follow_up.due, follow_up.time or calendar.time, moved)


def revision(follow_up: FollowUp, today: dt.date, moved: bool) -> dt.date:
    """The natural stamp's day: the prospect's latest dated change (touch, note, created, closed),
    or today when nothing dated placed the event (`next`, which has no day of its own, a move
    onto today, no dates at all)."""
    prospect = follow_up.prospect
    dates = [t.date for t in (*prospect.touches, *prospect.notes)]
    dates += [d for d in (prospect.created, prospect.closed) if d is not None]
    if moved or follow_up.reason in ("next", "revisit") or not dates:
        return today
    return min(max(dates), today)


def channel_verb(channel: str | None) -> str:
    if channel is None:
        return "Follow up with"
    return _VERBS.get(channel.lower(), f"{channel.capitalize()}:")


def summary(follow_up: FollowUp) -> str:
    """E.g. "Call Jane Doe (Acme Corp) — touch #4"."""
    prospect = follow_up.prospect
    who = f"{prospect.name} ({prospect.company})" if prospect.company else prospect.name
    return f"{channel_verb(follow_up.channel)} {who} — touch #{follow_up.touch}"


def relative_path(path: PurePath, root: PurePath) -> str:
    """The file as named from the root, with `/`: the same feed from any working directory."""
    text, base = path.as_posix(), root.as_posix()
    if base == ".":
        return text
    if text.startswith(base) and text[len(base) : len(base) + 1] == "/":
        return text[len(base) + 1 :]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def description(follow_up: FollowUp, today: dt.date, root: PurePath) -> str:
    """Everything needed to make the contact without opening the file, and where the file is."""
    prospect = follow_up.prospect
    lines = [f"{prospect.name} — {prospect.company}" if prospect.company else prospect.name]
    lines += [f"Email: {email}" for email in prospect.emails]
    lines += [f"Phone: {phone}" for phone in prospect.phones]
    why = _REASONS[follow_up.reason]
    if follow_up.channel:
        why += f"; suggested: {follow_up.channel}"
    lines.append(f"Why: {why} (touch #{follow_up.touch})")
    assert follow_up.due is not None
    if follow_up.due < today:
        days = (today - follow_up.due).days
        lines.append(f"Overdue since {follow_up.due.isoformat()} ({plural(days, 'day')})")
    history = prospect.log[-LAST_TOUCHES:]
    if history:
        lines.append("Last touches:")
        for touch in history:
            direction = " in" if touch.direction == "in" and not touch.is_note else ""
            note = f": {clean_text(touch.note)}" if touch.note else ""
            lines.append(f"- {when_text(touch.date, touch.time)} {touch.channel}{direction}{note}")
    lines.append(f"File: {relative_path(prospect.path, root)}")
    return "\n".join(lines)


def contact_uri(prospect: Prospect, channel: str | None) -> str | None:
    """A `tel:` link for calls and texts when there is a phone, else a `mailto:` link, else any."""
    if channel in ("call", "text"):
        return _phone_uri(prospect) or _email_uri(prospect)
    return _email_uri(prospect) or _phone_uri(prospect)


def _email_uri(prospect: Prospect) -> str | None:
    return next((f"mailto:{quote(e.strip(), safe='@.-_+~')}" for e in prospect.emails if e.strip()), None)


def _phone_uri(prospect: Prospect) -> str | None:
    """RFC 3966 global number: a leading + and the digits; visual separators dropped."""
    for phone in prospect.phones:
        digits = _NOT_DIGIT.sub("", phone)
        if digits:
            return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"
    return None


@dataclass(frozen=True, slots=True)
class Item:
    """One calendar entry before it is written: what every component of the feed is made of.

    A new kind of entry (a planned call, a weekly follow-up hour, a draft's link) is a new
    function returning an `Item`; `render` writes it as a VEVENT or a VTODO.
    """

    uid: str
    summary: str
    description: str
    day: dt.date
    clock: dt.time | None
    revision: dt.date
    """The natural stamp's day (see `revision`)."""
    tags: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """One component's text, split around its stamp so a store can re-stamp it without re-rendering."""

    key: str
    """The component's identity across versions: its kind and UID."""
    head: str
    """`BEGIN:…` and `UID:…`; the stamp lines follow."""
    body: str
    """Every line after the stamps, `END:…` included."""
    natural: int
    """The stamp from the data alone, in POSIX seconds: the revision day at a time of day
    fingerprinting the text, so a change on the same day changes it too."""
    fingerprint: str
    """A digest of the text: what tells a changed component from an unchanged one."""

    def text(self, stamp: int) -> str:
        stamped = _utc_stamp(stamp)
        return f"{self.head}DTSTAMP:{stamped}\r\nLAST-MODIFIED:{stamped}\r\n{self.body}"


Stamp = Callable[[Rendered], int]
"""The stamp to write for a component (POSIX seconds); `natural_stamp` unless a store keeps them rising."""


def natural_stamp(rendered: Rendered) -> int:
    return rendered.natural


def _timed(day: dt.date, clock: dt.time, zone: str | None) -> dt.datetime:
    """The start as written: a wall time that exists (01:30 in a spring-forward gap is 02:30)."""
    if zone is None:
        return dt.datetime.combine(day, clock)
    tz = ZoneInfo(zone)
    return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC).astimezone(tz)


def _when(name: str, value: dt.datetime, utc: bool) -> str:
    """DTSTART/DTEND/DUE of a timed item: floating, UTC (`…Z`) or in the zone (`;TZID=`)."""
    if value.tzinfo is None:
        return _line(name, _clock(value))
    if utc:
        return _line(name, _clock(value.astimezone(dt.UTC)) + "Z")
    return _line(f"{name};TZID={getattr(value.tzinfo, 'key', '')}", _clock(value))


def _later(start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`start` plus `delta` of real time (through UTC, so a DST change that day is counted)."""
    if start.tzinfo is None:
        return start + delta
    return (start.astimezone(dt.UTC) + delta).astimezone(start.tzinfo)


def render(item: Item, calendar: CalendarConfig, todo: bool, zone: str | None) -> Rendered:
    """`item` as a VEVENT (or a VTODO), with the alarm of `calendar.alarm`."""
    kind = "VTODO" if todo else "VEVENT"
    head = f"BEGIN:{kind}\r\n{_line('UID', escape_text(item.uid))}"
    parts = [_line("SUMMARY", escape_text(item.summary)), _line("DESCRIPTION", escape_text(item.description))]
    tags = [escape_text(tag) for tag in item.tags if clean_text(tag).strip()]
    if tags:
        parts.append(_line("CATEGORIES", ",".join(tags)))
    if item.url:
        parts.append(_line("URL", item.url))
    start: dt.datetime | None = None
    if item.clock is not None:
        utc = zone is not None and is_utc(zone)
        start = _timed(item.day, item.clock, zone)
        end = _later(start, calendar.duration)
        parts.append(_when("DTSTART", start, utc))
        if todo:
            parts.append(_when("DUE", end if end > start else _later(start, dt.timedelta(minutes=1)), utc))
        elif end > start:
            parts.append(_when("DTEND", end, utc))
    elif todo:
        # A date-only DUE alone: DUE must be later than DTSTART, and DUE the next day reads "tomorrow".
        parts.append(_line("DUE;VALUE=DATE", _date(item.day)))
    else:
        parts.append(_line("DTSTART;VALUE=DATE", _date(item.day)))
        parts.append(_line("DTEND;VALUE=DATE", _date(item.day + dt.timedelta(days=1))))
    parts.append("STATUS:NEEDS-ACTION\r\n" if todo else "TRANSP:TRANSPARENT\r\n")
    if calendar.alarm is not None:
        parts.append(_alarm(item, calendar.alarm, start, due_only=todo and start is None))
    parts.append(f"END:{kind}\r\n")
    body = "".join(parts)
    digest = hashlib.sha256((head + body).encode("utf-8")).digest()
    day = dt.datetime(item.revision.year, item.revision.month, item.revision.day, tzinfo=dt.UTC)
    natural = int(day.timestamp()) + int.from_bytes(digest[:8], "big") % 86400
    return Rendered(f"{kind}:{item.uid}", head, body, natural, digest[:16].hex())


def _alarm(item: Item, alarm: dt.time, start: dt.datetime | None, *, due_only: bool) -> str:
    """A display reminder at `alarm` o'clock on the day, relative to the start (or to DUE for a task)."""
    if start is None:
        trigger = _duration(dt.timedelta(hours=alarm.hour, minutes=alarm.minute))
        name = "TRIGGER;RELATED=END" if due_only else "TRIGGER"
    else:
        ring = dt.datetime.combine(item.day, alarm, tzinfo=start.tzinfo)
        if start.tzinfo is not None:
            ring = ring.astimezone(dt.UTC).astimezone(start.tzinfo)
            trigger = _duration(ring.astimezone(dt.UTC) - start.astimezone(dt.UTC))
        else:
            trigger = _duration(ring - start)
        name = "TRIGGER"
    return (
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
        f"{_line('DESCRIPTION', escape_text(item.summary))}{_line(name, trigger)}END:VALARM\r\n"
    )


def follow_up_item(follow_up: FollowUp, today: dt.date, calendar: CalendarConfig, root: PurePath) -> Item:
    """One scheduled follow-up as a calendar entry; its UID is `<id>-<touch>@mdfollow`."""
    prospect = follow_up.prospect
    placement = place(follow_up, today, calendar)
    return Item(
        uid=f"{uid_part(prospect.id)}-{follow_up.touch}@mdfollow",
        summary=summary(follow_up),
        description=description(follow_up, today, root),
        day=placement.day,
        clock=placement.clock,
        revision=revision(follow_up, today, placement.moved),
        tags=prospect.tags,
        url=contact_uri(prospect, follow_up.channel),
    )


def follow_up_component(
    follow_up: FollowUp, today: dt.date, calendar: CalendarConfig, options: FeedOptions
) -> Rendered:
    """One follow-up rendered (store.feedcache keeps them, on disk and in memory)."""
    zone = feed_timezone(calendar, options.local_zone)
    return render(follow_up_item(follow_up, today, calendar, options.root), calendar, options.todo, zone)


Render = Callable[[FollowUp, dt.date, CalendarConfig, FeedOptions], Rendered]
"""`follow_up_component`, or a cache in front of it."""


def digest_item(
    day: dt.date, follow_ups: Sequence[FollowUp], today: dt.date, calendar: CalendarConfig, root: PurePath
) -> Item:
    """One "Follow-ups (N)" entry for a day, listing who is due (`calendar.digest`)."""
    changed = max(revision(f, today, place(f, today, calendar).moved) for f in follow_ups)
    lines = [f"{summary(f)} — {relative_path(f.prospect.path, root)}" for f in follow_ups]
    return Item(
        uid=f"digest-{_date(day)}@mdfollow",
        summary=f"Follow-ups ({len(follow_ups)})",
        description="\n".join(lines),
        day=day,
        clock=calendar.time,
        revision=changed,
    )


def calendar_header(calendar: CalendarConfig, zone: str | None) -> str:
    """The VCALENDAR's BEGIN line and properties."""
    name = escape_text(calendar.name)
    return "".join(
        [
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
            _line("PRODID", PRODID),
            "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n",
            _line("X-WR-CALNAME", name),
            _line("NAME", name),
            _line("X-WR-TIMEZONE", zone) if zone else "",
            f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}\r\nX-PUBLISHED-TTL:{REFRESH}\r\n",
        ]
    )


@dataclass(frozen=True, slots=True)
class _Change:
    """One change of a zone's UTC offset, as a VTIMEZONE observance sees it."""

    local: dt.datetime
    """Naive wall time of the change, read with the offset before it (RFC 5545 §3.6.5)."""
    before: dt.timedelta
    after: dt.timedelta
    name: str
    daylight: bool


def _changes(zone: ZoneInfo, year: int) -> list[_Change]:
    """Every offset change in `year`: a day-by-day scan, then a bisection to the second."""
    moment = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    offset = moment.astimezone(zone).utcoffset()
    changes = []
    while moment < end:
        step = min(moment + dt.timedelta(days=1), end)
        local = step.astimezone(zone)
        if local.utcoffset() != offset:
            low, high = moment, step
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            after = high.astimezone(zone)
            assert offset is not None and after.utcoffset() is not None
            changes.append(
                _Change(
                    (high + offset).replace(tzinfo=None),
                    offset,
                    after.utcoffset() or dt.timedelta(0),
                    after.tzname() or "",
                    bool(after.dst()),
                )
            )
            offset = after.utcoffset()
        moment = step
    return changes


def _offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _byday(day: dt.datetime) -> tuple[str, ...]:
    """The RRULE BYDAY forms naming `day` in its month: `2SU`, and `-1SU` when it is the last one."""
    weekday = _WEEKDAYS[day.weekday()]
    forms = [f"{(day.day - 1) // 7 + 1}{weekday}"]
    if day.day + 7 > month_calendar.monthrange(day.year, day.month)[1]:
        forms.insert(0, f"-1{weekday}")
    return tuple(forms)


@functools.lru_cache(maxsize=64)
def is_utc(zone: str) -> bool:
    """Whether `zone` is UTC under another name (Etc/UTC, GMT…): its times are written `…Z`."""
    if zone.removeprefix("Etc/") in _UTC_NAMES:
        return True
    tz = ZoneInfo(zone)
    for year in (2000, 2026, RULE_CHECKED_UNTIL):  # a few probes settle most zones at once
        for month in (1, 7):
            if dt.datetime(year, month, 1, tzinfo=dt.UTC).astimezone(tz).utcoffset():
                return False
    return _yearly_rule(zone, 2000, RULE_CHECKED_UNTIL) == ((), dt.timedelta(0))


@functools.lru_cache(maxsize=64)
def _yearly_rule(
    zone: str, first_year: int, last_year: int
) -> tuple[tuple[tuple[_Change, str], ...], dt.timedelta] | None:
    """The zone's yearly changes as (first change, BYDAY form) and its offset on 1 January,
    when one rule fits every year from `first_year` to `last_year`; else None."""
    tz = ZoneInfo(zone)
    years = range(first_year, min(last_year, max(first_year, RULE_CHECKED_UNTIL)) + 1)
    seen = [_changes(tz, year) for year in years]
    januaries = {dt.datetime(year, 1, 1, tzinfo=dt.UTC).astimezone(tz).utcoffset() for year in years}
    first = seen[0]
    if len(januaries) != 1 or any(len(year) != len(first) for year in seen):
        return None
    january = januaries.pop() or dt.timedelta(0)
    rules = []
    for index, change in enumerate(first):
        for form in _byday(change.local):
            if all(
                form in _byday(year[index].local)
                and (year[index].local.month, year[index].local.time())
                == (change.local.month, change.local.time())
                and (year[index].before, year[index].after, year[index].name, year[index].daylight)
                == (change.before, change.after, change.name, change.daylight)
                for year in seen
            ):
                rules.append((change, form))
                break
        else:
            return None
    return tuple(rules), january


@functools.lru_cache(maxsize=64)
def timezone_text(zone: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE for items from `first_year` to `last_year`, kept small whatever the years.

    Where one yearly rule describes the zone (most zones), it is written once as an RRULE
    starting the year before `first_year`. Otherwise the transitions are listed, for at most
    `EXPLICIT_YEARS` years from `first_year`; items later than that may be an hour off.
    """
    start_year = max(first_year - 1, 2)
    rule = _yearly_rule(zone, start_year, last_year)
    if rule is None:
        from icalendar import Timezone  # only for zones without a yearly rule

        last = min(last_year, first_year + EXPLICIT_YEARS - 1)
        explicit = Timezone.from_tzid(
            zone, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last + 1, 1, 1)
        )
        return bytes(explicit.to_ical()).decode("utf-8")
    changes, january = rule
    parts = ["BEGIN:VTIMEZONE\r\n", _line("TZID", zone)]
    if not changes:
        name = dt.datetime(start_year, 1, 1, tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).tzname() or zone
        parts += [
            f"BEGIN:STANDARD\r\nDTSTART:{start_year:04d}0101T000000\r\n",
            f"TZOFFSETFROM:{_offset(january)}\r\nTZOFFSETTO:{_offset(january)}\r\n",
            _line("TZNAME", name),
            "END:STANDARD\r\n",
        ]
    for change, form in changes:
        kind = "DAYLIGHT" if change.daylight else "STANDARD"
        parts += [
            f"BEGIN:{kind}\r\nDTSTART:{_clock(change.local)}\r\n",
            f"RRULE:FREQ=YEARLY;BYMONTH={change.local.month};BYDAY={form}\r\n",
            f"TZOFFSETFROM:{_offset(change.before)}\r\nTZOFFSETTO:{_offset(change.after)}\r\n",
            _line("TZNAME", change.name) if change.name else "",
            f"END:{kind}\r\n",
        ]
    parts.append("END:VTIMEZONE\r\n")
    return "".join(parts)


def unrepresentable(
    follow_ups: Iterable[FollowUp], today: dt.date, calendar: CalendarConfig
) -> list[Problem]:
    """A warning for each follow-up placed past `LAST_DAY`, which every feed leaves out."""
    problems = []
    for follow_up in follow_ups:
        if follow_up.due is None:
            continue
        day = place(follow_up, today, calendar).day
        if day > LAST_DAY:
            what = f"due {follow_up.due.isoformat()}" if day == follow_up.due else f"today {day.isoformat()}"
            message = f"{what} is past what a calendar can show: left out of the feed"
            problems.append(Problem(follow_up.prospect.path, _origin_line(follow_up), message, "warning"))
    return problems


def _origin_line(follow_up: FollowUp) -> int:
    """The line the due date comes from: `next`, the touch it counts from, or `created`."""
    prospect = follow_up.prospect
    if follow_up.reason in ("next", "revisit"):
        return prospect.line_of("next")
    touches = prospect.touches if follow_up.reason == "reply" else prospect.outbound
    return touches[-1].line if touches else prospect.line_of("created")


def build_feed(
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    config: Config,
    options: FeedOptions,
    *,
    render_follow_up: Render = follow_up_component,
    stamp: Stamp = natural_stamp,
) -> bytes:
    """The feed: scheduled follow-ups (within `options.days`) by day then name, or a digest a day.

    `render_follow_up` and `stamp` let a store reuse components and keep stamps rising.
    """
    calendar = config.calendar
    zone = feed_timezone(calendar, options.local_zone)
    horizon = add_days(today, options.days) if options.days is not None else None
    placed = [
        (follow_up, place(follow_up, today, calendar))
        for follow_up in follow_ups
        if follow_up.due is not None and (horizon is None or follow_up.due <= horizon)
    ]
    placed = [item for item in placed if item[1].day <= LAST_DAY]
    placed.sort(key=lambda item: (item[0].due, item[0].prospect.name.casefold(), item[0].prospect.id))
    if calendar.digest:
        by_day: dict[dt.date, list[FollowUp]] = {}
        for follow_up, placement in placed:
            by_day.setdefault(placement.day, []).append(follow_up)
        components = [
            render(digest_item(day, items, today, calendar, options.root), calendar, options.todo, zone)
            for day, items in sorted(by_day.items())
        ]
        timed_days = list(by_day) if calendar.time else []
    else:
        components = [render_follow_up(follow_up, today, calendar, options) for follow_up, _ in placed]
        timed_days = [placement.day for _, placement in placed if placement.clock is not None]
    chunks = [calendar_header(calendar, zone)]
    if zone is not None and timed_days and not is_utc(zone):
        chunks.append(timezone_text(zone, min(timed_days).year, max(timed_days).year))
    chunks += [component.text(stamp(component)) for component in components]
    chunks.append(FOOTER)
    return "".join(chunks).encode("utf-8")
