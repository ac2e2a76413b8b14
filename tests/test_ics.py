"""The feed itself (SPEC §5): valid for a strict independent parser, escaped, stable, placed right."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ical.calendar import Calendar as StrictCalendar
from ical.calendar_stream import IcsCalendarStream
from icalendar.parser import Contentline

from mdfollow.core import ics
from mdfollow.core.model import CalendarConfig, Config, FollowUp, Prospect, Reason, Touch

TODAY = dt.date(2026, 11, 30)  # a Monday
CONFIG = Config(cadences={}, calendar=CalendarConfig(timezone="Europe/London"))


def config(**calendar: Any) -> Config:
    return dataclasses.replace(CONFIG, calendar=dataclasses.replace(CONFIG.calendar, **calendar))


def touch(day: str, channel: str = "email", note: str = "", direction: str = "out", line: int = 10) -> Touch:
    return Touch(dt.date.fromisoformat(day), None, channel, direction, note, line)  # type: ignore[arg-type]


def follow_up(
    id: str = "jane",
    due: str | None = "2026-12-01",
    *,
    name: str = "Jane Doe",
    company: str | None = "Acme Corp",
    reason: Reason = "cadence",
    number: int = 4,
    channel: str | None = "call",
    time: dt.time | None = None,
    **fields: Any,
) -> FollowUp:
    prospect = Prospect(id=id, path=Path(f"prospects/{id}.md"), name=name, company=company, **fields)
    day = dt.date.fromisoformat(due) if due else None
    return FollowUp(prospect, day, reason, number, channel, time)


def validate(feed: bytes) -> StrictCalendar:
    """Every check a picky client makes: CRLF only, folded at 75 octets, parses strictly."""
    assert feed.endswith(b"\r\n")
    assert b"\n" not in feed.replace(b"\r\n", b"")
    assert b"\r" not in feed.replace(b"\r\n", b"")
    for line in feed.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # no multi-byte character split by a fold
    return IcsCalendarStream.calendar_from_ics(feed.decode("utf-8"))


def lines(feed: bytes) -> list[str]:
    """The unfolded content lines."""
    return feed.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


ROOT = Path("prospects")


def options(local_zone: str | None = None, **feed: Any) -> ics.FeedOptions:
    return ics.FeedOptions(ROOT, local_zone, **feed)


def build(
    follow_ups: Sequence[FollowUp], cfg: Config = CONFIG, local_zone: str | None = None, **feed: Any
) -> bytes:
    return ics.build_feed(follow_ups, TODAY, cfg, options(local_zone, **feed))


def test_an_all_day_event_carries_everything_needed_to_make_the_contact() -> None:
    item = follow_up(
        emails=("jane@acme.example",),
        phones=("+44 20 7946 0001",),
        tags=("warm", "quote"),
        created=dt.date(2026, 11, 1),
        touches=(
            touch("2026-11-01", "meeting", "met at the stand"),
            touch("2026-11-02", "email", "sent quote #1042"),
            touch("2026-11-09", "call", "no answer"),
            touch("2026-11-10", "email", "busy until December", "in"),
        ),
        notes=(touch("2026-11-11", "note", "prefers mornings", line=20),),
    )
    feed = build([item])
    [event] = validate(feed).events
    assert event.uid == "jane-4@mdfollow"
    assert (event.dtstart, event.dtend) == (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    assert event.summary == "Call Jane Doe (Acme Corp) — touch #4"
    assert event.categories == ["warm", "quote"]
    assert event.description is not None
    assert event.description.splitlines() == [
        "Jane Doe — Acme Corp",
        "Email: jane@acme.example",
        "Phone: +44 20 7946 0001",
        "Why: next touch of the cadence; suggested: call (touch #4)",
        "Last touches:",
        "- 2026-11-09 call: no answer",
        "- 2026-11-10 email in: busy until December",
        "- 2026-11-11 note: prefers mornings",
        "File: jane.md",
    ]
    assert event.dtstamp.date() == dt.date(2026, 11, 11)  # the latest dated change
    assert event.last_modified == event.dtstamp
    [alarm] = event.alarm
    assert (alarm.action, alarm.trigger) == ("DISPLAY", dt.timedelta(hours=9))
    assert "DTSTART;VALUE=DATE:20261201" in lines(feed)
    assert "URL:tel:+442079460001" in lines(feed)  # a call: the phone number is the useful link
    assert "TRANSP:TRANSPARENT" in lines(feed)  # a reminder must not mark the user busy


def test_an_email_follow_up_links_the_address() -> None:
    feed = build([follow_up(channel="email", emails=("jane+sales@acme.example",), phones=("0113 496 0000",))])
    assert "URL:mailto:jane+sales@acme.example" in lines(feed)


def test_calendar_properties_say_what_the_feed_is_and_how_often_to_refresh() -> None:
    feed = build([follow_up()], config(name="Sales; Leeds, UK"))
    text = lines(feed)
    assert text[:3] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mdfollow//mdfollow//EN"]
    for expected in (
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Sales\\; Leeds\\, UK",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ):
        assert expected in text
    assert validate(feed).prodid == "-//mdfollow//mdfollow//EN"


def test_exhausted_follow_ups_are_left_out_and_the_order_is_due_then_name() -> None:
    items = [
        follow_up("zed", "2026-12-01", name="Zed"),
        follow_up("gone", None, reason="exhausted"),
        follow_up("amy", "2026-12-01", name="amy"),
        follow_up("bob", "2026-12-03", name="Bob"),
        follow_up("early", "2026-12-02", name="Early"),
    ]
    uids = [e.uid for e in validate(build(items)).events]
    assert uids == ["amy-4@mdfollow", "zed-4@mdfollow", "early-4@mdfollow", "bob-4@mdfollow"]


def test_overdue_follow_ups_move_onto_today_even_on_a_weekend_unless_kept() -> None:
    sunday = dt.date(2026, 11, 29)
    item = follow_up(due="2026-11-20", touches=(touch("2026-11-10"),))
    [moved] = validate(ics.build_feed([item], sunday, CONFIG, options())).events
    assert moved.dtstart == sunday
    assert moved.dtstamp.date() == sunday  # moved today: changed today
    assert moved.description is not None and "Overdue since 2026-11-20 (9 days)" in moved.description
    [kept] = validate(ics.build_feed([item], sunday, config(overdue="keep"), options())).events
    assert kept.dtstart == dt.date(2026, 11, 20)
    assert kept.dtstamp.date() == dt.date(2026, 11, 10)


def test_a_follow_up_at_the_end_of_time_is_left_out_rather_than_crashing() -> None:
    items = [follow_up("far", "9999-12-31", time=dt.time(23, 55)), follow_up("near", "2026-12-01")]
    assert [e.uid for e in validate(build(items, config(time=dt.time(9, 0)))).events] == ["near-4@mdfollow"]


def test_days_limits_the_feed_to_the_horizon_keeping_overdue_ones() -> None:
    items = [follow_up("late", "2026-11-02"), follow_up("soon", "2026-12-03"), follow_up("far", "2026-12-04")]
    uids = {e.uid for e in validate(build(items, days=3)).events}
    assert uids == {"late-4@mdfollow", "soon-4@mdfollow"}
    assert len(validate(build(items, days=0)).events) == 1
    assert len(validate(build(items)).events) == 3


def test_timed_events_use_the_zone_with_one_vtimezone_covering_summer_and_winter() -> None:
    items = [follow_up("winter", "2026-12-01"), follow_up("summer", "2027-07-01")]
    feed = build(items, config(time=dt.time(9, 30), duration=dt.timedelta(minutes=20), alarm=dt.time(9, 0)))
    calendar = validate(feed)
    winter, summer = calendar.events
    assert isinstance(winter.dtstart, dt.datetime) and isinstance(summer.dtstart, dt.datetime)
    assert winter.dtstart.utcoffset() == dt.timedelta(0)
    assert summer.dtstart.utcoffset() == dt.timedelta(hours=1)
    assert summer.dtstart.replace(tzinfo=None) == dt.datetime(2027, 7, 1, 9, 30)
    assert winter.end - winter.start == dt.timedelta(minutes=20)
    assert winter.alarm[0].trigger == dt.timedelta(minutes=-30)
    assert [tz.tz_id for tz in calendar.timezones] == ["Europe/London"]
    text = lines(feed)
    assert "DTSTART;TZID=Europe/London:20270701T093000" in text
    assert "X-WR-TIMEZONE:Europe/London" in text
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" in text  # one yearly rule, whatever the dates


def test_a_follow_up_with_its_own_time_is_timed_even_in_an_all_day_feed() -> None:
    items = [follow_up("bob", "2026-12-01", time=dt.time(14, 30)), follow_up("amy", "2026-12-02")]
    feed = build(items)
    timed, all_day = validate(feed).events
    assert isinstance(timed.dtstart, dt.datetime)
    assert timed.dtstart.replace(tzinfo=None) == dt.datetime(2026, 12, 1, 14, 30)
    assert timed.alarm[0].trigger == -dt.timedelta(hours=5, minutes=30)  # 09:00 on the day
    assert all_day.dtstart == dt.date(2026, 12, 2)
    assert lines(feed).count("BEGIN:VTIMEZONE") == 1


def test_an_alarm_across_a_dst_change_still_rings_at_the_clock_time() -> None:
    # 2027-03-28: UK clocks go forward at 01:00; 09:00 → 14:00 is 5 hours of wall clock and of real time
    item = follow_up(due="2027-03-28", time=dt.time(14, 0))
    [event] = validate(build([item], config(alarm=dt.time(0, 30)))).events
    assert event.alarm[0].trigger == -dt.timedelta(hours=12, minutes=30)


def test_no_alarm_when_none_is_configured_and_no_zone_for_all_day_feeds() -> None:
    feed = build([follow_up()], config(alarm=None))
    text = lines(feed)
    assert "BEGIN:VALARM" not in text
    assert "BEGIN:VTIMEZONE" not in text


def test_the_local_zone_is_the_one_the_caller_resolved() -> None:
    feed = build([follow_up()], config(timezone="local", time=dt.time(9, 0)), local_zone="Asia/Tokyo")
    assert "DTSTART;TZID=Asia/Tokyo:20261201T090000" in lines(feed)
    validate(feed)
    pinned = build([follow_up()], config(time=dt.time(9, 0)), local_zone="Asia/Tokyo")
    assert "DTSTART;TZID=Europe/London:20261201T090000" in lines(pinned)  # a named zone wins


def test_the_feed_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: the zone comes in as an argument, so $TZ cannot change the bytes."""
    cfg = config(timezone="local", time=dt.time(9, 0))
    monkeypatch.setenv("TZ", "America/New_York")
    first = build([follow_up()], cfg, local_zone="Asia/Tokyo")
    monkeypatch.setenv("TZ", "Europe/Paris")
    assert build([follow_up()], cfg, local_zone="Asia/Tokyo") == first


