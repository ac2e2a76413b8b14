"""Follow-up discipline in figures: prospects + today → `Stats`, and a plain-text report.

Pure: no I/O, no clock. The report draws its bars with block characters rather than
importing rich, which would cost the command its startup time.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mdfollow.core.model import STATUSES, Config, Prospect, Touch
from mdfollow.core.render import table
from mdfollow.core.schedule import follow_up

TOUCH_BUCKETS = ("0", "1", "2", "3", "4", "5-12", "13+")
STOP_BUCKETS = ("0-1", "2", "3", "4+")
EARLY_STOPS = ("0-1", "2", "3")

REFERENCE_STOPPED_AFTER: Mapping[str, float] = {"0-1": 0.48, "2": 0.25, "3": 0.12, "4+": 0.10}
"""Salespeople by the contact they give up after: 48% never follow up, 25% stop after the
2nd contact, 12% after the 3rd, only 10% go past three (the figures SPEC's preamble cites)."""

REFERENCE_WON_AT_TOUCH: Mapping[str, float] = {"1": 0.02, "2": 0.03, "3": 0.05, "4": 0.10, "5-12": 0.80}
"""Sales by the contact they close on: 2% on the 1st, 3% 2nd, 5% 3rd, 10% 4th, 80% 5th-12th."""

REFERENCE_LEAD_RESPONSE: Mapping[str, float] = {"within_hours": 1, "times_as_likely_to_qualify": 7}
""""The Short Life of Online Sales Leads" (Harvard Business Review, 2011): firms that answered
within an hour were about 7 times as likely to qualify the lead as those answering an hour later."""


def touch_bucket(count: int) -> str:
    """The `touches_made` / `won_at_touch` key for a number of outbound touches."""
    if count <= 4:
        return str(count)
    return "5-12" if count <= 12 else "13+"


def stop_bucket(count: int) -> str:
    """Where following up stopped: after the 1st contact (or none), the 2nd, the 3rd, later."""
    if count <= 1:
        return "0-1"
    return str(count) if count <= 3 else "4+"


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    """Touches on one channel in the period; `answered` outbound ones were followed by an inbound."""

    out: int = 0
    inbound: int = 0
    answered: int = 0

    @property
    def replies_per_touch(self) -> float | None:
        return self.answered / self.out if self.out else None


@dataclass(frozen=True, slots=True)
class Stats:
    """Every figure `mdfollow stats` reports (SPEC §4); see docs/stats-import.md for definitions."""

    today: dt.date
    since: dt.date | None
    by_status: Mapping[str, int]
    exhausted: int
    overdue: int
    touches_made: Mapping[str, int]
    won_at_touch: Mapping[str, int]
    stopped_after: Mapping[str, int]
    channels: Mapping[str, ChannelFigures]
    days_late: tuple[int, ...]
    reply_hours: tuple[float, ...] = ()

    @property
    def prospects(self) -> int:
        return sum(self.by_status.values())

    @property
    def dropped(self) -> int:
        return sum(self.stopped_after.values())

    @property
    def dropped_early(self) -> int:
        return sum(self.stopped_after[key] for key in EARLY_STOPS)

    @property
    def dropped_early_share(self) -> float | None:
        return self.dropped_early / self.dropped if self.dropped else None

    @property
    def median_days_late(self) -> float | None:
        return float(statistics.median(self.days_late)) if self.days_late else None

    @property
    def median_reply_hours(self) -> float | None:
        return round(float(statistics.median(self.reply_hours)), 2) if self.reply_hours else None


def compute_stats(
    prospects: Iterable[Prospect], today: dt.date, config: Config, since: dt.date | None = None
) -> Stats:
    """The figures for a folder's prospects; `since` limits touch counts and outcomes to the period.

    Snapshots (`by_status`, `touches_made`, `exhausted`, `overdue`) describe today whatever
    `since` says; outcomes count prospects that ended on or after `since`, at their full touch
    number; channel counts, replies and lateness count only touches dated on or after `since`.
    """
    by_status: Counter[str] = Counter()
    touches_made: Counter[str] = Counter()
    won_at_touch: Counter[str] = Counter()
    stopped_after: Counter[str] = Counter()
    channels: dict[str, ChannelFigures] = {}
    days_late: list[int] = []
    reply_hours: list[float] = []
    exhausted = overdue = 0
    for prospect in prospects:
        by_status[prospect.status] += 1
        upcoming = follow_up(prospect, today, config)
        is_exhausted = upcoming is not None and upcoming.due is None
        exhausted += is_exhausted
        overdue += upcoming is not None and upcoming.due is not None and upcoming.due < today
        closed = prospect.closed if prospect.status in ("won", "lost") else None  # reopened: all count
        made = _outbound_until(prospect, closed)
        if prospect.status == "active":
            touches_made[touch_bucket(made)] += 1
        ended = _ended(prospect)
        in_period = since is None or (ended is not None and ended >= since)
        if prospect.status == "won" and in_period:
            won_at_touch[touch_bucket(made)] += 1
        if (prospect.status == "lost" or (prospect.status == "active" and is_exhausted)) and in_period:
            stopped_after[stop_bucket(made)] += 1
        for index, touch in enumerate(prospect.touches):
            if since is not None and touch.date < since:
                continue
            _count_channel(channels, prospect.touches, index)
            if touch.direction == "out":
                late = days_late_of(prospect, index, config)
                if late is not None:
                    days_late.append(late)
        reply_hours += [hours for day, hours in replies(prospect.touches) if since is None or day >= since]
    return Stats(
        today=today,
        since=since,
        by_status={status: by_status[status] for status in STATUSES},
        exhausted=exhausted,
        overdue=overdue,
        touches_made={key: touches_made[key] for key in TOUCH_BUCKETS},
        won_at_touch={key: won_at_touch[key] for key in TOUCH_BUCKETS},
        stopped_after={key: stopped_after[key] for key in STOP_BUCKETS},
        channels=dict(sorted(channels.items())),
        days_late=tuple(sorted(days_late)),
        reply_hours=tuple(sorted(reply_hours)),
    )


def replies(touches: Sequence[Touch]) -> list[tuple[dt.date, float]]:
    """How long each reply took: hours from the first inbound touch that was waiting for an
    answer to the next outbound touch, with the inbound touch's date; only pairs where both
    are timed (an untimed touch says nothing about hours)."""
    found: list[tuple[dt.date, float]] = []
    waiting: Touch | None = None
    for touch in touches:
        if touch.direction == "in":
            waiting = waiting or touch
            continue
        if waiting is not None and waiting.time is not None and touch.time is not None:
            asked = dt.datetime.combine(waiting.date, waiting.time)
            answered = dt.datetime.combine(touch.date, touch.time)
            found.append((waiting.date, (answered - asked).total_seconds() / 3600))
        waiting = None
    return found


def _outbound_until(prospect: Prospect, day: dt.date | None) -> int:
    """Outbound touches on or before `day` (all of them when `day` is None)."""
    return sum(1 for t in prospect.outbound if day is None or t.date <= day)


def _ended(prospect: Prospect) -> dt.date | None:
    """When a won, lost or exhausted prospect ended: `closed`, else its latest touch, else `created`."""
    latest = prospect.last_touch
    return prospect.closed or (latest.date if latest else None) or prospect.created


def _count_channel(channels: dict[str, ChannelFigures], touches: Sequence[Touch], index: int) -> None:
    touch = touches[index]
    figures = channels.get(touch.channel, ChannelFigures())
    if touch.direction == "in":
        channels[touch.channel] = replace(figures, inbound=figures.inbound + 1)
        return
    answered = index + 1 < len(touches) and touches[index + 1].direction == "in"
    channels[touch.channel] = replace(figures, out=figures.out + 1, answered=figures.answered + answered)


def days_late_of(prospect: Prospect, index: int, config: Config) -> int | None:
    """How many days after its due date outbound touch `index` was made (0 when on time or early).

    The due date is the follow-up the scheduler gives the prospect as it stood just before
    the touch: the earlier touches only, status `active` while it was not yet closed, and
    `next` only when this touch is the one that consumed it (its earlier values are not
    recorded). None when nothing was scheduled: a first touch without `created`, or a
    prospect that was never due.
    """
    touch = prospect.touches[index]
    earlier = prospect.touches[:index]
    keep_next = prospect.next is not None and prospect.next <= touch.date
    closed_before = prospect.closed is not None and prospect.closed < touch.date
    before = replace(
        prospect,
        touches=earlier,
        status=prospect.status if closed_before else "active",
        next=prospect.next if keep_next else None,
        next_time=prospect.next_time if keep_next else None,
    )
    scheduled = follow_up(before, touch.date, config)
    if scheduled is None or scheduled.due is None:
        return None
    if scheduled.reason == "new" and prospect.created is None:
        return None
    return max(0, (touch.date - scheduled.due).days)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def stats_json(stats: Stats) -> dict[str, Any]:
    """The SPEC §4 `stats` object, with the added figures and the reference shares."""
    return {
        "today": stats.today.isoformat(),
        "since": stats.since.isoformat() if stats.since else None,
        "prospects": stats.prospects,
        "by_status": dict(stats.by_status),
        "touches_made": dict(stats.touches_made),
        "won_at_touch": dict(stats.won_at_touch),
        "dropped_early": stats.dropped_early,
        "dropped": stats.dropped,
        "dropped_early_share": _share(stats.dropped_early, stats.dropped),
        "stopped_after": dict(stats.stopped_after),
        "channels": {name: {"out": f.out, "in": f.inbound} for name, f in stats.channels.items()},
        "replies_per_touch": {name: _share(f.answered, f.out) for name, f in stats.channels.items() if f.out},
        "median_days_late": stats.median_days_late,
        "days_late_measured": len(stats.days_late),
        "reply_hours": stats.median_reply_hours,
        "replies_timed": len(stats.reply_hours),
        "exhausted": stats.exhausted,
        "overdue": stats.overdue,
        "reference": {
            "stopped_after": dict(REFERENCE_STOPPED_AFTER),
            "won_at_touch": dict(REFERENCE_WON_AT_TOUCH),
            "lead_response": dict(REFERENCE_LEAD_RESPONSE),
        },
    }


_BAR_WIDTH = 24
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, maximum: float, width: int = _BAR_WIDTH) -> str:
    """A horizontal bar in block characters, `width` long at `maximum`, to an eighth of a cell."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _distribution(
    title: str, counts: Mapping[str, int], label: str, reference: Mapping[str, float] | None = None
) -> list[str]:
    """A titled bar chart: one row per bucket, count and share, and the reference share if any."""
    total = sum(counts.values())
    headers = [label, "", "count", "share"] + (["literature"] if reference is not None else [])
    rows = []
    for key, count in counts.items():
        share = count / total if total else 0.0
        row = [key, bar(share, 1.0), str(count), _percent(share) if total else "-"]
        if reference is not None:
            row.append(_percent(reference.get(key)))
        rows.append(row)
    body = table(headers, rows).splitlines()
    return [f"{title} ({total})", *("  " + line for line in body)]


def report(stats: Stats) -> str:
    """The human `stats` report: compact sections, your shares beside the literature's."""
    period = f", touches since {stats.since.isoformat()}" if stats.since else ""
    statuses = ", ".join(f"{count} {status}" for status, count in stats.by_status.items())
    lines = [
        f"Follow-up discipline on {stats.today.isoformat()}{period}",
        "",
        f"Prospects: {stats.prospects} ({statuses}); {stats.exhausted} exhausted, "
        f"{stats.overdue} overdue today",
        "",
        *_distribution("Active prospects by outbound touches made", stats.touches_made, "touches"),
        "",
        *_distribution(
            "Won, by outbound touches made before closing",
            stats.won_at_touch,
            "touches",
            REFERENCE_WON_AT_TOUCH,
        ),
        "",
        *_distribution(
            "Dropped (lost or exhausted), by outbound touches made",
            stats.stopped_after,
            "touches",
            REFERENCE_STOPPED_AFTER,
        ),
        f"  dropped early (after at most 3 touches): {stats.dropped_early} of {stats.dropped}"
        f" ({_percent(stats.dropped_early_share)}); literature: 85% of salespeople stop by the 3rd",
        "",
        *_channels(stats.channels),
        "",
        _lateness(stats),
        _reply_time(stats),
    ]
    return "\n".join(lines)


