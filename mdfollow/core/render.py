"""Follow-ups and prospects → JSON-ready dicts and aligned text tables. No I/O."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import Any

from mdfollow.core import plan
from mdfollow.core.model import Config, FollowUp, Problem, Prospect, Touch, when_text

RED, DIM, BOLD, RESET = "\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[0m"

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them: a name holding U+202E reads backwards."""


def visible(text: str) -> str:
    """Text from a file made safe for a terminal: control characters (ESC, CR, newline…),
    bidirectional controls and line separators appear as `\\x1b` / `\\u202e`, so a name,
    note or file name can neither drive the terminal nor forge a line; an undecodable byte
    of a file name (a lone surrogate) appears as U+FFFD. Used for every human output."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            out.append("\ufffd")
        elif category in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def iso(value: dt.date | dt.time | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value.isoformat()


def due_json(follow_up: FollowUp, today: dt.date) -> dict[str, Any]:
    prospect = follow_up.prospect
    return {
        "id": prospect.id,
        "name": prospect.name,
        "company": prospect.company,
        "status": prospect.status,
        "due": iso(follow_up.due),
        **({"planned": iso(follow_up.planned)} if follow_up.planned else {}),
        "time": iso(follow_up.time),
        "overdue_days": follow_up.overdue_days(today) if follow_up.due else None,
        "touch": follow_up.touch,
        "channel": follow_up.channel,
        "reason": follow_up.reason,
        "path": str(prospect.path),
        "phone": prospect.phones[0] if prospect.phones else None,
        "email": prospect.emails[0] if prospect.emails else None,
    }


def list_json(prospect: Prospect, follow_up: FollowUp | None) -> dict[str, Any]:
    last = prospect.last_touch
    return {
        "id": prospect.id,
        "name": prospect.name,
        "company": prospect.company,
        "status": prospect.status,
        "tags": list(prospect.tags),
        "touches": len(prospect.touches),
        "last_touch": iso(last.date) if last else None,
        "due": iso(follow_up.due) if follow_up else None,
        "path": str(prospect.path),
    }


def touch_json(touch: Touch) -> dict[str, Any]:
    return {
        "date": iso(touch.date),
        "time": iso(touch.time),
        "channel": touch.channel,
        "direction": touch.direction,
        "note": touch.note,
        "line": touch.line,
    }


def show_json(prospect: Prospect, follow_up: FollowUp | None) -> dict[str, Any]:
    """The front matter as written, but with the keys mdfollow reads in their checked form."""
    fields = {key: _jsonable(value) for key, value in prospect.front_matter.items()}
    known = {
        "tags": list(prospect.tags),
        "created": iso(prospect.created),
        "closed": iso(prospect.closed),
        "next": f"{prospect.next}T{iso(prospect.next_time)}" if prospect.next_time else iso(prospect.next),
    }
    fields.update({key: value for key, value in known.items() if key in fields})
    return {
        **fields,
        "name": prospect.name,
        "status": prospect.status,
        "id": prospect.id,
        "path": str(prospect.path),
        "touches": [touch_json(t) for t in prospect.touches],
        "notes": [{"date": iso(n.date), "note": n.note, "line": n.line} for n in prospect.notes],
        "due": iso(follow_up.due) if follow_up else None,
        **(_planned_json(follow_up) if follow_up and follow_up.planned else {}),
        "reason": follow_up.reason if follow_up else None,
        "touch": follow_up.touch if follow_up else None,
        "channel": follow_up.channel if follow_up else None,
    }


def _planned_json(follow_up: FollowUp) -> dict[str, Any]:
    """`planned` and `time` for `show --json` when there is a plan (SPEC §7)."""
    return {"planned": iso(follow_up.planned), "time": iso(follow_up.time)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def width(text: str) -> int:
    """Columns the text takes in a terminal (wide East Asian characters and emoji take two)."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


def clip(text: str, limit: int) -> str:
    """The text cut to `limit` terminal columns, ending in "…" when cut."""
    if width(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        size = width(char)
        if used + size > limit - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Sequence[str] = (),
    *,
    max_width: int | None = None,
    drop: Sequence[int] = (),
    shrink: Sequence[int] = (),
) -> str:
    """Left-aligned columns; `styles[i]` (ANSI codes) wraps row i when given.

    Every cell is shown with `visible`. With `max_width`, a table too wide first narrows the
    `shrink` columns (cells cut with "…") to 10 columns each, then leaves out the `drop`
    columns in that order, then narrows the `shrink` columns further, so that no line wraps.
    """
    headers = [visible(h) for h in headers]
    rows = [[visible(c) for c in r] for r in rows]
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    shown = list(range(len(headers)))
    if max_width is not None:
        _fit(widths, shown, max_width, drop, shrink)

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i in shown:
            cell = clip(cells[i], widths[i])
            parts.append(cell + " " * (widths[i] - width(cell)))
        return "  ".join(parts).rstrip()

    out = [line(headers)]
    for index, row in enumerate(rows):
        style = styles[index] if index < len(styles) else ""
        out.append(f"{style}{line(row)}{RESET}" if style else line(row))
    return "\n".join(out)


