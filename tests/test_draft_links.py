"""`mailto:` links of email follow-ups (SPEC §9) in `due --json` and the feed, decoded and compared;
caches that see an edited template; the live feed's rescan on `_templates/`."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from ical.calendar_stream import IcsCalendarStream

from mdfollow.core.templates import MAILTO_LIMIT, mailto
from mdfollow.live.feed import classify
from tests.conftest import RunCli, WriteFile
from tests.test_draft import CONFIG, FIRST, prospect


def decode(link: str) -> tuple[str, dict[str, str]]:
    """A mailto: link → (address, {field: value}), as a mail client reads it (RFC 6068)."""
    parts = urlsplit(link)
    assert parts.scheme == "mailto"
    fields = {}
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        fields[key] = unquote(value, errors="strict")
    return unquote(parts.path), fields


@pytest.fixture
def linked(folder: Path, write: WriteFile) -> Path:
    write("mdfollow.toml", CONFIG)
    write("_templates/email-2.txt", FIRST)
    write(
        "jane.md",
        prospect(
            "Jane Doe",
            "2026-11-20 meeting: took her card",
            email="jane@acme.example",
            extra="company: Acme & Sons\n",
        ),
    )
    write(
        "cal.md",
        prospect(
            "Cal", "2026-11-10 meeting: x", "2026-11-12 email: y", "2026-11-19 email: z", email="c@c.example"
        ),
    )
    write("nomail.md", prospect("No Mail", "2026-11-25 meeting: met"))
    return folder


EXPECTED_BODY = (
    "Hi Jane,\r\n\r\nThanks for the meeting on 2026-11-20 (took her card).\r\n"
    "This is touch #2 for Acme & Sons.\r\n\r\nSam Seller, Acme"
)


def test_due_json_carries_the_rendered_draft_as_a_mailto_link(linked: Path, run: RunCli) -> None:
    result = run("due", "--json")
    assert result.exit_code == 0, result
    items = {item["id"]: item for item in json.loads(result.stdout)}
    link = items["jane"]["mailto"]
    assert "%20" in link and "+" not in link and " " not in link
    assert decode(link) == ("jane@acme.example", {"subject": "Good to meet you, Jane", "body": EXPECTED_BODY})
    assert items["cal"]["mailto"] is None  # a call
    assert items["nomail"]["mailto"] is None  # an email follow-up without an address


def test_an_email_follow_up_without_a_template_links_the_bare_address(linked: Path, run: RunCli) -> None:
    (linked / "_templates" / "email-2.txt").unlink()
    items = {item["id"]: item for item in json.loads(run("due", "--json").stdout)}
    assert items["jane"]["mailto"] == "mailto:jane@acme.example"


def test_a_broken_template_keeps_the_follow_up_and_warns(linked: Path, write: WriteFile, run: RunCli) -> None:
    write("_templates/email-2.txt", "Subject: {{ oops }}\n\nbody\n")
    result = run("due", "--json")
    assert result.exit_code == 0
    items = {item["id"]: item for item in json.loads(result.stdout)}
    assert items["jane"]["mailto"] == "mailto:jane@acme.example"
    assert (
        f"{linked / '_templates' / 'email-2.txt'}:1: warning: 'oops' is undefined (drafting for jane)"
        in result.stderr
    )
    plain = run("due")
    assert "Jane Doe" in plain.stdout


def test_editing_a_template_changes_the_next_due_json_and_feed(
    linked: Path, write: WriteFile, run: RunCli
) -> None:
    def jane_event(feed: str) -> tuple[str, str]:
        calendar = IcsCalendarStream.calendar_from_ics(feed)
        [event] = [e for e in calendar.events if e.uid == "jane-2@mdfollow"]
        return str(event.url), event.description or ""

    before_json, before_feed = run("due", "--json").stdout, run("ics").stdout
    url, description = jane_event(before_feed)
    assert decode(url) == ("jane@acme.example", {"subject": "Good to meet you, Jane", "body": EXPECTED_BODY})
    assert f"Draft: {url}" in description
    assert run("ics").stdout == before_feed  # the stored feed, unchanged folder

    write("_templates/email-2.txt", FIRST.replace("Good to meet you", "Lovely to meet you"))
    after_feed = run("ics").stdout
    assert after_feed != before_feed
    assert decode(jane_event(after_feed)[0])[1]["subject"] == "Lovely to meet you, Jane"
    after_json = run("due", "--json").stdout
    assert after_json != before_json and "Lovely%20to%20meet%20you" in after_json
    cal = IcsCalendarStream.calendar_from_ics(after_feed)
    [call] = [e for e in cal.events if e.uid == "cal-4@mdfollow"]
    assert "Draft:" not in (call.description or "")


def test_a_long_body_is_cut_on_a_character_boundary_and_the_subject_never() -> None:
    subject = "Ünïcödé subject " * 20
    body = ("Grüße aus Köln — 日本語テキスト 🎉\n" * 200).strip()
    link = mailto("jane@acme.example", subject, body)
    assert len(link) < MAILTO_LIMIT
    address, fields = decode(link)  # strict decoding: a cut inside a UTF-8 sequence would raise
    assert address == "jane@acme.example"
    assert fields["subject"] == subject
    cut = fields["body"]
    assert 0 < len(cut) < len(body)
    assert body.replace("\n", "\r\n").startswith(cut)
    assert not cut.endswith("\r")  # a line break is never split
    # as long as the limit allows: one more character would not fit
    longer = mailto("jane@acme.example", subject, body, limit=len(link) + 12)
    assert len(decode(longer)[1]["body"]) > len(cut)


def test_a_short_draft_is_whole_and_a_huge_subject_keeps_the_subject() -> None:
    assert decode(mailto("a@b.example", "Hi there", "Line 1\nLine 2\n")) == (
        "a@b.example",
        {"subject": "Hi there", "body": "Line 1\r\nLine 2"},
    )
    huge = "x" * 2500
    link = mailto("a@b.example", huge, "body")
    assert decode(link) == ("a@b.example", {"subject": huge})
    assert decode(mailto("a+tag@b.example", "", "a=b&c?d#e%"))[1] == {"body": "a=b&c?d#e%"}


def test_the_live_feed_rescans_when_a_template_changes() -> None:
    assert classify("/home/sam/prospects/_templates/email-2.txt", False) == "rescan"
    assert classify("/home/sam/prospects/notes/email-2.txt", False) == "ignore"


def test_watch_rebuilds_the_feed_when_a_template_is_edited(linked: Path, write: WriteFile) -> None:
    from mdfollow.cli.feed import feed_builder
    from mdfollow.live.feed import LiveFeed

    feeds: list[bytes] = []
    logs: list[str] = []
    live = LiveFeed(
        linked,
        feed_builder(linked, todo=False, days=None, digest=False, local_zone=None),
        feeds.append,
        today=lambda: dt.date(2026, 11, 30),
        log=logs.append,
        warn=logs.append,
        quiet=0.1,
        longest=0.5,
        tick=0.05,
    )
    live.start()
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    try:
        assert b"Good%20to%20meet%20you" in feeds[-1]
        write("_templates/email-2.txt", FIRST.replace("Good to meet you", "Lovely to meet you"))
        deadline = time.monotonic() + 10
        while b"Lovely%20to%20meet%20you" not in feeds[-1]:
            assert time.monotonic() < deadline, f"no rebuild after the template changed: {logs}"
            time.sleep(0.02)
        assert any("_templates/ changed" in line for line in logs), logs
    finally:
        live.stop()
        thread.join(10)
        live.close()