def _channels(channels: Mapping[str, ChannelFigures]) -> list[str]:
    if not channels:
        return ["Channels: no touches"]
    rows = []
    for name, figures in channels.items():
        rate = figures.replies_per_touch
        rows.append([name, str(figures.out), str(figures.inbound), _percent(rate), bar(rate or 0.0, 1.0)])
    body = table(["channel", "out", "in", "replied", ""], rows).splitlines()
    return ["Channels (replied: share of outbound touches answered before your next one)"] + [
        "  " + line for line in body
    ]


def _lateness(stats: Stats) -> str:
    median = stats.median_days_late
    if median is None:
        return "Timeliness: no scheduled follow-up made yet"
    on_time = sum(1 for late in stats.days_late if late == 0)
    return (
        f"Timeliness: median {median:,.1f} days late over {len(stats.days_late)} follow-ups "
        f"({on_time} on time or early)"
    )


def _reply_time(stats: Stats) -> str:
    """The median reply time beside the lead-response figure it is measured against."""
    reference = (
        "literature: firms answering within an hour were about 7 times as likely to qualify the lead as those"
        ' answering an hour later (HBR 2011, "The Short Life of Online Sales Leads")'
    )
    median = stats.median_reply_hours
    if median is None:
        return f"Reply time: no timed inbound touch answered yet; {reference}"
    within = sum(1 for hours in stats.reply_hours if hours <= 1)
    return (
        f"Reply time: median {median:,.1f} hours over {len(stats.reply_hours)} replies "
        f"({within} within an hour); {reference}"
    )
