"""SPEC §7, the planner: one row per rule (slots, the daily cap, the order within a day)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdfollow.core import plan
from mdfollow.core.config import DEFAULT_TOML, ConfigError, parse_config
from mdfollow.core.model import Config, FollowUp, PlanConfig, Prospect
from mdfollow.core.parse import parse_prospect
from mdfollow.core.schedule import schedule

D = dt.date.fromisoformat
MON = "2026-11-30"
SLOTS = 'slots = ["09:30", "13:00", "16:30"]'


def config(plan_table: str, extra: str = "") -> Config:
    parsed, problems = parse_config(Path("mdfollow.toml"), f"{extra}\n[plan]\n{plan_table}\n")
    assert problems == []
    return parsed


def card(name: str, *log: str, **front: str) -> Prospect:
    """A prospect parsed from real file text; `log` items read '2026-11-26 13:10 call'."""
    lines = [
        "---",
        f"name: {name}",
        *(f"{key}: {value}" for key, value in front.items()),
        "---",
        "## Touches",
    ]
    lines += [f"- {item}: note" for item in log]
    slug = name.lower().replace(" ", "-")
    prospect, problems = parse_prospect(Path(f"{slug}.md"), "\n".join(lines).encode())
    assert prospect is not None and not problems, problems
    return prospect


def planned(prospects: list[Prospect], cfg: Config, today: str = MON) -> dict[str, str]:
    """name → 'YYYY-MM-DD HH:MM' (or just the day) as the plan gives it."""
    result = plan.plan(schedule(prospects, D(today), cfg), D(today), cfg)
    return {
        f.prospect.name: f"{f.planned}" + (f" {f.time:%H:%M}" if f.time else "") for f in result if f.planned
    }


def cards(count: int, **front: str) -> list[Prospect]:
    return [card(f"Card {index:02d}", **front) for index in range(1, count + 1)]


SLOT_ROWS = [
    # (rule, extra config, prospects, today, expected {name: planned})
    ("first attempt takes the first slot", "", [card("Ann", created=MON)], MON, {"Ann": f"{MON} 09:30"}),
    (
        "after an unanswered touch near 09:30, the next slot",
        "",
        [card("Ann", "2026-11-26 09:40 email")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "near the last slot it wraps around to the first",
        "",
        [card("Ann", "2026-11-26 16:10 call")],
        MON,
        {"Ann": f"{MON} 09:30"},
    ),
    (
        "a tie between two slots goes to the earlier one",
        "",
        [card("Ann", "2026-11-26 11:15 call")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "an untimed touch counts as the first slot",
        "",
        [card("Ann", "2026-11-26 call")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "the latest outbound touch decides, not an earlier one",
        "",
        [card("Ann", "2026-11-20 09:40 call", "2026-11-26 16:20 call")],
        MON,
        {"Ann": f"{MON} 09:30"},
    ),
    (
        "an answered touch starts again at the first slot",
        "",
        [card("Ann", "2026-11-20 16:20 call", "2026-11-21 email in", next="2026-12-01")],
        MON,
        {"Ann": "2026-12-01 09:30"},
    ),
    (
        "a next with a time keeps its own time",
        "",
        [card("Ann", "2026-11-26 09:40 call", next="2026-12-02 15:10")],
        MON,
        {"Ann": "2026-12-02 15:10"},
    ),
    (
        "a reply on a later day takes the first slot",
        "",
        [card("Ann", "2026-11-26 09:40 call", "2026-11-27 16:50 email in")],
        MON,
        {"Ann": f"{MON} 09:30"},
    ),
    (
        "a same-day reply takes the first slot an hour after the inbound touch",
        'reply = "0d"',
        [card("Ann", "2026-11-30 11:40 email in")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "exactly an hour later is soon enough",
        'reply = "0d"',
        [card("Ann", "2026-11-30 12:00 call in")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "an untimed inbound touch counts as the first slot",
        'reply = "0d"',
        [card("Ann", "2026-11-30 email in")],
        MON,
        {"Ann": f"{MON} 13:00"},
    ),
    (
        "no slot left that day: the first slot of the next workday, across a weekend",
        'reply = "0d"',
        [card("Ann", "2026-12-04 15:45 email in")],
        "2026-12-04",
        {"Ann": "2026-12-07 09:30"},
    ),
]


@pytest.mark.parametrize(
    ("rule", "extra", "prospects", "today", "expected"), SLOT_ROWS, ids=[r[0] for r in SLOT_ROWS]
)
def test_time_slots(
    rule: str, extra: str, prospects: list[Prospect], today: str, expected: dict[str, str]
) -> None:
    assert planned(prospects, config(SLOTS, extra), today) == expected


THU, FRI, NEXT_MON = "2026-12-03", "2026-12-04", "2026-12-07"
TUE, WED = "2026-12-01", "2026-12-02"

CAP_ROWS = [
    (
        "at most N a day, the rest overflow to the next workday",
        2,
        cards(5, created=MON),
        MON,
        {"Card 01": MON, "Card 02": MON, "Card 03": TUE, "Card 04": TUE, "Card 05": WED},
    ),
    (
        "next and replies are pinned past the cap",
        2,
        [
            card("Ann", next=MON),
            card("Bob", next=MON),
            card("Cat", "2026-11-27 call in"),
            *cards(1, created=MON),
        ],
        MON,
        {"Ann": MON, "Bob": MON, "Cat": MON, "Card 01": TUE},
    ),
    (
        "pinned ones count against the cap",
        2,
        [card("Ann", next=MON), *cards(2, created=MON)],
        MON,
        {"Ann": MON, "Card 01": MON, "Card 02": TUE},
    ),
    (
        "overflow skips the weekend",
        2,
        cards(5, created=THU),
        THU,
        {"Card 01": THU, "Card 02": THU, "Card 03": FRI, "Card 04": FRI, "Card 05": NEXT_MON},
    ),
    (
        "overdue follow-ups count as due today",
        2,
        [card("Old", created="2026-11-02"), card("Older", created="2026-10-01"), *cards(1, created=MON)],
        MON,
        {"Card 01": MON, "Old": MON, "Older": TUE},
    ),
    (
        "on a weekend the plan starts on the next workday",
        1,
        [card("Old", created="2026-11-02"), card("Older", created="2026-10-01")],
        "2026-12-05",
        {"Old": NEXT_MON, "Older": "2026-12-08"},
    ),
    (
        "nothing is placed earlier than its due date",
        3,
        [card("Ann", created=WED)],
        MON,
        {"Ann": WED},
    ),
    (
        "within a day: cadence and keep-in-touch by touch number, then new, then name",
        2,
        [
            card("Zed", created=MON),
            card("Yan", *[f"2026-11-{day} call" for day in ("02", "04", "08", "15")], cadence="weekly"),
            card("Xia", "2026-11-23 call", cadence="weekly"),
            card("Wim", "2026-11-09 call", "2026-11-20 call", status="won", cadence="weekly"),
        ],
        MON,
        {"Xia": MON, "Wim": MON, "Yan": TUE, "Zed": TUE},
    ),
    (
        "carried-over ones come first on the next day, in their order",
        1,
        [*cards(2, created=MON), card("Ann", "2026-11-24 call", cadence="weekly")],
        MON,
        {"Card 01": MON, "Card 02": TUE, "Ann": WED},
    ),
    ("daily = 0 is no cap", 0, cards(4, created=MON), MON, {f"Card 0{i}": MON for i in range(1, 5)}),
]


@pytest.mark.parametrize(
    ("rule", "daily", "prospects", "today", "expected"), CAP_ROWS, ids=[r[0] for r in CAP_ROWS]
)
def test_daily_cap(
    rule: str, daily: int, prospects: list[Prospect], today: str, expected: dict[str, str]
) -> None:
    cfg = config(f"daily = {daily}", '[cadences.weekly]\ngaps = ["1w"]')
    assert planned(prospects, cfg, today) == expected


def test_the_cap_and_slots_together() -> None:
    prospects = [*cards(3, created=MON), card("Ann", "2026-11-26 09:40 call")]
    assert planned(prospects, config(f"{SLOTS}\ndaily = 2")) == {
        "Ann": f"{MON} 13:00",
        "Card 01": f"{MON} 09:30",
        "Card 02": f"{TUE} 09:30",
        "Card 03": f"{TUE} 09:30",
    }


def test_due_order_is_planned_day_then_reason_not_carry_order() -> None:
    cfg = config("daily = 2", '[cadences.weekly]\ngaps = ["1w"]')
    prospects = [
        *cards(2, created=MON),
        card("Ann", "2026-11-24 call", cadence="weekly"),
        card("Bob", "2026-11-27 call in"),
    ]
    result = plan.plan(schedule(prospects, D(MON), cfg), D(MON), cfg)
    assert [(f.prospect.name, str(f.planned)) for f in result] == [
        ("Bob", MON),  # a reply, pinned
        ("Card 01", MON),
        ("Ann", TUE),  # cadence before new within the day, though Card 02 was carried over
        ("Card 02", TUE),
    ]


def test_the_plan_is_deterministic_whatever_the_input_order() -> None:
    cfg = config(f"{SLOTS}\ndaily = 4", '[cadences.weekly]\ngaps = ["1w"]')
    prospects = [
        *cards(9, created="2026-11-20"),
        *(card(f"Rep {i}", f"2026-11-2{i} 1{i}:05 call") for i in range(1, 7)),
        card("Ann", next="2026-12-01 10:00"),
    ]
    follow_ups = schedule(prospects, D(MON), cfg)
    first = plan.plan(follow_ups, D(MON), cfg)
    for seed in range(5):
        shuffled = follow_ups[:]
        random.Random(seed).shuffle(shuffled)
        assert plan.plan(shuffled, D(MON), cfg) == first


def test_without_a_plan_table_the_follow_ups_are_untouched() -> None:
    cfg, _ = parse_config(Path("mdfollow.toml"), "")
    follow_ups = schedule(cards(3, created=MON), D(MON), cfg)
    assert cfg.plan is None
    assert plan.plan(follow_ups, D(MON), cfg) == follow_ups
    assert all(f.planned is None for f in follow_ups)


def test_exhausted_follow_ups_stay_unplanned_at_the_end() -> None:
    cfg = config("daily = 1", '[cadences.once]\ngaps = []\nthen = "stop"')
    prospects = [card("Ann", "2026-11-02 call", cadence="once"), *cards(1, created=MON)]
    result = plan.plan(schedule(prospects, D(MON), cfg), D(MON), cfg)
    assert [(f.prospect.name, f.planned, f.reason) for f in result] == [
        ("Card 01", D(MON), "new"),
        ("Ann", None, "exhausted"),
    ]


def plan_of(
    prospects: list[Prospect], cfg: Config, name: str, today: str = MON
) -> tuple[FollowUp | None, str | None]:
    target = next(p for p in prospects if p.name == name)
    return plan.plan_one(target, schedule(prospects, D(today), cfg), D(today), cfg)


def test_explain_a_move_by_the_cap() -> None:
    prospects = cards(31, created=MON)
    _, line = plan_of(prospects, config("daily = 15"), "Card 31")
    assert line == "due Mon, planned Wed: Monday and Tuesday are full (15 a day)"
    _, line = plan_of(prospects, config("daily = 15"), "Card 01")
    assert line == "next: Mon"


def test_explain_a_rotated_slot() -> None:
    cfg = config(SLOTS, '[cadences.default]\ngaps = ["1w call"]')
    ann = card("Ann", "2026-11-20 16:20 call", "2026-11-26 09:35 call")
    follow_up, line = plan_of([ann], cfg, "Ann")
    assert follow_up is not None and str(follow_up.planned) == THU
    assert line == "next: Thu 13:00, a different time than the last two calls"


def test_explain_a_reply_with_no_slot_left() -> None:
    cfg = config(SLOTS, 'reply = "0d"')
    _, line = plan_of([card("Ann", "2026-11-30 16:00 email in")], cfg, "Ann")
    assert (
        line
        == "due Mon, planned Tue 09:30: no slot is left on Monday an hour after their email at 16:00; the first slot"
    )


def test_explain_an_overdue_one_placed_today() -> None:
    _, line = plan_of([card("Ann", created="2026-11-20")], config(SLOTS), "Ann")
    assert line == "next: Mon 09:30 (overdue since Fri 2026-11-20), the first slot, for a first attempt"


def test_weekly_hours_list_what_is_planned_until_the_next_one() -> None:
    cfg = config('daily = 2\nhour = "wed 16:00"')
    prospects = [*cards(6, created="2026-11-20"), card("Ann", next="2026-12-16")]
    result = plan.plan(schedule(prospects, D(MON), cfg), D(MON), cfg)
    hours = plan.weekly_hours(result, D(MON), cfg)
    assert [(str(day), [f.prospect.name for f in items]) for day, items in hours] == [
        # the first also lists what is planned before it: Monday's and Tuesday's
        ("2026-12-02", ["Card 01", "Card 02", "Card 03", "Card 04", "Card 05", "Card 06"]),
        ("2026-12-09", []),
        ("2026-12-16", ["Ann"]),
        ("2026-12-23", []),
        ("2026-12-30", []),
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('slots = ["9.30"]', "mdfollow.toml:3: plan.slots[0]: '9.30' is not a time"),
        ('slots = ["13:00", "09:30"]', "mdfollow.toml:3: plan.slots[1]: '09:30' is before 13:00"),
        ('slots = ["13:00", "13:00"]', "mdfollow.toml:3: plan.slots[1]: '13:00' is repeated"),
        ("slots = [930]", "mdfollow.toml:3: plan.slots[0]: 930 is not a time"),
        ("daily = -1", "mdfollow.toml:3: plan.daily: -1 is below 0"),
        ("daily = 1.5", "mdfollow.toml:3: plan.daily: expected int, got 1.5"),
        ('daily = "15"', "mdfollow.toml:3: plan.daily: expected int, got '15'"),
        ("daily = true", "mdfollow.toml:3: plan.daily: expected int, got True"),
        ('hour = "fri"', """mdfollow.toml:3: plan.hour: 'fri' is not "DAY HH:MM\""""),
        ('hour = "someday 09:00"', "mdfollow.toml:3: plan.hour: 'someday 09:00' is not"),
        ('hour = "fri 24:00"', "mdfollow.toml:3: plan.hour: 'fri 24:00' is not"),
    ],
)
def test_bad_plan_values_name_the_key_and_its_line(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(Path("mdfollow.toml"), f'workdays = ["mon"]\n[plan]\n{table}\n')
    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message


def test_plan_values_read() -> None:
    cfg = config(f'{SLOTS}\ndaily = 15\nhour = "Friday 9:00"')
    assert cfg.plan == PlanConfig((dt.time(9, 30), dt.time(13), dt.time(16, 30)), 15, (4, dt.time(9)))


def test_the_init_template_has_the_plan_commented_out_one_line_per_key() -> None:
    default, _ = parse_config(Path("mdfollow.toml"), DEFAULT_TOML)
    assert default.plan is None
    block = re.search(r"^# \[plan\]\n((?:# \w+ = .*\n)+)", DEFAULT_TOML, re.MULTILINE)
    assert block is not None
    assert [line.split()[1] for line in block[1].splitlines()] == ["slots", "daily", "hour"]
    enabled, problems = parse_config(
        Path("mdfollow.toml"),
        DEFAULT_TOML.replace("# [plan]", "[plan]")
        .replace("\n# slots", "\nslots")
        .replace("\n# daily", "\ndaily")
        .replace("\n# hour", "\nhour"),
    )
    assert problems == []
    assert enabled.plan == PlanConfig((dt.time(9, 30), dt.time(13), dt.time(16, 30)), 15, (4, dt.time(9)))
    assert dataclasses.replace(enabled, plan=None) == dataclasses.replace(default, path=enabled.path)


@pytest.mark.parametrize(
    ("slots", "extra", "prospect", "line"),
    [
        (SLOTS, "", card("Ann", next="2026-12-02 15:10"), "next: Wed 15:10, the time set in next"),
        (
            SLOTS,
            'reply = "0d"',
            card("Ann", "2026-11-30 11:40 email in"),
            "next: Mon 13:00, the first slot an hour after their email at 11:40",
        ),
        (
            SLOTS,
            "",
            card("Ann", "2026-11-20 16:20 call", "2026-11-21 email in", next="2026-12-01"),
            "next: Tue 09:30, the first slot: they answered the last attempt",
        ),
        (
            SLOTS,
            "",
            card("Ann", "2026-11-24 09:40 email", "2026-11-26 13:00 call"),
            "next: Mon 16:30, a different time than the last two attempts",
        ),
        ('slots = ["10:00"]', "", card("Ann", "2026-11-26 10:00 call"), "next: Mon 10:00, the only slot"),
        ("daily = 5", "", card("Ann", created="2026-12-14"), "next: Mon 2026-12-14"),
    ],
)
def test_explain_the_time(slots: str, extra: str, prospect: Prospect, line: str) -> None:
    assert plan_of([prospect], config(slots, extra), "Ann")[1] == line


FOLDERS = st.lists(
    st.tuples(
        st.integers(-20, 20),  # created, in days from Monday
        st.sampled_from(["", "call", "call in", "email"]),  # the one touch, three days before created
        st.sampled_from(["", "-3", "2", "9"]),  # next, in days from Monday
    ),
    max_size=40,
)


@given(FOLDERS, st.integers(1, 6))
@settings(max_examples=60, deadline=None)
def test_every_plan_keeps_the_cap_the_workdays_and_the_due_dates(
    folder: list[tuple[int, str, str]], daily: int
) -> None:
    monday = D(MON)
    prospects = []
    for index, (created, channel, next_day) in enumerate(folder):
        day = monday + dt.timedelta(days=created)
        log = [f"{day - dt.timedelta(days=3)} {channel}"] if channel else []
        front = {"created": str(day)}
        if next_day:
            front["next"] = str(monday + dt.timedelta(days=int(next_day)))
        prospects.append(card(f"P{index:02d}", *log, **front))
    cfg = config(f"daily = {daily}")
    result = [f for f in plan.plan(schedule(prospects, monday, cfg), monday, cfg) if f.planned]
    per_day: dict[dt.date, list[FollowUp]] = {}
    for f in result:
        assert f.due is not None and f.planned is not None
        assert f.planned >= max(f.due, monday) and f.planned.weekday() < 5
        per_day.setdefault(f.planned, []).append(f)
    for items in per_day.values():  # past the cap only with pinned ones
        assert len(items) <= max(daily, sum(1 for f in items if f.reason in plan.PINNED))
    for f in result:  # moved only past days that were full
        assert f.planned is not None and f.due is not None
        day = max(f.due, monday)
        while day < f.planned:
            if day.weekday() < 5:
                assert len(per_day.get(day, [])) >= daily, (f.prospect.name, day)
            day += dt.timedelta(days=1)
    assert [(f.planned, plan.order_key(f)) for f in result] == sorted(
        (f.planned, plan.order_key(f)) for f in result
    )
