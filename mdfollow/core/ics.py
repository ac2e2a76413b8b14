"""Follow-ups → an RFC 5545 feed that calendar apps can subscribe to (SPEC §5).

The feed is built with `icalendar`, one component at a time: `component_bytes`
serialises one follow-up and is cached, and `build_feed` joins the header, the
time zone and the cached components. `icalendar` serialises a calendar as its
BEGIN line and properties, then each subcomponent's own `to_ical()` in order,
then its END line, folding each content line on its own; so the joined chunks
are byte for byte what `build_calendar(...).to_ical()` gives (a test checks it).

Nothing here reads a clock. `DTSTAMP` and `LAST-MODIFIED` are one stamp (see
`stamp`): its day comes from the data (`revision`), its time of day is a
fingerprint of everything in the event, so any change, earlier or later, gives
a new stamp and the same data gives the same bytes. There is no `SEQUENCE`: a
stateless feed cannot keep it rising, and a lower one may be ignored, while the
default 0 lets clients order versions by `DTSTAMP`.

The one environment read is `config.local_timezone()`, for `timezone = "local"`,
so that `ics`, `watch` and `serve` (and the stored feed's key) agree on what
"local" means.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo
from icalendar.prop import vCategory, vDuration, vText
from icalendar.timezone.tzid import is_utc

from mdfollow.core.config import local_timezone
from mdfollow.core.model import CalendarConfig, Config, FollowUp, Problem, Prospect, when_text
from mdfollow.core.render import plural
from mdfollow.core.schedule import add_days
from mdfollow.core.templates import draft_links

PRODID = "-//mdfollow//mdfollow//EN"
REFRESH = dt.timedelta(hours=1)
FOOTER = b"END:VCALENDAR\r\n"
LAST_TOUCHES = 3
LAST_DAY = dt.date(dt.MAXYEAR - 1, 12, 31)
"""Follow-ups due later (a typo'd `next: 9999-…`) are left out: no room for their end or zone."""
FOLD_AT = 75
"""icalendar folds a line once it reaches this many octets; pieces then hold 74 at most."""

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


def clean_text(text: str) -> str:
    """User text made safe for a TEXT value: line breaks become `\\n`, other controls go."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_TEXT.sub(lambda m: "\n" if m[0] in "\x85\u2028\u2029\x0b\x0c\x1c\x1d\x1e" else "", text)


def escape_text(text: str) -> str:
    r"""RFC 5545 §3.3.11 escaping, done here because icalendar 7.3 turns a literal `\N` into a newline."""
    return clean_text(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


class Text(vText):
    """A TEXT value escaped by `escape_text`, so a backslash followed by N stays two characters."""

    def to_ical(self) -> bytes:
        return escape_text(self).encode("utf-8")


class Categories(vCategory):
    """CATEGORIES whose items are escaped by `escape_text` (see `Text`)."""

    def to_ical(self) -> bytes:
        return b",".join(escape_text(str(item)).encode("utf-8") for item in self.cats)


def feed_timezone(calendar: CalendarConfig) -> str | None:
    """The zone key timed events use; None for floating times."""
    return local_timezone() if calendar.timezone == "local" else calendar.timezone


def needs_vtimezone(zone: str | None) -> bool:
    """Whether times in `zone` carry a TZID: icalendar writes those in a zone equal to UTC
    (UTC, Etc/UTC, GMT, Africa/Abidjan…) as `…Z`, so a VTIMEZONE for them would go unused."""
    return zone is not None and not is_utc(ZoneInfo(zone))


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
    """The stamp's day: the prospect's latest dated change (touch, note, created, closed), or
    today when nothing dated placed the event (`next`, which has no day of its own, a move onto
    today, no dates at all)."""
    prospect = follow_up.prospect
    dates = [t.date for t in (*prospect.touches, *prospect.notes)]
    dates += [d for d in (prospect.created, prospect.closed) if d is not None]
    if moved or follow_up.reason in ("next", "revisit") or not dates:
        return today
    return min(max(dates), today)


def stamp(day: dt.date, *content: object) -> dt.datetime:
    """`day` at a time of day fingerprinting `content`: a change on the same day still changes it.

    The day orders versions across days; SHA-256 of the repr (of strings,
    dates and frozen dataclasses) is the same in every run and under any hash seed.
    """
    digest = hashlib.sha256(repr(content).encode("utf-8")).digest()
    seconds = int.from_bytes(digest[:8], "big") % 86400
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def channel_verb(channel: str | None) -> str:
    if channel is None:
        return "Follow up with"
    return _VERBS.get(channel.lower(), f"{channel.capitalize()}:")


def summary(follow_up: FollowUp) -> str:
    """E.g. "Call Jane Doe (Acme Corp) — touch #4"."""
    prospect = follow_up.prospect
    who = f"{prospect.name} ({prospect.company})" if prospect.company else prospect.name
    return f"{channel_verb(follow_up.channel)} {who} — touch #{follow_up.touch}"


def description(follow_up: FollowUp, today: dt.date, draft: str | None = None) -> str:
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
    if draft:
        lines.append(f"Draft: {draft}")
    lines.append(f"File: {prospect.path}")
    return "\n".join(lines)


def contact_uri(prospect: Prospect, channel: str | None) -> str | None:
    """A `tel:` link for calls and texts when there is a phone, else a `mailto:` link, else any."""
    phone = next((_tel(p) for p in prospect.phones if _tel(p)), None)
    email = next((f"mailto:{quote(e.strip(), safe='@.-_+~')}" for e in prospect.emails if e.strip()), None)
    if channel in ("call", "text") and phone:
        return phone
    return email or phone


def _tel(phone: str) -> str | None:
    """RFC 3966 global number: a leading + and the digits; visual separators dropped."""
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    if not digits:
        return None
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"


def _timed(day: dt.date, clock: dt.time, zone: str | None) -> dt.datetime:
    return dt.datetime.combine(day, clock, tzinfo=ZoneInfo(zone) if zone else None)


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware times compared through UTC, so a DST change that day is counted; floating as is."""
    return value.astimezone(dt.UTC) if value.tzinfo else value


def alarm_component(
    text: str, day: dt.date, start: dt.datetime | None, alarm: dt.time, *, due_only: bool
) -> Alarm:
    """A display reminder at `alarm` o'clock on the day, relative to the start (or to DUE for a task)."""
    component = Alarm()
    component.add("ACTION", "DISPLAY")
    component.add("DESCRIPTION", Text(text))
    if start is None:
        offset = dt.timedelta(hours=alarm.hour, minutes=alarm.minute)
        if due_only:
            component.add("TRIGGER", offset, parameters={"RELATED": "END"})
        else:
            component.add("TRIGGER", offset)
    else:
        component.add("TRIGGER", _utc(_timed(day, alarm, _zone_of(start))) - _utc(start))
    return component


def _zone_of(value: dt.datetime) -> str | None:
    return getattr(value.tzinfo, "key", None)


def _dated(
    kind: type[Event] | type[Todo],
    uid: str,
    placement: Placement,
    calendar: CalendarConfig,
    zone: str | None,
    day: dt.date,
    text: str,
    details: str,
    tags: tuple[str, ...] = (),
    uri: str | None = None,
) -> Event | Todo:
    """A feed component: identity, stamps, when, what, and the alarm.

    Every argument shapes the component, so all of them go into its stamp, on `day`.
    """
    changed = stamp(day, kind.name, uid, placement, calendar, zone, text, details, tags, uri)
    component = kind()
    component.add("UID", uid)
    component.add("DTSTAMP", changed)
    component.add("LAST-MODIFIED", changed)
    component.add("SUMMARY", Text(text))
    component.add("DESCRIPTION", Text(details))
    if tags:
        component.add("CATEGORIES", Categories(list(tags)))
    if uri:
        component.add("URL", uri)
    start: dt.datetime | None = None
    if placement.clock is not None:
        start = _timed(placement.day, placement.clock, zone)
        end = start + calendar.duration
        component.add("DTSTART", start)
        if kind is Todo:
            component.add("DUE", end if end > start else start + dt.timedelta(minutes=1))
        elif end > start:
            component.add("DTEND", end)
    elif kind is Todo:
        # A date-only DUE alone: DUE must be later than DTSTART, and DUE the next day reads "tomorrow".
        component.add("DUE", placement.day)
    else:
        component.add("DTSTART", placement.day)
        component.add("DTEND", placement.day + dt.timedelta(days=1))
    if kind is Todo:
        component.add("STATUS", "NEEDS-ACTION")
    else:
        component.add("TRANSP", "TRANSPARENT")
    if calendar.alarm is not None:
        component.add_component(
            alarm_component(
                text, placement.day, start, calendar.alarm, due_only=kind is Todo and start is None
            )
        )
    return component


def follow_up_component(
    follow_up: FollowUp,
    today: dt.date,
    calendar: CalendarConfig,
    todo: bool,
    zone: str | None,
    draft: str | None = None,
) -> Event | Todo:
    """One scheduled follow-up as a VEVENT (or VTODO); `zone` is the resolved `feed_timezone`;
    `draft` the `mailto:` link of its rendered email (SPEC §9), for URL and DESCRIPTION."""
    prospect = follow_up.prospect
    placement = place(follow_up, today, calendar)
    return _dated(
        Todo if todo else Event,
        f"{prospect.id}-{follow_up.touch}@mdfollow",
        placement,
        calendar,
        zone,
        revision(follow_up, today, placement.moved),
        summary(follow_up),
        description(follow_up, today, draft),
        tuple(tag for tag in prospect.tags if clean_text(tag).strip()),
        draft or contact_uri(prospect, follow_up.channel),
    )


def fold(line: str) -> str:
    """`line` folded exactly as icalendar folds it, without its per-character loop.

    Pieces hold at most 74 octets and end on a character boundary; a piece
    never ends in `\\` or `^` (icalendar keeps escapes whole). Most lines are
    short and returned as they are. A test checks this against icalendar.
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


def serialise(component: Component) -> bytes:
    """`component.to_ical()`, byte for byte, with the faster `fold`."""
    return "".join(f"{fold(line)}\r\n" for line in component.content_lines() if line).encode("utf-8")


@functools.lru_cache(maxsize=65536)
def component_bytes(
    follow_up: FollowUp,
    today: dt.date,
    calendar: CalendarConfig,
    todo: bool,
    zone: str | None,
    draft: str | None = None,
) -> bytes:
    """`follow_up_component(...).to_ical()`, cached: the key holds everything the bytes depend on."""
    return serialise(follow_up_component(follow_up, today, calendar, todo, zone, draft))


def digest_component(
    day: dt.date,
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    calendar: CalendarConfig,
    todo: bool,
    zone: str | None,
) -> Event | Todo:
    """One "Follow-ups (N)" component for a day, listing who is due (`calendar.digest`)."""
    placement = Placement(day, calendar.time, day == today)
    changed = max(revision(f, today, place(f, today, calendar).moved) for f in follow_ups)
    lines = [f"{summary(f)} — {f.prospect.path}" for f in follow_ups]
    return _dated(
        Todo if todo else Event,
        f"digest-{day:%Y%m%d}@mdfollow",
        placement,
        calendar,
        zone,
        changed,
        f"Follow-ups ({len(follow_ups)})",
        "\n".join(lines),
    )


@functools.lru_cache(maxsize=4096)
def digest_bytes(
    day: dt.date,
    follow_ups: tuple[FollowUp, ...],
    today: dt.date,
    calendar: CalendarConfig,
    todo: bool,
    zone: str | None,
) -> bytes:
    """`digest_component(...).to_ical()`, cached like `component_bytes`."""
    return serialise(digest_component(day, follow_ups, today, calendar, todo, zone))


def calendar_header(calendar: CalendarConfig, zone: str | None) -> Calendar:
    """The VCALENDAR with its properties and no components."""
    feed = Calendar()
    feed.add("PRODID", PRODID)
    feed.add("VERSION", "2.0")
    feed.add("CALSCALE", "GREGORIAN")
    feed.add("METHOD", "PUBLISH")
    feed.add("X-WR-CALNAME", Text(calendar.name))
    feed.add("NAME", Text(calendar.name))
    if zone:
        feed.add("X-WR-TIMEZONE", zone)
    feed.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    return feed


def timezone_component(zone: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE for whole years, so it stays the same from one day to the next."""
    return Timezone.from_tzid(
        zone, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year + 1, 1, 1)
    )


