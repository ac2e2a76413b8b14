"""The plan (SPEC §7): every follow-up placed on a day, and with slots at a time of day.

§3 says when each prospect is due on its own; the plan is a second step over the
whole folder, because a daily cap makes one follow-up's day depend on all the
others. It is a pure function of (follow-ups, today, config): no clock, no I/O,
and the same input gives the same plan, in the same order.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections import deque
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Literal

from mdfollow.core.model import Config, FollowUp, PlanConfig, Prospect, Touch
from mdfollow.core.schedule import add_days, next_workday

PINNED = frozenset({"next", "revisit", "reply"})
"""Placed on their day even past the cap: the prospect asked for that day, or is waiting for an answer."""
REASON_RANK = {"reply": 0, "next": 1, "revisit": 1, "cadence": 2, "keep-in-touch": 2, "new": 3}
HOURS = 5
"""How many weekly follow-up hours the feed shows ahead."""
REPLY_AFTER = 60
"""Minutes between an inbound touch and a same-day reply's slot."""

SlotWhy = Literal["none", "own", "first", "answered", "rotated", "after-reply", "reply-next-day"]


def order_key(follow_up: FollowUp) -> tuple[int, int, str, str]:
    """Reply, next, cadence and keep-in-touch (lower touch number first), new, then by name."""
    rank = REASON_RANK.get(follow_up.reason, len(REASON_RANK))
    prospect = follow_up.prospect
    return (rank, follow_up.touch if rank == 2 else 0, prospect.name.casefold(), prospect.id)


def first_day(today: dt.date, config: Config) -> dt.date:
    """The plan's first day: today, or the next workday when today is not one."""
    return next_workday(today, config)


def plan(follow_ups: Iterable[FollowUp], today: dt.date, config: Config) -> list[FollowUp]:
    """Every follow-up with its `planned` day (and slot `time`), sorted by that day, then `order_key`.

    Exhausted follow-ups (no due date) follow, unplanned. Without a `[plan]` table
    the follow-ups come back as they are.
    """
    items = list(follow_ups)
    settings = config.plan
    if settings is None:
        return items
    start = first_day(today, config)
    targets = []
    exhausted = []
    for follow_up in items:
        if follow_up.due is None:
            exhausted.append(follow_up)
            continue
        _, day, time, _ = target(follow_up, start, settings, config)
        targets.append((order_key(follow_up), day, follow_up, time))
    # One sort by `order_key`; from then on a follow-up's rank in it is its order.
    targets.sort(key=itemgetter(0))
    by_day: dict[dt.date, list[Entry]] = {}
    for rank, (_, day, follow_up, time) in enumerate(targets):
        by_day.setdefault(day, []).append((rank, follow_up, time))
    placed = _fill(by_day, settings.daily, config) if settings.daily else _as_they_are(by_day)
    placed.sort(key=itemgetter(0, 1))
    planned = [dataclasses.replace(f, planned=day, time=time) for day, _, f, time in placed]
    return planned + exhausted


Entry = tuple[int, FollowUp, dt.time | None]
"""A follow-up waiting for its day: its rank in `order_key` order, itself, its time."""
Placed = tuple[dt.date, int, FollowUp, dt.time | None]


def _as_they_are(by_day: dict[dt.date, list[Entry]]) -> list[Placed]:
    return [(day, *entry) for day, entries in by_day.items() for entry in entries]


def _fill(by_day: dict[dt.date, list[Entry]], daily: int, config: Config) -> list[Placed]:
    """At most `daily` a workday: pinned ones on their day, the rest in order, the overflow on.

    Each day's own entries come in rank order; carried-over ones keep theirs, ahead of them.
    """
    days = sorted(by_day)
    placed: list[Placed] = []
    carried: deque[Entry] = deque()
    index = 0
    day = dt.date.min
    while index < len(days) or carried:
        if not carried:
            day = days[index]
        own: list[Entry] = []
        if index < len(days) and days[index] == day:
            own = by_day[day]
            index += 1
        pinned = [entry for entry in own if entry[1].reason in PINNED]
        carried.extend(entry for entry in own if entry[1].reason not in PINNED)
        room = len(carried) if day == dt.date.max else max(daily - len(pinned), 0)
        placed += [(day, *entry) for entry in pinned]
        placed += [(day, *carried.popleft()) for _ in range(min(room, len(carried)))]
        if carried:
            day = next_workday(add_days(day, 1), config)
    return placed