def _fit(widths: list[int], shown: list[int], limit: int, drop: Sequence[int], shrink: Sequence[int]) -> None:
    """Narrow and leave out columns (in place) until a line fits in `limit` columns: the
    fewest columns left out, then the narrowed ones given back as much room as fits."""
    natural = list(widths)
    narrowed = [i for i in shrink if natural[i] > _NARROW]

    def total() -> int:
        return sum(widths[i] for i in shown) + 2 * (len(shown) - 1)

    for i in narrowed:
        widths[i] = _NARROW
    for column in drop:
        if total() <= limit:
            break
        if column in shown:
            shown.remove(column)
    while total() < limit:
        growing = [i for i in narrowed if i in shown and widths[i] < natural[i]]
        if not growing:
            break
        widths[min(growing, key=lambda i: widths[i])] += 1
    while total() > limit:
        candidates = [i for i in shrink if i in shown and widths[i] > 3]
        if not candidates:
            break
        widths[max(candidates, key=lambda i: widths[i])] -= 1


_NARROW = 10
"""Columns a name or company keeps before a table leaves out whole columns to fit."""


def _one_line(text: str | None, limit: int = 30) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


PHONE_CHANNELS = frozenset({"call", "text", "sms", "phone", "whatsapp"})
"""Channels reached on the phone number; every other channel on the email address."""


def contact_of(follow_up: FollowUp) -> str:
    """What a call sheet shows for the row: the phone for a call or text, else the email,
    and the other one when the preferred one is missing."""
    prospect = follow_up.prospect
    phone = prospect.phones[0] if prospect.phones else ""
    email = prospect.emails[0] if prospect.emails else ""
    if follow_up.channel in PHONE_CHANNELS:
        return phone or email
    return email or phone


def due_table(
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    color: bool,
    max_width: int | None = None,
    config: Config | None = None,
) -> str:
    """The call sheet; with a plan (`config.plan`) the planned day and its time (if any) come
    first. Narrower than its natural width, it leaves out WHY, COMPANY, TOUCH, CONTACT and
    CHANNEL in that order, after cutting names and companies to 10 columns."""
    planning = config is not None and config.plan is not None
    timed = planning and any(f.time for f in follow_ups)
    rows, styles = [], []
    for f in follow_ups:
        late = f.overdue_days(today)
        when = when_text(f.due, f.time) if f.due else "-"
        mark = f"{late}d late" if late else ("today" if f.due == today else "")
        if f.planned and config is not None:
            when, mark = f.planned.isoformat(), plan.marker(f, today, config)
        row = [
            when,
            mark,
            f"#{f.touch}",
            f.channel or "",
            _one_line(f.prospect.name),
            _one_line(f.prospect.company),
            contact_of(f),
            f.reason,
        ]
        rows.append([*row[:1], iso(f.time) or "", *row[1:]] if timed else row)
        styles.append((RED if late else BOLD if (f.planned or f.due) == today else "") if color else "")
    headers = ["DUE", "", "TOUCH", "CHANNEL", "NAME", "COMPANY", "CONTACT", "WHY"]
    drop: tuple[int, ...] = (7, 5, 2, 6, 3)
    shrink: tuple[int, ...] = (4, 5)
    if planning:
        headers[:1] = ["PLANNED", "TIME"] if timed else ["PLANNED"]
    if timed:  # the TIME column shifts every later one by one
        drop, shrink = tuple(c + 1 for c in drop), tuple(c + 1 for c in shrink)
    return table(headers, rows, styles, max_width=max_width, drop=drop, shrink=shrink)


def skipped_files(problems: Sequence[Problem], prospects: Sequence[Prospect]) -> int:
    """Files left out of every listing because of an error (a prospect loaded with a bad
    touch line is still listed, so it does not count)."""
    loaded = {prospect.path for prospect in prospects}
    return len({p.path for p in problems if p.severity == "error" and p.path not in loaded})


def plural(count: int, noun: str) -> str:
    """`1 prospect`, `2 prospects`, `2 touches`."""
    return f"{count} {noun}{'' if count == 1 else 'es' if noun.endswith(('ch', 's')) else 's'}"


def due_summary(follow_ups: Sequence[FollowUp], today: dt.date) -> str:
    overdue = sum(1 for f in follow_ups if f.due is not None and f.due < today)
    due_today = sum(1 for f in follow_ups if f.due == today)
    later = sum(1 for f in follow_ups if f.due is not None and f.due > today)
    parts = [f"{due_today} due today", f"{overdue} overdue"]
    if later:
        parts.append(f"{later} later")
    return ", ".join(parts)