def test_an_unknown_local_zone_gives_floating_times() -> None:
    feed = build([follow_up()], config(timezone="local", time=dt.time(9, 0)), local_zone=None)
    text = lines(feed)
    assert "DTSTART:20261201T090000" in text
    assert not any(line.startswith(("BEGIN:VTIMEZONE", "X-WR-TIMEZONE")) for line in text)
    [event] = validate(feed).events
    assert event.dtstart == dt.datetime(2026, 12, 1, 9, 0)


def test_todo_gives_tasks_needing_action() -> None:
    items = [follow_up("amy", "2026-12-01"), follow_up("bob", "2026-12-02", time=dt.time(10, 0))]
    feed = build(items, todo=True)
    calendar = validate(feed)
    assert calendar.events == []
    all_day, timed = calendar.todos
    assert (all_day.due, all_day.dtstart) == (dt.date(2026, 12, 1), None)
    assert isinstance(timed.dtstart, dt.datetime) and isinstance(timed.due, dt.datetime)
    assert timed.due - timed.dtstart == dt.timedelta(minutes=15)
    assert lines(feed).count("STATUS:NEEDS-ACTION") == 2
    assert all_day.alarms[0].trigger == dt.timedelta(hours=9)
    assert "TRIGGER;RELATED=END:PT9H" in lines(feed)  # relative to DUE: there is no DTSTART