def unrepresentable(follow_ups: Iterable[FollowUp]) -> list[Problem]:
    """A warning for each follow-up due past `LAST_DAY`, which every feed leaves out without a word."""
    return [
        Problem(
            f.prospect.path,
            _origin_line(f),
            f"due {f.due.isoformat()} is past what a calendar can show: left out of the feed",
            "warning",
        )
        for f in follow_ups
        if f.due is not None and f.due > LAST_DAY
    ]


def _origin_line(follow_up: FollowUp) -> int:
    """The line the due date comes from: `next`, the touch it counts from, or `created`."""
    prospect = follow_up.prospect
    if follow_up.reason in ("next", "revisit"):
        return prospect.line_of("next")
    touches = prospect.touches if follow_up.reason == "reply" else prospect.outbound
    return touches[-1].line if touches else prospect.line_of("created")


@dataclass(frozen=True, slots=True)
class Plan:
    """What goes in a feed, in order: the resolved zone, the timed years, and the items."""

    zone: str | None
    years: tuple[int, int] | None
    """First and last year with a timed item, for the zone's VTIMEZONE; None when none is needed."""
    follow_ups: tuple[FollowUp, ...]
    digests: tuple[tuple[dt.date, tuple[FollowUp, ...]], ...]


def plan(follow_ups: Iterable[FollowUp], today: dt.date, config: Config, days: int | None) -> Plan:
    """Pick the scheduled follow-ups (within `days` when given), sort them, group them for a digest."""
    calendar = config.calendar
    horizon = add_days(today, days) if days is not None else None
    chosen = sorted(
        (
            f
            for f in follow_ups
            if f.due is not None and f.due <= LAST_DAY and (horizon is None or f.due <= horizon)
        ),
        key=lambda f: (f.due or dt.date.max, f.prospect.name.casefold(), f.prospect.id),
    )
    zone = feed_timezone(calendar)
    digests: tuple[tuple[dt.date, tuple[FollowUp, ...]], ...] = ()
    if calendar.digest:
        by_day: dict[dt.date, list[FollowUp]] = {}
        for follow_up in chosen:
            by_day.setdefault(place(follow_up, today, calendar).day, []).append(follow_up)
        digests = tuple((day, tuple(items)) for day, items in sorted(by_day.items()))
        timed_days = [day for day, _ in digests] if calendar.time else []
        chosen = []
    else:
        placements = (place(f, today, calendar) for f in chosen)
        timed_days = [p.day for p in placements if p.clock is not None]
    years = (min(timed_days).year, max(timed_days).year) if needs_vtimezone(zone) and timed_days else None
    return Plan(zone, years, tuple(chosen), digests)