def list_table(
    items: Sequence[tuple[Prospect, FollowUp | None]],
    today: dt.date,
    color: bool,
    max_width: int | None = None,
) -> str:
    """One line per prospect. Narrower than its natural width, it leaves out LAST, TOUCHES,
    COMPANY and STATUS in that order, after cutting names and companies to 10 columns."""
    rows, styles = [], []
    for prospect, f in items:
        last = prospect.last_touch
        rows.append(
            [
                prospect.id,
                _one_line(prospect.name),
                _one_line(prospect.company),
                prospect.status,
                str(len(prospect.touches)),
                last.date.isoformat() if last else "",
                (f.due.isoformat() if f.due else f.reason) if f else "-",
            ]
        )
        overdue = f is not None and f.due is not None and f.due < today
        styles.append((RED if overdue else DIM if f is None else "") if color else "")
    headers = ["ID", "NAME", "COMPANY", "STATUS", "TOUCHES", "LAST", "DUE"]
    return table(headers, rows, styles, max_width=max_width, drop=(5, 4, 2, 3), shrink=(1, 2))


def show_text(
    prospect: Prospect, follow_up: FollowUp | None, today: dt.date, plan_line: str | None = None
) -> str:
    title = visible(prospect.name + (f", {prospect.company}" if prospect.company else ""))
    lines = [title, "=" * width(title)]
    fields = [
        ("id", prospect.id),
        ("path", str(prospect.path)),
        ("status", prospect.status),
        ("email", ", ".join(prospect.emails)),
        ("phone", ", ".join(prospect.phones)),
        ("tags", ", ".join(prospect.tags)),
        ("source", prospect.source or ""),
        ("owner", prospect.owner or ""),
        ("cadence", prospect.cadence or ""),
        ("created", iso(prospect.created) or ""),
        ("closed", iso(prospect.closed) or ""),
        ("next", when_text(prospect.next, prospect.next_time) if prospect.next else ""),
    ]
    lines += [f"{key + ':':9} {visible(value)}" for key, value in fields if value]
    lines.append("")
    lines.append(f"due:      {describe_follow_up(follow_up, today)}")
    if plan_line:
        lines.append(f"plan:     {plan_line}")
    log = prospect.log
    if log:
        lines += ["", f"touches ({len(prospect.touches)}):"]
        for touch in log:
            arrow = " " if touch.is_note else "←" if touch.direction == "in" else "→"
            first, *more = touch.note.split("\n")
            lines.append(f"  {when_text(touch.date, touch.time)} {arrow} {touch.channel}: {visible(first)}")
            lines += [" " * 16 + visible(part) for part in more]
    return "\n".join(lines)


def describe_follow_up(follow_up: FollowUp | None, today: dt.date) -> str:
    """One phrase: when the next touch is due and why."""
    if follow_up is None:
        return "never (not scheduled)"
    if follow_up.due is None:
        return f"never: the cadence is exhausted after {plural(follow_up.touch - 1, 'touch')}"
    when = when_text(follow_up.due, follow_up.time)
    late = follow_up.overdue_days(today)
    if late:
        when += f" ({plural(late, 'day')} overdue)"
    elif follow_up.due == today:
        when += " (today)"
    channel = f" by {follow_up.channel}" if follow_up.channel else ""
    why = {
        "new": "first contact",
        "cadence": "cadence",
        "reply": "they reached out: reply",
        "next": "date set with next or snooze",
        "keep-in-touch": "keep in touch with a customer",
        "revisit": "revisit a lost deal",
    }.get(follow_up.reason, follow_up.reason)
    return f"{when}: touch #{follow_up.touch}{channel}, {why}"


def plan_days_table(
    follow_ups: Sequence[FollowUp], days: Sequence[dt.date], today: dt.date, color: bool, config: Config
) -> str:
    """`due --days N` with a plan: the planned rows under a heading per day, with its count."""
    header, *rows = due_table(follow_ups, today, color, config=config).split("\n")
    by_day: dict[dt.date | None, list[str]] = {}
    for f, row in zip(follow_ups, rows, strict=True):
        by_day.setdefault(f.planned, []).append(row)
    out = [header]
    for day in sorted({*days, *(d for d in by_day if d is not None)}):
        count = len(by_day.get(day, []))
        heading = f"{day:%a} {day.isoformat()}: {count or 'nothing'} planned"
        out += [f"{BOLD}{heading}{RESET}" if color else heading, *by_day.get(day, [])]
    return "\n".join(out)


def plan_summary(shown: Sequence[FollowUp], later: int, today: dt.date, config: Config) -> str:
    """E.g. "15 planned for today (3 overdue, 2 moved) · 185 planned later"."""
    on_today = sum(1 for f in shown if f.planned == today)
    text = f"{on_today or 'Nothing'} planned for today"
    if len(shown) > on_today:
        text += f", {len(shown) - on_today} on the days after"
    overdue = sum(1 for f in shown if f.overdue_days(today))
    moved = sum(1 for f in shown if plan.moved(f, today, config))
    notes = [f"{count} {what}" for count, what in ((overdue, "overdue"), (moved, "moved")) if count]
    if notes:
        text += f" ({', '.join(notes)})"
    return f"{text} · {later} planned later" if later else text
