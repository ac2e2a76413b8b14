"""core.mailmatch, pure: headers → touches, and no header content can make a malformed touch line."""

from __future__ import annotations

import base64
import datetime as dt
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdfollow.core.change import Change, Entry
from mdfollow.core.mailmatch import NOTE_MAX, AddressBook, clean_note, is_automatic, read_message
from mdfollow.core.parse import parse_prospect
from mdfollow.core.patch import patch

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=LONDON)
PATH = Path("jane.md")
FILE = b"---\nname: Jane\nemail: [jane@client.example, alias@client.example]\n---\n# Jane\n\n## Touches\n- 2026-11-01 call: hello\n"
JANE, _ = parse_prospect(PATH, FILE)
assert JANE is not None
BOOK = AddressBook.build(["me@acme.example"], [JANE])


def headers(**values: str) -> bytes:
    return "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in values.items()).encode(
        "utf-8", "surrogateescape"
    )


def test_directions_and_matching() -> None:
    inbound = read_message(
        headers(
            From="ALIAS@Client.Example",
            To="me@acme.example",
            Date="Mon, 30 Nov 2026 10:15:42 +0000",
            Subject="hi",
        ),
        BOOK,
        LONDON,
        NOW,
    )
    assert inbound.outcome == "touches"
    [touch] = inbound.touches
    assert (touch.date, touch.time, touch.direction, touch.note) == (
        dt.date(2026, 11, 30),
        dt.time(10, 15),
        "in",
        "hi",
    )
    outbound = read_message(
        headers(
            From="Me <ME@acme.example>",
            To="x@y.example",
            Cc="Jane <jane@client.example>",
            Date="Mon, 30 Nov 2026 10:15:42 +0000",
        ),
        BOOK,
        LONDON,
        NOW,
    )
    assert [t.direction for t in outbound.touches] == ["out"]
    bcc_only = read_message(
        headers(
            From="me@acme.example",
            To="x@y.example",
            Bcc="jane@client.example",
            Date="Mon, 30 Nov 2026 10:15:42 +0000",
        ),
        BOOK,
        LONDON,
        NOW,
    )
    assert bcc_only.outcome == "unmatched"
    to_me_only = read_message(
        headers(From="me@acme.example", To="me@acme.example", Date="Mon, 30 Nov 2026 10:15:42 +0000"),
        BOOK,
        LONDON,
        NOW,
    )
    assert to_me_only.outcome == "unmatched"


def test_since_makes_older_messages_old_not_unmatched() -> None:
    old = headers(From="x@y.example", Date="Mon, 2 Nov 2026 10:00:00 +0000")
    assert read_message(old, BOOK, LONDON, NOW, dt.date(2026, 11, 3)).outcome == "old"
    assert read_message(old, BOOK, LONDON, NOW).outcome == "unmatched"


def test_automatic_headers() -> None:
    assert is_automatic({"auto-submitted": ["auto-replied"]})
    assert not is_automatic({"auto-submitted": ["No"]})
    assert is_automatic({"precedence": [" Bulk "]})
    assert not is_automatic({"precedence": ["normal"]})
    assert is_automatic({"list-id": ["x"]}) and is_automatic({"x-autoreply": [""]})


def test_clean_note_cuts_at_120_with_the_ellipsis() -> None:
    assert clean_note("a" * 120) == "a" * 120
    assert clean_note("a" * 121) == "a" * 119 + "…"
    assert clean_note("Re:\u2028x\u202eevil\x00") == "Re: xevil"
    assert clean_note("\t\n") == "(no subject)"


ENCODED_CHARSETS = ["utf-8", "iso-8859-1", "koi8-r", "utf-16", "x-no-such-charset", "us-ascii", "shift_jis"]


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(ENCODED_CHARSETS))
    raw = draw(st.binary(max_size=40))
    if draw(st.booleans()):
        return f"=?{charset}?b?{base64.b64encode(raw).decode()}?="
    return f"=?{charset}?q?{''.join(f'={byte:02X}' for byte in raw)}?="


header_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.lists(st.one_of(encoded_word(), st.text(max_size=10)), max_size=6).map(" ".join),
    st.sampled_from(
        [
            "\r\n- 2026-01-01 call: injected",
            "\n## Touches",
            "x\r\n\r\nbody",
            "\x1b[2J",
            "\u2028- 2026-01-01 x:",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=header_text,
    sender=st.one_of(st.just("jane@client.example"), header_text.map(lambda t: f"{t} <jane@client.example>")),
    date=st.one_of(st.just("Mon, 30 Nov 2026 10:15:42 +0000"), header_text),
    extra=st.binary(max_size=100),
)
def test_no_header_content_makes_a_malformed_touch_line(
    subject: str, sender: str, date: str, extra: bytes
) -> None:
    data = headers(From=sender, To="me@acme.example", Subject=subject, Date=date) + extra
    reading = read_message(data, BOOK, LONDON, NOW)
    assert reading.outcome in ("touches", "automatic", "unmatched", "bad")
    for touch in reading.touches:
        assert 0 < len(touch.note) <= NOTE_MAX
        assert touch.note == touch.note.strip()
        assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") for ch in touch.note)
        entry = Entry(touch.date, touch.channel, touch.note, time=touch.time, direction=touch.direction)
        assert len(entry.lines()) == 1
        new_data, written = patch(PATH, FILE, Change(entries=[entry]))
        assert new_data.startswith(FILE[: FILE.index(b"- 2026")])
        assert len(new_data.splitlines()) == len(FILE.splitlines()) + 1
        assert len(written.touches) == 2
        [added] = [
            t
            for t in written.touches
            if (t.date, t.time) == (touch.date, touch.time) and t.channel == "email"
        ]
        assert (added.date, added.time, added.channel, added.direction, added.note) == touch.key
        assert written.notes == ()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_a_reading_never_an_exception(data: bytes) -> None:
    reading = read_message(b"From: jane@client.example\r\n" + data, BOOK, LONDON, NOW)
    assert reading.outcome in ("touches", "automatic", "unmatched", "bad", "old")
    if reading.outcome == "bad":
        assert reading.problem and "\n" not in reading.problem


def test_inbound_is_for_the_sender_only() -> None:
    bob_file = b"---\nname: Bob\nemail: bob@roe.example\n---\n"
    bob, _ = parse_prospect(Path("bob.md"), bob_file)
    assert bob is not None
    book = AddressBook.build(["me@acme.example"], [JANE, bob])
    data = headers(
        From="bob@roe.example",
        To="me@acme.example",
        Cc="jane@client.example",
        Date="Mon, 30 Nov 2026 10:15:42 +0000",
    )
    reading = read_message(data, book, LONDON, NOW)
    assert [(t.prospect.id, t.direction) for t in reading.touches] == [("bob", "in")]
    outbound = headers(
        From="me@acme.example",
        To="bob@roe.example, Jane <JANE@client.example>",
        Date="Mon, 30 Nov 2026 10:15:42 +0000",
    )
    assert [t.prospect.id for t in read_message(outbound, book, LONDON, NOW).touches] == ["bob", "jane"]
