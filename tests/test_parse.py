"""The file format of SPEC §2: front matter, the touch log grammar, and every bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdfollow.core.parse import TOUCH_GRAMMAR, parse_prospect

PATH = Path("people/jane-doe.md")

JANE = """\
---
name: Jane Doe
company: Acme Corp
email: jane@acme.example
phone: "+44 20 7946 0001"
status: active
source: Leeds trade show
tags: [warm, quote]
created: 2026-11-01
next: 2026-12-01
custom: {nested: [1, 2]}
---
# Jane Doe — Acme Corp

Met at the Leeds trade show.

## Touches
- 2026-11-01 meeting: met at the stand, took her card
- 2026-11-02 email: sent quote #1042 — see https://x.example/q?a=1
- 2026-11-09 09:40 call: no answer: left voicemail 📞
- 2026-11-10 email in: busy until December
  asked me to call after Dec 1
- 2026-11-09 text out: sent a text
- 2026-11-22 note: she changed jobs

## Notes
- 2026-11-23 call: not in the log, another section
"""


def parse(text: str | bytes, path: Path = PATH):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return parse_prospect(path, data)


def test_a_full_prospect() -> None:
    prospect, problems = parse(JANE)
    assert problems == []
    assert prospect is not None
    assert (prospect.id, prospect.name, prospect.company, prospect.status) == (
        "jane-doe",
        "Jane Doe",
        "Acme Corp",
        "active",
    )
    assert prospect.emails == ("jane@acme.example",)
    assert prospect.phones == ("+44 20 7946 0001",)
    assert prospect.tags == ("warm", "quote")
    assert (prospect.created, prospect.next) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert prospect.front_matter["custom"] == {"nested": [1, 2]}
    log = [(str(t.date), t.time, t.channel, t.direction, t.note, t.line) for t in prospect.touches]
    assert log == [
        ("2026-11-01", None, "meeting", "out", "met at the stand, took her card", 18),
        ("2026-11-02", None, "email", "out", "sent quote #1042 — see https://x.example/q?a=1", 19),
        ("2026-11-09", None, "text", "out", "sent a text", 23),
        ("2026-11-09", dt.time(9, 40), "call", "out", "no answer: left voicemail 📞", 20),
        ("2026-11-10", None, "email", "in", "busy until December\nasked me to call after Dec 1", 21),
    ]
    assert [(str(n.date), n.note) for n in prospect.notes] == [("2026-11-22", "she changed jobs")]
    assert prospect.line_of("next") == 10


def test_crlf_and_bom_parse_like_lf() -> None:
    lf, _ = parse(JANE)
    crlf, problems = parse(b"\xef\xbb\xbf" + JANE.replace("\n", "\r\n").encode())
    assert problems == []
    assert crlf == lf
    assert crlf is not None and crlf.touches[-1].note.endswith("after Dec 1")


def test_touch_section_any_level_case_insensitive_ends_at_same_level() -> None:
    text = (
        "---\nname: A\n---\n### TOUCHES ###\n- 2026-11-01 call:\n#### sub\n- 2026-11-02 call:\n## Next\n- x\n"
    )
    prospect, problems = parse(text)
    assert problems == []
    assert prospect is not None
    assert [(str(t.date), t.note) for t in prospect.touches] == [("2026-11-01", ""), ("2026-11-02", "")]


def test_headings_inside_code_fences_do_not_count() -> None:
    text = "---\nname: A\n---\n```\n## Touches\n- bad\n```\n## Touches\n- 2026-11-01 call in: hi\n"
    prospect, problems = parse(text)
    assert problems == []
    assert prospect is not None and prospect.touches[0].direction == "in"


def test_prose_in_the_section_is_allowed_and_bad_items_are_errors() -> None:
    text = (
        "---\nname: A\n---\n## Touches\nSome prose.\n\n- 2026-11-01 call: ok\n- called Bob\n"
        "- 2026-13-01 call: bad month\n- 2026-11-02 25:00 call: bad time\n- 2026-11-03 two words: x\n"
    )
    prospect, problems = parse(text)
    assert prospect is not None and len(prospect.touches) == 1
    assert [(p.line, p.message) for p in problems] == [
        (8, TOUCH_GRAMMAR),
        (9, 'touch date "2026-13-01" is not a date'),
        (10, 'touch time "25:00" is not a time'),
        (11, TOUCH_GRAMMAR),
    ]
    assert str(problems[0]) == f"{PATH}:8: {TOUCH_GRAMMAR}"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\nname: [a\n---\n", 2, "broken YAML"),
        ("---\n- a\n- b\n---\n", 2, "front matter must be key: value lines"),
        ("---\ncompany: X\n---\n", 1, "missing name"),
        ("---\nname: A\nstatus: maybe\n---\n", 3, "unknown status 'maybe'"),
        ("---\nname: A\ncreated: 2026-02-30\n---\n", 3, 'created "2026-02-30" is not a date'),
        ("---\nname: A\nnext: soon\n---\n", 3, "next 'soon' is not a date"),
        ("---\nname: A\n\nclosed: 2026-1-32\n---\n", 4, "closed"),
        ("---\nname: A\ncompany: {a: 1}\n---\n", 3, "company must be text, not a mapping"),
        ("---\nname: A\nstatus: true\n---\n", 3, "status must be text"),
        ("---\nname: A\ntags: [a, {b: 1}]\n---\n", 3, "tags must be text or a list of text"),
        ("---\nname: A\n1: x\n---\n", 1, "key 1 is not text"),
        ("---\nname: A\n", 1, "front matter has no closing ---"),
        (b"---\nname: Jos\xe9\n---\n", 2, "not UTF-8 (byte 0xe9)"),
    ],
)
def test_bad_files_are_reported_with_their_line(text: str | bytes, line: int, message: str) -> None:
    prospect, problems = parse(text)
    assert prospect is None
    [problem] = problems
    assert problem.line == line and message in problem.message and problem.severity == "error"


def test_yaml_1_1_surprises_stay_text() -> None:
    text = "---\nname: Norway\non: yes\ncontent: body\nphone: 0123456\nfax: 1:30\ncompany: no\nstatus: Won\n---\n"
    prospect, problems = parse(text)
    assert problems == []
    assert prospect is not None
    assert prospect.phones == ("0123456",)
    assert prospect.company == "no"
    assert prospect.status == "won"
    assert prospect.front_matter["on"] == "yes"
    assert prospect.front_matter["content"] == "body"
    assert prospect.front_matter["fax"] == "1:30"


def test_next_with_a_time_and_quoted_dates() -> None:
    text = "---\nname: A\nnext: 2026-12-01 14:30\ncreated: '2026-11-01'\n---\n"
    prospect, _ = parse(text)
    assert prospect is not None
    assert (prospect.next, prospect.next_time, prospect.created) == (
        dt.date(2026, 12, 1),
        dt.time(14, 30),
        dt.date(2026, 11, 1),
    )


def test_lists_of_emails_and_numbers_as_text() -> None:
    text = "---\nname: A\nemail: [a@x.example, b@x.example]\nphone: 442079460001\n---\n"
    prospect, _ = parse(text)
    assert prospect is not None
    assert prospect.emails == ("a@x.example", "b@x.example")
    assert prospect.phones == ("442079460001",)


notes = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"), max_size=40
).map(str.strip)


@given(
    day=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
    clock=st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    channel=st.sampled_from(["call", "email", "linkedin", "visit", "whatsapp", "in-person"]),
    direction=st.sampled_from(["", " in", " out"]),
    note=notes,
    crlf=st.booleans(),
)
def test_any_valid_touch_line_round_trips(
    day: dt.date, clock: dt.time | None, channel: str, direction: str, note: str, crlf: bool
) -> None:
    when = f"{day} {clock:%H:%M}" if clock else str(day)
    line = f"- {when} {channel}{direction}: {note}".rstrip()
    text = f"---\nname: A\n---\n## Touches\n{line}\n"
    prospect, problems = parse(text.replace("\n", "\r\n") if crlf else text)
    assert problems == []
    assert prospect is not None
    [touch] = prospect.touches
    assert (touch.date, touch.time, touch.channel, touch.note, touch.line) == (day, clock, channel, note, 5)
    assert touch.direction == ("in" if direction == " in" else "out")


def test_a_setext_touches_heading_and_a_second_section() -> None:
    text = "---\nname: A\n---\nTouches\n-------\n1. 2026-11-01 call: a\n\nNotes\n=====\n## touches\n- 2026-11-05 call: b\n"
    prospect, problems = parse(text)
    assert prospect is not None and [t.note for t in prospect.touches] == ["a"]
    assert [(p.line, p.severity) for p in problems] == [(10, "warning")]
    assert "second Touches section" in problems[0].message


def test_a_block_scalar_may_end_the_front_matter() -> None:
    prospect, problems = parse("---\nname: A\nsummary: |\n  line one\n  line two\n---\n")
    assert problems == [] and prospect is not None
    assert prospect.front_matter["summary"] == "line one\nline two\n"


def test_tags_as_obsidian_writes_them() -> None:
    prospect, _ = parse('---\nname: A\ntags: ["#warm", "b, c", warm]\n---\n')
    assert prospect is not None and prospect.tags == ("warm", "b", "c")


def test_a_nul_byte_is_one_line_with_its_line_number() -> None:
    _, [problem] = parse(b"---\nname: A\nnote: x\x00y\n---\n")
    assert (problem.line, problem.message) == (
        3,
        "broken YAML: character U+0000 is not allowed (an invisible control character: delete it)",
    )
