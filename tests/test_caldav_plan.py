"""The pure half of `mdfollow caldav`: which tasks to create, update, delete; completions → touches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ical.calendar_stream import IcsCalendarStream

from mdfollow.cli.feed import feed_builder
from mdfollow.core import sync
from mdfollow.core.model import Config, FollowUp
from tests.test_ics import CONFIG, TODAY, config, follow_up, validate


def wanted(follow_ups: list[FollowUp], cfg: Config = CONFIG) -> list[sync.Task]:
    """The tasks cut from the `--todo` feed, as `mdfollow caldav` makes them."""
    build = feed_builder(Path("prospects"), True, None, False, local_zone=None)
    return sync.wanted_tasks(build(follow_ups, TODAY, cfg), follow_ups)


def remote(
    task: sync.Task, *, href: str | None = None, done: bool = False, **changes: object
) -> sync.RemoteTask:
    """The server's copy of `task`, read back as the sync reads it."""
    data = task.body.decode()
    if done:
        data = data.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\nCOMPLETED:20261130T233000Z")
    for name, value in changes.items():
        data = "\r\n".join(
            f"{name}:{value}" if line.startswith(f"{name}:") else line for line in data.split("\r\n")
        )
    read = sync.read_task(href or f"/cal/{task.uid}.ics", '"1"', data)
    assert read is not None
    return read


def test_a_digest_in_the_feed_is_no_follow_up_and_is_not_pushed() -> None:
    assert wanted([follow_up()], config(digest=True)) == []


def test_each_task_is_a_stored_object_without_method_carrying_the_feeds_vtodo() -> None:
    [task] = wanted([follow_up(due="2026-11-20")], CONFIG)
    assert task.uid == "jane-4@mdfollow"
    assert b"METHOD" not in task.body
    [todo] = validate(task.body).todos
    assert str(todo.due) == "2026-11-30"  # overdue: on today
    assert todo.summary == "Call Jane Doe (Acme Corp) — touch #4"
    kept = wanted([follow_up(due="2026-11-20")], config(overdue="keep"))
    assert str(IcsCalendarStream.calendar_from_ics(kept[0].body.decode()).todos[0].due) == "2026-11-20"


def test_a_timed_task_carries_its_zone() -> None:
    cfg = config(time=dt.time(9, 30))
    [task] = wanted([follow_up()], cfg)
    assert b"BEGIN:VTIMEZONE" in task.body and b"TZID:Europe/London" in task.body
    [todo] = validate(task.body).todos
    assert todo.dtstart == dt.datetime(2026, 12, 1, 9, 30, tzinfo=todo.dtstart.tzinfo)


def test_push_plan_creates_updates_deletes_and_leaves_what_matches() -> None:
    bob, cat, jane = wanted([follow_up("jane"), follow_up("bob", name="Bob"), follow_up("cat", name="Cat")])
    [old_dan] = wanted([follow_up("dan", name="Dan")], CONFIG)
    server = [remote(jane), remote(bob, SUMMARY="Call Bob (edited on the phone)"), remote(old_dan)]
    plan = sync.push_plan(server, [jane, bob, cat])
    assert [t.uid for t in plan.create] == ["cat-4@mdfollow"]
    assert [(r.uid, t.uid) for r, t in plan.update] == [("bob-4@mdfollow", "bob-4@mdfollow")]
    assert [r.uid for r in plan.delete] == ["dan-4@mdfollow"]
    assert plan.unchanged == 1 and plan.writes == 3


def test_a_completed_task_still_wanted_is_rewritten_unless_held() -> None:
    [jane] = wanted([follow_up()], CONFIG)
    done = remote(jane, done=True)
    assert [t.uid for _, t in sync.push_plan([done], [jane]).update] == ["jane-4@mdfollow"]
    held = sync.push_plan([done], [jane], held={"jane-4@mdfollow"})
    assert held.writes == 0


def test_a_second_copy_of_one_uid_is_deleted() -> None:
    [jane] = wanted([follow_up()], CONFIG)
    plan = sync.push_plan([remote(jane, href="/a.ics"), remote(jane, href="/b.ics")], [jane])
    assert [r.href for r in plan.delete] == ["/b.ics"] and plan.unchanged == 1


def test_a_completion_is_dated_in_the_calendars_zone_with_the_suggested_channel() -> None:
    wanted_one = follow_up(channel="email")
    [jane] = wanted([wanted_one])
    [done] = sync.completions([remote(jane, done=True)], {jane.uid: wanted_one}, TODAY, "Europe/Berlin")
    assert (done.date, done.time, done.channel) == (dt.date(2026, 12, 1), dt.time(0, 30), "email")
    [utc] = sync.completions([remote(jane, done=True)], {jane.uid: wanted_one}, TODAY, "UTC")
    assert (utc.date, utc.time) == (dt.date(2026, 11, 30), dt.time(23, 30))


def test_no_suggested_channel_is_a_call_and_no_completed_time_is_today() -> None:
    wanted_one = follow_up(channel=None, reason="next")
    [jane] = wanted([wanted_one])
    data = jane.body.decode().replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED")
    task = sync.read_task("/x.ics", None, data)
    assert task is not None
    [done] = sync.completions([task], {jane.uid: wanted_one}, TODAY, "Europe/London")
    assert (done.date, done.time, done.channel) == (TODAY, None, "call")


def test_a_completion_the_log_has_passed_logs_nothing() -> None:
    [jane] = wanted([follow_up()], CONFIG)
    passed = follow_up(number=5)
    assert sync.completions([remote(jane, done=True)], {"jane-5@mdfollow": passed}, TODAY, None) == []
    assert sync.completions([remote(jane)], {jane.uid: follow_up()}, TODAY, None) == []


@pytest.mark.parametrize(
    "data",
    [
        "this is not iCalendar at all",
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:x@phone\r\nGARBAGE\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:lunch@mdfollow.example\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:jane-4@mdfollow\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ],
)
def test_someone_elses_objects_are_not_ours(data: str) -> None:
    assert sync.read_task("/x.ics", None, data) is None


def test_an_unreadable_object_of_ours_names_its_href_and_its_uid() -> None:
    data = (
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:jane-4@mdfollow\r\nDUE:soon\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(sync.BadItem) as raised:
        sync.read_task("/cal/odd.ics", None, data)
    assert str(raised.value).startswith("/cal/odd.ics: not a readable calendar object")
    assert raised.value.uid == "jane-4@mdfollow"


def test_fields_compare_equal_across_zone_spellings() -> None:
    cfg: Config = config(time=dt.time(9, 0))
    [task] = wanted([follow_up()], cfg)
    data = task.body.decode()
    zone = data[data.index("DTSTART;") : data.index("\r\n", data.index("DTSTART;"))]
    in_utc = data.replace(zone, "DTSTART:20261201T090000Z")  # Europe/London is UTC in winter
    read = sync.read_task("/x.ics", None, in_utc)
    assert read is not None and read.fields == task.fields()