def target(
    follow_up: FollowUp, start: dt.date, settings: PlanConfig, config: Config
) -> tuple[dt.date, dt.date, dt.time | None, SlotWhy]:
    """The earliest day the plan may give a follow-up, and its time.

    Returns (the due date or the plan's first day, whichever is later; that day,
    or the next workday for a same-day reply with no slot left; the time; why that time).
    """
    assert follow_up.due is not None
    # Both are workdays already (§3 rule 6, `first_day`), but for a `config` not the schedule's.
    due = follow_up.due
    base = due if due > start and due.weekday() in config.workdays else next_workday(max(due, start), config)
    prospect = follow_up.prospect
    own_time = prospect.next_time if follow_up.reason in ("next", "revisit") else None
    if own_time is not None:
        return base, base, own_time, "own"
    slots = settings.slots
    if not slots:
        return base, base, None, "none"
    inbound = prospect.touches[-1] if prospect.touches else None
    if follow_up.reason == "reply" and inbound is not None and inbound.direction == "in":
        if inbound.date == base:
            after = _minutes(inbound.time or slots[0]) + REPLY_AFTER
            later = next((slot for slot in slots if _minutes(slot) >= after), None)
            if later is not None:
                return base, base, later, "after-reply"
            return base, next_workday(add_days(base, 1), config), slots[0], "reply-next-day"
        return base, base, slots[0], "first"
    index, why = _rotation(prospect, slots)
    return base, base, slots[index], why


def _rotation(prospect: Prospect, slots: Sequence[dt.time]) -> tuple[int, SlotWhy]:
    """The slot after the one nearest the latest outbound touch, when nothing answered it."""
    touches = prospect.touches
    latest = _latest_outbound(touches)
    if latest is None:
        return 0, "first"
    if latest < len(touches) - 1:
        return 0, "answered"
    return (nearest_slot(touches[latest], slots) + 1) % len(slots), "rotated"


def _latest_outbound(touches: Sequence[Touch]) -> int | None:
    for index in range(len(touches) - 1, -1, -1):
        if touches[index].direction == "out":
            return index
    return None


def nearest_slot(touch: Touch, slots: Sequence[dt.time]) -> int:
    """The slot nearest the touch's time (a tie goes to the earlier slot; untimed = the first)."""
    if touch.time is None:
        return 0
    after = bisect.bisect_left(slots, touch.time)  # slots are sorted and distinct
    if after in (0, len(slots)):
        return min(after, len(slots) - 1)
    minutes = _minutes(touch.time)
    return after - 1 if minutes - _minutes(slots[after - 1]) <= _minutes(slots[after]) - minutes else after


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def weekly_hours(
    planned: Sequence[FollowUp], today: dt.date, config: Config
) -> list[tuple[dt.date, tuple[FollowUp, ...]]]:
    """The next weekly follow-up hours on or after today, each with what is planned until the next one.

    The first also takes everything planned before it. `planned` is `plan`'s output.
    """
    settings = config.plan
    if settings is None or settings.hour is None:
        return []
    weekday = settings.hour[0]
    first = add_days(today, (weekday - today.weekday()) % 7)
    days = [add_days(first, 7 * week) for week in range(HOURS)]
    days = sorted(set(days))  # near the last representable day they run together
    scheduled = [f for f in planned if f.planned is not None]
    starts = [f.planned or dt.date.max for f in scheduled]
    hours = []
    for number, day in enumerate(days):
        low = 0 if number == 0 else bisect.bisect_left(starts, day)
        end = add_days(day, 7)
        high = len(starts) if end == dt.date.max else bisect.bisect_left(starts, end)
        hours.append((day, tuple(scheduled[low:high])))
    return hours


def moved(follow_up: FollowUp, today: dt.date, config: Config) -> bool:
    """Whether the plan put the follow-up later than it could go: past its due date (or, when
    overdue, past the plan's first day, where every overdue follow-up belongs)."""
    if follow_up.planned is None or follow_up.due is None:
        return False
    return follow_up.planned > max(follow_up.due, first_day(today, config))


