"""When is a prospect due? SPEC §3 as a pure function of (prospect, today, config)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mdfollow.core.model import Cadence, Config, FollowUp, Gap, Prospect, Reason, Touch


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What SPEC §3's rules read from a touch log: the number of outbound touches, the latest
    touch and the latest outbound one. `stats` keeps one up to date touch by touch, so that
    scheduling a prospect as it stood before each touch stays linear in the log's length."""

    outbound: int = 0
    latest: Touch | None = None
    latest_out: Touch | None = None

    @classmethod
    def of(cls, touches: Sequence[Touch]) -> LogSummary:
        outbound = [t for t in touches if t.direction == "out"]
        return cls(len(outbound), touches[-1] if touches else None, outbound[-1] if outbound else None)

    def after(self, touch: Touch) -> LogSummary:
        """The summary once `touch` (later in log order than all before it) is added."""
        if touch.direction == "out":
            return LogSummary(self.outbound + 1, touch, touch)
        return LogSummary(self.outbound, touch, self.latest_out)


def add_gap(day: dt.date, gap: Gap) -> dt.date:
    """`day` plus the gap; calendar months clamp to the month's end (Aug 31 + 1m = Sep 30).

    Past the last representable day (year 9999) the result is that day.
    """
    if gap.unit != "m":
        return add_days(day, gap.count * (7 if gap.unit == "w" else 1))
    months = day.month - 1 + gap.count
    year, month = day.year + months // 12, months % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_days(day: dt.date, days: int) -> dt.date:
    """`day` plus `days`, stopping at the last representable day instead of overflowing."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def next_workday(day: dt.date, config: Config) -> dt.date:
    """The day itself if it is a workday, else the next one (SPEC §3 rule 6)."""
    while day.weekday() not in config.workdays and day < dt.date.max:
        day += dt.timedelta(days=1)
    return day


def cadence_of(prospect: Prospect, config: Config) -> Cadence:
    """The prospect's cadence; an unknown name falls back to the default (`check` reports it)."""
    name = prospect.cadence or ("customer" if prospect.status == "won" else "default")
    return config.cadences.get(name) or config.cadences["default"]


def follow_up(
    prospect: Prospect, today: dt.date, config: Config, log: LogSummary | None = None
) -> FollowUp | None:
    """The prospect's next follow-up, or None when it is never due (dnc, or lost without a
    live `next`); an exhausted cadence gives a follow-up whose `due` is None. `log`, when
    given, stands for the prospect's touches (see `LogSummary`)."""
    summary = LogSummary.of(prospect.touches) if log is None else log
    touch = summary.outbound + 1
    latest = summary.latest
    next_is_live = prospect.next is not None and (latest is None or prospect.next > latest.date)

    def due(
        day: dt.date, reason: Reason, channel: str | None = None, template: str | None = None
    ) -> FollowUp:
        time = prospect.next_time if reason in ("next", "revisit") else None
        return FollowUp(prospect, next_workday(day, config), reason, touch, channel, time, template=template)

    if prospect.status == "dnc":
        return None
    if prospect.status == "lost":
        return due(prospect.next, "revisit") if next_is_live and prospect.next else None
    if next_is_live and prospect.next:
        return due(prospect.next, "next")
    if latest is not None and latest.direction == "in":
        return due(add_gap(latest.date, config.reply), "reply", latest.channel)
    if summary.latest_out is None:
        return due(prospect.created or today, "new")
    gap = cadence_of(prospect, config).gap(summary.outbound)
    if gap is None:
        return FollowUp(prospect, None, "exhausted", touch)
    reason: Reason = "keep-in-touch" if prospect.status == "won" else "cadence"
    return due(add_gap(summary.latest_out.date, gap), reason, gap.channel, gap.template)


def schedule(prospects: Iterable[Prospect], today: dt.date, config: Config) -> list[FollowUp]:
    """Every prospect's follow-up (exhausted ones included), sorted by date, then name."""
    items = (follow_up(p, today, config) for p in prospects)
    return sorted(
        (f for f in items if f is not None),
        key=lambda f: (f.due or dt.date.max, f.prospect.name.casefold(), f.prospect.id),
    )


def consumed_next(prospect: Prospect) -> bool:
    """A `next` on or before the latest touch: a later touch has answered it (check warns)."""
    latest = prospect.last_touch
    return prospect.next is not None and latest is not None and prospect.next <= latest.date