def test_digest_gives_one_event_a_day_listing_who_is_due() -> None:
    items = [
        follow_up("late", "2026-11-20", name="Late Larry", company=None),
        follow_up("amy", "2026-11-30", name="Amy"),
        follow_up("bob", "2026-12-02", name="Bob", channel="email"),
    ]
    feed = build(items, config(digest=True))
    today, later = validate(feed).events
    assert (today.uid, today.dtstart, today.summary) == ("digest-20261130@mdfollow", TODAY, "Follow-ups (2)")
    assert today.description is not None
    assert today.description.splitlines() == [  # by due date, then name: the overdue one first
        "Call Late Larry — touch #4 — late.md",
        "Call Amy (Acme Corp) — touch #4 — amy.md",
    ]
    assert (later.summary, later.dtstart) == ("Follow-ups (1)", dt.date(2026, 12, 2))
    [todo] = validate(build(items[2:], config(digest=True), todo=True)).todos
    assert todo.summary == "Follow-ups (1)"


def test_any_change_restamps_an_event_on_a_day_from_the_data_or_today_and_there_is_no_sequence() -> None:
    base = follow_up(due="2026-12-01", created=dt.date(2026, 10, 1), touches=(touch("2026-11-03"),))
    variants = [
        base,
        dataclasses.replace(base, channel="email"),  # content changed, placement not
        dataclasses.replace(base, due=dt.date(2026, 12, 2)),  # placed by a changed cadence
        dataclasses.replace(base, due=dt.date(2026, 12, 14), reason="next"),  # snoozed later
        dataclasses.replace(base, due=dt.date(2026, 12, 7), reason="next"),  # then earlier
    ]
    events = [validate(build([item])).events[0] for item in variants]
    assert [e.dtstamp.date() for e in events] == [dt.date(2026, 11, 3)] * 3 + [TODAY] * 2  # `next` is undated
    assert len({e.dtstamp for e in events}) == len(events)
    assert all(e.last_modified == e.dtstamp for e in events)
    assert not any(line.startswith("SEQUENCE") for line in lines(build([base])))
    assert build([base]) == build([base])
    lead = follow_up(due="2026-11-30", reason="new")  # no dates at all: due today, every day
    assert validate(build([lead])).events[0].dtstamp.date() == TODAY


