"""`mdfollow stats`: the SPEC §4 figures, their definitions, `--since`, and the text report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from mdfollow.core.config import DEFAULT_CONFIG
from mdfollow.core.model import Prospect, Touch
from mdfollow.core.stats import bar, compute_stats, days_late_of, stop_bucket, touch_bucket
from mdfollow.store.folder import load_folder
from tests.conftest import RunCli, WriteFile

SPEC_KEYS = {"by_status", "touches_made", "won_at_touch", "dropped_early", "channels", "overdue"}
ALL_KEYS = SPEC_KEYS | {
    "today",
    "since",
    "prospects",
    "dropped",
    "dropped_early_share",
    "stopped_after",
    "replies_per_touch",
    "median_days_late",
    "days_late_measured",
    "reply_hours",
    "replies_timed",
    "exhausted",
    "reference",
}
TOUCH_KEYS = ["0", "1", "2", "3", "4", "5-12", "13+"]


def touches(*lines: str) -> str:
    return "## Touches\n" + "".join(f"- {line}\n" for line in lines)


def prospect_file(front: str, *log: str) -> str:
    return f"---\n{front.strip()}\n---\n# Title\n\n{touches(*log)}"


@pytest.fixture
def sample(write: WriteFile) -> None:
    """Four prospects: an active one mid-cadence, a win at touch 5, an early loss, a dnc."""
    write(
        "jane.md",
        prospect_file(
            "name: Jane Doe\ncreated: 2026-10-01",
            "2026-10-01 meeting: met at the stand",
            "2026-10-05 email: sent the quote",
            "2026-10-06 email in: thanks, will read",
            "2026-10-09 call: no answer",
            "2026-10-09 note: not a touch",
        ),
    )
    write(
        "bob.md",
        prospect_file(
            "name: Bob Won\nstatus: won\nclosed: 2026-11-01\ncreated: 2026-09-01",
            "2026-09-01 email: intro",
            "2026-09-10 call: follow-up",
            "2026-09-20 email: case study",
            "2026-10-01 call: check in",
            "2026-10-20 email: offer",
            "2026-11-01 call in: yes please",
            "2026-11-10 email: thank you",
        ),
    )
    write(
        "carl.md",
        prospect_file(
            "name: Carl Lost\nstatus: lost\nclosed: 2026-10-10",
            "2026-10-01 email: intro",
            "2026-10-08 call: follow-up",
        ),
    )
    write("dora.md", prospect_file("name: Dora Nope\nstatus: dnc", "2026-10-02 text: hello"))


@pytest.mark.usefixtures("sample")
def test_json_has_the_spec_keys_and_figures(run: RunCli) -> None:
    result = run("stats", "--json")
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    assert set(data) == ALL_KEYS
    assert data["by_status"] == {"active": 1, "won": 1, "lost": 1, "dnc": 1}
    assert list(data["touches_made"]) == TOUCH_KEYS
    assert data["touches_made"] == {"0": 0, "1": 0, "2": 0, "3": 1, "4": 0, "5-12": 0, "13+": 0}
    # Bob's thank-you email after closing does not count: 5 outbound touches on or before `closed`.
    assert data["won_at_touch"] == {"0": 0, "1": 0, "2": 0, "3": 0, "4": 0, "5-12": 1, "13+": 0}
    assert data["dropped_early"] == 1
    assert data["stopped_after"] == {"0-1": 0, "2": 1, "3": 0, "4+": 0}
    assert data["channels"] == {
        "call": {"out": 4, "in": 1},
        "email": {"out": 6, "in": 1},
        "meeting": {"out": 1, "in": 0},
        "text": {"out": 1, "in": 0},
    }
    assert "note" not in data["channels"]
    # Jane's quote email and Bob's offer were answered; no call was.
    assert data["replies_per_touch"] == {"call": 0.0, "email": round(2 / 6, 3), "meeting": 0.0, "text": 0.0}
    assert data["overdue"] == 1  # Jane; Bob keeps in touch in February, Carl and Dora never
    assert data["exhausted"] == 0
    assert data["reference"]["won_at_touch"]["5-12"] == 0.8
    assert data["reference"]["stopped_after"] == {"0-1": 0.48, "2": 0.25, "3": 0.12, "4+": 0.1}


def test_empty_folder_gives_zeros_not_errors(run: RunCli) -> None:
    data = json.loads(run("stats", "--json").stdout)
    assert data["by_status"] == {"active": 0, "won": 0, "lost": 0, "dnc": 0}
    assert data["channels"] == {}
    assert (data["median_days_late"], data["dropped_early_share"], data["overdue"]) == (None, None, 0)
    text = run("stats")
    assert text.exit_code == 0, text
    assert "Channels: no touches" in text.stdout


@pytest.mark.usefixtures("sample")
def test_since_limits_touch_counts_and_outcomes_not_snapshots(run: RunCli) -> None:
    data = json.loads(run("stats", "--json", "--since", "2026-10-15").stdout)
    assert data["since"] == "2026-10-15"
    assert data["channels"] == {"call": {"out": 0, "in": 1}, "email": {"out": 2, "in": 0}}
    assert data["won_at_touch"]["5-12"] == 1  # closed 2026-11-01: in the period, at its full touch number
    assert data["dropped_early"] == 0  # Carl closed 2026-10-10: before the period
    assert data["touches_made"]["3"] == 1  # a snapshot of today
    assert data["by_status"]["lost"] == 1


def test_bad_since_is_a_usage_error(run: RunCli) -> None:
    result = run("stats", "--since", "last week")
    assert result.exit_code == 2
    assert "not a date" in result.stderr


def test_exhausted_prospects_count_as_dropped(write: WriteFile, run: RunCli) -> None:
    write("mdfollow.toml", '[cadences.short]\ngaps = ["2d"]\nthen = "stop"\n')
    write(
        "eve.md",
        prospect_file(
            "name: Eve Gone\ncadence: short",
            "2026-11-02 email: one",
            "2026-11-04 email: two",
        ),
    )
    data = json.loads(run("stats", "--json").stdout)
    assert (data["exhausted"], data["dropped_early"], data["dropped"]) == (1, 1, 1)
    assert data["stopped_after"]["2"] == 1
    assert data["dropped_early_share"] == 1.0


def test_text_report_shows_bars_and_the_often_quoted_figures(write: WriteFile, run: RunCli) -> None:
    write("ann.md", prospect_file("name: Ann\nstatus: won\nclosed: 2026-11-02", "2026-11-02 call: deal"))
    result = run("stats")
    assert result.exit_code == 0, result
    won = result.stdout.split("Won, by outbound touches made before closing (1)\n")[1]
    first_row = won.splitlines()[2]
    assert first_row.split()[:4] == ["1", "█" * 24, "1", "100%"]
    assert first_row.split()[-1] == "2%"
    assert "48%" in result.stdout and "80%" in result.stdout
    assert "often quoted*" in won.splitlines()[0] and "literature" not in result.stdout
    assert result.stdout.rstrip().endswith(
        "often-quoted sales figures with no traceable source: a yardstick, not a measurement"
    )
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize(
    ("count", "bucket", "stop"),
    [(0, "0", "0-1"), (1, "1", "0-1"), (3, "3", "3"), (4, "4", "4+"), (12, "5-12", "4+"), (13, "13+", "4+")],
)
def test_buckets(count: int, bucket: str, stop: str) -> None:
    assert (touch_bucket(count), stop_bucket(count)) == (bucket, stop)


def test_bar_lengths() -> None:
    assert bar(1, 1, 8) == "█" * 8
    assert bar(1, 16, 8) == "▌"
    assert bar(0, 5) == ""
    assert bar(1, 10_000, 8) == "▏"  # anything above zero stays visible


def _prospect(
    *log: tuple[str, str, str], created: dt.date | None = None, next: dt.date | None = None
) -> Prospect:
    entries = tuple(
        Touch(dt.date.fromisoformat(day), None, channel, "in" if direction == "in" else "out", "", line)
        for line, (day, channel, direction) in enumerate(log, start=10)
    )
    return Prospect(id="p", path=Path("p.md"), name="P", touches=entries, created=created, next=next)


CONFIG = DEFAULT_CONFIG


@pytest.mark.parametrize(
    ("prospect", "index", "expected"),
    [
        # created Mon 2 Nov, first touch Thu 5 Nov: 3 days late
        (_prospect(("2026-11-05", "email", "out"), created=dt.date(2026, 11, 2)), 0, 3),
        # no `created`: a first touch was never scheduled
        (_prospect(("2026-11-05", "email", "out")), 0, None),
        # default cadence gap 1 is 2d: Mon 2 → Wed 4; made Fri 6 → 2 days late
        (_prospect(("2026-11-02", "email", "out"), ("2026-11-06", "call", "out")), 1, 2),
        # early is on time
        (_prospect(("2026-11-02", "email", "out"), ("2026-11-03", "call", "out")), 1, 0),
        # an inbound reply is due the next workday: in Tue 3 → due Wed 4, answered Mon 9 → 5 late
        (
            _prospect(
                ("2026-11-02", "email", "out"), ("2026-11-03", "email", "in"), ("2026-11-09", "call", "out")
            ),
            2,
            5,
        ),
        # the `next` this touch consumed is its due date: next Thu 12, made Mon 16 → 4 late
        (
            _prospect(
                ("2026-11-02", "email", "out"), ("2026-11-16", "call", "out"), next=dt.date(2026, 11, 12)
            ),
            1,
            4,
        ),
        # a `next` still in the future says nothing about past touches: cadence again
        (
            _prospect(
                ("2026-11-02", "email", "out"), ("2026-11-06", "call", "out"), next=dt.date(2026, 12, 20)
            ),
            1,
            2,
        ),
    ],
)
def test_days_late(prospect: Prospect, index: int, expected: int | None) -> None:
    assert days_late_of(prospect, index, CONFIG) == expected


def test_median_days_late_over_the_folder(write: WriteFile, folder: Path) -> None:
    write(
        "a.md",
        prospect_file(
            "name: A\ncreated: 2026-11-02",
            "2026-11-02 email: on time",
            "2026-11-06 call: 2 days late",
            "2026-11-20 email: cadence gap 4d from Fri 6 is Tue 10 → 10 days late",
        ),
    )
    figures = compute_stats(load_folder(folder).prospects, dt.date(2026, 11, 30), CONFIG)
    assert figures.days_late == (0, 2, 10)
    assert figures.median_days_late == 2.0


def test_a_reopened_prospect_counts_every_touch(write: WriteFile, run: RunCli) -> None:
    touches = "".join(f"- 2026-11-0{day} call: x\n" for day in range(1, 7))
    write("re.md", f"---\nname: Re\nstatus: active\nclosed: 2026-11-01\n---\n## Touches\n{touches}")
    figures = json.loads(run("stats", "--json").stdout)
    assert figures["touches_made"]["5-12"] == 1 and figures["touches_made"]["1"] == 0


def test_stats_is_linear_in_the_touches_of_one_prospect(
    write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lateness schedules the prospect as it stood before each touch: re-reading the whole
    log each time made 100,000 touches take minutes. Count the touches the scheduler reads."""
    import time

    from mdfollow.core import schedule

    count = 50_000
    start = dt.date(1950, 1, 1)
    items = [
        f"- {start + dt.timedelta(days=i // 2)} {'email in' if i % 7 == 3 else 'call'}: try {i}"
        for i in range(count)
    ]
    write("big.md", "---\nname: Big\ncreated: 1950-01-01\n---\n## Touches\n" + "\n".join(items) + "\n")
    read = []
    real = schedule.LogSummary.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[schedule.LogSummary], touches: Sequence[Touch]) -> schedule.LogSummary:
        read.append(len(touches))
        return real(cls, touches)  # type: ignore[no-any-return]

    monkeypatch.setattr(schedule.LogSummary, "of", classmethod(counting))
    began = time.perf_counter()
    result = run("stats", "--json")
    elapsed = time.perf_counter() - began
    figures = json.loads(result.stdout)
    assert figures["days_late_measured"] == count - count // 7 - (1 if count % 7 > 3 else 0)
    assert sum(read) <= 2 * count, f"the scheduler read {sum(read)} touches for a log of {count}"
    assert elapsed < 20, f"stats took {elapsed:.1f} s for {count} touches"
