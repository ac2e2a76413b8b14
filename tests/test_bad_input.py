"""Inputs found in review that once crashed, hung, or edited the wrong file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdfollow.core.parse import parse_prospect
from mdfollow.store.folder import load_folder
from tests.conftest import RunCli, WriteFile


def test_a_write_to_a_broken_file_never_lands_on_a_similar_name(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    write("bob.md", "---\nname: Bob Broken\nnext: 2026-13-01\n---\n## Touches\n")
    bobby = write("bobby.md", "---\nname: Bobby Tables\n---\n## Touches\n")
    before = bobby.read_bytes()
    for args in (("log", "bob", "call", "for bob"), ("show", "bob"), ("mark", "bob", "won")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.endswith(
            f'mdfollow: {folder}/bob.md has errors: line 3: next "2026-13-01" is not a date (fix the file first)\n'
        )
    assert bobby.read_bytes() == before


def test_a_duplicate_id_is_refused_not_matched_to_another_prospect(write: WriteFile, run: RunCli) -> None:
    write("ann.md", "---\nname: Ann One\n---\n")
    write("archive/ann.md", "---\nname: Ann Two\n---\n")
    annette = write("annette.md", "---\nname: Annette\n---\n")
    result = run("log", "ann", "call")
    assert result.exit_code == 1 and "duplicate id 'ann'" in result.stderr
    assert "## Touches" not in annette.read_text()


def test_dates_at_the_end_of_time_do_not_overflow(folder: Path, write: WriteFile, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text('workdays = ["sat"]\n')
    write("far.md", "---\nname: Far\n---\n## Touches\n- 9999-12-31 call: the end\n")
    write("next.md", "---\nname: Next\nnext: 9999-12-31\n---\n")
    rows = json.loads(run("due", "--all", "--json").stdout)
    assert [(r["id"], r["due"]) for r in rows] == [("far", "9999-12-31"), ("next", "9999-12-31")]
    assert run("due", "--days", "99999999", "--json").exit_code == 0
    assert run("ics", "--days", "99999999").exit_code == 0
    assert run("stats", "--json").exit_code == 0


def test_a_huge_gap_is_a_usage_or_config_error(folder: Path, write: WriteFile, run: RunCli) -> None:
    write("a.md", "---\nname: A\n---\n")
    result = run("snooze", "a", "--for", "99999999d")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    (folder / "mdfollow.toml").write_text('[cadences.x]\ngaps = ["99999999d"]\n')
    result = run("due")
    assert result.exit_code == 1 and "cadences.x.gaps[0]: '99999999d' is not a gap" in result.stderr


def test_a_file_name_that_is_not_utf8_is_reported_not_fatal(folder: Path, write: WriteFile) -> None:
    write("good.md", "---\nname: Good\n---\n")
    os.close(os.open(os.fsencode(folder) + b"/odd\xff.md", os.O_CREAT | os.O_WRONLY))
    env = {**os.environ, "MDFOLLOW_NO_CACHE": "1"}
    for command in (["ics"], ["list", "--json"], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "mdfollow", "--dir", str(folder), *command], capture_output=True, env=env
        )
        assert b"Traceback" not in result.stderr
        assert b"file name is not valid UTF-8" in result.stderr + result.stdout
        result.stdout.decode("utf-8")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_not_read(folder: Path, write: WriteFile) -> None:
    write("good.md", "---\nname: Good\n---\n")
    os.mkfifo(folder / "pipe.md")
    os.symlink("/dev/zero", folder / "zero.md")
    loaded = load_folder(folder)
    assert [p.id for p in loaded.prospects] == ["good"]
    assert sorted((p.path.name, p.message) for p in loaded.problems) == [
        ("pipe.md", "not a regular file: skipped"),
        ("zero.md", "not a regular file: skipped"),
    ]


def test_only_cr_lf_and_crlf_end_lines() -> None:
    text = "---\nname: A\n---\n## Touches\n- 2026-11-01 call: page\x0cbreak \u2028 sep\n- bad\n"
    prospect, problems = parse_prospect(Path("a.md"), text.encode())
    assert prospect is not None and prospect.touches[0].note == "page\x0cbreak \u2028 sep"
    assert [p.line for p in problems] == [6]


def test_a_repeated_key_is_a_warning() -> None:
    prospect, problems = parse_prospect(
        Path("a.md"), b"---\nname: A\nnext: 2026-12-01\nnext: 2026-12-09\n---\n"
    )
    assert prospect is not None and str(prospect.next) == "2026-12-09"
    assert [(p.line, p.severity) for p in problems] == [(4, "warning")]


def test_items_in_a_code_fence_inside_the_log_are_not_touches() -> None:
    text = "---\nname: A\n---\n## Touches\n- 2026-11-01 call: real\n```\n- 2026-11-02 call: quoted\n```\n"
    prospect, problems = parse_prospect(Path("a.md"), text.encode())
    assert problems == []
    assert prospect is not None and [t.note for t in prospect.touches] == ["real"]


@pytest.mark.parametrize("today", ["20261130", "2026-W48-1", "", "2026-11-31"])
def test_today_must_be_an_iso_date(today: str, run: RunCli) -> None:
    result = run("due", today=today)
    assert result.exit_code == 2
    assert result.stderr == f"mdfollow: --today: {today!r} is not a date (use YYYY-MM-DD)\n"


def test_an_empty_name_is_a_usage_error(run: RunCli) -> None:
    result = run("add", "   ")
    assert result.exit_code == 2 and result.stderr.startswith("mdfollow: NAME is empty")


def test_a_deleted_working_folder_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv.pop(1)); from mdfollow.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script, str(gone), "due"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "cannot use the current folder" in result.stderr


def test_a_utc_offset_on_next_is_a_warning() -> None:
    prospect, problems = parse_prospect(Path("a.md"), b"---\nname: A\nnext: 2026-12-01 14:30:00+05:00\n---\n")
    assert prospect is not None and (str(prospect.next), str(prospect.next_time)) == (
        "2026-12-01",
        "14:30:00",
    )
    assert [(p.line, p.severity) for p in problems] == [(3, "warning")]


def test_marking_the_same_status_again_keeps_the_closed_date(write: WriteFile, run: RunCli) -> None:
    path = write("anna.md", "---\nname: Anna\nstatus: won\nclosed: 2026-09-01\n---\n## Touches\n")
    before = path.read_text()
    result = run("mark", "anna", "won")
    assert result.stdout.endswith("already won: nothing changed\n") and path.read_text() == before
    run("mark", "anna", "won", "--reason", "second order")
    assert "closed: 2026-09-01\n" in path.read_text() and "note: marked won: second order" in path.read_text()


def test_gaps_ignore_case_and_show_keeps_the_time_of_next(write: WriteFile, run: RunCli) -> None:
    path = write("raj.md", "---\nname: Raj\n---\n")
    assert run("snooze", "raj", "--for", "2W").exit_code == 0
    assert "next: 2026-12-14\n" in path.read_text()
    run("snooze", "raj", "--until", "2026-12-15 10:30")
    assert "next:     2026-12-15 10:30" in run("show", "raj").stdout


def test_an_edit_of_a_repeated_key_names_it(folder: Path, write: WriteFile, run: RunCli) -> None:
    path = write("dup.md", "---\nname: Dup\nstatus: active\nstatus: lost\n---\n")
    before = path.read_bytes()
    result = run("mark", "dup", "won")
    assert result.exit_code == 1
    assert result.stderr == f"mdfollow: {folder}/dup.md:4: key appears twice: not changed (remove one)\n"
    assert path.read_bytes() == before


@pytest.mark.parametrize("company", ["1.0e5", "1.e5", "12", "yes", "0123", "1:30", "null", "true"])
def test_values_that_look_like_numbers_or_words_read_back_as_text(
    folder: Path, run: RunCli, company: str
) -> None:
    result = run("add", "Ann", "--company", company)
    assert result.exit_code == 0, result
    assert json.loads(run("show", "ann", "--json").stdout)["company"] == company