def test_watch_and_serve_rerender_only_the_follow_ups_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from mdfollow.store import feedcache

    rendered: list[str] = []
    real = ics.follow_up_component
    monkeypatch.setattr(
        feedcache, "follow_up_component", lambda f, *a: rendered.append(f.prospect.id) or real(f, *a)
    )
    recent = feedcache.RecentComponents()
    items = [follow_up("amy"), follow_up("bob"), follow_up("cy")]

    def feed(follow_ups: list[FollowUp], today: dt.date = TODAY, **feed_options: Any) -> bytes:
        recent.start()
        return ics.build_feed(follow_ups, today, CONFIG, options(**feed_options), render_follow_up=recent)

    first = feed(items)
    assert rendered == ["amy", "bob", "cy"]
    rendered.clear()
    items[1] = dataclasses.replace(items[1], due=dt.date(2026, 12, 2))  # one prospect changed
    second = feed(items)
    assert rendered == ["bob"]
    assert second == build(items) != first
    rendered.clear()
    feed(items, todo=True)
    assert len(rendered) == 3  # other options: everything again
    rendered.clear()
    feed(items, today=dt.date(2026, 12, 1))
    assert len(rendered) == 3


def test_a_literal_backslash_n_stays_two_characters() -> None:
    # icalendar 7.3's own escaping turns `\N` into a line break; ours must not.
    note = r"C:\New folder\N and \n, \\ done"
    item = follow_up(name=r"Back\Nslash", notes=(touch("2026-11-01", "note", note),))
    [event] = validate(build([item])).events
    assert event.summary == r"Call Back\Nslash (Acme Corp) — touch #4"
    assert event.description is not None and f"- 2026-11-01 note: {note}" in event.description.splitlines()
    assert r"SUMMARY:Call Back\\Nslash (Acme Corp) — touch #4" in lines(build([item]))


def test_a_note_cannot_inject_a_property_or_a_component() -> None:
    evil = "x\r\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil\r\nSUMMARY:owned\rDTSTART:19700101"
    item = follow_up(name=evil, tags=(evil,), notes=(touch("2026-11-01", "note", evil),))
    feed = build([item])
    [event] = validate(feed).events
    assert event.uid == "jane-4@mdfollow"
    assert lines(feed).count("BEGIN:VEVENT") == 1
    assert event.summary == f"Call {ics.clean_text(evil)} (Acme Corp) — touch #4"


