"""edit.py: line patches that keep every other byte, verified, atomic, locked."""

from __future__ import annotations

import datetime as dt
import difflib
import fcntl
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mdfollow.core.change import Change, Entry
from mdfollow.core.errors import MdfollowError
from mdfollow.core.parse import BOM, parse_prospect
from mdfollow.core.patch import patch
from mdfollow.core.slug import SLUG_MAX, slugify
from mdfollow.core.yaml_text import yaml_list, yaml_value
from mdfollow.store import atomic, edit
from mdfollow.store.edit import create_prospect, edit_prospect
from mdfollow.store.folder import load_folder

DAY = dt.date(2026, 11, 30)
JANE = b"---\nname: Jane Doe\nstatus: active\n---\n# Jane\n\n## Touches\n- 2026-11-01 call: hello\n"


def patched(text: str, change: Change) -> str:
    data, _ = patch(Path("jane.md"), text.encode(), change)
    return data.decode()


# --- values and names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("José Müller", "jose-muller"),
        ("Jane Doe Acme", "jane-doe-acme"),
        ("  Ærø — Øl & Co.  ", "aero-ol-co"),
        ("Ольга Иванова", "olga-ivanova"),
        ("王小明", "wang-xiao-ming"),
        ("김민수 Ltd", "gim-min-su-ltd"),
        ("Ἀθηνᾶ", "athina"),
        ("Jane 🎉 Doe™", "jane-doe"),
        ("O'Brien, Ltd.", "obrien-ltd"),
        ("🎉", ""),
    ],
)
def test_slugify_is_ascii_words_joined_by_dashes(text: str, slug: str) -> None:
    assert slugify(text) == slug


@given(st.text())
def test_slugify_only_makes_safe_file_names(text: str) -> None:
    slug = slugify(text)
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Jane Doe", "Jane Doe"),
        ("2026-12-01", "2026-12-01"),
        ("+44 20 7946 0001", "+44 20 7946 0001"),
        ("won", "won"),
        ("yes", '"yes"'),
        ("0123", '"0123"'),
        ("- not a list", '"- not a list"'),
        ("chose: a competitor", '"chose: a competitor"'),
        ("#1 fan", '"#1 fan"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("two\nlines", '"two\\nlines"'),
        ("🎉 party", "🎉 party"),
    ],
)
def test_yaml_value_is_plain_only_when_unambiguous(value: str, written: str) -> None:
    assert yaml_value(value) == written


@settings(max_examples=150)
@given(st.text())
def test_any_text_reads_back_exactly_from_a_front_matter_value(value: str) -> None:
    data = f"---\nname: X\nx-note: {yaml_value(value)}\nx-list: {yaml_list([value, value])}\n---\n"
    prospect, problems = parse_prospect(Path("x.md"), data.encode())
    assert prospect is not None, problems
    assert prospect.front_matter["x-note"] == value
    assert prospect.front_matter["x-list"] == [value, value]
    assert yaml.safe_load(f"k: {yaml_value(value)}") == {"k": value}


# --- golden patches --------------------------------------------------------------------

ODD = (
    "---\n"
    "# who she is\n"
    "name:   'Jane Doe'   # quoted on purpose\n"
    "company: Acme Corp\n"
    "status: active # still hopeful\n"
    "x-owner-notes: {keep: me}\n"
    "tags:\n"
    "  - warm\n"
    "\n"
    "next:\n"
    "---\n"
    "# Jane Doe   \n"
    "\n"
    "Body text with trailing spaces.  \n"
    "\n"
    "## Touches\n"
    "- 2026-11-01 meeting: met at the stand\n"
    "- 2026-11-09 09:40 call: no answer\n"
    "  left a voicemail\n"
    "- 2026-11-20 email: sent quote #1042\n"
    "\n"
    "## Later\n"
    "the end"
)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [b"", BOM])
def test_log_in_date_order_keeps_every_other_byte(eol: str, bom: bytes) -> None:
    before = bom + ODD.replace("\n", eol).encode()
    entry = Entry(dt.date(2026, 11, 9), "call", "got her: #2", time=dt.time(10, 0), direction="in")
    after, prospect = patch(Path("jane.md"), before, Change({"next": "2026-12-01"}, [entry]))
    expected = (
        ODD.replace("next:\n", "next: 2026-12-01\n")
        .replace("  left a voicemail\n", "  left a voicemail\n- 2026-11-09 10:00 call in: got her: #2\n")
        .replace("\n", eol)
    )
    assert after == bom + expected.encode()
    assert [t.note for t in prospect.touches][-2:] == ["got her: #2", "sent quote #1042"]