def explain(follow_up: FollowUp, planned: Sequence[FollowUp], today: dt.date, config: Config) -> str | None:
    """One line on where the plan put a follow-up and why ("due Mon, planned Wed: Monday and
    Tuesday are full (15 a day)"); `planned` is the whole plan, `follow_up` one of it."""
    settings = config.plan
    if settings is None or follow_up.planned is None or follow_up.due is None:
        return None
    base, earliest, time, why = target(follow_up, first_day(today, config), settings, config)
    when = _day(follow_up.planned, today) + (f" {follow_up.time:%H:%M}" if follow_up.time else "")
    slot = _slot_phrase(follow_up.prospect, settings, time, why)
    if follow_up.planned > earliest:
        full = sorted({f.planned for f in planned if f.planned and earliest <= f.planned < follow_up.planned})
        reason = f"{_days(full, today)} {'is' if len(full) == 1 else 'are'} full ({settings.daily} a day)"
    elif earliest > base:
        inbound = follow_up.prospect.touches[-1]
        at = f" at {inbound.time:%H:%M}" if inbound.time else ""
        reason = (
            f"no slot is left on {_day(base, today, long=True)} an hour after their {inbound.channel}{at}"
        )
    else:
        if follow_up.due < follow_up.planned:
            when += f" (overdue since {_day(follow_up.due, today)})"
        return f"next: {when}, {slot}" if slot else f"next: {when}"
    text = f"due {_day(follow_up.due, today)}, planned {when}: {reason}"
    return f"{text}; {slot}" if slot else text


_WORDS = ("", "", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NOUNS = {
    "call": "call",
    "email": "email",
    "text": "text",
    "linkedin": "LinkedIn message",
    "letter": "letter",
}


def _slot_phrase(prospect: Prospect, settings: PlanConfig, time: dt.time | None, why: SlotWhy) -> str:
    if why == "none" or time is None:
        return ""
    if why == "own":
        return "the time set in next"
    if why == "first":
        return "the first slot" + (", for a first attempt" if not prospect.outbound else "")
    if why == "answered":
        return "the first slot: they answered the last attempt"
    if why == "reply-next-day":
        return "the first slot"
    if why == "after-reply":
        inbound = prospect.touches[-1]
        at = f"at {inbound.time:%H:%M}" if inbound.time else "(no time: taken as the first slot)"
        return f"the first slot an hour after their {inbound.channel} {at}"
    chosen = settings.slots.index(time)
    recent: list[Touch] = []
    for touch in reversed(prospect.touches):
        if touch.direction == "in" or nearest_slot(touch, settings.slots) == chosen:
            break
        recent.append(touch)
    if not recent:
        return "the only slot"
    channels = {t.channel for t in recent}
    noun = _NOUNS.get(next(iter(channels)), "attempt") if len(channels) == 1 else "attempt"
    if len(recent) == 1:
        return f"a different time than the last {noun}"
    count = _WORDS[len(recent)] if len(recent) < len(_WORDS) else str(len(recent))
    return f"a different time than the last {count} {noun}s"


def _day(day: dt.date, today: dt.date, *, long: bool = False) -> str:
    """`Thu` within the coming week, `Thu 2026-12-17` further off (or in the past)."""
    name = day.strftime("%A" if long else "%a")
    return name if today <= day < add_days(today, 7) else f"{name} {day.isoformat()}"


def _days(days: Sequence[dt.date], today: dt.date) -> str:
    """`Monday`, `Monday and Tuesday`, `Monday, Tuesday and Wednesday`, or `the 12 workdays from …`."""
    names = [_day(day, today, long=True) for day in days]
    if len(names) > 3:
        return f"the {len(names)} workdays from {names[0]} to {names[-1]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def marker(follow_up: FollowUp, today: dt.date, config: Config) -> str:
    """The `due` table's note on a planned row: `3d late`, `today`, `moved`, or `3d late, moved`."""
    late = follow_up.overdue_days(today)
    parts = [f"{late}d late"] if late else ["today"] if follow_up.planned == today else []
    if moved(follow_up, today, config):
        parts.append("moved")
    return ", ".join(parts)


def plan_days(today: dt.date, horizon: dt.date, config: Config) -> list[dt.date]:
    """The workdays from the plan's first day up to `horizon`: the days `due --days N` heads."""
    days = []
    day = first_day(today, config)
    while day <= horizon and day < dt.date.max:
        days.append(day)
        day = next_workday(add_days(day, 1), config)
    return days


def plan_one(
    prospect: Prospect, follow_ups: Iterable[FollowUp], today: dt.date, config: Config
) -> tuple[FollowUp | None, str | None]:
    """One prospect's planned follow-up within the whole plan, and the line that explains it."""
    planned = plan(follow_ups, today, config)
    mine = next((f for f in planned if f.prospect.path == prospect.path), None)
    return mine, explain(mine, planned, today, config) if mine else None