USER_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=USER_TEXT.filter(lambda s: s.strip()), note=USER_TEXT, tag=USER_TEXT)
def test_any_user_text_reads_back_unchanged_through_the_strict_parser(name: str, note: str, tag: str) -> None:
    item = follow_up(name=name, company=None, tags=(tag,), notes=(touch("2026-11-01", "note", note),))
    feed = build([item])
    [event] = validate(feed).events
    assert event.summary == f"Call {ics.clean_text(name)} — touch #4"
    assert event.description is not None
    logged = f"- 2026-11-01 note: {ics.clean_text(note)}" if note else "- 2026-11-01 note"
    assert f"{logged}\nFile: jane.md" in event.description
    if not ics.clean_text(tag).strip():
        assert event.categories == []  # a blank tag is no category
        return
    # The `ical` parser splits CATEGORIES at every comma, escaped or not (a bug of its own);
    # icalendar reads the escaped comma back as part of the tag.
    [parsed] = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert [str(c) for c in parsed["CATEGORIES"].cats] == [ics.clean_text(tag)]
    if "," not in tag:
        assert event.categories == [ics.clean_text(tag)]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab\\^;,:é—🙂\t "), max_size=400) | st.text(max_size=300))
def test_fold_matches_icalendar_byte_for_byte(line: str) -> None:
    line = line.replace("\n", "").replace("\r", "")
    assert ics.fold(line) == Contentline(line).to_ical().decode("utf-8")


def test_folded_lines_never_split_a_multi_byte_character() -> None:
    item = follow_up(name="Zoë " + "🙂é" * 60, notes=(touch("2026-11-01", "note", "日本語" * 50),))
    feed = build([item])
    assert max(len(line) for line in feed.split(b"\r\n")) <= 75
    [event] = validate(feed).events
    assert event.summary is not None and "🙂é" * 60 in event.summary


def test_clean_text_keeps_tabs_and_turns_line_separators_into_newlines() -> None:
    assert ics.clean_text("a\tb\u2028c\x00d\r\ne\rf\x7f") == "a\tb\ncd\ne\nf"
    assert re.fullmatch(r"[^\x00-\x08\x0b-\x1f\x7f]*", ics.escape_text("\x01\n;,\\"))


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "GMT", "local"])
def test_times_in_utc_are_written_with_z_and_no_vtimezone(zone: str) -> None:
    items = [follow_up("amy", "2026-12-01"), follow_up("bob", "2027-07-01", time=dt.time(14, 30))]
    feed = build(
        items, config(timezone=zone, time=dt.time(9, 0)), local_zone="Etc/UTC"
    )  # a machine set to UTC
    text = lines(feed)
    assert "DTSTART:20261201T090000Z" in text and "DTSTART:20270701T143000Z" in text
    assert not any(line.startswith("BEGIN:VTIMEZONE") or "TZID" in line for line in text)
    assert [e.dtstart for e in validate(feed).events] == [
        dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 7, 1, 14, 30, tzinfo=dt.UTC),
    ]


def test_unrepresentable_names_the_follow_ups_the_feed_leaves_out_at_the_line_that_set_them() -> None:
    log = (touch("9999-12-01", line=12), touch("9999-12-02", direction="in", line=13))
    items = [
        follow_up("next", "9999-12-31", reason="next", key_lines={"next": 7}),
        follow_up("cadence", "9999-12-31", touches=log),  # counted from the last touch out
        follow_up("reply", "9999-12-31", reason="reply", touches=log),  # from the last touch in
        follow_up("new", "9999-12-31", reason="new", created=dt.date(9999, 12, 31), key_lines={"created": 3}),
        follow_up("last", "9998-12-31"),
        follow_up("gone", None, reason="exhausted"),
    ]
    message = "warning: due 9999-12-31 is past what a calendar can show: left out of the feed"
    assert [str(problem) for problem in ics.unrepresentable(items, TODAY, CONFIG.calendar)] == [
        f"prospects/{id}.md:{line}: {message}"
        for id, line in [("next", 7), ("cadence", 12), ("reply", 13), ("new", 3)]
    ]
    assert [e.uid for e in validate(build(items)).events] == ["last-4@mdfollow"]