def test_set_key_changes_only_the_value_keeping_spacing_and_comment() -> None:
    change = Change({"status": "won", "closed": "2026-11-30"})
    expected = ODD.replace("status: active # still hopeful\n", "status: won # still hopeful\n").replace(
        "next:\n---\n", "next:\nclosed: 2026-11-30\n---\n"
    )
    assert patched(ODD, change) == expected


@pytest.mark.parametrize(
    ("line", "key", "value", "written"),
    [
        ('status:\t"active"', "status", "won", 'status:\t"won"'),
        ("status:\t'active'  # hm", "status", "lost", "status:\t'lost'  # hm"),
        ('next:  "2026-12-03"', "next", "2026-12-09 14:30", 'next:  "2026-12-09 14:30"'),
        ("x-why: 'plain'", "x-why", 'it\'s "so"', "x-why: 'it''s \"so\"'"),
        ("x-why: 'plain'", "x-why", "two\nlines", 'x-why: "two\\nlines"'),
        ('x-why: "plain"', "x-why", "tab\there", 'x-why: "tab\\there"'),
        ("x-why: plain", "x-why", "yes", 'x-why: "yes"'),
        ("x-why:\t[a, b]", "x-why", "c", "x-why:\tc"),
        ("x-why:  [a]  # list", "x-why", "c", "x-why:  c"),
    ],
)
def test_a_new_value_keeps_the_old_quotes_and_spacing(line: str, key: str, value: str, written: str) -> None:
    text = f"---\nname: Jo\n{line}\n---\n"
    assert patched(text, Change({key: value})) == f"---\nname: Jo\n{written}\n---\n"


def test_a_block_value_is_replaced_whole() -> None:
    assert patched(ODD, Change({"tags": "cold"})) == ODD.replace("tags:\n  - warm\n", "tags: cold\n")


@pytest.mark.parametrize(
    ("entry", "after_line"),
    [
        (Entry(dt.date(2026, 10, 1), "call"), None),
        (Entry(dt.date(2026, 11, 1), "call", "same day, later in the file"), "- 2026-11-01 meeting: met"),
        (Entry(dt.date(2026, 11, 9), "call", "untimed goes first"), "- 2026-11-01 meeting: met"),
        (Entry(dt.date(2026, 11, 9), "call", "timed", time=dt.time(9, 40)), "  left"),
        (Entry(dt.date(2026, 12, 1), "call", "latest"), "- 2026-11-20 email"),
    ],
)
def test_touches_go_where_they_sort(entry: Entry, after_line: str | None) -> None:
    lines = patched(ODD, Change(entries=[entry])).splitlines()
    new = lines.index(entry.lines()[0])
    if after_line is None:
        assert lines[new - 1] == "## Touches"
    else:
        assert lines[new - 1].startswith(after_line)


def test_a_file_without_a_touch_log_gets_one_at_the_end() -> None:
    text = "---\nname: Ann\n---\nNotes"
    assert patched(text, Change(entries=[Entry(DAY, "email", "hi")])) == (
        "---\nname: Ann\n---\nNotes\n\n## Touches\n- 2026-11-30 email: hi"
    )


def test_the_last_line_keeps_lacking_a_newline() -> None:
    text = "---\nname: Ann\n---\n## Touches\n- 2026-11-01 call: a"
    assert patched(text, Change(entries=[Entry(DAY, "call", "b")])) == text + "\n- 2026-11-30 call: b"


