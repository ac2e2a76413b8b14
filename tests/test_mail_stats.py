"""`stats` reply_hours: the median hours from an inbound touch to the next outbound one (SPEC §8)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mdfollow.core.model import Touch
from mdfollow.core.stats import replies
from tests.conftest import RunCli, WriteFile


def touch(line: int, when: str, direction: str = "out") -> Touch:
    day, _, clock = when.partition(" ")
    time = dt.time.fromisoformat(clock) if clock else None
    return Touch(dt.date.fromisoformat(day), time, "email", "in" if direction == "in" else "out", "", line)


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ([], []),
        ([("2026-11-02 09:00", "in"), ("2026-11-02 10:30", "out")], [1.5]),
        # the first unanswered inbound touch is what the prospect waited from
        ([("2026-11-02 09:00", "in"), ("2026-11-02 11:00", "in"), ("2026-11-03 09:00", "out")], [24.0]),
        # an untimed touch on either side says nothing about hours
        ([("2026-11-02", "in"), ("2026-11-02 10:30", "out")], []),
        ([("2026-11-02 09:00", "in"), ("2026-11-03", "out")], []),
        # an outbound touch with nothing waiting is not a reply
        ([("2026-11-02 09:00", "out"), ("2026-11-02 09:30", "in"), ("2026-11-02 09:45", "out")], [0.25]),
        # an inbound touch never answered yet
        ([("2026-11-02 09:00", "in")], []),
    ],
)
def test_replies(log: list[tuple[str, str]], expected: list[float]) -> None:
    touches = [touch(number, when, direction) for number, (when, direction) in enumerate(log, 1)]
    assert [hours for _, hours in replies(touches)] == expected


def test_reply_hours_in_stats_json_and_report(write: WriteFile, run: RunCli) -> None:
    empty = json.loads(run("stats", "--json").stdout)
    assert empty["reply_hours"] is None
    assert empty["reference"]["lead_response"] == {"within_hours": 1, "times_as_likely_to_qualify": 7}
    write(
        "jane.md",
        "---\nname: Jane\n---\n## Touches\n- 2026-11-02 09:00 email in: hi\n- 2026-11-02 09:30 email: answer\n"
        "- 2026-11-10 14:00 email in: again\n- 2026-11-11 14:00 call: called back\n",
    )
    write(
        "bob.md",
        "---\nname: Bob\n---\n## Touches\n- 2026-11-20 08:00 call in: rang\n- 2026-11-20 11:00 call: rang back\n",
    )
    data = json.loads(run("stats", "--json").stdout)
    assert (data["reply_hours"], data["replies_timed"]) == (3.0, 3)
    since = json.loads(run("stats", "--json", "--since", "2026-11-10").stdout)
    assert (since["reply_hours"], since["replies_timed"]) == (13.5, 2)
    text = run("stats").stdout
    assert "Reply time: median 3.0 hours over 3 replies (1 within an hour)" in text
    assert '"The Short Life of Online Sales Leads"' in text
    assert "about 7 times as likely to qualify the lead" in text