def test_a_time_in_the_spring_forward_gap_keeps_its_length() -> None:
    """2027-03-28 01:30 does not exist in London; the event starts at 02:30 and lasts its hour."""
    item = follow_up(due="2027-03-28", time=dt.time(1, 30))
    feed = build([item], config(duration=dt.timedelta(hours=1), alarm=dt.time(0, 30)))
    text = lines(feed)
    assert "DTSTART;TZID=Europe/London:20270328T023000" in text
    assert "DTEND;TZID=Europe/London:20270328T033000" in text
    [event] = validate(feed).events
    assert event.end.astimezone(dt.UTC) - event.start.astimezone(dt.UTC) == dt.timedelta(hours=1)
    assert event.alarm[0].trigger == -dt.timedelta(hours=1)  # 00:30 GMT is an hour before 01:30 GMT
    [todo] = validate(build([item], config(duration=dt.timedelta(hours=1)), todo=True)).todos
    assert isinstance(todo.due, dt.datetime) and isinstance(todo.dtstart, dt.datetime)
    assert todo.due.astimezone(dt.UTC) - todo.dtstart.astimezone(dt.UTC) == dt.timedelta(hours=1)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tokyo"])
def test_the_vtimezone_stays_small_and_right_for_a_follow_up_in_year_9998(zone: str) -> None:
    items = [
        follow_up("now", "2026-12-01"),
        follow_up("far", "9998-07-01"),
        follow_up("winter", "9998-01-15"),
    ]
    feed = build(items, config(timezone=zone, time=dt.time(9, 0)))
    text = feed.decode()
    vtimezone = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]
    assert len(vtimezone) < 800, vtimezone
    validate(feed)
    # icalendar (dateutil's rrule) reads the zone from our VTIMEZONE alone, not from its own database
    [parsed] = icalendar.Calendar.from_ical(feed).walk("VTIMEZONE")
    ours = parsed.to_tz()
    real = ZoneInfo(zone)
    for moment in (dt.datetime(2026, 12, 1, 9), dt.datetime(9998, 7, 1, 9), dt.datetime(9998, 1, 15, 9)):
        assert moment.replace(tzinfo=ours).utcoffset() == moment.replace(tzinfo=real).utcoffset(), moment


def test_a_zone_without_a_yearly_rule_lists_a_few_years_of_transitions_not_thousands() -> None:
    # Morocco's clocks follow Ramadan: no RRULE describes them.
    items = [follow_up("now", "2026-12-01"), follow_up("far", "9998-07-01")]
    feed = build(items, config(timezone="Africa/Casablanca", time=dt.time(9, 0)))
    text = feed.decode()
    vtimezone = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]
    assert len(vtimezone) < 4000
    assert "COMMENT:This timezone only works from 2026-01-01 to 2031-01-01." in vtimezone
    validate(feed)


def test_an_id_with_control_characters_gives_an_escaped_stable_uid() -> None:
    item = follow_up("\x1b[2Jjane\x07%x")
    feed = build([item])
    assert b"\x1b" not in feed and b"\x07" not in feed
    [event] = validate(feed).events
    assert event.uid == "%1B[2Jjane%07%25x-4@mdfollow"
    assert build([item]) == feed
    assert validate(build([follow_up("%1B[2Jjane%07%x")])).events[0].uid != event.uid  # no collision


def test_today_at_the_end_of_time_leaves_overdue_follow_ups_out_with_a_warning() -> None:
    last = dt.date(9999, 12, 31)
    items = [follow_up("late", "2026-11-02", key_lines={"created": 3}), follow_up("kept", "9998-06-01")]
    feed = ics.build_feed(items, last, CONFIG, options())
    assert [e.uid for e in validate(feed).events] == []
    kept = ics.build_feed(items, last, config(overdue="keep"), options())
    assert [e.uid for e in validate(kept).events] == ["late-4@mdfollow", "kept-4@mdfollow"]
    assert [str(p) for p in ics.unrepresentable(items, last, CONFIG.calendar)] == [
        "prospects/late.md:3: warning: today 9999-12-31 is past what a calendar can show: left out of the feed",
        "prospects/kept.md:1: warning: today 9999-12-31 is past what a calendar can show: left out of the feed",
    ]