def test_an_empty_touch_log_gets_its_first_line_under_the_heading() -> None:
    text = "---\nname: Ann\n---\n## Touches\n\n## Notes\n"
    assert patched(text, Change(entries=[Entry(DAY, "call")])) == (
        "---\nname: Ann\n---\n## Touches\n- 2026-11-30 call:\n\n## Notes\n"
    )


def test_a_note_cannot_break_the_log_or_the_file() -> None:
    note = "line one\n## Touches\n```\n- 2026-01-01 call: fake\u2028🎉 #tag: x"
    data, prospect = patch(Path("jane.md"), JANE, Change(entries=[Entry(DAY, "call", note)]))
    assert prospect.touches[-1].note == "line one\n## Touches\n```\n- 2026-01-01 call: fake\n🎉 #tag: x"
    assert len(prospect.touches) == 2
    assert data.endswith(
        "- 2026-11-30 call: line one\n    ## Touches\n    ```\n    - 2026-01-01 call: fake\n    🎉 #tag: x\n".encode()
    )


def test_a_value_cannot_break_the_front_matter() -> None:
    value = 'x: y\n---\n# "quoted" - \u2028 🎉'
    _, prospect = patch(Path("jane.md"), JANE, Change({"x-reason": value, "name": "- Jo: #1"}))
    assert prospect.front_matter["x-reason"] == value
    assert prospect.name == "- Jo: #1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"---\nname: [unclosed\n---\n", "jane.md:3: broken YAML"),
        (b"---\nname: Jo\nstatus: maybe\n---\n", "jane.md:3: unknown status"),
        (b"---\nname: Jo\n", "jane.md:1: front matter has no closing ---"),
        (b"# Jo\n", "not a prospect file"),
        (b"---\nname: Jo\xff\n---\n", "jane.md:2: not UTF-8"),
    ],
)
def test_a_file_that_does_not_parse_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(MdfollowError, match=message):
        patch(Path("jane.md"), data, Change(entries=[Entry(DAY, "call")]))


def test_an_edit_that_would_not_read_back_is_refused() -> None:
    data = b"---\nname: Jo\nstatus: active\nstatus: lost\n---\n"  # YAML keeps the last one
    with pytest.raises(MdfollowError, match=r"jane\.md:4: key appears twice: not changed"):
        patch(Path("jane.md"), data, Change({"status": "won"}))


# --- hypothesis: random files, random edits --------------------------------------------

dates = st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))
times = st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0))
channels = st.sampled_from(["call", "email", "Meeting", "note", "linkedin", "visit-2"])
notes = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@st.composite
def touch_lines(draw: st.DrawFn) -> list[str]:
    entry = Entry(draw(dates), draw(channels), draw(notes), draw(times), draw(st.sampled_from(["in", "out"])))
    return entry.lines()