def build_calendar(
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    config: Config,
    *,
    todo: bool = False,
    days: int | None = None,
) -> Calendar:
    """The feed as an `icalendar.Calendar`, for callers who want to inspect or extend it."""
    calendar = config.calendar
    contents = plan(follow_ups, today, config, days)
    feed = calendar_header(calendar, contents.zone)
    if contents.zone and contents.years:
        feed.add_component(timezone_component(contents.zone, *contents.years))
    drafts, _ = draft_links(contents.follow_ups, config)
    for follow_up in contents.follow_ups:
        draft = drafts.get((follow_up.prospect.id, follow_up.touch))
        feed.add_component(follow_up_component(follow_up, today, calendar, todo, contents.zone, draft))
    for day, items in contents.digests:
        feed.add_component(digest_component(day, items, today, calendar, todo, contents.zone))
    return feed


def build_feed(
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    config: Config,
    *,
    todo: bool = False,
    days: int | None = None,
) -> bytes:
    """The feed's bytes: `build_calendar(...).to_ical()`, joined from cached components."""
    calendar = config.calendar
    contents = plan(follow_ups, today, config, days)
    header = bytes(calendar_header(calendar, contents.zone).to_ical())
    assert header.endswith(FOOTER)
    chunks = [header[: -len(FOOTER)]]
    if contents.zone and contents.years:
        chunks.append(_timezone_bytes(contents.zone, *contents.years))
    drafts, _ = draft_links(contents.follow_ups, config)
    chunks += [
        component_bytes(f, today, calendar, todo, contents.zone, drafts.get((f.prospect.id, f.touch)))
        for f in contents.follow_ups
    ]
    chunks += [
        digest_bytes(day, items, today, calendar, todo, contents.zone) for day, items in contents.digests
    ]
    chunks.append(FOOTER)
    return b"".join(chunks)


@functools.lru_cache(maxsize=64)
def _timezone_bytes(zone: str, first_year: int, last_year: int) -> bytes:
    return bytes(timezone_component(zone, first_year, last_year).to_ical())