@st.composite
def prospect_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """A valid prospect file with comments, odd spacing, unknown keys and a shuffled log."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    name = draw(st.sampled_from(["name: Jane", "name:   'Jane Doe'  # hi", 'name: "Jo \\"J\\""']))
    extra = draw(
        st.lists(
            st.sampled_from(
                [
                    "# a comment",
                    "",
                    "status: active",
                    "status:   lost   # gone",
                    "next: 2026-01-01",
                    "closed:\t'2026-01-01'",
                    'x-reason: "why"  # quoted',
                    "next:",
                    "x-color: blue",
                    "x-list:\n  - a\n  - b",
                    "'quoted key': 3",
                    "company: Acme  ",
                ]
            ),
            max_size=6,
            unique=True,
        )
    )
    front = [name, *extra]
    keys = [line.split(":")[0] for line in front if line and not line.startswith("#")]
    if len(keys) != len(set(keys)):
        front = [name]
    body = draw(st.sampled_from(["", "# Title\n\nSome prose.  ", "Notes: none"]))
    lines = ["---", *front, "---", *body.split("\n")]
    if draw(st.booleans()):
        log = draw(st.lists(touch_lines(), max_size=5))
        lines += ["## Touches", *(line for item in log for line in item)]
        if draw(st.booleans()):
            lines += ["", "## After", "text"]
    text = "\n".join(lines)
    if draw(st.booleans()):
        text += "\n"
    bom = BOM if draw(st.booleans()) else b""
    return bom + text.replace("\n", eol).encode(), eol


changes = st.builds(
    Change,
    keys=st.dictionaries(
        st.sampled_from(["status", "next", "closed", "x-reason", "x-color"]),
        st.sampled_from(["won", "lost", "2026-12-01"]) | notes,
        max_size=3,
    )
    .filter(lambda keys: keys.get("status", "won") in ("won", "lost", "active", "dnc"))
    .filter(lambda keys: all(keys.get(k, "2026-12-01") == "2026-12-01" for k in ("next", "closed"))),
    entries=st.lists(
        st.builds(Entry, dates, channels, notes, times, st.sampled_from(["in", "out"])), max_size=2
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prospect_files(), changes)
def test_random_edits_change_only_what_they_mean_to(file: tuple[bytes, str], change: Change) -> None:
    before, eol = file
    old, _ = parse_prospect(Path("p.md"), before)
    assert old is not None
    logged = {(t.date, t.time, t.channel, t.direction, t.note) for t in old.touches}
    assume(not any(e.item in logged for e in change.entries))  # a touch logged twice is refused
    after, new = patch(Path("p.md"), before, change)
    reparsed, _ = parse_prospect(Path("p.md"), after)
    assert reparsed == new
    assert dict(new.front_matter) == {**old.front_matter, **change.keys}
    added = [(e.date, e.channel.lower(), "\n".join(e.note_lines)) for e in change.entries]
    log = [(t.date, t.channel, t.note) for t in sorted(new.touches + new.notes, key=lambda t: t.sort_key)]
    old_log = [(t.date, t.channel, t.note) for t in sorted(old.touches + old.notes, key=lambda t: t.sort_key)]
    assert sorted(log, key=str) == sorted(old_log + added, key=str)

    assert after.startswith(BOM) == before.startswith(BOM)
    old_lines = before.removeprefix(BOM).decode().splitlines(keepends=True)
    new_lines = after.removeprefix(BOM).decode().splitlines(keepends=True)
    assert all(line.endswith(eol) for line in new_lines[:-1])
    assert new_lines[-1].endswith(eol) == old_lines[-1].endswith(eol)
    may_change = {old.key_lines[k] - 1 for k in change.keys if k in old.key_lines}
    if not old_lines[-1].endswith(eol):
        may_change.add(len(old_lines) - 1)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    kept = {i for block in matcher.get_matching_blocks() for i in range(block.a, block.a + block.size)}
    assert set(range(len(old_lines))) - kept <= may_change


# --- files on disk ---------------------------------------------------------------------


def test_edit_prospect_keeps_the_file_mode_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    path.chmod(0o640)
    edit_prospect(path, Change(entries=[Entry(DAY, "call", "again")]))
    assert path.read_bytes() == JANE + b"- 2026-11-30 call: again\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["jane.md"]


def test_a_refused_or_failed_write_leaves_the_file_and_folder_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jane.md"
    bad = b"---\nname: Jo\nstatus: maybe\n---\n"
    path.write_bytes(bad)
    with pytest.raises(MdfollowError, match="unknown status"):
        edit_prospect(path, Change(entries=[Entry(DAY, "call")]))
    assert path.read_bytes() == bad
    path.write_bytes(JANE)

    def crash(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(MdfollowError, match="No space left on device"):
        edit_prospect(path, Change(entries=[Entry(DAY, "call")]))
    assert path.read_bytes() == JANE
    assert os.listdir(tmp_path) == ["jane.md"]


def test_an_edit_made_after_the_folder_was_loaded_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    [prospect] = load_folder(tmp_path).prospects
    path.write_bytes(JANE.replace(b"# Jane\n", b"# Jane\n\nEdited in vim.\n"))
    edit_prospect(prospect.path, Change({"status": "won"}))
    assert path.read_bytes() == JANE.replace(b"active", b"won").replace(
        b"# Jane\n", b"# Jane\n\nEdited in vim.\n"
    )


def test_a_save_between_read_and_replace_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor that does not lock saves while mdfollow patches: mdfollow starts over."""
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    real_patch = patch
    calls = []

    def patch_while_editor_saves(*args: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            path.write_bytes(JANE + b"- 2026-11-02 email: typed in the editor\n")
        return real_patch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(edit, "patch", patch_while_editor_saves)
    edit_prospect(path, Change(entries=[Entry(DAY, "call", "from mdfollow")]))
    assert len(calls) == 2
    assert (
        path.read_bytes()
        == JANE + b"- 2026-11-02 email: typed in the editor\n- 2026-11-30 call: from mdfollow\n"
    )


def _editor_save(path: Path, line: bytes) -> None:
    """What vim or VS Code does on save: the whole buffer to a new file, renamed over the old."""
    saved = path.with_name(".editor-save")
    saved.write_bytes(path.read_bytes() + line)
    os.replace(saved, path)


def test_a_save_while_the_new_file_is_flushed_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window of the old bug: the check ran before the temporary file was written and synced."""
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    real_fsync, saves = os.fsync, list[int]()

    def fsync_while_editor_saves(descriptor: int) -> None:
        if not saves:
            saves.append(1)
            _editor_save(path, b"- 2026-11-02 email: typed in the editor\n")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync_while_editor_saves)
    edit_prospect(path, Change(entries=[Entry(DAY, "call", "from mdfollow")]))
    assert saves
    assert (
        path.read_bytes()
        == JANE + b"- 2026-11-02 email: typed in the editor\n- 2026-11-30 call: from mdfollow\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["jane.md"]


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 exchanges names on Linux")
@pytest.mark.parametrize("style", ["in-place", "rename"])
def test_a_save_in_the_last_moment_before_the_rename_is_swapped_back_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    """A save after the last check, just before the names are swapped: the swapped-out file
    is not what was read, so it goes straight back in place and the touch goes on top."""
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    real_exchange, calls = atomic._exchange, list[tuple[Path, Path]]()

    def exchange_after_a_save(first: Path, second: Path) -> bool:
        if not calls:
            if style == "in-place":
                with open(path, "ab") as file:
                    file.write(b"- 2026-11-02 email: typed in the editor\n")
            else:
                _editor_save(path, b"- 2026-11-02 email: typed in the editor\n")
        calls.append((first, second))
        return real_exchange(first, second)

    monkeypatch.setattr(atomic, "_exchange", exchange_after_a_save)
    edit_prospect(path, Change(entries=[Entry(DAY, "call", "from mdfollow")]))
    assert len(calls) == 3  # swapped in, swapped back, then the re-applied change swapped in
    assert (
        path.read_bytes()
        == JANE + b"- 2026-11-02 email: typed in the editor\n- 2026-11-30 call: from mdfollow\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["jane.md"]


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 exchanges names on Linux")
def test_two_saves_in_the_last_moment_keep_both_and_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second save lands on mdfollow's new file before the first is swapped back: neither
    save is dropped (one is set aside, named in the message) and the write reports failure."""
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    real_exchange, calls = atomic._exchange, list[int]()

    def exchange_between_saves(first: Path, second: Path) -> bool:
        calls.append(1)
        if len(calls) <= 2:
            with open(path, "ab") as file:
                file.write(f"- 2026-11-0{len(calls) + 1} email: save {len(calls)}\n".encode())
        return real_exchange(first, second)

    monkeypatch.setattr(atomic, "_exchange", exchange_between_saves)
    with pytest.raises(
        MdfollowError, match=r"two other programs saved it.*conflict-\d+: compare them \(not changed\)"
    ):
        edit_prospect(path, Change(entries=[Entry(DAY, "call", "from mdfollow")]))
    [conflict] = tmp_path.glob("jane.md.conflict-*")
    assert path.read_bytes() == JANE + b"- 2026-11-02 email: save 1\n"
    assert conflict.read_bytes() == JANE + b"- 2026-11-30 call: from mdfollow\n- 2026-11-03 email: save 2\n"
    assert sorted(os.listdir(tmp_path)) == ["jane.md", conflict.name]


def test_a_writer_waiting_for_the_lock_patches_the_replaced_file(tmp_path: Path) -> None:
    """While another mdfollow holds the lock and replaces the file, a second one waits, then
    locks the new file (not the stale inode it opened) and patches the new content."""
    path = tmp_path / "jane.md"
    path.write_bytes(JANE)
    holder = os.open(path, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    waiter = threading.Thread(
        target=edit_prospect, args=(path, Change(entries=[Entry(DAY, "call", "second")]))
    )
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive()
    replacement = tmp_path / ".first"
    replacement.write_bytes(JANE + b"- 2026-11-29 call: first\n")
    os.replace(replacement, path)
    os.close(holder)
    waiter.join(5)
    assert path.read_bytes() == JANE + b"- 2026-11-29 call: first\n- 2026-11-30 call: second\n"


def test_create_prospect_writes_a_file_that_reads_back(tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "jose-muller-acme.md").write_text("---\nname: old\n---\n")
    path = create_prospect(
        tmp_path,
        " José Müller ",
        company="Acme",
        emails=["jose@acme.example", "j@acme.example"],
        phones=["+44 20 7946 0001"],
        source="trade show: Leeds",
        tags=["warm", "quote, urgent"],
        next=dt.date(2026, 12, 1),
        created=DAY,
        extra_body="Met at the stand.\r\nWants 40 units.",
    )
    assert path == tmp_path / "jose-muller-acme-2.md"
    assert path.read_text() == (
        "---\n"
        "name: José Müller\n"
        "company: Acme\n"
        "email: [jose@acme.example, j@acme.example]\n"
        "phone: +44 20 7946 0001\n"
        "status: active\n"
        'source: "trade show: Leeds"\n'
        "tags: [warm, quote, urgent]\n"
        "created: 2026-11-30\n"
        "next: 2026-12-01\n"
        "---\n"
        "# José Müller — Acme\n"
        "\n"
        "Met at the stand.\n"
        "Wants 40 units.\n"
        "\n"
        "## Touches\n"
    )
    assert create_prospect(tmp_path, "José Müller", company="Acme") == tmp_path / "jose-muller-acme-3.md"
    assert create_prospect(tmp_path, "李雷") == tmp_path / "li-lei.md"
    assert create_prospect(tmp_path, "🎉") == tmp_path / "prospect.md"


def test_a_long_name_gives_a_short_file_name(tmp_path: Path) -> None:
    path = create_prospect(tmp_path, "王" * 60, company="北京" * 20)
    assert path.name == "-".join(["wang"] * 16) + ".md"
    assert len(path.stem) <= SLUG_MAX


def test_create_prospect_refuses_what_would_not_read_back(tmp_path: Path) -> None:
    with pytest.raises(MdfollowError, match="needs a name"):
        create_prospect(tmp_path, "  ")
    with pytest.raises(MdfollowError, match=r"would not read back|second Touches section"):
        create_prospect(tmp_path, "Jo", extra_body="## Touches\n- 2026-01-01 call: sneaky")
    assert os.listdir(tmp_path) == []


def test_a_bulk_creator_can_share_the_taken_ids(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ann.md").write_text("not even a prospect")
    taken = edit.taken_ids(tmp_path)
    assert taken == {"ann"}
    paths = [create_prospect(tmp_path, "Ann", taken=taken) for _ in range(2)]
    assert [p.name for p in paths] == ["ann-2.md", "ann-3.md"]
    assert taken == {"ann", "ann-2", "ann-3"}
